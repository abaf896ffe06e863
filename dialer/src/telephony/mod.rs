//! The telephony boundary: what the dialer asks of a switch, and what a switch tells back.
//!
//! Shaped like a real switch (Asterisk, FreeSWITCH, a SIP B2BUA) so that the simulator
//! ([`crate::sim`]) and a SIP implementation are interchangeable: the campaign runtime and the
//! pacer see only [`Switch`] commands going out and [`CallEvent`]s coming in. Commands are
//! async calls; events are delivered to the runtime by whoever drives it (the simulator's
//! event loop, or a task reading the switch's event socket), in the order they happened.
//!
//! Agents hold a standing ("nailed-up") connection to the switch from log-in to log-out, so
//! bridging an answered call to an agent is a join of two live legs and takes no ringing.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use crate::agent::CallId;
use crate::users::UserId;

/// Who is behind an originated call, so that events and logs can be tied back to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CallTag {
    /// The campaign dialing.
    pub campaign_id: i64,
    /// The record dialed.
    pub record_id: i64,
    /// The attempt row of this dial.
    pub attempt_id: i64,
}

/// A request to place an outbound call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Originate {
    /// The id the dialer gives the call; every event about it carries this id.
    pub call: CallId,
    /// The number to dial, E.164.
    pub to: String,
    /// The number shown to the called person (DIAL-16), E.164.
    pub caller_id: Option<String>,
    /// How long to let it ring before giving up with [`CallEvent::NoAnswer`].
    pub ring_timeout: Duration,
    /// Whether to run answering-machine detection on answer.
    pub detect_machine: bool,
    /// What the call is for.
    pub tag: CallTag,
}

/// Who or what answered, as far as the switch could tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A live person (answering-machine detection said so).
    Person,
    /// An answering machine or voicemail.
    Machine,
    /// No detection ran, or it could not decide: treat as a person.
    Unknown,
}

impl Verdict {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Person => "person",
            Verdict::Machine => "machine",
            Verdict::Unknown => "unknown",
        }
    }
}

/// Why a call could not be placed or completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailReason {
    /// The network says the number does not exist or is not in service (SIP 404/410/484/604).
    Invalid,
    /// The network or the carrier is congested or refused the call (SIP 503, 480...).
    Congestion,
    /// Anything else.
    Other,
}

/// Which side ended a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The called (or calling) person.
    Remote,
    /// The agent.
    Agent,
    /// The dialer, by a hang-up command.
    Dialer,
}

/// Something recorded to play to a caller.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Prompt {
    /// A name the switch resolves to audio (a file, a text-to-speech text...).
    pub name: String,
    /// The words, for logs, transcripts and text-to-speech.
    pub text: String,
}

/// How to collect keypad digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigitCollection {
    /// Played first, and interrupted by the first key.
    pub prompt: Option<Prompt>,
    /// Stop after this many digits.
    pub max_digits: u8,
    /// Stop when this key is pressed (not included in the digits).
    pub terminator: Option<char>,
    /// Give up after this long without a complete entry.
    pub timeout: Duration,
}

/// What the switch tells the dialer about a call, in the order it happens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CallEvent {
    /// The far end is ringing.
    Ringing {
        /// The call.
        call: CallId,
    },
    /// The far end answered; with detection on, this comes when the detector has decided.
    Answered {
        /// The call.
        call: CallId,
        /// Who answered.
        verdict: Verdict,
        /// How long the detector listened before deciding (zero without detection). The
        /// person has been waiting this long already when the event arrives.
        analysis: Duration,
    },
    /// The far end was busy; the call is over.
    Busy {
        /// The call.
        call: CallId,
    },
    /// Nobody answered within the ring timeout; the call is over.
    NoAnswer {
        /// The call.
        call: CallId,
    },
    /// The call could not be completed; it is over.
    Failed {
        /// The call.
        call: CallId,
        /// Why.
        reason: FailReason,
    },
    /// The call is joined to the agent's standing connection.
    Bridged {
        /// The call.
        call: CallId,
        /// The agent.
        agent: UserId,
    },
    /// A prompt finished playing.
    PromptDone {
        /// The call.
        call: CallId,
    },
    /// Keypad digits were collected (possibly none, on timeout).
    Digits {
        /// The call.
        call: CallId,
        /// The keys pressed, without the terminator.
        digits: String,
    },
    /// The call ended after it was answered.
    HungUp {
        /// The call.
        call: CallId,
        /// Who ended it.
        by: Side,
    },
}

impl CallEvent {
    /// The call the event is about.
    pub fn call(&self) -> &CallId {
        match self {
            CallEvent::Ringing { call }
            | CallEvent::Answered { call, .. }
            | CallEvent::Busy { call }
            | CallEvent::NoAnswer { call }
            | CallEvent::Failed { call, .. }
            | CallEvent::Bridged { call, .. }
            | CallEvent::PromptDone { call }
            | CallEvent::Digits { call, .. }
            | CallEvent::HungUp { call, .. } => call,
        }
    }
}

/// Why the switch refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SwitchError {
    /// The call is not (or no longer) live in the switch.
    #[error("call {0} is not live")]
    NoSuchCall(CallId),
    /// The agent has no standing connection.
    #[error("agent {0} is not connected to the switch")]
    AgentNotConnected(UserId),
    /// The switch cannot take more calls now.
    #[error("the switch has no free line")]
    NoLine,
    /// The switch could not be reached or failed.
    #[error("switch failure: {0}")]
    Unavailable(String),
}

/// A telephone switch as the dialer uses it. Every command returns once the switch has taken
/// it; what follows arrives later as [`CallEvent`]s.
pub trait Switch {
    /// Opens an agent's standing connection (at log-in).
    fn connect_agent(&mut self, agent: UserId) -> impl Future<Output = Result<(), SwitchError>>;
    /// Closes an agent's standing connection (at log-out); a call bridged to them ends.
    fn disconnect_agent(&mut self, agent: UserId) -> impl Future<Output = Result<(), SwitchError>>;
    /// Places a call.
    fn originate(&mut self, request: Originate) -> impl Future<Output = Result<(), SwitchError>>;
    /// Joins an answered call to an agent's standing connection.
    fn bridge(&mut self, call: &CallId, agent: UserId) -> impl Future<Output = Result<(), SwitchError>>;
    /// Plays a prompt to the far end of an answered call.
    fn play(&mut self, call: &CallId, prompt: &Prompt) -> impl Future<Output = Result<(), SwitchError>>;
    /// Collects keypad digits from the far end of an answered call.
    fn collect_digits(
        &mut self,
        call: &CallId,
        collection: &DigitCollection,
    ) -> impl Future<Output = Result<(), SwitchError>>;
    /// Ends a call, ringing or answered.
    fn hang_up(&mut self, call: &CallId) -> impl Future<Output = Result<(), SwitchError>>;
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}
