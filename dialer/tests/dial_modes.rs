//! The campaign runtime end to end on the simulated switch, on a real store (SQLite, or
//! PostgreSQL with PACELINE_TEST_DATABASE_URL): the four dial modes, abandon handling and the
//! retry rules per outcome, and (property tests over random worlds and two dialer processes
//! sharing one store) that no record is dialed outside calling hours, on a do-not-call list,
//! past its maximum attempts, or twice at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, TimeZone, Utc};
use paceline_dialer::campaign::{CallingHours, CampaignConfig, CampaignKind, Day, DialMode, Outcome, RetryRule};
use paceline_dialer::clock::ManualClock;
use paceline_dialer::events::EventBus;
use paceline_dialer::runtime::{Disposal, Engine, EngineConfig};
use paceline_dialer::sim::scenario::Scenario;
use paceline_dialer::sim::setup::{Centre, set_up_with};
use paceline_dialer::sim::switch::SimSwitch;
use paceline_dialer::sim::world::World;
use paceline_dialer::store::testing::TestDb;
use paceline_dialer::telephony::{CallId, DigitCollection, Originate, Prompt, Switch, SwitchError};
use paceline_dialer::users::UserId;
use paceline_dialer::{Db, with_db};
use proptest::prelude::*;

/// The simulated switch, recording the prompts the runtime plays.
struct Recording {
    inner: SimSwitch,
    prompts: Arc<Mutex<Vec<(CallId, Prompt)>>>,
}

impl Switch for Recording {
    async fn connect_agent(&mut self, agent: UserId) -> Result<(), SwitchError> {
        self.inner.connect_agent(agent).await
    }
    async fn disconnect_agent(&mut self, agent: UserId) -> Result<(), SwitchError> {
        self.inner.disconnect_agent(agent).await
    }
    async fn originate(&mut self, request: Originate) -> Result<(), SwitchError> {
        self.inner.originate(request).await
    }
    async fn bridge(&mut self, call: &CallId, agent: UserId) -> Result<(), SwitchError> {
        self.inner.bridge(call, agent).await
    }
    async fn play(&mut self, call: &CallId, prompt: &Prompt) -> Result<(), SwitchError> {
        self.prompts.lock().unwrap().push((call.clone(), prompt.clone()));
        self.inner.play(call, prompt).await
    }
    async fn collect_digits(&mut self, call: &CallId, collection: &DigitCollection) -> Result<(), SwitchError> {
        if let Some(prompt) = &collection.prompt {
            self.prompts.lock().unwrap().push((call.clone(), prompt.clone()));
        }
        self.inner.collect_digits(call, collection).await
    }
    async fn hang_up(&mut self, call: &CallId) -> Result<(), SwitchError> {
        self.inner.hang_up(call).await
    }
}

/// A monday afternoon in New York: inside the simulated campaign's calling hours.
fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 15, 0, 0).unwrap()
}

fn world(extra: &str, records: u64) -> Scenario {
    world_in(&[], extra, records)
}

/// A world whose records spread over `zones` (default: New York).
fn world_in(zones: &[&str], extra: &str, records: u64) -> Scenario {
    let zones = if zones.is_empty() {
        String::new()
    } else {
        format!("time_zones = {zones:?}")
    };
    let toml = format!(
        r#"
name = "modes"
{zones}
hours = 1
abandon_target = 0.03
window_hours = 24
connect_grace_s = 2.0
records = {records}
[agents]
count = 3
wrap_up_s = {{ dist = "fixed", value = 5 }}
[talk_time_s]
dist = "fixed"
value = 30
[delay_s]
person = {{ dist = "uniform", min = 4, max = 12 }}
machine = {{ dist = "uniform", min = 6, max = 12 }}
busy = {{ dist = "uniform", min = 1, max = 3 }}
invalid = {{ dist = "uniform", min = 1, max = 2 }}
{extra}
"#
    );
    Scenario::from_toml(&toml, "modes.toml").unwrap()
}

/// One dialer process on the simulator, with agents whose calls get a disposition at the
/// end of wrap-up.
struct Rig {
    engine: Engine<Recording>,
    clock: ManualClock,
    centre: Centre,
    prompts: Arc<Mutex<Vec<(CallId, Prompt)>>>,
    disposition: &'static str,
}

