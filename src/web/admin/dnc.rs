//! Do-not-call lists in the admin console (DIAL-17): the global list and each campaign's,
//! listed, a number added or taken off, a list file uploaded, a number checked.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use paceline_dialer::campaign::store as campaigns;
use paceline_dialer::dnc::{self, DncError, Entry, Scope};
use paceline_dialer::sample::phone::PhoneNormalizer;
use paceline_dialer::users::Role;
use serde::{Deserialize, Serialize};

use super::{Upload, campaign_error};
use crate::web::AppState;
use crate::web::auth::Authed;
use crate::web::error::WebError;

/// Which list, and how to read numbers written without a country code.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ListRef {
    /// The campaign whose list; none or empty: the global list.
    campaign: Option<String>,
    /// The country of numbers without a code (default: the campaign's, else US).
    country: Option<String>,
}

/// A list resolved: its scope, its name for people, the country for numbers.
struct List {
    scope: Scope,
    name: String,
    country: String,
}

async fn resolve(state: &AppState, list: &ListRef) -> Result<List, WebError> {
    let country = list.country.clone().filter(|c| !c.trim().is_empty());
    match list.campaign.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(name) => {
            let campaign = campaigns::find(&state.db, name).await.map_err(campaign_error)?;
            Ok(List {
                scope: Scope::Campaign(campaign.id),
                country: country.unwrap_or(campaign.settings.default_country),
                name: campaign.name,
            })
        }
        None => Ok(List {
            scope: Scope::Global,
            name: String::new(),
            country: country.unwrap_or_else(|| "US".into()),
        }),
    }
}

fn dnc_error(e: DncError) -> WebError {
    match e {
        DncError::BadNumber { .. } => WebError::invalid("number", e.to_string()),
        DncError::Country(_) => WebError::invalid("country", e.to_string()),
        e => WebError::Internal(e.into()),
    }
}

fn e164(number: &str, country: &str) -> Result<String, WebError> {
    let normalizer = PhoneNormalizer::new(country).map_err(|e| WebError::invalid("country", e.to_string()))?;
    normalizer
        .normalize(number)
        .map(|n| n.e164)
        .map_err(|e| WebError::invalid("number", format!("'{number}' is not a valid phone number: {e}")))
}

/// A listed number, with its list by name.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Listed {
    /// The number in E.164.
    pub e164: String,
    /// The campaign whose list it is on; none: the global list.
    pub campaign: Option<String>,
    /// Where it came from (a file's name, `manual`, an opt-out).
    pub source: String,
    /// When it was listed.
    pub added_at: DateTime<Utc>,
}

fn listed(entry: Entry, campaign: &str) -> Listed {
    Listed {
        e164: entry.e164,
        campaign: match entry.scope {
            Scope::Global => None,
            Scope::Campaign(_) => Some(campaign.to_string()),
        },
        source: entry.source,
        added_at: entry.added_at,
    }
}

/// The query of the list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// The campaign whose list; none: the global list.
    campaign: Option<String>,
    /// At most this many (default 200).
    limit: Option<i64>,
}

/// `GET /api/dnc?campaign=NAME&limit=N`: a list's numbers, newest first (admins, supervisors,
/// analysts).
#[utoipa::path(get, path = "/api/dnc", tag = "do-not-call", params(ListQuery), responses((status = 200, body = Vec<Listed>), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    user: Authed,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<Listed>>, WebError> {
    user.require(&[Role::Admin, Role::Supervisor, Role::Analyst])?;
    let list = resolve(
        &state,
        &ListRef {
            campaign: query.campaign,
            country: None,
        },
    )
    .await?;
    let limit = query.limit.unwrap_or(200);
    if !(1..=10_000).contains(&limit) {
        return Err(WebError::invalid("limit", "limit is 1 to 10000"));
    }
    let entries = dnc::list(&state.db, list.scope, limit).await.map_err(dnc_error)?;
    Ok(Json(entries.into_iter().map(|e| listed(e, &list.name)).collect()))
}

/// What adding, removing or checking a number takes.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NumberForm {
    /// The number, as written.
    number: String,
    /// The list (none: the global list) and the country.
    #[serde(flatten)]
    list: ListRef,
}

/// `POST /api/dnc`: lists a number (admin); whether it was new.
#[utoipa::path(post, path = "/api/dnc", tag = "do-not-call", request_body = NumberForm, responses((status = 201, description = "listed", body = Object), (status = 200, description = "already on the list", body = Object), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn add(
    State(state): State<AppState>,
    user: Authed,
    Json(form): Json<NumberForm>,
) -> Result<(StatusCode, Json<serde_json::Value>), WebError> {
    user.require(&[Role::Admin])?;
    let list = resolve(&state, &form.list).await?;
    let number = e164(&form.number, &list.country)?;
    let added = dnc::add(
        &state.db,
        &form.number,
        list.scope,
        &list.country,
        "manual",
        Some(user.session.user),
        state.clock.now(),
    )
    .await
    .map_err(dnc_error)?;
    Ok((
        if added { StatusCode::CREATED } else { StatusCode::OK },
        Json(serde_json::json!({ "e164": number, "added": added })),
    ))
}

