//! The supervisor's wallboard: the page, its snapshot, and the supervisor's actions (force
//! not ready, force sign-out, pause the campaign). Supervisors act on the agents of their
//! own teams; admins on anyone.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use paceline_dialer::Db;
use paceline_dialer::campaign::Campaign;
use paceline_dialer::users::{self, Role, UserId};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::{Authed, Me, PageUser};
use super::error::{PageError, WebError};
use crate::live::{CallRow, LastHour, LiveBoard, SupervisorAction, WindowView};

const WATCHERS: [Role; 2] = [Role::Supervisor, Role::Admin];

/// `GET /wallboard`.
pub async fn page(State(state): State<AppState>, PageUser(user): PageUser) -> Result<Html<String>, PageError> {
    user.require(&WATCHERS)?;
    Ok(Html(state.pages.render(
        "wallboard.html",
        minijinja::context! { user => Me::from(&user.session) },
    )))
}

/// One agent on the wallboard.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgentRow {
    /// Their id.
    #[schema(value_type = i64)]
    pub id: UserId,
    /// Sign-in name.
    pub login: String,
    /// Shown name.
    pub display_name: String,
    /// Teams.
    pub teams: Vec<String>,
    /// The state: logged_out, ready, not_ready, reserved, on_call, wrap_up.
    pub state: &'static str,
    /// The not-ready reason.
    pub reason: Option<String>,
    /// Since when.
    pub since: DateTime<Utc>,
    /// Interviews they completed today.
    pub completes_today: i64,
}

/// A call ringing or in progress, with its agent's name.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CallLine {
    /// The call as the runtime holds it.
    #[serde(flatten)]
    pub call: CallRow,
    /// The agent's shown name, when an agent is on it or it was dialed for one.
    pub agent_name: Option<String>,
}

/// Everything the supervisor's wallboard shows.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Wallboard {
    /// The simulated world's time now (the clock the `since` times are on).
    pub now: DateTime<Utc>,
    /// The campaign.
    pub campaign: String,
    /// Every campaign this server runs live (the board can show each).
    pub live_campaigns: Vec<String>,
    /// Its status.
    pub status: String,
    /// Agents of the campaign's teams and assignments, with their states.
    pub agents: Vec<AgentRow>,
    /// Calls ringing or in progress, oldest first.
    pub calls: Vec<CallLine>,
    /// Dials, person answers and abandons in the last hour.
    pub last_hour: LastHour,
    /// The abandon window.
    pub window: WindowView,
    /// The pacer's last decision, with the figures that explain it.
    #[schema(value_type = Option<Object>)]
    pub decision: Option<paceline_dialer::events::DecisionNote>,
    /// Quota progress per cell.
    #[schema(value_type = Vec<Object>)]
    pub quotas: Vec<paceline_cati::quota::CellProgress>,
    /// Callbacks due now.
    pub callbacks_due: i64,
    /// Interviews completed today.
    pub completes_today: i64,
}

/// Which of the live campaigns (default: the first).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
pub struct Which {
    campaign: Option<String>,
}

