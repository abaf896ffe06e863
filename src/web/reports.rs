//! Reports and survey data for analysts (issue 6): the reports page, where each report's chart
//! stands beside its table, and the API behind it: any report as JSON, CSV, XLSX or Parquet,
//! its chart as SVG or PNG, a survey campaign's answers (CSV, JSON, Parquet, XLSX, SPSS `.sav`)
//! and their codebook. The same reports and options as `paceline report` and `paceline
//! export`, refused with the same messages, the option at fault named as the field.
//!
//! Admins and analysts see everything; supervisors the reports of one of their teams'
//! campaigns (a report must name it) and the survey data of those campaigns; agents nothing.
//! Reading the store is async; building frames, encoding files and drawing charts is CPU work
//! and runs on tokio's blocking threads, so a big report does not hold up other requests.

use std::path::Path as FilePath;

use axum::Json;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use paceline_analytics::export::{self, Format};
use paceline_analytics::facts::Filter;
use paceline_analytics::period::{Interval, Period};
use paceline_analytics::record_filter::{self, FieldCondition};
use paceline_analytics::survey::facts::{self as survey_facts, Which};
use paceline_analytics::survey::{codebook, dataset};
use paceline_analytics::{Grouping, REPORTS, ReportError, labelled, report_chart, sav, sss};
use paceline_dialer::users::Role;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::admin::visible_campaign;
use super::auth::{Authed, Me, PageUser};
use super::error::{PageError, WebError};

/// Who may read reports and survey data.
const READERS: [Role; 3] = [Role::Admin, Role::Analyst, Role::Supervisor];

/// `GET /reports`: the reports page (admins, analysts, supervisors); its script drives the API
/// below.
pub async fn page(State(state): State<AppState>, PageUser(user): PageUser) -> Result<Html<String>, PageError> {
    user.require(&READERS)?;
    let today = now(&state).await.date_naive();
    let everything = user.session.has(Role::Admin) || user.session.has(Role::Analyst);
    Ok(Html(state.pages.render(
        "reports.html",
        minijinja::context! {
            user => Me::from(&user.session),
            today => today.to_string(),
            week_ago => (today - Duration::days(6)).to_string(),
            all_campaigns => everything,
        },
    )))
}

/// A report as the list shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportInfo {
    /// Its name, as in `/api/reports/{name}` and `paceline report NAME`.
    pub name: &'static str,
    /// What it shows, in a line.
    pub about: &'static str,
    /// The query options it reads (from, to, campaign, team, agent, where, period, interval,
    /// time_zone).
    pub options: Vec<&'static str>,
    /// Whether it is about one survey campaign, which must be named.
    pub needs_campaign: bool,
    /// The chart drawn beside it: line, pie, or none.
    pub chart: Option<&'static str>,
}

