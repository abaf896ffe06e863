//! The pages: minijinja templates built into the binary (from `templates/`), rendered with
//! auto-escaping, and the home page that leads each role to its screens.

use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use minijinja::Environment;
use serde::Serialize;

use super::AppState;
use super::auth::{Me, PageUser};

/// The templates, compiled once.
pub struct Pages {
    env: Environment<'static>,
}

impl Pages {
    /// Loads the built-in templates.
    pub fn new() -> Self {
        let mut env = Environment::new();
        for (name, source) in [
            ("base.html", include_str!("../../templates/base.html")),
            ("login.html", include_str!("../../templates/login.html")),
            ("home.html", include_str!("../../templates/home.html")),
            ("password.html", include_str!("../../templates/password.html")),
            ("agent.html", include_str!("../../templates/agent.html")),
            ("wallboard.html", include_str!("../../templates/wallboard.html")),
            ("admin.html", include_str!("../../templates/admin.html")),
            ("reports.html", include_str!("../../templates/reports.html")),
        ] {
            env.add_template(name, source).expect("the built-in templates parse");
        }
        Pages { env }
    }

    /// Renders a page; a template error is a bug, shown as such.
    pub fn render(&self, name: &str, context: impl Serialize) -> String {
        self.env
            .get_template(name)
            .and_then(|t| t.render(context))
            .unwrap_or_else(|e| {
                tracing::error!(template = name, error = %e, "a page failed to render");
                format!(
                    "<!doctype html><p>This page failed to render: {}</p>",
                    minijinja::HtmlEscape(&e.to_string())
                )
            })
    }
}

impl Default for Pages {
    fn default() -> Self {
        Self::new()
    }
}

/// The home page: who is signed in, and the screens their roles open.
pub async fn home(State(state): State<AppState>, PageUser(user): PageUser) -> Html<String> {
    Html(
        state
            .pages
            .render("home.html", minijinja::context! { user => Me::from(&user.session) }),
    )
}

/// The stylesheet.
pub async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../static/paceline.css"),
    )
}

/// The agent desktop's script.
pub async fn agent_script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/agent.js"),
    )
}

/// The wallboard's script.
pub async fn wallboard_script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/wallboard.js"),
    )
}

/// The admin console's script.
pub async fn admin_script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/admin.js"),
    )
}

/// The admin console's sample panel script.
pub async fn admin_sample_script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/admin-sample.js"),
    )
}

/// The admin console's users, teams and campaign assignments panels' script.
pub async fn admin_people_script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/admin-people.js"),
    )
}

/// The admin console's do-not-call panel's script.
pub async fn admin_dnc_script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/admin-dnc.js"),
    )
}

/// The admin console's settings panel script.
pub async fn admin_settings_script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/admin-settings.js"),
    )
}

/// The admin console's questionnaire preview script.
pub async fn admin_preview_script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/admin-preview.js"),
    )
}

/// The admin console's quotas panel.
pub async fn admin_quotas_script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/admin-quotas.js"),
    )
}

/// The reports page's script.
pub async fn reports_script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/reports.js"),
    )
}
