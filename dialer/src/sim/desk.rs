//! Simulated interviewers: they log in and out as the scenario's staffing says, go ready,
//! take the calls the engine gives them, wrap up for the scenario's wrap-up time, give each
//! call a disposition and go ready again. They use the engine's commands exactly as agents
//! at a browser would.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

use chrono::{DateTime, Duration, Utc};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::scenario::Scenario;
use super::world::TrueOutcome;
use crate::agent::AgentState;
use crate::runtime::{Disposal, Engine, EngineError};
use crate::telephony::{CallEvent, CallId, Switch};
use crate::users::UserId;

/// What a simulated agent does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Act {
    /// Staffing changes: log agents in or out.
    Staff,
    /// Wrap-up is over: dispose and go ready (or leave).
    EndWrapUp(UserId),
}

/// The simulated agents of a run.
#[derive(Debug)]
pub struct Desk {
    scenario: std::sync::Arc<Scenario>,
    start: DateTime<Utc>,
    seed: u64,
    agents: Vec<UserId>,
    logged_in: BTreeSet<UserId>,
    /// Agents to log out as soon as they are free.
    leaving: BTreeSet<UserId>,
    acts: BinaryHeap<Reverse<(DateTime<Utc>, u64, Act)>>,
    seq: u64,
    /// Calls bridged to each agent, and what really answered them.
    on_call: BTreeMap<CallId, UserId>,
    machines: BTreeSet<CallId>,
    /// The last call of each agent that ended, for its disposition.
    last: BTreeMap<UserId, CallId>,
    wraps: u64,
}

impl Desk {
    /// The desk for these agents (in login order), starting at `start`.
    pub fn new(scenario: std::sync::Arc<Scenario>, agents: Vec<UserId>, start: DateTime<Utc>, seed: u64) -> Self {
        let mut desk = Self {
            scenario,
            start,
            seed,
            agents,
            logged_in: BTreeSet::new(),
            leaving: BTreeSet::new(),
            acts: BinaryHeap::new(),
            seq: 0,
            on_call: BTreeMap::new(),
            machines: BTreeSet::new(),
            last: BTreeMap::new(),
            wraps: 0,
        };
        desk.push(start, Act::Staff);
        let mut hours: Vec<f64> = desk.scenario.agents.by_hour.iter().map(|a| a.hour).collect();
        hours.retain(|h| *h > 0.0);
        for hour in hours {
            desk.push(start + Duration::milliseconds((hour * 3_600_000.0) as i64), Act::Staff);
        }
        desk
    }

    fn push(&mut self, at: DateTime<Utc>, act: Act) {
        self.seq += 1;
        self.acts.push(Reverse((at, self.seq, act)));
    }

    /// When the desk next acts.
    pub fn next_at(&self) -> Option<DateTime<Utc>> {
        self.acts.peek().map(|Reverse((at, _, _))| *at)
    }

    /// Agents logged in now.
    pub fn logged_in(&self) -> usize {
        self.logged_in.len()
    }

    /// Notes what the switch reports about agents' calls (before the engine handles it):
    /// a call that ends puts its agent in wrap-up, which lasts the scenario's wrap-up time.
    pub fn observe(&mut self, event: &CallEvent, now: DateTime<Utc>, truth: impl Fn(&CallId) -> Option<TrueOutcome>) {
        match event {
            CallEvent::Bridged { call, agent } => {
                self.on_call.insert(call.clone(), *agent);
                if truth(call) == Some(TrueOutcome::Machine) {
                    self.machines.insert(call.clone());
                }
            }
            CallEvent::HungUp { call, .. } => {
                if let Some(agent) = self.on_call.remove(call) {
                    self.wraps += 1;
                    let mut rng = ChaCha8Rng::seed_from_u64(mix(self.seed, agent as u64, self.wraps));
                    let wrap = self.scenario.agents.wrap_up_s.sample(&mut rng);
                    self.last.insert(agent, call.clone());
                    self.push(now + Duration::microseconds((wrap * 1e6) as i64), Act::EndWrapUp(agent));
                }
            }
            _ => {}
        }
    }

