//! The simulated switch: a [`Switch`] in virtual time whose far ends behave as their
//! [`Fate`]s say.
//!
//! Commands read the instant from the [`ManualClock`] the driver moves, and schedule what
//! follows on a queue ordered by (time, insertion order), so a run is deterministic. The driver
//! asks [`SimSwitch::next_event_at`], sets the clock to it, takes the event with
//! [`SimSwitch::pop_event`] and hands it to the runtime. The switch also keeps the ground truth
//! the dialer cannot see (who really answered, whether a person was abandoned) in a
//! [`CallRecord`] per call, for metrics.
//!
//! What the far end does (times from the command; see also `benches/scenarios/README.md`):
//! - `originate`: a person or machine rings after min(1 s, delay / 2) and is answered after its
//!   delay (plus the detector's `analysis_s` when the dial asks for detection and the scenario
//!   has a detector), or rings out at the request's ring timeout; a busy, invalid or
//!   unanswered number reports only its outcome. The k-th dial of a number meets the k-th fate.
//! - after the answer, with nobody on the line, the far end hangs up `patience_s` after it
//!   picked up; `play` and `collect_digits` hold it until a second after they end; `bridge`
//!   holds it for the talk time (a person hangs up; an agent on a machine hangs up). A new
//!   `play`, `collect_digits` or `bridge` replaces what the far end was hearing: the earlier
//!   prompt's `PromptDone` or collection's `Digits` does not come.
//! - `hang_up` and `disconnect_agent` end the call at once (it is no longer live and its record
//!   is ready); the `HungUp` event follows at the same instant.
//!
//! Cancelled events are dropped lazily: each call slot has a generation, bumped when the call
//! ends or its slot is reused, and a media generation, bumped when a command replaces what the
//! far end is doing (waiting, hearing a prompt, keying digits); a queued event whose
//! generations are out of date is stale. The queue's head is never stale between calls, so
//! [`SimSwitch::next_event_at`] is exact.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use super::world::{Fate, TrueOutcome, World};
use crate::clock::{Clock, ManualClock};
use crate::telephony::{
    CallEvent, CallId, CallTag, DigitCollection, FailReason, Originate, Prompt, Side, Switch, SwitchError, Verdict,
};
use crate::users::UserId;

/// Virtual time in microseconds from the start of the run.
type Micros = i64;

const SECOND: Micros = 1_000_000;

fn micros_of_secs(s: f64) -> Micros {
    (s * 1e6).round() as Micros
}

/// Moves a call id out of a slot that is done with it.
fn take_id(id: &mut CallId) -> CallId {
    CallId(std::mem::take(&mut id.0))
}

fn micros_of(d: Duration) -> Micros {
    Micros::try_from(d.as_micros()).unwrap_or(Micros::MAX / 4)
}

/// The ground truth of one call, for metrics; see [`SimSwitch::take_finished`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallRecord {
    /// The call.
    pub call: CallId,
    /// What it was for.
    pub tag: CallTag,
    /// The number dialed.
    pub to: String,
    /// How many times the number had been dialed before in this switch.
    pub dial_index: u32,
    /// When it was originated.
    pub dialed_at: DateTime<Utc>,
    /// What really was at the other end.
    pub outcome: TrueOutcome,
    /// When the far end picked up (before any detection), if it did before the call ended.
    pub answered_at: Option<DateTime<Utc>>,
    /// The verdict the dialer was given, if the answer was reported.
    pub verdict: Option<Verdict>,
    /// When it was bridged to an agent.
    pub bridged_at: Option<DateTime<Utc>>,
    /// The agent it was bridged to.
    pub agent: Option<UserId>,
    /// When it ended.
    pub ended_at: DateTime<Utc>,
    /// Who ended it; `None` if it ended unanswered (busy, no answer, invalid).
    pub ended_by: Option<Side>,
    /// A real person answered and was not bridged within `connect_grace_s` of answering
    /// (including persons the detector took for machines, whatever the dialer did).
    pub abandoned: bool,
    /// The dialer hung up before the answer was reported (while the call rang).
    pub cancelled: bool,
}

/// What a queued event does when it comes due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ringing,
    Answered,
    Busy,
    NoAnswer,
    Invalid,
    Bridged,
    /// The bridged call's talk time is over.
    TalkEnd,
    /// Nobody came: the far end gives up.
    Patience,
    PromptDone,
    Digits(Option<char>),
    /// The far end hangs up a second after its prompt or collection ended.
    FarHangUp,
    /// A call already ended by a command reports how.
    Ended(Side),
}

impl Kind {
    /// Whether a command on the far end's media (bridge, play, collect) cancels it.
    fn is_media(self) -> bool {
        matches!(
            self,
            Kind::Patience | Kind::PromptDone | Kind::Digits(_) | Kind::FarHangUp
        )
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    at: Micros,
    seq: u64,
    slot: u32,
    generation: u32,
    media: u32,
    kind: Kind,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not in use; on the free list.
    Free,
    /// Placed; the answer (if any) not yet reported.
    Ringing,
    /// The answer was reported.
    Answered,
    /// Ended by a command; the slot waits for its `Ended` event.
    Ending,
}

#[derive(Debug)]
struct Slot {
    generation: u32,
    media: u32,
    phase: Phase,
    id: CallId,
    to: String,
    tag: CallTag,
    dial_index: u32,
    fate: Fate,
    detect: bool,
    dialed: Micros,
    /// When the far end picks up, if it does before the ring timeout.
    pickup: Option<Micros>,
    verdict: Option<Verdict>,
    bridged: Option<(Micros, UserId)>,
}

/// The simulated switch; see the module documentation.
#[derive(Debug)]
pub struct SimSwitch {
    world: World,
    clock: ManualClock,
    start: DateTime<Utc>,
    grace: Micros,
    patience: Micros,
    prompt: Micros,
    analysis: Micros,
    queue: BinaryHeap<Reverse<Entry>>,
    seq: u64,
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// Live calls (placed and not ended) by id.
    live: HashMap<CallId, u32>,
    /// Dials per number so far.
    dials: HashMap<String, u32>,
    /// Connected agents, with the slot of the call bridged to them.
    agents: HashMap<UserId, Option<u32>>,
    finished: Vec<CallRecord>,
}

impl SimSwitch {
    /// A switch for `world`, reading the time from `clock`; the run starts at the scenario's
    /// `start` (fates are drawn with the hour since then).
    pub fn new(world: World, clock: ManualClock) -> Self {
        let scenario = &world.scenario;
        let analysis = if scenario.amd.enabled {
            micros_of_secs(scenario.amd.analysis_s)
        } else {
            0
        };
        Self {
            start: scenario.start,
            grace: micros_of_secs(scenario.connect_grace_s),
            patience: micros_of_secs(scenario.patience_s),
            prompt: micros_of_secs(scenario.prompt_s),
            analysis,
            world,
            clock,
            queue: BinaryHeap::new(),
            seq: 0,
            slots: Vec::new(),
            free: Vec::new(),
            live: HashMap::new(),
            dials: HashMap::new(),
            agents: HashMap::new(),
            finished: Vec::new(),
        }
    }