/// What each report is, the options it reads, and its chart.
fn about(name: &'static str) -> ReportInfo {
    const RANGE: [&str; 6] = ["from", "to", "campaign", "team", "agent", "where"];
    // Reports that group by time follow a time zone's clock.
    let with = |extra: &[&'static str]| {
        let timed = extra.contains(&"period") || extra.contains(&"interval");
        RANGE
            .iter()
            .chain(extra)
            .chain(timed.then_some(&"time_zone"))
            .copied()
            .collect::<Vec<_>>()
    };
    let (about, options, chart) = match name {
        "agent-productivity" => (
            "per agent and period: time ready, not ready (by reason), talking and in wrap-up; occupancy, dials, contacts, completes per hour",
            // Time in states belongs to no record: no `where`.
            vec!["from", "to", "campaign", "team", "agent", "period", "time_zone"],
            Some("pie"),
        ),
        "dialer" => (
            "per campaign and interval: dials, person answers, machines, abandons and the abandon rate, talk, ring and hold times, agent hours, contacts per agent hour and the dial level; the abandon rate over the campaign's compliance window against its ceiling",
            with(&["interval"]),
            Some("line"),
        ),
        "calls" => (
            "the call log: each call placed, with its number, agent, dial, answer, bridge and end times, the seconds it rang, a person held for an agent and talked, its outcome and disposition",
            with(&["time_zone"]),
            Some("histogram"),
        ),
        "dispositions" => (
            "per campaign: the dispositions agents gave, with their share",
            with(&[]),
            Some("pie"),
        ),
        "callbacks" => (
            "per campaign and period: callbacks booked, dialed, reached and completed",
            with(&["period"]),
            Some("line"),
        ),
        "return-visits" => (
            "per campaign and period: return visits drawn, due, done, done late and overdue",
            with(&["period"]),
            Some("line"),
        ),
        "quotas" => (
            "one survey campaign's quota cells as they stand: target, completes, in progress, remaining",
            vec!["campaign"],
            Some("pie"),
        ),
        "aapor" => (
            "one survey campaign's AAPOR case counts and response, cooperation, refusal and contact rates",
            vec!["campaign", "where"],
            None,
        ),
        "interview-length" => (
            "one survey campaign's completed interviews by length in minutes, of those started in the range",
            vec!["campaign", "from", "to", "where"],
            Some("line"),
        ),
        _ => (
            "one survey campaign's questions in order: interviews that reached each, and broke off there",
            vec!["campaign", "from", "to", "where"],
            Some("line"),
        ),
    };
    ReportInfo {
        name,
        about,
        options,
        needs_campaign: paceline_analytics::SURVEY_REPORTS.contains(&name),
        chart,
    }
}

/// `GET /api/reports`: the reports there are, each with a line on what it shows, the query
/// options it reads, whether it needs a campaign, and its chart (admins, analysts,
/// supervisors).
#[utoipa::path(get, path = "/api/reports", tag = "reports", responses((status = 200, body = Vec<ReportInfo>), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it", body = crate::web::error::ErrorBody)))]
pub async fn list(user: Authed) -> Result<Json<Vec<ReportInfo>>, WebError> {
    user.require(&READERS)?;
    Ok(Json(REPORTS.into_iter().map(about).collect()))
}

/// A report's query: the same options as `paceline report`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// From this day (YYYY-MM-DD, UTC) or time (RFC 3339); default: 7 days before `to`.
    from: Option<String>,
    /// Up to this day (inclusive) or time (exclusive); default and at the latest: now.
    to: Option<String>,
    /// Only this campaign (a supervisor must name one of their teams').
    campaign: Option<String>,
    /// Only the agents of this team.
    team: Option<String>,
    /// Only this agent (login).
    agent: Option<String>,
    /// agent-productivity, callbacks, return-visits: per day (default), week, month or year.
    period: Option<String>,
    /// dialer: per 15m, hour (default) or day.
    interval: Option<String>,
    /// The time zone whose days and hours the report follows and shows, an IANA name
    /// (default UTC); `from` and `to` days are its days.
    time_zone: Option<String>,
    /// json (default), csv, xlsx or parquet.
    format: Option<String>,
}

/// How a chart is drawn.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Picture {
    /// svg (default) or png.
    image: Option<String>,
    /// Width in pixels (default 720; 240 to 4096).
    width: Option<String>,
    /// Height in pixels (default 420; 160 to 4096).
    height: Option<String>,
}

/// A report as JSON: its columns, and its rows as typed values (numbers, text, null).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportTable {
    /// The report's name.
    pub report: String,
    /// The range it covers, from (inclusive).
    pub from: DateTime<Utc>,
    /// To (exclusive).
    pub to: DateTime<Utc>,
    /// The column names, in order.
    pub columns: Vec<String>,
    /// The rows, each with one value per column.
    #[schema(value_type = Vec<Vec<Object>>)]
    pub rows: Vec<Vec<serde_json::Value>>,
    /// Whether `/api/reports/{name}/chart` draws this report.
    pub chart: bool,
}

