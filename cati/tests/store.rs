//! Questionnaire versions and interviews in the store (SQLite by default, PostgreSQL with
//! PACELINE_TEST_DATABASE_URL): every answer stored as given, an interview read back after a
//! "crash" exactly where it was, versions that never change under an interview.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{NaiveDate, TimeZone, Utc};
use paceline_cati::expr::Value;
use paceline_cati::interview::{Interview, State};
use paceline_cati::store::{self, Party, StoreError};
use paceline_dialer::store::testing::TestDb;

fn csat_bytes() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../questionnaires/csat.toml")).unwrap()
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 10, 0, 0).unwrap()
}

fn sample() -> BTreeMap<String, Value> {
    BTreeMap::from([
        ("customer_name".to_string(), Value::Text("Wang Fang".into())),
        ("service".to_string(), Value::Text("boiler repair".into())),
        (
            "service_date".to_string(),
            Value::Date(NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()),
        ),
    ])
}

/// A user with the agent role.
async fn agent(db: &paceline_dialer::Db, login: &str) -> i64 {
    use paceline_dialer::users::{self, NewUser, Role};
    let new = NewUser {
        login: login.into(),
        display_name: login.into(),
        password: "correct horse".into(),
        roles: vec![Role::Agent],
        teams: vec![],
        skills: vec![],
    };
    users::add_user(db, &new, now()).await.unwrap().id
}

/// A campaign's record with these fields.
async fn record(db: &paceline_dialer::Db, campaign: i64, key: &str, fields: serde_json::Value) -> i64 {
    paceline_dialer::with_db!(db, |p| {
        sqlx::query_scalar(
            "INSERT INTO records (campaign_id, dedupe_key, status, fields, created_at, updated_at)
             VALUES ($1, $2, 'new', $3, $4, $4) RETURNING id",
        )
        .bind(campaign)
        .bind(key)
        .bind(sqlx::types::Json(fields))
        .bind(now())
        .fetch_one(p)
        .await
        .unwrap()
    })
}

#[tokio::test]
async fn versions_are_published_once_and_never_change() {
    let test = TestDb::new().await;
    let db = &test.db;
    let first = store::publish(db, "csat.toml", &csat_bytes(), now()).await.unwrap();
    assert!(first.new);
    assert_eq!((first.key.as_str(), first.version.as_str()), ("csat", "1"));
    let again = store::publish(db, "csat.toml", &csat_bytes(), now()).await.unwrap();
    assert_eq!((again.id, again.new), (first.id, false));
    let changed = String::from_utf8(csat_bytes()).unwrap().replace("Goodbye.", "Bye.");
    let err = store::publish(db, "csat.toml", changed.as_bytes(), now())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::VersionTaken { .. }), "{err}");
    let v2 = changed.replace("version = \"1\"", "version = \"2\"");
    let second = store::publish(db, "csat.toml", v2.as_bytes(), now()).await.unwrap();
    assert_ne!(second.id, first.id);
    let broken = v2.replace("${customer_name}?", "${customer_nam}?");
    let err = store::publish(db, "csat.toml", broken.as_bytes(), now())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unknown name ${customer_nam}"), "{err}");
    // Each version reads back as it was published.
    let q1 = store::version(db, first.id).await.unwrap();
    let q2 = store::version(db, second.id).await.unwrap();
    let last = |q: &paceline_cati::questionnaire::Questionnaire| {
        q.questions().last().unwrap().label.get("en").unwrap().to_string()
    };
    assert!(last(&q1).ends_with("Goodbye."));
    assert!(last(&q2).ends_with("Bye.") && !last(&q2).ends_with("Goodbye."));
}

