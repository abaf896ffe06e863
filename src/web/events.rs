//! `GET /api/events`: the live domain events (agent states, call steps, pacer decisions) as
//! server-sent events, for the wallboard (supervisors and admins), and `lagged` when the
//! stream fell behind and missed some. Pushed, never polled.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use paceline_dialer::users::Role;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

use super::AppState;
use super::auth::Authed;
use super::error::WebError;

/// The event stream.
#[utoipa::path(get, path = "/api/events", tag = "wallboard", responses((status = 200, description = "server-sent events `agent`, `call`, `decision` and `preview`, each with the domain event as JSON, and `lagged` when the stream fell behind", content_type = "text/event-stream", body = String), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody)))]
pub async fn stream(
    State(state): State<AppState>,
    user: Authed,
) -> Result<Sse<impl tokio_stream::Stream<Item = Result<SseEvent, Infallible>>>, WebError> {
    user.require(&[Role::Supervisor, Role::Admin])?;
    let live = state.live()?;
    let events = BroadcastStream::new(live.events.subscribe()).filter_map(|event| {
        // A subscriber that fell behind missed events: `lagged` tells the wallboard to read
        // its state anew.
        let Ok(event) = event else {
            return Some(Ok(SseEvent::default().event("lagged").data("{}")));
        };
        let kind = match &event {
            paceline_dialer::events::Event::AgentState(_) => "agent",
            paceline_dialer::events::Event::Call(_) => "call",
            paceline_dialer::events::Event::Decision(_) => "decision",
            paceline_dialer::events::Event::Preview(_) => "preview",
        };
        SseEvent::default().event(kind).json_data(&event).ok().map(Ok)
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// `GET /api/agent/events`: a `changed` event whenever something happens to the signed-in
/// agent (a state change, a call bridged to them), so the desktop reads its state again.
#[utoipa::path(get, path = "/api/agent/events", tag = "agent desktop", responses((status = 200, description = "server-sent events: `changed` whenever the agent's state, call or preview changes", content_type = "text/event-stream", body = String), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody)))]
pub async fn agent_stream(
    State(state): State<AppState>,
    user: Authed,
) -> Result<Sse<impl tokio_stream::Stream<Item = Result<SseEvent, Infallible>>>, WebError> {
    user.require(&[Role::Agent])?;
    let live = state.live()?;
    let me = user.session.user;
    let events = BroadcastStream::new(live.events.subscribe()).filter_map(move |event| {
        // A stream that fell behind may have missed this agent's events: the desktop reads
        // its state again rather than miss a call.
        let Ok(event) = event else {
            return Some(Ok(SseEvent::default().event("changed").data("{}")));
        };
        let mine = match event {
            paceline_dialer::events::Event::AgentState(change) => change.agent == me,
            paceline_dialer::events::Event::Call(note) => {
                matches!(note.step, paceline_dialer::events::CallStep::Bridged { agent } if agent == me)
            }
            paceline_dialer::events::Event::Preview(note) => note.agent == me,
            paceline_dialer::events::Event::Decision(_) => false,
        };
        mine.then(|| Ok(SseEvent::default().event("changed").data("{}")))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
