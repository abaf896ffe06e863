//! The agent pool: the one authority over agents' live state.
//!
//! Every transition is decided by [`AgentStatus::apply`], committed to the store (current state
//! and a history row, in one transaction) and only then applied in memory and published on the
//! event stream. On start the pool is rebuilt from the store. Several dialer processes on one
//! PostgreSQL store stay consistent: each stored state carries a sequence number, and a write
//! based on a stale one is refused.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use tokio::sync::Mutex;

use super::state::{AgentState, AgentStatus, CallId, Command, StateKind, TransitionError};
use crate::clock::Clock;
use crate::events::{Event, EventBus};
use crate::store::{Db, WriteTx};
use crate::users::UserId;
use crate::with_db;

/// One committed transition of one agent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateChange {
    /// The agent.
    pub agent: UserId,
    /// The agent's transition counter after this change (1 for the first ever).
    pub seq: i64,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What caused it.
    pub command: Command,
    /// The state before.
    pub from: AgentState,
    /// The state after.
    pub to: AgentState,
    /// A not-ready reason waiting for the end of the current call.
    pub after_call: Option<String>,
}

/// An agent's live state as the pool holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentView {
    /// The agent.
    pub agent: UserId,
    /// State and pending request.
    pub status: AgentStatus,
    /// When the agent entered the current state.
    pub since: DateTime<Utc>,
    /// Transitions so far.
    pub seq: i64,
}

/// Why the pool refused a command; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// No user with this id holds the agent role.
    #[error("user {0} is not an agent")]
    NotAnAgent(UserId),
    /// The state machine refused the command.
    #[error("agent {agent}: {source}")]
    Transition {
        /// The agent.
        agent: UserId,
        /// The refusal.
        #[source]
        source: TransitionError,
    },
    /// Another agent already holds the call.
    #[error("call {call} is already held by agent {holder}")]
    CallTaken {
        /// The call.
        call: CallId,
        /// The agent holding it.
        holder: UserId,
    },
    /// Another process changed this agent first; the pool reloaded it, try again.
    #[error("agent {0} was changed by another process; reloaded, try again")]
    Conflict(UserId),
    /// The stored state could not be read back.
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

/// The live agent states, stored before acted on.
pub struct AgentPool {
    db: Db,
    clock: Arc<dyn Clock>,
    events: EventBus,
    agents: Mutex<HashMap<UserId, AgentView>>,
}

impl AgentPool {
    /// Rebuilds the pool from the store: every user with the agent role, in their stored state.
    pub async fn load(db: Db, clock: Arc<dyn Clock>, events: EventBus) -> Result<Self, PoolError> {
        let pool = Self {
            db,
            clock,
            events,
            agents: Mutex::new(HashMap::new()),
        };
        let ids: Vec<i64> = with_db!(&pool.db, |p| {
            sqlx::query_scalar("SELECT user_id FROM user_roles WHERE role = 'agent' ORDER BY user_id")
                .fetch_all(p)
                .await?
        });
        let mut agents = HashMap::with_capacity(ids.len());
        for id in ids {
            agents.insert(id, pool.read_stored(id).await?);
        }
        *pool.agents.lock().await = agents;
        Ok(pool)
    }

    /// The event stream the pool publishes on.
    pub fn events(&self) -> &EventBus {
        &self.events
    }

    /// Applies `command` to `agent`: decided, stored, then published. Returns the change.
    pub async fn apply(&self, agent: UserId, command: Command) -> Result<StateChange, PoolError> {
        let mut agents = self.agents.lock().await;
        if let Entry::Vacant(slot) = agents.entry(agent) {
            // An agent created after the pool was loaded.
            if !self.is_agent(agent).await? {
                return Err(PoolError::NotAnAgent(agent));
            }
            slot.insert(self.read_stored(agent).await?);
        }
        let current = agents[&agent].clone();
        let next = current
            .status
            .apply(&command)
            .map_err(|source| PoolError::Transition { agent, source })?;
        if let Command::Reserve { call } = &command
            && let Some(holder) = agents
                .values()
                .find(|v| v.agent != agent && v.status.state.call() == Some(call))
        {
            return Err(PoolError::CallTaken {
                call: call.clone(),
                holder: holder.agent,
            });
        }
        let at = self.clock.now().max(current.since);
        let change = StateChange {
            agent,
            seq: current.seq + 1,
            at,
            command,
            from: current.status.state.clone(),
            to: next.state.clone(),
            after_call: next.after_call.clone(),
        };
        if !self.store(&change, current.seq).await? {
            let fresh = self.read_stored(agent).await?;
            agents.insert(agent, fresh);
            return Err(PoolError::Conflict(agent));
        }
        agents.insert(
            agent,
            AgentView {
                agent,
                status: next,
                since: at,
                seq: change.seq,
            },
        );
        drop(agents);
        tracing::debug!(agent, command = change.command.name(), from = %change.from.kind(), to = %change.to.kind(), "agent state");
        self.events.publish(Event::AgentState(change.clone()));
        Ok(change)
    }

