//! What interviewers and supervisors look up (CATI-04, CATI-05): an interviewer's call
//! records, a record's interviews with their answers, an interviewer's counts for a day, and
//! the leaderboard (completes, hours logged in, completes per hour) for a period.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use paceline_dialer::store::Db;
use paceline_dialer::with_db;
use serde::Serialize;
use sqlx::types::Json;

/// One call an interviewer handled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallRecord {
    /// The attempt's id.
    pub attempt: i64,
    /// The campaign's name.
    pub campaign: String,
    /// The record called.
    pub record: i64,
    /// The number dialed.
    pub e164: String,
    /// When it was placed in the queue.
    pub queued_at: DateTime<Utc>,
    /// When the interviewer was connected.
    pub bridged_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// How it ended (`human`, `machine`, `busy`...).
    pub outcome: Option<String>,
    /// The disposition given.
    pub disposition: Option<String>,
}

type CallRow = (
    i64,
    String,
    i64,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<String>,
);

/// An interviewer's calls from `from` (inclusive) to `to` (exclusive), newest first.
pub async fn call_records(
    db: &Db,
    interviewer: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<CallRecord>, sqlx::Error> {
    let rows: Vec<CallRow> = with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT a.id, c.name, a.record_id, a.e164, a.queued_at, a.bridged_at, a.ended_at, a.outcome, a.disposition
             FROM attempts a JOIN campaigns c ON c.id = a.campaign_id
             WHERE a.agent_id = $1 AND a.queued_at >= $2 AND a.queued_at < $3
             ORDER BY a.queued_at DESC, a.id DESC LIMIT $4",
        )
        .bind(interviewer)
        .bind(from)
        .bind(to)
        .bind(limit)
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(
            |(attempt, campaign, record, e164, queued_at, bridged_at, ended_at, outcome, disposition)| CallRecord {
                attempt,
                campaign,
                record,
                e164,
                queued_at,
                bridged_at,
                ended_at,
                outcome,
                disposition,
            },
        )
        .collect())
}

/// One interview of a record, with its answers as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordInterview {
    /// The interview's id.
    pub interview: i64,
    /// The questionnaire's id and version.
    pub questionnaire: String,
    /// Its version label.
    pub version: String,
    /// Its state (`asking`, `suspended`, `complete`, `screened_out`, `terminated`).
    pub state: String,
    /// The interviewer, if any.
    pub interviewer: Option<i64>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// The answers on its route, by question.
    pub answers: BTreeMap<String, serde_json::Value>,
    /// Answers set aside by a change, by question.
    pub set_aside: BTreeMap<String, serde_json::Value>,
}

/// Answers by question, as stored.
type Answers = BTreeMap<String, serde_json::Value>;

type InterviewHead = (i64, String, String, String, Option<i64>, DateTime<Utc>);

/// A record's interviews, oldest first, with their answers.
pub async fn record_answers(db: &Db, record: i64) -> Result<Vec<RecordInterview>, sqlx::Error> {
    let heads: Vec<InterviewHead> = with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT i.id, v.key, v.version, i.state, i.interviewer_id, i.started_at
             FROM interviews i JOIN questionnaire_versions v ON v.id = i.questionnaire_version
             WHERE i.record_id = $1 ORDER BY i.started_at, i.id",
        )
        .bind(record)
        .fetch_all(pool)
        .await?
    });
    // Every answer of the record's interviews in one query.
    let rows: Vec<(i64, String, Json<serde_json::Value>, bool)> = with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT a.interview_id, a.question, a.value, a.set_aside FROM interview_answers a
             JOIN interviews i ON i.id = a.interview_id WHERE i.record_id = $1",
        )
        .bind(record)
        .fetch_all(pool)
        .await?
    });
    let mut answers_of: HashMap<i64, (Answers, Answers)> = HashMap::new();
    for (interview, question, value, aside) in rows {
        let (answers, set_aside) = answers_of.entry(interview).or_default();
        if aside {
            set_aside.insert(question, value.0);
        } else {
            answers.insert(question, value.0);
        }
    }
    let mut out = Vec::new();
    for (interview, questionnaire, version, state, interviewer, started_at) in heads {
        let (answers, set_aside) = answers_of.remove(&interview).unwrap_or_default();
        out.push(RecordInterview {
            interview,
            questionnaire,
            version,
            state,
            interviewer,
            started_at,
            answers,
            set_aside,
        });
    }
    Ok(out)
}

/// One interviewer's figures for a period: the day's counts, and a leaderboard row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tally {
    /// The interviewer.
    pub interviewer: i64,
    /// Their login.
    pub login: String,
    /// Calls they handled.
    pub calls: i64,
    /// Interviews they completed.
    pub completes: i64,
    /// Interviews that ended screened out.
    pub screened_out: i64,
    /// Hours logged in.
    pub hours: f64,
    /// Completes per hour logged in (none before a minute logged in).
    pub completes_per_hour: Option<f64>,
}

