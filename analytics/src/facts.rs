//! The stored facts reports are made of, read from the store (SQLite or PostgreSQL) as plain
//! rows: call attempts, and agents' state changes with the state each agent was in when the
//! range began. Reads only. The reports take them as Polars frames ([`attempts_frame`],
//! [`state_changes_frame`]), so the same report runs over rows read from the store or over
//! Parquet files scanned lazily.

use chrono::{DateTime, Utc};
use paceline_dialer::Db;
use paceline_dialer::with_db;
use polars::prelude::*;

use crate::ReportError;

/// Which facts a report takes: a time range, and optionally one campaign, team or agent.
#[derive(Debug, Clone)]
pub struct Filter {
    /// From (inclusive).
    pub from: DateTime<Utc>,
    /// To (exclusive).
    pub to: DateTime<Utc>,
    /// Only this campaign (by name).
    pub campaign: Option<String>,
    /// Only the agents of this team.
    pub team: Option<String>,
    /// Only this agent (by login).
    pub agent: Option<String>,
    /// Only the records whose fields pass all these conditions (RPT-08); empty: every record.
    pub records: Vec<crate::record_filter::FieldCondition>,
}

/// One call attempt.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Attempt {
    /// The campaign's name.
    pub campaign: String,
    /// The record called.
    pub record_id: i64,
    /// The agent it was dialed for or bridged to (login), if any.
    pub agent: Option<String>,
    /// preview, progressive, predictive or agentless.
    pub dial_mode: String,
    /// When it was queued.
    pub queued_at: DateTime<Utc>,
    /// When it was dialed.
    pub dialed_at: Option<DateTime<Utc>>,
    /// When the far end answered.
    pub answered_at: Option<DateTime<Utc>>,
    /// When it was bridged to an agent.
    pub bridged_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// How it ended (answered, busy, no_answer, machine, ...).
    pub outcome: Option<String>,
    /// The answering-machine detector's verdict (person, machine, unsure).
    pub amd_verdict: Option<String>,
    /// Whether the person answered and no agent reached them in time.
    pub abandoned: bool,
    /// The disposition given (complete, refusal, callback, ...).
    pub disposition: Option<String>,
}

/// One change of an agent's state.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StateChange {
    /// The agent (login).
    pub agent: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Its place in the agent's changes (several may share a time).
    pub seq: i64,
    /// The state entered: logged_out, ready, not_ready, reserved, on_call, wrap_up.
    pub to_state: String,
    /// The not-ready reason.
    pub reason: Option<String>,
}

// The filters are bound as text that may be null; CAST lets PostgreSQL type the parameter.
const AGENT_FILTERS: &str = "(CAST($3 AS TEXT) IS NULL OR u.login = $3)
       AND (CAST($4 AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM team_members m JOIN teams t ON t.id = m.team_id
                                              WHERE m.user_id = u.id AND t.name = $4))";

/// The attempts queued in the range (of the campaign, and dialed for or bridged to the team's
/// or the agent's agents, when the filter says so), in queue order.
pub async fn attempts(db: &Db, filter: &Filter) -> Result<Vec<Attempt>, ReportError> {
    attempt_rows(db, filter, "").await
}

/// One call as the call log shows it: the attempt, its id and the number dialed.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Call {
    /// The attempt's id.
    pub attempt_id: i64,
    /// The number dialed (E.164).
    pub number: String,
    /// Everything else about it.
    #[sqlx(flatten)]
    pub attempt: Attempt,
}

/// Every attempt queued in the range, as [`attempts`], with its id and the number dialed.
pub async fn calls(db: &Db, filter: &Filter) -> Result<Vec<Call>, ReportError> {
    attempt_rows(db, filter, ", a.id AS attempt_id, a.e164 AS number").await
}

