//! The web application (axum): pages for people and a JSON API under `/api/` for programs,
//! with the same sign-in and the same permissions. Sessions ([`session`]), sign-in limits
//! ([`login_limit`]) and CSRF protection ([`csrf`]) guard every route; each handler says
//! which roles it allows ([`auth::Authed::require`]).

pub mod admin;
pub mod agent;
pub mod api;
pub mod auth;
pub mod csrf;
pub mod error;
pub mod events;
pub mod login_limit;
pub mod lookups;
pub mod pages;
pub mod records;
pub mod session;
pub mod wallboard;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use chrono::Duration;
use paceline_dialer::Db;
use paceline_dialer::clock::Clock;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub db: Db,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Signed-in sessions.
    pub sessions: Arc<session::Sessions>,
    /// Failed sign-in counts.
    pub limit: Arc<login_limit::LoginLimit>,
    /// The page templates.
    pub pages: Arc<pages::Pages>,
    /// The live campaign runtime, when this server runs one.
    pub live: Option<crate::live::Live>,
}

impl AppState {
    /// The state of a server on `db`: sessions end after 12 idle hours; 5 failed sign-ins
    /// per login or address in 15 minutes, then a wait.
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        AppState {
            db,
            clock,
            sessions: Arc::new(session::Sessions::new(Duration::hours(12))),
            limit: Arc::new(login_limit::LoginLimit::new(5, Duration::minutes(15))),
            pages: Arc::new(pages::Pages::new()),
            live: None,
        }
    }
}

impl AppState {
    /// The live campaign runtime, or why there is none.
    pub fn live(&self) -> Result<&crate::live::Live, error::WebError> {
        self.live.as_ref().ok_or_else(|| {
            error::WebError::Forbidden("this server runs no live campaign (start it with `paceline demo`)".into())
        })
    }
}

/// Every route.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/login", get(auth::login_page).post(auth::login_submit))
        .route("/logout", post(auth::logout_submit))
        .route("/password", get(auth::password_page).post(auth::password_submit))
        .route("/static/paceline.css", get(pages::stylesheet))
        .route("/static/agent.js", get(pages::agent_script))
        .route("/static/wallboard.js", get(pages::wallboard_script))
        .route("/static/admin.js", get(pages::admin_script))
        .route("/static/admin-sample.js", get(pages::admin_sample_script))
        .route("/static/admin-settings.js", get(pages::admin_settings_script))
        .route("/static/admin-people.js", get(pages::admin_people_script))
        .route("/static/admin-dnc.js", get(pages::admin_dnc_script))
        .route("/static/admin-preview.js", get(pages::admin_preview_script))
        .route("/api/login", post(auth::api_login))
        .route("/api/logout", post(auth::api_logout))
        .route("/api/me", get(auth::api_me))
        .route("/api/password", post(auth::api_password))
        .route("/api/users", get(api::list_users).post(api::create_user))
        .route("/admin", get(admin::page))
        .route("/api/campaigns", get(api::list_campaigns).post(admin::create_campaign))
        .route("/api/campaigns/{name}/{step}", post(admin::campaign_step))
        .route(
            "/api/questionnaires",
            get(admin::list_questionnaires).post(admin::publish_questionnaire),
        )
        .route("/api/questionnaires/check", post(admin::check_questionnaire))
        .route("/api/questionnaires/preview", post(admin::questionnaires::preview))
        .route(
            "/api/campaigns/{name}/sample",
            get(admin::sample::counts)
                .post(admin::sample::import)
                .layer(admin::UPLOAD_LIMIT),
        )
        .route(
            "/api/campaigns/{name}/sample/columns",
            post(admin::sample::columns).layer(admin::UPLOAD_LIMIT),
        )
        .route("/api/campaigns/{name}/records", get(admin::sample::list))
        .route("/api/campaigns/{name}/records/assign", post(admin::sample::assign))
        .route("/api/campaigns/{name}/assignments", post(admin::teams::assign_campaign))
        .route(
            "/api/campaigns/{name}/settings",
            get(admin::settings::show).post(admin::settings::change),
        )
        .route("/api/campaigns/{name}/config", post(admin::settings::replace))
        .route("/api/teams", get(admin::teams::list).post(admin::teams::create))
        .route("/api/teams/{team}/members", post(admin::teams::members))
        .route("/api/users/{login}", post(admin::users::change))
        .route("/api/dnc", get(admin::dnc::list).post(admin::dnc::add))
        .route("/api/dnc/remove", post(admin::dnc::remove))
        .route("/api/dnc/check", get(admin::dnc::check))
        .route("/api/dnc/upload", post(admin::dnc::upload).layer(admin::UPLOAD_LIMIT))
        .route("/api/events", get(events::stream))
        .route("/wallboard", get(wallboard::page))
        .route("/api/wallboard", get(wallboard::snapshot))
        .route("/api/wallboard/pause", post(wallboard::pause))
        .route("/api/wallboard/agents/{agent}/{action}", post(wallboard::agent_action))
        .route("/agent", get(agent::page))
        .route("/api/agent", get(agent::view))
        .route("/api/agent/events", get(events::agent_stream))
        .route("/api/agent/calls", get(lookups::my_calls))
        .route("/api/records/{record}", get(records::show).post(records::edit))
        .route("/api/records/{record}/answers", get(lookups::record_answers))
        .route("/api/leaderboard", get(lookups::leaderboard))
        .route("/api/agent/{action}", post(agent::act))
        .layer(axum::middleware::from_fn_with_state(state.clone(), csrf::guard))
        .with_state(state)
}

/// Serves the application on `address` until the process is stopped; `ready` is told the
/// address bound (port 0 picks a free one).
pub async fn serve(state: AppState, address: SocketAddr, ready: impl FnOnce(SocketAddr)) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e}"))?;
    ready(listener.local_addr()?);
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
