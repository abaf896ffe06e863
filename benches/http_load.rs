//! The web load benchmark (issue 5): `PACELINE_BENCH_AGENTS` (default 1,000) interviewers
//! work the demo over HTTP, as the agent desktop does, against the release `paceline demo`
//! on loopback with its embedded SQLite file.
//!
//! `cargo bench --bench http_load`. Each interviewer signs in, signs in to the phone, goes
//! ready, and listens to their own server-sent events (polling nothing); when a call is
//! bridged to them they answer the health survey's questions with its scripted answers
//! (`questionnaires/health-survey.answers.json`), a think time apart
//! (`PACELINE_BENCH_THINK_MS`, default 2,000, drawn uniformly from half to one and a half
//! times it), hang up, give the disposition and go ready again. Every request's latency, from
//! sending to the last byte of the answer, goes into an HdrHistogram by kind, over
//! `PACELINE_BENCH_SECONDS` (default 120) after `PACELINE_BENCH_WARMUP` (default 30) seconds.
//!
//! The baseline, in the same run and under the same load: `GET /api/me` (the session look-up
//! every request makes, and nothing else) ten times a second. The server's peak memory is its
//! `VmHWM` from `/proc`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};
use tokio::sync::Notify;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Request latencies by kind, in microseconds, taken inside the measured window only.
struct Latencies {
    from: Instant,
    until: Instant,
    by_kind: Mutex<BTreeMap<&'static str, Histogram<u64>>>,
    errors: AtomicU64,
    completes: AtomicU64,
    calls: AtomicU64,
}

impl Latencies {
    fn record(&self, kind: &'static str, started: Instant) {
        let now = Instant::now();
        if started < self.from || now > self.until {
            return;
        }
        let micros = now.duration_since(started).as_micros() as u64;
        self.by_kind
            .lock()
            .unwrap()
            .entry(kind)
            .or_insert_with(|| Histogram::new_with_bounds(1, 60_000_000, 3).unwrap())
            .saturating_record(micros);
    }

    fn measuring(&self) -> bool {
        let now = Instant::now();
        now >= self.from && now <= self.until
    }
}

/// One interviewer's browser: its cookies, its CSRF token.
struct Desk {
    client: reqwest::Client,
    url: String,
    csrf: String,
    stats: Arc<Latencies>,
}

impl Desk {
    async fn sign_in(url: &str, login: &str, password: &str, stats: Arc<Latencies>) -> Desk {
        let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
        let me: Value = client
            .post(format!("{url}/api/login"))
            .json(&json!({ "login": login, "password": password }))
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap_or_else(|e| panic!("{login} could not sign in: {e}"))
            .json()
            .await
            .unwrap();
        Desk {
            client,
            url: url.to_string(),
            csrf: me["csrf"].as_str().unwrap().to_string(),
            stats,
        }
    }

