//! What interviewers look up (CATI-04, CATI-05): their calls, a record's interviews and
//! answers, today's counts and the leaderboard (today or this week).

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Datelike, Duration, Utc};
use paceline_cati::lookups::{self, CallRecord, RecordInterview, Tally};
use paceline_dialer::campaign::store as campaigns;
use paceline_dialer::users::Role;
use serde::Deserialize;

use super::AppState;
use super::api::may_see;
use super::auth::Authed;
use super::error::WebError;

fn internal(e: impl Into<anyhow::Error>) -> WebError {
    WebError::Internal(e.into())
}

/// The start of today (UTC), and of this week (Monday).
fn period_start(period: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, WebError> {
    let today = now.date_naive().and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    match period {
        "today" => Ok(today),
        "week" => Ok(today - Duration::days(i64::from(now.weekday().num_days_from_monday()))),
        other => Err(WebError::invalid(
            "period",
            format!("'{other}' is not a period: today or week"),
        )),
    }
}

/// `GET /api/agent/calls`: the signed-in agent's calls today, newest first.
#[utoipa::path(get, path = "/api/agent/calls", tag = "agent desktop", responses((status = 200, description = "the agent's calls today, newest first", body = Vec<Object>), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody)))]
pub async fn my_calls(State(state): State<AppState>, user: Authed) -> Result<Json<Vec<CallRecord>>, WebError> {
    user.require(&[Role::Agent])?;
    let now = state.clock.now();
    let from = period_start("today", now)?;
    let calls = lookups::call_records(&state.db, user.session.user, from, now + Duration::days(1), 200)
        .await
        .map_err(internal)?;
    Ok(Json(calls))
}

/// `GET /api/records/{id}/answers`: a record's interviews with their answers, for those who
/// may see its campaign.
#[utoipa::path(get, path = "/api/records/{record}/answers", tag = "records", params(("record" = i64, Path, description = "the record's id")), responses((status = 200, description = "the record's interviews, each with its answers", body = Vec<Object>), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn record_answers(
    State(state): State<AppState>,
    user: Authed,
    Path(record): Path<i64>,
) -> Result<Json<Vec<RecordInterview>>, WebError> {
    let campaign: Option<i64> = paceline_dialer::with_db!(&state.db, |pool| {
        sqlx::query_scalar("SELECT campaign_id FROM records WHERE id = $1")
            .bind(record)
            .fetch_optional(pool)
            .await
            .map_err(internal)?
    });
    let campaign = campaign.ok_or_else(|| WebError::invalid("record", format!("there is no record {record}")))?;
    let campaign = campaigns::find(&state.db, &campaign.to_string())
        .await
        .map_err(internal)?;
    if !may_see(&user, &campaign) {
        return Err(WebError::Forbidden(format!(
            "'{}' may not see the records of campaign '{}'",
            user.session.login, campaign.name
        )));
    }
    Ok(Json(
        lookups::record_answers(&state.db, record).await.map_err(internal)?,
    ))
}

/// The leaderboard's query.
#[derive(Debug, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
pub struct Board {
    /// `today` (default) or `week`.
    period: Option<String>,
    /// A campaign's name (default: all).
    campaign: Option<String>,
}

/// `GET /api/leaderboard?period=today|week&campaign=NAME`: interviewers by completes, with
/// calls, screen-outs, hours logged in and completes per hour.
#[utoipa::path(get, path = "/api/leaderboard", tag = "agent desktop", params(Board), responses((status = 200, description = "interviewers by completes, with calls, screen-outs, hours logged in and completes per hour", body = Vec<Object>), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn leaderboard(
    State(state): State<AppState>,
    user: Authed,
    Query(query): Query<Board>,
) -> Result<Json<Vec<Tally>>, WebError> {
    let now = state.clock.now();
    let from = period_start(query.period.as_deref().unwrap_or("today"), now)?;
    let campaign = match &query.campaign {
        Some(name) => {
            let campaign = campaigns::find(&state.db, name)
                .await
                .map_err(|e| WebError::invalid("campaign", e.to_string()))?;
            if !may_see(&user, &campaign) {
                return Err(WebError::Forbidden(format!(
                    "'{}' may not see campaign '{}'",
                    user.session.login, campaign.name
                )));
            }
            Some(campaign.id)
        }
        None => None,
    };
    Ok(Json(
        lookups::leaderboard(&state.db, campaign, from, now)
            .await
            .map_err(internal)?,
    ))
}