/// `GET /api/reports/{name}`: a report over the stored facts, with the options of `paceline
/// report`, as JSON (`{report, from, to, columns, rows, chart}`) or, with
/// `format=csv|xlsx|parquet`, as a file to save (admins and analysts; supervisors naming a
/// campaign of their teams). An unknown report or a bad option is a 422 naming the field; a
/// filter that matches nothing is a 422 without one.
#[utoipa::path(get, path = "/api/reports/{name}", tag = "reports", params(("name" = String, Path, description = "the report: agent-productivity, dialer, calls, dispositions, callbacks, return-visits, quotas, aapor, interview-length, drop-off"), ("where" = Option<Vec<String>>, Query, description = "only records whose field passes this condition; repeat to combine: FIELD=VALUE, FIELD!=VALUE, FIELD~TEXT (contains, ignoring case), FIELD<VALUE, <=, >, >="), ReportQuery), responses((status = 200, description = "the report", content((ReportTable = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (Vec<u8> = "application/vnd.apache.parquet"))), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the campaign is not the supervisor's", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn report(
    State(state): State<AppState>,
    user: Authed,
    Path(name): Path<String>,
    Query(query): Query<ReportQuery>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let format = match given(&query.format).unwrap_or("json") {
        "json" => None,
        "csv" => Some(Format::Csv),
        "xlsx" => Some(Format::Xlsx),
        "parquet" => Some(Format::Parquet),
        other => {
            return Err(WebError::invalid(
                "format",
                format!("'{other}' is not a report format: json, csv, xlsx or parquet"),
            ));
        }
    };
    let request = ReportRequest::read(&state, &user, name, &query, raw.as_deref()).await?;
    let file = request.file_name(format.map_or("json", extension));
    let handle = tokio::runtime::Handle::current();
    let db = state.db.clone();
    blocking(move || {
        let mut frame = handle
            .block_on(paceline_analytics::run(
                &db,
                &request.name,
                &request.filter,
                request.grouping,
            ))
            .map_err(report_error)?;
        let Some(format) = format else {
            let columns: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
            let chart = report_chart::chart_in(&request.name, &frame, request.grouping.zone).is_some();
            let json = file_bytes(Format::Json, |format, path| {
                export::write_file(&mut frame, format, path)
            })?;
            let rows = json_rows(&columns, &json)?;
            return Ok(Json(ReportTable {
                report: request.name,
                from: request.filter.from,
                to: request.filter.to,
                columns,
                rows,
                chart,
            })
            .into_response());
        };
        let bytes = file_bytes(format, |format, path| export::write_file(&mut frame, format, path))?;
        Ok(attachment(content_type(format), &file, bytes))
    })
    .await
}

/// `GET /api/reports/{name}/chart`: the chart that goes beside a report's table (a line or a
/// pie, chosen per report) for the same query, as SVG or PNG (admins and analysts; supervisors
/// naming a campaign of their teams). A report without a chart (aapor), or with nothing to
/// draw, is a 422 naming `report`.
#[utoipa::path(get, path = "/api/reports/{name}/chart", tag = "reports", params(("name" = String, Path, description = "the report"), ("where" = Option<Vec<String>>, Query, description = "only records whose field passes this condition; repeat to combine: FIELD=VALUE, FIELD!=VALUE, FIELD~TEXT (contains, ignoring case), FIELD<VALUE, <=, >, >="), ReportQuery, Picture), responses((status = 200, description = "the chart", content((String = "image/svg+xml"), (Vec<u8> = "image/png"))), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the campaign is not the supervisor's", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn chart(
    State(state): State<AppState>,
    user: Authed,
    Path(name): Path<String>,
    Query(query): Query<ReportQuery>,
    Query(picture): Query<Picture>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let png = match given(&picture.image).unwrap_or("svg") {
        "svg" => false,
        "png" => true,
        other => {
            return Err(WebError::invalid(
                "image",
                format!("'{other}' is not an image format: svg or png"),
            ));
        }
    };
    let pixels = |value: &Option<String>, field: &str, default: u32| match given(value) {
        None => Ok(default),
        Some(text) => text
            .parse::<u32>()
            .map_err(|_| WebError::invalid(field, format!("{field} '{text}' is not a number of pixels"))),
    };
    let (width, height) = (
        pixels(&picture.width, "width", 720)?,
        pixels(&picture.height, "height", 420)?,
    );
    let request = ReportRequest::read(&state, &user, name, &query, raw.as_deref()).await?;
    let handle = tokio::runtime::Handle::current();
    let db = state.db.clone();
    blocking(move || {
        let frame = handle
            .block_on(paceline_analytics::run(
                &db,
                &request.name,
                &request.filter,
                request.grouping,
            ))
            .map_err(report_error)?;
        let Some(chart) = report_chart::chart_in(&request.name, &frame, request.grouping.zone) else {
            return Err(WebError::invalid(
                "report",
                format!(
                    "the {} report has no chart (or nothing to draw); its table says it all",
                    request.name
                ),
            ));
        };
        let drawn = if png {
            chart
                .png(width, height)
                .map(|bytes| ([(header::CONTENT_TYPE, "image/png")], bytes).into_response())
        } else {
            chart
                .svg(width, height)
                .map(|svg| ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
        };
        drawn.map_err(|e| match e {
            paceline_analytics::chart::ChartError::Invalid { .. } => WebError::invalid("width", e.to_string()),
            e => WebError::Internal(e.into()),
        })
    })
    .await
}

