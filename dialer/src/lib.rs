//! Paceline's dialer: the ground the rest of Paceline stands on.
//!
//! - [`store`]: one handle over SQLite (the embedded default) or PostgreSQL, with migrations.
//! - [`users`]: users, roles, teams and skills.
//! - [`agent`]: the agent state machine and the pool, the one authority over agent state.
//! - [`campaign`]: campaign settings, calling hours, lifecycle and storage.
//! - [`sample`]: the records of a campaign: field configuration, import, edits, assignment.
//! - [`dnc`]: do-not-call lists.
//! - [`disposition`] and [`attempt`]: how calls end and what that does to a record.
//! - [`telephony`]: the boundary to a telephone switch (the simulator, later SIP).
//! - [`pacer`]: how many numbers to dial now (pure).
//! - [`runtime`]: the campaign runtime that turns running campaigns into calls.
//! - [`sim`]: the call simulator: scenarios, call fates, a simulated switch in virtual time,
//!   simulated agents, and runs measured end to end.
//! - [`clock`] and [`events`]: the one clock and the one event stream everything shares.
//!
//! Pure logic (state machines, checks, calling hours) is plain functions over plain types;
//! the `store` functions around them do the I/O.

pub mod agent;
pub mod attempt;
pub mod campaign;
pub mod clock;
pub mod disposition;
pub mod dnc;
pub mod events;
pub mod pacer;
pub mod runtime;
pub mod sample;
pub mod sim;
pub mod store;
pub mod telephony;
pub mod users;

pub use store::Db;