#[tokio::test]
async fn an_interview_survives_a_crash_with_every_answer_given() {
    let test = TestDb::new().await;
    let db = &test.db;
    let version = store::publish(db, "csat.toml", &csat_bytes(), now()).await.unwrap().id;
    let q = store::version(db, version).await.unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let mut iv = Interview::start(&q, sample(), "en", today, 11);
    let id = store::start(db, version, Party::default(), &iv, now()).await.unwrap();
    let answers = [
        Value::Empty,
        Value::Text("yes".into()),
        Value::Number(2.0),
        Value::List(vec!["courtesy=4".into()]),
        Value::List(vec!["unfixed".into(), "late".into()]),
        Value::Text("yes".into()),
    ];
    for answer in answers {
        let before = iv.saved();
        iv.answer(answer).unwrap();
        store::save(db, id, &before, &iv, now()).await.unwrap();
    }
    // A changed answer: the problems and the complaint will not be asked again.
    let before = iv.saved();
    iv.jump_to("overall").unwrap();
    iv.answer(Value::Number(5.0)).unwrap();
    store::save(db, id, &before, &iv, now()).await.unwrap();
    let expected = iv.saved();
    drop(iv);

    // The process is gone; another reads the interview back from the store.
    let stored = store::load(db, id).await.unwrap();
    assert_eq!(stored.version, version);
    assert_eq!(stored.saved, expected);
    let mut resumed = Interview::restore(&stored.questionnaire, stored.saved).unwrap();
    assert_eq!(resumed.current().unwrap().name, "aspects");
    assert_eq!(resumed.answers()["aspects"], Value::List(vec!["courtesy=4".into()]));
    // And it goes on to the end, stored as it goes.
    for answer in [
        Value::Empty,
        Value::Number(10.0),
        Value::Text("thanks".into()),
        Value::Empty,
    ] {
        let before = resumed.saved();
        resumed.answer(answer).unwrap();
        store::save(db, id, &before, &resumed, now()).await.unwrap();
    }
    assert_eq!(resumed.state(), &State::Complete);
    let done = store::load(db, id).await.unwrap();
    assert_eq!(done.saved.state, State::Complete);
    assert_eq!(done.saved.answers["nps_group"], Value::Text("promoter".into()));
    assert_eq!(done.saved.answers["recommend"], Value::Number(10.0));
    // The rating of 5 routed past the problems and the complaint: set aside, and stored so.
    assert_eq!(
        done.saved.set_aside["problems"],
        Value::List(vec!["unfixed".into(), "late".into()])
    );
    assert_eq!(done.saved.set_aside["complaint"], Value::Text("yes".into()));
    assert!(!done.saved.answers.contains_key("problems"));
    assert!(matches!(
        store::load(db, id + 1000).await,
        Err(StoreError::NoInterview(_))
    ));
}

mod lookups {
    use chrono::Duration;
    use paceline_cati::lookups;
    use paceline_dialer::campaign::store as campaigns;
    use paceline_dialer::campaign::{CampaignConfig, CampaignKind};
    use paceline_dialer::with_db;

    use super::*;

    const CONFIG: &str = "caller_id = \"+12125550100\"\n[[fields]]\nname = \"id\"\ntype = \"text\"\nkey = true\n[[fields]]\nname = \"phone\"\ntype = \"phone\"\n";

