//! The pacing benchmark (issue 3): scenarios x strategies x seeds, each run through the real
//! campaign runtime (engine, hopper, journal on a SQLite file, agent pool) on the call
//! simulator, in virtual time. Prints a table per run group and writes every run as JSON.
//!
//! `cargo bench --bench pacing`. Environment:
//! - `PACELINE_BENCH_SEEDS` seeds per group (default 20);
//! - `PACELINE_BENCH_ONLY` a comma-separated list of scenario names to run (default all);
//! - `PACELINE_BENCH_STRATEGIES` the strategies (default all four);
//! - `PACELINE_BENCH_JOBS` runs at once (default: the number of cores);
//! - `PACELINE_BENCH_JSON` where to write every run (default target/pacing-runs.json).
//!
//! Groups: `ref-p30` and `ref-p15` at 5, 10, 20, 50 and 100 agents, `ref-p30` also with an
//! abandon ceiling of 1%, and every other scenario in `benches/scenarios/` as shipped.

use std::path::Path;
use std::sync::{Arc, Mutex};

use paceline_dialer::pacer::StrategyName;
use paceline_dialer::sim::run::{Pace, SimOptions, SimReport, run};
use paceline_dialer::sim::scenario::Scenario;

/// One group: a scenario (with overrides) run with every strategy over every seed.
#[derive(Clone)]
struct Group {
    label: String,
    scenario: Scenario,
}

