//! Agents: the state machine ([`state`]) and the pool that is the one authority over every
//! agent's live state ([`pool`]), shared by outbound and inbound.

pub mod pool;
pub mod state;

pub use pool::{AgentPool, AgentView, PoolError, StateChange};
pub use state::{AgentState, AgentStatus, CallId, Command, StateKind, TransitionError};
