//! The call simulator: a simulated telephone world in virtual time, deterministic for a seed.
//!
//! - [`scenario`]: the scenario files that describe the world (agents, answer rates, timings).
//! - [`distribution`]: the distributions of durations those files use.
//! - [`world`]: each dial's fate, drawn from (seed, number, dial index).
//! - [`switch`]: a [`crate::telephony::Switch`] whose calls meet their fates.

pub mod distribution;
pub mod scenario;
pub mod switch;
pub mod world;
