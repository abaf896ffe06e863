//! The engine: the campaign runtime of one dialer process. It owns the agent pool, the
//! running campaigns with their hoppers and pacers, and the live calls; it drives a
//! [`Switch`] and is driven by inputs: the switch's [`CallEvent`]s, agents' and supervisors'
//! commands, and its own timers.
//!
//! Every input is handled to the end before the next (the engine is a single-threaded state
//! machine around pure parts: the agent state machine, the pacer, the retry rules). What it
//! decides goes into the [`Journal`]; the journal is committed before any action that depends
//! on it (bridging a person to the agent reserved for them, dialing, answering an agent's
//! command) and otherwise within a second, and events go out on the [`EventBus`] only once
//! committed. Time comes from the [`Clock`]: the simulator runs the same engine in virtual time.
//!
//! - [`agents`]: log-in, ready, not ready, log-out, campaign and mode switching, dispositions.
//! - [`calls`]: what the switch reports, call by call.
//! - [`dialing`]: the pacer, the hopper, and placing calls in each dial mode.
//! - [`writer`]: the thread that commits the journal at its deadline beside the engine.

mod agents;
mod calls;
mod dialing;
mod writer;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashSet, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

pub use agents::Disposal;

use super::call::{InFlight, LiveCall, Phase, pacer_view};
use super::hopper::{FillError, QuotaGate, Reserved};
use super::journal::{Entry, Journal};
use super::window::AbandonWindow;
use crate::agent::store::{AgentStoreError, load_all};
use crate::agent::{AgentPool, Command, PoolError, StateChange};
use crate::campaign::{Campaign, CampaignError, CampaignStatus, DialMode, Outcome};
use crate::clock::Clock;
use crate::disposition::Disposition;
use crate::events::{Event, EventBus};
use crate::pacer::{Secs, Strategy, StrategyName};
use crate::store::direct::{DirectDb, DirectError};
use crate::store::sql::{Kind, RowExt, ShapeError, Statement};
use crate::store::{Backend, Db};
use crate::telephony::{CallEvent, CallId, Prompt, Switch, SwitchError};
use crate::users::{TeamId, UserId};
use crate::with_db;

/// How the engine runs.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// This runtime's name in the store (records it reserved carry it), unique among the
    /// dialer processes sharing a store.
    pub node: String,
    /// The hopper holds about this many seconds of dialing.
    pub hopper_seconds: f64,
    /// The hopper's size at least.
    pub hopper_min: usize,
    /// The hopper's size at most.
    pub hopper_max: usize,
    /// How often the list of time zones in a campaign's sample is read again, in seconds.
    pub zones_refresh_s: i64,
    /// The shortest time between two decisions of a campaign's pacer: the changes within it
    /// are decided on together (a switch reports events in bursts; a decision per event
    /// costs without dialing better).
    pub pace_interval: Duration,
    /// Whether journal batches due at their deadline are committed by a writer thread
    /// beside the engine (SQLite only); see [`writer`].
    pub background_commits: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            node: "local".into(),
            hopper_seconds: 60.0,
            hopper_min: 10,
            hopper_max: 1000,
            zones_refresh_s: 600,
            pace_interval: Duration::milliseconds(200),
            background_commits: true,
        }
    }
}

