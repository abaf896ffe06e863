//! The hopper on a real store (SQLite, or PostgreSQL with PACELINE_TEST_DATABASE_URL): call
//! order, the checks that keep a dial legal, reservation in the store, and two dialer
//! processes that never reserve the same record.

use chrono::{DateTime, Duration, TimeZone, Utc};
use paceline_dialer::Db;
use paceline_dialer::campaign::store as campaigns;
use paceline_dialer::campaign::{CallOrder, CampaignConfig, CampaignKind, DialMode};
use paceline_dialer::runtime::hopper::{Fill, FillReport, QuotaGate, fill, open_zones};
use paceline_dialer::store::direct::DirectDb;
use paceline_dialer::store::testing::TestDb;
use paceline_dialer::store::{Backend, sql};
use paceline_dialer::with_db;

const CONFIG: &str = r#"
caller_id = "+12125550100"
max_attempts = 3
[calling_hours]
days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ranges = ["09:00-20:00"]
[[fields]]
name = "id"
type = "text"
key = true
[[fields]]
name = "phone"
type = "phone"
[[fields]]
name = "region"
type = "text"
"#;

/// Monday 2026-11-23 15:00 UTC: 10:00 in New York, 07:00 in Los Angeles.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 15, 0, 0).unwrap()
}

async fn campaign(db: &Db, name: &str) -> i64 {
    let config = CampaignConfig::from_toml(CONFIG).unwrap();
    campaigns::create(db, name, CampaignKind::Survey, &config, now())
        .await
        .unwrap()
        .id
}

/// A record as the hopper cares about it.
struct R<'a> {
    key: &'a str,
    status: &'a str,
    priority: i64,
    zone: &'a str,
    next_call_at: Option<DateTime<Utc>>,
    attempts: i64,
    phones: &'a [&'a str],
    region: &'a str,
}

impl Default for R<'_> {
    fn default() -> Self {
        Self {
            key: "",
            status: "new",
            priority: 0,
            zone: "America/New_York",
            next_call_at: None,
            attempts: 0,
            phones: &["+12125550101"],
            region: "north",
        }
    }
}

async fn record(db: &Db, campaign: i64, r: R<'_>) -> i64 {
    let fields = serde_json::json!({ "id": r.key, "region": r.region }).to_string();
    with_db!(db, |p| {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO records (campaign_id, dedupe_key, status, priority, time_zone, time_zone_source, fields,
                attempts, next_call_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, 'column', $6, $7, $8, $9, $9) RETURNING id",
        )
        .bind(campaign)
        .bind(r.key)
        .bind(r.status)
        .bind(r.priority)
        .bind(r.zone)
        .bind(sqlx::types::Json(
            serde_json::from_str::<serde_json::Value>(&fields).unwrap(),
        ))
        .bind(r.attempts)
        .bind(r.next_call_at)
        .bind(now())
        .fetch_one(p)
        .await
        .unwrap();
        for (position, e164) in r.phones.iter().enumerate() {
            sqlx::query(
                "INSERT INTO record_phones (record_id, position, field, e164, number_type, region)
                 VALUES ($1, $2, 'phone', $3, 'fixed_line', 'US')",
            )
            .bind(id)
            .bind(position as i64)
            .bind(*e164)
            .execute(p)
            .await
            .unwrap();
        }
        id
    })
}

fn request<'a>(campaign: i64, node: &'a str, zones: &'a [String], limit: usize, backend: Backend) -> Fill<'a> {
    Fill {
        campaign,
        node,
        now: now(),
        limit,
        max_attempts: 3,
        open_zones: zones,
        order: CallOrder::Sequential,
        mode: DialMode::Predictive,
        assigned: None,
        release_personal_before: None,
        with_fields: false,
        backend,
    }
}

async fn reserve(direct: &mut DirectDb, fill_request: &Fill<'_>, gate: Option<&dyn QuotaGate>) -> FillReport {
    let mut tx = direct.begin().await.unwrap();
    let report = fill(&mut tx, fill_request, gate).await.unwrap();
    tx.commit().await.unwrap();
    report
}

fn keys_of(report: &FillReport, keys: &[(i64, &str)]) -> Vec<String> {
    report
        .reserved
        .iter()
        .map(|r| keys.iter().find(|(id, _)| *id == r.record).unwrap().1.to_string())
        .collect()
}