fn live_campaign<'a>(live: &'a crate::live::Live, which: &Which) -> Result<&'a (i64, String), WebError> {
    live.campaign(which.campaign.as_deref()).ok_or_else(|| {
        WebError::invalid(
            "campaign",
            format!(
                "'{}' does not run here; live campaigns: {}",
                which.campaign.as_deref().unwrap_or_default(),
                live.campaigns
                    .iter()
                    .map(|(_, n)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })
}

/// `GET /api/wallboard?campaign=NAME`: a live campaign's board (default: the first): the
/// runtime's view, with what the store holds about the campaign's agents, today's completes
/// and callbacks due (read here, off the engine's thread).
#[utoipa::path(get, path = "/api/wallboard", tag = "wallboard", params(Which), responses((status = 200, body = Wallboard), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn snapshot(
    State(state): State<AppState>,
    user: Authed,
    Query(which): Query<Which>,
) -> Result<Json<Wallboard>, WebError> {
    user.require(&WATCHERS)?;
    let live = state.live()?;
    let (id, name) = live_campaign(live, &which)?;
    let campaign = super::admin::visible_campaign(&state, &user, name).await?;
    let board = live
        .wallboard(*id)
        .await
        .map_err(|e| WebError::Internal(anyhow::anyhow!(e)))?;
    let mut board = assemble(&state.db, campaign, board).await?;
    board.live_campaigns = live.campaigns.iter().map(|(_, n)| n.clone()).collect();
    Ok(Json(board))
}

async fn assemble(db: &Db, campaign: Campaign, board: LiveBoard) -> Result<Wallboard, WebError> {
    let internal = |e: anyhow::Error| WebError::Internal(e);
    let users = users::list_users(db).await.map_err(|e| internal(e.into()))?;
    let today = board.now.date_naive().and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    let (by_agent, (callbacks_due, completes_today)): (Vec<(i64, i64)>, (i64, i64)) =
        paceline_dialer::with_db!(db, |pool| {
            let by_agent = sqlx::query_as(
                "SELECT i.interviewer_id, COUNT(*) FROM interviews i JOIN records r ON r.id = i.record_id
                 WHERE r.campaign_id = $1 AND i.state = 'complete' AND i.updated_at >= $2
                   AND i.interviewer_id IS NOT NULL
                 GROUP BY i.interviewer_id",
            )
            .bind(campaign.id)
            .bind(today)
            .fetch_all(pool)
            .await
            .map_err(|e| internal(e.into()))?;
            let totals = sqlx::query_as(
                "SELECT
                   (SELECT COUNT(*) FROM records WHERE campaign_id = $1 AND status = 'callback' AND next_call_at <= $2),
                   (SELECT COUNT(*) FROM interviews i JOIN records r ON r.id = i.record_id
                    WHERE r.campaign_id = $1 AND i.state = 'complete' AND i.updated_at >= $3)",
            )
            .bind(campaign.id)
            .bind(board.now)
            .bind(today)
            .fetch_one(pool)
            .await
            .map_err(|e| internal(e.into()))?;
            (by_agent, totals)
        });
    let completes: HashMap<i64, i64> = by_agent.into_iter().collect();
    let names: HashMap<UserId, String> = users.iter().map(|u| (u.id, u.display_name.clone())).collect();
    let agents = users
        .into_iter()
        .filter(|u| {
            u.has_role(Role::Agent)
                && (campaign.agents.contains(&u.login) || u.teams.iter().any(|t| campaign.teams.contains(t)))
        })
        .map(|u| {
            let now = board.agents.get(&u.id);
            AgentRow {
                id: u.id,
                state: now.map_or("logged_out", |a| a.state),
                reason: now.and_then(|a| a.reason.clone()),
                since: now.map_or(u.created_at, |a| a.since),
                completes_today: completes.get(&u.id).copied().unwrap_or(0),
                login: u.login,
                display_name: u.display_name,
                teams: u.teams,
            }
        })
        .collect();
    let calls = board
        .calls
        .into_iter()
        .map(|call| CallLine {
            agent_name: call.agent.and_then(|a| names.get(&a).cloned()),
            call,
        })
        .collect();
    Ok(Wallboard {
        now: board.now,
        status: campaign.status.to_string(),
        agents,
        calls,
        last_hour: board.last_hour,
        window: board.window.unwrap_or(WindowView {
            ceiling: campaign.settings.abandon.ceiling,
            ..WindowView::default()
        }),
        decision: board.decision,
        quotas: board.quotas,
        callbacks_due,
        completes_today,
        campaign: campaign.name,
        live_campaigns: Vec::new(),
    })
}

/// What a force not-ready takes.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct Reason {
    reason: Option<String>,
}

/// `POST /api/wallboard/agents/{id}/{action}`: `not-ready` or `sign-out`.
#[utoipa::path(post, path = "/api/wallboard/agents/{agent}/{action}", tag = "wallboard", params(("agent" = i64, Path, description = "the agent's user id"), ("action" = String, Path, description = "not-ready or sign-out")), request_body(content = Option<Reason>, description = "not-ready: the reason shown to the agent"), responses((status = 200, body = Object), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn agent_action(
    State(state): State<AppState>,
    user: Authed,
    Path((agent, action)): Path<(UserId, String)>,
    body: Option<Json<Reason>>,
) -> Result<Json<serde_json::Value>, WebError> {
    user.require(&WATCHERS)?;
    let live = state.live()?;
    let row = users::list_users(&state.db)
        .await
        .map_err(|e| WebError::Internal(e.into()))?
        .into_iter()
        .find(|u| u.id == agent)
        .ok_or_else(|| WebError::invalid("agent", format!("there is no user {agent}")))?;
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

/// `POST /api/wallboard/pause?campaign=NAME`: pauses a live campaign (default: the first).
#[utoipa::path(post, path = "/api/wallboard/pause", tag = "wallboard", params(Which), responses((status = 200, body = Object), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn pause(
    State(state): State<AppState>,
    user: Authed,
    Query(which): Query<Which>,
) -> Result<Json<serde_json::Value>, WebError> {
    user.require(&WATCHERS)?;
    let live = state.live()?;
    let (_, name) = live_campaign(live, &which)?;
    super::admin::visible_campaign(&state, &user, name).await?;
    live.supervise(SupervisorAction::Pause(name.clone()))
        .await
        .map_err(|message| WebError::Invalid { message, field: None })?;
    Ok(Json(serde_json::json!({ "done": true })))
}
