//! A simulated run end to end: a store with a running campaign, the real engine (agent pool,
//! hopper, pacer, retry rules, journal) driving the simulated switch, simulated agents at
//! their desks, and the measurements, in virtual time (a day in seconds) or in real time.

use std::sync::Arc;
use std::time::Instant;

use chrono::Duration;
use serde::Serialize;

use super::desk::Desk;
use super::metrics::{CallTruth, Figures, Metrics};
use super::scenario::Scenario;
use super::setup::{self, SetupError};
use super::switch::SimSwitch;
use super::world::{TrueOutcome, World};
use crate::clock::ManualClock;
use crate::events::{Event, EventBus};
use crate::pacer::{PacerConfig, StrategyName, build};
use crate::runtime::{Engine, EngineConfig, EngineError};
use crate::store::{Db, StoreError};

/// How fast simulated time runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// As fast as the machine goes.
    Virtual,
    /// `speed` simulated seconds per wall second (1.0 is real time, for the demo).
    RealTime {
        /// Simulated seconds per wall second.
        speed: f64,
    },
}

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// The world and the call centre.
    pub scenario: Scenario,
    /// The pacing strategy.
    pub strategy: StrategyName,
    /// The seed of the world.
    pub seed: u64,
    /// Virtual or real time.
    pub pace: Pace,
    /// The store (default: a SQLite file in a new temporary directory).
    pub database: Option<String>,
}

/// The figures of a run (the benchmark's JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimReport {
    /// The scenario's name.
    pub scenario: String,
    /// The strategy.
    pub strategy: String,
    /// The seed.
    pub seed: u64,
    /// Agents (the scenario's count).
    pub agents: u32,
    /// Measured hours (after warm-up).
    pub hours: f64,
    /// The abandon ceiling the pacer worked to.
    pub abandon_target: f64,
    /// What the run measured: dials, answers, abandons, occupancy, waits, contacts.
    #[serde(flatten)]
    pub figures: Figures,
    /// The pacer's own decision time, 99th percentile, microseconds.
    pub decision_p99_us: f64,
    /// Pacer decisions made.
    pub decisions: u64,
    /// Journal commits (store transactions) made by the engine.
    pub commits: u64,
    /// Records in the generated sample.
    pub records: u64,
    /// Seconds to set the store up.
    pub setup_s: f64,
    /// Seconds of the whole run, set-up included.
    pub wall_s: f64,
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The simulated centre could not be set up.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A temporary directory could not be made.
    #[error("cannot make a temporary directory: {0}")]
    Temp(std::io::Error),
}

/// Runs a scenario with a strategy and measures it.
pub async fn run(options: SimOptions) -> Result<SimReport, SimError> {
    let started = Instant::now();
    let scenario = Arc::new(options.scenario);
    // The simulation's store is scratch, deleted at the end: in memory-backed /dev/shm where
    // the machine has it (the runtime's writes are the same; the disk's are not measured).
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::Builder::new().prefix("paceline-sim").tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
    .map_err(SimError::Temp)?;
    let url = options
        .database
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("simulation.db").display()));
    let db = Db::open(&url).await?;
    let start = scenario.start;
    let centre = setup::set_up(&db, &scenario, start).await?;
    let setup_s = started.elapsed().as_secs_f64();

    let clock = ManualClock::new(start);
    let world = World::new(scenario.clone(), options.seed);
    let switch = SimSwitch::new(world, clock.clone());
    let events = EventBus::new(1 << 16);
    let mut feed = events.subscribe();
    let config = EngineConfig {
        node: format!("sim-{}", options.seed),
        ..EngineConfig::default()
    };
    let mut engine = Engine::start(db.clone(), switch, Arc::new(clock.clone()), events, config).await?;
    let campaign = crate::campaign::store::find(&db, &centre.campaign_name)
        .await
        .map_err(EngineError::from)?;
    let strategy = build(options.strategy, &PacerConfig::for_campaign(&campaign.settings));
    engine.run_campaign(&centre.campaign_name, Some(strategy)).await?;

    let end = start + hours(scenario.total_hours());
    let measured_from = start + hours(scenario.warmup_hours);
    let mut metrics = Metrics::new(measured_from, end, hours(scenario.window_hours));
    let mut desk = Desk::new(scenario.clone(), centre.agents.clone(), start, options.seed);
    let wall_start = Instant::now();
    loop {
        let next_switch = engine.switch().next_event_at();
        let next_engine = engine.next_timer();
        let next_desk = desk.next_at();
        let Some(next) = [next_switch, next_desk, next_engine].into_iter().flatten().min() else {
            break;
        };
        if next >= end {
            break;
        }
        if let Pace::RealTime { speed } = options.pace {
            let due = wall_start + ((next - start).to_std().unwrap_or_default()).div_f64(speed.max(1e-6));
            tokio::time::sleep_until(tokio::time::Instant::from_std(due)).await;
        }
        clock.set(next);
        if next_switch == Some(next) {
            let (_, event) = engine.switch_mut().pop_event().expect("an event is due");
            let switch = engine.switch();
            desk.observe(&event, next, |call| switch.outcome_of(call));
            engine.on_call_event(event).await?;
        } else if next_desk == Some(next) {
            desk.act(&mut engine, next).await?;
        } else {
            engine.fire_timers().await?;
        }
        drain(&mut feed, &mut metrics);
        for record in engine.switch_mut().take_finished() {
            metrics.call(truth(&record));
        }
    }
    clock.set(end);
    engine.shut_down().await?;
    drain(&mut feed, &mut metrics);
    let stats = engine.stats().clone();
    let figures = metrics.figures();
    db.close().await;
    drop(dir);
    Ok(SimReport {
        scenario: scenario.name.clone(),
        strategy: options.strategy.as_str().to_string(),
        seed: options.seed,
        agents: scenario.agents.count,
        hours: scenario.hours,
        abandon_target: scenario.abandon_target,
        figures,
        decision_p99_us: stats.decisions.value_at_quantile(0.99) as f64 / 1000.0,
        decisions: stats.decisions.len(),
        commits: stats.commits,
        records: centre.records,
        setup_s,
        wall_s: started.elapsed().as_secs_f64(),
    })
}

fn hours(h: f64) -> Duration {
    Duration::milliseconds((h * 3_600_000.0).round() as i64)
}

fn drain(feed: &mut tokio::sync::broadcast::Receiver<Event>, metrics: &mut Metrics) {
    loop {
        match feed.try_recv() {
            Ok(Event::AgentState(change)) => metrics.agent(&change),
            Ok(_) => {}
            Err(tokio::sync::broadcast::error::TryRecvError::Lagged(n)) => {
                tracing::error!(missed = n, "the simulation's event feed lagged; figures are incomplete");
            }
            Err(_) => break,
        }
    }
}

fn truth(record: &super::switch::CallRecord) -> CallTruth {
    let person = record.outcome == TrueOutcome::Person;
    CallTruth {
        dialed_at: record.dialed_at,
        person_answered_at: if person { record.answered_at } else { None },
        abandoned: record.abandoned,
    }
}