async fn status_of(db: &Db, id: i64) -> (String, Option<String>) {
    with_db!(db, |p| {
        sqlx::query_as("SELECT status, reserved_by FROM records WHERE id = $1")
            .bind(id)
            .fetch_one(p)
            .await
            .unwrap()
    })
}

#[tokio::test]
async fn call_order_and_every_check() {
    let test = TestDb::new().await;
    let db = &test.db;
    let c = campaign(db, "order").await;
    let due = Some(now() - Duration::minutes(5));
    let later = Some(now() + Duration::hours(1));
    let mut keys = Vec::new();
    for r in [
        R {
            key: "fresh-low",
            ..R::default()
        },
        R {
            key: "fresh-high",
            priority: 5,
            ..R::default()
        },
        R {
            key: "retry-due",
            status: "ready",
            next_call_at: due,
            attempts: 1,
            ..R::default()
        },
        R {
            key: "retry-later",
            status: "ready",
            next_call_at: later,
            attempts: 1,
            ..R::default()
        },
        R {
            key: "callback-due",
            status: "callback",
            next_call_at: due,
            attempts: 1,
            ..R::default()
        },
        R {
            key: "callback-later",
            status: "callback",
            next_call_at: later,
            ..R::default()
        },
        R {
            key: "west-coast",
            zone: "America/Los_Angeles",
            ..R::default()
        },
        R {
            key: "at-limit",
            status: "ready",
            next_call_at: due,
            attempts: 3,
            ..R::default()
        },
        R {
            key: "finished",
            status: "completed",
            ..R::default()
        },
        R {
            key: "opted-out",
            phones: &["+12125550199"],
            ..R::default()
        },
        R {
            key: "second-number",
            phones: &["+12125550199", "+12125550102"],
            ..R::default()
        },
    ] {
        let key = r.key;
        keys.push((record(db, c, r).await, key));
    }
    paceline_dialer::dnc::add(
        db,
        "+12125550199",
        paceline_dialer::dnc::Scope::Campaign(c),
        "US",
        "test",
        None,
        now(),
    )
    .await
    .unwrap();

    let campaign = campaigns::find(db, "order").await.unwrap();
    let stored = vec!["America/Los_Angeles".to_string(), "America/New_York".to_string()];
    let zones = open_zones(&campaign.settings.calling_hours, &stored, now());
    assert_eq!(
        zones,
        ["America/New_York"],
        "07:00 in Los Angeles is before calling hours"
    );

    let mut direct = DirectDb::open(db).unwrap();
    let report = reserve(&mut direct, &request(c, "node-a", &zones, 100, test.backend()), None).await;
    assert_eq!(
        keys_of(&report, &keys),
        ["callback-due", "retry-due", "fresh-high", "fresh-low", "second-number"],
        "due callbacks, then due retries, then fresh records by priority and import order"
    );
    let opted_out = keys.iter().find(|(_, k)| *k == "opted-out").unwrap().0;
    assert_eq!(report.do_not_call, [opted_out]);
    assert_eq!(status_of(db, opted_out).await.0, "do_not_call");
    // A record whose first number opted out is dialed on its second.
    let second = report.reserved.iter().find(|r| r.phones.len() == 2).unwrap();
    assert_eq!((second.e164.as_str(), second.state.phone_position), ("+12125550102", 1));
    for r in &report.reserved {
        assert_eq!(
            status_of(db, r.record).await,
            ("in_progress".to_string(), Some("node-a".to_string()))
        );
        let attempt: (i64, String, Option<DateTime<Utc>>) = with_db!(db, |p| {
            sqlx::query_as("SELECT record_id, e164, dialed_at FROM attempts WHERE id = $1")
                .bind(r.attempt)
                .fetch_one(p)
                .await
                .unwrap()
        });
        assert_eq!(
            attempt,
            (r.record, r.e164.clone(), None),
            "the attempt is opened, not yet dialed"
        );
    }
    // Nothing is reserved twice: a second fill finds nothing left that is due.
    let again = reserve(&mut direct, &request(c, "node-a", &zones, 100, test.backend()), None).await;
    assert!(again.reserved.is_empty(), "{:?}", keys_of(&again, &keys));
}

