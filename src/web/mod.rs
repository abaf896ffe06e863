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
pub mod openapi;
pub mod pages;
pub mod records;
pub mod reports;
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
    /// Tells the live runtime, if this server runs one, that a campaign changed in the store,
    /// and waits until it dials by the change.
    pub async fn campaign_changed(&self, campaign: i64) -> Result<(), error::WebError> {
        match &self.live {
            Some(live) => live.campaign_changed(campaign).await.map_err(|why| {
                error::WebError::invalid(
                    "campaign",
                    format!("saved, but the live runtime did not take it: {why}"),
                )
            }),
            None => Ok(()),
        }
    }

    /// Tells the live runtime, if this server runs one, that team memberships changed.
    pub async fn teams_changed(&self) -> Result<(), error::WebError> {
        match &self.live {
            Some(live) => live.teams_changed().await.map_err(|why| {
                error::WebError::invalid("team", format!("saved, but the live runtime did not take it: {why}"))
            }),
            None => Ok(()),
        }
    }

    /// The live campaign runtime, or why there is none.
    pub fn live(&self) -> Result<&crate::live::Live, error::WebError> {
        self.live.as_ref().ok_or_else(|| {
            error::WebError::Forbidden("this server runs no live campaign (start it with `paceline demo`)".into())
        })
    }
}

/// Every route.
pub fn router(state: AppState) -> Router {
    let (api, document) = openapi::api_routes().split_for_parts();
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
        .route("/static/admin-quotas.js", get(pages::admin_quotas_script))
        .route("/static/reports.js", get(pages::reports_script))
        .route("/admin", get(admin::page))
        .route("/wallboard", get(wallboard::page))
        .route("/agent", get(agent::page))
        .route("/reports", get(reports::page))
        .merge(api)
        .route(
            "/api/openapi.json",
            get(openapi::serve).with_state(axum::body::Bytes::from(
                serde_json::to_vec(&document).expect("the OpenAPI document serializes"),
            )),
        )
        .layer(axum::middleware::from_fn_with_state(state.clone(), csrf::guard))
        .layer(axum::middleware::from_fn(error::api_refusals))
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