async fn rig(db: &Db, scenario: Scenario, adjust: impl FnOnce(&mut CampaignConfig)) -> Rig {
    rig_with(db, scenario, adjust, EngineConfig::default()).await
}

async fn rig_with(db: &Db, scenario: Scenario, adjust: impl FnOnce(&mut CampaignConfig), config: EngineConfig) -> Rig {
    let centre = set_up_with(db, &scenario, start(), adjust).await.unwrap();
    let clock = ManualClock::new(start());
    let prompts = Arc::new(Mutex::new(Vec::new()));
    let switch = Recording {
        inner: SimSwitch::new(World::new(Arc::new(scenario), 7), clock.clone()),
        prompts: prompts.clone(),
    };
    let mut engine = Engine::start(db.clone(), switch, Arc::new(clock.clone()), EventBus::new(1024), config)
        .await
        .unwrap();
    engine.run_campaign(&centre.campaign_name, None).await.unwrap();
    Rig {
        engine,
        clock,
        centre,
        prompts,
        disposition: "refusal",
    }
}

impl Rig {
    async fn ready(&mut self, agents: usize) {
        for agent in self.centre.agents.clone().into_iter().take(agents) {
            self.engine.log_in(agent, None).await.unwrap();
            self.engine.go_ready(agent).await.unwrap();
        }
    }

    /// Runs the simulated world until `until`, calling `check` after every step.
    async fn run_until(&mut self, until: DateTime<Utc>, mut check: impl FnMut(&Engine<Recording>)) {
        loop {
            let next_switch = self.engine.switch().inner.next_event_at();
            let next_timer = self.engine.next_timer();
            let Some(next) = [next_switch, next_timer].into_iter().flatten().min() else {
                break;
            };
            if next >= until {
                break;
            }
            self.clock.set(next);
            if next_switch == Some(next) {
                let (_, event) = self.engine.switch_mut().inner.pop_event().unwrap();
                self.engine.on_call_event(event).await.unwrap();
            } else {
                self.engine.fire_timers().await.unwrap();
            }
            for agent in self.centre.agents.clone() {
                if self.engine.needs_disposition(agent) {
                    self.engine
                        .dispose_and_ready(agent, Disposal::code(self.disposition))
                        .await
                        .unwrap();
                }
            }
            check(&self.engine);
        }
        self.clock.set(until);
        self.engine.fire_timers().await.unwrap();
        self.engine.commit().await.unwrap();
    }
}

/// One stored attempt.
#[derive(Debug, Clone)]
struct Attempt {
    record: i64,
    e164: String,
    mode: Option<String>,
    dialed_at: Option<DateTime<Utc>>,
    answered_at: Option<DateTime<Utc>>,
    bridged_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    outcome: Option<String>,
    abandoned: bool,
    disposition: Option<String>,
    keypad: Option<String>,
}

type AttemptRow = (
    i64,
    String,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<String>,
    bool,
    Option<String>,
    Option<String>,
);

async fn attempts(db: &Db, campaign: i64) -> Vec<Attempt> {
    let sql = "SELECT record_id, e164, dial_mode, dialed_at, answered_at, bridged_at, ended_at, outcome,
                      abandoned, disposition, keypad
               FROM attempts WHERE campaign_id = $1 AND dialed_at IS NOT NULL ORDER BY id";
    let rows: Vec<AttemptRow> = with_db!(db, |p| sqlx::query_as(sql).bind(campaign).fetch_all(p).await.unwrap());
    rows.into_iter()
        .map(|r| Attempt {
            record: r.0,
            e164: r.1,
            mode: r.2,
            dialed_at: r.3,
            answered_at: r.4,
            bridged_at: r.5,
            ended_at: r.6,
            outcome: r.7,
            abandoned: r.8,
            disposition: r.9,
            keypad: r.10,
        })
        .collect()
}

async fn record(db: &Db, id: i64) -> (String, i64, Option<DateTime<Utc>>) {
    let sql = "SELECT status, attempts, next_call_at FROM records WHERE id = $1";
    with_db!(db, |p| sqlx::query_as(sql).bind(id).fetch_one(p).await.unwrap())
}