#[tokio::test]
async fn retries_by_priority_then_due_time_across_zones() {
    let test = TestDb::new().await;
    let db = &test.db;
    let c = campaign(db, "retries").await;
    let ago = |minutes| Some(now() - Duration::minutes(minutes));
    let mut keys = Vec::new();
    // (key, zone, priority, due minutes ago; negative: not yet due)
    let rows: [(&str, &str, i64, i64); 9] = [
        ("ny-p0-old", "America/New_York", 0, 50),
        ("ny-p0-new", "America/New_York", 0, 5),
        ("ny-p0-later", "America/New_York", 0, -30),
        ("ny-p7-later", "America/New_York", 7, -10),
        ("ny-p7-due", "America/New_York", 7, 1),
        ("chi-p7-old", "America/Chicago", 7, 20),
        ("chi-p3", "America/Chicago", 3, 40),
        ("chi-p0", "America/Chicago", 0, 30),
        ("la-p9", "America/Los_Angeles", 9, 60),
    ];
    for (key, zone, priority, minutes) in rows {
        let id = record(
            db,
            c,
            R {
                key,
                zone,
                priority,
                status: "ready",
                attempts: 1,
                next_call_at: ago(minutes),
                ..R::default()
            },
        )
        .await;
        keys.push((id, key));
    }
    // Waiting retries of the top priority must not hide the due ones below it.
    for i in 0..30 {
        let key = format!("ny-p7-wait-{i}");
        let id = record(
            db,
            c,
            R {
                key: &key,
                priority: 7,
                status: "ready",
                attempts: 1,
                next_call_at: ago(-60 - i),
                ..R::default()
            },
        )
        .await;
        keys.push((id, "waiting"));
    }
    let zones = vec!["America/Chicago".to_string(), "America/New_York".to_string()];
    let mut direct = DirectDb::open(db).unwrap();
    let report = reserve(&mut direct, &request(c, "node-a", &zones, 5, test.backend()), None).await;
    assert_eq!(
        keys_of(&report, &keys),
        ["chi-p7-old", "ny-p7-due", "chi-p3", "ny-p0-old", "chi-p0"],
        "due retries of open zones, by priority and then longest due first, cut at the limit"
    );
    let rest = reserve(&mut direct, &request(c, "node-a", &zones, 5, test.backend()), None).await;
    assert_eq!(keys_of(&rest, &keys), ["ny-p0-new"], "then the last one due");
}

struct RegionGate;

impl QuotaGate for RegionGate {
    fn closed(&self, _campaign: i64, fields: &serde_json::Value) -> bool {
        fields["region"] == "south"
    }
}

#[tokio::test]
async fn closed_quota_cells_and_random_order() {
    let test = TestDb::new().await;
    let db = &test.db;
    let c = campaign(db, "quota").await;
    let mut keys = Vec::new();
    for i in 0..40 {
        let key = format!("k{i:02}");
        let region = if i % 4 == 0 { "south" } else { "north" };
        let id = record(
            db,
            c,
            R {
                key: &key,
                region,
                ..R::default()
            },
        )
        .await;
        keys.push((id, region));
    }
    let zones = vec!["America/New_York".to_string()];
    let mut direct = DirectDb::open(db).unwrap();
    let mut request = request(c, "node-a", &zones, 100, test.backend());
    request.with_fields = true;
    request.order = CallOrder::Random;
    let report = reserve(&mut direct, &request, Some(&RegionGate)).await;
    assert_eq!(report.quota_closed.len(), 10);
    assert_eq!(report.reserved.len(), 30);
    assert!(
        report
            .reserved
            .iter()
            .all(|r| r.fields.as_ref().unwrap()["region"] == "north")
    );
    for id in &report.quota_closed {
        assert_eq!(status_of(db, *id).await.0, "quota_closed");
    }
    let ids: Vec<i64> = report.reserved.iter().map(|r| r.record).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_ne!(ids, sorted, "random order is not import order");
}

