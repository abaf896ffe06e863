//! The agent pool on a real store (SQLite, or PostgreSQL with PACELINE_TEST_DATABASE_URL):
//! transitions are stored before they are published, the pool is rebuilt from the store, and
//! no sequence of commands reaches an illegal state or loses an agent.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use paceline_dialer::Db;
use paceline_dialer::agent::pool::history;
use paceline_dialer::agent::{AgentPool, AgentState, AgentStatus, CallId, Command, PoolError, StateKind};
use paceline_dialer::clock::ManualClock;
use paceline_dialer::events::{Event, EventBus};
use paceline_dialer::store::testing::TestDb;
use paceline_dialer::users::{self, NewUser, Role};
use proptest::prelude::*;

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
    ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap())
}

fn call(n: u8) -> CallId {
    CallId(format!("call-{n}"))
}

#[tokio::test]
async fn transitions_are_stored_published_and_survive_a_restart() {
    let test = TestDb::new().await;
    let ann = agent(&test.db, "ann").await;
    let clock = clock();
    let events = EventBus::default();
    let mut feed = events.subscribe();
    let pool = AgentPool::load(test.db.clone(), Arc::new(clock.clone()), events)
        .await
        .unwrap();

    for command in [
        Command::LogIn,
        Command::GoReady,
        Command::Reserve { call: call(1) },
        Command::Connect { call: call(1) },
    ] {
        clock.advance(Duration::seconds(5));
        pool.apply(ann, command).await.unwrap();
    }
    let Event::AgentState(first) = feed.recv().await.unwrap();
    assert_eq!(
        (first.seq, first.from.kind(), first.to.kind()),
        (1, StateKind::LoggedOut, StateKind::NotReady)
    );

    // A new pool (a restarted process) finds the agent on the call.
    let reloaded = AgentPool::load(test.db.clone(), Arc::new(clock.clone()), EventBus::default())
        .await
        .unwrap();
    let view = reloaded.view(ann).await.unwrap();
    assert_eq!(view.status.state, AgentState::OnCall { call: call(1) });
    assert_eq!(view.seq, 4);
    assert_eq!(view.since, Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 20).unwrap());

    let trail = history(&test.db, ann).await.unwrap();
    let kinds: Vec<(&str, &str)> = trail
        .iter()
        .map(|c| (c.from_state.as_str(), c.to_state.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("logged_out", "not_ready"),
            ("not_ready", "ready"),
            ("ready", "reserved"),
            ("reserved", "on_call")
        ]
    );
}

#[tokio::test]
async fn illegal_commands_change_nothing_and_name_the_problem() {
    let test = TestDb::new().await;
    let ann = agent(&test.db, "ann").await;
    let bob = agent(&test.db, "bob").await;
    let pool = AgentPool::load(test.db.clone(), Arc::new(clock()), EventBus::default())
        .await
        .unwrap();
    let err = pool.apply(ann, Command::GoReady).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("agent {ann}: cannot go_ready while logged_out")
    );
    assert_eq!(pool.view(ann).await.unwrap().seq, 0);
    assert!(history(&test.db, ann).await.unwrap().is_empty());

    for id in [ann, bob] {
        pool.apply(id, Command::LogIn).await.unwrap();
        pool.apply(id, Command::GoReady).await.unwrap();
    }
    pool.apply(ann, Command::Reserve { call: call(7) }).await.unwrap();
    let err = pool.apply(bob, Command::Reserve { call: call(7) }).await.unwrap_err();
    assert!(
        matches!(err, PoolError::CallTaken { holder, .. } if holder == ann),
        "{err}"
    );
    assert_eq!(pool.view(bob).await.unwrap().status.state, AgentState::Ready);

    let not_agent = {
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
    let err = pool.apply(not_agent, Command::LogIn).await.unwrap_err();
    assert_eq!(err.to_string(), format!("user {not_agent} is not an agent"));
}

#[tokio::test]
async fn an_agent_created_after_start_joins_the_pool() {
    let test = TestDb::new().await;
    let pool = AgentPool::load(test.db.clone(), Arc::new(clock()), EventBus::default())
        .await
        .unwrap();
    assert!(pool.snapshot().await.is_empty());
    let late = agent(&test.db, "late").await;
    pool.apply(late, Command::LogIn).await.unwrap();
    assert_eq!(pool.snapshot().await.len(), 1);
}

