//! The live campaign runtime of the server: one task owns the engine (on the simulated switch,
//! in real time), the survey desk beside it and the simulated interviewers, and serves the
//! requests of the people signed in (go ready, answer, end the call, give the disposition)
//! one at a time, between the switch's events, the engine's timers and the simulated
//! interviewers' acts. Everything the engine decides goes out on its event stream.

mod simulated;
mod world;

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};
use paceline_cati::desk::{Ending, SurveyDesk};
use paceline_cati::expr::Value;
use paceline_cati::interview::{Shown, State};
use paceline_dialer::Db;
use paceline_dialer::agent::AgentState;
use paceline_dialer::campaign::store as campaigns;
use paceline_dialer::clock::{Clock, ManualClock};
use paceline_dialer::events::{CallStep, Event, EventBus};
use paceline_dialer::runtime::{Engine, EngineConfig, EngineError};
use paceline_dialer::sim::switch::SimSwitch;
use paceline_dialer::sim::world::World;
use paceline_dialer::users::UserId;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

pub use simulated::Interviewers;

/// How the live runtime runs.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// The campaigns to run (by name); the first is the one screens show first.
    pub campaigns: Vec<String>,
    /// The agents simulated (already assigned to the campaign).
    pub simulated: Vec<UserId>,
    /// The seed of the simulated world and interviewers.
    pub seed: u64,
    /// The simulated world's time at launch (usually now); from there it runs in real time.
    pub start: DateTime<Utc>,
}

/// What a person at the agent desktop does.
#[derive(Debug, Clone)]
pub enum AgentAction {
    /// Sign in to the telephony (the agent's assigned running campaigns); not ready at first.
    LogIn,
    /// Ready for calls.
    Ready,
    /// Not ready, for a reason.
    NotReady(String),
    /// Sign out of the telephony.
    LogOut,
    /// Answer the question on screen (with the text of "other, specify").
    Answer(serde_json::Value, Option<String>),
    /// Back to the question before.
    Back,
    /// End the call.
    HangUp,
    /// End the interview and give the call its disposition.
    Finish(Ending),
    /// Work in another dial mode.
    Mode(paceline_dialer::campaign::DialMode),
    /// Dial the record shown in preview (on the number at this position, or its current one).
    PreviewDial(Option<i64>),
    /// Put the record shown in preview back and show the next.
    PreviewSkip,
    /// Read the interview in another of its questionnaire's languages.
    Language(String),
    /// Take calls from these of the agent's campaigns (by id).
    Campaigns(Vec<i64>),
}

/// A campaign an agent may take calls from.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CampaignChoice {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Whether the agent takes its calls now.
    pub chosen: bool,
}

/// The record shown to an agent in preview.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PreviewView {
    /// The campaign.
    pub campaign: i64,
    /// The record.
    pub record: i64,
    /// Its numbers, by position.
    #[schema(value_type = Vec<Object>)]
    pub numbers: Vec<(i64, String)>,
    /// The number it would dial now.
    pub number: String,
    /// Its fields.
    pub fields: serde_json::Value,
}

/// The call an agent is on (or wrapping up).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CallView {
    /// The campaign.
    pub campaign: i64,
    /// The record.
    pub record: i64,
    /// When it was bridged.
    pub since: DateTime<Utc>,
    /// The record's fields (the screen pop).
    pub fields: serde_json::Value,
    /// Whether the line has dropped (wrap-up).
    pub ended: bool,
}

/// The agent's interview.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InterviewView {
    /// Its id.
    pub id: i64,
    /// Where it stands: asking, complete, screened_out, terminated, suspended.
    #[schema(value_type = Object)]
    pub state: State,
    /// The question on screen.
    #[schema(value_type = Option<Object>)]
    pub question: Option<Shown>,
    /// The language it is read in.
    pub language: String,
    /// The languages it may be read in.
    pub languages: Vec<String>,
}