#[tokio::test]
async fn two_dialer_processes_never_reserve_the_same_record() {
    let test = TestDb::new().await;
    let db = &test.db;
    let c = campaign(db, "shared").await;
    for i in 0..30 {
        let key = format!("k{i:02}");
        record(
            db,
            c,
            R {
                key: &key,
                ..R::default()
            },
        )
        .await;
    }
    let zones = vec!["America/New_York".to_string()];
    let mut a = DirectDb::open(db).unwrap();
    let mut b = DirectDb::open(db).unwrap();
    let (first, second) = match test.backend() {
        Backend::Postgres => {
            // Both transactions are open at once: the second skips the rows the first locked.
            let mut tx_a = a.begin().await.unwrap();
            let got_a = fill(&mut tx_a, &request(c, "node-a", &zones, 20, Backend::Postgres), None)
                .await
                .unwrap();
            let mut tx_b = b.begin().await.unwrap();
            let got_b = fill(&mut tx_b, &request(c, "node-b", &zones, 20, Backend::Postgres), None)
                .await
                .unwrap();
            tx_b.commit().await.unwrap();
            tx_a.commit().await.unwrap();
            (got_a, got_b)
        }
        Backend::Sqlite => {
            // SQLite lets one writer in at a time; the second sees what the first reserved.
            let got_a = reserve(&mut a, &request(c, "node-a", &zones, 20, Backend::Sqlite), None).await;
            let got_b = reserve(&mut b, &request(c, "node-b", &zones, 20, Backend::Sqlite), None).await;
            (got_a, got_b)
        }
    };
    let ids_a: Vec<i64> = first.reserved.iter().map(|r| r.record).collect();
    let ids_b: Vec<i64> = second.reserved.iter().map(|r| r.record).collect();
    assert_eq!(ids_a.len(), 20);
    assert_eq!(ids_b.len(), 10);
    assert!(ids_a.iter().all(|id| !ids_b.contains(id)), "{ids_a:?} {ids_b:?}");
    let reserved_by: Vec<(String, i64)> = with_db!(db, |p| {
        sqlx::query_as(
            "SELECT reserved_by, COUNT(*) FROM records WHERE reserved_by IS NOT NULL GROUP BY reserved_by ORDER BY reserved_by",
        )
        .fetch_all(p)
        .await
        .unwrap()
    });
    assert_eq!(reserved_by, [("node-a".to_string(), 20), ("node-b".to_string(), 10)]);
    let _ = sql::placeholders(1, 1);
}

/// A callback booked for one interviewer, due `ago` before now.
async fn personal_callback(db: &Db, campaign: i64, key: &str, agent: i64, ago: Duration) -> i64 {
    let id = record(
        db,
        campaign,
        R {
            key,
            status: "callback",
            next_call_at: Some(now() - ago),
            ..R::default()
        },
    )
    .await;
    with_db!(db, |p| {
        sqlx::query("UPDATE records SET assigned_agent_id = $2 WHERE id = $1")
            .bind(id)
            .bind(agent)
            .execute(p)
            .await
            .unwrap()
            .rows_affected()
    });
    id
}

#[tokio::test]
async fn a_personal_callback_missed_by_its_interviewer_goes_to_anyone() {
    use paceline_dialer::users::{self, NewUser, Role};

    let test = TestDb::new().await;
    let db = &test.db;
    let c = campaign(db, "callbacks").await;
    let ann = users::add_user(
        db,
        &NewUser {
            login: "ann".into(),
            display_name: "Ann".into(),
            password: "correct horse".into(),
            roles: vec![Role::Agent],
            teams: vec![],
            skills: vec![],
        },
        now(),
    )
    .await
    .unwrap()
    .id;
    let missed = personal_callback(db, c, "missed", ann, Duration::minutes(20)).await;
    let waiting = personal_callback(db, c, "waiting", ann, Duration::minutes(5)).await;
    let zones = vec!["America/New_York".to_string()];
    let mut direct = DirectDb::open(db).unwrap();
    // Kept personal: the shared fill takes neither.
    let report = reserve(&mut direct, &request(c, "node-a", &zones, 10, test.backend()), None).await;
    assert!(report.reserved.is_empty(), "{:?}", report.reserved);
    // Released after 15 minutes: the one due 20 minutes ago, for anyone; the other waits.
    let mut shared = request(c, "node-a", &zones, 10, test.backend());
    shared.release_personal_before = Some(now() - Duration::minutes(15));
    let report = reserve(&mut direct, &shared, None).await;
    let taken: Vec<(i64, Option<i64>)> = report.reserved.iter().map(|r| (r.record, r.agent)).collect();
    assert_eq!(taken, [(missed, None)]);
    // Ann, logged in, gets her other callback as hers.
    let agents = [ann];
    let mut hers = request(c, "node-a", &zones, 10, test.backend());
    hers.assigned = Some((&agents, &[]));
    let report = reserve(&mut direct, &hers, None).await;
    let taken: Vec<(i64, Option<i64>)> = report.reserved.iter().map(|r| (r.record, r.agent)).collect();
    assert_eq!(taken, [(waiting, Some(ann))]);
}