async fn dnc_count(db: &Db, e164: &str) -> i64 {
    let sql = "SELECT COUNT(*) FROM dnc_entries WHERE e164 = $1";
    with_db!(db, |p| sqlx::query_scalar(sql).bind(e164).fetch_one(p).await.unwrap())
}

fn mode(mode: DialMode) -> impl FnOnce(&mut CampaignConfig) {
    move |config| config.settings.dial_mode = mode
}

#[tokio::test]
async fn progressive_dials_one_call_per_ready_agent_and_never_abandons() {
    let test = TestDb::new().await;
    let scenario = world("[outcomes]\nperson = 0.5\nno_answer = 0.5", 400);
    let mut rig = rig(&test.db, scenario, mode(DialMode::Progressive)).await;
    rig.ready(2).await;
    let mut most = 0;
    rig.run_until(start() + Duration::minutes(30), |engine| {
        most = most.max(engine.live_calls());
    })
    .await;
    assert!(most <= 2, "{most} calls at once for two agents");
    let all = attempts(&test.db, rig.centre.campaign).await;
    assert!(all.len() > 20, "only {} dials in half an hour", all.len());
    assert!(all.iter().all(|a| a.mode.as_deref() == Some("progressive")));
    assert!(all.iter().all(|a| !a.abandoned), "progressive abandoned a call");
    let persons: Vec<&Attempt> = all.iter().filter(|a| a.answered_at.is_some()).collect();
    assert!(!persons.is_empty());
    // Every person answered reached the agent reserved for them at once.
    for a in &persons {
        if let (Some(answered), Some(bridged)) = (a.answered_at, a.bridged_at) {
            assert!(bridged - answered <= Duration::seconds(2), "{a:?}");
        } else if a.ended_at.is_some() {
            panic!("a person answered and was not bridged: {a:?}");
        }
    }
}

#[tokio::test]
async fn preview_shows_a_record_the_agent_dials_or_skips() {
    let test = TestDb::new().await;
    let scenario = world("[outcomes]\nperson = 1.0", 50);
    let mut rig = rig(&test.db, scenario, mode(DialMode::Preview)).await;
    let agent = rig.centre.agents[0];
    rig.ready(1).await;
    let (first, _) = rig
        .engine
        .preview_of(agent)
        .map(|(r, c)| (r.record, c))
        .expect("a record on show");
    assert!(rig.engine.live_calls() == 0, "preview dialed before the agent chose");

    // Skipped: it goes back for the campaign's skip time, and the next record is shown.
    rig.engine.preview_skip(agent).await.unwrap();
    let (status, _, next_call_at) = record(&test.db, first).await;
    assert_eq!(status, "new");
    assert_eq!(next_call_at, Some(start() + Duration::minutes(15)));
    let second = rig
        .engine
        .preview_of(agent)
        .map(|(r, _)| r.record)
        .expect("the next record");
    assert_ne!(second, first);

    // Dialed: the call goes out for this agent and reaches them.
    rig.engine.preview_dial(agent, None).await.unwrap();
    assert_eq!(rig.engine.live_calls(), 1);
    rig.run_until(start() + Duration::minutes(1), |_| {}).await;
    let all = attempts(&test.db, rig.centre.campaign).await;
    let call = all
        .iter()
        .find(|a| a.record == second)
        .expect("the dialed record's attempt");
    assert_eq!(call.mode.as_deref(), Some("preview"));
    assert!(call.bridged_at.is_some(), "{call:?}");
    assert!(all.iter().all(|a| a.record != first), "the skipped record was dialed");
}

