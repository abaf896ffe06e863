//! The interview benchmark (issue 4): one interview step (validate an answer, store it, route,
//! render the next question) in process, on the shipped 44-row XLSForm
//! (`questionnaires/health-survey.xlsx`, answered by `health-survey.answers.json`).
//!
//! `cargo bench --bench interview`. Three measurements in one run, each step timed into an
//! HdrHistogram:
//! 1. the step without the store (the runtime alone), the baseline of the next;
//! 2. the step with the store write (`cati::store::save`, one transaction) on a SQLite file;
//! 3. `PACELINE_BENCH_INTERVIEWS` (default 1,000) interviews in parallel on one SQLite file,
//!    each step stored: steps per second and the p99 of a step.
//!
//! With `PACELINE_TEST_DATABASE_URL` (the tests' PostgreSQL server), measurement 2 runs on a
//! fresh database there too.
//!
//! `PACELINE_BENCH_RUNS` (default 200) interviews for measurements 1 and 2.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{NaiveDate, Utc};
use hdrhistogram::Histogram;
use paceline_cati::expr::Value;
use paceline_cati::interview::{Interview, State, parse_answer};
use paceline_cati::questionnaire::{self, Questionnaire};
use paceline_cati::store::{self, Party};
use paceline_dialer::store::Db;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn shipped(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("questionnaires").join(name)
}

/// The answer to each question of the form, typed by its question.
fn answers(q: &Questionnaire) -> BTreeMap<String, Value> {
    let json: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(shipped("health-survey.answers.json")).expect("answers"))
            .expect("answers are a JSON object");
    q.questions()
        .into_iter()
        .filter_map(|question| {
            let value = json.get(&question.name)?;
            Some((
                question.name.clone(),
                parse_answer(question, value).expect("a valid answer"),
            ))
        })
        .collect()
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 30).expect("a date")
}

/// One step: the answer to the question on screen, then the next question rendered.
fn step(interview: &mut Interview<'_>, answers: &BTreeMap<String, Value>) -> bool {
    let Some(shown) = interview.current() else { return false };
    let value = answers.get(&shown.name).cloned().unwrap_or(Value::Empty);
    interview.answer(value).expect("the scripted answers are accepted");
    let next = interview.current();
    std::hint::black_box(&next);
    interview.state() == &State::Asking
}

/// One step with its store write, timed into `into`; whether the interview goes on.
async fn stored_step(
    db: &Db,
    id: i64,
    interview: &mut Interview<'_>,
    answers: &BTreeMap<String, Value>,
    into: &mut Histogram<u64>,
) -> bool {
    let started = Instant::now();
    let before = interview.saved();
    let more = step(interview, answers);
    store::save(db, id, &before, interview, Utc::now())
        .await
        .expect("storing the step");
    into.record(started.elapsed().as_nanos() as u64).expect("in bounds");
    more
}

/// `runs` interviews one after another on `db`, every step stored; each step's time.
async fn stored_runs(
    db: &Db,
    version: i64,
    q: &Questionnaire,
    answers: &BTreeMap<String, Value>,
    runs: usize,
) -> Histogram<u64> {
    let mut stored = histogram();
    for seed in 0..runs as u64 {
        let mut interview = Interview::start(q, BTreeMap::new(), "English (en)", today(), seed);
        let id = store::start(db, version, Party::default(), &interview, Utc::now())
            .await
            .expect("storing the interview");
        while stored_step(db, id, &mut interview, answers, &mut stored).await {}
    }
    stored
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("histogram bounds")
}

