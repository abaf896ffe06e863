//! Agents: the state machine ([`state`]), the pool that is the one authority over every
//! agent's live state ([`pool`]), shared by outbound and inbound, and where that state is kept
//! between runs ([`store`]).

pub mod pool;
pub mod state;
pub mod store;

pub use pool::{AgentPool, AgentView, PoolError, StateChange};
pub use state::{AgentState, AgentStatus, CallId, Command, StateKind, TransitionError};