#[tokio::test]
async fn predictive_places_calls_for_the_floor_and_counts_its_abandons() {
    let test = TestDb::new().await;
    let scenario = world("[outcomes]\nperson = 0.3\nno_answer = 0.7", 3000);
    let mut rig = rig(&test.db, scenario, mode(DialMode::Predictive)).await;
    rig.ready(3).await;
    let mut most = 0;
    rig.run_until(start() + Duration::minutes(40), |engine| {
        most = most.max(engine.live_calls());
    })
    .await;
    let all = attempts(&test.db, rig.centre.campaign).await;
    assert!(
        most > 3,
        "the pacer never dialed ahead of the agents ({most} calls at most)"
    );
    assert!(all.iter().all(|a| a.mode.as_deref() == Some("predictive")));
    let persons = all.iter().filter(|a| a.answered_at.is_some()).count();
    let bridged = all.iter().filter(|a| a.bridged_at.is_some()).count();
    let abandoned = all.iter().filter(|a| a.abandoned).count();
    assert!(bridged > 20, "{bridged} calls bridged");
    assert_eq!(persons, bridged + abandoned, "every person is bridged or abandoned");
    let window = rig.engine.window(rig.centre.campaign).unwrap();
    assert_eq!(window.abandons as usize, abandoned);
    assert_eq!(window.person_answers as usize, persons);
}

#[tokio::test]
async fn the_journal_writer_stores_what_the_engine_would_store_itself() {
    let mut stored = Vec::new();
    for background_commits in [false, true] {
        let test = TestDb::new().await;
        let scenario = world("[outcomes]\nperson = 0.3\nno_answer = 0.7", 3000);
        let config = EngineConfig {
            background_commits,
            ..EngineConfig::default()
        };
        let mut rig = rig_with(&test.db, scenario, mode(DialMode::Predictive), config).await;
        rig.ready(3).await;
        rig.run_until(start() + Duration::minutes(20), |_| {}).await;
        let all = attempts(&test.db, rig.centre.campaign).await;
        stored.push(format!("{all:#?}"));
        assert!(all.len() > 20, "{} attempts", all.len());
    }
    assert_eq!(
        stored[0], stored[1],
        "the same calls, stored alike with and without the writer"
    );
}

#[tokio::test]
async fn agentless_plays_the_message_and_stores_the_reply() {
    let test = TestDb::new().await;
    let scenario = world(
        "[outcomes]\nperson = 1.0\n[keypad]\nreplies = { \"1\" = 0.4, \"2\" = 0.2, \"9\" = 0.2 }\n\
         delay_s = { dist = \"uniform\", min = 1, max = 4 }",
        200,
    );
    let mut rig = rig(&test.db, scenario, |config| {
        config.kind = Some(CampaignKind::Collections);
        config.settings.dial_mode = DialMode::Agentless;
        config.settings.agentless.lines = 4;
    })
    .await;
    rig.disposition = "promise_to_pay";
    // One agent takes the persons who press 2.
    rig.ready(1).await;
    let mut most = 0;
    rig.run_until(start() + Duration::minutes(20), |engine| {
        most = most.max(engine.live_calls());
    })
    .await;
    assert!(most <= 5, "{most} calls on four lines (and one for the agent)");
    let all = attempts(&test.db, rig.centre.campaign).await;
    let ended: Vec<&Attempt> = all.iter().filter(|a| a.ended_at.is_some()).collect();
    assert!(ended.len() > 30, "{} agentless calls", ended.len());
    let by_key = |key: Option<&str>| {
        ended
            .iter()
            .filter(|a| a.keypad.as_deref() == key)
            .copied()
            .collect::<Vec<_>>()
    };
    for a in by_key(Some("1")) {
        assert_eq!(a.disposition.as_deref(), Some("promise_to_pay"), "{a:?}");
        assert!(a.bridged_at.is_none());
    }
    for a in by_key(Some("9")) {
        assert_eq!(a.disposition.as_deref(), Some("do_not_call"), "{a:?}");
        assert_eq!(dnc_count(&test.db, &a.e164).await, 1, "{a:?}");
    }
    let to_agent = by_key(Some("2"));
    assert!(!to_agent.is_empty());
    assert!(
        to_agent.iter().any(|a| a.bridged_at.is_some()),
        "nobody who pressed 2 reached the agent"
    );
    for a in by_key(None) {
        assert_eq!(a.disposition.as_deref(), Some("callback"), "{a:?}");
    }
    for key in ["1", "2", "9"] {
        assert!(!by_key(Some(key)).is_empty(), "nobody pressed {key}");
    }
    let prompts = rig.prompts.lock().unwrap();
    assert!(
        prompts
            .iter()
            .any(|(_, p)| p.name == "agentless_message" && p.text.contains("Press 1"))
    );
}

