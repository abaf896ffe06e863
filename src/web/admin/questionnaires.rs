//! Questionnaires in the admin console: a file checked with every error's place, published
//! as an immutable version, the versions listed.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use paceline_dialer::users::Role;
use serde::{Deserialize, Serialize};

use crate::web::AppState;
use crate::web::auth::Authed;
use crate::web::error::WebError;

/// The file name of an uploaded questionnaire (its extension says its format).
#[derive(Debug, Deserialize)]
pub struct FileName {
    file: String,
}

/// A questionnaire file's check: its summary, or every error with its place.
#[derive(Debug, Serialize)]
pub struct Checked {
    /// Whether it loads.
    pub ok: bool,
    /// Its summary, when it loads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<paceline_cati::questionnaire::Summary>,
    /// Every error, with its file, sheet, row and column (or item and key).
    pub errors: Vec<paceline_cati::questionnaire::LoadError>,
}

/// `POST /api/questionnaires/check?file=NAME` with the file as the body (admin).
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
#[derive(Debug, Serialize, sqlx::FromRow)]
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