    #[tokio::test]
    async fn an_interviewers_calls_a_records_answers_and_the_leaderboard() {
        let test = TestDb::new().await;
        let db = &test.db;
        let config = CampaignConfig::from_toml(CONFIG).unwrap();
        let campaign = campaigns::create(db, "Return visits", CampaignKind::Survey, &config, now())
            .await
            .unwrap()
            .id;
        let (ann, bob) = (super::agent(db, "ann").await, super::agent(db, "bob").await);
        let record = super::record(db, campaign, "r1", serde_json::json!({"id": "r1"})).await;
        // Ann took two calls and Bob one; Ann was logged in 09:00-11:00, Bob 09:30-10:00.
        for (agent, minutes, outcome) in [(ann, 0, "human"), (ann, 30, "human"), (bob, 45, "busy")] {
            with_db!(db, |p| {
                sqlx::query(
                    "INSERT INTO attempts (campaign_id, record_id, phone_position, e164, dial_mode, agent_id, queued_at, outcome)
                     VALUES ($1, $2, 0, '+12125550101', 'predictive', $3, $4, $5)",
                )
                .bind(campaign)
                .bind(record)
                .bind(agent)
                .bind(now() - Duration::hours(1) + Duration::minutes(minutes))
                .bind(outcome)
                .execute(p)
                .await
                .unwrap()
                .rows_affected()
            });
        }
        for (user, seq, at, to_state) in [
            (ann, 1, now() - Duration::hours(1), "ready"),
            (ann, 2, now() + Duration::hours(1), "logged_out"),
            (bob, 1, now() - Duration::minutes(30), "ready"),
            (bob, 2, now(), "logged_out"),
        ] {
            with_db!(db, |p| {
                sqlx::query(
                    "INSERT INTO agent_state_changes (user_id, seq, at, command, from_state, to_state)
                     VALUES ($1, $2, $3, 'test', 'logged_out', $4)",
                )
                .bind(user)
                .bind(seq)
                .bind(at)
                .bind(to_state)
                .execute(p)
                .await
                .unwrap()
                .rows_affected()
            });
        }
        // Ann's interview of the record, to the end.
        let version = store::publish(db, "csat.toml", &csat_bytes(), now()).await.unwrap().id;
        let q = store::version(db, version).await.unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let mut iv = Interview::start(&q, sample(), "en", today, 1);
        let party = Party {
            record: Some(record),
            interviewer: Some(ann),
        };
        let id = store::start(db, version, party, &iv, now()).await.unwrap();
        for answer in [
            Value::Empty,
            Value::Text("yes".into()),
            Value::Number(5.0),
            Value::Empty,
            Value::Number(9.0),
            Value::Empty,
            Value::Empty,
        ] {
            let before = iv.saved();
            iv.answer(answer).unwrap();
            store::save(db, id, &before, &iv, now()).await.unwrap();
        }
        assert_eq!(iv.state(), &State::Complete);

        let (from, to) = (now() - Duration::hours(2), now() + Duration::hours(1));
        let calls = lookups::call_records(db, ann, from, to, 50).await.unwrap();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].campaign, "Return visits");
        assert!(calls[0].queued_at > calls[1].queued_at, "newest first");
        let answers = lookups::record_answers(db, record).await.unwrap();
        assert_eq!(answers.len(), 1);
        assert_eq!(answers[0].state, "complete");
        assert_eq!(answers[0].answers["overall"], serde_json::json!(5));
        assert_eq!(answers[0].answers["nps_group"], serde_json::json!("promoter"));
        let board = lookups::leaderboard(db, Some(campaign), from, to).await.unwrap();
        let rows: Vec<(&str, i64, i64, f64)> = board
            .iter()
            .map(|t| (t.login.as_str(), t.calls, t.completes, t.hours))
            .collect();
        assert_eq!(rows, [("ann", 2, 1, 2.0), ("bob", 1, 0, 0.5)]);
        assert_eq!(board[0].completes_per_hour, Some(0.5));
        // Another campaign: nobody's figures.
        assert!(
            lookups::leaderboard(db, Some(campaign + 1), from, to)
                .await
                .unwrap()
                .iter()
                .all(|t| t.calls == 0 && t.completes == 0)
        );
    }
}