    /// Does everything due at `now`.
    pub async fn act<S: Switch>(&mut self, engine: &mut Engine<S>, now: DateTime<Utc>) -> Result<(), EngineError> {
        while let Some(Reverse((at, _, _))) = self.acts.peek() {
            if *at > now {
                break;
            }
            let Reverse((_, _, act)) = self.acts.pop().expect("peeked");
            match act {
                Act::Staff => self.staff(engine, now).await?,
                Act::EndWrapUp(agent) => self.end_wrap_up(engine, agent).await?,
            }
        }
        Ok(())
    }

    async fn staff<S: Switch>(&mut self, engine: &mut Engine<S>, now: DateTime<Utc>) -> Result<(), EngineError> {
        let hour = (now - self.start).num_milliseconds() as f64 / 3_600_000.0;
        let want = (self.scenario.agents_at(hour + 1e-9) as usize).min(self.agents.len());
        let present: Vec<UserId> = self
            .logged_in
            .iter()
            .copied()
            .filter(|a| !self.leaving.contains(a))
            .collect();
        if present.len() < want {
            // Those leaving stay after all, then the first who are out come in.
            let staying: Vec<UserId> = self.leaving.iter().copied().take(want - present.len()).collect();
            for agent in &staying {
                self.leaving.remove(agent);
            }
            let mut missing = want - present.len() - staying.len();
            for agent in self.agents.clone() {
                if missing == 0 {
                    break;
                }
                if !self.logged_in.contains(&agent) {
                    engine.log_in(agent, None).await?;
                    engine.go_ready(agent).await?;
                    self.logged_in.insert(agent);
                    missing -= 1;
                }
            }
        } else {
            for agent in present.iter().rev().take(present.len() - want) {
                self.leaving.insert(*agent);
            }
            for agent in self.leaving.clone() {
                self.leave_if_free(engine, agent).await?;
            }
        }
        Ok(())
    }

    async fn leave_if_free<S: Switch>(&mut self, engine: &mut Engine<S>, agent: UserId) -> Result<(), EngineError> {
        let free = engine
            .pool()
            .view(agent)
            .is_some_and(|v| matches!(v.status.state, AgentState::Ready | AgentState::NotReady { .. }));
        // A busy agent leaves at the end of the wrap-up of their call.
        if free && !engine.needs_disposition(agent) {
            engine.log_out(agent).await?;
            self.logged_in.remove(&agent);
            self.leaving.remove(&agent);
        }
        Ok(())
    }

    async fn end_wrap_up<S: Switch>(&mut self, engine: &mut Engine<S>, agent: UserId) -> Result<(), EngineError> {
        if !engine.needs_disposition(agent) {
            return Ok(());
        }
        let call = self.last.remove(&agent);
        let machine = call.as_ref().is_some_and(|c| self.machines.remove(c));
        let disposal = if machine {
            Disposal::AnsweringMachine
        } else {
            let key = call.as_ref().map_or(0, |c| xxhash_rust::xxh3::xxh3_64(c.0.as_bytes()));
            let mut rng = ChaCha8Rng::seed_from_u64(mix(self.seed, key, 7));
            Disposal::code(person_disposition(rng.random::<f64>()))
        };
        if self.leaving.contains(&agent) {
            engine.dispose(agent, disposal).await?;
            engine.log_out(agent).await?;
            self.logged_in.remove(&agent);
            self.leaving.remove(&agent);
        } else {
            engine.dispose_and_ready(agent, disposal).await?;
        }
        Ok(())
    }
}

/// How simulated interviewers end calls with persons: a fifth complete, most refuse, some
/// ask to be called again or are not available.
fn person_disposition(u: f64) -> &'static str {
    match u {
        u if u < 0.20 => "complete",
        u if u < 0.75 => "refusal",
        u if u < 0.85 => "respondent_unavailable",
        u if u < 0.95 => "break_off",
        _ => "screened_out",
    }
}

fn mix(seed: u64, a: u64, b: u64) -> u64 {
    let mut bytes = [0u8; 24];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..16].copy_from_slice(&a.to_le_bytes());
    bytes[16..].copy_from_slice(&b.to_le_bytes());
    xxhash_rust::xxh3::xxh3_64(&bytes)
}