/// A report request checked: a known report, options that parse, a campaign the user may see.
struct ReportRequest {
    name: String,
    filter: Filter,
    grouping: Grouping,
}

impl ReportRequest {
    async fn read(
        state: &AppState,
        user: &Authed,
        name: String,
        query: &ReportQuery,
        raw: Option<&str>,
    ) -> Result<Self, WebError> {
        user.require(&READERS)?;
        let records = record_conditions(raw)?;
        if !REPORTS.contains(&name.as_str()) {
            return Err(report_error(ReportError::UnknownReport(name)));
        }
        let period: Period = option(&query.period, "period", "day")?;
        let interval: Interval = option(&query.interval, "interval", "hour")?;
        let zone: chrono_tz::Tz = match given(&query.time_zone) {
            None => chrono_tz::UTC,
            Some(text) => text.parse().map_err(|_| {
                WebError::invalid(
                    "time_zone",
                    format!(
                        "'{text}' is not a time zone: give an IANA name such as UTC, Europe/London or America/New_York"
                    ),
                )
            })?,
        };
        // Nothing has happened after now: an agent's last state runs to now at the latest.
        let now = now(state).await;
        let to = match given(&query.to) {
            Some(text) => instant_in("to", text, true, zone)?.min(now),
            None => now,
        };
        let from = match given(&query.from) {
            Some(text) => instant_in("from", text, false, zone)?,
            None => to - Duration::days(7),
        };
        let campaign = match given(&query.campaign) {
            Some(name) => Some(visible_campaign(state, user, name).await?.name),
            None if user.session.has(Role::Admin) || user.session.has(Role::Analyst) => None,
            None => {
                return Err(WebError::invalid(
                    "campaign",
                    "a supervisor's reports are about one of their teams' campaigns: choose the campaign",
                ));
            }
        };
        Ok(ReportRequest {
            name,
            filter: Filter {
                from,
                to,
                campaign,
                team: given(&query.team).map(str::to_string),
                agent: given(&query.agent).map(str::to_string),
                records,
            },
            grouping: Grouping { period, interval, zone },
        })
    }

    /// The file's name: the report, its campaign, and the last day it covers.
    fn file_name(&self, extension: &str) -> String {
        let last_day = (self.filter.to - Duration::milliseconds(1)).date_naive();
        let campaign = self
            .filter
            .campaign
            .as_deref()
            .map(|c| format!("-{}", safe_name(c)))
            .unwrap_or_default();
        format!("{}{campaign}-{last_day}.{extension}", self.name)
    }
}

