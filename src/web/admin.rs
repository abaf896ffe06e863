//! The admin console's API: campaigns (create from a configuration file, copy, and their
//! lifecycle: publish, start, pause, resume, close) and questionnaires (check a file with
//! every error's place, publish it as a version, list the versions).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use paceline_dialer::campaign::store as campaigns;
use paceline_dialer::campaign::{CampaignConfig, CampaignError, CampaignKind, LifecycleStep};
use paceline_dialer::users::Role;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::{Authed, Me, PageUser};
use super::error::{PageError, WebError};

/// `GET /admin`: the admin console page (its script drives the API below).
pub async fn page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
) -> Result<axum::response::Html<String>, PageError> {
    user.require(&[Role::Admin])?;
    Ok(axum::response::Html(state.pages.render(
        "admin.html",
        minijinja::context! { user => Me::from(&user.session) },
    )))
}

/// What `POST /api/campaigns` takes.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewCampaign {
    /// The campaign's name.
    name: String,
    /// Its configuration, in the TOML format of `docs/campaign-settings.md`.
    config: String,
}

fn campaign_error(e: CampaignError) -> WebError {
    match e {
        CampaignError::DuplicateName(_) | CampaignError::BadName { .. } => WebError::invalid("name", e.to_string()),
        CampaignError::NotFound(_) => WebError::invalid("campaign", e.to_string()),
        CampaignError::Invalid(_) | CampaignError::UnknownAgent(_) | CampaignError::UnknownTeam(_) => {
            WebError::invalid("config", e.to_string())
        }
        CampaignError::Closed(_) => WebError::invalid("step", e.to_string()),
        CampaignError::Lifecycle(_) => WebError::invalid("step", e.to_string()),
        e => WebError::Internal(e.into()),
    }
}

/// A campaign after a change.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CampaignState {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its status after the change.
    pub status: String,
}

/// `POST /api/campaigns`: creates a draft campaign (admin).
#[utoipa::path(post, path = "/api/campaigns", tag = "campaigns", request_body = NewCampaign, responses((status = 201, body = CampaignState), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn create_campaign(
    State(state): State<AppState>,
    user: Authed,
    Json(new): Json<NewCampaign>,
) -> Result<(StatusCode, Json<CampaignState>), WebError> {
    user.require(&[Role::Admin])?;
    let config = CampaignConfig::from_toml(&new.config).map_err(|e| WebError::invalid("config", e))?;
    let kind = config.kind.unwrap_or(CampaignKind::Survey);
    let campaign = campaigns::create(&state.db, &new.name, kind, &config, state.clock.now())
        .await
        .map_err(campaign_error)?;
    Ok((
        StatusCode::CREATED,
        Json(CampaignState {
            id: campaign.id,
            name: campaign.name,
            status: campaign.status.to_string(),
        }),
    ))
}

/// What a copy takes.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct CopyTo {
    /// The new campaign's name.
    new_name: Option<String>,
}

/// `POST /api/campaigns/{name}/{step}`: `publish`, `start`, `pause`, `resume`, `close`, or
/// `copy` (with `new_name`) (admin). The campaign the server's live runtime runs is paused
/// through the runtime, so its dialing stops at once.
#[utoipa::path(post, path = "/api/campaigns/{name}/{step}", tag = "campaigns", params(("name" = String, Path, description = "the campaign's name"), ("step" = String, Path, description = "publish, start, pause, resume, close or copy")), request_body(content = Option<CopyTo>, description = "copy: the new campaign's name"), responses((status = 200, body = CampaignState), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn campaign_step(
    State(state): State<AppState>,
    user: Authed,
    Path((name, step)): Path<(String, String)>,
    body: Option<Json<CopyTo>>,
) -> Result<Json<CampaignState>, WebError> {
    user.require(&[Role::Admin])?;
    let now = state.clock.now();
    let live = state.live.as_ref().filter(|l| l.campaign(Some(&name)).is_some());
    let campaign = match step.as_str() {
        "copy" => {
            let new_name = body
                .and_then(|Json(b)| b.new_name)
                .filter(|n| !n.trim().is_empty())
                .ok_or_else(|| WebError::invalid("new_name", "a copy needs a name"))?;
            campaigns::copy(&state.db, &name, &new_name, now)
                .await
                .map_err(campaign_error)?
        }
        "pause" if live.is_some() => {
            live.expect("checked")
                .supervise(crate::live::SupervisorAction::Pause(name.clone()))
                .await
                .map_err(|message| WebError::invalid("step", message))?;
            campaigns::find(&state.db, &name).await.map_err(campaign_error)?
        }
        "start" | "resume" | "close" if live.is_some() => {
            return Err(WebError::invalid(
                "step",
                format!(
                    "'{name}' runs in this server's live runtime; it can be paused here, and {step} when the server restarts"
                ),
            ));
        }
        other => {
            let step = match other {
                "publish" => LifecycleStep::Publish,
                "start" => LifecycleStep::Start,
                "pause" => LifecycleStep::Pause,
                "resume" => LifecycleStep::Resume,
                "close" => LifecycleStep::Close,
                other => {
                    return Err(WebError::invalid(
                        "step",
                        format!("'{other}' is not a step: publish, start, pause, resume, close or copy"),
                    ));
                }
            };
            campaigns::step(&state.db, &name, step, Some(user.session.user), now)
                .await
                .map_err(campaign_error)?
        }
    };
    Ok(Json(CampaignState {
        id: campaign.id,
        name: campaign.name,
        status: campaign.status.to_string(),
    }))
}