/// The attempts the filter selects, with `extra` columns after the [`Attempt`]'s.
async fn attempt_rows<T>(db: &Db, filter: &Filter, extra: &str) -> Result<Vec<T>, ReportError>
where
    T: Send
        + Unpin
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    let sql = format!(
        "SELECT c.name AS campaign, a.record_id, u.login AS agent, a.dial_mode, a.queued_at, a.dialed_at, a.answered_at,
                a.bridged_at, a.ended_at, a.outcome, a.amd_verdict, a.abandoned, a.disposition{extra}
         FROM attempts a JOIN campaigns c ON c.id = a.campaign_id LEFT JOIN users u ON u.id = a.agent_id
         WHERE a.queued_at >= $1 AND a.queued_at < $2
           AND (CAST($5 AS TEXT) IS NULL OR c.name = $5)
           AND ((CAST($3 AS TEXT) IS NULL AND CAST($4 AS TEXT) IS NULL) OR ({AGENT_FILTERS}))
         ORDER BY a.queued_at, a.id"
    );
    let rows: Vec<T> = with_db!(db, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(filter.from)
            .bind(filter.to)
            .bind(filter.agent.as_deref())
            .bind(filter.team.as_deref())
            .bind(filter.campaign.as_deref())
            .fetch_all(pool)
            .await?
    });
    Ok(rows)
}

/// Which agents work each campaign, as `(campaign, agent login)`: those assigned by name and
/// the members of the teams assigned (an agent may appear twice).
pub async fn assignments(db: &Db) -> Result<Vec<(String, String)>, ReportError> {
    let rows: Vec<(String, String)> = with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT c.name, u.login FROM campaign_agents ca
               JOIN campaigns c ON c.id = ca.campaign_id JOIN users u ON u.id = ca.user_id
             UNION ALL
             SELECT c.name, u.login FROM campaign_teams ct
               JOIN campaigns c ON c.id = ct.campaign_id
               JOIN team_members m ON m.team_id = ct.team_id JOIN users u ON u.id = m.user_id
             ORDER BY 1, 2",
        )
        .fetch_all(pool)
        .await?
    });
    Ok(rows)
}

/// Every state change of the filter's agents in the range, in order, each agent's led by the
/// state they were in when the range began (dated at its start). The campaign filter keeps
/// the agents assigned to the campaign (alone or by team).
pub async fn state_changes(db: &Db, filter: &Filter) -> Result<Vec<StateChange>, ReportError> {
    let agents = format!(
        "{AGENT_FILTERS}
       AND (CAST($5 AS TEXT) IS NULL OR EXISTS (
             SELECT 1 FROM campaigns c LEFT JOIN campaign_agents ca ON ca.campaign_id = c.id
             LEFT JOIN campaign_teams ct ON ct.campaign_id = c.id
             LEFT JOIN team_members tm ON tm.team_id = ct.team_id
             WHERE c.name = $5 AND (ca.user_id = u.id OR tm.user_id = u.id)))"
    );
    let sql = format!(
        "SELECT u.login AS agent, s.at, s.seq, s.to_state, s.reason FROM agent_state_changes s JOIN users u ON u.id = s.user_id
         WHERE s.at < $1 AND s.seq = (SELECT MAX(p.seq) FROM agent_state_changes p
                                                WHERE p.user_id = s.user_id AND p.at < $1)
           AND {agents}
         UNION ALL
         SELECT u.login AS agent, s.at, s.seq, s.to_state, s.reason FROM agent_state_changes s JOIN users u ON u.id = s.user_id
         WHERE s.at >= $1 AND s.at < $2 AND {agents}
         ORDER BY 1, 3"
    );
    let mut rows: Vec<StateChange> = with_db!(db, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(filter.from)
            .bind(filter.to)
            .bind(filter.agent.as_deref())
            .bind(filter.team.as_deref())
            .bind(filter.campaign.as_deref())
            .fetch_all(pool)
            .await?
    });
    for row in &mut rows {
        row.at = row.at.max(filter.from);
    }
    Ok(rows)
}

