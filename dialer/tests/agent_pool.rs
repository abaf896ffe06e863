//! The agent pool inside the runtime, on a real store (SQLite, or PostgreSQL with
//! PACELINE_TEST_DATABASE_URL): every transition is stored before it is published, the pool is
//! rebuilt from the store, a second dialer process cannot overwrite an agent it has not seen
//! change, and no sequence of commands reaches an illegal state or loses an agent.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use paceline_dialer::Db;
use paceline_dialer::agent::store::{history, load_all};
use paceline_dialer::agent::{AgentState, AgentStatus, Command, PoolError, StateKind};
use paceline_dialer::clock::ManualClock;
use paceline_dialer::events::{Event, EventBus};
use paceline_dialer::runtime::{Engine, EngineConfig, EngineError};
use paceline_dialer::sim::scenario::Scenario;
use paceline_dialer::sim::switch::SimSwitch;
use paceline_dialer::sim::world::World;
use paceline_dialer::store::testing::TestDb;
use paceline_dialer::users::{self, NewUser, Role};
use proptest::prelude::*;

const WORLD: &str = r#"
name = "desk"
hours = 1
abandon_target = 0.03
window_hours = 24
connect_grace_s = 2.0
[agents]
count = 1
wrap_up_s = { dist = "fixed", value = 10 }
[outcomes]
no_answer = 1.0
[talk_time_s]
dist = "fixed"
value = 60
"#;

async fn agent(db: &Db, login: &str) -> i64 {
    let new = NewUser {
        login: login.into(),
        display_name: login.into(),
        password: "correct horse".into(),
        roles: vec![Role::Agent],
        teams: vec![],
        skills: vec![],
    };
    users::add_user(db, &new, Utc::now()).await.unwrap().id
}

fn clock() -> ManualClock {
    ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 23, 14, 0, 0).unwrap())
}

async fn engine(db: &Db, clock: &ManualClock, node: &str, events: EventBus) -> Engine<SimSwitch> {
    let scenario = Arc::new(Scenario::from_toml(WORLD, "desk.toml").unwrap());
    let switch = SimSwitch::new(World::new(scenario, 1), clock.clone());
    let config = EngineConfig {
        node: node.into(),
        ..EngineConfig::default()
    };
    Engine::start(db.clone(), switch, Arc::new(clock.clone()), events, config)
        .await
        .unwrap()
}

#[tokio::test]
async fn transitions_are_stored_published_and_survive_a_restart() {
    let test = TestDb::new().await;
    let ann = agent(&test.db, "ann").await;
    let clock = clock();
    let events = EventBus::default();
    let mut feed = events.subscribe();
    let mut one = engine(&test.db, &clock, "node-1", events).await;

    one.log_in(ann, None).await.unwrap();
    clock.advance(Duration::seconds(5));
    one.go_ready(ann).await.unwrap();
    clock.advance(Duration::seconds(5));
    one.go_not_ready(ann, "training").await.unwrap();
    assert!(one.switch().is_connected(ann), "log-in opens the standing connection");

    let Event::AgentState(first) = feed.recv().await.unwrap() else {
        panic!("an agent event")
    };
    assert_eq!(
        (first.seq, first.from.kind(), first.to.kind()),
        (1, StateKind::LoggedOut, StateKind::NotReady)
    );
    // Each command was committed before it returned: the store has it already.
    let stored = load_all(&test.db).await.unwrap();
    assert_eq!(
        stored[0].status.state,
        AgentState::NotReady {
            reason: "training".into()
        }
    );
    assert_eq!(stored[0].seq, 3);
    assert_eq!(stored[0].since, Utc.with_ymd_and_hms(2026, 11, 23, 14, 0, 10).unwrap());

    // A restarted process finds the agent's standing connection gone, and signs them out.
    clock.advance(Duration::seconds(5));
    drop(one);
    let two = engine(&test.db, &clock, "node-1", EventBus::default()).await;
    assert_eq!(two.pool().view(ann).unwrap().status.state, AgentState::LoggedOut);
    let trail = history(&test.db, ann).await.unwrap();
    let kinds: Vec<(&str, &str, &str)> = trail
        .iter()
        .map(|c| (c.command.as_str(), c.from_state.as_str(), c.to_state.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("log_in", "logged_out", "not_ready"),
            ("go_ready", "not_ready", "ready"),
            ("go_not_ready", "ready", "not_ready"),
            ("force_log_out", "not_ready", "logged_out"),
        ]
    );
}

#[tokio::test]
async fn illegal_commands_change_nothing_and_name_the_problem() {
    let test = TestDb::new().await;
    let ann = agent(&test.db, "ann").await;
    let clock = clock();
    let mut engine = engine(&test.db, &clock, "node-1", EventBus::default()).await;
    let err = engine.go_ready(ann).await.unwrap_err();
    assert_eq!(err.to_string(), format!("agent {ann} is not logged in"));
    engine.log_in(ann, None).await.unwrap();
    let err = engine.log_in(ann, None).await.unwrap_err();
    assert_eq!(err.to_string(), format!("agent {ann}: cannot log_in while not_ready"));
    let err = engine.go_not_ready(ann, "  ").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("agent {ann}: a not-ready reason must not be empty")
    );
    assert!(matches!(
        engine.hang_up(ann).await.unwrap_err(),
        EngineError::NotOnCall(_)
    ));
    assert_eq!(
        history(&test.db, ann).await.unwrap().len(),
        1,
        "only the log-in was stored"
    );

    let supervisor = {
        let new = NewUser {
            login: "sam".into(),
            display_name: "Sam".into(),
            password: "correct horse".into(),
            roles: vec![Role::Supervisor],
            teams: vec![],
            skills: vec![],
        };
        users::add_user(&test.db, &new, Utc::now()).await.unwrap().id
    };
    let err = engine.log_in(supervisor, None).await.unwrap_err();
    assert!(
        matches!(err, EngineError::Pool(PoolError::NotAnAgent(id)) if id == supervisor),
        "{err}"
    );
}

