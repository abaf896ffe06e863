//! The JSON API's routes and their OpenAPI document, declared together: every API route is
//! registered here from its handler's `#[utoipa::path]`, so the document served at
//! `/api/openapi.json` lists exactly the routes the server answers.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{InfoBuilder, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AppState, admin, agent, api, auth, events, lookups, records, reports, wallboard};

/// Every route under `/api/`, with its part of the document.
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(base())
        .routes(routes!(auth::api_login))
        .routes(routes!(auth::api_logout))
        .routes(routes!(auth::api_me))
        .routes(routes!(auth::api_password))
        .routes(routes!(api::list_users, api::create_user))
        .routes(routes!(api::list_campaigns, admin::campaigns::create_campaign))
        .routes(routes!(admin::campaigns::campaign_step))
        .routes(routes!(
            admin::questionnaires::list_questionnaires,
            admin::questionnaires::publish_questionnaire
        ))
        .routes(routes!(admin::questionnaires::check_questionnaire))
        .routes(routes!(admin::questionnaires::preview))
        .routes(upload(routes!(admin::sample::counts, admin::sample::import)))
        .routes(upload(routes!(admin::sample::columns)))
        .routes(routes!(admin::sample::list))
        .routes(routes!(admin::sample::assign))
        .routes(routes!(admin::teams::assign_campaign))
        .routes(routes!(admin::settings::show, admin::settings::change))
        .routes(routes!(admin::settings::replace))
        .routes(routes!(admin::quotas::show, admin::quotas::set_target))
        .routes(routes!(admin::teams::list, admin::teams::create))
        .routes(routes!(admin::teams::members))
        .routes(routes!(admin::users::change))
        .routes(routes!(admin::dnc::list, admin::dnc::add))
        .routes(routes!(admin::dnc::remove))
        .routes(routes!(admin::dnc::check))
        .routes(upload(routes!(admin::dnc::upload)))
        .routes(routes!(events::stream))
        .routes(routes!(wallboard::snapshot))
        .routes(routes!(wallboard::pause))
        .routes(routes!(wallboard::agent_action))
        .routes(routes!(agent::view))
        .routes(routes!(events::agent_stream))
        .routes(routes!(lookups::my_calls))
        .routes(routes!(agent::act))
        .routes(routes!(records::show, records::edit))
        .routes(routes!(lookups::record_answers))
        .routes(routes!(lookups::leaderboard))
        .routes(routes!(reports::list))
        .routes(routes!(reports::report))
        .routes(routes!(reports::chart))
        .routes(routes!(reports::answers))
        .routes(routes!(reports::codebook))
}

/// Routes that take files: a larger body limit than axum's default.
fn upload(
    (schemas, paths, method): utoipa_axum::router::UtoipaMethodRouter<AppState>,
) -> utoipa_axum::router::UtoipaMethodRouter<AppState> {
    (schemas, paths, method.layer(admin::UPLOAD_LIMIT))
}

/// The document's title, version, and how requests are authenticated.
fn base() -> OpenApi {
    let mut doc = OpenApi::new(
        InfoBuilder::new()
            .title("Paceline")
            .version(env!("CARGO_PKG_VERSION"))
            .description(Some(
                "The JSON API of Paceline: everything the agent desktop, the wallboard and the admin \
                 console do. Sign in with POST /api/login; the session is an HttpOnly cookie, and every \
                 state-changing request carries the session's CSRF token in the X-CSRF-Token header. \
                 Each operation's description names the roles it allows; errors are JSON \
                 {\"error\": ..., \"field\": ...}.",
            ))
            .build(),
        utoipa::openapi::Paths::new(),
    );
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "session",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(super::session::COOKIE))),
    );
    components.add_security_scheme(
        "csrf",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-CSRF-Token"))),
    );
    doc.security = Some(vec![SecurityRequirement::new("session", Vec::<String>::new())]);
    doc
}

/// `GET /api/openapi.json`: the API's OpenAPI document (anyone; it describes, it reveals no
/// data), serialized once when the router is built.
pub async fn serve(
    axum::extract::State(doc): axum::extract::State<axum::body::Bytes>,
) -> impl axum::response::IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_says_who_may_call_it_and_what_it_answers() {
        let doc = api_routes().into_openapi();
        let mut operations = 0;
        for (path, item) in &doc.paths.paths {
            let ops = [
                ("get", &item.get),
                ("post", &item.post),
                ("put", &item.put),
                ("delete", &item.delete),
                ("patch", &item.patch),
            ];
            for (method, op) in ops {
                let Some(op) = op else { continue };
                operations += 1;
                assert!(path.starts_with("/api/"), "{path}");
                let text = format!(
                    "{} {}",
                    op.summary.clone().unwrap_or_default(),
                    op.description.clone().unwrap_or_default()
                );
                assert!(!text.trim().is_empty(), "{method} {path} has no description");
                assert!(
                    op.responses.responses.keys().any(|status| status.starts_with('2')),
                    "{method} {path} documents no success"
                );
            }
        }
        assert!(operations >= 49, "only {operations} operations");
        for path in [
            "/api/agent/{action}",
            "/api/reports/{name}",
            "/api/campaigns/{name}/answers",
            "/api/records/{record}",
            "/api/wallboard",
            "/api/login",
        ] {
            assert!(doc.paths.paths.contains_key(path), "{path} is missing");
        }
    }
}