/// The time unit of every time column of the frames: milliseconds, UTC (no zone attached).
pub const TIME_UNIT: TimeUnit = TimeUnit::Milliseconds;

/// The dtype of the frames' time columns.
pub fn time_dtype() -> DataType {
    DataType::Datetime(TIME_UNIT, None)
}

fn times(name: &str, values: impl Iterator<Item = Option<DateTime<Utc>>>) -> Column {
    Int64Chunked::from_iter_options(name.into(), values.map(|t| t.map(|t| t.timestamp_millis())))
        .into_datetime(TIME_UNIT, None)
        .into_column()
}

/// Attempts as a frame, one row per attempt, with these columns (times in UTC, to the
/// millisecond; nullable where the field is an `Option`):
///
/// | column | dtype |
/// |---|---|
/// | `campaign`, `dial_mode` | String |
/// | `agent`, `outcome`, `amd_verdict`, `disposition` | String, nullable |
/// | `queued_at` | Datetime(ms) |
/// | `dialed_at`, `answered_at`, `bridged_at`, `ended_at` | Datetime(ms), nullable |
/// | `abandoned` | Boolean |
///
/// The reports also take frames with these columns from elsewhere (Parquet files); string
/// columns may then be Categorical.
pub fn attempts_frame(attempts: &[Attempt]) -> DataFrame {
    let text = |name: &str, f: &dyn Fn(&Attempt) -> Option<&str>| {
        Column::new(name.into(), attempts.iter().map(f).collect::<Vec<_>>())
    };
    DataFrame::new(
        attempts.len(),
        vec![
            Column::new(
                "campaign".into(),
                attempts.iter().map(|a| a.campaign.as_str()).collect::<Vec<_>>(),
            ),
            text("agent", &|a| a.agent.as_deref()),
            Column::new(
                "dial_mode".into(),
                attempts.iter().map(|a| a.dial_mode.as_str()).collect::<Vec<_>>(),
            ),
            times("queued_at", attempts.iter().map(|a| Some(a.queued_at))),
            times("dialed_at", attempts.iter().map(|a| a.dialed_at)),
            times("answered_at", attempts.iter().map(|a| a.answered_at)),
            times("bridged_at", attempts.iter().map(|a| a.bridged_at)),
            times("ended_at", attempts.iter().map(|a| a.ended_at)),
            text("outcome", &|a| a.outcome.as_deref()),
            text("amd_verdict", &|a| a.amd_verdict.as_deref()),
            Column::new(
                "abandoned".into(),
                attempts.iter().map(|a| a.abandoned).collect::<Vec<_>>(),
            ),
            text("disposition", &|a| a.disposition.as_deref()),
        ],
    )
    .expect("columns of one length with distinct names")
}

/// State changes as a frame, one row per change, in the order given (the reports want them
/// by agent, then `seq`, as [`state_changes`] returns them), with these columns:
///
/// | column | dtype |
/// |---|---|
/// | `agent`, `to_state` | String |
/// | `at` | Datetime(ms), UTC |
/// | `seq` | Int64 |
/// | `reason` | String, nullable |
///
/// As for attempts, string columns of frames from elsewhere may be Categorical.
pub fn state_changes_frame(changes: &[StateChange]) -> DataFrame {
    DataFrame::new(
        changes.len(),
        vec![
            Column::new(
                "agent".into(),
                changes.iter().map(|c| c.agent.as_str()).collect::<Vec<_>>(),
            ),
            times("at", changes.iter().map(|c| Some(c.at))),
            Column::new("seq".into(), changes.iter().map(|c| c.seq).collect::<Vec<_>>()),
            Column::new(
                "to_state".into(),
                changes.iter().map(|c| c.to_state.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "reason".into(),
                changes.iter().map(|c| c.reason.as_deref()).collect::<Vec<_>>(),
            ),
        ],
    )
    .expect("columns of one length with distinct names")
}