/// `POST /api/dnc/remove`: takes a number off a list (admin); whether it was on it.
#[utoipa::path(post, path = "/api/dnc/remove", tag = "do-not-call", request_body = NumberForm, responses((status = 200, description = "whether it was on the list", body = Object), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    user: Authed,
    Json(form): Json<NumberForm>,
) -> Result<Json<serde_json::Value>, WebError> {
    user.require(&[Role::Admin])?;
    let list = resolve(&state, &form.list).await?;
    let number = e164(&form.number, &list.country)?;
    let removed = dnc::remove(&state.db, &number, list.scope).await.map_err(dnc_error)?;
    Ok(Json(serde_json::json!({ "e164": number, "removed": removed })))
}

/// The query of a check.
#[derive(Debug, Deserialize)]
pub struct CheckQuery {
    /// The number, as written.
    number: String,
    /// The campaign to check for (its list and the global one); none: the global list.
    #[serde(flatten)]
    list: ListRef,
}

/// `GET /api/dnc/check?number=N&campaign=NAME`: whether the number may be dialed for the
/// campaign, and the entries that forbid it (admins, supervisors, analysts).
#[utoipa::path(get, path = "/api/dnc/check", tag = "do-not-call", params(("number" = String, Query, description = "the number, as written"), ("campaign" = Option<String>, Query, description = "the campaign whose list (default: the global list)"), ("country" = Option<String>, Query, description = "the country numbers without one are read in (default: the campaign's, or US)")), responses((status = 200, description = "whether it may be dialed, and the lists it is on", body = Object), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn check(
    State(state): State<AppState>,
    user: Authed,
    Query(query): Query<CheckQuery>,
) -> Result<Json<serde_json::Value>, WebError> {
    user.require(&[Role::Admin, Role::Supervisor, Role::Analyst])?;
    let list = resolve(&state, &query.list).await?;
    let number = e164(&query.number, &list.country)?;
    let campaign = match list.scope {
        Scope::Campaign(id) => Some(id),
        Scope::Global => None,
    };
    let entries = dnc::check(&state.db, &number, campaign).await.map_err(dnc_error)?;
    let entries: Vec<Listed> = entries.into_iter().map(|e| listed(e, &list.name)).collect();
    Ok(Json(serde_json::json!({
        "e164": number,
        "listed": !entries.is_empty(),
        "entries": entries,
    })))
}

/// The query of an upload.
#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    /// The file's name (its extension says its format).
    file: String,
    /// The list and the country.
    #[serde(flatten)]
    list: ListRef,
}

/// A refused cell of a list file.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BadCell {
    /// The spreadsheet row.
    pub row: u64,
    /// The cell as written.
    pub value: String,
    /// Why it is no number.
    pub reason: String,
}

/// `POST /api/dnc/upload?file=NAME&campaign=NAME` with a list file (CSV, XLSX, Parquet) as the
/// body: its numbers listed in one transaction (admin); the counts and each refused cell
/// with its row.
#[utoipa::path(post, path = "/api/dnc/upload", tag = "do-not-call", params(("file" = String, Query, description = "the file's name (its extension says its format)"), ("campaign" = Option<String>, Query, description = "the campaign whose list (default: the global list)"), ("country" = Option<String>, Query, description = "the country numbers without one are read in (default: the campaign's, or US)")), request_body(content = Vec<u8>, description = "the file as it is (CSV, XLSX or Parquet)", content_type = "application/octet-stream"), responses((status = 200, description = "the counts and each refused cell with its row", body = Object), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    user: Authed,
    Query(query): Query<UploadQuery>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, WebError> {
    user.require(&[Role::Admin])?;
    let list = resolve(&state, &query.list).await?;
    let upload = Upload::new(&query.file, &body)?;
    let summary = dnc::import(
        &state.db,
        &upload.path,
        list.scope,
        &list.country,
        Some(user.session.user),
        state.clock.now(),
    )
    .await
    .map_err(|e| match e {
        DncError::Source(_) => WebError::invalid("file", upload.tell(e)),
        e => dnc_error(e),
    })?;
    let invalid: Vec<BadCell> = summary
        .invalid
        .into_iter()
        .map(|(row, value, reason)| BadCell { row, value, reason })
        .collect();
    Ok(Json(serde_json::json!({
        "file": upload.name,
        "read": summary.read,
        "added": summary.added,
        "already_listed": summary.already_listed,
        "invalid": invalid,
    })))
}
