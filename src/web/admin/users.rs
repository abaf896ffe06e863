//! Users in the admin console, beyond adding them (`POST /api/users`): roles changed, a
//! password reset, a user disabled or enabled again. A reset or a disabling signs the user's
//! sessions out.

use axum::Json;
use axum::extract::{Path, State};
use paceline_dialer::users::{self, Role, User};
use serde::Deserialize;

use super::teams::user_error;
use crate::web::AppState;
use crate::web::auth::Authed;
use crate::web::error::WebError;

/// What a change of a user takes: any of the three.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct UserChange {
    /// The roles the user holds from now on (at least one).
    roles: Option<Vec<String>>,
    /// A new password (at least 8 characters).
    password: Option<String>,
    /// False: disabled (cannot sign in); true: enabled again.
    active: Option<bool>,
}

/// `POST /api/users/{login}`: changes a user's roles, resets their password, or disables or
/// enables them (admin); the user after. An admin may not take their own admin role or
/// disable themselves (nobody would be left to undo it).
#[utoipa::path(post, path = "/api/users/{login}", tag = "users", params(("login" = String, Path, description = "the user's sign-in name")), request_body = UserChange, responses((status = 200, description = "the user after the change", body = Object), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn change(
    State(state): State<AppState>,
    user: Authed,
    Path(login): Path<String>,
    Json(change): Json<UserChange>,
) -> Result<Json<User>, WebError> {
    user.require(&[Role::Admin])?;
    let target = users::find_user(&state.db, &login)
        .await
        .map_err(user_error)?
        .ok_or_else(|| WebError::invalid("login", format!("no user with login '{login}'")))?;
    let roles = match &change.roles {
        None => None,
        Some(names) => Some(
            names
                .iter()
                .map(|r| r.parse::<Role>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| WebError::invalid("roles", e.to_string()))?,
        ),
    };
    let myself = target.id == user.session.user;
    if myself && roles.as_ref().is_some_and(|r| !r.contains(&Role::Admin)) {
        return Err(WebError::invalid("roles", "you may not take your own admin role"));
    }
    if myself && change.active == Some(false) {
        return Err(WebError::invalid("active", "you may not disable yourself"));
    }
    if roles.as_ref().is_some_and(Vec::is_empty) {
        return Err(WebError::invalid(
            "roles",
            "a user needs at least one role (agent, supervisor, admin, analyst)",
        ));
    }
    // Checked before anything is stored, so a weak password changes nothing else either.
    if let Some(password) = &change.password
        && password.chars().count() < users::MIN_PASSWORD_LEN
    {
        return Err(WebError::invalid(
            "password",
            format!(
                "the password is too short: it needs at least {} characters",
                users::MIN_PASSWORD_LEN
            ),
        ));
    }
    if let Some(roles) = &roles {
        users::set_roles(&state.db, &login, roles).await.map_err(user_error)?;
    }
    if let Some(password) = &change.password {
        users::set_password(&state.db, &login, password, state.clock.now())
            .await
            .map_err(user_error)?;
    }
    if let Some(active) = change.active {
        users::set_active(&state.db, &login, active).await.map_err(user_error)?;
    }
    // Sessions carry the roles they were opened with: any change signs the user out.
    if roles.is_some() || change.password.is_some() || change.active == Some(false) {
        let keep = myself.then_some(user.token.as_str());
        state.sessions.close_user(target.id, keep);
    }
    let after = users::find_user(&state.db, &login)
        .await
        .map_err(user_error)?
        .ok_or_else(|| WebError::invalid("login", format!("no user with login '{login}'")))?;
    Ok(Json(after))
}