#[tokio::test]
async fn an_agent_created_after_start_joins_the_pool() {
    let test = TestDb::new().await;
    let clock = clock();
    let mut engine = engine(&test.db, &clock, "node-1", EventBus::default()).await;
    assert!(engine.pool().is_empty());
    let late = agent(&test.db, "late").await;
    engine.log_in(late, None).await.unwrap();
    assert_eq!(engine.pool().len(), 1);
}

#[tokio::test]
async fn a_second_process_sees_a_conflict_not_a_lost_update() {
    let test = TestDb::new().await;
    let ann = agent(&test.db, "ann").await;
    let clock = clock();
    let mut one = engine(&test.db, &clock, "node-1", EventBus::default()).await;
    let mut two = engine(&test.db, &clock, "node-2", EventBus::default()).await;
    one.log_in(ann, None).await.unwrap();
    let err = two.log_in(ann, None).await.unwrap_err();
    assert!(matches!(err, EngineError::Conflict(id) if id == ann), "{err}");
    // The loser reloaded and now agrees with the store.
    assert_eq!(two.pool().view(ann).unwrap().status.state.kind(), StateKind::NotReady);
    assert_eq!(history(&test.db, ann).await.unwrap().len(), 1);
}

#[derive(Debug, Clone)]
enum Op {
    LogIn,
    Ready,
    NotReady(&'static str),
    LogOut,
    ForceLogOut,
}

fn any_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::LogIn),
        Just(Op::Ready),
        prop_oneof![Just("break"), Just("lunch"), Just("")].prop_map(Op::NotReady),
        Just(Op::LogOut),
        Just(Op::ForceLogOut),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Whatever agents and supervisors do, in whatever order, the runtime agrees with a model
    /// of independent state machines, and so does the store, transition for transition.
    #[test]
    fn no_sequence_reaches_an_illegal_state_or_loses_an_agent(ops in prop::collection::vec((0usize..3, any_op()), 1..40)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let test = TestDb::new().await;
            let mut ids = Vec::new();
            for login in ["a0", "a1", "a2"] {
                ids.push(agent(&test.db, login).await);
            }
            let clock = clock();
            let mut engine = engine(&test.db, &clock, "node-1", EventBus::default()).await;
            let mut model: HashMap<i64, AgentStatus> = ids.iter().map(|id| (*id, AgentStatus::default())).collect();
            let mut stored: HashMap<i64, usize> = HashMap::new();
            for (who, op) in &ops {
                clock.advance(Duration::seconds(1));
                let id = ids[*who];
                let command = match op {
                    Op::LogIn => Command::LogIn,
                    Op::Ready => Command::GoReady,
                    Op::NotReady(reason) => Command::GoNotReady { reason: (*reason).into() },
                    Op::LogOut => Command::LogOut,
                    Op::ForceLogOut => Command::ForceLogOut,
                };
                let expected = model[&id].apply(&command);
                let got = match op {
                    Op::LogIn => engine.log_in(id, None).await,
                    Op::Ready => engine.go_ready(id).await,
                    Op::NotReady(reason) => engine.go_not_ready(id, reason).await,
                    Op::LogOut => engine.log_out(id).await,
                    Op::ForceLogOut => engine.force_log_out(id).await,
                };
                match (got, expected) {
                    (Ok(change), Ok(next)) => {
                        prop_assert_eq!(&change.to, &next.state);
                        model.insert(id, next);
                        *stored.entry(id).or_default() += 1;
                    }
                    (Err(_), Err(_)) => {}
                    // Commands to an agent who is not logged in are refused by the runtime before
                    // the state machine sees them.
                    (Err(EngineError::NotLoggedIn(_)), Ok(_)) => {
                        prop_assert_eq!(model[&id].state.kind(), StateKind::LoggedOut);
                    }
                    (got, want) => prop_assert!(false, "runtime said {:?}, model said {:?}", got.map(|c| c.to), want),
                }
            }
            let reloaded = load_all(&test.db).await.unwrap();
            prop_assert_eq!(reloaded.len(), 3);
            for id in &ids {
                let live = engine.pool().view(*id).expect("agent lost from the runtime");
                let from_store = reloaded.iter().find(|v| v.agent == *id).expect("agent lost from the store");
                prop_assert_eq!(&live.status, &model[id]);
                prop_assert_eq!(&from_store.status, &model[id]);
                prop_assert_eq!(history(&test.db, *id).await.unwrap().len(), stored.get(id).copied().unwrap_or(0));
                prop_assert_eq!(engine.switch().is_connected(*id), model[id].state != AgentState::LoggedOut);
            }
            Ok(())
        })?;
    }
}