#[tokio::test]
async fn quota_counts_come_from_the_stored_interviews() {
    use paceline_cati::quota::{CellId, Count};
    use paceline_dialer::campaign::store as campaigns;
    use paceline_dialer::campaign::{CampaignConfig, CampaignKind};

    let test = TestDb::new().await;
    let db = &test.db;
    let config = CampaignConfig::from_toml("caller_id = \"+12125550100\"\n[[fields]]\nname = \"id\"\ntype = \"text\"\nkey = true\n[[fields]]\nname = \"region\"\ntype = \"text\"\n").unwrap();
    let campaign = campaigns::create(db, "Poll", CampaignKind::Survey, &config, now())
        .await
        .unwrap()
        .id;
    let poll =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../questionnaires/opinion-poll.toml")).unwrap();
    let version = store::publish(db, "opinion-poll.toml", &poll, now()).await.unwrap().id;
    let q = store::version(db, version).await.unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    // Three respondents in the north, women over 55: two complete, one still answering.
    for (key, complete) in [("a", true), ("b", true), ("c", false)] {
        let record = record(db, campaign, key, serde_json::json!({"id": key, "region": "north"})).await;
        let sample = BTreeMap::from([("region".to_string(), Value::Text("north".into()))]);
        let mut iv = Interview::start(&q, sample, "en", today, 1);
        let party = Party {
            record: Some(record),
            interviewer: None,
        };
        let id = store::start(db, version, party, &iv, now()).await.unwrap();
        // The issues block is shuffled: answers go by question.
        let by_name: BTreeMap<&str, Value> = BTreeMap::from([
            ("consent", Value::Text("yes".into())),
            ("age", Value::Number(60.0)),
            ("gender", Value::Text("f".into())),
            ("registered", Value::Text("yes".into())),
            ("likelihood", Value::Number(0.0)),
            ("top_issues", Value::List(vec!["health".into()])),
            ("approval", Value::Number(3.0)),
            ("direction", Value::Text("wrong".into())),
            ("household", Value::Number(1.0)),
        ]);
        let mut steps = 0;
        while iv.state() == &State::Asking && (complete || steps < 5) {
            let name = iv.current().unwrap().name;
            let before = iv.saved();
            iv.answer(by_name.get(name.as_str()).cloned().unwrap_or(Value::Empty))
                .unwrap();
            store::save(db, id, &before, &iv, now()).await.unwrap();
            steps += 1;
        }
        assert_eq!(
            iv.state() == &State::Complete,
            complete,
            "{:?} at {:?}",
            iv.state(),
            iv.current().map(|s| s.name)
        );
    }
    let book = store::quota_book(db, campaign, &q).await.unwrap();
    let cell = |quota: &str, key: &str| {
        book.count(&CellId {
            quota: quota.into(),
            cell: key.into(),
        })
    };
    assert_eq!(
        cell("rga", "north/f/55+"),
        Count {
            completes: 2,
            in_progress: 1
        }
    );
    assert_eq!(cell("rga", "north/m/55+"), Count::default());
    assert_eq!(cell("south", "south"), Count::default());

    // The campaign lowers a cell's target in the field: it is full at its two completes, in
    // every book counted after, while the other cells keep the questionnaire's targets.
    let north = CellId {
        quota: "rga".into(),
        cell: "north/f/55+".into(),
    };
    store::set_quota_target(db, campaign, &q, &north, 2, None, now())
        .await
        .unwrap();
    let book = store::quota_book(db, campaign, &q).await.unwrap();
    let progress = book.progress();
    let of = |key: &str| progress.iter().find(|p| p.id.cell == key).unwrap();
    assert_eq!((of("north/f/55+").target, of("north/f/55+").full), (2, true));
    assert_eq!((of("north/m/55+").target, of("north/m/55+").full), (30, false));
    // Raised again, it opens.
    store::set_quota_target(db, campaign, &q, &north, 40, None, now())
        .await
        .unwrap();
    let book = store::quota_book(db, campaign, &q).await.unwrap();
    assert!(
        book.progress()
            .iter()
            .any(|p| p.id == north && p.target == 40 && !p.full)
    );
    // Cells and quotas the questionnaire lacks are refused with those it has.
    let missing = |quota: &str, key: &str| CellId {
        quota: quota.into(),
        cell: key.into(),
    };
    let error = store::set_quota_target(db, campaign, &q, &missing("rga", "mars/f/55+"), 5, None, now())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("quota 'rga' has no cell 'mars/f/55+'; its cells: north/f/18-34"),
        "{error}"
    );
    let error = store::set_quota_target(db, campaign, &q, &missing("age", "young"), 5, None, now())
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(error, "the questionnaire has no quota 'age'; its quotas: rga, south");
}

