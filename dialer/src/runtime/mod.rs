//! The campaign runtime: what turns a running campaign into calls.
//!
//! - [`engine`]: the [`Engine`], one per dialer process: agents, campaigns, calls, timers.
//! - [`hopper`]: reserving records in call order, with every check that keeps a dial legal.
//! - [`call`]: a live call's data.
//! - [`journal`]: what the engine decided, waiting to be committed in order.
//! - [`window`]: the abandon rate over a campaign's compliance window.

pub mod call;
pub mod engine;
pub mod hopper;
pub mod journal;
pub mod window;

pub use engine::{Disposal, Engine, EngineConfig, EngineError, EngineStats};
pub use hopper::QuotaGate;