/// Which interviews, and which variables: the options of `paceline export`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SurveyQuery {
    /// answers: csv (default), json, parquet, xlsx, sav (SPSS) or sss (triple-S: its XML and
    /// data files in a ZIP archive); codebook: html (default) or md.
    format: Option<String>,
    /// all (default), complete or partial interviews.
    interviews: Option<String>,
    /// answers as CSV, JSON, XLSX or Parquet: choices as their labels instead of their codes
    /// (true or false, the default).
    labels: Option<String>,
    /// Interviews started from this day (YYYY-MM-DD, UTC) or time (RFC 3339).
    from: Option<String>,
    /// Interviews started up to this day (inclusive) or time (exclusive).
    to: Option<String>,
    /// Only these sample fields, comma-separated (default: all the campaign's fields).
    fields: Option<String>,
    /// The language of the labels (default: the questionnaire's first).
    language: Option<String>,
}

/// `GET /api/campaigns/{name}/answers`: a survey campaign's answers, one row per interview with
/// its sample fields and paradata, as `paceline export answers` writes them: CSV, JSON, Parquet,
/// XLSX, SPSS `.sav` or triple-S (zipped), as a file to save (admins, analysts, and supervisors of the campaign's
/// teams). A campaign without such interviews is a 422.
#[utoipa::path(get, path = "/api/campaigns/{name}/answers", tag = "reports", params(("name" = String, Path, description = "the campaign's name"), ("where" = Option<Vec<String>>, Query, description = "only records whose field passes this condition; repeat to combine: FIELD=VALUE, FIELD!=VALUE, FIELD~TEXT (contains, ignoring case), FIELD<VALUE, <=, >, >="), SurveyQuery), responses((status = 200, description = "the answers", content((String = "text/csv"), (Object = "application/json"), (Vec<u8> = "application/vnd.apache.parquet"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (Vec<u8> = "application/x-spss-sav"), (Vec<u8> = "application/zip"))), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the campaign is not the supervisor's", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn answers(
    State(state): State<AppState>,
    user: Authed,
    Path(name): Path<String>,
    Query(query): Query<SurveyQuery>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    user.require(&READERS)?;
    // The formats the frame writer does not write: SPSS, and triple-S's two files zipped.
    enum Own {
        Sav,
        Sss,
    }
    let format = match given(&query.format).unwrap_or("csv") {
        "sav" => Err(Own::Sav),
        "sss" => Err(Own::Sss),
        "csv" => Ok(Format::Csv),
        "json" => Ok(Format::Json),
        "parquet" => Ok(Format::Parquet),
        "xlsx" => Ok(Format::Xlsx),
        other => {
            return Err(WebError::invalid(
                "format",
                format!("'{other}' is not an answers format: csv, json, parquet, xlsx, sav or sss"),
            ));
        }
    };
    let labels = match given(&query.labels).unwrap_or("false") {
        "true" | "on" | "1" | "yes" => true,
        "false" | "off" | "0" | "no" => false,
        other => return Err(WebError::invalid("labels", format!("'{other}' is not true or false"))),
    };
    let selection = Selection::read(&state, &user, &name, &query, raw.as_deref()).await?;
    let file = selection.file_name(
        "answers",
        match &format {
            Ok(format) => extension(*format),
            Err(Own::Sav) => "sav",
            Err(Own::Sss) => "zip",
        },
    );
    blocking(move || {
        let built = selection.build()?;
        let data = &built.dataset;
        let format = match format {
            Ok(format) => format,
            Err(Own::Sav) => {
                let mut bytes = Vec::new();
                sav::write(data, &mut bytes).map_err(|e| WebError::invalid("format", e.to_string()))?;
                return Ok(attachment("application/x-spss-sav", &file, bytes));
            }
            Err(Own::Sss) => {
                let base = file.trim_end_matches(".zip");
                let bytes = sss::zip(data, base).map_err(|e| WebError::invalid("format", e.to_string()))?;
                return Ok(attachment("application/zip", &file, bytes));
            }
        };
        let mut frame = labelled::frame(data, labels).map_err(|e| report_error(e.into()))?;
        let bytes = file_bytes(format, |format, path| export::write_file(&mut frame, format, path))?;
        Ok(attachment(content_type(format), &file, bytes))
    })
    .await
}