/// Everything the agent desktop shows.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgentView {
    /// The simulated world's time now (the clock `since` is on; screens time from it).
    pub now: DateTime<Utc>,
    /// The agent.
    #[schema(value_type = i64)]
    pub agent: UserId,
    /// The state: logged_out, ready, not_ready, reserved, on_call, wrap_up.
    pub state: &'static str,
    /// The not-ready reason.
    pub reason: Option<String>,
    /// Since when.
    pub since: Option<DateTime<Utc>>,
    /// The call.
    pub call: Option<CallView>,
    /// The interview.
    pub interview: Option<InterviewView>,
    /// Whether the last call waits for its disposition.
    pub needs_disposition: bool,
    /// The dial mode the agent works in.
    pub mode: Option<&'static str>,
    /// The dial modes they may switch to.
    pub modes: Vec<&'static str>,
    /// The record shown in preview.
    pub preview: Option<PreviewView>,
    /// The running campaigns the agent is assigned to, and which they take calls from.
    pub campaigns: Vec<CampaignChoice>,
}

/// What a supervisor does from the wallboard.
#[derive(Debug, Clone)]
pub enum SupervisorAction {
    /// Puts an agent not ready (after their call, if they are on one).
    ForceNotReady(UserId, String),
    /// Signs an agent out of the telephony (after their call, if they are on one).
    ForceSignOut(UserId),
    /// Pauses a campaign (by name): no more dials; calls in progress go on.
    Pause(String),
}

/// An agent's state as the engine holds it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgentNow {
    /// The state: logged_out, ready, not_ready, reserved, on_call, wrap_up.
    pub state: &'static str,
    /// The not-ready reason.
    pub reason: Option<String>,
    /// Since when.
    pub since: DateTime<Utc>,
}

/// A call ringing or in progress.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CallRow {
    /// The record called.
    pub record: i64,
    /// The number dialed.
    pub number: String,
    /// Where it is: ringing, waiting (answered, no agent yet), connecting, on_call,
    /// collecting (a keypad reply), playing (a message before hanging up), ending.
    pub phase: &'static str,
    /// The agent on it, or the one it was dialed for.
    #[schema(value_type = Option<i64>)]
    pub agent: Option<UserId>,
    /// The mode it was dialed in.
    pub mode: &'static str,
    /// When it was dialed.
    pub dialed_at: DateTime<Utc>,
    /// When it reached its phase's agent (bridged), if it did.
    pub bridged_at: Option<DateTime<Utc>>,
}

/// Counts over the last hour.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct LastHour {
    /// Numbers dialed.
    pub dials: usize,
    /// Calls a person answered.
    pub person_answers: usize,
    /// Persons no agent reached in time.
    pub abandons: usize,
}

/// The abandon window against its ceiling.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct WindowView {
    /// Abandons over person answers in the compliance window.
    pub rate: f64,
    /// The ceiling.
    pub ceiling: f64,
    /// Person answers in the window.
    pub person_answers: f64,
    /// Abandons in the window.
    pub abandons: f64,
}

/// What the live runtime knows for the wallboard, from memory only: the web handler adds
/// what the store holds (the campaign's agents, today's completes, callbacks due), so the
/// engine's thread never waits on the store for a wallboard.
#[derive(Debug, Clone, Serialize)]
pub struct LiveBoard {
    /// The simulated world's time now.
    pub now: DateTime<Utc>,
    /// The campaign's id.
    pub campaign: i64,
    /// Every agent the engine holds, with their state.
    pub agents: HashMap<UserId, AgentNow>,
    /// Calls ringing or in progress, oldest first.
    pub calls: Vec<CallRow>,
    /// Dials, person answers and abandons in the last hour.
    pub last_hour: LastHour,
    /// The abandon window, while the campaign runs.
    pub window: Option<WindowView>,
    /// The pacer's last decision, with the figures that explain it.
    pub decision: Option<paceline_dialer::events::DecisionNote>,
    /// Quota progress per cell.
    pub quotas: Vec<paceline_cati::quota::CellProgress>,
}

type Reply<T> = oneshot::Sender<Result<T, String>>;

