//! A campaign's sample in the admin console (CATI-08): an uploaded file's columns beside the
//! campaign's fields with the mapping by name, the import with its per-row report, the
//! records' status counts, the record list, and allocating records to an agent or a team.
//! A record's priority and status are changed through `POST /api/records/{id}`.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use paceline_dialer::campaign::store as campaigns;
use paceline_dialer::sample::fields::FieldSpec;
use paceline_dialer::sample::import::{ImportError, ImportOptions, import_file};
use paceline_dialer::sample::mapping::ColumnMapping;
use paceline_dialer::sample::record::{self, Assignee, Record, RecordError, RecordFilter, RecordStatus};
use paceline_dialer::sample::source::{Source, SourceOptions, SourceRow};
use paceline_dialer::users::{self, Role};
use serde::{Deserialize, Serialize};

use super::{Upload, campaign_error, visible_campaign};
use crate::web::AppState;
use crate::web::auth::Authed;
use crate::web::error::WebError;

/// Rows of the file shown under its header, so the person sees what each column holds.
const PREVIEW_ROWS: usize = 5;
/// Refused rows listed in a report; the counts say how many there were in all.
const REPORT_ROWS: usize = 1000;

/// The query of an upload: the file's name (its extension says its format), the sheet of a
/// workbook, and the mapping chosen.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct UploadQuery {
    /// The file's name.
    file: String,
    /// The sheet of a workbook (default: the first).
    sheet: Option<String>,
    /// JSON: each column to a field name, or `null` to leave it out; columns not named map to
    /// the field of the same name.
    mapping: Option<String>,
}

impl UploadQuery {
    fn source(&self) -> SourceOptions {
        SourceOptions {
            sheet: self.sheet.clone(),
            ..SourceOptions::default()
        }
    }

    fn mapping(&self) -> Result<ColumnMapping, WebError> {
        let Some(text) = self.mapping.as_deref().filter(|t| !t.trim().is_empty()) else {
            return Ok(ColumnMapping::default());
        };
        let chosen: BTreeMap<String, Option<String>> = serde_json::from_str(text).map_err(|e| {
            WebError::invalid(
                "mapping",
                format!("the mapping is not an object of column to field name (or null): {e}"),
            )
        })?;
        let mut mapping = ColumnMapping::default();
        for (column, field) in chosen {
            match field.filter(|f| !f.trim().is_empty()) {
                Some(field) => {
                    mapping.columns.insert(column, field);
                }
                None => mapping.ignore.push(column),
            }
        }
        Ok(mapping)
    }
}

/// A file's columns beside the campaign's fields.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FileColumns {
    /// The file's name.
    pub file: String,
    /// Its header, in order.
    pub columns: Vec<String>,
    /// Its first rows, cell by cell.
    pub rows: Vec<Vec<String>>,
    /// The campaign's field configuration.
    #[schema(value_type = Vec<Object>)]
    pub fields: Vec<FieldSpec>,
    /// The mapping by name: each column to the field of the same name (case ignored), or none.
    pub mapping: BTreeMap<String, Option<String>>,
}

/// `POST /api/campaigns/{name}/sample/columns?file=NAME` with the file as the body: its
/// header and first rows, the campaign's fields and the mapping by name (admin). Nothing is
/// stored.
#[utoipa::path(post, path = "/api/campaigns/{name}/sample/columns", tag = "sample", params(("name" = String, Path, description = "the campaign's name"), UploadQuery), request_body(content = Vec<u8>, description = "the file as it is (CSV, XLSX or Parquet)", content_type = "application/octet-stream"), responses((status = 200, body = FileColumns), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn columns(
    State(state): State<AppState>,
    user: Authed,
    Path(name): Path<String>,
    Query(query): Query<UploadQuery>,
    body: Bytes,
) -> Result<Json<FileColumns>, WebError> {
    user.require(&[Role::Admin])?;
    let campaign = campaigns::find(&state.db, &name).await.map_err(campaign_error)?;
    let upload = Upload::new(&query.file, &body)?;
    let bad_file = |e: paceline_dialer::sample::source::SourceError| WebError::invalid("file", upload.tell(e));
    let mut source = Source::open(&upload.path, &query.source()).map_err(bad_file)?;
    let columns = source.header().to_vec();
    let mut rows: Vec<SourceRow> = Vec::new();
    source.read_chunk(&mut rows, PREVIEW_ROWS).map_err(bad_file)?;
    let fields = campaign.settings.fields;
    let mapping = columns
        .iter()
        .map(|c| {
            let field = fields
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case(c.trim()))
                .map(|f| f.name.clone());
            (c.clone(), field)
        })
        .collect();
    Ok(Json(FileColumns {
        file: upload.name.clone(),
        columns,
        rows: rows
            .iter()
            .take(PREVIEW_ROWS)
            .map(|r| r.cells.iter().map(str::to_string).collect())
            .collect(),
        fields,
        mapping,
    }))
}