#[tokio::test]
async fn abandoned_persons_hear_the_message_and_wait_three_days() {
    let test = TestDb::new().await;
    let scenario = world("[outcomes]\nperson = 0.4\nno_answer = 0.6", 400);
    // Dials at 1 / person share per agent, blind to abandons: with one agent taking calls of
    // half a minute, persons are bound to be abandoned.
    let mut rig = rig(&test.db, scenario, |config| {
        config.settings.dial_mode = DialMode::Predictive;
        config.settings.pacer = "fixed-ratio".parse().unwrap();
    })
    .await;
    rig.ready(1).await;
    rig.run_until(start() + Duration::minutes(10), |_| {}).await;
    let all = attempts(&test.db, rig.centre.campaign).await;
    let abandoned: Vec<&Attempt> = all.iter().filter(|a| a.abandoned).collect();
    assert!(!abandoned.is_empty(), "no abandons with three dials per agent");
    let prompts = rig.prompts.lock().unwrap().clone();
    let messages = prompts.iter().filter(|(_, p)| p.name == "abandon_message").count();
    assert_eq!(messages, abandoned.len(), "one information message per abandon");
    assert!(
        prompts
            .iter()
            .all(|(_, p)| p.name != "abandon_message" || p.text.contains("+12025550143"))
    );
    for a in abandoned {
        assert_eq!(a.outcome.as_deref(), Some("abandoned"));
        let (status, attempts, next) = record(&test.db, a.record).await;
        assert_eq!((status.as_str(), attempts), ("ready", 1), "record {}", a.record);
        assert_eq!(
            next,
            Some(a.ended_at.unwrap() + Duration::hours(72)),
            "record {}",
            a.record
        );
    }
}

#[tokio::test]
async fn retry_rules_space_attempts_and_stop_at_their_maximum() {
    let test = TestDb::new().await;
    let scenario = world("[outcomes]\nbusy = 1.0", 2);
    let mut rig = rig(&test.db, scenario, |config| {
        config.settings.dial_mode = DialMode::Progressive;
        config.settings.retry = vec![RetryRule {
            outcome: Outcome::Busy,
            after_minutes: Some(10),
            max_attempts: 3,
            next_number: false,
        }];
    })
    .await;
    rig.ready(1).await;
    rig.run_until(start() + Duration::hours(2), |_| {}).await;
    let all = attempts(&test.db, rig.centre.campaign).await;
    let mut by_record: HashMap<i64, Vec<&Attempt>> = HashMap::new();
    for a in &all {
        by_record.entry(a.record).or_default().push(a);
    }
    assert_eq!(by_record.len(), 2);
    for (id, tries) in by_record {
        assert_eq!(tries.len(), 3, "record {id}: {} attempts", tries.len());
        for pair in tries.windows(2) {
            let gap = pair[1].dialed_at.unwrap() - pair[0].ended_at.unwrap();
            assert!(gap >= Duration::minutes(10), "record {id}: {gap} between busy attempts");
            assert!(gap < Duration::minutes(11), "record {id}: {gap} between busy attempts");
        }
        assert!(tries.iter().all(|a| a.outcome.as_deref() == Some("busy")));
        let (status, attempts, next) = record(&test.db, id).await;
        assert_eq!((status.as_str(), attempts, next), ("final", 3, None), "record {id}");
    }
}

/// A random world for the property test: who answers, the calling hours, the numbers on the
/// do-not-call list, the attempts allowed, and how many dialer processes share the store.
#[derive(Debug, Clone)]
struct Case {
    person: f64,
    busy: f64,
    hours: (u32, u32),
    listed: Vec<usize>,
    max_attempts: i64,
    processes: usize,
    agents: usize,
    seed: u64,
}

fn any_case() -> impl Strategy<Value = Case> {
    (
        0.1f64..0.6,
        0.0f64..0.3,
        (8u32..12, 13u32..18),
        proptest::collection::vec(0usize..40, 0..8),
        1i64..4,
        1usize..3,
        1usize..4,
        any::<u64>(),
    )
        .prop_map(
            |(person, busy, hours, listed, max_attempts, processes, agents, seed)| Case {
                person,
                busy,
                hours,
                listed,
                max_attempts,
                processes,
                agents,
                seed,
            },
        )
}

