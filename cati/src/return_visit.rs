//! Return visits (CATI-10): records drawn by a rule, such as customers seven days after their
//! delivery, assigned to interviewers in turn with a deadline; a visit not done by its
//! deadline is overdue. Assigning a visit also assigns its record to the interviewer, so the
//! dialer offers the call to them.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use paceline_dialer::store::{Db, WriteTx};
use paceline_dialer::with_db;
use serde::Serialize;
use sqlx::types::Json;

/// Which records a rule draws, and by when their visit is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// The record field holding the date the rule counts from (YYYY-MM-DD), e.g.
    /// `delivered_on`.
    pub field: String,
    /// Draw a record this many days after that date.
    pub after_days: i64,
    /// The visit is due this many days after it is drawn.
    pub deadline_days: i64,
}

impl Rule {
    /// The rule's name as stored with each visit it drew: `FIELD+DAYS`.
    pub fn name(&self) -> String {
        format!("{}+{}", self.field, self.after_days)
    }

    /// Whether a record whose field says `date` is due to be drawn on `today`.
    pub fn draws(&self, date: NaiveDate, today: NaiveDate) -> bool {
        date + Duration::days(self.after_days) <= today
    }
}

/// A rule that cannot draw.
#[derive(Debug, thiserror::Error)]
pub enum ReturnVisitError {
    /// The store refused a statement.
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    /// A day count out of range.
    #[error("{what} is {value}: it must be from 0 to 365 days")]
    Days {
        /// Which count.
        what: &'static str,
        /// Its value.
        value: i64,
    },
    /// Nobody to assign the visits to.
    #[error("the campaign has no agents to assign return visits to")]
    NoAgents,
}

/// One return visit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReturnVisit {
    /// Its id.
    pub id: i64,
    /// The record to call back.
    pub record: i64,
    /// The rule that drew it.
    pub rule: String,
    /// The interviewer it is assigned to.
    pub agent: Option<i64>,
    /// When it was drawn.
    pub drawn_on: NaiveDate,
    /// When it is due.
    pub due_by: NaiveDate,
    /// When it was done, if it was.
    pub done_at: Option<DateTime<Utc>>,
    /// Not done and past its deadline.
    pub overdue: bool,
}

/// What a draw did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Drawn {
    /// The visits drawn now.
    pub visits: Vec<ReturnVisit>,
    /// Records whose date field is missing or not a date: (record, value).
    pub without_date: Vec<(i64, String)>,
}

/// Draws, on `today`, every record of the campaign the rule has come due for and that it has
/// not drawn before, and assigns them in turn to `agents` (and their records to them), with
/// the rule's deadline; in one transaction.
pub async fn draw(
    db: &Db,
    campaign: i64,
    rule: &Rule,
    agents: &[i64],
    today: NaiveDate,
) -> Result<Drawn, ReturnVisitError> {
    for (what, value) in [("after_days", rule.after_days), ("deadline_days", rule.deadline_days)] {
        if !(0..=365).contains(&value) {
            return Err(ReturnVisitError::Days { what, value });
        }
    }
    if agents.is_empty() {
        return Err(ReturnVisitError::NoAgents);
    }
    let name = rule.name();
    let candidates: Vec<(i64, Json<serde_json::Value>)> = with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT r.id, r.fields FROM records r
             WHERE r.campaign_id = $1
               AND NOT EXISTS (SELECT 1 FROM return_visits v WHERE v.record_id = r.id AND v.rule = $2)
             ORDER BY r.id",
        )
        .bind(campaign)
        .bind(&name)
        .fetch_all(pool)
        .await?
    });
    let mut drawn = Drawn::default();
    let mut due = Vec::new();
    for (record, fields) in candidates {
        let value = fields.0.get(&rule.field).cloned().unwrap_or(serde_json::Value::Null);
        match value
            .as_str()
            .and_then(|s| NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d").ok())
        {
            Some(date) if rule.draws(date, today) => due.push(record),
            Some(_) => {}
            None => drawn.without_date.push((record, value.to_string())),
        }
    }
    let due_by = today + Duration::days(rule.deadline_days);
    let visits = with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let mut visits = Vec::new();
        for (i, record) in due.iter().enumerate() {
            let agent = agents[i % agents.len()];
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO return_visits (campaign_id, record_id, rule, agent_id, drawn_on, due_by)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(campaign)
            .bind(record)
            .bind(&name)
            .bind(agent)
            .bind(today)
            .bind(due_by)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query("UPDATE records SET assigned_agent_id = $2 WHERE id = $1")
                .bind(record)
                .bind(agent)
                .execute(&mut *tx)
                .await?;
            visits.push(ReturnVisit {
                id,
                record: *record,
                rule: name.clone(),
                agent: Some(agent),
                drawn_on: today,
                due_by,
                done_at: None,
                overdue: false,
            });
        }
        tx.commit().await?;
        visits
    });
    drawn.visits = visits;
    Ok(drawn)
}

type VisitRow = (
    i64,
    i64,
    String,
    Option<i64>,
    NaiveDate,
    NaiveDate,
    Option<DateTime<Utc>>,
);

/// The campaign's return visits, one interviewer's or everyone's, open ones only or all,
/// by deadline; `overdue` as of `today`.
pub async fn list(
    db: &Db,
    campaign: i64,
    agent: Option<i64>,
    open_only: bool,
    today: NaiveDate,
) -> Result<Vec<ReturnVisit>, sqlx::Error> {
    let rows: Vec<VisitRow> = with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT id, record_id, rule, agent_id, drawn_on, due_by, done_at FROM return_visits
             WHERE campaign_id = $1 AND ($2 IS NULL OR agent_id = $2) AND (NOT $3 OR done_at IS NULL)
             ORDER BY due_by, id",
        )
        .bind(campaign)
        .bind(agent)
        .bind(open_only)
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(|(id, record, rule, agent, drawn_on, due_by, done_at)| ReturnVisit {
            id,
            record,
            rule,
            agent,
            drawn_on,
            due_by,
            overdue: done_at.is_none() && due_by < today,
            done_at,
        })
        .collect())
}

/// Marks a visit done; false when there is no such open visit.
pub async fn done(db: &Db, id: i64, at: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    let updated = with_db!(db, |pool| {
        sqlx::query("UPDATE return_visits SET done_at = $2 WHERE id = $1 AND done_at IS NULL")
            .bind(id)
            .bind(at)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(updated == 1)
}