#[tokio::test]
async fn return_visits_are_drawn_by_rule_assigned_and_flagged_when_overdue() {
    use paceline_cati::return_visit::{self, Rule};
    use paceline_dialer::campaign::store as campaigns;
    use paceline_dialer::campaign::{CampaignConfig, CampaignKind};
    use paceline_dialer::with_db;

    let test = TestDb::new().await;
    let db = &test.db;
    let config = CampaignConfig::from_toml(
        "caller_id = \"+12125550100\"\n[[fields]]\nname = \"id\"\ntype = \"text\"\nkey = true\n",
    )
    .unwrap();
    let campaign = campaigns::create(db, "After delivery", CampaignKind::Survey, &config, now())
        .await
        .unwrap()
        .id;
    let agents = vec![agent(db, "ann").await, agent(db, "bob").await];
    let mut records = Vec::new();
    for (key, delivered) in [
        ("a", "2026-11-20"),
        ("b", "2026-11-23"),
        ("c", "2026-11-25"),
        ("d", "soon"),
        ("e", "2026-11-21"),
    ] {
        let id = record(
            db,
            campaign,
            key,
            serde_json::json!({"id": key, "delivered_on": delivered}),
        )
        .await;
        records.push(id);
    }
    let rule = Rule {
        field: "delivered_on".into(),
        after_days: 7,
        deadline_days: 2,
    };
    let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let drawn = return_visit::draw(db, campaign, &rule, &agents, today).await.unwrap();
    // Delivered on or before the 23rd: a, b, e; in turn to Ann and Bob; d has no date.
    let got: Vec<(i64, Option<i64>)> = drawn.visits.iter().map(|v| (v.record, v.agent)).collect();
    assert_eq!(
        got,
        [
            (records[0], Some(agents[0])),
            (records[1], Some(agents[1])),
            (records[4], Some(agents[0]))
        ]
    );
    assert_eq!(drawn.without_date, [(records[3], "\"soon\"".to_string())]);
    assert!(
        drawn
            .visits
            .iter()
            .all(|v| v.due_by == NaiveDate::from_ymd_opt(2026, 12, 2).unwrap())
    );
    let assigned: Option<i64> = with_db!(db, |p| {
        sqlx::query_scalar("SELECT assigned_agent_id FROM records WHERE id = $1")
            .bind(records[1])
            .fetch_one(p)
            .await
            .unwrap()
    });
    assert_eq!(assigned, Some(agents[1]), "the record goes to its interviewer");
    // Drawn once: the next day's draw adds only what has come due since (c, on the 2nd).
    assert!(
        return_visit::draw(db, campaign, &rule, &agents, today)
            .await
            .unwrap()
            .visits
            .is_empty()
    );
    let later = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
    let next = return_visit::draw(db, campaign, &rule, &agents, later).await.unwrap();
    assert_eq!(next.visits.iter().map(|v| v.record).collect::<Vec<_>>(), [records[2]]);
    // On the 3rd, the first three are overdue; one done is not.
    assert!(return_visit::done(db, drawn.visits[0].id, now()).await.unwrap());
    assert!(!return_visit::done(db, drawn.visits[0].id, now()).await.unwrap());
    let open = return_visit::list(db, campaign, None, true, later).await.unwrap();
    let flags: Vec<(i64, bool)> = open.iter().map(|v| (v.record, v.overdue)).collect();
    assert_eq!(flags, [(records[1], true), (records[4], true), (records[2], false)]);
    let anns = return_visit::list(db, campaign, Some(agents[0]), false, later)
        .await
        .unwrap();
    assert_eq!(anns.len(), 3, "Ann's: a (done), e, and c");
    assert!(matches!(
        return_visit::draw(db, campaign, &rule, &[], today).await,
        Err(return_visit::ReturnVisitError::NoAgents)
    ));
}