/// One problem of the per-row report: a refused row, or a number left out of an imported one.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RowIssue {
    /// The spreadsheet row (the header is row 1).
    pub row: u64,
    /// The file's column.
    pub column: String,
    /// The campaign field the column feeds, when it feeds one.
    #[serde(default)]
    pub field: Option<String>,
    /// The cell's value.
    pub value: String,
    /// Why.
    pub reason: String,
    /// `rejected` (the row was not imported) or `number_dropped` (imported without it).
    pub action: String,
}

/// What an import did, and every row refused.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// The file's name.
    pub file: String,
    /// Data rows read.
    pub rows_read: u64,
    /// Records added.
    pub inserted: u64,
    /// Rows repeating an earlier row of the file.
    pub duplicates_in_file: u64,
    /// Rows repeating a record already in the campaign.
    pub duplicates_in_campaign: u64,
    /// Rows whose every number is on a do-not-call list.
    pub do_not_call: u64,
    /// Rows refused for their data.
    pub invalid: u64,
    /// Numbers left out of imported rows.
    pub numbers_dropped: u64,
    /// A note on the file's encoding, when it was converted.
    pub encoding_note: Option<String>,
    /// When the same file was imported into the campaign before.
    pub previously_imported_at: Option<DateTime<Utc>>,
    /// The per-row report, in file order (the first 1,000).
    pub issues: Vec<RowIssue>,
    /// How many problems the report has in all.
    pub issues_total: usize,
}

/// `POST /api/campaigns/{name}/sample?file=NAME&mapping=JSON` with the file as the body:
/// imports it (admin). Valid rows are stored in one transaction; the answer counts what
/// happened and lists each refused row with its column, field and reason. Columns that do
/// not fit the fields are refused before anything is read, each problem listed.
#[utoipa::path(post, path = "/api/campaigns/{name}/sample", tag = "sample", params(("name" = String, Path, description = "the campaign's name"), UploadQuery), request_body(content = Vec<u8>, description = "the file as it is (CSV, XLSX or Parquet)", content_type = "application/octet-stream"), responses((status = 200, body = ImportReport), (status = 201, description = "records added", body = ImportReport), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    user: Authed,
    Path(name): Path<String>,
    Query(query): Query<UploadQuery>,
    body: Bytes,
) -> Result<Response, WebError> {
    user.require(&[Role::Admin])?;
    let campaign = campaigns::find(&state.db, &name).await.map_err(campaign_error)?;
    let mapping = query.mapping()?;
    let upload = Upload::new(&query.file, &body)?;
    let rejects = upload.beside("rejects.csv");
    let options = ImportOptions {
        mapping: Some(mapping.clone()),
        rejects: Some(rejects.clone()),
        source: query.source(),
        user_id: Some(user.session.user),
    };
    let summary = match import_file(&state.db, &campaign.name, &upload.path, &options, state.clock.now()).await {
        Ok(summary) => summary,
        Err(ImportError::Columns { problems, .. }) => {
            let body = serde_json::json!({
                "error": format!("{}: the columns do not fit campaign '{}': {}", upload.name, campaign.name, problems.join("; ")),
                "field": "mapping",
                "problems": problems,
            });
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response());
        }
        Err(e) => return Err(import_error(&upload, e)),
    };
    let header = Source::open(&upload.path, &query.source())
        .map(|s| s.header().to_vec())
        .unwrap_or_default();
    let feeds = |column: &str| -> Option<String> {
        let same = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
        if let Some((_, field)) = mapping.columns.iter().find(|(c, _)| same(c, column)) {
            return Some(field.clone());
        }
        campaign
            .settings
            .fields
            .iter()
            .find(|f| same(&f.name, column))
            .map(|f| f.name.clone())
            .filter(|_| header.iter().any(|h| same(h, column)))
    };
    let mut issues = Vec::new();
    let mut issues_total = 0;
    if let Some(path) = &summary.rejects {
        let mut reader = csv::Reader::from_path(path).map_err(|e| WebError::Internal(e.into()))?;
        for issue in reader.deserialize::<RowIssue>() {
            let mut issue = issue.map_err(|e| WebError::Internal(e.into()))?;
            issues_total += 1;
            if issues.len() < REPORT_ROWS {
                issue.field = feeds(&issue.column);
                issues.push(issue);
            }
        }
    }
    Ok(Json(ImportReport {
        file: upload.name.clone(),
        rows_read: summary.rows_read,
        inserted: summary.inserted,
        duplicates_in_file: summary.duplicates_in_file,
        duplicates_in_campaign: summary.duplicates_in_campaign,
        do_not_call: summary.do_not_call,
        invalid: summary.invalid,
        numbers_dropped: summary.numbers_dropped,
        encoding_note: summary.encoding_note,
        previously_imported_at: summary.previously_imported_at,
        issues,
        issues_total,
    })
    .into_response())
}

