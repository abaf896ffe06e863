//! The supervisor's wallboard: the page, its snapshot, and the supervisor's actions (force
//! not ready, force sign-out, pause the campaign). Supervisors act on the agents of their
//! own teams; admins on anyone.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Html;
use paceline_dialer::users::{Role, UserId};
use serde::Deserialize;

use super::AppState;
use super::auth::{Authed, Me, PageUser};
use super::error::{PageError, WebError};
use crate::live::{SupervisorAction, Wallboard};

const WATCHERS: [Role; 2] = [Role::Supervisor, Role::Admin];

/// `GET /wallboard`.
pub async fn page(State(state): State<AppState>, PageUser(user): PageUser) -> Result<Html<String>, PageError> {
    user.require(&WATCHERS)?;
    Ok(Html(state.pages.render(
        "wallboard.html",
        minijinja::context! { user => Me::from(&user.session) },
    )))
}

/// `GET /api/wallboard`.
pub async fn snapshot(State(state): State<AppState>, user: Authed) -> Result<Json<Wallboard>, WebError> {
    user.require(&WATCHERS)?;
    let board = state
        .live()?
        .wallboard()
        .await
        .map_err(|e| WebError::Internal(anyhow::anyhow!(e)))?;
    Ok(Json(board))
}

/// What a force not-ready takes.
#[derive(Debug, Default, Deserialize)]
pub struct Reason {
    reason: Option<String>,
}

/// `POST /api/wallboard/agents/{id}/{action}`: `not-ready` or `sign-out`.
pub async fn agent_action(
    State(state): State<AppState>,
    user: Authed,
    Path((agent, action)): Path<(UserId, String)>,
    body: Option<Json<Reason>>,
) -> Result<Json<serde_json::Value>, WebError> {
    user.require(&WATCHERS)?;
    let live = state.live()?;
    let board = live
        .wallboard()
        .await
        .map_err(|e| WebError::Internal(anyhow::anyhow!(e)))?;
    let row = board
        .agents
        .iter()
        .find(|a| a.id == agent)
        .ok_or_else(|| WebError::invalid("agent", format!("agent {agent} is not on the campaign")))?;
    if !user.session.has(Role::Admin) && !row.teams.iter().any(|t| user.session.teams.contains(t)) {
        return Err(WebError::Forbidden(format!(
            "'{}' supervises no team of '{}'",
            user.session.login, row.login
        )));
    }
    let action = match action.as_str() {
        "not-ready" => SupervisorAction::ForceNotReady(
            agent,
            body.and_then(|Json(b)| b.reason)
                .filter(|r| !r.trim().is_empty())
                .unwrap_or_else(|| format!("set by {}", user.session.login)),
        ),
        "sign-out" => SupervisorAction::ForceSignOut(agent),
        other => {
            return Err(WebError::invalid(
                "action",
                format!("there is no wallboard action '{other}'"),
            ));
        }
    };
    live.supervise(action)
        .await
        .map_err(|message| WebError::Invalid { message, field: None })?;
    Ok(Json(serde_json::json!({ "done": true })))
}

/// `POST /api/wallboard/pause`: pauses the live campaign.
pub async fn pause(State(state): State<AppState>, user: Authed) -> Result<Json<serde_json::Value>, WebError> {
    user.require(&WATCHERS)?;
    state
        .live()?
        .supervise(SupervisorAction::Pause)
        .await
        .map_err(|message| WebError::Invalid { message, field: None })?;
    Ok(Json(serde_json::json!({ "done": true })))
}
