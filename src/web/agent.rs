//! The agent desktop's API: the agent's state, call, screen pop and interview, and what they
//! do (sign in to the telephony, ready, not ready, answer, back, hang up, the disposition).
//! Only agents, and only for themselves.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use paceline_cati::desk::Ending;
use paceline_dialer::users::Role;
use serde::Deserialize;

use super::AppState;
use super::auth::Authed;
use super::error::WebError;
use crate::live::{AgentAction, AgentView};

/// `GET /agent`: the agent desktop page (its script reads and drives `/api/agent`).
pub async fn page(
    State(state): State<AppState>,
    super::auth::PageUser(user): super::auth::PageUser,
) -> Result<axum::response::Html<String>, super::error::PageError> {
    user.require(&[Role::Agent])?;
    Ok(axum::response::Html(state.pages.render(
        "agent.html",
        minijinja::context! { user => super::auth::Me::from(&user.session) },
    )))
}

/// `GET /api/agent`: the signed-in agent's desktop.
#[utoipa::path(get, path = "/api/agent", tag = "agent desktop", responses((status = 200, body = AgentView), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody)))]
pub async fn view(State(state): State<AppState>, user: Authed) -> Result<Json<AgentView>, WebError> {
    user.require(&[Role::Agent])?;
    let view = state
        .live()?
        .view(user.session.user)
        .await
        .map_err(|e| WebError::Internal(anyhow::anyhow!(e)))?;
    Ok(Json(view))
}

/// What the actions take (each only the fields it needs).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ActionBody {
    /// `not-ready`: why.
    reason: Option<String>,
    /// `answer`: the answer (a string, a number, a list for multiple choice, null for none).
    value: Option<serde_json::Value>,
    /// `answer`: the text of "other, specify".
    other: Option<String>,
    /// `finish`: `as_it_ended` (default), `break_off` or `callback`.
    ending: Option<String>,
    /// `finish` with `callback`: when (RFC 3339).
    at: Option<DateTime<Utc>>,
    /// `finish` with `callback`: for this agent only (default true).
    personal: Option<bool>,
    /// `mode`: predictive, progressive or preview.
    mode: Option<String>,
    /// `preview-dial`: the position of the number to dial (default: the one shown).
    position: Option<i64>,
    /// `language`: one of the questionnaire's languages.
    language: Option<String>,
    /// `campaigns`: the names of the campaigns to take calls from.
    campaigns: Option<Vec<String>>,
}

/// `POST /api/agent/{action}`: `login`, `ready`, `not-ready`, `logout`, `answer`, `back`,
/// `hang-up`, `finish`, `mode`, `preview-dial`, `preview-skip`, `language`, `campaigns`.
/// Returns the desktop after it.
#[utoipa::path(post, path = "/api/agent/{action}", tag = "agent desktop", params(("action" = String, Path, description = "login, ready, not-ready, logout, answer, back, hang-up, finish, mode, preview-dial, preview-skip, language, campaigns")), request_body(content = ActionBody, description = "only the fields the action needs"), responses((status = 200, description = "the desktop after the action", body = AgentView), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn act(
    State(state): State<AppState>,
    user: Authed,
    Path(action): Path<String>,
    body: Option<Json<ActionBody>>,
) -> Result<Json<AgentView>, WebError> {
    user.require(&[Role::Agent])?;
    let body = body.map(|Json(b)| b).unwrap_or_default();
    let live = state.live()?;
    let action = match action.as_str() {
        "login" => AgentAction::LogIn,
        "ready" => AgentAction::Ready,
        "not-ready" => AgentAction::NotReady(
            body.reason
                .filter(|r| !r.trim().is_empty())
                .ok_or_else(|| WebError::invalid("reason", "say why you are not ready"))?,
        ),
        "logout" => AgentAction::LogOut,
        "answer" => AgentAction::Answer(body.value.unwrap_or(serde_json::Value::Null), body.other),
        "back" => AgentAction::Back,
        "hang-up" => AgentAction::HangUp,
        "finish" => AgentAction::Finish(match body.ending.as_deref().unwrap_or("as_it_ended") {
            "as_it_ended" => Ending::AsItEnded,
            "break_off" => Ending::BreakOff {
                reason: body.reason.unwrap_or_else(|| "the respondent broke off".into()),
            },
            "callback" => Ending::Callback {
                at: body
                    .at
                    .ok_or_else(|| WebError::invalid("at", "a callback needs its time"))?,
                personal: body.personal.unwrap_or(true),
            },
            other => {
                return Err(WebError::invalid(
                    "ending",
                    format!("'{other}' is not an ending: as_it_ended, break_off or callback"),
                ));
            }
        }),
        "mode" => {
            let name = body.mode.unwrap_or_default();
            AgentAction::Mode(name.parse().map_err(|_| {
                WebError::invalid(
                    "mode",
                    format!("'{name}' is not a dial mode: predictive, progressive or preview"),
                )
            })?)
        }
        "preview-dial" => AgentAction::PreviewDial(body.position),
        "preview-skip" => AgentAction::PreviewSkip,
        "language" => AgentAction::Language(
            body.language
                .filter(|l| !l.trim().is_empty())
                .ok_or_else(|| WebError::invalid("language", "say which language"))?,
        ),
        "campaigns" => AgentAction::Campaigns(
            body.campaigns
                .unwrap_or_default()
                .iter()
                .map(|name| {
                    live.campaign(Some(name)).map(|(id, _)| *id).ok_or_else(|| {
                        WebError::invalid("campaigns", format!("'{name}' is not a campaign running here"))
                    })
                })
                .collect::<Result<_, _>>()?,
        ),
        other => {
            return Err(WebError::invalid(
                "action",
                format!("there is no agent action '{other}'"),
            ));
        }
    };
    let view = live
        .act(user.session.user, action)
        .await
        .map_err(|message| WebError::Invalid { message, field: None })?;
    Ok(Json(view))
}
