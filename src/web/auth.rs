//! Signing in and out, the password change (DIAL-01), and the extractors that tell every
//! handler who is asking and refuse roles a route does not allow: on the server, for pages
//! and the API alike.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use paceline_dialer::users::{self, Role, User, UserError};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::csrf::FORM_COOKIE;
use super::error::{PageError, WebError};
use super::session::{COOKIE, Session, token};

/// The signed-in user of a request (an API request without a session is refused with 401).
#[derive(Debug, Clone)]
pub struct Authed {
    /// The session's token (the cookie's value).
    pub token: String,
    /// The session.
    pub session: Session,
}

impl Authed {
    /// Refuses unless the user holds one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), WebError> {
        if roles.iter().any(|r| self.session.has(*r)) {
            return Ok(());
        }
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        Err(WebError::Forbidden(format!(
            "'{}' may not do this: it needs the role {}",
            self.session.login,
            names.join(" or ")
        )))
    }
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let token = jar
            .get(COOKIE)
            .map(|c| c.value().to_string())
            .ok_or(WebError::Unauthenticated)?;
        let session = state
            .sessions
            .get(&token, state.clock.now())
            .ok_or(WebError::Unauthenticated)?;
        Ok(Authed { token, session })
    }
}

/// The signed-in user of a page (without a session: the way to the sign-in page).
#[derive(Debug, Clone)]
pub struct PageUser(pub Authed);

impl FromRequestParts<AppState> for PageUser {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(PageUser(Authed::from_request_parts(parts, state).await?))
    }
}

fn session_cookie(value: String) -> Cookie<'static> {
    Cookie::build((COOKIE, value))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .build()
}

/// Checks the password of `login` within the sign-in limits; the user on success.
async fn check_credentials(state: &AppState, login: &str, password: &str, from: SocketAddr) -> Result<User, WebError> {
    let now = state.clock.now();
    state
        .limit
        .check(login, from.ip(), now)
        .map_err(WebError::TooManyAttempts)?;
    let user = users::verify_password(&state.db, login.trim(), password)
        .await
        .map_err(|e| WebError::Internal(e.into()))?;
    match user {
        Some(user) => {
            state.limit.succeeded(login);
            Ok(user)
        }
        None => {
            state.limit.failed(login, from.ip(), now);
            Err(WebError::BadCredentials)
        }
    }
}

/// The sign-in form.
pub async fn login_page(State(state): State<AppState>, jar: CookieJar) -> Response {
    login_form(&state, jar, None, axum::http::StatusCode::OK)
}

fn login_form(state: &AppState, jar: CookieJar, error: Option<String>, status: axum::http::StatusCode) -> Response {
    let csrf = token();
    let cookie = Cookie::build((FORM_COOKIE, csrf.clone()))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/login")
        .build();
    let page = state.pages.render(
        "login.html",
        minijinja::context! { csrf => csrf, error => error, user => () },
    );
    (status, jar.add(cookie), Html(page)).into_response()
}

/// What the sign-in form posts.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    login: String,
    password: String,
}

/// Signs in from the form; back to the form with the reason when refused.
pub async fn login_submit(
    State(state): State<AppState>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    jar: CookieJar,
    axum::Form(form): axum::Form<LoginForm>,
) -> Response {
    match check_credentials(&state, &form.login, &form.password, from).await {
        Ok(user) => {
            let (key, _) = state.sessions.open(&user, state.clock.now());
            (jar.add(session_cookie(key)), Redirect::to("/")).into_response()
        }
        Err(e @ WebError::Internal(_)) => PageError(e).into_response(),
        Err(e) => {
            let status = e.status();
            login_form(&state, jar, Some(e.to_string()), status)
        }
    }
}

/// Signs out (the page form).
pub async fn logout_submit(State(state): State<AppState>, user: PageUser, jar: CookieJar) -> Response {
    state.sessions.close(&user.0.token);
    (jar.remove(Cookie::build(COOKIE).path("/")), Redirect::to("/login")).into_response()
}

/// The signed-in user, as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    /// The user's id.
    pub id: i64,
    /// Sign-in name.
    pub login: String,
    /// Shown name.
    pub display_name: String,
    /// Roles.
    #[schema(value_type = Vec<String>)]
    pub roles: Vec<Role>,
    /// Teams.
    pub teams: Vec<String>,
    /// The token every state-changing request of this session carries (header X-CSRF-Token).
    pub csrf: String,
}

