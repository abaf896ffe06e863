//! A live call as the runtime tracks it: which record and attempt it is, who it is for, and
//! where it is, from dialing to the end. Plain data; the engine moves it along.

use chrono::{DateTime, Utc};

use super::hopper::Reserved;
use crate::campaign::{DialMode, Outcome};
use crate::telephony::{CallId, Verdict};
use crate::users::UserId;

/// Who takes the call when it is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Whichever agent is free (predictive): the pacer placed it.
    Pacer,
    /// The agent reserved before dialing (progressive, preview, a personal callback).
    Agent(UserId),
    /// Nobody: a message and a keypad reply (agentless).
    Agentless,
}

/// Why a prompt is playing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Playing {
    /// The information message of an abandoned call.
    AbandonMessage,
    /// A message left on an answering machine.
    MachineMessage,
    /// The closing words of an agentless call.
    Thanks,
}

/// Where a call is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    /// Placed, not yet answered or resolved.
    Ringing,
    /// Answered by a person; no agent yet.
    Waiting,
    /// An agent was reserved and the bridge asked for.
    Connecting(UserId),
    /// Talking to an agent.
    Bridged(UserId),
    /// Collecting a keypad reply (agentless).
    Collecting,
    /// A prompt is playing, then the call is hung up.
    Playing(Playing),
    /// The runtime hung up; waiting for the switch to confirm.
    Ending,
}

/// A call in the switch that the runtime placed.
#[derive(Debug, Clone)]
pub struct LiveCall {
    /// The call.
    pub id: CallId,
    /// The campaign.
    pub campaign: i64,
    /// The record and attempt.
    pub reserved: Reserved,
    /// Who takes it.
    pub route: Route,
    /// The mode it was dialed in.
    pub mode: DialMode,
    /// When it was dialed.
    pub dialed_at: DateTime<Utc>,
    /// When the far end answered.
    pub answered_at: Option<DateTime<Utc>>,
    /// The detector's verdict.
    pub verdict: Option<Verdict>,
    /// Where it is.
    pub phase: Phase,
    /// The outcome decided so far (abandoned, machine...), before the end.
    pub outcome: Option<Outcome>,
    /// The agent it was bridged to.
    pub agent: Option<UserId>,
    /// When it was bridged.
    pub bridged_at: Option<DateTime<Utc>>,
    /// The disposition an agentless reply chose.
    pub disposition: Option<String>,
}

impl LiveCall {
    /// Whether the pacer still counts it as a dial in flight (placed by the pacer, not yet
    /// answered, or answered and waiting for an agent).
    pub fn is_pacer_dial(&self) -> bool {
        self.route == Route::Pacer && matches!(self.phase, Phase::Ringing | Phase::Waiting)
    }
}
