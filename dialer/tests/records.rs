//! Records after import: edits by agents and supervisors with an audit trail, assignment,
//! permissions, and attempts with the dialing state they lead to.

use chrono::{Duration, Utc};
use paceline_dialer::Db;
use paceline_dialer::attempt::store as attempts;
use paceline_dialer::attempt::{AttemptEnd, AttemptStep, DialingState, NewAttempt, next_dialing_state};
use paceline_dialer::campaign::store as campaigns;
use paceline_dialer::campaign::{CampaignConfig, CampaignKind, DialMode, Outcome};
use paceline_dialer::dnc;
use paceline_dialer::sample::import::{ImportOptions, import_file};
use paceline_dialer::sample::record::{self, Assignee, RecordChanges, RecordFilter, RecordStatus};
use paceline_dialer::store::testing::TestDb;
use paceline_dialer::users::{self, NewUser, Role, User};

const CONFIG: &str = r#"
agents = ["ann"]
caller_id = "+12125550100"
default_country = "US"
[[fields]]
name = "name"
type = "text"
[[fields]]
name = "phone1"
type = "phone"
required = true
[[fields]]
name = "phone2"
type = "phone"
[[fields]]
name = "tz"
type = "time_zone"
[[fields]]
name = "age"
type = "integer"
"#;

async fn user(db: &Db, login: &str, role: Role, teams: &[&str]) -> User {
    let new = NewUser {
        login: login.into(),
        display_name: login.into(),
        password: "correct horse".into(),
        roles: vec![role],
        teams: teams.iter().map(|t| t.to_string()).collect(),
        skills: vec![],
    };
    users::add_user(db, &new, Utc::now()).await.unwrap()
}

struct World {
    test: TestDb,
    ann: User,
    bob: User,
    sam: User,
    ida: User,
    ids: Vec<i64>,
}

async fn world() -> World {
    let test = TestDb::new().await;
    let db = &test.db;
    users::add_team(db, "north", Utc::now()).await.unwrap();
    let ann = user(db, "ann", Role::Agent, &[]).await;
    let bob = user(db, "bob", Role::Agent, &["north"]).await;
    let sam = user(db, "sam", Role::Supervisor, &["north"]).await;
    let ida = user(db, "ida", Role::Analyst, &[]).await;
    let config = CampaignConfig::from_toml(CONFIG).unwrap();
    campaigns::create(db, "poll", CampaignKind::Survey, &config, Utc::now())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.csv");
    std::fs::write(
        &path,
        "name,phone1,phone2,tz,age\nAnn Lee,2125550101,,America/New_York,40\nBo Li,2125550102,,UTC-5,22\n",
    )
    .unwrap();
    import_file(db, "poll", &path, &ImportOptions::default(), Utc::now())
        .await
        .unwrap();
    let ids = record::list(db, "poll", &RecordFilter::default())
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    World {
        test,
        ann,
        bob,
        sam,
        ida,
        ids,
    }
}

#[tokio::test]
async fn edits_are_checked_stored_and_audited() {
    let w = world().await;
    let db = &w.test.db;
    let id = w.ids[0];
    let changes = RecordChanges {
        fields: vec![
            ("phone2".into(), "(646) 555-0199".into()),
            ("age".into(), "41".into()),
            ("tz".into(), "America/Chicago".into()),
        ],
        ..RecordChanges::default()
    };
    let edited = record::edit(db, id, &changes, &w.ann, Utc::now()).await.unwrap();
    assert_eq!(edited.fields["phone2"], serde_json::json!("+16465550199"));
    assert_eq!(
        edited.phones.iter().map(|p| p.e164.as_str()).collect::<Vec<_>>(),
        ["+12125550101", "+16465550199"]
    );
    assert_eq!(edited.fields["age"], serde_json::json!(41));
    assert_eq!(edited.time_zone.as_deref(), Some("America/Chicago"));

    let trail = record::edits(db, id).await.unwrap();
    let rows: Vec<(&str, &str, Option<&str>, Option<&str>)> = trail
        .iter()
        .map(|e| {
            (
                e.user.as_str(),
                e.field.as_str(),
                e.old_value.as_deref(),
                e.new_value.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("ann", "phone2", None, Some("+16465550199")),
            ("ann", "age", Some("40"), Some("41")),
            ("ann", "tz", Some("America/New_York"), Some("America/Chicago")),
        ]
    );

    // A bad value names the field and changes nothing.
    let bad = RecordChanges {
        fields: vec![("age".into(), "forty".into())],
        ..RecordChanges::default()
    };
    let err = record::edit(db, id, &bad, &w.ann, Utc::now()).await.unwrap_err();
    assert_eq!(err.to_string(), "field 'age': 'forty' is not a whole number");
    let bad = RecordChanges {
        fields: vec![("phone1".into(), "".into())],
        ..RecordChanges::default()
    };
    let err = record::edit(db, id, &bad, &w.ann, Utc::now()).await.unwrap_err();
    assert_eq!(err.to_string(), "field 'phone1': the field is required");
    let bad = RecordChanges {
        fields: vec![("shoe".into(), "9".into())],
        ..RecordChanges::default()
    };
    let err = record::edit(db, id, &bad, &w.ann, Utc::now()).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "field 'shoe' is not a field of campaign 'poll'; fields are name, phone1, phone2, tz, age"
    );
    assert_eq!(record::edits(db, id).await.unwrap().len(), 3);
}