    /// The world the calls come from.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// When the next event is due, if any.
    pub fn next_event_at(&self) -> Option<DateTime<Utc>> {
        self.queue.peek().map(|Reverse(e)| self.instant(e.at))
    }

    /// Removes the earliest event and applies what it means to the call (an answer, an end);
    /// the driver sets the clock to its time before handing it to the runtime.
    pub fn pop_event(&mut self) -> Option<(DateTime<Utc>, CallEvent)> {
        while let Some(Reverse(entry)) = self.queue.pop() {
            if self.is_stale(&entry) {
                continue;
            }
            let event = self.fire(entry);
            self.drop_stale_head();
            return Some((self.instant(entry.at), event));
        }
        None
    }

    /// The ground truth of every call that ended since the last take, in the order they ended.
    pub fn take_finished(&mut self) -> Vec<CallRecord> {
        std::mem::take(&mut self.finished)
    }

    /// What really answered a live call (the world's truth, which the dialer cannot see): the
    /// simulated agents use it to tell a machine that detection missed.
    pub fn outcome_of(&self, call: &CallId) -> Option<TrueOutcome> {
        self.live.get(call).map(|slot| self.slots[*slot as usize].fate.outcome)
    }

    /// Calls placed and not ended.
    pub fn live_calls(&self) -> usize {
        self.live.len()
    }

    /// Whether the agent has a standing connection.
    pub fn is_connected(&self, agent: UserId) -> bool {
        self.agents.contains_key(&agent)
    }

    fn instant(&self, at: Micros) -> DateTime<Utc> {
        self.start + TimeDelta::microseconds(at)
    }

    fn now(&self) -> Micros {
        (self.clock.now() - self.start)
            .num_microseconds()
            .expect("virtual time within 292,000 years of the start")
    }

    fn is_stale(&self, entry: &Entry) -> bool {
        let slot = &self.slots[entry.slot as usize];
        slot.generation != entry.generation || (entry.kind.is_media() && slot.media != entry.media)
    }

    /// Keeps the invariant that the queue's head is a live event.
    fn drop_stale_head(&mut self) {
        while let Some(Reverse(head)) = self.queue.peek() {
            if !self.is_stale(head) {
                break;
            }
            self.queue.pop();
        }
    }

    fn schedule(&mut self, at: Micros, slot: u32, kind: Kind) {
        let s = &self.slots[slot as usize];
        let entry = Entry {
            at,
            seq: self.seq,
            slot,
            generation: s.generation,
            media: s.media,
            kind,
        };
        self.seq += 1;
        self.queue.push(Reverse(entry));
    }

    /// Cancels whatever the far end was doing (waiting, a prompt, a collection).
    fn new_media(&mut self, slot: u32) {
        let s = &mut self.slots[slot as usize];
        s.media = s.media.wrapping_add(1);
    }

    /// The slot of a live call whose answer was reported.
    fn answered(&self, call: &CallId) -> Result<u32, SwitchError> {
        match self.live.get(call) {
            Some(&slot) if self.slots[slot as usize].phase == Phase::Answered => Ok(slot),
            _ => Err(SwitchError::NoSuchCall(call.clone())),
        }
    }

    fn fire(&mut self, entry: Entry) -> CallEvent {
        let slot = entry.slot;
        let s = &mut self.slots[slot as usize];
        match entry.kind {
            Kind::Ringing => CallEvent::Ringing { call: s.id.clone() },
            Kind::Answered => {
                s.phase = Phase::Answered;
                let (verdict, analysis) = if s.detect {
                    (s.fate.amd_verdict, self.analysis)
                } else {
                    (Verdict::Unknown, 0)
                };
                s.verdict = Some(verdict);
                let call = s.id.clone();
                let pickup = s.pickup.unwrap_or(entry.at);
                self.schedule((pickup + self.patience).max(entry.at), slot, Kind::Patience);
                CallEvent::Answered {
                    call,
                    verdict,
                    analysis: Duration::from_micros(analysis as u64),
                }
            }
            Kind::Busy => CallEvent::Busy {
                call: self.end_on_event(slot, entry.at, None),
            },
            Kind::NoAnswer => CallEvent::NoAnswer {
                call: self.end_on_event(slot, entry.at, None),
            },
            Kind::Invalid => CallEvent::Failed {
                call: self.end_on_event(slot, entry.at, None),
                reason: FailReason::Invalid,
            },
            Kind::Bridged => {
                let agent = s.bridged.expect("a bridged event has its bridge").1;
                CallEvent::Bridged {
                    call: s.id.clone(),
                    agent,
                }
            }
            Kind::TalkEnd => {
                // An agent on a machine hangs up when done; a person hangs up when done talking.
                let by = if s.fate.outcome == TrueOutcome::Machine {
                    Side::Agent
                } else {
                    Side::Remote
                };
                CallEvent::HungUp {
                    call: self.end_on_event(slot, entry.at, Some(by)),
                    by,
                }
            }
            Kind::Patience | Kind::FarHangUp => CallEvent::HungUp {
                call: self.end_on_event(slot, entry.at, Some(Side::Remote)),
                by: Side::Remote,
            },
            Kind::PromptDone => CallEvent::PromptDone { call: s.id.clone() },
            Kind::Digits(key) => CallEvent::Digits {
                call: s.id.clone(),
                digits: key.map(String::from).unwrap_or_default(),
            },
            Kind::Ended(by) => {
                let call = take_id(&mut s.id);
                self.release(slot);
                CallEvent::HungUp { call, by }
            }
        }
    }