fn import_error(upload: &Upload, e: ImportError) -> WebError {
    match e {
        ImportError::Campaign(e) => campaign_error(e),
        ImportError::Closed(_) => WebError::invalid("campaign", e.to_string()),
        ImportError::NoPhoneField(_) => WebError::invalid("fields", e.to_string()),
        ImportError::Country { .. } => WebError::invalid("default_country", e.to_string()),
        ImportError::Source(_) | ImportError::Io { .. } => WebError::invalid("file", upload.tell(e)),
        e => WebError::Internal(e.into()),
    }
}

/// A campaign's sample at a glance.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SampleCounts {
    /// The campaign.
    pub campaign: String,
    /// Records in all.
    pub total: i64,
    /// Records per status, every status listed.
    pub counts: BTreeMap<String, i64>,
    /// The field configuration.
    #[schema(value_type = Vec<Object>)]
    pub fields: Vec<FieldSpec>,
}

/// `GET /api/campaigns/{name}/sample`: records per status and the field configuration (admins,
/// analysts, and supervisors of the campaign's teams).
#[utoipa::path(get, path = "/api/campaigns/{name}/sample", tag = "sample", params(("name" = String, Path, description = "the campaign's name")), responses((status = 200, body = SampleCounts), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn counts(
    State(state): State<AppState>,
    user: Authed,
    Path(name): Path<String>,
) -> Result<Json<SampleCounts>, WebError> {
    user.require(&[Role::Admin, Role::Analyst, Role::Supervisor])?;
    let campaign = visible_campaign(&state, &user, &name).await?;
    let stored = campaigns::status_counts(&state.db, campaign.id)
        .await
        .map_err(campaign_error)?;
    let mut counts: BTreeMap<String, i64> = RecordStatus::ALL.iter().map(|s| (s.to_string(), 0)).collect();
    counts.extend(stored);
    Ok(Json(SampleCounts {
        campaign: campaign.name,
        total: counts.values().sum(),
        counts,
        fields: campaign.settings.fields,
    }))
}

/// The query of the record list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// Only this status.
    status: Option<String>,
    /// Only records assigned to this agent.
    agent: Option<String>,
    /// Only records assigned to this team.
    team: Option<String>,
    /// At most this many (default 50, at most 500).
    limit: Option<i64>,
    /// Skip this many.
    offset: Option<i64>,
}

/// A page of records.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecordList {
    /// The records, highest priority first, then in import order.
    #[schema(value_type = Vec<Object>)]
    pub records: Vec<Record>,
    /// Whether more follow this page.
    pub more: bool,
    /// Where this page starts.
    pub offset: i64,
}

fn status_param(text: Option<&str>) -> Result<Option<RecordStatus>, WebError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => t.parse().map(Some).map_err(|e: String| WebError::invalid("status", e)),
    }
}