/// `GET /api/campaigns/{name}/codebook`: the codebook of a survey campaign's answers
/// (variables, labels, codes, routing, counts), as `paceline export codebook` writes it: an
/// HTML page (the default) or Markdown to save (`format=md`), for the same choice of
/// interviews as the answers (admins, analysts, and supervisors of the campaign's teams).
#[utoipa::path(get, path = "/api/campaigns/{name}/codebook", tag = "reports", params(("name" = String, Path, description = "the campaign's name"), ("where" = Option<Vec<String>>, Query, description = "only records whose field passes this condition; repeat to combine: FIELD=VALUE, FIELD!=VALUE, FIELD~TEXT (contains, ignoring case), FIELD<VALUE, <=, >, >="), SurveyQuery), responses((status = 200, description = "the codebook", content((String = "text/html"), (String = "text/markdown"))), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the campaign is not the supervisor's", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn codebook(
    State(state): State<AppState>,
    user: Authed,
    Path(name): Path<String>,
    Query(query): Query<SurveyQuery>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    user.require(&READERS)?;
    let html = match given(&query.format).unwrap_or("html") {
        "html" => true,
        "md" | "markdown" => false,
        other => {
            return Err(WebError::invalid(
                "format",
                format!("'{other}' is not a codebook format: html or md"),
            ));
        }
    };
    let selection = Selection::read(&state, &user, &name, &query, raw.as_deref()).await?;
    let file = selection.file_name("codebook", "md");
    blocking(move || {
        let built = selection.build()?;
        if html {
            // The page is the codebook alone: no scripts, no requests, only its own styles.
            Ok((
                [
                    (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                    (
                        header::CONTENT_SECURITY_POLICY,
                        "default-src 'none'; style-src 'unsafe-inline'",
                    ),
                ],
                codebook::html(&built.dataset),
            )
                .into_response())
        } else {
            Ok(attachment(
                "text/markdown; charset=utf-8",
                &file,
                codebook::markdown(&built.dataset).into_bytes(),
            ))
        }
    })
    .await
}

/// A campaign's interviews read from the store, with the options of the data set built from
/// them.
struct Selection {
    facts: survey_facts::SurveyFacts,
    options: dataset::Options,
    ranged: bool,
    which: Which,
    /// The day it was read, for file names.
    day: NaiveDate,
}

impl Selection {
    async fn read(
        state: &AppState,
        user: &Authed,
        name: &str,
        query: &SurveyQuery,
        raw: Option<&str>,
    ) -> Result<Self, WebError> {
        let records = record_conditions(raw)?;
        let campaign = visible_campaign(state, user, name).await?;
        let which: Which = option(&query.interviews, "interviews", "all")?;
        let range = match (given(&query.from), given(&query.to)) {
            (None, None) => None,
            (from, to) => {
                let to = match to {
                    Some(text) => instant("to", text, true)?,
                    None => now(state).await,
                };
                let from = match from {
                    Some(text) => instant("from", text, false)?,
                    None => DateTime::<Utc>::UNIX_EPOCH,
                };
                if from >= to {
                    return Err(WebError::invalid(
                        "to",
                        format!("the range ends ({to}) before it starts ({from})"),
                    ));
                }
                Some((from, to))
            }
        };
        let mut facts = survey_facts::read(&state.db, &campaign.name, which, range)
            .await
            .map_err(report_error)?;
        record_filter::restrict(&state.db, &mut facts, &records, "where")
            .await
            .map_err(report_error)?;
        let fields = given(&query.fields).map(|f| {
            f.split(',')
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .map(str::to_string)
                .collect()
        });
        Ok(Selection {
            facts,
            options: dataset::Options {
                language: given(&query.language).map(str::to_string),
                fields,
            },
            ranged: range.is_some(),
            which,
            day: state.clock.now().date_naive(),
        })
    }