    /// Ends a call on one of its events; returns its id for the event.
    fn end_on_event(&mut self, slot: u32, at: Micros, by: Option<Side>) -> CallId {
        self.finish(slot, at, by, false);
        let id = take_id(&mut self.slots[slot as usize].id);
        self.release(slot);
        id
    }

    /// Ends a call on a command: it is over now, and says so with an event at once.
    fn end_on_command(&mut self, slot: u32, now: Micros, by: Side) {
        let cancelled = self.slots[slot as usize].phase == Phase::Ringing;
        self.finish(slot, now, Some(by), cancelled);
        let s = &mut self.slots[slot as usize];
        s.phase = Phase::Ending;
        s.generation = s.generation.wrapping_add(1);
        self.schedule(now, slot, Kind::Ended(by));
    }

    /// Takes a call out of the live set, frees its agent and records its ground truth.
    fn finish(&mut self, slot: u32, at: Micros, by: Option<Side>, cancelled: bool) {
        let s = &mut self.slots[slot as usize];
        let (call, _) = self.live.remove_entry(&s.id).expect("a call ending is live");
        if let Some((_, agent)) = s.bridged
            && let Some(line) = self.agents.get_mut(&agent)
            && *line == Some(slot)
        {
            *line = None;
        }
        let answered = s.pickup.filter(|&p| p <= at);
        let abandoned = s.fate.outcome == TrueOutcome::Person
            && answered.is_some_and(|p| s.bridged.is_none_or(|(b, _)| b - p > self.grace));
        let record = CallRecord {
            call,
            tag: s.tag,
            to: std::mem::take(&mut s.to),
            dial_index: s.dial_index,
            dialed_at: self.start + TimeDelta::microseconds(s.dialed),
            outcome: s.fate.outcome,
            answered_at: answered.map(|p| self.start + TimeDelta::microseconds(p)),
            verdict: s.verdict,
            bridged_at: s.bridged.map(|(b, _)| self.start + TimeDelta::microseconds(b)),
            agent: s.bridged.map(|(_, a)| a),
            ended_at: self.start + TimeDelta::microseconds(at),
            ended_by: by,
            abandoned,
            cancelled,
        };
        self.finished.push(record);
    }

    fn release(&mut self, slot: u32) {
        let s = &mut self.slots[slot as usize];
        s.phase = Phase::Free;
        s.generation = s.generation.wrapping_add(1);
        self.free.push(slot);
    }

    fn place(&mut self, request: Originate) -> Result<(), SwitchError> {
        if self.live.contains_key(&request.call) {
            return Err(SwitchError::Unavailable(format!(
                "call {} is already live",
                request.call
            )));
        }
        let now = self.now();
        let Originate {
            call,
            to,
            ring_timeout,
            detect_machine,
            tag,
            ..
        } = request;
        let dial_index = match self.dials.get_mut(to.as_str()) {
            Some(n) => {
                *n += 1;
                *n - 1
            }
            None => {
                self.dials.insert(to.clone(), 1);
                0
            }
        };
        let fate = self.world.fate(&to, dial_index, now as f64 / 3.6e9);
        let ring = micros_of(ring_timeout);
        let delay = micros_of_secs(fate.delay_s);
        let pickup = (fate.outcome.answers() && delay < ring).then_some(now + delay);
        let detect = detect_machine && self.world.scenario.amd.enabled;
        let fields = |generation: u32, media: u32, id: CallId| Slot {
            generation,
            media,
            phase: Phase::Ringing,
            id,
            to,
            tag,
            dial_index,
            fate,
            detect,
            dialed: now,
            pickup,
            verdict: None,
            bridged: None,
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                let old = &mut self.slots[slot as usize];
                *old = fields(old.generation, old.media, call.clone());
                slot
            }
            None => {
                self.slots.push(fields(0, 0, call.clone()));
                u32::try_from(self.slots.len() - 1).expect("fewer than 2^32 calls at once")
            }
        };
        self.live.insert(call, slot);
        match fate.outcome {
            TrueOutcome::Person | TrueOutcome::Machine => {
                self.schedule(now + SECOND.min(delay / 2), slot, Kind::Ringing);
                match pickup {
                    Some(p) => self.schedule(p + if detect { self.analysis } else { 0 }, slot, Kind::Answered),
                    None => self.schedule(now + ring, slot, Kind::NoAnswer),
                }
            }
            TrueOutcome::Busy => self.schedule(now + delay, slot, Kind::Busy),
            TrueOutcome::NoAnswer => self.schedule(now + delay.min(ring), slot, Kind::NoAnswer),
            TrueOutcome::Invalid => self.schedule(now + delay, slot, Kind::Invalid),
        }
        Ok(())
    }

    fn join(&mut self, call: &CallId, agent: UserId) -> Result<(), SwitchError> {
        let slot = self.answered(call)?;
        match self.agents.get(&agent) {
            None => return Err(SwitchError::AgentNotConnected(agent)),
            Some(Some(_)) => return Err(SwitchError::Unavailable("agent busy".to_owned())),
            Some(None) => {}
        }
        if self.slots[slot as usize].bridged.is_some() {
            return Err(SwitchError::Unavailable(format!("call {call} is already bridged")));
        }
        let now = self.now();
        self.agents.insert(agent, Some(slot));
        self.new_media(slot);
        let s = &mut self.slots[slot as usize];
        s.bridged = Some((now, agent));
        let talk = micros_of_secs(s.fate.talk_s);
        self.schedule(now, slot, Kind::Bridged);
        self.schedule(now + talk, slot, Kind::TalkEnd);
        Ok(())
    }