/// The state-change history of users, to count the time they were logged in.
type Change = (i64, DateTime<Utc>, String);

/// Hours each user was logged in between `from` and `to`, from their state changes.
fn logged_in_hours(changes: &[Change], from: DateTime<Utc>, to: DateTime<Utc>) -> HashMap<i64, f64> {
    let mut hours = HashMap::new();
    // Each user's state as of the latest change seen, and since when it counts.
    let mut current: HashMap<i64, (bool, DateTime<Utc>)> = HashMap::new();
    for (user, at, to_state) in changes {
        let logged_in = to_state != "logged_out";
        let at = (*at).clamp(from, to);
        if let Some((was_in, since)) = current.get(user)
            && *was_in
        {
            *hours.entry(*user).or_insert(0.0) += (at - *since).num_milliseconds() as f64 / 3_600_000.0;
        }
        current.insert(*user, (logged_in, at));
    }
    for (user, (logged_in, since)) in current {
        if logged_in {
            *hours.entry(user).or_insert(0.0) += (to - since).num_milliseconds() as f64 / 3_600_000.0;
        }
    }
    hours
}

/// Every interviewer's tally from `from` to `to`, on one campaign or all: calls handled,
/// completes, screen-outs, hours logged in, completes per hour; most completes first.
pub async fn leaderboard(
    db: &Db,
    campaign: Option<i64>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Tally>, sqlx::Error> {
    let calls: Vec<(i64, i64)> = with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT agent_id, COUNT(*) FROM attempts
             WHERE agent_id IS NOT NULL AND queued_at >= $1 AND queued_at < $2 AND ($3 IS NULL OR campaign_id = $3)
             GROUP BY agent_id",
        )
        .bind(from)
        .bind(to)
        .bind(campaign)
        .fetch_all(pool)
        .await?
    });
    let ended: Vec<(i64, String, i64)> = with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT i.interviewer_id, i.state, COUNT(*) FROM interviews i LEFT JOIN records r ON r.id = i.record_id
             WHERE i.interviewer_id IS NOT NULL AND i.state IN ('complete', 'screened_out')
               AND i.updated_at >= $1 AND i.updated_at < $2 AND ($3 IS NULL OR r.campaign_id = $3)
             GROUP BY i.interviewer_id, i.state",
        )
        .bind(from)
        .bind(to)
        .bind(campaign)
        .fetch_all(pool)
        .await?
    });
    let changes: Vec<Change> = with_db!(db, |pool| {
        sqlx::query_as("SELECT user_id, at, to_state FROM agent_state_changes WHERE at < $1 ORDER BY user_id, at, seq")
            .bind(to)
            .fetch_all(pool)
            .await?
    });
    let logins: Vec<(i64, String)> = with_db!(db, |pool| {
        sqlx::query_as("SELECT id, login FROM users").fetch_all(pool).await?
    });
    let hours = logged_in_hours(&changes, from, to);
    let mut tallies: BTreeMap<i64, Tally> = BTreeMap::new();
    let login_of: HashMap<i64, String> = logins.into_iter().collect();
    let fresh = |user: i64| Tally {
        interviewer: user,
        login: login_of.get(&user).cloned().unwrap_or_default(),
        calls: 0,
        completes: 0,
        screened_out: 0,
        hours: 0.0,
        completes_per_hour: None,
    };
    for (user, n) in calls {
        tallies.entry(user).or_insert_with(|| fresh(user)).calls = n;
    }
    for (user, state, n) in ended {
        let t = tallies.entry(user).or_insert_with(|| fresh(user));
        match state.as_str() {
            "complete" => t.completes = n,
            _ => t.screened_out = n,
        }
    }
    let mut out: Vec<Tally> = tallies
        .into_values()
        .map(|mut t| {
            t.hours = hours.get(&t.interviewer).copied().unwrap_or(0.0);
            t.completes_per_hour = (t.hours >= 1.0 / 60.0).then(|| t.completes as f64 / t.hours);
            t
        })
        .collect();
    out.sort_by(|a, b| b.completes.cmp(&a.completes).then(a.login.cmp(&b.login)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, h, m, 0).unwrap()
    }

    #[test]
    fn hours_logged_in_are_clipped_to_the_period() {
        let changes = vec![
            // Logged in before the period, out during it: 08:00-10:30 counts from 09:00.
            (1, at(8, 0), "ready".to_string()),
            (1, at(9, 30), "on_call".to_string()),
            (1, at(10, 30), "logged_out".to_string()),
            // In during the period and still in at its end.
            (2, at(11, 0), "ready".to_string()),
            // Out before the period.
            (3, at(7, 0), "ready".to_string()),
            (3, at(8, 0), "logged_out".to_string()),
        ];
        let hours = logged_in_hours(&changes, at(9, 0), at(12, 0));
        assert_eq!(hours[&1], 1.5);
        assert_eq!(hours[&2], 1.0);
        assert_eq!(hours.get(&3).copied().unwrap_or(0.0), 0.0);
    }
}
