//! The agent pool: the one authority over agents' live state, in memory.
//!
//! Every transition is decided by [`AgentStatus::apply`] and checked against the other agents
//! (no call is held by two). The pool does no I/O: its owner, the dialer's runtime
//! ([`crate::runtime::Engine`]), stores each [`StateChange`] (with [`super::store`]) before it
//! acts on it or publishes it, and rebuilds the pool from the store on start.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::state::{AgentState, AgentStatus, CallId, Command, TransitionError};
use crate::users::UserId;

/// One decided transition of one agent.
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

impl AgentView {
    /// An agent who has never logged in.
    pub fn new(agent: UserId) -> Self {
        Self {
            agent,
            status: AgentStatus::default(),
            since: DateTime::<Utc>::UNIX_EPOCH,
            seq: 0,
        }
    }
}

/// Why the pool refused a command; nothing was changed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
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
}

/// The live agent states.
#[derive(Debug, Default)]
pub struct AgentPool {
    // foldhash: the engine looks every agent up at each pacing decision, and SipHash's
    // flooding resistance buys nothing for keys the dialer makes itself.
    agents: foldhash::HashMap<UserId, AgentView>,
    /// Which agent holds each call, so a reservation is checked without a scan.
    holders: foldhash::HashMap<CallId, UserId>,
}

impl AgentPool {
    /// A pool of these agents, in these states (as loaded from the store).
    pub fn new(agents: impl IntoIterator<Item = AgentView>) -> Self {
        let mut pool = Self::default();
        for view in agents {
            pool.insert(view);
        }
        pool
    }

    /// Adds an agent, or replaces what the pool holds of them (after a reload).
    pub fn insert(&mut self, view: AgentView) {
        if let Some(old) = self.agents.get(&view.agent)
            && let Some(call) = old.status.state.call()
        {
            self.holders.remove(call);
        }
        if let Some(call) = view.status.state.call() {
            self.holders.insert(call.clone(), view.agent);
        }
        self.agents.insert(view.agent, view);
    }

    /// Whether the pool knows this agent.
    pub fn contains(&self, agent: UserId) -> bool {
        self.agents.contains_key(&agent)
    }

    /// Decides `command` for `agent` at `at` and applies it in memory; the caller stores the
    /// returned change before acting on it. `at` earlier than the agent's last change is moved
    /// up to it, so an agent's history never runs backwards.
    pub fn apply(&mut self, agent: UserId, command: Command, at: DateTime<Utc>) -> Result<StateChange, PoolError> {
        let current = self.agents.get(&agent).ok_or(PoolError::NotAnAgent(agent))?;
        let next = current
            .status
            .apply(&command)
            .map_err(|source| PoolError::Transition { agent, source })?;
        if let Command::Reserve { call } = &command
            && let Some(holder) = self.holders.get(call)
            && *holder != agent
        {
            return Err(PoolError::CallTaken {
                call: call.clone(),
                holder: *holder,
            });
        }
        let at = at.max(current.since);
        let change = StateChange {
            agent,
            seq: current.seq + 1,
            at,
            command,
            from: current.status.state.clone(),
            to: next.state.clone(),
            after_call: next.after_call.clone(),
        };
        self.insert(AgentView {
            agent,
            status: next,
            since: at,
            seq: change.seq,
        });
        Ok(change)
    }

    /// One agent's live state.
    pub fn view(&self, agent: UserId) -> Option<&AgentView> {
        self.agents.get(&agent)
    }

    /// Every agent's live state, by id.
    pub fn snapshot(&self) -> Vec<AgentView> {
        let mut all: Vec<_> = self.agents.values().cloned().collect();
        all.sort_by_key(|v| v.agent);
        all
    }

    /// The agent holding `call`, if any.
    pub fn holder(&self, call: &CallId) -> Option<UserId> {
        self.holders.get(call).copied()
    }

    /// How many agents the pool knows.
    pub fn len(&self) -> usize {
        self.agents.len()
    }

    /// Whether the pool knows no agent.
    pub fn is_empty(&self) -> bool {
        self.agents.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    use super::*;
    use crate::agent::state::StateKind;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap() + Duration::seconds(s)
    }

    fn call(n: u8) -> CallId {
        CallId(format!("call-{n}"))
    }

