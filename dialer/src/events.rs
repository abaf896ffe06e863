//! The one event stream (rule 4 of the house): domain events go out on a single typed
//! broadcast channel that the wallboard, the pacer and the logs subscribe to.

use tokio::sync::broadcast;

use crate::agent::StateChange;

/// A domain event.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// An agent changed state; the change is already stored when this is sent.
    AgentState(StateChange),
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
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new(4096)
    }
}