    async fn get(&self, kind: &'static str, path: &str) -> Option<Value> {
        let started = Instant::now();
        let response = self.client.get(format!("{}{path}", self.url)).send().await.ok()?;
        let ok = response.status().is_success();
        let body: Value = response.json().await.ok()?;
        self.stats.record(kind, started);
        if !ok {
            self.stats.errors.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        Some(body)
    }

    /// An agent action; the desktop after it, or `None` when it was refused.
    async fn act(&self, kind: &'static str, action: &str, body: Value) -> Option<Value> {
        let started = Instant::now();
        let response = self
            .client
            .post(format!("{}/api/agent/{action}", self.url))
            .header("X-CSRF-Token", &self.csrf)
            .json(&body)
            .send()
            .await
            .ok()?;
        let ok = response.status().is_success();
        let body: Value = response.json().await.ok()?;
        self.stats.record(kind, started);
        ok.then_some(body)
    }
}

/// Reads the agent's own event stream; every `changed` wakes the interviewer.
async fn listen(desk: Arc<Desk>, wake: Arc<Notify>) {
    let Ok(mut stream) = desk.client.get(format!("{}/api/agent/events", desk.url)).send().await else {
        return;
    };
    while let Ok(Some(chunk)) = stream.chunk().await {
        if chunk.windows(7).any(|w| w == b"changed") {
            wake.notify_one();
        }
    }
}

/// One interviewer at work until `until`.
async fn interviewer(desk: Arc<Desk>, answers: Arc<Value>, think: Duration, seed: u64, until: Instant) {
    let wake = Arc::new(Notify::new());
    tokio::spawn(listen(desk.clone(), wake.clone()));
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    desk.act("login", "login", json!({})).await;
    let mut view = desk.act("ready", "ready", json!({})).await.unwrap_or(Value::Null);
    while Instant::now() < until {
        let state = view["state"].as_str().unwrap_or("");
        let asking = view["interview"]["state"]["state"] == "asking";
        let next = if view["needs_disposition"] == true && state == "wrap_up" {
            let counted = desk.stats.measuring();
            let complete = view["interview"]["state"]["state"] == "complete";
            let done = match desk.act("finish", "finish", json!({})).await {
                Some(v) => Some(v),
                None => desk.act("finish", "finish", json!({ "ending": "break_off" })).await,
            };
            if counted && done.is_some() {
                desk.stats.calls.fetch_add(1, Ordering::Relaxed);
                if complete {
                    desk.stats.completes.fetch_add(1, Ordering::Relaxed);
                }
            }
            desk.act("ready", "ready", json!({})).await
        } else if state == "on_call" && asking {
            let question = view["interview"]["question"]["name"].as_str().unwrap_or("").to_string();
            let pause = think.mul_f64(rng.random_range(0.5..1.5));
            tokio::time::sleep(pause).await;
            let value = answers.get(&question).cloned().unwrap_or(Value::Null);
            match desk.act("answer", "answer", json!({ "value": value })).await {
                Some(v) => Some(v),
                // The line dropped meanwhile, or the answer did not fit: read the desktop.
                None => desk.get("view", "/api/agent").await,
            }
        } else if state == "on_call" && !view["interview"].is_null() {
            desk.act("hang-up", "hang-up", json!({})).await;
            let _ = tokio::time::timeout(Duration::from_secs(2), wake.notified()).await;
            desk.get("view", "/api/agent").await
        } else if state == "not_ready" || (state == "wrap_up" && view["needs_disposition"] == false) {
            desk.act("ready", "ready", json!({})).await
        } else {
            // Ready, reserved, or a call whose interview has not opened yet: wait to be told.
            let _ = tokio::time::timeout(Duration::from_secs(10), wake.notified()).await;
            desk.get("view", "/api/agent").await
        };
        view = match next {
            Some(v) => v,
            None => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                desk.get("view", "/api/agent").await.unwrap_or(Value::Null)
            }
        };
    }
}