impl From<&Session> for Me {
    fn from(s: &Session) -> Self {
        Me {
            id: s.user,
            login: s.login.clone(),
            display_name: s.display_name.clone(),
            roles: s.roles.clone(),
            teams: s.teams.clone(),
            csrf: s.csrf.clone(),
        }
    }
}

/// What `POST /api/login` takes.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Credentials {
    login: String,
    password: String,
}

/// `POST /api/login`: signs in; the session cookie is set and the CSRF token returned.
#[utoipa::path(post, path = "/api/login", tag = "session", request_body = Credentials, responses((status = 200, description = "signed in: the session cookie is set; `csrf` goes in the X-CSRF-Token header of every state-changing request", body = Me), (status = 401, description = "the login or the password is wrong", body = crate::web::error::ErrorBody), (status = 429, description = "too many failed sign-ins", body = crate::web::error::ErrorBody)), security(()))]
pub async fn api_login(
    State(state): State<AppState>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    jar: CookieJar,
    Json(credentials): Json<Credentials>,
) -> Result<(CookieJar, Json<Me>), WebError> {
    let user = check_credentials(&state, &credentials.login, &credentials.password, from).await?;
    let (key, session) = state.sessions.open(&user, state.clock.now());
    Ok((jar.add(session_cookie(key)), Json(Me::from(&session))))
}

/// `POST /api/logout`.
#[utoipa::path(post, path = "/api/logout", tag = "session", responses((status = 200, description = "signed out"), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody)))]
pub async fn api_logout(State(state): State<AppState>, user: Authed, jar: CookieJar) -> CookieJar {
    state.sessions.close(&user.token);
    jar.remove(Cookie::build(COOKIE).path("/"))
}

/// `GET /api/me`.
#[utoipa::path(get, path = "/api/me", tag = "session", responses((status = 200, body = Me), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody)))]
pub async fn api_me(user: Authed) -> Json<Me> {
    Json(Me::from(&user.session))
}

/// A password change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PasswordChange {
    current: String,
    new: String,
    /// The new password again (the form asks for it; the API may leave it out).
    confirm: Option<String>,
}

async fn change_password(state: &AppState, user: &Authed, change: &PasswordChange) -> Result<(), WebError> {
    if change.confirm.as_ref().is_some_and(|c| c != &change.new) {
        return Err(WebError::invalid("confirm", "the two new passwords differ"));
    }
    let ok = users::verify_password(&state.db, &user.session.login, &change.current)
        .await
        .map_err(|e| WebError::Internal(e.into()))?;
    if ok.is_none() {
        return Err(WebError::invalid("current", "the current password is wrong"));
    }
    users::set_password(&state.db, &user.session.login, &change.new, state.clock.now())
        .await
        .map_err(|e| match e {
            e @ UserError::WeakPassword { .. } => WebError::invalid("new", e.to_string()),
            e => WebError::Internal(e.into()),
        })?;
    // Anyone else holding the old password's sessions is signed out.
    state.sessions.close_user(user.session.user, Some(&user.token));
    Ok(())
}

/// `POST /api/password`.
#[utoipa::path(post, path = "/api/password", tag = "session", request_body = PasswordChange, responses((status = 200, description = "changed; the user's other sessions are signed out", body = Object), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn api_password(
    State(state): State<AppState>,
    user: Authed,
    Json(change): Json<PasswordChange>,
) -> Result<Json<serde_json::Value>, WebError> {
    change_password(&state, &user, &change).await?;
    Ok(Json(serde_json::json!({ "changed": true })))
}

/// The password page.
pub async fn password_page(State(state): State<AppState>, PageUser(user): PageUser) -> Html<String> {
    Html(state.pages.render(
        "password.html",
        minijinja::context! { user => Me::from(&user.session), error => (), done => false },
    ))
}

/// The password form's post.
pub async fn password_submit(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    axum::Form(change): axum::Form<PasswordChange>,
) -> Response {
    let result = change_password(&state, &user, &change).await;
    let (status, error) = match &result {
        Ok(()) => (axum::http::StatusCode::OK, None),
        Err(WebError::Internal(_)) => return PageError(result.unwrap_err()).into_response(),
        Err(e) => (e.status(), Some(e.to_string())),
    };
    let page = state.pages.render(
        "password.html",
        minijinja::context! { user => Me::from(&user.session), error => error, done => result.is_ok() },
    );
    (status, Html(page)).into_response()
}
