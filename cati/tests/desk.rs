//! Interviews in a running survey campaign, end to end on the simulated switch and a real
//! store (SQLite, or PostgreSQL with PACELINE_TEST_DATABASE_URL): a bridged call opens the
//! record's interview, every step is stored, the ending gives the record its AAPOR
//! disposition, a full sample-side quota cell stops the dialer dialing its records, and a
//! callback resumes the interview where it stopped.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use paceline_cati::desk::{Ending, SurveyDesk};
use paceline_cati::expr::Value;
use paceline_cati::interview::State;
use paceline_cati::store;
use paceline_dialer::campaign::{CampaignConfig, DialMode};
use paceline_dialer::clock::ManualClock;
use paceline_dialer::events::EventBus;
use paceline_dialer::runtime::{Engine, EngineConfig};
use paceline_dialer::sim::scenario::Scenario;
use paceline_dialer::sim::setup::{Centre, set_up_with};
use paceline_dialer::sim::switch::SimSwitch;
use paceline_dialer::sim::world::World;
use paceline_dialer::store::Backend;
use paceline_dialer::store::testing::TestDb;
use paceline_dialer::users::UserId;
use paceline_dialer::{Db, with_db};
use tokio::sync::broadcast::Receiver;

/// A short poll: consent, age, a vote; the north and the south take two completes each, the
/// under-30s one (a cell only the interview can tell).
const MINI: &str = r#"
id = "mini"
title = "Mini poll"
[sample]
region = "text"

[[questions]]
name = "consent"
type = "single_choice"
label = "May I ask you three questions?"
required = true
options = [{ name = "yes" }, { name = "no" }]

[[questions]]
name = "refused"
type = "end"
outcome = "terminated"
relevant = "${consent} = 'no'"
label = "Refused"

[[questions]]
name = "age"
type = "integer"
label = "How old are you?"
required = true
min = 18
max = 99
constraint_message = "From 18 to 99"

[[questions]]
name = "vote"
type = "single_choice"
label = "Whom would you vote for?"
required = true
options = [{ name = "a" }, { name = "b" }]

[[quotas]]
name = "region"
cross = [{ field = "region", values = ["north", "south"] }]
target = 2
action = "at_once"

[[quotas]]
name = "young"
when = "${age} < 30"
target = 1
action = "after_question"
"#;

/// A monday afternoon in New York, inside the simulated campaign's calling hours.
fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 15, 0, 0).unwrap()
}

fn scenario(records: u64) -> Scenario {
    let toml = format!(
        r#"
name = "desk"
hours = 2
abandon_target = 0.03
window_hours = 24
connect_grace_s = 2.0
records = {records}
[agents]
count = 1
wrap_up_s = {{ dist = "fixed", value = 5 }}
[talk_time_s]
dist = "fixed"
value = 900
[outcomes]
person = 1.0
[delay_s]
person = {{ dist = "fixed", value = 5 }}
machine = {{ dist = "fixed", value = 5 }}
busy = {{ dist = "fixed", value = 2 }}
invalid = {{ dist = "fixed", value = 1 }}
"#
    );
    Scenario::from_toml(&toml, "desk.toml").unwrap()
}

/// One dialer process with the survey desk beside it, as the server runs them.
struct Rig {
    engine: Engine<SimSwitch>,
    desk: SurveyDesk,
    events: Receiver<paceline_dialer::events::Event>,
    clock: ManualClock,
    centre: Centre,
}

async fn rig(db: &Db, records: u64) -> Rig {
    store::publish(db, "mini.toml", MINI.as_bytes(), start()).await.unwrap();
    let adjust = |config: &mut CampaignConfig| {
        config.settings.dial_mode = DialMode::Progressive;
        config.settings.questionnaire = Some("mini".into());
    };
    let centre = set_up_with(db, &scenario(records), start(), adjust).await.unwrap();
    // Records alternate between the north and the south.
    let regions = match db.backend() {
        Backend::Sqlite => {
            "UPDATE records SET fields = json_set(fields, '$.region', CASE WHEN id % 2 = 0 THEN 'north' ELSE 'south' END)
             WHERE campaign_id = $1"
        }
        Backend::Postgres => {
            "UPDATE records SET fields = fields || jsonb_build_object('region', CASE WHEN id % 2 = 0 THEN 'north' ELSE 'south' END)
             WHERE campaign_id = $1"
        }
    };
    with_db!(db, |p| {
        sqlx::query(regions).bind(centre.campaign).execute(p).await.unwrap();
    });
    let clock = ManualClock::new(start());
    let switch = SimSwitch::new(World::new(Arc::new(scenario(records)), 7), clock.clone());
    let bus = EventBus::new(4096);
    let events = bus.subscribe();
    let mut desk = SurveyDesk::new(db.clone(), Arc::new(clock.clone()));
    desk.open_campaign(centre.campaign).await.unwrap();
    let mut engine = Engine::start(
        db.clone(),
        switch,
        Arc::new(clock.clone()),
        bus,
        EngineConfig::default(),
    )
    .await
    .unwrap();
    engine.set_quota_gate(desk.gate());
    engine.run_campaign(&centre.campaign_name, None).await.unwrap();
    let agent = centre.agents[0];
    engine.log_in(agent, None).await.unwrap();
    engine.go_ready(agent).await.unwrap();
    Rig {
        engine,
        desk,
        events,
        clock,
        centre,
    }
}

