//! Questionnaires in the admin console: a file checked with every error's place, published
//! as an immutable version, the versions listed, and a version (or a file being checked)
//! previewed as the interviewer would see it, in memory.

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

/// The query of a preview: which questionnaire (a published version, or the file sent as the
/// body), and the interviewer's steps so far.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PreviewQuery {
    /// A published version's id.
    version: Option<i64>,
    /// Or: the name of the file sent as the body (its extension says its format).
    file: Option<String>,
    /// JSON: the steps taken, in order; each `{"answer": ANSWER}` (with `"other"` for an
    /// "other, specify" text) or `"back"`.
    steps: Option<String>,
    /// The language (default: the questionnaire's first).
    language: Option<String>,
    /// JSON: sample fields of a made-up respondent, for texts and routes that use them.
    sample: Option<String>,
}

/// One step of the interviewer.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Step {
    /// Back to the previous question.
    Back(BackWord),
    /// An answer to the question on screen.
    Answer {
        answer: serde_json::Value,
        #[serde(default)]
        other: Option<String>,
    },
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum BackWord {
    Back,
}

/// Where a preview stands after its steps.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Preview {
    /// The questionnaire's id.
    pub key: String,
    /// Its version label.
    pub version: String,
    /// Its title, in the preview's language.
    pub title: String,
    /// Its languages; the preview runs in `language`.
    pub languages: Vec<String>,
    /// The preview's language.
    pub language: String,
    /// Asking, complete, screened out or terminated.
    #[schema(value_type = Object)]
    pub state: paceline_cati::interview::State,
    /// The question on screen, as the interviewer sees it.
    #[schema(value_type = Option<Object>)]
    pub shown: Option<paceline_cati::interview::Shown>,
    /// The last step's answer refused, with the message the interviewer would see; that step
    /// is not taken.
    #[schema(value_type = Option<Object>)]
    pub refused: Option<paceline_cati::interview::Refused>,
    /// How many of the steps were taken (all but a refused last one).
    pub steps: usize,
    /// The questions shown, in order.
    pub path: Vec<String>,
    /// The answers so far.
    #[schema(value_type = Object)]
    pub answers: std::collections::BTreeMap<String, paceline_cati::expr::Value>,
}

/// `POST /api/questionnaires/preview?version=ID&steps=JSON` (or `?file=NAME&steps=JSON` with
/// the file as the body): the questionnaire walked through as the interviewer would see it,
/// the steps replayed in memory on each call; nothing is stored (admins, supervisors,
/// analysts). Quota cells are not counted in a preview.
#[utoipa::path(post, path = "/api/questionnaires/preview", tag = "questionnaires", params(PreviewQuery), request_body(content = Option<Vec<u8>>, description = "with `file`: the questionnaire file", content_type = "application/octet-stream"), responses((status = 200, body = Preview), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn preview(
    State(state): State<AppState>,
    user: Authed,
    Query(query): Query<PreviewQuery>,
    body: Bytes,
) -> Result<Json<Preview>, WebError> {
    use paceline_cati::interview::{Interview, Refused, parse_answer};

    user.require(&[Role::Admin, Role::Supervisor, Role::Analyst])?;
    let questionnaire = match (query.version, query.file.as_deref()) {
        (Some(id), _) => paceline_cati::store::version(&state.db, id)
            .await
            .map_err(|e| match e {
                paceline_cati::store::StoreError::Sql(sqlx::Error::RowNotFound) => {
                    WebError::invalid("version", format!("no questionnaire version {id} is published"))
                }
                e => WebError::Internal(e.into()),
            })?,
        (None, Some(file)) => paceline_cati::questionnaire::load_bytes(file, &body).map_err(|errors| {
            WebError::invalid(
                "file",
                format!(
                    "{file} does not load: {}",
                    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
                ),
            )
        })?,
        (None, None) => {
            return Err(WebError::invalid(
                "version",
                "say which questionnaire: ?version=ID or ?file=NAME with the file",
            ));
        }
    };
    let steps: Vec<Step> = match query.steps.as_deref().filter(|s| !s.trim().is_empty()) {
        None => Vec::new(),
        Some(text) => serde_json::from_str(text).map_err(|e| {
            WebError::invalid(
                "steps",
                format!("steps are a list of {{\"answer\": ...}} or \"back\": {e}"),
            )
        })?,
    };
    let language = match query.language.filter(|l| !l.trim().is_empty()) {
        Some(l) if questionnaire.languages.contains(&l) => l,
        Some(l) => {
            return Err(WebError::invalid(
                "language",
                format!(
                    "{} has no language '{l}'; it has {}",
                    questionnaire.id,
                    questionnaire.languages.join(", ")
                ),
            ));
        }
        None => questionnaire.languages.first().cloned().unwrap_or_default(),
    };
    let mut sample = std::collections::BTreeMap::new();
    if let Some(text) = query.sample.as_deref().filter(|s| !s.trim().is_empty()) {
        let given: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)
            .map_err(|e| WebError::invalid("sample", format!("the sample is an object of field to value: {e}")))?;
        for (name, json) in given {
            let value = questionnaire
                .sample_value(&name, &json)
                .map_err(|e| WebError::invalid("sample", format!("{name}: {e}")))?;
            sample.insert(name, value);
        }
    }
    // The same seed on every call, so shuffled options come in the same order each replay.
    let mut interview = Interview::start(&questionnaire, sample, &language, state.clock.now().date_naive(), 1);
    let mut refused: Option<Refused> = None;
    let mut taken = 0;
    for (i, step) in steps.iter().enumerate() {
        let outcome = match step {
            Step::Back(BackWord::Back) => {
                interview.back();
                Ok(())
            }
            Step::Answer { answer, other } => match interview.current() {
                None => Err(Refused {
                    question: String::new(),
                    message: "the interview has ended".into(),
                }),
                Some(shown) => {
                    let question = questionnaire
                        .question(&shown.question)
                        .expect("the question shown is the questionnaire's");
                    let value = if shown.kind == "note" {
                        Ok(paceline_cati::expr::Value::Empty)
                    } else {
                        parse_answer(question, answer).map_err(|message| Refused {
                            question: shown.name.clone(),
                            message,
                        })
                    };
                    value.and_then(|v| interview.answer_other(v, other.as_deref()))
                }
            },
        };
        match outcome {
            Ok(()) => taken += 1,
            Err(r) if i + 1 == steps.len() => refused = Some(r),
            Err(r) => {
                return Err(WebError::invalid("steps", format!("step {} is refused: {r}", i + 1)));
            }
        }
    }
    Ok(Json(Preview {
        key: questionnaire.id.clone(),
        version: questionnaire.version.clone(),
        title: questionnaire.title.get(&language).unwrap_or("").to_string(),
        languages: questionnaire.languages.clone(),
        language,
        state: interview.state().clone(),
        shown: interview.current(),
        refused,
        steps: taken,
        path: interview.path().iter().map(|s| s.to_string()).collect(),
        answers: interview.answers().clone(),
    }))
}