async fn check_case(case: Case) {
    let test = TestDb::new().await;
    let db = &test.db;
    let no_answer = (1.0 - case.person - case.busy).max(0.0);
    let scenario = world_in(
        &["America/New_York", "Europe/Berlin", "Asia/Tokyo"],
        &format!(
            "[outcomes]\nperson = {}\nbusy = {}\nno_answer = {no_answer}",
            case.person, case.busy
        ),
        40,
    );
    let (open, close) = case.hours;
    let centre = set_up_with(db, &scenario, start(), |config| {
        config.settings.max_attempts = case.max_attempts;
        config.settings.calling_hours = CallingHours {
            days: vec![Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri, Day::Sat, Day::Sun],
            ranges: vec![format!("{open:02}:00-{close:02}:00").parse().unwrap()],
            by_day: Default::default(),
            holidays: Vec::new(),
        };
        for rule in &mut config.settings.retry {
            if rule.outcome != Outcome::Abandoned {
                rule.after_minutes = rule.after_minutes.map(|m| m.min(20));
            }
        }
    })
    .await
    .unwrap();
    // Numbers put on the do-not-call list after the sample was loaded: the dial-time check.
    let numbers: Vec<String> = {
        let sql = "SELECT e164 FROM record_phones ORDER BY record_id";
        with_db!(db, |p| sqlx::query_scalar(sql).fetch_all(p).await.unwrap())
    };
    let mut listed: Vec<String> = case.listed.iter().map(|i| numbers[*i].clone()).collect();
    listed.sort();
    listed.dedup();
    for e164 in &listed {
        let sql = "INSERT INTO dnc_entries (campaign_id, e164, source, added_at) VALUES (NULL, $1, 'test', $2)";
        with_db!(db, |p| sqlx::query(sql)
            .bind(e164)
            .bind(start())
            .execute(p)
            .await
            .map(drop))
        .unwrap();
    }

    // Each process has its own switch and agents; they share the store and its records.
    let clock = ManualClock::new(start() - Duration::hours(6));
    let mut engines = Vec::new();
    let per_process = centre.agents.len().min(3) / case.processes.max(1);
    for process in 0..case.processes {
        let switch = SimSwitch::new(
            World::new(Arc::new(scenario.clone()), case.seed + process as u64),
            clock.clone(),
        );
        let config = EngineConfig {
            node: format!("node-{process}"),
            ..EngineConfig::default()
        };
        let mut engine = Engine::start(db.clone(), switch, Arc::new(clock.clone()), EventBus::new(64), config)
            .await
            .unwrap();
        engine.run_campaign(&centre.campaign_name, None).await.unwrap();
        let agents: Vec<UserId> = centre.agents[process * per_process..]
            .iter()
            .copied()
            .take(per_process.min(case.agents).max(1))
            .collect();
        for agent in &agents {
            engine.log_in(*agent, None).await.unwrap();
            engine.go_ready(*agent).await.unwrap();
        }
        engines.push((engine, agents));
    }
    // Twelve hours from before the calling hours open until after they close in some zones.
    let until = start() + Duration::hours(6);
    loop {
        let next = engines
            .iter()
            .enumerate()
            .filter_map(|(i, (e, _))| {
                [e.switch().next_event_at(), e.next_timer()]
                    .into_iter()
                    .flatten()
                    .min()
                    .map(|at| (at, i))
            })
            .min();
        let Some((at, i)) = next else { break };
        if at >= until {
            break;
        }
        clock.set(at);
        let (engine, agents) = &mut engines[i];
        if engine.switch().next_event_at() == Some(at) {
            let (_, event) = engine.switch_mut().pop_event().unwrap();
            engine.on_call_event(event).await.unwrap();
        } else {
            engine.fire_timers().await.unwrap();
        }
        for agent in agents.clone() {
            if engine.needs_disposition(agent) {
                engine
                    .dispose_and_ready(agent, Disposal::code("refusal"))
                    .await
                    .unwrap();
            }
        }
    }
    clock.set(until);
    for (engine, _) in &mut engines {
        engine.shut_down().await.unwrap();
    }

    let all = attempts(db, centre.campaign).await;
    assert!(!all.is_empty(), "nothing was dialed in {case:?}");
    let zones: HashMap<i64, String> = {
        let sql = "SELECT id, time_zone FROM records WHERE campaign_id = $1";
        let rows: Vec<(i64, String)> = with_db!(db, |p| sqlx::query_as(sql)
            .bind(centre.campaign)
            .fetch_all(p)
            .await
            .unwrap());
        rows.into_iter().collect()
    };
    let mut per_record: HashMap<i64, Vec<&Attempt>> = HashMap::new();
    for a in &all {
        let dialed = a.dialed_at.unwrap();
        let tz: chrono_tz::Tz = zones[&a.record].parse().unwrap();
        let local = dialed.with_timezone(&tz);
        let hour = chrono::Timelike::hour(&local);
        assert!(
            hour >= open && hour < close,
            "record {} dialed at {local} outside {open}:00-{close}:00 ({case:?})",
            a.record
        );
        assert!(
            !listed.contains(&a.e164),
            "{} is on the do-not-call list ({case:?})",
            a.e164
        );
        per_record.entry(a.record).or_default().push(a);
    }
    for (record, tries) in per_record {
        assert!(
            tries.len() as i64 <= case.max_attempts,
            "record {record}: {} attempts, at most {} ({case:?})",
            tries.len(),
            case.max_attempts
        );
        let mut spans: Vec<(DateTime<Utc>, DateTime<Utc>)> = tries
            .iter()
            .map(|a| (a.dialed_at.unwrap(), a.ended_at.unwrap_or(until)))
            .collect();
        spans.sort();
        for pair in spans.windows(2) {
            assert!(
                pair[0].1 <= pair[1].0,
                "record {record} dialed twice at once: {pair:?} ({case:?})"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn never_outside_hours_on_a_list_past_the_limit_or_twice_at_once(case in any_case()) {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(check_case(case));
    }
}

#[tokio::test]
async fn one_agent_on_two_predictive_campaigns_takes_calls_from_both_in_turn() {
    let test = TestDb::new().await;
    let db = &test.db;
    // Half an agent on each campaign: each pacer alone would wait for a whole one.
    let scenario = world("[outcomes]\nperson = 0.6\nno_answer = 0.4", 600);
    let mut rig = rig(db, scenario.clone(), |_| {}).await;
    let mut second = scenario;
    second.name = "modes-second".into();
    let team = format!("{}-team", rig.centre.campaign_name);
    let other = set_up_with(db, &second, start(), |config| config.teams = vec![team])
        .await
        .unwrap();
    rig.engine.run_campaign(&other.campaign_name, None).await.unwrap();
    let agent = rig.centre.agents[0];
    rig.ready(1).await;
    assert_eq!(
        rig.engine.agent_campaigns(agent),
        Some(&[rig.centre.campaign, other.campaign][..])
    );
    rig.run_until(start() + Duration::minutes(20), |_| {}).await;
    let (first, second) = (
        attempts(db, rig.centre.campaign).await,
        attempts(db, other.campaign).await,
    );
    let bridged = |all: &[Attempt]| all.iter().filter(|a| a.bridged_at.is_some()).count();
    // Thirty-second talks and five seconds' wrap-up: about twenty calls in twenty minutes.
    assert!(
        bridged(&first) >= 5 && bridged(&second) >= 5,
        "calls bridged: {} and {}",
        bridged(&first),
        bridged(&second)
    );
    let abandoned = first.iter().chain(&second).filter(|a| a.abandoned).count();
    assert!(abandoned <= 1, "{abandoned} persons abandoned with one agent");
}

#[tokio::test]
async fn a_running_campaign_takes_changes_to_its_agents_settings_and_lifecycle_at_once() {
    use paceline_dialer::campaign::LifecycleStep;
    use paceline_dialer::campaign::store as campaigns;
    use paceline_dialer::clock::Clock;

    let test = TestDb::new().await;
    let db = &test.db;
    let scenario = world("[outcomes]\nperson = 0.5\nno_answer = 0.5", 600);
    let mut rig = rig(db, scenario, mode(DialMode::Progressive)).await;
    rig.ready(3).await;
    let (id, name) = (rig.centre.campaign, rig.centre.campaign_name.clone());
    let agents = rig.centre.agents.clone();
    rig.run_until(start() + Duration::minutes(10), |_| {}).await;
    let dials_of = |all: &[Attempt], since: DateTime<Utc>| all.iter().filter(|a| a.dialed_at.unwrap() >= since).count();
    let bridged_to = async |agent: UserId, since: DateTime<Utc>| -> i64 {
        let sql = "SELECT COUNT(*) FROM attempts WHERE campaign_id = $1 AND agent_id = $2 AND bridged_at >= $3";
        with_db!(db, |p| sqlx::query_scalar(sql)
            .bind(id)
            .bind(agent)
            .bind(since)
            .fetch_one(p)
            .await
            .unwrap())
    };
    assert!(bridged_to(agents[2], start()).await > 0, "the third agent took no call");

    // The campaign's team gives way to the first two agents by name, and the ceiling changes.
    let mut logins = Vec::new();
    for agent in &agents[..3] {
        let sql = "SELECT login FROM users WHERE id = $1";
        let login: String = with_db!(db, |p| sqlx::query_scalar(sql).bind(*agent).fetch_one(p).await.unwrap());
        logins.push(login);
    }
    let mut config = CampaignConfig::of(&campaigns::find(db, &name).await.unwrap());
    assert!(!config.teams.is_empty(), "the agents come by team");
    config.teams.clear();
    config.agents = logins[..2].to_vec();
    config.settings.abandon.ceiling = 0.01;
    campaigns::update(db, &name, &config, rig.clock.now()).await.unwrap();
    rig.engine.campaign_changed(id).await.unwrap();
    let changed = rig.clock.now();
    assert_eq!(rig.engine.running_settings(id).unwrap().abandon.ceiling, 0.01);
    assert_eq!(rig.engine.window(id).unwrap().ceiling, 0.01);
    assert_eq!(rig.engine.agent_campaigns(agents[2]), Some(&[][..]));
    assert_eq!(rig.engine.agent_campaigns(agents[0]), Some(&[id][..]));
    rig.run_until(changed + Duration::minutes(10), |_| {}).await;
    // A call the third agent had when the change came may end after it; no new one bridges.
    let after_change = changed + Duration::minutes(2);
    assert_eq!(
        bridged_to(agents[2], after_change).await,
        0,
        "an unassigned agent still took calls"
    );
    assert!(bridged_to(agents[0], after_change).await > 0);

    // Paused in the store: no more dials. Resumed: dials again, on the same runtime.
    let paused = rig.clock.now();
    campaigns::step(db, &name, LifecycleStep::Pause, None, paused)
        .await
        .unwrap();
    rig.engine.campaign_changed(id).await.unwrap();
    assert!(rig.engine.running_settings(id).is_none());
    rig.run_until(paused + Duration::minutes(10), |_| {}).await;
    assert_eq!(dials_of(&attempts(db, id).await, paused), 0, "a paused campaign dialed");
    let resumed = rig.clock.now();
    campaigns::step(db, &name, LifecycleStep::Resume, None, resumed)
        .await
        .unwrap();
    rig.engine.campaign_changed(id).await.unwrap();
    assert_eq!(rig.engine.agent_campaigns(agents[0]), Some(&[id][..]));
    rig.run_until(resumed + Duration::minutes(10), |_| {}).await;
    assert!(
        dials_of(&attempts(db, id).await, resumed) > 10,
        "the resumed campaign did not dial"
    );

    // The third agent is assigned again and joins while the campaign runs.
    let mut config = CampaignConfig::of(&campaigns::find(db, &name).await.unwrap());
    config.agents.push(logins[2].clone());
    campaigns::update(db, &name, &config, rig.clock.now()).await.unwrap();
    rig.engine.campaign_changed(id).await.unwrap();
    assert_eq!(rig.engine.agent_campaigns(agents[2]), Some(&[id][..]));
    let rejoined = rig.clock.now();
    rig.run_until(rejoined + Duration::minutes(10), |_| {}).await;
    assert!(
        bridged_to(agents[2], rejoined).await > 0,
        "the agent assigned again took no call"
    );
}
