//! Agents and teams in the admin console: teams created, users put in teams and taken out,
//! and the agents and teams a campaign is assigned.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use paceline_dialer::campaign::CampaignConfig;
use paceline_dialer::campaign::store as campaigns;
use paceline_dialer::users::{self, Role, Team, UserError};
use serde::Deserialize;

use super::{campaign_error, visible_campaign};
use crate::web::AppState;
use crate::web::api::CampaignItem;
use crate::web::auth::Authed;
use crate::web::error::WebError;

/// A refusal of the user store as the client needs it: the field at fault named.
pub(crate) fn user_error(e: UserError) -> WebError {
    let field = match &e {
        UserError::DuplicateLogin(_) | UserError::BadLogin { .. } | UserError::UnknownUser(_) => "login",
        UserError::EmptyDisplayName => "display_name",
        UserError::WeakPassword { .. } => "password",
        UserError::NoRoles | UserError::UnknownRole(_) => "roles",
        UserError::UnknownTeam(_) | UserError::DuplicateTeam(_) => "team",
        _ => return WebError::Internal(e.into()),
    };
    WebError::invalid(field, e.to_string())
}

/// `GET /api/teams`: every team with its members (admins, supervisors, analysts).
#[utoipa::path(get, path = "/api/teams", tag = "users", responses((status = 200, description = "every team with its members", body = Vec<Object>), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody)))]
pub async fn list(State(state): State<AppState>, user: Authed) -> Result<Json<Vec<Team>>, WebError> {
    user.require(&[Role::Admin, Role::Supervisor, Role::Analyst])?;
    Ok(Json(users::list_teams(&state.db).await.map_err(user_error)?))
}

/// What creating a team takes.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewTeam {
    /// Its name.
    name: String,
}

/// `POST /api/teams`: creates a team (admin).
#[utoipa::path(post, path = "/api/teams", tag = "users", request_body = NewTeam, responses((status = 201, description = "the team", body = Object), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    user: Authed,
    Json(new): Json<NewTeam>,
) -> Result<(StatusCode, Json<Team>), WebError> {
    user.require(&[Role::Admin])?;
    if new.name.trim().is_empty() {
        return Err(WebError::invalid("name", "a team needs a name"));
    }
    let team = users::add_team(&state.db, &new.name, state.clock.now())
        .await
        .map_err(|e| match e {
            UserError::DuplicateTeam(_) => WebError::invalid("name", e.to_string()),
            e => user_error(e),
        })?;
    Ok((StatusCode::CREATED, Json(team)))
}

/// What a membership change takes.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Membership {
    /// The user.
    login: String,
    /// True (the default): put in the team; false: take out.
    #[serde(default = "yes")]
    member: bool,
}

fn yes() -> bool {
    true
}

/// `POST /api/teams/{team}/members`: puts a user in the team or takes them out (admin); the
/// team after.
#[utoipa::path(post, path = "/api/teams/{team}/members", tag = "users", params(("team" = String, Path, description = "the team's name")), request_body = Membership, responses((status = 200, description = "the team after the change", body = Object), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn members(
    State(state): State<AppState>,
    user: Authed,
    Path(team): Path<String>,
    Json(change): Json<Membership>,
) -> Result<Json<Team>, WebError> {
    user.require(&[Role::Admin])?;
    users::set_team_member(&state.db, &team, change.login.trim(), change.member)
        .await
        .map_err(user_error)?;
    state.teams_changed().await?;
    let teams = users::list_teams(&state.db).await.map_err(user_error)?;
    let team = teams
        .into_iter()
        .find(|t| t.name == team)
        .ok_or_else(|| WebError::invalid("team", format!("no team named '{team}'")))?;
    Ok(Json(team))
}

/// The agents and teams a campaign is assigned.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Assignments {
    /// Agents' logins.
    #[serde(default)]
    agents: Vec<String>,
    /// Teams' names.
    #[serde(default)]
    teams: Vec<String>,
}

/// `POST /api/campaigns/{name}/assignments`: replaces the agents and teams assigned to the
/// campaign (admin), its settings and dispositions kept; the campaign after. An unknown agent
/// or team is refused by name and nothing changes.
#[utoipa::path(post, path = "/api/campaigns/{name}/assignments", tag = "campaigns", params(("name" = String, Path, description = "the campaign's name")), request_body = Assignments, responses((status = 200, body = crate::web::api::CampaignItem), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn assign_campaign(
    State(state): State<AppState>,
    user: Authed,
    Path(name): Path<String>,
    Json(assignments): Json<Assignments>,
) -> Result<Json<CampaignItem>, WebError> {
    user.require(&[Role::Admin])?;
    let campaign = visible_campaign(&state, &user, &name).await?;
    let clean = |names: Vec<String>| -> Vec<String> {
        let mut names: Vec<String> = names
            .into_iter()
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .collect();
        names.sort();
        names.dedup();
        names
    };
    let config = CampaignConfig {
        agents: clean(assignments.agents),
        teams: clean(assignments.teams),
        ..CampaignConfig::of(&campaign)
    };
    let updated = campaigns::update(&state.db, &campaign.name, &config, state.clock.now())
        .await
        .map_err(|e| match e {
            paceline_dialer::campaign::CampaignError::UnknownAgent(_) => WebError::invalid("agents", e.to_string()),
            paceline_dialer::campaign::CampaignError::UnknownTeam(_) => WebError::invalid("teams", e.to_string()),
            e => campaign_error(e),
        })?;
    state.campaign_changed(updated.id).await?;
    Ok(Json(CampaignItem {
        id: updated.id,
        name: updated.name,
        kind: updated.kind,
        status: updated.status,
        agents: updated.agents,
        teams: updated.teams,
    }))
}
