//! `paceline simulate`: runs a scenario of the call simulator through the real campaign
//! runtime and prints what it measured.

use std::path::PathBuf;

use anyhow::Context;
use paceline_dialer::pacer::StrategyName;
use paceline_dialer::sim::run::{Pace, SimOptions, run};
use paceline_dialer::sim::scenario::Scenario;

use crate::output;

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// The scenario file (TOML; see benches/scenarios/README.md).
    #[arg(long, value_name = "FILE")]
    scenario: PathBuf,
    /// The pacing strategy: progressive, fixed-ratio, vicidial-adaptive or predictive.
    #[arg(long, default_value = "predictive")]
    strategy: StrategyName,
    /// The seed of the simulated world.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Replaces the scenario's agent count (and scales its staffing changes).
    #[arg(long)]
    agents: Option<u32>,
    /// Replaces the scenario's abandon ceiling.
    #[arg(long, value_name = "X")]
    abandon_target: Option<f64>,
    /// Runs in real time, this many simulated seconds per second (default: as fast as it goes).
    #[arg(long, value_name = "SPEED")]
    real_time: Option<f64>,
    /// The simulation's own store (default: a SQLite file in a temporary directory, in /dev/shm when there is one).
    #[arg(long, value_name = "PATH|URL")]
    sim_database: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub async fn run_simulation(args: SimulateArgs) -> anyhow::Result<()> {
    let mut scenario = Scenario::load(&args.scenario)?;
    if let Some(agents) = args.agents {
        anyhow::ensure!(agents >= 1, "--agents must be at least 1");
        scenario = scenario.with_agents(agents);
    }
    if let Some(target) = args.abandon_target {
        anyhow::ensure!(
            target > 0.0 && target <= 0.03,
            "--abandon-target {target} is outside 0 to 0.03 (the legal ceiling)"
        );
        scenario = scenario.with_abandon_target(target);
    }
    let pace = match args.real_time {
        Some(speed) => {
            anyhow::ensure!(speed > 0.0, "--real-time needs a speed above 0");
            Pace::RealTime { speed }
        }
        None => Pace::Virtual,
    };
    let report = run(SimOptions {
        scenario,
        strategy: args.strategy,
        seed: args.seed,
        pace,
        database: args.sim_database,
    })
    .await
    .with_context(|| format!("simulating {}", args.scenario.display()))?;
    if args.json {
        return output::json(&report);
    }
    let value = serde_json::to_value(&report)?;
    let rows = value
        .as_object()
        .expect("a report is an object")
        .iter()
        .map(|(key, value)| {
            let shown = match value {
                serde_json::Value::Number(n) if n.is_f64() => format!("{:.4}", n.as_f64().unwrap_or_default()),
                other => other.to_string().trim_matches('"').to_string(),
            };
            vec![key.clone(), shown]
        });
    output::table(&["figure", "value"], rows);
    Ok(())
}
