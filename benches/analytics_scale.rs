//! Analytics at scale (issue 6): the agent-productivity report per day and the dialer report
//! per 15 minutes over a synthetic history of 10,000,000 attempts and 50,000,000 agent state
//! changes, from Parquet with Polars, against the same reports written as SQL and run by
//! SQLite over the same rows in a store with the application's schema. Each measurement runs
//! in a child process of its own (the median of three), so that its peak resident memory is
//! its own; the results of both sides are compared row by row.
//!
//! `cargo bench --bench analytics_scale`. `PACELINE_BENCH_ATTEMPTS` and
//! `PACELINE_BENCH_STATE_CHANGES` change the size, `PACELINE_BENCH_RUNS` the number of runs,
//! `PACELINE_BENCH_SEED` the seed; `PACELINE_BENCH_VARIANTS=1` also times the state-time cut
//! as a loop over the rows and the report with the changes sorted first;
//! `PACELINE_BENCH_ONLY=polars` (or `sqlite`) times one side only. The history is generated
//! once under `target/analytics-scale/` and reused while the parameters are the same.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use paceline_analytics::period::{Bucket, Interval, Period};
use paceline_analytics::synthetic::{self, ATTEMPTS_FILE, Config, Outputs, STATE_CHANGES_FILE};
use paceline_analytics::{dialer, productivity};
use polars::prelude::*;

/// What the parent asks a child to time.
const CHILD: &str = "PACELINE_BENCH_CHILD";
const SQLITE_FILE: &str = "history.sqlite";
/// Bumped whenever the generator changes what it generates, so old files are not reused.
const GENERATOR_VERSION: u32 = 1;

/// What one child measured.
struct Run {
    /// The report alone, as the child timed it (no process start, no writing the result).
    time: Duration,
    peak_rss_mib: f64,
    rows: usize,
}