/// The file name of an uploaded questionnaire (its extension says its format).
#[derive(Debug, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
pub struct FileName {
    file: String,
}

/// A questionnaire file's check: its summary, or every error with its place.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Checked {
    /// Whether it loads.
    pub ok: bool,
    /// Its summary, when it loads.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub summary: Option<paceline_cati::questionnaire::Summary>,
    /// Every error, with its file, sheet, row and column (or item and key).
    #[schema(value_type = Vec<Object>)]
    pub errors: Vec<paceline_cati::questionnaire::LoadError>,
}

/// `POST /api/questionnaires/check?file=NAME` with the file as the body (admin).
#[utoipa::path(post, path = "/api/questionnaires/check", tag = "questionnaires", params(FileName), request_body(content = Vec<u8>, description = "the file: own format (.toml) or XLSForm (.xlsx)", content_type = "application/octet-stream"), responses((status = 200, body = Checked), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody)))]
pub async fn check_questionnaire(
    user: Authed,
    Query(name): Query<FileName>,
    body: Bytes,
) -> Result<Json<Checked>, WebError> {
    user.require(&[Role::Admin])?;
    Ok(Json(
        match paceline_cati::questionnaire::load_bytes(&name.file, &body) {
            Ok(q) => Checked {
                ok: true,
                summary: Some(paceline_cati::questionnaire::Summary::of(&q)),
                errors: vec![],
            },
            Err(errors) => Checked {
                ok: false,
                summary: None,
                errors,
            },
        },
    ))
}

/// `POST /api/questionnaires?file=NAME` with the file as the body: publishes it as a version
/// (admin). A file that does not load is refused with every error.
#[utoipa::path(post, path = "/api/questionnaires", tag = "questionnaires", params(FileName), request_body(content = Vec<u8>, description = "the file: own format (.toml) or XLSForm (.xlsx)", content_type = "application/octet-stream"), responses((status = 201, description = "published as a new version", body = Object), (status = 200, description = "this very file is already published", body = Object), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "the file does not load: every error with its place", body = Object)))]
pub async fn publish_questionnaire(
    State(state): State<AppState>,
    user: Authed,
    Query(name): Query<FileName>,
    body: Bytes,
) -> Result<(StatusCode, Json<serde_json::Value>), WebError> {
    user.require(&[Role::Admin])?;
    match paceline_cati::store::publish(&state.db, &name.file, &body, state.clock.now()).await {
        Ok(published) => Ok((
            if published.new {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            },
            Json(serde_json::json!({
                "id": published.id, "key": published.key, "version": published.version, "new": published.new,
            })),
        )),
        Err(paceline_cati::store::StoreError::Questionnaire { errors, .. }) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(serde_json::json!({
                "error": format!("{} does not load: {} error(s)", name.file, errors.len()),
                "field": "file",
                "errors": errors,
            })),
        )),
        Err(e @ paceline_cati::store::StoreError::VersionTaken { .. }) => {
            Err(WebError::invalid("version", e.to_string()))
        }
        Err(e) => Err(WebError::Internal(e.into())),
    }
}

/// A published version.
#[derive(Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Version {
    /// Its id.
    pub id: i64,
    /// The questionnaire's id.
    pub key: String,
    /// The version label.
    pub version: String,
    /// The file it came from.
    pub file_name: String,
    /// When it was published.
    pub published_at: chrono::DateTime<chrono::Utc>,
}

/// `GET /api/questionnaires`: the published versions, newest first.
#[utoipa::path(get, path = "/api/questionnaires", tag = "questionnaires", responses((status = 200, body = Vec<Version>), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody)))]
pub async fn list_questionnaires(State(state): State<AppState>, user: Authed) -> Result<Json<Vec<Version>>, WebError> {
    user.require(&[Role::Admin, Role::Supervisor, Role::Analyst])?;
    let versions: Vec<Version> = paceline_dialer::with_db!(&state.db, |pool| {
        sqlx::query_as("SELECT id, key, version, file_name, published_at FROM questionnaire_versions ORDER BY id DESC")
            .fetch_all(pool)
            .await
            .map_err(|e| WebError::Internal(e.into()))?
    });
    Ok(Json(versions))
}