fn micros(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

async fn open_store(dir: &Path) -> Db {
    let url = format!("sqlite://{}", dir.join("bench.db").display());
    Db::open(&url).await.expect("a SQLite store")
}

fn main() {
    let runs = env_or("PACELINE_BENCH_RUNS", 200);
    let parallel = env_or("PACELINE_BENCH_INTERVIEWS", 1000);
    let q = questionnaire::load(&shipped("health-survey.xlsx")).expect("the shipped XLSForm loads");
    let answers = answers(&q);
    let source = std::fs::read(shipped("health-survey.xlsx")).expect("the form's bytes");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = runtime.block_on(open_store(dir.path()));
    let version = runtime
        .block_on(store::publish(&db, "health-survey.xlsx", &source, Utc::now()))
        .expect("publishing the form")
        .id;

    // 1. The runtime alone.
    let mut alone = histogram();
    for seed in 0..runs as u64 {
        let mut interview = Interview::start(&q, BTreeMap::new(), "English (en)", today(), seed);
        loop {
            let started = Instant::now();
            let more = step(&mut interview, &answers);
            alone.record(started.elapsed().as_nanos() as u64).expect("in bounds");
            if !more {
                break;
            }
        }
    }

    // 2. With the store write, one interview at a time; on PostgreSQL too when the tests'
    // server is named.
    let stored = runtime.block_on(stored_runs(&db, version, &q, &answers, runs));
    let on_postgres = match std::env::var(paceline_dialer::store::testing::TEST_DATABASE_URL) {
        Ok(_) => runtime.block_on(async {
            let test = paceline_dialer::store::testing::TestDb::new().await;
            let version = store::publish(&test.db, "health-survey.xlsx", &source, Utc::now())
                .await
                .expect("publishing the form")
                .id;
            let h = stored_runs(&test.db, version, &q, &answers, runs).await;
            test.db.close().await;
            Some(h)
        }),
        Err(_) => None,
    };

    // 3. Many interviews at once on the same store.
    let shared = Arc::new(Mutex::new(histogram()));
    let q = Arc::new(q);
    let answers = Arc::new(answers);
    let started_all = Instant::now();
    let steps: usize = runtime.block_on(async {
        let mut tasks = Vec::new();
        for seed in 0..parallel as u64 {
            let (db, q, answers, shared) = (db.clone(), q.clone(), answers.clone(), shared.clone());
            tasks.push(tokio::spawn(async move {
                let mut interview = Interview::start(&q, BTreeMap::new(), "English (en)", today(), seed);
                let id = store::start(&db, version, Party::default(), &interview, Utc::now())
                    .await
                    .expect("storing the interview");
                let mut own = histogram();
                let mut steps = 0;
                loop {
                    steps += 1;
                    if !stored_step(&db, id, &mut interview, &answers, &mut own).await {
                        break;
                    }
                    // An interviewer reads and listens between answers; the benchmark does not
                    // wait, so every interview contends for the store at once.
                    tokio::task::yield_now().await;
                }
                shared.lock().expect("the histogram").add(&own).expect("same bounds");
                steps
            }));
        }
        let mut total = 0;
        for task in tasks {
            total += task.await.expect("an interview task");
        }
        total
    });
    let wall = started_all.elapsed().as_secs_f64();
    let parallel_hist = shared.lock().expect("the histogram").clone();

    println!(
        "interview benchmark: health-survey.xlsx, {} steps per interview",
        alone.len() / runs as u64
    );
    println!();
    println!("| measurement | steps | p50 µs | p99 µs | max µs |");
    println!("|---|---|---|---|---|");
    let mut rows = vec![
        ("step without the store", &alone),
        ("step with the store write (SQLite file)", &stored),
    ];
    if let Some(h) = &on_postgres {
        rows.push(("step with the store write (PostgreSQL)", h));
    }
    for (name, h) in rows {
        println!(
            "| {name} | {} | {:.1} | {:.1} | {:.1} |",
            h.len(),
            micros(h, 0.5),
            micros(h, 0.99),
            h.max() as f64 / 1000.0
        );
    }
    println!(
        "| {parallel} interviews at once, each step stored | {} | {:.1} | {:.1} | {:.1} |",
        parallel_hist.len(),
        micros(&parallel_hist, 0.5),
        micros(&parallel_hist, 0.99),
        parallel_hist.max() as f64 / 1000.0
    );
    println!();
    println!(
        "store write / runtime alone, p99: {:.1}x; {parallel} at once: {steps} steps in {wall:.2} s, {:.0} steps/s",
        micros(&stored, 0.99) / micros(&alone, 0.99),
        steps as f64 / wall
    );
}