enum Request {
    Act(UserId, AgentAction, Reply<AgentView>),
    View(UserId, Reply<AgentView>),
    Wallboard(i64, Reply<LiveBoard>),
    Supervise(SupervisorAction, Reply<()>),
    RecordChanged(i64, serde_json::Value),
    CampaignChanged(i64, Reply<()>),
    TeamsChanged(Reply<()>),
}

/// The handle the web handlers hold.
#[derive(Clone)]
pub struct Live {
    requests: mpsc::Sender<Request>,
    /// The campaigns it runs, by id and name; the first is the one screens show first.
    pub campaigns: Vec<(i64, String)>,
    /// The engine's event stream (the wallboard and the desktops subscribe).
    pub events: EventBus,
    /// The simulated world's clock, which the runtime stamps its facts with: the web layer
    /// reads "today" and "now" on it too, so a demo started at night, whose world runs from
    /// the next legal hour, finds its own calls.
    pub clock: Arc<dyn Clock>,
}

impl Live {
    /// Does what an agent asked; their desktop as it is after.
    pub async fn act(&self, agent: UserId, action: AgentAction) -> Result<AgentView, String> {
        self.ask(|tx| Request::Act(agent, action, tx)).await
    }

    /// The agent's desktop.
    pub async fn view(&self, agent: UserId) -> Result<AgentView, String> {
        self.ask(|tx| Request::View(agent, tx)).await
    }

    /// What the runtime knows for a campaign's wallboard.
    pub async fn wallboard(&self, campaign: i64) -> Result<LiveBoard, String> {
        self.ask(|tx| Request::Wallboard(campaign, tx)).await
    }

    /// The campaign named (or the first, when none is), if this runtime runs it.
    pub fn campaign(&self, name: Option<&str>) -> Option<&(i64, String)> {
        match name {
            None => self.campaigns.first(),
            Some(name) => self.campaigns.iter().find(|(_, n)| n == name),
        }
    }

    /// Does what a supervisor asked.
    pub async fn supervise(&self, action: SupervisorAction) -> Result<(), String> {
        self.ask(|tx| Request::Supervise(action, tx)).await
    }

    /// Tells the runtime a campaign it runs was changed in the store (its settings, agents,
    /// teams, quota targets, or its lifecycle), so it dials by the change at once; returns
    /// once the change has taken effect. Campaigns it does not run are no concern of it.
    pub async fn campaign_changed(&self, campaign: i64) -> Result<(), String> {
        if !self.campaigns.iter().any(|(id, _)| *id == campaign) {
            return Ok(());
        }
        self.ask(|tx| Request::CampaignChanged(campaign, tx)).await
    }

    /// Tells the runtime team memberships changed: the agents of the campaigns it runs, and
    /// the records their teams own, are read again.
    pub async fn teams_changed(&self) -> Result<(), String> {
        self.ask(Request::TeamsChanged).await
    }

    /// Tells the runtime a record was edited, so screens that show it show the new fields.
    pub async fn record_changed(&self, record: i64, fields: serde_json::Value) {
        // Nothing to do if the runtime has stopped: no screen shows the record then.
        let _ = self.requests.send(Request::RecordChanged(record, fields)).await;
    }

    async fn ask<T>(&self, request: impl FnOnce(Reply<T>) -> Request) -> Result<T, String> {
        let (tx, rx) = oneshot::channel();
        self.requests
            .send(request(tx))
            .await
            .map_err(|_| "the live runtime has stopped".to_string())?;
        rx.await.map_err(|_| "the live runtime has stopped".to_string())?
    }
}

/// The runtime's own state.
struct Runtime {
    db: Db,
    engine: Engine<SimSwitch>,
    desk: SurveyDesk,
    interviewers: Interviewers,
    clock: ManualClock,
    time: SimTime,
    feed: tokio::sync::broadcast::Receiver<Event>,
    calls: HashMap<UserId, CallView>,
    /// The fields of the records shown in preview, by agent.
    previews: HashMap<UserId, (i64, serde_json::Value)>,
    /// The campaigns it runs, by id and name.
    campaigns: Vec<(i64, String)>,
    /// The pacer's last decision, by campaign.
    decisions: HashMap<i64, paceline_dialer::events::DecisionNote>,
    /// Dials, person answers and abandons of the last hour, oldest first.
    recent: std::collections::VecDeque<(DateTime<Utc>, i64, Tally)>,
}

