//! The one event stream (rule 4 of the house): domain events go out on a single typed
//! broadcast channel that the wallboard, the pacer and the logs subscribe to. Everything sent
//! here is already stored.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::broadcast;

use crate::agent::StateChange;
use crate::campaign::{DialMode, Outcome};
use crate::telephony::{CallId, Verdict};
use crate::users::UserId;

/// A domain event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Event {
    /// An agent changed state.
    AgentState(StateChange),
    /// A call moved on.
    Call(CallNote),
    /// A campaign's pacer decided.
    Decision(DecisionNote),
    /// A record is shown to an agent in preview.
    Preview(PreviewNote),
}

/// A step of a call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallNote {
    /// The campaign.
    pub campaign: i64,
    /// The call.
    pub call: CallId,
    /// The record dialed.
    pub record: i64,
    /// The attempt.
    pub attempt: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// What happened.
    pub step: CallStep,
}

/// What happened to a call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum CallStep {
    /// The number was dialed.
    Dialed {
        /// The mode.
        mode: DialMode,
    },
    /// The far end answered.
    Answered {
        /// The detector's verdict.
        verdict: Verdict,
    },
    /// A person waits for an agent.
    Waiting,
    /// The call reached an agent.
    Bridged {
        /// The agent.
        agent: UserId,
    },
    /// No agent came in time; the person hears the information message.
    Abandoned,
    /// A keypad reply.
    Keypad {
        /// The keys.
        digits: String,
    },
    /// The call is over.
    Ended {
        /// How it ended.
        outcome: Outcome,
    },
}

/// One decision of a campaign's pacer, with the figures that explain it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionNote {
    /// The campaign.
    pub campaign: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// The strategy.
    pub strategy: &'static str,
    /// Dials placed.
    pub dial: u32,
    /// The dial level.
    pub level: f64,
    /// The inputs and intermediate figures.
    pub figures: Vec<(&'static str, f64)>,
    /// A note.
    pub note: &'static str,
}

/// A record offered to an agent in preview.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreviewNote {
    /// The agent.
    pub agent: UserId,
    /// The campaign.
    pub campaign: i64,
    /// The record.
    pub record: i64,
    /// The call that dialing it will be.
    pub call: CallId,
    /// The agent must act before this (none: no limit).
    pub until: Option<DateTime<Utc>>,
}

/// The sending side of the event stream; cheap to clone.
#[derive(Debug, Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Event>,
}

impl EventBus {
    /// A bus whose subscribers may lag by up to `capacity` events before they miss some.
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity);
        Self { sender }
    }

    /// Sends an event to every current subscriber; nobody listening is not an error.
    pub fn publish(&self, event: Event) {
        let _ = self.sender.send(event);
    }

    /// A new subscription that sees every event sent from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }

    /// Whether anyone listens (events are built only then).
    pub fn has_subscribers(&self) -> bool {
        self.sender.receiver_count() > 0
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new(4096)
    }
}
