//! A live call as the runtime tracks it: which record and attempt it is, who it is for, and
//! where it is, from dialing to the end. Plain data; the engine moves it along.

use chrono::{DateTime, Utc};

use super::hopper::Reserved;
use crate::campaign::{DialMode, Outcome};
use crate::pacer::{DialPhase, DialSnapshot};
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

/// The pacer's dials in flight (ringing, or answered by a person who waits for an agent),
/// kept as the slice the pacer reads, so that a decision does not gather them call by call.
#[derive(Debug, Default)]
pub struct InFlight {
    slots: Vec<DialSnapshot>,
    ids: Vec<CallId>,
    index: foldhash::HashMap<CallId, usize>,
}

impl InFlight {
    /// Adds or updates a dial.
    pub fn set(&mut self, call: &CallId, snapshot: DialSnapshot) {
        match self.index.get(call) {
            Some(&i) => self.slots[i] = snapshot,
            None => {
                self.index.insert(call.clone(), self.slots.len());
                self.slots.push(snapshot);
                self.ids.push(call.clone());
            }
        }
    }

    /// Removes a dial (answered by a machine, connecting, ended); nothing if it is not here.
    pub fn remove(&mut self, call: &CallId) {
        let Some(i) = self.index.remove(call) else { return };
        self.slots.swap_remove(i);
        self.ids.swap_remove(i);
        if let Some(moved) = self.ids.get(i) {
            self.index.insert(moved.clone(), i);
        }
    }

    /// The dials, in no particular order.
    pub fn slots(&self) -> &[DialSnapshot] {
        &self.slots
    }
}

/// How the pacer sees a live call, if it is one of its dials in flight (`secs` turns a time
/// into the pacer's seconds).
pub fn pacer_view(call: &LiveCall, secs: impl Fn(DateTime<Utc>) -> f64) -> Option<DialSnapshot> {
    if !call.is_pacer_dial() {
        return None;
    }
    Some(DialSnapshot {
        dialed_at: secs(call.dialed_at),
        phase: match (call.phase, call.answered_at) {
            (Phase::Waiting, Some(at)) => DialPhase::Waiting { answered_at: secs(at) },
            _ => DialPhase::Ringing,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ringing(at: f64) -> DialSnapshot {
        DialSnapshot {
            dialed_at: at,
            phase: DialPhase::Ringing,
        }
    }

    #[test]
    fn in_flight_keeps_what_was_added_and_not_removed() {
        let mut set = InFlight::default();
        for i in 0..5 {
            set.set(&CallId(format!("c{i}")), ringing(f64::from(i)));
        }
        set.remove(&CallId("c1".into()));
        set.remove(&CallId("c4".into()));
        set.remove(&CallId("missing".into()));
        set.set(
            &CallId("c0".into()),
            DialSnapshot {
                dialed_at: 0.0,
                phase: DialPhase::Waiting { answered_at: 9.0 },
            },
        );
        let mut left: Vec<f64> = set.slots().iter().map(|d| d.dialed_at).collect();
        left.sort_by(f64::total_cmp);
        assert_eq!(left, vec![0.0, 2.0, 3.0]);
        assert_eq!(set.slots().len(), 3);
        assert!(
            set.slots()
                .iter()
                .any(|d| d.phase == DialPhase::Waiting { answered_at: 9.0 })
        );
        set.remove(&CallId("c3".into()));
        set.remove(&CallId("c0".into()));
        set.remove(&CallId("c2".into()));
        assert!(set.slots().is_empty());
    }
}