    /// The data set; a campaign without such interviews is refused, as the CLI refuses it.
    fn build(&self) -> Result<dataset::Built, WebError> {
        if self.facts.interviews.is_empty() {
            return Err(report_error(ReportError::Empty(format!(
                "campaign '{}' has no {}interviews{}",
                self.facts.campaign.name,
                match self.which {
                    Which::All => "",
                    Which::Complete => "complete ",
                    Which::Partial => "partial ",
                },
                if self.ranged { " started in that range" } else { "" }
            ))));
        }
        dataset::build(&self.facts, &self.options).map_err(report_error)
    }

    /// The file's name: the campaign, what it holds, and the day it was read.
    fn file_name(&self, what: &str, extension: &str) -> String {
        format!(
            "{}-{what}-{}.{extension}",
            safe_name(&self.facts.campaign.name),
            self.day
        )
    }
}

/// Now, for the reports: the later of the wall clock and the live world's clock. The demo's
/// simulated world may start ahead of the wall clock (at the next calling hour of its
/// respondents) and dates its facts in its own time.
async fn now(state: &AppState) -> DateTime<Utc> {
    let wall = state.clock.now();
    let Some(live) = &state.live else { return wall };
    let Some((campaign, _)) = live.campaign(None) else {
        return wall;
    };
    match live.wallboard(*campaign).await {
        Ok(board) => board.now.max(wall),
        Err(_) => wall,
    }
}

/// A query value, with empty ones (an empty form field) taken as not given.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A query option parsed, or its default; its parse error names the field.
fn option<T: std::str::FromStr<Err = String>>(
    value: &Option<String>,
    field: &str,
    default: &str,
) -> Result<T, WebError> {
    given(value)
        .unwrap_or(default)
        .parse()
        .map_err(|e: String| WebError::invalid(field, e))
}

/// A day (its midnight, or the next midnight when it ends a range, so the day is included) or
/// an RFC 3339 time.
fn instant(field: &str, text: &str, end: bool) -> Result<DateTime<Utc>, WebError> {
    instant_in(field, text, end, chrono_tz::UTC)
}

/// [`instant`] with days of `zone` (their local midnight).
fn instant_in(field: &str, text: &str, end: bool, zone: chrono_tz::Tz) -> Result<DateTime<Utc>, WebError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        WebError::invalid(
            field,
            format!("{field} '{text}': give a day (2026-11-30) or a time (2026-11-30T09:00:00Z)"),
        )
    })?;
    let day = if end { day.succ_opt().unwrap_or(day) } else { day };
    Ok(paceline_analytics::period::midnight_in(zone, day))
}

/// A report refusal as the client needs it: the option at fault as the field (`--format xlsx`
/// is `format`); an empty result has no field at fault, the whole filter matched nothing.
fn report_error(e: ReportError) -> WebError {
    match e {
        ReportError::UnknownReport(_) => WebError::invalid("report", e.to_string()),
        ReportError::BadOption { option, message } => {
            let field = option.trim_start_matches('-').split(' ').next().unwrap_or_default();
            WebError::invalid(field, message)
        }
        ReportError::Empty(_) => WebError::Invalid {
            message: e.to_string(),
            field: None,
        },
        e => WebError::Internal(e.into()),
    }
}

/// The record-field conditions of a query string: every `where` parameter (it may be repeated).
fn record_conditions(raw: Option<&str>) -> Result<Vec<FieldCondition>, WebError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw.unwrap_or_default()).map_err(|e| WebError::invalid("where", e.to_string()))?;
    pairs
        .into_iter()
        .filter(|(key, value)| key == "where" && !value.trim().is_empty())
        .map(|(_, value)| value.parse().map_err(|why: String| WebError::invalid("where", why)))
        .collect()
}

/// Runs CPU work (Polars, encoders, drawing) on a blocking thread.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, WebError> + Send + 'static,
) -> Result<T, WebError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| WebError::Internal(e.into()))?
}