/// What the interviewer does when an interview opens, given whether it resumed and the
/// question on screen: the answers to give, then how to end it.
type Script = dyn FnMut(bool, Option<String>) -> (Vec<Value>, Ending);

impl Rig {
    fn agent(&self) -> UserId {
        self.centre.agents[0]
    }

    /// Runs the world until `until`: each interview that opens is conducted by `script` and
    /// the call hung up; once it has ended, the desk's disposition goes to the engine.
    async fn run_until(&mut self, until: DateTime<Utc>, script: &mut Script) {
        let mut endings: BTreeMap<UserId, Ending> = BTreeMap::new();
        loop {
            let next_switch = self.engine.switch().next_event_at();
            let next_timer = self.engine.next_timer();
            let Some(next) = [next_switch, next_timer].into_iter().flatten().min() else {
                break;
            };
            if next >= until {
                break;
            }
            self.clock.set(next);
            if next_switch == Some(next) {
                let (_, event) = self.engine.switch_mut().pop_event().unwrap();
                self.engine.on_call_event(event).await.unwrap();
            } else {
                self.engine.fire_timers().await.unwrap();
            }
            self.engine.commit().await.unwrap();
            while let Ok(event) = self.events.try_recv() {
                if let Some(agent) = self.desk.on_event(&event).await.unwrap() {
                    let resumed = self.desk.open(agent).unwrap().resumed;
                    let on = self.desk.current(agent).unwrap().1.map(|s| s.name);
                    let (answers, ending) = script(resumed, on);
                    answer_all(&mut self.desk, agent, &answers).await;
                    endings.insert(agent, ending);
                    self.engine.hang_up(agent).await.unwrap();
                }
            }
            let agent = self.agent();
            if self.engine.needs_disposition(agent)
                && let Some(ending) = endings.remove(&agent)
            {
                let disposal = self.desk.finish(agent, ending).await.unwrap();
                self.engine.dispose_and_ready(agent, disposal).await.unwrap();
            }
        }
        self.engine.commit().await.unwrap();
    }
}