    fn start_prompt(&mut self, call: &CallId) -> Result<(), SwitchError> {
        let slot = self.answered(call)?;
        let done = self.now() + self.prompt;
        self.new_media(slot);
        self.schedule(done, slot, Kind::PromptDone);
        if self.slots[slot as usize].bridged.is_none() {
            self.schedule(done + SECOND, slot, Kind::FarHangUp);
        }
        Ok(())
    }

    fn start_collection(&mut self, call: &CallId, collection: &DigitCollection) -> Result<(), SwitchError> {
        let slot = self.answered(call)?;
        let now = self.now();
        let timeout = micros_of(collection.timeout);
        let (at, key) = match self.slots[slot as usize].fate.keypad {
            Some((key, delay)) if micros_of_secs(delay) <= timeout => {
                // Pressing only the terminator enters nothing.
                (
                    now + micros_of_secs(delay),
                    Some(key).filter(|&k| Some(k) != collection.terminator),
                )
            }
            _ => (now + timeout, None),
        };
        self.new_media(slot);
        self.schedule(at, slot, Kind::Digits(key));
        if self.slots[slot as usize].bridged.is_none() {
            self.schedule(at + SECOND, slot, Kind::FarHangUp);
        }
        Ok(())
    }

    fn end(&mut self, call: &CallId) -> Result<(), SwitchError> {
        let &slot = self
            .live
            .get(call)
            .ok_or_else(|| SwitchError::NoSuchCall(call.clone()))?;
        let now = self.now();
        self.end_on_command(slot, now, Side::Dialer);
        Ok(())
    }

    fn connect(&mut self, agent: UserId) -> Result<(), SwitchError> {
        if self.agents.contains_key(&agent) {
            return Err(SwitchError::Unavailable(format!("agent {agent} is already connected")));
        }
        self.agents.insert(agent, None);
        Ok(())
    }

    fn disconnect(&mut self, agent: UserId) -> Result<(), SwitchError> {
        match self.agents.remove(&agent) {
            None => Err(SwitchError::AgentNotConnected(agent)),
            Some(None) => Ok(()),
            Some(Some(slot)) => {
                let now = self.now();
                self.end_on_command(slot, now, Side::Agent);
                Ok(())
            }
        }
    }

    /// Runs a command and restores the queue-head invariant.
    fn command<T>(&mut self, run: impl FnOnce(&mut Self) -> T) -> T {
        let result = run(self);
        self.drop_stale_head();
        result
    }
}

/// Every command takes effect at the clock's instant and completes at once.
impl Switch for SimSwitch {
    async fn connect_agent(&mut self, agent: UserId) -> Result<(), SwitchError> {
        self.command(|s| s.connect(agent))
    }

    async fn disconnect_agent(&mut self, agent: UserId) -> Result<(), SwitchError> {
        self.command(|s| s.disconnect(agent))
    }

    async fn originate(&mut self, request: Originate) -> Result<(), SwitchError> {
        self.command(|s| s.place(request))
    }

    async fn bridge(&mut self, call: &CallId, agent: UserId) -> Result<(), SwitchError> {
        self.command(|s| s.join(call, agent))
    }

    async fn play(&mut self, call: &CallId, _prompt: &Prompt) -> Result<(), SwitchError> {
        self.command(|s| s.start_prompt(call))
    }

    async fn collect_digits(&mut self, call: &CallId, collection: &DigitCollection) -> Result<(), SwitchError> {
        self.command(|s| s.start_collection(call, collection))
    }

    async fn hang_up(&mut self, call: &CallId) -> Result<(), SwitchError> {
        self.command(|s| s.end(call))
    }
}

#[cfg(test)]
mod tests {
    use std::pin::pin;
    use std::sync::Arc;
    use std::task::{Context, Poll, Waker};

    use super::*;
    use crate::sim::scenario::Scenario;