/// What the last hour's counts count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tally {
    Dial,
    PersonAnswer,
    Abandon,
}

/// The simulated world's time: from its start, in step with the wall clock.
#[derive(Debug, Clone, Copy)]
struct SimTime {
    start: DateTime<Utc>,
    wall: std::time::Instant,
}

impl SimTime {
    fn now(&self) -> DateTime<Utc> {
        self.start + chrono::Duration::from_std(self.wall.elapsed()).unwrap_or_default()
    }
}

impl Clock for SimTime {
    fn now(&self) -> DateTime<Utc> {
        paceline_dialer::clock::truncate_to_micros(SimTime::now(self))
    }
}

/// Starts the live runtime on the store at `url` (its own connections, on a thread of its
/// own: the engine is a single-threaded state machine): the campaign runs (started if it is
/// published or paused), the simulated interviewers sign in and go ready.
pub async fn spawn(url: String, config: LiveConfig) -> anyhow::Result<Live> {
    let (ready_tx, ready_rx) = oneshot::channel();
    std::thread::Builder::new()
        .name("live-campaign".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = ready_tx.send(Err(anyhow::Error::from(e)));
                    return;
                }
            };
            runtime.block_on(async move {
                match start(&url, config).await {
                    Ok((live, requests, state)) => {
                        let _ = ready_tx.send(Ok(live));
                        state.run(requests).await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            });
        })
        .context("starting the live campaign's thread")?;
    ready_rx.await.context("the live campaign's thread stopped")?
}

async fn start(url: &str, config: LiveConfig) -> anyhow::Result<(Live, mpsc::Receiver<Request>, Runtime)> {
    let db = Db::open(url).await?;
    let time = SimTime {
        start: config.start,
        wall: std::time::Instant::now(),
    };
    let now = time.now();
    let mut running = Vec::new();
    for name in &config.campaigns {
        let mut campaign = campaigns::find(&db, name).await?;
        let step = match campaign.status {
            paceline_dialer::campaign::CampaignStatus::Published => {
                Some(paceline_dialer::campaign::LifecycleStep::Start)
            }
            paceline_dialer::campaign::CampaignStatus::Paused => Some(paceline_dialer::campaign::LifecycleStep::Resume),
            _ => None,
        };
        if let Some(step) = step {
            campaign = campaigns::step(&db, name, step, None, now).await?;
        }
        running.push(campaign);
    }
    anyhow::ensure!(!running.is_empty(), "the live runtime needs a campaign to run");
    let clock = ManualClock::new(now);
    let switch = SimSwitch::new(World::new(Arc::new(world::demo_world(now)), config.seed), clock.clone());
    let events = EventBus::new(1 << 14);
    let feed = events.subscribe();
    let engine_config = EngineConfig {
        node: "live".into(),
        ..EngineConfig::default()
    };
    let mut engine = Engine::start(
        db.clone(),
        switch,
        Arc::new(clock.clone()),
        events.clone(),
        engine_config,
    )
    .await?;
    let mut desk = SurveyDesk::new(db.clone(), Arc::new(clock.clone()));
    for campaign in &running {
        desk.open_campaign(campaign.id)
            .await
            .with_context(|| format!("opening the survey of campaign '{}'", campaign.name))?;
    }
    engine.set_quota_gate(desk.gate());
    for campaign in &running {
        engine.run_campaign(&campaign.name, None).await?;
    }
    let running: Vec<(i64, String)> = running.into_iter().map(|c| (c.id, c.name)).collect();
    for &agent in &config.simulated {
        engine.log_in(agent, None).await?;
        engine.go_ready(agent).await?;
    }
    let (tx, rx) = mpsc::channel(1024);
    let runtime = Runtime {
        db,
        engine,
        desk,
        interviewers: Interviewers::new(config.simulated.iter().copied(), config.seed),
        clock,
        time,
        feed,
        calls: HashMap::new(),
        previews: HashMap::new(),
        campaigns: running.clone(),
        decisions: HashMap::new(),
        recent: std::collections::VecDeque::new(),
    };
    let live = Live {
        requests: tx,
        campaigns: running,
        clock: Arc::new(time),
        events,
    };
    Ok((live, rx, runtime))
}