#[tokio::test]
async fn who_may_do_what() {
    let w = world().await;
    let db = &w.test.db;
    let id = w.ids[0];
    let rename = RecordChanges {
        fields: vec![("name".into(), "A. Lee".into())],
        ..RecordChanges::default()
    };
    // Bob is not assigned to the campaign, the analyst changes nothing.
    let err = record::edit(db, id, &rename, &w.bob, Utc::now()).await.unwrap_err();
    assert_eq!(err.to_string(), format!("bob may not edit record {id}"));
    let err = record::edit(db, id, &rename, &w.ida, Utc::now()).await.unwrap_err();
    assert_eq!(err.to_string(), format!("ida may not edit record {id}"));
    // Agents edit fields but not status or priority.
    let promote = RecordChanges {
        priority: Some(5),
        ..RecordChanges::default()
    };
    let err = record::edit(db, id, &promote, &w.ann, Utc::now()).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "ann may not change a record's priority or status (supervisors do)"
    );
    let err = record::assign(db, &[id], &Assignee::Agent("ann".into()), &w.ann, Utc::now())
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "ann may not assign records (supervisors do)");

    // The supervisor prioritises and assigns; assignment is audited too.
    let edited = record::edit(db, id, &promote, &w.sam, Utc::now()).await.unwrap();
    assert_eq!(edited.priority, 5);
    assert_eq!(
        record::assign(db, &w.ids, &Assignee::Team("north".into()), &w.sam, Utc::now())
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        record::assign(db, &w.ids, &Assignee::Team("north".into()), &w.sam, Utc::now())
            .await
            .unwrap(),
        0
    );
    let filter = RecordFilter {
        team: Some("north".into()),
        ..RecordFilter::default()
    };
    assert_eq!(record::list(db, "poll", &filter).await.unwrap().len(), 2);
    // Once a record is Ann's, nobody else's agent may touch it; Bob is on the team, not the record.
    record::assign(db, &[id], &Assignee::Agent("ann".into()), &w.sam, Utc::now())
        .await
        .unwrap();
    let fields: Vec<String> = record::edits(db, id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(fields, ["priority", "assigned_team", "assigned_agent"]);
    let err = record::assign(db, &[id], &Assignee::Agent("sam".into()), &w.sam, Utc::now())
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "cannot assign to 'sam': no agent has this login");

    // A supervisor's do-not-call status puts the record's numbers on the campaign's list.
    let opt_out = RecordChanges {
        status: Some(RecordStatus::DoNotCall),
        ..RecordChanges::default()
    };
    record::edit(db, id, &opt_out, &w.sam, Utc::now()).await.unwrap();
    let campaign = campaigns::find(db, "poll").await.unwrap();
    assert_eq!(
        dnc::check(db, "+12125550101", Some(campaign.id)).await.unwrap().len(),
        1
    );
    let busy = RecordChanges {
        status: Some(RecordStatus::InProgress),
        ..RecordChanges::default()
    };
    let err = record::edit(db, id, &busy, &w.sam, Utc::now()).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "status in_progress cannot be set by hand; it is set by the dialer"
    );
}

#[tokio::test]
async fn attempts_are_stored_step_by_step() {
    let w = world().await;
    let db = &w.test.db;
    let campaign = campaigns::find(db, "poll").await.unwrap();
    let record = record::get(db, w.ids[1]).await.unwrap();
    let t0 = Utc::now();
    let new = NewAttempt {
        campaign_id: campaign.id,
        record_id: record.id,
        phone_position: 0,
        e164: record.phones[0].e164.clone(),
        dial_mode: DialMode::Predictive,
        agent_id: None,
        queued_at: t0,
    };
    let id = attempts::open(db, &new).await.unwrap();
    attempts::mark(
        db,
        id,
        &AttemptStep::Dialed { call_id: "c-1".into() },
        t0 + Duration::seconds(1),
    )
    .await
    .unwrap();
    attempts::mark(
        db,
        id,
        &AttemptStep::Answered {
            amd_verdict: Some("person".into()),
        },
        t0 + Duration::seconds(9),
    )
    .await
    .unwrap();
    attempts::mark(
        db,
        id,
        &AttemptStep::Bridged { agent_id: w.ann.id },
        t0 + Duration::seconds(10),
    )
    .await
    .unwrap();
    attempts::mark(
        db,
        id,
        &AttemptStep::Ended {
            outcome: Outcome::Person,
        },
        t0 + Duration::seconds(100),
    )
    .await
    .unwrap();
    attempts::dispose(db, id, "complete", Some(w.ann.id), t0 + Duration::seconds(110))
        .await
        .unwrap();
    let stored = attempts::for_record(db, record.id).await.unwrap();
    assert_eq!(stored.len(), 1);
    let a = &stored[0];
    assert_eq!(
        (a.agent_id, a.outcome.as_deref(), a.disposition.as_deref(), a.abandoned),
        (Some(w.ann.id), Some("person"), Some("complete"), false)
    );
    assert_eq!(a.bridged_at.unwrap() - a.answered_at.unwrap(), Duration::seconds(1));

    // The disposition's rule decides the record's next state.
    let set = campaigns::dispositions(db, campaign.id).await.unwrap();
    let complete = set.iter().find(|d| d.code == "complete").unwrap();
    let before = DialingState {
        status: record.status,
        attempts: record.attempts,
        next_call_at: record.next_call_at,
        phone_position: 0,
        ever_eligible: false,
        aapor: None,
    };
    let after = next_dialing_state(
        &before,
        &AttemptEnd::Disposed {
            disposition: complete,
            callback_at: None,
        },
        &campaign.settings,
        record.phones.len() as i64,
        t0,
    );
    assert_eq!(
        (after.status, after.attempts, after.aapor.as_deref()),
        (RecordStatus::Completed, 1, Some("1.1"))
    );
}