async fn answer_all(desk: &mut SurveyDesk, agent: UserId, answers: &[Value]) {
    for value in answers {
        let (state, _) = desk.current(agent).unwrap();
        if state != State::Asking {
            break;
        }
        desk.answer(agent, value.clone(), None).await.unwrap();
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

/// Each record's final disposition and region, and its interviews' states.
async fn outcomes(db: &Db, campaign: i64) -> Vec<(i64, String, Option<String>, String, Option<String>)> {
    let sql = "SELECT r.id, r.fields ->> 'region', r.last_disposition, i.state, i.state_detail
               FROM interviews i JOIN records r ON r.id = i.record_id WHERE r.campaign_id = $1 ORDER BY i.id";
    with_db!(db, |p| sqlx::query_as(sql).bind(campaign).fetch_all(p).await.unwrap())
}

#[tokio::test]
async fn interviews_run_in_the_campaign_and_full_cells_stop_the_dialer() {
    let test = TestDb::new().await;
    let mut rig = rig(&test.db, 40).await;
    // Everyone says yes and votes a; every other respondent is 25.
    let mut calls = 0;
    let mut script = move |_, _| {
        calls += 1;
        let age = if calls % 2 == 1 { 25.0 } else { 40.0 };
        (vec![text("yes"), Value::Number(age), text("a")], Ending::AsItEnded)
    };
    rig.run_until(start() + Duration::minutes(90), &mut script).await;

    let rows = outcomes(&test.db, rig.centre.campaign).await;
    let completes = |region: &str| rows.iter().filter(|r| r.1 == region && r.3 == "complete").count();
    assert_eq!(completes("north"), 2, "{rows:#?}");
    assert_eq!(completes("south"), 2, "{rows:#?}");
    // Every complete's record got 'complete' (AAPOR 1.1) from the desk.
    for row in rows.iter().filter(|r| r.3 == "complete") {
        assert_eq!(row.2.as_deref(), Some("complete"), "{row:?}");
    }
    // Once both cells were full, no record was dialed: the rest wait as quota_closed or new.
    let progress = rig.desk.quota_progress(rig.centre.campaign);
    let target = |c: &paceline_cati::quota::CellProgress| if c.id.quota == "young" { 1 } else { 2 };
    assert!(
        progress.iter().all(|c| c.full && c.count.completes == target(c)),
        "{progress:?}"
    );
    let dialed: i64 = with_db!(&test.db, |p| sqlx::query_scalar(
        "SELECT COUNT(DISTINCT record_id) FROM attempts WHERE campaign_id = $1 AND dialed_at IS NOT NULL"
    )
    .bind(rig.centre.campaign)
    .fetch_one(p)
    .await
    .unwrap());
    assert_eq!(dialed as usize, rows.len(), "every dialed record was interviewed");
    // The under-30s after the first were screened out as quota full (4.80) once they gave
    // their age: the dialer cannot tell an age from the sample.
    let over: Vec<_> = rows.iter().filter(|r| r.3 != "complete").collect();
    assert!(!over.is_empty(), "{rows:#?}");
    for row in over {
        assert_eq!(row.3, "screened_out", "{row:?}");
        assert_eq!(row.4.as_deref(), Some("quota young young"));
        assert_eq!(row.2.as_deref(), Some("quota_full"));
    }
    assert_eq!(rows.iter().filter(|r| r.3 == "complete").count(), 4);
    let closed: i64 = with_db!(&test.db, |p| sqlx::query_scalar(
        "SELECT COUNT(*) FROM records WHERE campaign_id = $1 AND status = 'quota_closed'"
    )
    .bind(rig.centre.campaign)
    .fetch_one(p)
    .await
    .unwrap());
    assert!(closed > 0, "the gate held no record back");
    assert!(dialed < 40);
}

#[tokio::test]
async fn a_callback_resumes_the_interview_where_it_stopped() {
    let test = TestDb::new().await;
    let mut rig = rig(&test.db, 40).await;
    let callback_at = start() + Duration::minutes(30);
    let mut calls = 0;
    let mut script = move |resumed: bool, on: Option<String>| {
        calls += 1;
        if calls == 1 {
            // "Call me later": after consent, before the age.
            let callback = Ending::Callback {
                at: callback_at,
                personal: true,
            };
            return (vec![text("yes")], callback);
        }
        if resumed {
            assert_eq!(on.as_deref(), Some("age"), "resumed where it stopped");
            return (vec![Value::Number(33.0), text("b")], Ending::AsItEnded);
        }
        let reason = "hung up".to_string();
        (vec![], Ending::BreakOff { reason })
    };
    rig.run_until(start() + Duration::minutes(45), &mut script).await;
    let rows = outcomes(&test.db, rig.centre.campaign).await;
    let first = &rows[0];
    assert_eq!(first.3, "complete", "{rows:#?}");
    assert_eq!(first.2.as_deref(), Some("complete"));
    let answers = store::load(&test.db, 1).await.unwrap().saved.answers;
    assert_eq!(answers["consent"], text("yes"));
    assert_eq!(answers["age"], Value::Number(33.0));
    // The other calls broke off: 2.12.
    assert!(
        rows[1..]
            .iter()
            .all(|r| r.3 == "terminated" && r.2.as_deref() == Some("break_off"))
    );
    // The callback was made at its time, not before.
    let bridged: Vec<DateTime<Utc>> = with_db!(&test.db, |p| sqlx::query_scalar(
        "SELECT bridged_at FROM attempts WHERE record_id = $1 AND bridged_at IS NOT NULL ORDER BY id"
    )
    .bind(first.0)
    .fetch_all(p)
    .await
    .unwrap());
    assert_eq!(bridged.len(), 2);
    assert!(bridged[1] >= callback_at, "{bridged:?}");
}

#[tokio::test]
async fn a_campaign_without_a_published_questionnaire_is_refused_with_why() {
    let test = TestDb::new().await;
    let no_questionnaire = |config: &mut CampaignConfig| config.settings.questionnaire = None;
    let centre = set_up_with(&test.db, &scenario(5), start(), no_questionnaire)
        .await
        .unwrap();
    let mut desk = SurveyDesk::new(test.db.clone(), Arc::new(ManualClock::new(start())));
    let e = desk.open_campaign(centre.campaign).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "campaign '{}' has no questionnaire: set its `questionnaire` to a published questionnaire's id",
            centre.campaign_name
        )
    );
    let unpublished = |config: &mut CampaignConfig| config.settings.questionnaire = Some("mini".into());
    let mut other = scenario(5);
    other.name = "desk-2".into();
    let centre = set_up_with(&test.db, &other, start(), unpublished).await.unwrap();
    let e = desk.open_campaign(centre.campaign).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "campaign '{}' asks questionnaire 'mini', which is not published; publish it first",
            centre.campaign_name
        )
    );
    let e = desk.finish(centre.agents[0], Ending::AsItEnded).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("interviewer {} has no interview open", centre.agents[0])
    );
}
