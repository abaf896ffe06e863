//! The call simulator: a simulated telephone world in virtual time, deterministic for a seed,
//! and runs of the real campaign runtime against it.
//!
//! - [`scenario`]: the scenario files that describe the world (agents, answer rates, timings).
//! - [`distribution`]: the distributions of durations those files use.
//! - [`world`]: each dial's fate, drawn from (seed, number, dial index).
//! - [`switch`]: a [`crate::telephony::Switch`] whose calls meet their fates.
//! - [`setup`]: the simulated call centre's store: campaign, agents, sample.
//! - [`desk`]: simulated agents who take calls, wrap up and give dispositions.
//! - [`metrics`]: what a run measured, from the world's ground truth.
//! - [`run`]: a run end to end, in virtual or real time.

pub mod desk;
pub mod distribution;
pub mod metrics;
pub mod run;
pub mod scenario;
pub mod setup;
pub mod switch;
pub mod world;