    #[test]
    fn a_call_is_held_by_one_agent_at_most() {
        let mut pool = AgentPool::new([AgentView::new(1), AgentView::new(2)]);
        for id in [1, 2] {
            pool.apply(id, Command::LogIn, at(0)).unwrap();
            pool.apply(id, Command::GoReady, at(1)).unwrap();
        }
        pool.apply(1, Command::Reserve { call: call(7) }, at(2)).unwrap();
        assert_eq!(
            pool.apply(2, Command::Reserve { call: call(7) }, at(3)).unwrap_err(),
            PoolError::CallTaken {
                call: call(7),
                holder: 1
            }
        );
        assert_eq!(pool.view(2).unwrap().status.state, AgentState::Ready);
        assert_eq!(pool.holder(&call(7)), Some(1));
        pool.apply(1, Command::Release, at(4)).unwrap();
        assert_eq!(pool.holder(&call(7)), None);
        pool.apply(2, Command::Reserve { call: call(7) }, at(5)).unwrap();
    }

    #[test]
    fn refusals_change_nothing_and_time_never_runs_backwards() {
        let mut pool = AgentPool::new([AgentView::new(1)]);
        let err = pool.apply(1, Command::GoReady, at(0)).unwrap_err();
        assert_eq!(err.to_string(), "agent 1: cannot go_ready while logged_out");
        assert_eq!(pool.view(1).unwrap().seq, 0);
        assert_eq!(
            pool.apply(9, Command::LogIn, at(0)).unwrap_err(),
            PoolError::NotAnAgent(9)
        );
        pool.apply(1, Command::LogIn, at(10)).unwrap();
        let change = pool.apply(1, Command::GoReady, at(5)).unwrap();
        assert_eq!((change.seq, change.at), (2, at(10)));
    }

    fn any_command() -> impl Strategy<Value = Command> {
        prop_oneof![
            Just(Command::LogIn),
            Just(Command::GoReady),
            prop_oneof![Just("break"), Just("")].prop_map(|r| Command::GoNotReady { reason: r.into() }),
            (0u8..3).prop_map(|n| Command::Reserve { call: call(n) }),
            Just(Command::Release),
            (0u8..3).prop_map(|n| Command::Connect { call: call(n) }),
            Just(Command::HangUp),
            Just(Command::EndWrapUp),
            Just(Command::LogOut),
            Just(Command::ForceLogOut),
        ]
    }

    proptest! {
        /// Whatever the agents are told, in whatever order, the pool agrees with a model of
        /// independent state machines, keeps every agent, and never gives a call to two.
        #[test]
        fn no_sequence_reaches_an_illegal_state_or_loses_an_agent(
            ops in prop::collection::vec((1i64..4, any_command()), 1..200)
        ) {
            let mut pool = AgentPool::new((1..4).map(AgentView::new));
            let mut model: HashMap<i64, AgentStatus> = (1..4).map(|id| (id, AgentStatus::default())).collect();
            for (n, (id, command)) in ops.iter().enumerate() {
                let expected = model[id].apply(command);
                let held_elsewhere = match command {
                    Command::Reserve { call } => model.iter().any(|(o, s)| o != id && s.state.call() == Some(call)),
                    _ => false,
                };
                match (pool.apply(*id, command.clone(), at(n as i64)), expected) {
                    (Ok(change), Ok(next)) => {
                        prop_assert!(!held_elsewhere, "a call was reserved twice");
                        prop_assert_eq!(&change.to, &next.state);
                        model.insert(*id, next);
                    }
                    (Err(PoolError::CallTaken { .. }), Ok(_)) => prop_assert!(held_elsewhere),
                    (Err(PoolError::Transition { .. }), Err(_)) => {}
                    (got, want) => prop_assert!(false, "pool said {:?}, model said {:?}", got, want),
                }
                let mut calls: Vec<&CallId> = model.values().filter_map(|s| s.state.call()).collect();
                let before = calls.len();
                calls.sort();
                calls.dedup();
                prop_assert_eq!(before, calls.len());
            }
            prop_assert_eq!(pool.len(), 3);
            for (id, status) in &model {
                prop_assert_eq!(&pool.view(*id).unwrap().status, status);
                if status.state.kind() == StateKind::LoggedOut {
                    prop_assert!(status.after_call.is_none());
                }
            }
        }
    }
}