fn main() {
    if let Ok(what) = std::env::var(CHILD) {
        child(&what);
        return;
    }
    let attempts: u64 = env_number("PACELINE_BENCH_ATTEMPTS", 10_000_000);
    let state_changes: u64 = env_number("PACELINE_BENCH_STATE_CHANGES", 50_000_000);
    let seed: u64 = env_number("PACELINE_BENCH_SEED", 1);
    let runs: usize = env_number("PACELINE_BENCH_RUNS", 3);
    let variants = std::env::var("PACELINE_BENCH_VARIANTS").is_ok_and(|v| v == "1");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/analytics-scale")
        .join(format!("a{attempts}-s{state_changes}-seed{seed}"));
    let (config, totals) = history(&dir, attempts, state_changes, seed);
    eprintln!(
        "history: {} state changes, {} attempts; {} agents in teams of {}, {} campaigns, {} days from {}, {:.0}% of calls inbound; Parquet {:.0} MiB, SQLite {:.0} MiB",
        totals.state_changes,
        totals.attempts,
        config.agents,
        config.team_size,
        config.campaigns,
        config.days,
        config.first_day,
        config.inbound_share * 100.0,
        (file_mib(&dir.join(STATE_CHANGES_FILE)) + file_mib(&dir.join(ATTEMPTS_FILE))),
        file_mib(&dir.join(SQLITE_FILE)),
    );
    let results = dir.join("results");
    std::fs::create_dir_all(&results).expect("a results directory");
    let to = config.to();
    let measure = |what: &str| -> Run {
        let all: Vec<Run> = (0..runs)
            .map(|i| {
                let run = time_child(
                    Command::new(std::env::current_exe().expect("this benchmark"))
                        .env(CHILD, what)
                        .env("PACELINE_BENCH_DIR", &dir)
                        .env("PACELINE_BENCH_TO_MS", to.timestamp_millis().to_string()),
                );
                eprintln!(
                    "{what} run {}: {:.2} s, {:.0} MiB, {} rows",
                    i + 1,
                    run.time.as_secs_f64(),
                    run.peak_rss_mib,
                    run.rows
                );
                run
            })
            .collect();
        let max_rss = all.iter().map(|r| r.peak_rss_mib).fold(0.0, f64::max);
        let mid = median(&all);
        Run {
            time: mid.time,
            peak_rss_mib: max_rss,
            rows: mid.rows,
        }
    };
    let only = std::env::var("PACELINE_BENCH_ONLY").unwrap_or_default();
    let sides: Vec<&str> = ["polars", "sqlite"]
        .into_iter()
        .filter(|side| only.is_empty() || only == *side)
        .collect();
    let reports = [
        ("agent productivity per day", "productivity", ["agent", "period"]),
        ("dialer per 15 min", "dialer", ["campaign", "interval"]),
    ];
    let mut measured = std::collections::BTreeMap::new();
    for side in &sides {
        for (_, report, _) in &reports {
            let what = format!("{side}-{report}");
            measured.insert(what.clone(), measure(&what));
        }
    }
    let extra: Vec<(&str, Run)> = if variants {
        ["polars-productivity-sorted", "polars-state-times", "loop-state-times"]
            .into_iter()
            .map(|what| (what, measure(what)))
            .collect()
    } else {
        Vec::new()
    };

    if sides.len() == 2 {
        let read = |what: &str| {
            ParquetReader::new(std::fs::File::open(results.join(format!("{what}.parquet"))).expect("a result"))
                .finish()
                .expect("a readable result")
        };
        for (_, report, keys) in &reports {
            let agreement = synthetic::compare(
                &read(&format!("polars-{report}")),
                &read(&format!("sqlite-{report}")),
                keys,
            )
            .unwrap_or_else(|e| panic!("the {report} reports differ: {e}"));
            let totals: Vec<String> = agreement
                .totals
                .iter()
                .filter(|(name, _, _)| {
                    ["logged_in", "talk", "dials", "person_answers", "abandons"].contains(&name.as_str())
                })
                .map(|(name, polars, _)| format!("{name} {polars:.0}"))
                .collect();
            eprintln!(
                "{report}: Polars and SQLite agree on all {} rows; totals {}",
                agreement.rows,
                totals.join(", ")
            );
        }
    }

    println!();
    println!(
        "{} attempts, {} state changes; median of {runs} runs ({} cores)",
        totals.attempts,
        totals.state_changes,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!();
    println!("| report | rows | Polars from Parquet | peak RSS | SQLite SQL | peak RSS | SQLite / Polars |");
    println!("|---|---|---|---|---|---|---|");
    let seconds = |run: Option<&Run>| run.map_or("-".to_string(), |r| format!("{:.2} s", r.time.as_secs_f64()));
    let mib = |run: Option<&Run>| run.map_or("-".to_string(), |r| format!("{:.0} MiB", r.peak_rss_mib));
    for (title, report, _) in &reports {
        let polars = measured.get(&format!("polars-{report}"));
        let sqlite = measured.get(&format!("sqlite-{report}"));
        let ratio = match (polars, sqlite) {
            (Some(p), Some(q)) => format!("{:.1}", q.time.as_secs_f64() / p.time.as_secs_f64()),
            _ => "-".to_string(),
        };
        println!(
            "| {title} | {} | {} | {} | {} | {} | {ratio} |",
            polars.or(sqlite).map_or(0, |r| r.rows),
            seconds(polars),
            mib(polars),
            seconds(sqlite),
            mib(sqlite),
        );
    }
    if !extra.is_empty() {
        println!();
        println!("| variant | rows | time | peak RSS |");
        println!("|---|---|---|---|");
        for (what, run) in &extra {
            println!(
                "| {what} | {} | {:.2} s | {:.0} MiB |",
                run.rows,
                run.time.as_secs_f64(),
                run.peak_rss_mib
            );
        }
    }
}

/// The generated history in `dir`, made now unless a finished one with the same parameters
/// is there.
fn history(dir: &Path, attempts: u64, state_changes: u64, seed: u64) -> (Config, synthetic::Totals) {
    let marker = dir.join("complete");
    let config = Config::sized(attempts, state_changes, seed);
    let description = format!("generator {GENERATOR_VERSION}\n{config:?}\n");
    if let Ok(text) = std::fs::read_to_string(&marker)
        && let Some(counts) = text.strip_prefix(&description)
    {
        let mut numbers = counts.split_whitespace().map(|n| n.parse().expect("a count"));
        let totals = synthetic::Totals {
            state_changes: numbers.next().expect("state changes"),
            attempts: numbers.next().expect("attempts"),
        };
        eprintln!("reusing the history in {}", dir.display());
        return (config, totals);
    }
    std::fs::create_dir_all(dir).expect("a directory for the history");
    let _ = std::fs::remove_file(&marker);
    eprintln!("generating the history in {} ...", dir.display());
    let started = Instant::now();
    let totals = synthetic::write(
        &config,
        &Outputs {
            parquet_dir: Some(dir.to_path_buf()),
            sqlite: Some(dir.join(SQLITE_FILE)),
        },
    )
    .expect("generate the history");
    eprintln!("generated and loaded in {:.0} s", started.elapsed().as_secs_f64());
    std::fs::write(
        &marker,
        format!("{description}{} {}\n", totals.state_changes, totals.attempts),
    )
    .expect("write the marker");
    (config, totals)
}

/// One measurement in this child process: prints the report's time and rows, writes the
/// report to `results/WHAT.parquet`.
fn child(what: &str) {
    let dir = PathBuf::from(std::env::var("PACELINE_BENCH_DIR").expect("PACELINE_BENCH_DIR"));
    let to_ms: i64 = env_number("PACELINE_BENCH_TO_MS", 0);
    let to = DateTime::<Utc>::from_timestamp_millis(to_ms).expect("an instant");
    let scan = |file: &str| {
        LazyFrame::scan_parquet(
            PlRefPath::new(dir.join(file).to_str().expect("a UTF-8 path")),
            ScanArgsParquet::default(),
        )
        .expect("scan a Parquet file")
    };
    let started = Instant::now();
    let mut frame = match what {
        "polars-productivity" => {
            productivity::report(scan(STATE_CHANGES_FILE), scan(ATTEMPTS_FILE), to, Period::Day).expect("the report")
        }
        "polars-productivity-sorted" => productivity::report(
            scan(STATE_CHANGES_FILE).sort(["agent", "seq"], SortMultipleOptions::default()),
            scan(ATTEMPTS_FILE),
            to,
            Period::Day,
        )
        .expect("the report"),
        "polars-dialer" => dialer::report(scan(ATTEMPTS_FILE), Interval::QuarterHour).expect("the report"),
        "sqlite-productivity" => {
            synthetic::sql_productivity_per_day(&dir.join(SQLITE_FILE), to).expect("the SQL report")
        }
        "sqlite-dialer" => synthetic::sql_dialer_per_quarter_hour(&dir.join(SQLITE_FILE)).expect("the SQL report"),
        "polars-state-times" => productivity::state_times(scan(STATE_CHANGES_FILE), to, Period::Day).expect("the cut"),
        "loop-state-times" => state_times_by_loop(scan(STATE_CHANGES_FILE), to),
        other => panic!("no measurement {other}"),
    };
    let time = started.elapsed();
    println!("{} {} {}", time.as_nanos(), frame.height(), peak_rss_kib());
    let path = dir.join("results").join(format!("{what}.parquet"));
    ParquetWriter::new(std::fs::File::create(&path).expect("a result file"))
        .finish(&mut frame)
        .expect("write the result");
}

/// The state-time cut as it was first written, a loop over the rows keyed by the texts
/// themselves and splitting every span with the calendar (here over the columns of the frame
/// read from Parquet, so that only the cut differs from `productivity::state_times`): the
/// plain baseline `state_time::cut` is measured against.
fn state_times_by_loop(changes: LazyFrame, to: DateTime<Utc>) -> DataFrame {
    let frame = changes
        .select([col("agent"), col("at"), col("to_state"), col("reason")])
        .collect()
        .expect("read the changes");
    let agent = frame.column("agent").expect("agent").str().expect("text");
    let at = frame
        .column("at")
        .expect("at")
        .datetime()
        .expect("times")
        .physical()
        .clone();
    let state = frame.column("to_state").expect("to_state").str().expect("text");
    let reason = frame.column("reason").expect("reason").str().expect("text");
    let bucket = Bucket::Period(Period::Day);
    let mut sums: std::collections::HashMap<(&str, i64, &str, Option<&str>), i64> = std::collections::HashMap::new();
    let n = frame.height();
    for i in 0..n {
        let this_state = state.get(i).expect("a state");
        if this_state == "logged_out" {
            continue;
        }
        let this_agent = agent.get(i).expect("an agent");
        let start = DateTime::<Utc>::from_timestamp_millis(at.get(i).expect("a time")).expect("an instant");
        let end = match (i + 1 < n).then(|| agent.get(i + 1)).flatten() {
            Some(next) if next == this_agent => {
                DateTime::<Utc>::from_timestamp_millis(at.get(i + 1).expect("a time")).expect("an instant")
            }
            _ => to,
        };
        for (period, from, until) in bucket.split(start, end.min(to)) {
            *sums
                .entry((this_agent, period.timestamp_millis(), this_state, reason.get(i)))
                .or_default() += (until - from).num_milliseconds();
        }
    }
    let rows: Vec<_> = sums.into_iter().collect();
    DataFrame::new(
        rows.len(),
        vec![
            Column::new("agent".into(), rows.iter().map(|((a, ..), _)| *a).collect::<Vec<_>>()),
            Column::new(
                "period".into(),
                rows.iter().map(|((_, p, ..), _)| *p).collect::<Vec<_>>(),
            ),
            Column::new(
                "state".into(),
                rows.iter().map(|((_, _, s, _), _)| *s).collect::<Vec<_>>(),
            ),
            Column::new("reason".into(), rows.iter().map(|((.., r), _)| *r).collect::<Vec<_>>()),
            Column::new(
                "seconds".into(),
                rows.iter().map(|(_, ms)| *ms as f64 / 1000.0).collect::<Vec<_>>(),
            ),
        ],
    )
    .expect("a frame")
}

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value} is not a number")),
        Err(_) => default,
    }
}

fn file_mib(path: &Path) -> f64 {
    std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / 1024.0 / 1024.0)
}

/// Runs a child to its end and reads what it printed: its time, rows and peak resident
/// memory. The child reads its own peak (`VmHWM`): `wait4`'s figure would count this
/// process's peak too, which a child inherits through fork and exec.
fn time_child(command: &mut Command) -> Run {
    let out = command
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    assert!(out.status.success(), "{command:?} failed");
    let printed = String::from_utf8_lossy(&out.stdout);
    let mut words = printed.split_whitespace().map(|w| w.parse::<u64>().expect("a number"));
    let mut next = || words.next().expect("the child's time, rows and peak memory");
    Run {
        time: Duration::from_nanos(next()),
        rows: next() as usize,
        peak_rss_mib: next() as f64 / 1024.0,
    }
}

/// This process's peak resident memory so far, in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}

fn median(runs: &[Run]) -> &Run {
    let mut order: Vec<&Run> = runs.iter().collect();
    order.sort_by_key(|run| run.time);
    order[order.len() / 2]
}
