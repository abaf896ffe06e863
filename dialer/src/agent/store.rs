//! Where agent state lives between runs: each agent's current state (with a transition
//! counter, so that two processes writing the same agent cannot both succeed) and the history
//! of every transition, the audit trail of an agent's day.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::pool::{AgentView, StateChange};
use super::state::{AgentState, AgentStatus, CallId, Command, StateKind};
use crate::store::Db;
use crate::store::sql::Statement;
use crate::users::UserId;
use crate::with_db;

/// Why stored agent state could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AgentStoreError {
    /// A stored state is not one the state machine knows.
    #[error("stored state of agent {agent} is unreadable: {reason}")]
    Corrupt {
        /// The agent.
        agent: UserId,
        /// What is wrong.
        reason: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] sqlx::Error),
}

/// A stored agent state row: user, state, reason, call, after_call, since, seq.
type StateRow = (
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<i64>,
);

/// Every user with the agent role, in their stored state (logged out if they never logged in).
pub async fn load_all(db: &Db) -> Result<Vec<AgentView>, AgentStoreError> {
    let rows: Vec<StateRow> = with_db!(db, |p| {
        sqlx::query_as(
            "SELECT r.user_id, s.state, s.reason, s.call_id, s.after_call, s.since, s.seq
                 FROM user_roles r LEFT JOIN agent_states s ON s.user_id = r.user_id
                 WHERE r.role = 'agent' ORDER BY r.user_id",
        )
        .fetch_all(p)
        .await?
    });
    rows.into_iter()
        .map(
            |(agent, state, reason, call, after_call, since, seq)| match (state, since, seq) {
                (Some(state), Some(since), Some(seq)) => view(agent, &state, reason, call, after_call, since, seq),
                _ => Ok(AgentView::new(agent)),
            },
        )
        .collect()
}

/// One agent's stored state; `None` when the user is not an agent.
pub async fn load_one(db: &Db, agent: UserId) -> Result<Option<AgentView>, AgentStoreError> {
    Ok(load_all(db).await?.into_iter().find(|v| v.agent == agent))
}

fn view(
    agent: UserId,
    state: &str,
    reason: Option<String>,
    call: Option<String>,
    after_call: Option<String>,
    since: DateTime<Utc>,
    seq: i64,
) -> Result<AgentView, AgentStoreError> {
    let corrupt = |reason: String| AgentStoreError::Corrupt { agent, reason };
    let kind = StateKind::parse(state).ok_or_else(|| corrupt(format!("unknown state '{state}'")))?;
    let state = AgentState::from_parts(kind, reason, call.map(CallId)).map_err(corrupt)?;
    Ok(AgentView {
        agent,
        status: AgentStatus { state, after_call },
        since,
        seq,
    })
}

/// Writes the agent's new current state if the stored one is still the one the change was
/// decided from (`seq - 1`); it changes no row when another process moved the agent first.
pub fn write_state(change: &StateChange) -> Statement {
    let to = &change.to;
    Statement::new(
        "INSERT INTO agent_states (user_id, state, reason, call_id, after_call, since, seq)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (user_id) DO UPDATE SET
            state = excluded.state, reason = excluded.reason, call_id = excluded.call_id,
            after_call = excluded.after_call, since = excluded.since, seq = excluded.seq
         WHERE agent_states.seq = $8",
        vec![
            change.agent.into(),
            to.kind().as_str().into(),
            to.reason().into(),
            to.call().map(|c| c.0.as_str()).into(),
            change.after_call.as_deref().into(),
            change.at.into(),
            change.seq.into(),
            (change.seq - 1).into(),
        ],
    )
}

/// Adds the change to the agent's history; run only when [`write_state`] changed a row.
pub fn write_history(change: &StateChange) -> Statement {
    let reason = change.to.reason().or(match &change.command {
        Command::GoNotReady { reason } => Some(reason.as_str()),
        _ => None,
    });
    let call = change.from.call().or(change.to.call()).map(|c| c.0.as_str());
    Statement::new(
        "INSERT INTO agent_state_changes (user_id, seq, at, command, from_state, to_state, reason, call_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        vec![
            change.agent.into(),
            change.seq.into(),
            change.at.into(),
            change.command.name().into(),
            change.from.kind().as_str().into(),
            change.to.kind().as_str().into(),
            reason.into(),
            call.into(),
        ],
    )
}

/// One transition as stored in the agent's history.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct StoredChange {
    /// The agent's transition counter.
    pub seq: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// The command's name.
    pub command: String,
    /// State before.
    pub from_state: String,
    /// State after.
    pub to_state: String,
    /// The not-ready reason, when there was one.
    pub reason: Option<String>,
    /// The call concerned, when there was one.
    pub call_id: Option<String>,
}

/// Every stored transition of one agent, oldest first: the audit trail of their day.
pub async fn history(db: &Db, agent: UserId) -> Result<Vec<StoredChange>, sqlx::Error> {
    with_db!(db, |p| {
        sqlx::query_as(
            "SELECT seq, at, command, from_state, to_state, reason, call_id FROM agent_state_changes
             WHERE user_id = $1 ORDER BY seq",
        )
        .bind(agent)
        .fetch_all(p)
        .await
    })
}

/// Whether `user` holds the agent role.
pub async fn is_agent(db: &Db, user: UserId) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = with_db!(db, |p| {
        sqlx::query_scalar("SELECT user_id FROM user_roles WHERE user_id = $1 AND role = 'agent'")
            .bind(user)
            .fetch_optional(p)
            .await?
    });
    Ok(found.is_some())
}
