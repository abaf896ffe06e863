//! What the end-to-end tests of the web application share: the demo started as a person
//! starts it, on a free port, stopped when dropped.

// Each test crate uses some of these.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use paceline_dialer::store::testing::TestDb;

/// A child process killed when dropped.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `paceline` on the test's store, in `dir`.
pub fn paceline(test: &TestDb, dir: &Path) -> Command {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("paceline"));
    command
        .current_dir(dir)
        .arg("--database")
        .arg(&test.url)
        .env_remove("DATABASE_URL");
    command
}

/// Starts `command` (a `paceline` that serves) and waits for the address it prints.
pub fn serving(mut command: Command) -> (Running, String) {
    let mut child = command.stdout(Stdio::piped()).spawn().unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let url = loop {
        let mut line = String::new();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "paceline stopped before serving"
        );
        if let Some(url) = line.trim().strip_prefix("Paceline is listening on ") {
            break url.trim_end_matches('/').to_string();
        }
    };
    // Keep reading, so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in reader.lines() {});
    (Running(child), url)
}

/// The demo with its live campaign and `interviewers` simulated interviewers, on a free port.
pub fn demo(test: &TestDb, dir: &Path, interviewers: usize) -> (Running, String) {
    let mut command = paceline(test, dir);
    command.args([
        "demo",
        "--records",
        "300",
        "--interviewers",
        &interviewers.to_string(),
        "--port",
        "0",
    ]);
    serving(command)
}

/// The demo's users and campaigns set up (`records` records, no simulated interviewers, no
/// live runtime), then `paceline serve` on a free port.
pub fn served_demo_with(test: &TestDb, dir: &Path, records: u32) -> (Running, String) {
    let status = paceline(test, dir)
        .args([
            "demo",
            "--records",
            &records.to_string(),
            "--interviewers",
            "0",
            "--setup-only",
        ])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "the demo's set-up failed");
    let mut command = paceline(test, dir);
    command.args(["serve", "--port", "0"]);
    serving(command)
}

/// `served_demo_with` 20 records.
pub fn served_demo(test: &TestDb, dir: &Path) -> (Running, String) {
    served_demo_with(test, dir, 20)
}

/// Stores interviews of the demo's health survey as the runtime would, step by step: two
/// completes, one left after five questions, and one that refused consent (which skips the
/// rest of the form, so it completes).
pub async fn seed_interviews(db: &paceline_dialer::Db) -> Vec<i64> {
    use paceline_cati::expr::Value as V;
    use paceline_cati::interview::{Interview, State, parse_answer};
    use paceline_cati::store::{self, Party};

    let version = store::latest_version(db, "health-survey").await.unwrap().unwrap();
    let q = store::version(db, version).await.unwrap();
    let scripted: serde_json::Map<String, serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("questionnaires/health-survey.answers.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let (records, interviewer): (Vec<i64>, i64) = paceline_dialer::with_db!(db, |p| {
        let records = sqlx::query_scalar(
            "SELECT r.id FROM records r JOIN campaigns c ON c.id = r.campaign_id WHERE c.name = 'demo-survey'
             ORDER BY r.id LIMIT 4",
        )
        .fetch_all(p)
        .await
        .unwrap();
        let interviewer = sqlx::query_scalar("SELECT id FROM users WHERE login = 'sim-01'")
            .fetch_one(p)
            .await
            .unwrap();
        (records, interviewer)
    });
    let mut second = scripted.clone();
    second.insert("age".into(), serde_json::json!(31));
    second.insert("gender".into(), serde_json::json!("male"));
    second.insert("conditions".into(), serde_json::json!(["diabetes", "asthma"]));
    let mut refuses = scripted.clone();
    refuses.insert("consent".into(), serde_json::json!("no"));
    let plans = [
        (&scripted, usize::MAX),
        (&second, usize::MAX),
        (&scripted, 5),
        (&refuses, usize::MAX),
    ];
    let mut ids = Vec::new();
    for (k, ((answers, steps), record)) in plans.into_iter().zip(records).enumerate() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let mut interview = Interview::start(&q, Default::default(), "English (en)", today, k as u64);
        let started = chrono::Utc::now() - chrono::Duration::minutes(30 - 5 * k as i64);
        let party = Party {
            record: Some(record),
            interviewer: Some(interviewer),
        };
        let id = store::start(db, version, party, &interview, started).await.unwrap();
        for step in 1.. {
            if step > steps || interview.state() != &State::Asking {
                break;
            }
            let shown = interview.current().unwrap();
            let question = q.question(&shown.question).unwrap();
            let value = answers
                .get(&shown.question)
                .map_or(V::Empty, |json| parse_answer(question, json).unwrap());
            let before = interview.saved();
            interview.answer(value).unwrap();
            let at = started + chrono::Duration::seconds(40 * step as i64);
            store::save(db, id, &before, &interview, at).await.unwrap();
        }
        ids.push(id);
    }
    ids
}

/// The `respondent_id` of the demo survey's first record (the first the seeded interviews
/// are asked of).
pub async fn first_respondent(db: &paceline_dialer::Db) -> String {
    let (fields,): (sqlx::types::Json<serde_json::Value>,) = paceline_dialer::with_db!(db, |p| {
        sqlx::query_as(
            "SELECT r.fields FROM records r JOIN campaigns c ON c.id = r.campaign_id
             WHERE c.name = 'demo-survey' ORDER BY r.id LIMIT 1",
        )
        .fetch_one(p)
        .await
        .unwrap()
    });
    fields.0["respondent_id"].as_str().unwrap().to_string()
}
