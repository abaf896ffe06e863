//! The JSON API beyond signing in: users (admin) and campaigns (each role sees its own).
//! Every handler names the roles it allows; refusals are JSON with the reason.

use axum::Json;
use axum::extract::State;
use paceline_dialer::campaign::store as campaigns;
use paceline_dialer::campaign::{Campaign, CampaignKind, CampaignStatus};
use paceline_dialer::users::{self, NewUser, Role, User, UserError};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::Authed;
use super::error::WebError;

/// `GET /api/users`: every user (admin).
#[utoipa::path(get, path = "/api/users", tag = "users", responses((status = 200, description = "every user, with roles, teams and skills", body = Vec<Object>), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody)))]
pub async fn list_users(State(state): State<AppState>, user: Authed) -> Result<Json<Vec<User>>, WebError> {
    user.require(&[Role::Admin])?;
    let all = users::list_users(&state.db)
        .await
        .map_err(|e| WebError::Internal(e.into()))?;
    Ok(Json(all))
}

/// What `POST /api/users` takes.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UserForm {
    login: String,
    display_name: Option<String>,
    password: String,
    roles: Vec<String>,
    #[serde(default)]
    teams: Vec<String>,
}

/// `POST /api/users`: creates a user (admin).
#[utoipa::path(post, path = "/api/users", tag = "users", request_body = UserForm, responses((status = 201, description = "the user created", body = Object), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    user: Authed,
    Json(form): Json<UserForm>,
) -> Result<(axum::http::StatusCode, Json<User>), WebError> {
    user.require(&[Role::Admin])?;
    let roles = form
        .roles
        .iter()
        .map(|r| r.parse::<Role>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| WebError::invalid("roles", e.to_string()))?;
    let new = NewUser {
        display_name: form.display_name.clone().unwrap_or_else(|| form.login.clone()),
        login: form.login,
        password: form.password,
        roles,
        teams: form.teams,
        skills: vec![],
    };
    let created = users::add_user(&state.db, &new, state.clock.now()).await.map_err(|e| {
        let field = match &e {
            UserError::DuplicateLogin(_) | UserError::BadLogin { .. } => "login",
            UserError::EmptyDisplayName => "display_name",
            UserError::WeakPassword { .. } => "password",
            UserError::NoRoles | UserError::UnknownRole(_) => "roles",
            UserError::UnknownTeam(_) => "teams",
            _ => return WebError::Internal(e.into()),
        };
        WebError::invalid(field, e.to_string())
    })?;
    Ok((axum::http::StatusCode::CREATED, Json(created)))
}

/// A campaign as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CampaignItem {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// What it is for.
    #[schema(value_type = String)]
    pub kind: CampaignKind,
    /// Where it is in its life.
    #[schema(value_type = String)]
    pub status: CampaignStatus,
    /// Agents assigned one by one.
    pub agents: Vec<String>,
    /// Teams assigned.
    pub teams: Vec<String>,
}

/// Whether the signed-in user may see `campaign`: admins and analysts see all, a supervisor
/// the campaigns of their teams, an agent those they are assigned to (alone or by team).
pub fn may_see(user: &Authed, campaign: &Campaign) -> bool {
    let s = &user.session;
    if s.has(Role::Admin) || s.has(Role::Analyst) {
        return true;
    }
    let by_team = campaign.teams.iter().any(|t| s.teams.contains(t));
    (s.has(Role::Supervisor) && by_team) || (s.has(Role::Agent) && (by_team || campaign.agents.contains(&s.login)))
}

/// `GET /api/campaigns`: the campaigns the user may see.
#[utoipa::path(get, path = "/api/campaigns", tag = "campaigns", responses((status = 200, body = Vec<CampaignItem>), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody)))]
pub async fn list_campaigns(State(state): State<AppState>, user: Authed) -> Result<Json<Vec<CampaignItem>>, WebError> {
    let summaries = campaigns::list(&state.db)
        .await
        .map_err(|e| WebError::Internal(e.into()))?;
    let mut out = Vec::new();
    for summary in summaries {
        let campaign = campaigns::find(&state.db, &summary.id.to_string())
            .await
            .map_err(|e| WebError::Internal(e.into()))?;
        if may_see(&user, &campaign) {
            out.push(CampaignItem {
                id: campaign.id,
                name: campaign.name,
                kind: campaign.kind,
                status: campaign.status,
                agents: campaign.agents,
                teams: campaign.teams,
            });
        }
    }
    Ok(Json(out))
}