/// A frame's file in `format`, through the analytics crate's writer into a temporary folder:
/// the writer takes a path (it writes whole files or none), and the app does not link Polars
/// itself to write into memory.
fn file_bytes(
    format: Format,
    write: impl FnOnce(Format, &FilePath) -> Result<(), ReportError>,
) -> Result<Vec<u8>, WebError> {
    let dir = tempfile::tempdir().map_err(|e| WebError::Internal(e.into()))?;
    let path = dir.path().join(format!("frame.{}", extension(format)));
    write(format, &path).map_err(report_error)?;
    std::fs::read(&path).map_err(|e| WebError::Internal(e.into()))
}

/// The rows of a frame written as JSON (an array of objects), in the order of `columns`.
fn json_rows(columns: &[String], json: &[u8]) -> Result<Vec<Vec<serde_json::Value>>, WebError> {
    let objects: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_slice(json).map_err(|e| WebError::Internal(e.into()))?;
    Ok(objects
        .into_iter()
        .map(|mut object| {
            columns
                .iter()
                .map(|c| object.remove(c).unwrap_or(serde_json::Value::Null))
                .collect()
        })
        .collect())
}

fn extension(format: Format) -> &'static str {
    match format {
        Format::Table => "txt",
        Format::Csv => "csv",
        Format::Json => "json",
        Format::Parquet => "parquet",
        Format::Xlsx => "xlsx",
    }
}

fn content_type(format: Format) -> &'static str {
    match format {
        Format::Table => "text/plain; charset=utf-8",
        Format::Csv => "text/csv; charset=utf-8",
        Format::Json => "application/json",
        Format::Parquet => "application/vnd.apache.parquet",
        Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
}

/// A file to save, under `name`.
fn attachment(content_type: &'static str, name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response()
}

/// A campaign's name as it can go in a file name (and a header): letters, digits, `-`, `_`
/// and `.` kept, anything else `_`.
fn safe_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_include_the_last_and_times_are_taken_as_given() {
        assert_eq!(
            instant("to", "2026-11-30", true).unwrap().to_rfc3339(),
            "2026-12-01T00:00:00+00:00"
        );
        assert_eq!(
            instant("from", "2026-11-30", false).unwrap().to_rfc3339(),
            "2026-11-30T00:00:00+00:00"
        );
        assert_eq!(
            instant("from", "2026-11-30T09:30:00+01:00", false)
                .unwrap()
                .to_rfc3339(),
            "2026-11-30T08:30:00+00:00"
        );
        let WebError::Invalid { field, message } = instant("from", "30/11/2026", false).unwrap_err() else {
            panic!("not a refusal of the input")
        };
        assert_eq!(field.as_deref(), Some("from"));
        assert!(message.contains("give a day (2026-11-30)"), "{message}");
    }

    #[test]
    fn options_at_fault_are_named_without_dashes() {
        let field = |e: ReportError| match report_error(e) {
            WebError::Invalid { field, .. } => field,
            other => panic!("{other}"),
        };
        let bad = |option: &str| ReportError::BadOption {
            option: option.into(),
            message: "wrong".into(),
        };
        assert_eq!(field(bad("--to")).as_deref(), Some("to"));
        assert_eq!(field(bad("--format xlsx")).as_deref(), Some("format"));
        assert_eq!(field(ReportError::UnknownReport("x".into())).as_deref(), Some("report"));
        assert_eq!(field(ReportError::Empty("nothing".into())), None);
    }

    #[test]
    fn json_rows_follow_the_columns_with_nulls_kept() {
        let rows = json_rows(
            &["b".into(), "a".into()],
            br#"[{"a": 1, "b": "x"}, {"a": null, "b": "y"}]"#,
        )
        .unwrap();
        assert_eq!(
            rows,
            [
                vec![serde_json::json!("x"), serde_json::json!(1)],
                vec![serde_json::json!("y"), serde_json::Value::Null]
            ]
        );
    }

    #[test]
    fn file_names_keep_only_safe_characters() {
        assert_eq!(safe_name("demo survey/\"2\""), "demo_survey__2_");
    }
}