/// Why the engine refused or failed an input.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The agent state machine refused.
    #[error(transparent)]
    Pool(#[from] PoolError),
    /// The campaign is unknown or unusable.
    #[error(transparent)]
    Campaign(#[from] CampaignError),
    /// The campaign is not running in this engine.
    #[error("campaign {0} is not running here; start it first")]
    NotRunning(i64),
    /// The campaign cannot run as set up.
    #[error("campaign '{campaign}' cannot run: {reason}")]
    CannotRun {
        /// The campaign.
        campaign: String,
        /// Why.
        reason: String,
    },
    /// The agent is not assigned to the campaign.
    #[error("agent {agent} is not assigned to campaign {campaign}")]
    NotAssigned {
        /// The agent.
        agent: UserId,
        /// The campaign.
        campaign: i64,
    },
    /// The agent is not logged in.
    #[error("agent {0} is not logged in")]
    NotLoggedIn(UserId),
    /// The dial mode is not allowed on the agent's campaigns.
    #[error("agent {agent}: dial mode {mode} is not allowed on campaign {campaign}")]
    ModeNotAllowed {
        /// The agent.
        agent: UserId,
        /// The mode asked for.
        mode: &'static str,
        /// The campaign that does not allow it.
        campaign: i64,
    },
    /// There is no record shown to the agent.
    #[error("agent {0} has no record in preview")]
    NoPreview(UserId),
    /// The record has no number at that position.
    #[error("record {record} has no number {position}")]
    NoSuchNumber {
        /// The record.
        record: i64,
        /// The position asked for.
        position: i64,
    },
    /// There is no call waiting for the agent's disposition.
    #[error("agent {0} has no call to give a disposition for")]
    NothingToDispose(UserId),
    /// The agent must give a disposition before taking another call.
    #[error("agent {0} must give the last call a disposition first")]
    DispositionNeeded(UserId),
    /// The disposition code is not in the campaign's set.
    #[error("'{code}' is not a disposition of campaign {campaign}; its codes are {known}")]
    UnknownDisposition {
        /// The code given.
        code: String,
        /// The campaign.
        campaign: i64,
        /// The codes it has.
        known: String,
    },
    /// A callback needs a time, in the future.
    #[error("a callback needs a time after now")]
    CallbackTime,
    /// The agent is not on a call.
    #[error("agent {0} is not on a call")]
    NotOnCall(UserId),
    /// Another process changed the agent first; the engine reloaded them.
    #[error("agent {0} was changed by another dialer process; reloaded, try again")]
    Conflict(UserId),
    /// The switch refused.
    #[error(transparent)]
    Switch(#[from] SwitchError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] DirectError),
    /// The store failed (loading).
    #[error(transparent)]
    Load(#[from] sqlx::Error),
    /// Stored agent state is unreadable.
    #[error(transparent)]
    Agents(#[from] AgentStoreError),
    /// A stored row did not read as expected.
    #[error(transparent)]
    Shape(#[from] ShapeError),
    /// The journal writer's thread is gone (it panicked).
    #[error("the journal writer stopped")]
    WriterStopped,
}

impl From<FillError> for EngineError {
    fn from(e: FillError) -> Self {
        match e {
            FillError::Store(e) => EngineError::Store(e),
            FillError::Shape(e) => EngineError::Shape(e),
        }
    }
}

/// Something the engine must do at a time.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    /// Commit the journal.
    Commit,
    /// A waiting person's grace time ends.
    Grace(CallId),
    /// A preview card's time is up.
    Preview(UserId, CallId),
    /// A campaign's pacer asked to decide again.
    Pace(i64),
    /// An agent given back after a call that did not reach them looks for work again.
    Available(UserId),
}

/// What the engine keeps about an agent who is logged in.
#[derive(Debug, Clone)]
struct Desk {
    /// The campaigns the agent takes calls from now (DIAL-03).
    campaigns: Vec<i64>,
    /// How the agent works (DIAL-04).
    mode: DialMode,
    /// A record shown in preview.
    offer: Option<Offer>,
    /// The last call, until it has a disposition.
    wrap: Option<Wrap>,
    /// The agent's teams.
    teams: Vec<TeamId>,
    /// When a ready agent who found nothing to dial looks again.
    recheck: Option<DateTime<Utc>>,
    /// The campaign of the agent's last call: the next of their campaigns covers them when
    /// they are ready again (see [`Engine::covering`]), so a shared agent's calls go round.
    served: Option<i64>,
}

/// A record shown to an agent in preview.
#[derive(Debug, Clone)]
struct Offer {
    campaign: i64,
    call: CallId,
    reserved: Reserved,
}

/// A call that ended and waits for the agent's disposition.
#[derive(Debug, Clone)]
struct Wrap {
    campaign: i64,
    reserved: Reserved,
}

/// A campaign running in the engine.
struct Run {
    campaign: Campaign,
    dispositions: Vec<Disposition>,
    strategy: Box<dyn Strategy>,
    /// Agents assigned (one by one or through a team).
    assigned: HashSet<UserId>,
    /// Reserved records, in call order.
    hopper: VecDeque<Reserved>,
    /// Reserved records that belong to an agent or a team.
    owned: Vec<Reserved>,
    /// No fill before this: the last one found fewer records than asked for.
    dry_until: DateTime<Utc>,
    /// No look for agents' and teams' records before this: the last found none.
    owned_dry_until: DateTime<Utc>,
    /// The stored time-zone values of the sample, and when they were read.
    zones: Vec<String>,
    zones_read: Option<DateTime<Utc>>,
    window: AbandonWindow,
    /// Dials per second, smoothed, to size the hopper.
    dial_rate: f64,
    rate_at: DateTime<Utc>,
    /// The pacer's next wake-up, if any.
    wakeup: Option<DateTime<Utc>>,
    /// When the pacer last decided.
    paced_at: Option<DateTime<Utc>>,
    /// Dials placed by the pacer and not yet resolved or bridged, for its situation.
    in_flight: InFlight,
    /// Persons waiting for an agent, oldest first.
    waiting: VecDeque<CallId>,
    /// Live calls of the campaign in any mode (agentless lines).
    live: usize,
    /// Whether it dials (paused campaigns finish their calls and dial no more).
    active: bool,
}

impl Run {
    /// Whether it has nothing to dial: its hopper is empty and its last fill found no more.
    fn dry(&self, now: DateTime<Utc>) -> bool {
        self.hopper.is_empty() && now < self.dry_until
    }
}

/// What the engine has measured about itself.
#[derive(Debug, Clone)]
pub struct EngineStats {
    /// The pacers' decision times, in nanoseconds.
    pub decisions: hdrhistogram::Histogram<u64>,
    /// Journal commits.
    pub commits: u64,
    /// Hopper fills.
    pub fills: u64,
}

/// The campaign runtime of one dialer process; see the module documentation.
pub struct Engine<S: Switch> {
    config: EngineConfig,
    db: Db,
    direct: DirectDb,
    /// A second connection for reads that need not wait for the journal writer (the
    /// dial-time do-not-call check); on PostgreSQL the same pool.
    reader: DirectDb,
    clock: Arc<dyn Clock>,
    switch: S,
    events: EventBus,
    pool: AgentPool,
    desks: BTreeMap<UserId, Desk>,
    runs: foldhash::HashMap<i64, Run>,
    calls: foldhash::HashMap<CallId, LiveCall>,
    journal: Journal,
    pending: Vec<Event>,
    timers: BinaryHeap<Reverse<(DateTime<Utc>, u64, Timer)>>,
    timer_seq: u64,
    commit_timer: Option<DateTime<Utc>>,
    /// Campaigns whose situation changed during the current input.
    dirty: BTreeSet<i64>,
    /// Numbers opted out through this engine, checked at dial time at once.
    opt_outs: HashSet<String>,
    gate: Option<Arc<dyn QuotaGate>>,
    epoch: DateTime<Utc>,
    stats: EngineStats,
    /// Agents whose stored state another process changed first (found at commit).
    conflicts: Vec<UserId>,
    /// The thread committing deadline batches beside the engine (SQLite).
    writer: Option<writer::Writer>,
    /// The batch the writer is committing, with the events it reports.
    writing: Option<Writing>,
}

/// A journal batch in the writer's hands.
struct Writing {
    done: tokio::sync::oneshot::Receiver<writer::Written>,
    events: Vec<Event>,
}

impl<S: Switch> Engine<S> {
    /// Starts the engine on a migrated store: closes what an earlier run of this node left
    /// open (records it had reserved, attempts it had not ended, agents it had logged in),
    /// and loads the agents.
    pub async fn start(
        db: Db,
        switch: S,
        clock: Arc<dyn Clock>,
        events: EventBus,
        config: EngineConfig,
    ) -> Result<Self, EngineError> {
        let direct = DirectDb::open(&db)?;
        let reader = DirectDb::open(&db)?;
        let writer = if config.background_commits {
            writer::Writer::start(&direct)
        } else {
            None
        };
        let now = clock.now();
        let pool = AgentPool::new(load_all(&db).await?);
        let mut engine = Self {
            config,
            db,
            direct,
            reader,
            clock,
            switch,
            events,
            pool,
            desks: BTreeMap::new(),
            runs: foldhash::HashMap::default(),
            calls: foldhash::HashMap::default(),
            journal: Journal::default(),
            pending: Vec::new(),
            timers: BinaryHeap::new(),
            timer_seq: 0,
            commit_timer: None,
            dirty: BTreeSet::new(),
            opt_outs: HashSet::new(),
            gate: None,
            epoch: now,
            stats: EngineStats {
                decisions: hdrhistogram::Histogram::new(3).expect("3 significant figures is valid"),
                commits: 0,
                fills: 0,
            },
            conflicts: Vec::new(),
            writer,
            writing: None,
        };
        engine.recover(now).await?;
        Ok(engine)
    }

    /// Installs the quota gate the CATI engine provides.
    pub fn set_quota_gate(&mut self, gate: Arc<dyn QuotaGate>) {
        self.gate = Some(gate);
    }

    /// The switch, for the driver that delivers its events.
    pub fn switch(&self) -> &S {
        &self.switch
    }

    /// The switch, mutably, for the driver.
    pub fn switch_mut(&mut self) -> &mut S {
        &mut self.switch
    }

    /// The event stream.
    pub fn events(&self) -> &EventBus {
        &self.events
    }

    /// The agent pool (read only: changes go through the engine's commands).
    pub fn pool(&self) -> &AgentPool {
        &self.pool
    }

    /// What the engine measured.
    pub fn stats(&self) -> &EngineStats {
        &self.stats
    }

    /// Live calls.
    pub fn live_calls(&self) -> usize {
        self.calls.len()
    }

    /// The calls in the switch that this runtime placed, in no order (for wallboards).
    pub fn calls(&self) -> impl Iterator<Item = &crate::runtime::call::LiveCall> {
        self.calls.values()
    }

    /// Records reserved in a campaign's hopper.
    pub fn hopper_len(&self, campaign: i64) -> usize {
        self.runs.get(&campaign).map_or(0, |r| r.hopper.len())
    }

    /// The running campaigns an agent is assigned to (those they may switch between), by id.
    pub fn assigned_campaigns(&self, agent: UserId) -> Vec<i64> {
        let mut ids: Vec<i64> = self
            .runs
            .iter()
            .filter(|(_, r)| r.active && r.assigned.contains(&agent))
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        ids
    }

    /// The campaigns an agent takes calls from now.
    pub fn agent_campaigns(&self, agent: UserId) -> Option<&[i64]> {
        self.desks.get(&agent).map(|d| d.campaigns.as_slice())
    }

    /// The dial mode an agent works in, while logged in.
    pub fn agent_mode(&self, agent: UserId) -> Option<DialMode> {
        self.desks.get(&agent).map(|d| d.mode)
    }

    /// The dial modes every campaign the agent works in allows (agentless never: it has no agent).
    pub fn agent_modes(&self, agent: UserId) -> Vec<DialMode> {
        let Some(desk) = self.desks.get(&agent) else {
            return Vec::new();
        };
        let mut modes: Vec<DialMode> = [DialMode::Predictive, DialMode::Progressive, DialMode::Preview].to_vec();
        for campaign in &desk.campaigns {
            if let Some(run) = self.runs.get(campaign) {
                let allowed = run.campaign.settings.dial_modes();
                modes.retain(|m| allowed.contains(m));
            }
        }
        modes
    }

    /// The counts of a campaign's window, as the pacer sees them.
    pub fn window(&mut self, campaign: i64) -> Option<crate::pacer::WindowCounts> {
        let now = self.clock.now();
        self.runs.get_mut(&campaign).map(|r| r.window.counts(now))
    }

    fn secs(&self, at: DateTime<Utc>) -> Secs {
        secs_since(self.epoch, at)
    }

    /// Moves a call to `phase`, keeping the pacer's dials in flight in step.
    fn set_phase(&mut self, call: &CallId, phase: Phase) {
        let epoch = self.epoch;
        let Some(c) = self.calls.get_mut(call) else { return };
        c.phase = phase;
        let view = pacer_view(c, |at| secs_since(epoch, at));
        if let Some(run) = self.runs.get_mut(&c.campaign) {
            match view {
                Some(snapshot) => run.in_flight.set(call, snapshot),
                None => run.in_flight.remove(call),
            }
        }
    }

    fn at_secs(&self, secs: Secs) -> DateTime<Utc> {
        self.epoch + Duration::microseconds((secs * 1e6).round() as i64)
    }

    /// When the engine next needs to act by itself.
    pub fn next_timer(&self) -> Option<DateTime<Utc>> {
        self.timers.peek().map(|Reverse((at, _, _))| *at)
    }

    fn schedule(&mut self, at: DateTime<Utc>, timer: Timer) {
        self.timer_seq += 1;
        self.timers.push(Reverse((at, self.timer_seq, timer)));
    }

    /// Handles every timer due by now.
    pub async fn fire_timers(&mut self) -> Result<(), EngineError> {
        let now = self.clock.now();
        while let Some(Reverse((at, _, _))) = self.timers.peek() {
            if *at > now {
                break;
            }
            let Reverse((at, _, timer)) = self.timers.pop().expect("peeked");
            match timer {
                Timer::Commit => {
                    if self.commit_timer == Some(at) {
                        self.commit_timer = None;
                        if self.journal.should_commit(now) {
                            self.commit_soon().await?;
                        }
                    }
                }
                Timer::Grace(call) => self.grace_over(&call).await?,
                Timer::Preview(agent, call) => self.preview_timeout(agent, &call).await?,
                Timer::Available(agent) => {
                    if let Some(desk) = self.desks.get_mut(&agent)
                        && desk.recheck == Some(at)
                    {
                        desk.recheck = None;
                    }
                    self.agent_available(agent).await?
                }
                Timer::Pace(campaign) => {
                    if let Some(run) = self.runs.get_mut(&campaign)
                        && run.wakeup == Some(at)
                    {
                        run.wakeup = None;
                        self.dirty.insert(campaign);
                    }
                }
            }
        }
        self.settle().await
    }

    /// Writes `entry` to the journal.
    fn write(&mut self, entry: Entry) {
        let now = self.clock.now();
        self.journal.push(entry, now);
    }

    /// Queues an event to go out once what it reports is committed.
    fn announce(&mut self, event: Event) {
        if self.events.has_subscribers() {
            self.pending.push(event);
        }
    }

    /// Applies an agent command, journals the change and queues its event.
    fn agent_command(&mut self, agent: UserId, command: Command) -> Result<StateChange, PoolError> {
        let now = self.clock.now();
        let wrap_started = self
            .pool
            .view(agent)
            .filter(|v| matches!(v.status.state, crate::agent::AgentState::WrapUp { .. }))
            .map(|v| v.since);
        let change = self.pool.apply(agent, command, now)?;
        if let Some(started) = wrap_started
            && !matches!(change.to, crate::agent::AgentState::WrapUp { .. })
        {
            let observation = crate::pacer::Observation::WrapUpEnded {
                started: self.secs(started),
                at: self.secs(change.at),
            };
            let campaigns = self.desks.get(&agent).map(|d| d.campaigns.clone()).unwrap_or_default();
            for campaign in campaigns {
                if let Some(run) = self.runs.get_mut(&campaign) {
                    run.strategy.observe(&observation);
                }
            }
        }
        self.write(Entry::Agent(change.clone()));
        self.announce(Event::AgentState(change.clone()));
        for campaign in self.desks.get(&agent).map(|d| d.campaigns.clone()).unwrap_or_default() {
            self.dirty.insert(campaign);
        }
        Ok(change)
    }

    /// Commits the journal in one transaction, then publishes the events it reported.
    pub async fn commit(&mut self) -> Result<(), EngineError> {
        self.commit_journal(false).await
    }

    fn publish(&mut self) {
        for event in self.pending.drain(..) {
            self.events.publish(event);
        }
    }

    /// Hands the journal to the writer when there is one (nothing waits for this batch),
    /// else commits it here.
    async fn commit_soon(&mut self) -> Result<(), EngineError> {
        self.commit_journal(true).await
    }

    /// Commits the journal after the writer's batch, here or (`background`, with a writer)
    /// on the writer's thread; its events go out once it is committed.
    async fn commit_journal(&mut self, background: bool) -> Result<(), EngineError> {
        self.written().await?;
        if self.journal.is_empty() {
            self.publish();
            return Ok(());
        }
        let entries = self.journal.take();
        let events = std::mem::take(&mut self.pending);
        if background && let Some(writer) = &self.writer {
            let done = writer.submit(entries, &self.config.node);
            self.writing = Some(Writing { done, events });
            return Ok(());
        }
        let written = commit_entries(&mut self.direct, &entries, &self.config.node).await;
        self.after_written(written, events).await
    }

    /// Waits until the batch in the writer's hands, if any, is committed, and publishes its
    /// events. Everything the engine has decided and handed over is then in the store.
    async fn written(&mut self) -> Result<(), EngineError> {
        let Some(writing) = self.writing.take() else {
            return Ok(());
        };
        let written = writing.done.await.unwrap_or(Err(EngineError::WriterStopped));
        self.after_written(written, writing.events).await
    }

    /// Publishes the writer's batch if it is committed, without waiting.
    async fn poll_written(&mut self) -> Result<(), EngineError> {
        use tokio::sync::oneshot::error::TryRecvError;
        let Some(writing) = &mut self.writing else {
            return Ok(());
        };
        let written = match writing.done.try_recv() {
            Ok(written) => written,
            Err(TryRecvError::Empty) => return Ok(()),
            Err(TryRecvError::Closed) => Err(EngineError::WriterStopped),
        };
        let writing = self.writing.take().expect("held above");
        self.after_written(written, writing.events).await
    }

    /// Counts a committed batch, publishes its events and reloads the agents another process
    /// had changed first.
    async fn after_written(&mut self, written: writer::Written, events: Vec<Event>) -> Result<(), EngineError> {
        let conflicts = written?;
        self.stats.commits += 1;
        for event in events {
            self.events.publish(event);
        }
        for agent in conflicts {
            self.reload_agent(agent).await?;
            self.conflicts.push(agent);
        }
        Ok(())
    }

    async fn reload_agent(&mut self, agent: UserId) -> Result<(), EngineError> {
        tracing::warn!(agent, "agent changed by another dialer process; reloading");
        if let Some(view) = crate::agent::store::load_one(&self.db, agent).await? {
            self.pool.insert(view);
        }
        Ok(())
    }

    /// Finishes an input: paces the campaigns it touched and keeps the journal's deadline.
    async fn settle(&mut self) -> Result<(), EngineError> {
        self.poll_written().await?;
        let now = self.clock.now();
        let gap = self.config.pace_interval;
        while let Some(campaign) = self.dirty.pop_first() {
            let Some(run) = self.runs.get_mut(&campaign) else {
                continue;
            };
            if let Some(last) = run.paced_at
                && now < last + gap
            {
                // Decided a moment ago: decide again when the interval is over, once, with
                // everything that changed meanwhile.
                let at = last + gap;
                if run.wakeup.is_none_or(|w| w > at || w < now) {
                    run.wakeup = Some(at);
                    self.schedule(at, Timer::Pace(campaign));
                }
                continue;
            }
            run.paced_at = Some(now);
            self.pace(campaign).await?;
        }
        if self.journal.should_commit(now) {
            self.commit_soon().await?;
        } else if let Some(due) = self.journal.due_at()
            && self.commit_timer.is_none_or(|t| t > due)
        {
            self.commit_timer = Some(due);
            self.schedule(due, Timer::Commit);
        }
        Ok(())
    }

    /// Commits, and fails with a conflict if another process changed `agent` first.
    async fn commit_for(&mut self, agent: UserId) -> Result<(), EngineError> {
        self.commit().await?;
        if let Some(i) = self.conflicts.iter().position(|a| *a == agent) {
            self.conflicts.swap_remove(i);
            return Err(EngineError::Conflict(agent));
        }
        Ok(())
    }

    /// Starts dialing a running campaign, with its own pacer or the one given. A campaign
    /// this engine already holds (paused, or running with settings changed since) takes its
    /// stored settings, dispositions and agents without losing its calls, its abandon
    /// window or what its pacer learned.
    pub async fn run_campaign(
        &mut self,
        reference: &str,
        strategy: Option<Box<dyn Strategy>>,
    ) -> Result<i64, EngineError> {
        let campaign = crate::campaign::store::find(&self.db, reference).await?;
        if campaign.status != CampaignStatus::Running {
            return Err(EngineError::CannotRun {
                campaign: campaign.name,
                reason: format!("it is {}, not running", campaign.status),
            });
        }
        let id = campaign.id;
        let dispositions = crate::campaign::store::dispositions(&self.db, id).await?;
        check_agentless(&campaign, &dispositions)?;
        let assigned = assigned_agents(&self.db, id).await?;
        let now = self.clock.now();
        // A campaign held already keeps its window's counts when it can (a month of attempts
        // is not read again for a new ceiling); one that starts, or whose window grows, is
        // counted from the store, after what this engine journaled.
        let (length, ceiling, false_positive) = window_shape(&campaign);
        let kept = self
            .runs
            .get_mut(&id)
            .is_some_and(|run| run.window.retune(length, ceiling, false_positive));
        let window = if kept {
            None
        } else {
            self.commit().await?;
            Some(campaign_window(&self.db, &campaign, now).await?)
        };
        let config = crate::pacer::PacerConfig::for_campaign(&campaign.settings);
        // Agents who join its desks: all assigned when it starts or resumes; when it runs on
        // with changed settings, only the newly assigned (the others chose their campaigns).
        let joining: HashSet<UserId>;
        if let Some(run) = self.runs.get_mut(&id) {
            joining = if run.active {
                assigned.difference(&run.assigned).copied().collect()
            } else {
                assigned.clone()
            };
            match strategy {
                Some(strategy) => run.strategy = strategy,
                None => {
                    let same = run.campaign.settings.pacer == campaign.settings.pacer;
                    if !(same && run.strategy.reconfigure(&config)) {
                        run.strategy = build_strategy(campaign.settings.pacer, &campaign);
                    }
                }
            }
            run.campaign = campaign;
            run.dispositions = dispositions;
            run.assigned = assigned;
            if let Some(window) = window {
                run.window = window;
            }
            run.active = true;
            // Look for records again now: the hours or the rules may let more through.
            run.dry_until = now;
            run.owned_dry_until = now;
            run.zones_read = None;
        } else {
            joining = assigned.clone();
            let strategy = match strategy {
                Some(strategy) => strategy,
                None => build_strategy(campaign.settings.pacer, &campaign),
            };
            self.runs.insert(
                id,
                Run {
                    campaign,
                    dispositions,
                    strategy,
                    assigned,
                    hopper: VecDeque::new(),
                    owned: Vec::new(),
                    dry_until: now,
                    owned_dry_until: now,
                    zones: Vec::new(),
                    zones_read: None,
                    window: window.expect("counted above: the campaign is new here"),
                    dial_rate: 0.0,
                    rate_at: now,
                    wakeup: None,
                    paced_at: None,
                    in_flight: InFlight::default(),
                    waiting: VecDeque::new(),
                    live: 0,
                    active: true,
                },
            );
        }
        let assigned = &self.runs[&id].assigned;
        for (agent, desk) in &mut self.desks {
            if joining.contains(agent) {
                if !desk.campaigns.contains(&id) {
                    desk.campaigns.push(id);
                }
            } else if !assigned.contains(agent) {
                // No longer assigned: no new calls from it (a call in progress goes on).
                desk.campaigns.retain(|c| *c != id);
            }
        }
        // Agents working in a mode the campaign no longer allows go back to its own.
        let settings = &self.runs[&id].campaign.settings;
        let (allowed, default) = (settings.dial_modes(), settings.dial_mode);
        let moved: Vec<UserId> = self
            .desks
            .iter()
            .filter(|(_, d)| d.campaigns.contains(&id) && !allowed.contains(&d.mode))
            .map(|(a, _)| *a)
            .collect();
        for agent in moved {
            if let Err(e) = self.set_mode(agent, default).await {
                tracing::warn!(agent, error = %e, "agent's dial mode no longer allowed and not switched");
            }
        }
        self.dirty.insert(id);
        for agent in self.ready_agents_of(id) {
            self.agent_available(agent).await?;
        }
        self.settle().await?;
        Ok(id)
    }

    /// Brings a campaign this engine runs in line with the store after someone changed it
    /// (its settings, agents, teams, or its lifecycle): a running campaign takes the change
    /// at once (see [`Engine::run_campaign`]); one no longer running stops dialing.
    pub async fn campaign_changed(&mut self, campaign: i64) -> Result<(), EngineError> {
        let stored = crate::campaign::store::find(&self.db, &campaign.to_string()).await?;
        let active = self.runs.get(&campaign).is_some_and(|r| r.active);
        if stored.status == CampaignStatus::Running {
            self.run_campaign(&campaign.to_string(), None).await?;
        } else if active {
            self.stop_campaign(campaign).await?;
        }
        Ok(())
    }

    /// Reads the teams of every signed-in agent again, after team memberships changed (the
    /// records a team owns go to its members).
    pub async fn teams_changed(&mut self) -> Result<(), EngineError> {
        let agents: Vec<UserId> = self.desks.keys().copied().collect();
        for agent in agents {
            let teams = teams_of(&self.db, agent).await?;
            if let Some(desk) = self.desks.get_mut(&agent) {
                desk.teams = teams;
                self.dirty.extend(desk.campaigns.iter().copied());
            }
        }
        self.settle().await
    }

    /// The settings a campaign runs with in this engine now, if it holds the campaign.
    pub fn running_settings(&self, campaign: i64) -> Option<&crate::campaign::CampaignSettings> {
        self.runs
            .get(&campaign)
            .filter(|r| r.active)
            .map(|r| &r.campaign.settings)
    }

    /// Stops dialing a campaign (paused or closed): reserved records go back to the store;
    /// calls in progress finish.
    pub async fn stop_campaign(&mut self, campaign: i64) -> Result<(), EngineError> {
        let now = self.clock.now();
        let Some(run) = self.runs.get_mut(&campaign) else {
            return Err(EngineError::NotRunning(campaign));
        };
        run.active = false;
        let records: Vec<Reserved> = run.hopper.drain(..).chain(run.owned.drain(..)).collect();
        for reserved in records {
            self.release(&reserved, None, now);
        }
        let offers: Vec<UserId> = self
            .desks
            .iter()
            .filter(|(_, d)| d.offer.as_ref().is_some_and(|o| o.campaign == campaign))
            .map(|(a, _)| *a)
            .collect();
        for agent in offers {
            if let Some(offer) = self.desks.get_mut(&agent).and_then(|d| d.offer.take()) {
                self.release(&offer.reserved, None, now);
                self.agent_command(agent, Command::Release)?;
            }
        }
        for desk in self.desks.values_mut() {
            desk.campaigns.retain(|c| *c != campaign);
        }
        self.commit().await?;
        self.settle().await
    }

    /// Gives a reserved record back undialed.
    fn release(&mut self, reserved: &Reserved, next_call_at: Option<DateTime<Utc>>, now: DateTime<Utc>) {
        self.write(Entry::Dropped {
            attempt: reserved.attempt,
        });
        self.write(Entry::Released {
            record: reserved.record,
            next_call_at,
            at: now,
        });
    }

    /// Closes what an earlier run of this node left open. Records it had reserved and not
    /// dialed go back; attempts it had dialed and not ended are ended as failed (their
    /// outcome is unknown) and retried by the campaign's rule; agents it had logged in are
    /// logged out, as their standing connections died with it.
    async fn recover(&mut self, now: DateTime<Utc>) -> Result<(), EngineError> {
        let node = self.config.node.clone();
        let mut tx = self.direct.begin().await?;
        let open = tx
            .query(
                &Statement::new(
                    "SELECT a.id, a.record_id, a.phone_position, a.dialed_at, r.campaign_id
                     FROM attempts a JOIN records r ON r.id = a.record_id
                     WHERE r.reserved_by = $1 AND a.ended_at IS NULL",
                    vec![node.as_str().into()],
                ),
                &[Kind::Int, Kind::Int, Kind::Int, Kind::Time, Kind::Int],
            )
            .await?;
        for row in &open {
            let (attempt, record, position) = (row.int(0)?, row.int(1)?, row.int(2)?);
            if row.opt_time(3)?.is_none() {
                write_entries(&mut tx, &[Entry::Dropped { attempt }], &node).await?;
                continue;
            }
            let ended = Entry::Ended {
                attempt,
                record,
                position,
                at: now,
                outcome: Outcome::Failed,
                by: None,
            };
            write_entries(&mut tx, &[ended], &node).await?;
            tx.execute(&Statement::new(
                "UPDATE records SET attempts = attempts + 1, last_outcome = 'failed', last_attempt_at = $1 WHERE id = $2",
                vec![now.into(), record.into()],
            ))
            .await?;
        }
        tx.execute(&Statement::new(
            "UPDATE records SET status = COALESCE(reserved_from, 'ready'), reserved_by = NULL, reserved_at = NULL,
                reserved_from = NULL, next_call_at = CASE WHEN attempts > 0 THEN $2 ELSE next_call_at END
             WHERE reserved_by = $1",
            vec![node.as_str().into(), (now + Duration::minutes(30)).into()],
        ))
        .await?;
        tx.commit().await?;
        if !open.is_empty() {
            tracing::warn!(
                node,
                attempts = open.len(),
                "recovered records reserved by an earlier run"
            );
        }
        // Agents logged in to this node (or by a runtime before nodes were recorded); those
        // of other processes sharing the store are theirs.
        let mut tx = self.direct.begin_read().await?;
        let rows = tx
            .query(
                &Statement::new(
                    "SELECT user_id FROM agent_states WHERE state <> 'logged_out' AND (node = $1 OR node IS NULL)
                     ORDER BY user_id",
                    vec![node.as_str().into()],
                ),
                &[Kind::Int],
            )
            .await?;
        tx.commit().await?;
        let signed_in: Vec<UserId> = rows.iter().map(|row| row.int(0)).collect::<Result<_, _>>()?;
        for agent in signed_in {
            self.agent_command(agent, Command::ForceLogOut)?;
        }
        self.commit().await
    }

    /// Agents logged in, ready, and serving `campaign`.
    fn ready_agents_of(&self, campaign: i64) -> Vec<UserId> {
        let mut ready: Vec<UserId> = self
            .desks
            .iter()
            .filter(|(agent, desk)| {
                desk.campaigns.contains(&campaign)
                    && self
                        .pool
                        .view(**agent)
                        .is_some_and(|v| v.status.state == crate::agent::AgentState::Ready)
            })
            .map(|(a, _)| *a)
            .collect();
        ready.sort_unstable();
        ready
    }

    /// Commits everything and stops dialing every campaign (at the end of a run).
    pub async fn shut_down(&mut self) -> Result<(), EngineError> {
        let running: Vec<i64> = self.runs.keys().copied().collect();
        for campaign in running {
            self.stop_campaign(campaign).await?;
        }
        self.commit().await
    }

    /// Handles one event from the switch.
    pub async fn on_call_event(&mut self, event: CallEvent) -> Result<(), EngineError> {
        self.call_event(event).await?;
        self.settle().await
    }

    fn prompt(&self, campaign: i64, name: &str, template: &str) -> Prompt {
        let run = self.runs.get(&campaign);
        let campaign_name = run.map_or("", |r| r.campaign.name.as_str());
        let caller_id = run.and_then(|r| r.campaign.settings.caller_id.as_deref()).unwrap_or("");
        Prompt {
            name: name.to_string(),
            text: template
                .replace("{campaign}", campaign_name)
                .replace("{caller_id}", caller_id),
        }
    }
}

/// Seconds from `epoch` to `at`, the pacer's clock.
fn secs_since(epoch: DateTime<Utc>, at: DateTime<Utc>) -> Secs {
    (at - epoch).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6
}

/// Commits journal entries in one transaction; returns agents whose stored state had moved.
async fn commit_entries(direct: &mut DirectDb, entries: &[Entry], node: &str) -> writer::Written {
    let mut tx = direct.begin().await?;
    let conflicts = write_entries(&mut tx, entries, node).await?;
    tx.commit().await?;
    Ok(conflicts)
}

/// Writes journal entries in order; returns agents whose stored state had moved.
async fn write_entries(
    tx: &mut crate::store::direct::DirectTx<'_>,
    entries: &[Entry],
    node: &str,
) -> Result<Vec<UserId>, EngineError> {
    let mut conflicts = Vec::new();
    for entry in entries {
        let statements = entry.statements();
        if let Entry::Agent(change) = entry {
            if tx.execute(&statements[0]).await? == 0 {
                conflicts.push(change.agent);
                continue;
            }
            tx.execute(&statements[1]).await?;
            if change.from == crate::agent::AgentState::LoggedOut {
                // Logged in here: a restart of this process logs them out (see `recover`).
                tx.execute(&Statement::new(
                    "UPDATE agent_states SET node = $1 WHERE user_id = $2",
                    vec![node.into(), change.agent.into()],
                ))
                .await?;
            }
            continue;
        }
        for statement in &statements {
            tx.execute(statement).await?;
        }
    }
    Ok(conflicts)
}

/// The agents assigned to a campaign, one by one or through their teams.
async fn assigned_agents(db: &Db, campaign: i64) -> Result<HashSet<UserId>, sqlx::Error> {
    let ids: Vec<i64> = with_db!(db, |p| {
        sqlx::query_scalar(
            "SELECT user_id FROM campaign_agents WHERE campaign_id = $1
             UNION SELECT m.user_id FROM campaign_teams t JOIN team_members m ON m.team_id = t.team_id
             WHERE t.campaign_id = $1",
        )
        .bind(campaign)
        .fetch_all(p)
        .await?
    });
    Ok(ids.into_iter().collect())
}

/// An agent's teams.
async fn teams_of(db: &Db, agent: UserId) -> Result<Vec<TeamId>, sqlx::Error> {
    with_db!(db, |p| {
        sqlx::query_scalar("SELECT team_id FROM team_members WHERE user_id = $1 ORDER BY team_id")
            .bind(agent)
            .fetch_all(p)
            .await
    })
}

/// Refuses an agentless campaign whose reply actions name dispositions it does not have.
fn check_agentless(campaign: &Campaign, dispositions: &[Disposition]) -> Result<(), EngineError> {
    if !campaign.settings.dial_modes().contains(&DialMode::Agentless) {
        return Ok(());
    }
    let known = |code: &str| dispositions.iter().any(|d| d.code == code);
    for (key, action) in &campaign.settings.agentless.replies {
        if action != "agent" && !known(action) {
            return Err(EngineError::CannotRun {
                campaign: campaign.name.clone(),
                reason: format!("agentless.replies.{key}: '{action}' is not one of its dispositions"),
            });
        }
    }
    let no_reply = &campaign.settings.agentless.no_reply;
    if !known(no_reply) {
        return Err(EngineError::CannotRun {
            campaign: campaign.name.clone(),
            reason: format!("agentless.no_reply: '{no_reply}' is not one of its dispositions"),
        });
    }
    Ok(())
}

/// A campaign's abandon window's length, ceiling and detector false-positive share (none
/// without detection), from its settings.
fn window_shape(campaign: &Campaign) -> (Duration, f64, f64) {
    let settings = &campaign.settings;
    let false_positive = if settings.amd.enabled {
        settings.amd.false_positive
    } else {
        0.0
    };
    (
        Duration::hours(i64::from(settings.abandon.window_hours)),
        settings.abandon.ceiling,
        false_positive,
    )
}

/// A campaign's abandon window as its settings lay it out, counted from the stored attempts.
async fn campaign_window(db: &Db, campaign: &Campaign, now: DateTime<Utc>) -> Result<AbandonWindow, sqlx::Error> {
    let (length, ceiling, false_positive) = window_shape(campaign);
    let mut window = AbandonWindow::new(length, ceiling, false_positive);
    load_window(db, campaign.id, now - length, &mut window).await?;
    Ok(window)
}

/// Counts the campaign's answers and abandons since `since` into its window.
async fn load_window(
    db: &Db,
    campaign: i64,
    since: DateTime<Utc>,
    window: &mut AbandonWindow,
) -> Result<(), sqlx::Error> {
    let rows: Vec<(DateTime<Utc>, Option<String>, bool)> = with_db!(db, |p| {
        sqlx::query_as(
            "SELECT answered_at, amd_verdict, abandoned FROM attempts
             WHERE campaign_id = $1 AND answered_at IS NOT NULL AND answered_at >= $2",
        )
        .bind(campaign)
        .bind(since)
        .fetch_all(p)
        .await?
    });
    for (at, verdict, abandoned) in rows {
        if verdict.as_deref() == Some("machine") {
            window.machine_detected(at);
        } else {
            window.person_answered(at);
            if abandoned {
                window.abandoned(at);
            }
        }
    }
    Ok(())
}

/// The pacer a campaign's settings ask for.
pub fn build_strategy(name: StrategyName, campaign: &Campaign) -> Box<dyn Strategy> {
    crate::pacer::build(name, &crate::pacer::PacerConfig::for_campaign(&campaign.settings))
}

impl<S: Switch> Engine<S> {
    /// The backend the engine writes to.
    pub fn backend(&self) -> Backend {
        self.db.backend()
    }
}
