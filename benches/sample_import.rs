//! Sample-import benchmark (issue 2): a generated 1,000,000-row CSV (10 columns, 2 phone
//! columns, 2% invalid numbers, 1% duplicates) imported into a fresh SQLite file by the
//! `paceline` binary, end to end, against the `sqlite3` shell's `.import` of the same file
//! into a bare table, run in the same process on the same machine.
//!
//! `cargo bench --bench sample_import`; `PACELINE_BENCH_ROWS` and `PACELINE_BENCH_RUNS` change
//! the size (default 1,000,000) and the number of runs (default 3).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use paceline_dialer::campaign::store as campaigns;
use paceline_dialer::campaign::{CampaignConfig, CampaignKind, CampaignSettings};
use paceline_dialer::sample::synthetic::{self, SyntheticSample};
use paceline_dialer::store::Db;

const CAMPAIGN: &str = "bench";

/// What one child process took.
struct Run {
    wall: Duration,
    cpu: Duration,
    peak_rss_mib: f64,
}

fn main() {
    let rows: u64 = env_number("PACELINE_BENCH_ROWS", 1_000_000);
    let runs: usize = env_number("PACELINE_BENCH_RUNS", 3);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let csv = dir.path().join("sample.csv");
    let file = std::fs::File::create(&csv).expect("create the sample file");
    SyntheticSample {
        rows,
        ..SyntheticSample::default()
    }
    .write_csv(std::io::BufWriter::new(file))
    .expect("write the sample file");
    let size_mib = std::fs::metadata(&csv).expect("sample file").len() as f64 / (1 << 20) as f64;
    println!(
        "sample import: {rows} rows, {size_mib:.1} MiB CSV, {runs} runs, cores available: {}",
        cores()
    );

    let mut imports = Vec::new();
    let mut baselines = Vec::new();
    for run in 1..=runs {
        let db = dir.path().join(format!("paceline-{run}.db"));
        create_campaign(&db);
        let import = time_child(Command::new(env!("CARGO_BIN_EXE_paceline")).args([
            "--database".as_ref(),
            db.as_os_str(),
            "sample".as_ref(),
            "import".as_ref(),
            csv.as_os_str(),
            "--campaign".as_ref(),
            CAMPAIGN.as_ref(),
        ]));
        let stored = stored_records(&db);
        let expected_min = rows * 95 / 100;
        assert!(
            stored >= expected_min,
            "only {stored} of {rows} rows were stored; the import did not do its work"
        );

        let bare = dir.path().join(format!("bare-{run}.db"));
        let script = format!(".mode csv\n.import '{}' bare\n", csv.display());
        let baseline = time_child_with_input(Command::new("sqlite3").arg(&bare), &script);
        let bare_rows: u64 = sqlite_scalar(&bare, "SELECT count(*) FROM bare");
        assert_eq!(bare_rows, rows, "sqlite3 .import loaded {bare_rows} of {rows} rows");

        println!(
            "run {run}: paceline {:.2} s ({:.0} rows/s, {stored} stored, cpu {:.0}%, peak {:.0} MiB); \
             sqlite3 .import {:.2} s; ratio {:.2}",
            import.wall.as_secs_f64(),
            rows as f64 / import.wall.as_secs_f64(),
            100.0 * import.cpu.as_secs_f64() / import.wall.as_secs_f64(),
            import.peak_rss_mib,
            baseline.wall.as_secs_f64(),
            import.wall.as_secs_f64() / baseline.wall.as_secs_f64(),
        );
        let _ = std::fs::remove_file(&db);
        let _ = std::fs::remove_file(&bare);
        imports.push(import);
        baselines.push(baseline);
    }
    let import = median(&imports);
    let baseline = median(&baselines);
    println!(
        "median: paceline {:.2} s = {:.0} rows/s, peak {:.0} MiB (max over runs {:.0} MiB), cpu {:.0}%; \
         sqlite3 .import {:.2} s; paceline / .import = {:.2}",
        import.wall.as_secs_f64(),
        rows as f64 / import.wall.as_secs_f64(),
        import.peak_rss_mib,
        imports.iter().map(|r| r.peak_rss_mib).fold(0.0, f64::max),
        100.0 * import.cpu.as_secs_f64() / import.wall.as_secs_f64(),
        baseline.wall.as_secs_f64(),
        import.wall.as_secs_f64() / baseline.wall.as_secs_f64(),
    );
}

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value} is not a number")),
        Err(_) => default,
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A fresh store holding the campaign the generated files fit, published.
fn create_campaign(db: &Path) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let db = Db::open(db.to_str().expect("a UTF-8 path"))
            .await
            .expect("open the store");
        let config = CampaignConfig {
            kind: Some(CampaignKind::Survey),
            agents: vec![],
            teams: vec![],
            dispositions: None,
            settings: CampaignSettings {
                fields: synthetic::fields(),
                ..CampaignSettings::default()
            },
        };
        campaigns::create(&db, CAMPAIGN, CampaignKind::Survey, &config, Utc::now())
            .await
            .expect("create the campaign");
        db.close().await;
    });
}

fn stored_records(db: &Path) -> u64 {
    sqlite_scalar(db, "SELECT count(*) FROM records")
}

fn sqlite_scalar(db: &Path, sql: &str) -> u64 {
    let out = Command::new("sqlite3").arg(db).arg(sql).output().expect("run sqlite3");
    assert!(
        out.status.success(),
        "sqlite3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().parse().expect("a count")
}

fn time_child(command: &mut Command) -> Run {
    time_child_with_input(command, "")
}

/// Runs a child to its end, feeding it `input`, and reads its wall time, CPU time and peak
/// resident memory (from `wait4`, which sees the child alone).
#[expect(
    clippy::zombie_processes,
    reason = "the child is reaped by wait4 below, which std's Child::wait cannot replace: it drops the rusage"
)]
fn time_child_with_input(command: &mut Command, input: &str) -> Run {
    use std::io::Write;
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(input.as_bytes())
        .expect("feed the child");
    let mut stderr = child.stderr.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    let mut status = 0;
    // SAFETY: rusage is plain data that wait4 fills in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, once; `status` and `usage` outlive the call.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    let errors = reader.join().unwrap_or_default();
    assert_eq!(pid, child.id() as libc::pid_t, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{command:?} failed: {errors}"
    );
    let seconds = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    Run {
        wall,
        cpu: seconds(usage.ru_utime) + seconds(usage.ru_stime),
        peak_rss_mib: usage.ru_maxrss as f64 / 1024.0,
    }
}

fn median(runs: &[Run]) -> &Run {
    let mut order: Vec<&Run> = runs.iter().collect();
    order.sort_by_key(|run| run.wall);
    order[order.len() / 2]
}