/// `GET /api/campaigns/{name}/records?status=&agent=&team=&limit=&offset=`: a page of the
/// campaign's records (admins, analysts, and supervisors of the campaign's teams).
#[utoipa::path(get, path = "/api/campaigns/{name}/records", tag = "sample", params(("name" = String, Path, description = "the campaign's name"), ListQuery), responses((status = 200, body = RecordList), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    user: Authed,
    Path(name): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Json<RecordList>, WebError> {
    user.require(&[Role::Admin, Role::Analyst, Role::Supervisor])?;
    let campaign = visible_campaign(&state, &user, &name).await?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(WebError::invalid("limit", "limit is 1 to 500"));
    }
    let offset = query.offset.unwrap_or(0).max(0);
    let nonempty = |s: &Option<String>| s.clone().filter(|s| !s.trim().is_empty());
    let filter = RecordFilter {
        status: status_param(query.status.as_deref())?,
        agent: nonempty(&query.agent),
        team: nonempty(&query.team),
        // One more than asked, to tell whether another page follows.
        limit: Some(limit + 1),
        offset: Some(offset),
    };
    let mut records = record::list(&state.db, &campaign.id.to_string(), &filter)
        .await
        .map_err(record_error)?;
    let more = records.len() as i64 > limit;
    records.truncate(limit as usize);
    Ok(Json(RecordList { records, more, offset }))
}

fn record_error(e: RecordError) -> WebError {
    match e {
        RecordError::NotFound(_) => WebError::invalid("records", e.to_string()),
        RecordError::Forbidden { .. } => WebError::Forbidden(e.to_string()),
        RecordError::UnknownAgent(_) => WebError::invalid("agent", e.to_string()),
        RecordError::UnknownTeam(_) => WebError::invalid("team", e.to_string()),
        RecordError::Campaign(e) => campaign_error(e),
        e => WebError::Internal(e.into()),
    }
}

/// What an allocation takes: the records (by id, or the first `limit` in a status in
/// dialing order) and whom to (an agent, a team, or nobody: back to the common pool).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Allocation {
    /// Record ids.
    #[serde(default)]
    records: Vec<i64>,
    /// Or: records in this status...
    status: Option<String>,
    /// ...at most this many.
    limit: Option<i64>,
    /// To this agent (login).
    agent: Option<String>,
    /// To this team.
    team: Option<String>,
    /// To nobody.
    #[serde(default)]
    nobody: bool,
}

/// `POST /api/campaigns/{name}/records/assign`: allocates records to an agent or a team, each
/// change audited (admins, and supervisors of the campaign's teams); how many changed.
#[utoipa::path(post, path = "/api/campaigns/{name}/records/assign", tag = "sample", params(("name" = String, Path, description = "the campaign's name")), request_body = Allocation, responses((status = 200, description = "how many records were allocated", body = Object), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn assign(
    State(state): State<AppState>,
    user: Authed,
    Path(name): Path<String>,
    Json(allocation): Json<Allocation>,
) -> Result<Json<serde_json::Value>, WebError> {
    user.require(&[Role::Admin, Role::Supervisor])?;
    let campaign = visible_campaign(&state, &user, &name).await?;
    let nonempty = |s: &Option<String>| s.clone().filter(|s| !s.trim().is_empty());
    let to = match (
        nonempty(&allocation.agent),
        nonempty(&allocation.team),
        allocation.nobody,
    ) {
        (Some(agent), None, false) => Assignee::Agent(agent),
        (None, Some(team), false) => Assignee::Team(team),
        (None, None, true) => Assignee::Nobody,
        _ => {
            return Err(WebError::invalid(
                "agent",
                "say whom to allocate to: one of agent, team, or nobody",
            ));
        }
    };
    let ids = if allocation.records.is_empty() {
        let limit = allocation
            .limit
            .filter(|l| *l > 0)
            .ok_or_else(|| WebError::invalid("records", "give record ids, or a status and a limit"))?;
        let status = status_param(allocation.status.as_deref())?;
        record::ids_in_status(&state.db, campaign.id, status, limit)
            .await
            .map_err(record_error)?
    } else {
        for id in &allocation.records {
            let found = record::get(&state.db, *id).await.map_err(record_error)?;
            if found.campaign_id != campaign.id {
                return Err(WebError::invalid(
                    "records",
                    format!("record {id} is not in campaign '{}'", campaign.name),
                ));
            }
        }
        allocation.records.clone()
    };
    let by = users::find_user(&state.db, &user.session.login)
        .await
        .map_err(|e| WebError::Internal(e.into()))?
        .ok_or(WebError::Unauthenticated)?;
    let changed = record::assign(&state.db, &ids, &to, &by, state.clock.now())
        .await
        .map_err(record_error)?;
    Ok(Json(serde_json::json!({ "assigned": changed, "of": ids.len() })))
}