impl Runtime {
    async fn run(mut self, mut requests: mpsc::Receiver<Request>) {
        loop {
            if let Err(e) = self.catch_up().await {
                tracing::error!(error = %e, "the live runtime failed; it stops");
                return;
            }
            let wait = self
                .next_at()
                .map(|at| (at - self.time.now()).to_std().unwrap_or_default())
                .unwrap_or(std::time::Duration::from_secs(1))
                .min(std::time::Duration::from_secs(1));
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                request = requests.recv() => {
                    let Some(request) = request else { return };
                    if let Err(e) = self.catch_up().await {
                        tracing::error!(error = %e, "the live runtime failed; it stops");
                        return;
                    }
                    self.serve(request).await;
                }
            }
        }
    }

    fn next_at(&self) -> Option<DateTime<Utc>> {
        [
            self.engine.switch().next_event_at(),
            self.engine.next_timer(),
            self.interviewers.next_at(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Does everything due up to now, each at its own time, then sets the clock to now.
    async fn catch_up(&mut self) -> anyhow::Result<()> {
        loop {
            let now = self.time.now();
            let Some(next) = self.next_at().filter(|at| *at <= now) else {
                break;
            };
            if next > self.clock.now() {
                self.clock.set(next);
            }
            if self.engine.switch().next_event_at() == Some(next) {
                let (_, event) = self.engine.switch_mut().pop_event().expect("an event is due");
                self.engine.on_call_event(event).await?;
            } else if self.interviewers.next_at() == Some(next) {
                let act = self.interviewers.due(next).expect("an act is due");
                self.simulated(act).await?;
            } else {
                self.engine.fire_timers().await?;
            }
            self.follow_events().await?;
        }
        let now = self.time.now();
        if now > self.clock.now() {
            self.clock.set(now);
        }
        self.engine.commit().await?;
        self.follow_events().await
    }

    /// Reads the engine's events: bridged calls open interviews (the simulated interviewers
    /// conduct theirs), ended calls put simulated interviewers into wrap-up.
    async fn follow_events(&mut self) -> anyhow::Result<()> {
        loop {
            let event = match self.feed.try_recv() {
                Ok(event) => event,
                Err(tokio::sync::broadcast::error::TryRecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "the live runtime's event feed lagged");
                    continue;
                }
                Err(_) => return Ok(()),
            };
            let now = self.clock.now();
            if let Event::Decision(note) = &event {
                self.decisions.insert(note.campaign, note.clone());
            }
            if let Event::Preview(note) = &event {
                let fields = paceline_cati::store::record_fields(&self.db, note.record).await?;
                self.previews.insert(note.agent, (note.record, fields));
            }
            if let Event::Call(note) = &event {
                let tally = match &note.step {
                    CallStep::Dialed { .. } => Some(Tally::Dial),
                    CallStep::Answered { verdict } if *verdict != paceline_dialer::telephony::Verdict::Machine => {
                        Some(Tally::PersonAnswer)
                    }
                    CallStep::Abandoned => Some(Tally::Abandon),
                    _ => None,
                };
                if let Some(tally) = tally {
                    self.recent.push_back((note.at, note.campaign, tally));
                }
                match note.step {
                    CallStep::Bridged { agent } => {
                        let fields = paceline_cati::store::record_fields(&self.db, note.record).await?;
                        self.calls.insert(
                            agent,
                            CallView {
                                campaign: note.campaign,
                                record: note.record,
                                since: note.at,
                                fields,
                                ended: false,
                            },
                        );
                    }
                    CallStep::Ended { .. } => {
                        if let Some((&agent, call)) = self.calls.iter_mut().find(|(_, c)| c.record == note.record) {
                            call.ended = true;
                            if self.interviewers.simulates(agent) {
                                self.interviewers.wrap_up(agent, now);
                            }
                        }
                    }
                    _ => {}
                }
            }
            if let Some(agent) = self.desk.on_event(&event).await?
                && self.interviewers.simulates(agent)
            {
                self.interviewers
                    .conduct(&mut self.desk, agent, now, now.date_naive())
                    .await;
            }
        }
    }

    async fn simulated(&mut self, act: simulated::Act) -> anyhow::Result<()> {
        match act {
            simulated::Act::HangUp(agent) => match self.engine.hang_up(agent).await {
                Ok(()) | Err(EngineError::NotOnCall(_)) => {}
                Err(e) => return Err(e.into()),
            },
            simulated::Act::Dispose(agent) => {
                if !self.engine.needs_disposition(agent) {
                    return Ok(());
                }
                let disposal = if self.desk.open(agent).is_some() {
                    let ending = Interviewers::ending(&self.desk, agent);
                    self.desk.finish(agent, ending).await?
                } else {
                    // A call that reached no interview (an answering machine the detector missed).
                    paceline_dialer::runtime::Disposal::AnsweringMachine
                };
                self.calls.remove(&agent);
                self.engine.dispose_and_ready(agent, disposal).await?;
            }
        }
        Ok(())
    }

    async fn serve(&mut self, request: Request) {
        match request {
            Request::Act(agent, action, reply) => {
                let result = self.act(agent, action).await.map_err(|e| e.to_string());
                let result = match result {
                    Ok(()) => self.view(agent),
                    Err(e) => Err(e),
                };
                let _ = reply.send(result);
            }
            Request::View(agent, reply) => {
                let _ = reply.send(self.view(agent));
            }
            Request::Wallboard(campaign, reply) => {
                let _ = reply.send(Ok(self.wallboard(campaign)));
            }
            Request::Supervise(action, reply) => {
                let _ = reply.send(self.supervise(action).await.map_err(|e| e.to_string()));
            }
            Request::CampaignChanged(campaign, reply) => {
                let _ = reply.send(self.campaign_changed(campaign).await.map_err(|e| e.to_string()));
            }
            Request::TeamsChanged(reply) => {
                let result = async {
                    self.engine.teams_changed().await?;
                    let ids: Vec<i64> = self.campaigns.iter().map(|(id, _)| *id).collect();
                    for id in ids {
                        self.campaign_changed(id).await?;
                    }
                    anyhow::Ok(())
                }
                .await;
                let _ = reply.send(result.map_err(|e| e.to_string()));
            }
            Request::RecordChanged(record, fields) => {
                for call in self.calls.values_mut().filter(|c| c.record == record) {
                    call.fields = fields.clone();
                }
                for shown in self.previews.values_mut().filter(|(r, _)| *r == record) {
                    shown.1 = fields.clone();
                }
            }
        }
    }

    /// Takes a campaign's stored change: the engine's settings, agents and lifecycle, and
    /// the survey desk's questionnaire and quota targets.
    async fn campaign_changed(&mut self, campaign: i64) -> anyhow::Result<()> {
        self.engine.campaign_changed(campaign).await?;
        if self.engine.running_settings(campaign).is_some() {
            self.desk.open_campaign(campaign).await?;
        }
        Ok(())
    }

    async fn supervise(&mut self, action: SupervisorAction) -> anyhow::Result<()> {
        let now = self.clock.now();
        match action {
            SupervisorAction::ForceNotReady(agent, reason) => {
                self.engine.go_not_ready(agent, &reason).await?;
            }
            SupervisorAction::ForceSignOut(agent) => {
                self.engine.force_log_out(agent).await?;
            }
            SupervisorAction::Pause(name) => {
                let &(id, _) = self
                    .campaigns
                    .iter()
                    .find(|(_, n)| *n == name)
                    .with_context(|| format!("'{name}' does not run here"))?;
                campaigns::step(
                    &self.db,
                    &name,
                    paceline_dialer::campaign::LifecycleStep::Pause,
                    None,
                    now,
                )
                .await?;
                self.engine.stop_campaign(id).await?;
            }
        }
        Ok(())
    }

    fn wallboard(&mut self, campaign: i64) -> LiveBoard {
        let now = self.time.now();
        while self
            .recent
            .front()
            .is_some_and(|(at, ..)| *at + chrono::Duration::hours(1) <= now)
        {
            self.recent.pop_front();
        }
        let count = |t: Tally| self.recent.iter().filter(|(_, c, x)| *c == campaign && *x == t).count();
        let last_hour = LastHour {
            dials: count(Tally::Dial),
            person_answers: count(Tally::PersonAnswer),
            abandons: count(Tally::Abandon),
        };
        let agents = self
            .engine
            .pool()
            .snapshot()
            .into_iter()
            .map(|view| {
                let (state, reason) = state_name(Some(&view.status.state));
                (
                    view.agent,
                    AgentNow {
                        state,
                        reason,
                        since: view.since,
                    },
                )
            })
            .collect();
        let mut calls: Vec<CallRow> = self
            .engine
            .calls()
            .filter(|c| c.campaign == campaign)
            .map(call_row)
            .collect();
        calls.sort_by_key(|c| c.dialed_at);
        let window = self.engine.window(campaign).map(|w| WindowView {
            rate: w.rate(),
            ceiling: w.ceiling,
            person_answers: w.person_answers,
            abandons: w.abandons,
        });
        LiveBoard {
            now,
            campaign,
            agents,
            calls,
            last_hour,
            window,
            decision: self.decisions.get(&campaign).cloned(),
            quotas: self.desk.quota_progress(campaign),
        }
    }

    async fn act(&mut self, agent: UserId, action: AgentAction) -> anyhow::Result<()> {
        if self.interviewers.simulates(agent) {
            anyhow::bail!("agent {agent} is simulated");
        }
        match action {
            AgentAction::LogIn => {
                self.engine.log_in(agent, None).await?;
            }
            AgentAction::Ready => {
                self.engine.go_ready(agent).await?;
            }
            AgentAction::NotReady(reason) => {
                self.engine.go_not_ready(agent, &reason).await?;
            }
            AgentAction::LogOut => {
                self.engine.log_out(agent).await?;
            }
            AgentAction::Answer(json, other) => {
                let question = self
                    .desk
                    .current(agent)
                    .and_then(|(_, shown)| shown)
                    .context("there is no question on screen")?;
                let definition = self
                    .desk
                    .question(agent, &question.question)
                    .context("the question on screen is not in the questionnaire")?;
                let value = if json.is_null() {
                    Value::Empty
                } else {
                    paceline_cati::interview::parse_answer(&definition, &json)
                        .map_err(|message| anyhow::anyhow!("{}: {message}", question.name))?
                };
                self.desk.answer(agent, value, other.as_deref()).await?;
            }
            AgentAction::Back => self.desk.back(agent).await?,
            AgentAction::HangUp => self.engine.hang_up(agent).await?,
            AgentAction::Mode(mode) => self.engine.set_mode(agent, mode).await?,
            AgentAction::PreviewDial(position) => self.engine.preview_dial(agent, position).await?,
            AgentAction::PreviewSkip => self.engine.preview_skip(agent).await?,
            AgentAction::Campaigns(chosen) => {
                if chosen.is_empty() {
                    anyhow::bail!("choose at least one campaign");
                }
                if self.engine.needs_disposition(agent) || self.calls.contains_key(&agent) {
                    anyhow::bail!("finish the call first: campaigns are switched between calls");
                }
                self.engine.set_campaigns(agent, &chosen).await?;
            }
            AgentAction::Language(language) => {
                let (_, languages) = self.desk.languages(agent).context("there is no interview open")?;
                if !languages.contains(&language) {
                    anyhow::bail!(
                        "'{language}' is not a language of the questionnaire: {}",
                        languages.join(", ")
                    );
                }
                self.desk.set_language(agent, &language).await?;
            }
            AgentAction::Finish(ending) => {
                if !self.engine.needs_disposition(agent) {
                    anyhow::bail!("end the call first: a disposition is given in wrap-up");
                }
                let disposal = self.desk.finish(agent, ending).await?;
                self.engine.dispose(agent, disposal).await?;
                self.calls.remove(&agent);
            }
        }
        Ok(())
    }

    fn view(&self, agent: UserId) -> Result<AgentView, String> {
        let pool = self.engine.pool().view(agent);
        let (state, reason) = state_name(pool.map(|v| &v.status.state));
        let interview = self.desk.open(agent).map(|open| {
            let (state, question) = self.desk.current(agent).unwrap_or((State::Asking, None));
            let (language, languages) = self.desk.languages(agent).unwrap_or_default();
            InterviewView {
                id: open.interview,
                state,
                question,
                language,
                languages,
            }
        });
        Ok(AgentView {
            now: self.time.now(),
            agent,
            state,
            reason,
            since: pool.map(|v| v.since),
            call: self.calls.get(&agent).cloned(),
            interview,
            needs_disposition: self.engine.needs_disposition(agent),
            mode: self.engine.agent_mode(agent).map(|m| m.as_str()),
            modes: self.engine.agent_modes(agent).into_iter().map(|m| m.as_str()).collect(),
            campaigns: {
                let chosen = self.engine.agent_campaigns(agent).unwrap_or_default();
                self.engine
                    .assigned_campaigns(agent)
                    .into_iter()
                    .map(|id| CampaignChoice {
                        id,
                        name: self
                            .campaigns
                            .iter()
                            .find(|(c, _)| *c == id)
                            .map_or_else(|| id.to_string(), |(_, n)| n.clone()),
                        chosen: chosen.contains(&id),
                    })
                    .collect()
            },
            preview: self.engine.preview_of(agent).map(|(reserved, campaign)| PreviewView {
                campaign,
                record: reserved.record,
                numbers: reserved.phones.clone(),
                number: reserved.e164.clone(),
                fields: self
                    .previews
                    .get(&agent)
                    .filter(|(record, _)| *record == reserved.record)
                    .map(|(_, f)| f.clone())
                    .or_else(|| reserved.fields.clone())
                    .unwrap_or(serde_json::Value::Null),
            }),
        })
    }
}

/// An agent state's name for screens, and the not-ready reason.
fn state_name(state: Option<&AgentState>) -> (&'static str, Option<String>) {
    let reason = match state {
        Some(AgentState::NotReady { reason }) => Some(reason.clone()),
        _ => None,
    };
    (
        state.map_or(AgentState::LoggedOut.kind(), AgentState::kind).as_str(),
        reason,
    )
}

/// A live call as the wallboard lists it.
fn call_row(call: &paceline_dialer::runtime::call::LiveCall) -> CallRow {
    use paceline_dialer::runtime::call::{Phase, Route};
    let (phase, agent) = match call.phase {
        Phase::Ringing => ("ringing", None),
        Phase::Waiting => ("waiting", None),
        Phase::Connecting(agent) => ("connecting", Some(agent)),
        Phase::Bridged(agent) => ("on_call", Some(agent)),
        Phase::Collecting => ("collecting", None),
        Phase::Playing(_) => ("playing", None),
        Phase::Ending => ("ending", call.agent),
    };
    let agent = agent.or(match call.route {
        Route::Agent(agent) => Some(agent),
        Route::Pacer | Route::Agentless => None,
    });
    CallRow {
        record: call.reserved.record,
        number: call.reserved.e164.clone(),
        phase,
        agent,
        mode: call.mode.as_str(),
        dialed_at: call.dialed_at,
        bridged_at: call.bridged_at,
    }
}