#[tokio::test]
async fn a_second_process_sees_a_conflict_not_a_lost_update() {
    let test = TestDb::new().await;
    let ann = agent(&test.db, "ann").await;
    let one = AgentPool::load(test.db.clone(), Arc::new(clock()), EventBus::default())
        .await
        .unwrap();
    let two = AgentPool::load(test.db.clone(), Arc::new(clock()), EventBus::default())
        .await
        .unwrap();
    one.apply(ann, Command::LogIn).await.unwrap();
    let err = two.apply(ann, Command::LogIn).await.unwrap_err();
    assert!(matches!(err, PoolError::Conflict(id) if id == ann), "{err}");
    // The loser reloaded and now agrees with the store.
    assert_eq!(two.view(ann).await.unwrap().status.state.kind(), StateKind::NotReady);
    two.apply(ann, Command::GoReady).await.unwrap();
}

fn any_command() -> impl Strategy<Value = Command> {
    prop_oneof![
        Just(Command::LogIn),
        Just(Command::GoReady),
        prop_oneof![Just("break"), Just("lunch"), Just("")].prop_map(|r| Command::GoNotReady { reason: r.into() }),
        (0u8..3).prop_map(|n| Command::Reserve { call: call(n) }),
        Just(Command::Release),
        (0u8..3).prop_map(|n| Command::Connect { call: call(n) }),
        Just(Command::HangUp),
        Just(Command::EndWrapUp),
        Just(Command::LogOut),
        Just(Command::ForceLogOut),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn no_sequence_reaches_an_illegal_state_or_loses_an_agent(
        ops in prop::collection::vec((0usize..3, any_command()), 1..60)
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let test = TestDb::new().await;
            let mut ids = Vec::new();
            for login in ["a0", "a1", "a2"] {
                ids.push(agent(&test.db, login).await);
            }
            let clock = clock();
            let pool = AgentPool::load(test.db.clone(), Arc::new(clock.clone()), EventBus::default()).await.unwrap();
            let mut model: HashMap<i64, AgentStatus> = ids.iter().map(|id| (*id, AgentStatus::default())).collect();
            let mut committed: HashMap<i64, usize> = HashMap::new();
            for (who, command) in &ops {
                clock.advance(Duration::seconds(1));
                let id = ids[*who];
                let expected = model[&id].apply(command);
                let held_elsewhere = match command {
                    Command::Reserve { call } => ids.iter().any(|o| *o != id && model[o].state.call() == Some(call)),
                    _ => false,
                };
                match (pool.apply(id, command.clone()).await, expected) {
                    (Ok(change), Ok(next)) => {
                        prop_assert!(!held_elsewhere, "a call was reserved twice");
                        prop_assert_eq!(&change.to, &next.state);
                        model.insert(id, next);
                        *committed.entry(id).or_default() += 1;
                    }
                    (Err(PoolError::CallTaken { .. }), Ok(_)) => prop_assert!(held_elsewhere),
                    (Err(PoolError::Transition { .. }), Err(_)) => {}
                    (got, want) => prop_assert!(false, "pool said {:?}, model said {:?}", got.map(|c| c.to), want),
                }
                // No call is held by two agents.
                let mut calls: Vec<&CallId> = model.values().filter_map(|s| s.state.call()).collect();
                let before = calls.len();
                calls.sort();
                calls.dedup();
                prop_assert_eq!(before, calls.len());
            }
            // Every agent is still there, in the state the model says, in memory and in the store.
            let reloaded = AgentPool::load(test.db.clone(), Arc::new(clock.clone()), EventBus::default()).await.unwrap();
            for id in &ids {
                let live = pool.view(*id).await.expect("agent lost from the pool");
                let stored = reloaded.view(*id).await.expect("agent lost from the store");
                prop_assert_eq!(&live.status, &model[id]);
                prop_assert_eq!(&stored.status, &model[id]);
                let trail = history(&test.db, *id).await.unwrap();
                prop_assert_eq!(trail.len(), committed.get(id).copied().unwrap_or(0));
                if let Some(last) = trail.last() {
                    prop_assert_eq!(last.to_state.as_str(), model[id].state.kind().as_str());
                }
            }
            Ok(())
        })?;
    }
}