fn main() {
    let seeds: u64 = env_or("PACELINE_BENCH_SEEDS", 20);
    let jobs: usize = env_or(
        "PACELINE_BENCH_JOBS",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
    );
    let only: Option<Vec<String>> = std::env::var("PACELINE_BENCH_ONLY")
        .ok()
        .map(|v| v.split(',').map(|s| s.trim().to_string()).collect());
    let strategies: Vec<StrategyName> = match std::env::var("PACELINE_BENCH_STRATEGIES") {
        Ok(list) => list
            .split(',')
            .map(|s| s.parse().unwrap_or_else(|e| panic!("{e}")))
            .collect(),
        Err(_) => StrategyName::ALL.to_vec(),
    };
    let json_path = std::env::var("PACELINE_BENCH_JSON").unwrap_or_else(|_| "target/pacing-runs.json".into());
    let groups = groups(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/benches/scenarios")),
        only.as_deref(),
    );

    let mut work = Vec::new();
    for group in &groups {
        for strategy in &strategies {
            for seed in 1..=seeds {
                work.push((group.clone(), *strategy, seed));
            }
        }
    }
    println!(
        "pacing benchmark: {} groups x {} strategies x {seeds} seeds = {} runs, {jobs} at a time",
        groups.len(),
        strategies.len(),
        work.len()
    );
    let total = work.len();
    let queue = Arc::new(Mutex::new(work.into_iter()));
    let results: Arc<Mutex<Vec<(String, SimReport)>>> = Arc::new(Mutex::new(Vec::new()));
    let threads: Vec<_> = (0..jobs)
        .map(|_| {
            let (queue, results) = (queue.clone(), results.clone());
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime");
                loop {
                    let Some((group, strategy, seed)) = queue.lock().expect("queue").next() else {
                        break;
                    };
                    let options = SimOptions {
                        scenario: group.scenario.clone(),
                        strategy,
                        seed,
                        pace: Pace::Virtual,
                        database: None,
                    };
                    let report = runtime
                        .block_on(run(options))
                        .unwrap_or_else(|e| panic!("{} {strategy} seed {seed}: {e}", group.label));
                    let mut results = results.lock().expect("results");
                    // Progress on stderr: a sweep runs for most of an hour.
                    eprintln!(
                        "[{}/{total}] {} {strategy} seed {seed}: occupancy {:.1}%, worst window {:.2}%, {:.1} s",
                        results.len() + 1,
                        group.label,
                        100.0 * report.figures.occupancy,
                        100.0 * report.figures.worst_window_abandon_rate,
                        report.wall_s
                    );
                    results.push((group.label.clone(), report));
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("a benchmark thread panicked");
    }
    let mut results = Arc::try_unwrap(results)
        .unwrap_or_else(|_| panic!("benchmark threads still hold the results"))
        .into_inner()
        .expect("results");
    results.sort_by(|a, b| (&a.0, &a.1.strategy, a.1.seed).cmp(&(&b.0, &b.1.strategy, b.1.seed)));

    println!(
        "\n| group | strategy | occupancy mean (min) | worst-window abandon max | abandon rate mean | wait mean / p95 s | contacts/agent-h | decision p99 us | wall s/run |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for group in &groups {
        for strategy in &strategies {
            let runs: Vec<&SimReport> = results
                .iter()
                .filter(|(label, r)| label == &group.label && r.strategy == strategy.as_str())
                .map(|(_, r)| r)
                .collect();
            if runs.is_empty() {
                continue;
            }
            let mean = |f: &dyn Fn(&SimReport) -> f64| runs.iter().map(|r| f(r)).sum::<f64>() / runs.len() as f64;
            let max = |f: &dyn Fn(&SimReport) -> f64| runs.iter().map(|r| f(r)).fold(f64::MIN, f64::max);
            let min = |f: &dyn Fn(&SimReport) -> f64| runs.iter().map(|r| f(r)).fold(f64::MAX, f64::min);
            println!(
                "| {} | {} | {:.1}% ({:.1}%) | {:.2}% | {:.2}% | {:.1} / {:.1} | {:.1} | {:.1} | {:.1} |",
                group.label,
                strategy,
                100.0 * mean(&|r| r.figures.occupancy),
                100.0 * min(&|r| r.figures.occupancy),
                100.0 * max(&|r| r.figures.worst_window_abandon_rate),
                100.0 * mean(&|r| r.figures.abandon_rate),
                mean(&|r| r.figures.agent_wait_mean_s),
                mean(&|r| r.figures.agent_wait_p95_s),
                mean(&|r| r.figures.contacts_per_agent_hour),
                max(&|r| r.decision_p99_us),
                mean(&|r| r.wall_s),
            );
        }
    }
    let json: Vec<serde_json::Value> = results
        .iter()
        .map(|(label, r)| {
            let mut value = serde_json::to_value(r).expect("a report serialises");
            value["group"] = serde_json::Value::String(label.clone());
            value
        })
        .collect();
    if let Some(parent) = Path::new(&json_path).parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    std::fs::write(&json_path, serde_json::to_string_pretty(&json).expect("JSON")).expect("write the JSON");
    println!("\nevery run: {json_path}");
}

fn groups(dir: &Path, only: Option<&[String]>) -> Vec<Group> {
    let wanted = |name: &str| only.is_none_or(|names| names.iter().any(|n| n == name));
    let load = |file: &str| Scenario::load(dir.join(file)).unwrap_or_else(|e| panic!("{e}"));
    let mut groups = Vec::new();
    for (file, targets) in [("ref-p30.toml", &[0.03, 0.01][..]), ("ref-p15.toml", &[0.03][..])] {
        let base = load(file);
        if !wanted(&base.name) {
            continue;
        }
        for target in targets {
            for agents in [5, 10, 20, 50, 100] {
                groups.push(Group {
                    label: format!("{} {agents} agents {:.0}%", base.name, target * 100.0),
                    scenario: base.clone().with_agents(agents).with_abandon_target(*target),
                });
            }
        }
    }
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("the scenarios folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    for path in files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if name.starts_with("ref-") {
            continue;
        }
        let scenario = Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
        if wanted(&scenario.name) {
            groups.push(Group {
                label: format!("{} ({} agents)", scenario.name, scenario.agents.count),
                scenario,
            });
        }
    }
    groups
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value} is not a number")),
        Err(_) => default,
    }
}