    /// One agent's live state, if they are an agent.
    pub async fn view(&self, agent: UserId) -> Option<AgentView> {
        self.agents.lock().await.get(&agent).cloned()
    }

    /// Every agent's live state, by id.
    pub async fn snapshot(&self) -> Vec<AgentView> {
        let mut all: Vec<_> = self.agents.lock().await.values().cloned().collect();
        all.sort_by_key(|v| v.agent);
        all
    }

    async fn is_agent(&self, agent: UserId) -> Result<bool, PoolError> {
        let found: Option<i64> = with_db!(&self.db, |p| {
            sqlx::query_scalar("SELECT user_id FROM user_roles WHERE user_id = $1 AND role = 'agent'")
                .bind(agent)
                .fetch_optional(p)
                .await?
        });
        Ok(found.is_some())
    }

    async fn read_stored(&self, agent: UserId) -> Result<AgentView, PoolError> {
        let row = with_db!(&self.db, |p| {
            sqlx::query("SELECT state, reason, call_id, after_call, since, seq FROM agent_states WHERE user_id = $1")
                .bind(agent)
                .fetch_optional(p)
                .await?
                .map(|row| {
                    Ok::<_, sqlx::Error>((
                        row.try_get::<String, _>("state")?,
                        row.try_get::<Option<String>, _>("reason")?,
                        row.try_get::<Option<String>, _>("call_id")?,
                        row.try_get::<Option<String>, _>("after_call")?,
                        row.try_get::<DateTime<Utc>, _>("since")?,
                        row.try_get::<i64, _>("seq")?,
                    ))
                })
                .transpose()?
        });
        let Some((state, reason, call, after_call, since, seq)) = row else {
            return Ok(AgentView {
                agent,
                status: AgentStatus::default(),
                since: DateTime::<Utc>::UNIX_EPOCH,
                seq: 0,
            });
        };
        let corrupt = |reason: String| PoolError::Corrupt { agent, reason };
        let kind = StateKind::parse(&state).ok_or_else(|| corrupt(format!("unknown state '{state}'")))?;
        let state = AgentState::from_parts(kind, reason, call.map(CallId)).map_err(corrupt)?;
        Ok(AgentView {
            agent,
            status: AgentStatus { state, after_call },
            since,
            seq,
        })
    }

    /// Writes the change if the stored sequence is still `expected_seq`; false if it moved.
    async fn store(&self, change: &StateChange, expected_seq: i64) -> Result<bool, PoolError> {
        let to = &change.to;
        let call = to.call().map(|c| c.0.as_str());
        let event_call = change.from.call().or(to.call()).map(|c| c.0.as_str());
        let reason = to.reason().or(match &change.command {
            Command::GoNotReady { reason } => Some(reason.as_str()),
            _ => None,
        });
        let stored = with_db!(&self.db, |p| {
            let mut tx = p.begin_write().await?;
            let updated = sqlx::query(
                "INSERT INTO agent_states (user_id, state, reason, call_id, after_call, since, seq)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (user_id) DO UPDATE SET
                    state = excluded.state, reason = excluded.reason, call_id = excluded.call_id,
                    after_call = excluded.after_call, since = excluded.since, seq = excluded.seq
                 WHERE agent_states.seq = $8",
            )
            .bind(change.agent)
            .bind(to.kind().as_str())
            .bind(to.reason())
            .bind(call)
            .bind(change.after_call.as_deref())
            .bind(change.at)
            .bind(change.seq)
            .bind(expected_seq)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated == 1 {
                sqlx::query(
                    "INSERT INTO agent_state_changes (user_id, seq, at, command, from_state, to_state, reason, call_id)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(change.agent)
                .bind(change.seq)
                .bind(change.at)
                .bind(change.command.name())
                .bind(change.from.kind().as_str())
                .bind(to.kind().as_str())
                .bind(reason)
                .bind(event_call)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                true
            } else {
                tx.rollback().await?;
                false
            }
        });
        Ok(stored)
    }
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