fn status_kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let agents = env_or("PACELINE_BENCH_AGENTS", 1_000) as usize;
    let seconds = env_or("PACELINE_BENCH_SECONDS", 120);
    let warmup = env_or("PACELINE_BENCH_WARMUP", 30);
    let think = Duration::from_millis(env_or("PACELINE_BENCH_THINK_MS", 2_000));
    let records = env_or("PACELINE_BENCH_RECORDS", 100_000);
    let dir = tempfile::tempdir().unwrap();
    let answers: Arc<Value> = Arc::new(
        serde_json::from_str::<Value>(
            &std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("questionnaires/health-survey.answers.json"),
            )
            .unwrap(),
        )
        .unwrap(),
    );

    println!("starting the demo: {records} records, {agents} load agents, no simulated interviewers");
    let mut server = Command::new(env!("CARGO_BIN_EXE_paceline"))
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .args([
            "--database",
            &format!("sqlite://{}", dir.path().join("load.db").display()),
        ])
        .args(["demo", "--port", "0", "--interviewers", "0"])
        .args(["--records", &records.to_string(), "--load-agents", &agents.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = server.id();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("the demo stopped before serving").unwrap();
        if let Some(url) = line.trim().strip_prefix("Paceline is listening on ") {
            break url.trim_end_matches('/').to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async move {
        let signing_in = Instant::now();
        let placeholder = Arc::new(Latencies {
            from: Instant::now() + Duration::from_secs(86_400),
            until: Instant::now(),
            by_kind: Mutex::default(),
            errors: AtomicU64::new(0),
            completes: AtomicU64::new(0),
            calls: AtomicU64::new(0),
        });
        let mut desks = Vec::with_capacity(agents);
        for chunk in (1..=agents).collect::<Vec<_>>().chunks(16) {
            let batch: Vec<_> = chunk
                .iter()
                .map(|i| {
                    let (url, stats) = (url.clone(), placeholder.clone());
                    let login = format!("load-{i:04}");
                    tokio::spawn(async move { Desk::sign_in(&url, &login, LOAD_PASSWORD, stats).await })
                })
                .collect();
            for handle in batch {
                desks.push(handle.await.unwrap());
            }
        }
        println!(
            "{agents} interviewers signed in in {:.1} s (argon2 verification on the server); server RSS {} MiB",
            signing_in.elapsed().as_secs_f64(),
            status_kib(pid, "VmRSS:") / 1024
        );
        let start = Instant::now();
        let stats = Arc::new(Latencies {
            from: start + Duration::from_secs(warmup),
            until: start + Duration::from_secs(warmup + seconds),
            by_kind: Mutex::default(),
            errors: AtomicU64::new(0),
            completes: AtomicU64::new(0),
            calls: AtomicU64::new(0),
        });
        let until = stats.until;
        let mut tasks = Vec::new();
        for (i, mut desk) in desks.into_iter().enumerate() {
            desk.stats = stats.clone();
            tasks.push(tokio::spawn(interviewer(
                Arc::new(desk),
                answers.clone(),
                think,
                i as u64,
                until,
            )));
        }
        // The baseline: the session look-up alone, under the same load.
        let mut probe = Desk::sign_in(&url, "supervisor", "demo-supervisor-pw", stats.clone()).await;
        probe.stats = stats.clone();
        let probing = tokio::spawn(async move {
            while Instant::now() < until {
                probe.get("me (baseline)", "/api/me").await;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        println!("warming up {warmup} s, then measuring {seconds} s");
        for task in tasks {
            let _ = task.await;
        }
        let _ = probing.await;

        let by_kind = stats.by_kind.lock().unwrap();
        let total: u64 = by_kind.values().map(|h| h.len()).sum();
        println!(
            "\n{agents} interviewers, think time {} ms, {seconds} s measured: {total} requests, {:.0} requests/s, {} refused or failed",
            think.as_millis(),
            total as f64 / seconds as f64,
            stats.errors.load(Ordering::Relaxed)
        );
        println!(
            "calls finished {}, interviews completed {} ({:.1} per minute)",
            stats.calls.load(Ordering::Relaxed),
            stats.completes.load(Ordering::Relaxed),
            stats.completes.load(Ordering::Relaxed) as f64 * 60.0 / seconds as f64
        );
        println!("\n| request | count | p50 ms | p90 ms | p99 ms | max ms | p99 / baseline p99 |");
        println!("|---|---|---|---|---|---|---|");
        let baseline = by_kind.get("me (baseline)").map_or(1, |h| h.value_at_quantile(0.99).max(1));
        let mut all = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
        for (kind, h) in by_kind.iter() {
            if *kind != "me (baseline)" {
                all.add(h).unwrap();
            }
            print_row(kind, h, baseline);
        }
        print_row("all but the baseline", &all, baseline);
        println!(
            "\nserver peak memory (VmHWM): {} MiB",
            status_kib(pid, "VmHWM:") / 1024
        );
    });
    let _ = server.kill();
    let _ = server.wait();
}

fn print_row(kind: &str, h: &Histogram<u64>, baseline: u64) {
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "| {kind} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} |",
        h.len(),
        ms(0.5),
        ms(0.9),
        ms(0.99),
        h.max() as f64 / 1000.0,
        h.value_at_quantile(0.99) as f64 / baseline as f64
    );
}

/// The password `paceline demo --load-agents` gives its agents.
const LOAD_PASSWORD: &str = "load-agent-pw";