    /// Runs a command of the simulated switch, which completes without waiting.
    fn run<F: Future>(future: F) -> F::Output {
        match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(output) => output,
            Poll::Pending => panic!("a simulated switch command waited"),
        }
    }

    /// A scenario where every dial has `outcome` after fixed delays, with `extra` lines added.
    fn scenario(outcome: &str, extra: &str) -> String {
        format!(
            r#"
name = "t"
hours = 1
abandon_target = 0.03
window_hours = 24
connect_grace_s = 2
prompt_s = 6
patience_s = 30
machine_talk_s = {{ dist = "fixed", value = 8 }}
[agents]
count = 2
wrap_up_s = {{ dist = "fixed", value = 10 }}
[outcomes]
{outcome} = 1
[delay_s]
person = {{ dist = "fixed", value = 5 }}
machine = {{ dist = "fixed", value = 4 }}
busy = {{ dist = "fixed", value = 3 }}
no_answer = {{ dist = "fixed", value = 40 }}
invalid = {{ dist = "fixed", value = 2 }}
[talk_time_s]
dist = "fixed"
value = 60
{extra}
"#
        )
    }

    const AMD: &str = "[amd]\nenabled = true\nanalysis_s = 1.5\nfalse_positive = 0.0\nfalse_negative = 0.0\n";

    struct Rig {
        switch: SimSwitch,
        clock: ManualClock,
        start: DateTime<Utc>,
    }

    impl Rig {
        fn new(text: &str, seed: u64) -> Self {
            let scenario = Scenario::from_toml(text, "t.toml").unwrap();
            let start = scenario.start;
            let clock = ManualClock::new(start);
            let switch = SimSwitch::new(World::new(Arc::new(scenario), seed), clock.clone());
            Rig { switch, clock, start }
        }

        fn of(outcome: &str, extra: &str) -> Self {
            Self::new(&scenario(outcome, extra), 1)
        }

        fn secs(&self, at: DateTime<Utc>) -> f64 {
            (at - self.start).num_microseconds().unwrap() as f64 / 1e6
        }

        /// Moves the clock to `s` seconds after the start.
        fn at(&mut self, s: f64) {
            self.clock.set(self.start + TimeDelta::microseconds(micros_of_secs(s)));
        }

        fn originate(&mut self, call: &str, to: &str, detect: bool) -> Result<(), SwitchError> {
            run(self.switch.originate(Originate {
                call: id(call),
                to: to.to_owned(),
                caller_id: None,
                ring_timeout: Duration::from_secs(25),
                detect_machine: detect,
                tag: CallTag {
                    campaign_id: 1,
                    record_id: 2,
                    attempt_id: 3,
                },
            }))
        }

        /// Pops the next event, setting the clock to its time; returns (seconds, event).
        fn next(&mut self) -> Option<(f64, CallEvent)> {
            let expected = self.switch.next_event_at();
            let (at, event) = self.switch.pop_event()?;
            assert_eq!(expected, Some(at), "next_event_at is exact");
            self.clock.set(at);
            Some((self.secs(at), event))
        }

        /// Every remaining event, with no reaction.
        fn drain(&mut self) -> Vec<(f64, CallEvent)> {
            std::iter::from_fn(|| self.next()).collect()
        }

        fn record(&mut self) -> CallRecord {
            let mut records = self.switch.take_finished();
            assert_eq!(records.len(), 1, "{records:?}");
            records.pop().unwrap()
        }
    }

    fn id(s: &str) -> CallId {
        CallId(s.to_owned())
    }

    fn answered(call: &str, verdict: Verdict, analysis_ms: u64) -> CallEvent {
        CallEvent::Answered {
            call: id(call),
            verdict,
            analysis: Duration::from_millis(analysis_ms),
        }
    }

    fn hung_up(call: &str, by: Side) -> CallEvent {
        CallEvent::HungUp { call: id(call), by }
    }

    #[test]
    fn unanswered_outcomes() {
        let mut r = Rig::of("busy", "");
        r.originate("c", "+1", false).unwrap();
        assert_eq!(r.switch.live_calls(), 1);
        assert_eq!(r.drain(), vec![(3.0, CallEvent::Busy { call: id("c") })]);
        assert_eq!(r.switch.live_calls(), 0);
        let rec = r.record();
        assert_eq!(
            (rec.outcome, rec.ended_by, rec.answered_at, rec.abandoned),
            (TrueOutcome::Busy, None, None, false)
        );
        assert_eq!(r.secs(rec.ended_at), 3.0);

        let mut r = Rig::of("invalid", "");
        r.originate("c", "+1", false).unwrap();
        assert_eq!(
            r.drain(),
            vec![(
                2.0,
                CallEvent::Failed {
                    call: id("c"),
                    reason: FailReason::Invalid
                }
            )]
        );

        // A no-answer ends at the request's ring timeout (25 s), before the network's 40 s.
        let mut r = Rig::of("no_answer", "");
        r.originate("c", "+1", false).unwrap();
        assert_eq!(r.drain(), vec![(25.0, CallEvent::NoAnswer { call: id("c") })]);
        assert_eq!(r.record().outcome, TrueOutcome::NoAnswer);
    }

    #[test]
    fn a_person_rings_answers_and_talks() {
        let mut r = Rig::of("person", "");
        run(r.switch.connect_agent(7)).unwrap();
        assert!(r.switch.is_connected(7));
        r.originate("c", "+1", false).unwrap();
        assert_eq!(r.next(), Some((1.0, CallEvent::Ringing { call: id("c") })));
        assert_eq!(r.next(), Some((5.0, answered("c", Verdict::Unknown, 0))));
        r.at(6.0);
        run(r.switch.bridge(&id("c"), 7)).unwrap();
        assert_eq!(
            r.drain(),
            vec![
                (
                    6.0,
                    CallEvent::Bridged {
                        call: id("c"),
                        agent: 7
                    }
                ),
                (66.0, hung_up("c", Side::Remote)),
            ]
        );
        let rec = r.record();
        assert_eq!(r.secs(rec.answered_at.unwrap()), 5.0);
        assert_eq!(r.secs(rec.bridged_at.unwrap()), 6.0);
        assert_eq!(
            (rec.agent, rec.ended_by, rec.verdict),
            (Some(7), Some(Side::Remote), Some(Verdict::Unknown))
        );
        assert!(!rec.abandoned && !rec.cancelled);
        assert_eq!((rec.to.as_str(), rec.dial_index, rec.tag.record_id), ("+1", 0, 2));
        // The agent is free again.
        r.originate("d", "+2", false).unwrap();
        while r.next().is_some_and(|(_, e)| !matches!(e, CallEvent::Answered { .. })) {}
        run(r.switch.bridge(&id("d"), 7)).unwrap();
    }

    #[test]
    fn ringing_comes_at_half_a_short_delay() {
        let text = scenario("person", "").replace(
            "person = { dist = \"fixed\", value = 5 }",
            "person = { dist = \"fixed\", value = 1.2 }",
        );
        let mut r = Rig::new(&text, 1);
        r.originate("c", "+1", false).unwrap();
        assert_eq!(r.next(), Some((0.6, CallEvent::Ringing { call: id("c") })));
        assert_eq!(r.next(), Some((1.2, answered("c", Verdict::Unknown, 0))));
    }

    #[test]
    fn answers_after_the_ring_timeout_ring_out() {
        let text = scenario("machine", "").replace(
            "machine = { dist = \"fixed\", value = 4 }",
            "machine = { dist = \"fixed\", value = 30 }",
        );
        let mut r = Rig::new(&text, 1);
        r.originate("c", "+1", false).unwrap();
        assert_eq!(
            r.drain(),
            vec![
                (1.0, CallEvent::Ringing { call: id("c") }),
                (25.0, CallEvent::NoAnswer { call: id("c") })
            ]
        );
        let rec = r.record();
        assert_eq!(
            (rec.outcome, rec.answered_at, rec.ended_by),
            (TrueOutcome::Machine, None, None)
        );
    }

    #[test]
    fn machines_with_and_without_detection() {
        // Without detection (none in the scenario, or not asked for) a machine looks like anyone.
        for (extra, detect) in [("", true), (AMD, false)] {
            let mut r = Rig::of("machine", extra);
            r.originate("c", "+1", detect).unwrap();
            assert_eq!(r.next(), Some((1.0, CallEvent::Ringing { call: id("c") })));
            assert_eq!(r.next(), Some((4.0, answered("c", Verdict::Unknown, 0))));
        }
        // With it, the verdict comes after the analysis.
        let mut r = Rig::of("machine", AMD);
        run(r.switch.connect_agent(7)).unwrap();
        r.originate("c", "+1", true).unwrap();
        assert_eq!(r.next(), Some((1.0, CallEvent::Ringing { call: id("c") })));
        assert_eq!(r.next(), Some((5.5, answered("c", Verdict::Machine, 1500))));
        // Bridged anyway, the agent hangs up on the machine after machine_talk_s.
        run(r.switch.bridge(&id("c"), 7)).unwrap();
        assert_eq!(
            r.drain(),
            vec![
                (
                    5.5,
                    CallEvent::Bridged {
                        call: id("c"),
                        agent: 7
                    }
                ),
                (13.5, hung_up("c", Side::Agent))
            ]
        );
        let rec = r.record();
        assert_eq!(
            (rec.outcome, rec.verdict, rec.abandoned),
            (TrueOutcome::Machine, Some(Verdict::Machine), false)
        );
        assert_eq!(r.secs(rec.answered_at.unwrap()), 4.0);
        // A person through the detector: the grace runs from the pick-up, not the verdict.
        let mut r = Rig::of("person", AMD);
        run(r.switch.connect_agent(7)).unwrap();
        r.originate("c", "+1", true).unwrap();
        r.next();
        assert_eq!(r.next(), Some((6.5, answered("c", Verdict::Person, 1500))));
        run(r.switch.bridge(&id("c"), 7)).unwrap();
        r.drain();
        assert!(!r.record().abandoned, "bridged 1.5 s after the pick-up");
    }

    /// Answers at 5 s, then bridges after `wait` seconds (or never); says whether the record is
    /// an abandon.
    fn abandoned_after(wait: Option<f64>) -> bool {
        let mut r = Rig::of("person", "");
        run(r.switch.connect_agent(7)).unwrap();
        r.originate("c", "+1", false).unwrap();
        r.next();
        assert_eq!(r.next().unwrap().0, 5.0);
        if let Some(wait) = wait {
            r.at(5.0 + wait);
            run(r.switch.bridge(&id("c"), 7)).unwrap();
        }
        r.drain();
        r.record().abandoned
    }

    #[test]
    fn abandons_are_persons_not_bridged_within_the_grace() {
        assert!(!abandoned_after(Some(1.9)));
        assert!(!abandoned_after(Some(2.0)));
        assert!(abandoned_after(Some(2.1)));
        assert!(abandoned_after(None));
    }

    #[test]
    fn a_person_taken_for_a_machine_and_hung_up_on_is_abandoned() {
        let amd = AMD.replace("false_positive = 0.0", "false_positive = 0.99");
        let mut r = Rig::of("person", &amd);
        r.originate("c", "+1", true).unwrap();
        r.next();
        assert_eq!(r.next(), Some((6.5, answered("c", Verdict::Machine, 1500))));
        run(r.switch.hang_up(&id("c"))).unwrap();
        assert_eq!(r.drain(), vec![(6.5, hung_up("c", Side::Dialer))]);
        let rec = r.record();
        assert!(rec.abandoned && !rec.cancelled);
        assert_eq!(
            (rec.outcome, rec.verdict, rec.ended_by),
            (TrueOutcome::Person, Some(Verdict::Machine), Some(Side::Dialer))
        );
    }

    #[test]
    fn patience_runs_out_when_nobody_comes() {
        let mut r = Rig::of("person", "");
        r.originate("c", "+1", false).unwrap();
        assert_eq!(
            r.drain(),
            vec![
                (1.0, CallEvent::Ringing { call: id("c") }),
                (5.0, answered("c", Verdict::Unknown, 0)),
                (35.0, hung_up("c", Side::Remote)),
            ]
        );
        let rec = r.record();
        assert!(rec.abandoned);
        assert_eq!((rec.ended_by, rec.bridged_at), (Some(Side::Remote), None));
        // Patience counts from the pick-up, not from the verdict.
        let mut r = Rig::of("machine", AMD);
        r.originate("c", "+1", true).unwrap();
        assert_eq!(r.drain().last(), Some(&(34.0, hung_up("c", Side::Remote))));
    }

    #[test]
    fn prompts_hold_the_far_end_and_it_leaves_a_second_after() {
        let prompt = Prompt {
            name: "info".into(),
            text: "This is a message".into(),
        };
        let mut r = Rig::of("person", "");
        r.originate("c", "+1", false).unwrap();
        r.next();
        r.next();
        r.at(27.0);
        run(r.switch.play(&id("c"), &prompt)).unwrap();
        // Patience (35 s) is cancelled by the prompt; the far end stays until 33 + 1 s.
        assert_eq!(
            r.drain(),
            vec![
                (33.0, CallEvent::PromptDone { call: id("c") }),
                (34.0, hung_up("c", Side::Remote))
            ]
        );
        // The dialer hangs up first when it reacts to the end of the prompt.
        let mut r = Rig::of("person", "");
        r.originate("c", "+1", false).unwrap();
        r.next();
        r.next();
        run(r.switch.play(&id("c"), &prompt)).unwrap();
        assert_eq!(r.next(), Some((11.0, CallEvent::PromptDone { call: id("c") })));
        run(r.switch.hang_up(&id("c"))).unwrap();
        assert_eq!(r.drain(), vec![(11.0, hung_up("c", Side::Dialer))]);
        // A second prompt right after the first keeps the far end.
        let mut r = Rig::of("person", "");
        r.originate("c", "+1", false).unwrap();
        r.next();
        r.next();
        run(r.switch.play(&id("c"), &prompt)).unwrap();
        r.next();
        run(r.switch.play(&id("c"), &prompt)).unwrap();
        assert_eq!(
            r.drain(),
            vec![
                (17.0, CallEvent::PromptDone { call: id("c") }),
                (18.0, hung_up("c", Side::Remote))
            ]
        );
    }

    fn collection(timeout_s: u64, terminator: Option<char>) -> DigitCollection {
        DigitCollection {
            prompt: None,
            max_digits: 1,
            terminator,
            timeout: Duration::from_secs(timeout_s),
        }
    }

    #[test]
    fn digits_come_from_the_fate_or_time_out() {
        let keypad = "[keypad]\nreplies = { \"1\" = 1.0 }\ndelay_s = { dist = \"fixed\", value = 4 }\n";
        let mut r = Rig::of("person", keypad);
        r.originate("c", "+1", false).unwrap();
        r.next();
        r.next();
        run(r.switch.collect_digits(&id("c"), &collection(10, None))).unwrap();
        assert_eq!(
            r.next(),
            Some((
                9.0,
                CallEvent::Digits {
                    call: id("c"),
                    digits: "1".into()
                }
            ))
        );
        assert_eq!(r.drain(), vec![(10.0, hung_up("c", Side::Remote))]);
        // A reply slower than the timeout is no reply.
        let mut r = Rig::of("person", keypad);
        r.originate("c", "+1", false).unwrap();
        r.next();
        r.next();
        run(r.switch.collect_digits(&id("c"), &collection(3, None))).unwrap();
        assert_eq!(
            r.next(),
            Some((
                8.0,
                CallEvent::Digits {
                    call: id("c"),
                    digits: String::new()
                }
            ))
        );
        // Pressing only the terminator enters nothing.
        let mut r = Rig::of("person", keypad);
        r.originate("c", "+1", false).unwrap();
        r.next();
        r.next();
        run(r.switch.collect_digits(&id("c"), &collection(10, Some('1')))).unwrap();
        assert_eq!(
            r.next(),
            Some((
                9.0,
                CallEvent::Digits {
                    call: id("c"),
                    digits: String::new()
                }
            ))
        );
        // Machines press nothing.
        let mut r = Rig::of("machine", keypad);
        r.originate("c", "+1", false).unwrap();
        r.next();
        r.next();
        run(r.switch.collect_digits(&id("c"), &collection(10, None))).unwrap();
        assert_eq!(
            r.next(),
            Some((
                14.0,
                CallEvent::Digits {
                    call: id("c"),
                    digits: String::new()
                }
            ))
        );
    }

    #[test]
    fn hanging_up_a_ringing_call_cancels_it() {
        let mut r = Rig::of("person", "");
        r.originate("c", "+1", false).unwrap();
        assert_eq!(r.next(), Some((1.0, CallEvent::Ringing { call: id("c") })));
        r.at(3.0);
        run(r.switch.hang_up(&id("c"))).unwrap();
        assert_eq!(r.switch.live_calls(), 0);
        // The answer at 5 s is gone.
        assert_eq!(r.drain(), vec![(3.0, hung_up("c", Side::Dialer))]);
        let rec = r.record();
        assert!(rec.cancelled && !rec.abandoned);
        assert_eq!((rec.answered_at, rec.verdict), (None, None));
        // Hung up during the detector's analysis, after the pick-up: the person heard silence.
        let mut r = Rig::of("person", AMD);
        r.originate("c", "+1", true).unwrap();
        r.next();
        r.at(6.0);
        run(r.switch.hang_up(&id("c"))).unwrap();
        assert_eq!(r.drain(), vec![(6.0, hung_up("c", Side::Dialer))]);
        let rec = r.record();
        assert!(rec.cancelled && rec.abandoned);
        // Hanging up a bridged call ends the talk.
        let mut r = Rig::of("person", "");
        run(r.switch.connect_agent(7)).unwrap();
        r.originate("c", "+1", false).unwrap();
        r.next();
        r.next();
        run(r.switch.bridge(&id("c"), 7)).unwrap();
        r.next();
        r.at(20.0);
        run(r.switch.hang_up(&id("c"))).unwrap();
        assert_eq!(r.drain(), vec![(20.0, hung_up("c", Side::Dialer))]);
        assert_eq!(r.record().ended_by, Some(Side::Dialer));
    }

    #[test]
    fn disconnecting_a_bridged_agent_ends_the_call() {
        let mut r = Rig::of("person", "");
        run(r.switch.connect_agent(7)).unwrap();
        r.originate("c", "+1", false).unwrap();
        r.next();
        r.next();
        run(r.switch.bridge(&id("c"), 7)).unwrap();
        r.next();
        r.at(30.0);
        run(r.switch.disconnect_agent(7)).unwrap();
        assert!(!r.switch.is_connected(7));
        assert_eq!(r.drain(), vec![(30.0, hung_up("c", Side::Agent))]);
        let rec = r.record();
        assert_eq!((rec.ended_by, rec.agent), (Some(Side::Agent), Some(7)));
    }

    #[test]
    fn commands_are_refused_with_the_right_error() {
        let mut r = Rig::of("person", "");
        let c = id("c");
        assert_eq!(run(r.switch.bridge(&c, 7)), Err(SwitchError::NoSuchCall(c.clone())));
        assert_eq!(run(r.switch.hang_up(&c)), Err(SwitchError::NoSuchCall(c.clone())));
        assert_eq!(
            run(r.switch.disconnect_agent(7)),
            Err(SwitchError::AgentNotConnected(7))
        );
        run(r.switch.connect_agent(7)).unwrap();
        assert!(matches!(
            run(r.switch.connect_agent(7)),
            Err(SwitchError::Unavailable(_))
        ));
        r.originate("c", "+1", false).unwrap();
        assert!(matches!(
            r.originate("c", "+2", false),
            Err(SwitchError::Unavailable(_))
        ));
        // Ringing: not answered yet.
        assert_eq!(run(r.switch.bridge(&c, 7)), Err(SwitchError::NoSuchCall(c.clone())));
        let prompt = Prompt {
            name: "p".into(),
            text: String::new(),
        };
        assert_eq!(run(r.switch.play(&c, &prompt)), Err(SwitchError::NoSuchCall(c.clone())));
        assert_eq!(
            run(r.switch.collect_digits(&c, &collection(5, None))),
            Err(SwitchError::NoSuchCall(c.clone()))
        );
        r.next();
        r.next();
        assert_eq!(run(r.switch.bridge(&c, 8)), Err(SwitchError::AgentNotConnected(8)));
        r.originate("d", "+2", false).unwrap();
        run(r.switch.bridge(&c, 7)).unwrap();
        r.next(); // Bridged
        assert_eq!(r.next().unwrap().1, CallEvent::Ringing { call: id("d") });
        assert_eq!(r.next().unwrap().1, answered("d", Verdict::Unknown, 0));
        assert_eq!(
            run(r.switch.bridge(&id("d"), 7)),
            Err(SwitchError::Unavailable("agent busy".into()))
        );
        run(r.switch.connect_agent(8)).unwrap();
        assert!(
            matches!(run(r.switch.bridge(&c, 8)), Err(SwitchError::Unavailable(_))),
            "already bridged"
        );
        // Once ended, the call is not live, and its id may be used again.
        run(r.switch.hang_up(&c)).unwrap();
        assert_eq!(run(r.switch.hang_up(&c)), Err(SwitchError::NoSuchCall(c.clone())));
        r.originate("c", "+3", false).unwrap();
    }

    #[test]
    fn redials_of_a_number_take_the_next_fate() {
        let text = scenario("person", "").replace(
            "person = { dist = \"fixed\", value = 5 }",
            "person = { dist = \"uniform\", min = 4, max = 20 }",
        );
        let mut r = Rig::new(&text, 5);
        let world = r.switch.world().clone();
        let mut delays = Vec::new();
        for (i, call) in ["a", "b", "c"].into_iter().enumerate() {
            let dialed = r.secs(r.clock.now());
            r.originate(call, "+1555", false).unwrap();
            let fate = world.fate("+1555", i as u32, dialed / 3600.0);
            let (at, _) = r
                .drain()
                .into_iter()
                .find(|(_, e)| matches!(e, CallEvent::Answered { .. }))
                .unwrap();
            assert!(
                (at - dialed - fate.delay_s).abs() < 1e-6,
                "answered at {at}, dialed at {dialed}, {fate:?}"
            );
            assert_eq!(r.record().dial_index, i as u32);
            delays.push(fate.delay_s);
        }
        assert!(delays[0] != delays[1] && delays[1] != delays[2], "{delays:?}");
    }

    /// A crude dialer: keeps `lines` calls going, bridges every answer to a free agent, hangs up
    /// detected machines, and logs agents in and out now and then.
    fn drive(seed: u64) -> (Vec<(DateTime<Utc>, CallEvent)>, Vec<CallRecord>) {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../benches/scenarios/amd-100.toml"
        ))
        .unwrap();
        let scenario = Scenario::from_toml(&text, "amd-100.toml").unwrap().with_agents(5);
        let clock = ManualClock::new(scenario.start);
        let mut switch = SimSwitch::new(World::new(Arc::new(scenario), seed), clock.clone());
        let agents: Vec<UserId> = (1..=5).collect();
        for &a in &agents {
            run(switch.connect_agent(a)).unwrap();
        }
        let mut busy: HashMap<CallId, UserId> = HashMap::new();
        let (mut events, mut records, mut next_call) = (Vec::new(), Vec::new(), 0u32);
        for _ in 0..12 {
            run(switch.originate(Originate {
                call: CallId(format!("c{next_call}")),
                to: format!("+1212555{:04}", next_call % 300),
                caller_id: None,
                ring_timeout: Duration::from_secs(25),
                detect_machine: true,
                tag: CallTag {
                    campaign_id: 1,
                    record_id: i64::from(next_call),
                    attempt_id: 0,
                },
            }))
            .unwrap();
            next_call += 1;
        }
        while let Some((at, event)) = switch.pop_event() {
            clock.set(at);
            if events.len() > 20_000 {
                break;
            }
            match &event {
                CallEvent::Answered {
                    call,
                    verdict: Verdict::Machine,
                    ..
                } => run(switch.hang_up(call)).unwrap(),
                CallEvent::Answered { call, .. } => {
                    match agents
                        .iter()
                        .copied()
                        .find(|&a| !busy.values().any(|&b| b == a) && switch.is_connected(a))
                    {
                        Some(a) => {
                            run(switch.bridge(call, a)).unwrap();
                            busy.insert(call.clone(), a);
                        }
                        None => run(switch.hang_up(call)).unwrap(),
                    }
                }
                CallEvent::HungUp { call, .. }
                | CallEvent::Busy { call }
                | CallEvent::NoAnswer { call }
                | CallEvent::Failed { call, .. } => {
                    busy.remove(call);
                    run(switch.originate(Originate {
                        call: CallId(format!("c{next_call}")),
                        to: format!("+1212555{:04}", next_call % 300),
                        caller_id: None,
                        ring_timeout: Duration::from_secs(25),
                        detect_machine: true,
                        tag: CallTag {
                            campaign_id: 1,
                            record_id: i64::from(next_call),
                            attempt_id: 0,
                        },
                    }))
                    .unwrap();
                    next_call += 1;
                    // Agent 5 logs out and back in every 50 calls.
                    if next_call % 50 == 0 {
                        if switch.is_connected(5) {
                            run(switch.disconnect_agent(5)).unwrap();
                        } else {
                            run(switch.connect_agent(5)).unwrap();
                        }
                    }
                }
                _ => {}
            }
            events.push((at, event));
            records.extend(switch.take_finished());
        }
        (events, records)
    }

    #[test]
    fn the_same_seed_and_commands_give_the_same_run() {
        let (events, records) = drive(42);
        assert!(events.len() > 20_000, "{}", events.len());
        assert!(records.iter().any(|r| r.abandoned) && records.iter().any(|r| r.bridged_at.is_some()));
        assert!(records.iter().any(|r| r.ended_by == Some(Side::Agent)));
        assert!(events.windows(2).all(|w| w[0].0 <= w[1].0), "events come in time order");
        let again = drive(42);
        assert!(events == again.0 && records == again.1);
        let other = drive(43);
        assert!(events != other.0);
    }
}
