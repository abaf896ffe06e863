//! `paceline aapor`: AAPOR outcome rates from disposition counts, the calculator analysts use
//! to check a field report.

use std::path::PathBuf;

use anyhow::Context;
use paceline_cati::aapor::{Counts, Eligibility, Rates};
use serde::Serialize;

use crate::output;

#[derive(Debug, clap::Args)]
pub struct AaporArgs {
    /// A JSON object of case counts per AAPOR group: keys I, P, R, NC, O, UH, UO, NE (missing
    /// keys count 0).
    #[arg(long, value_name = "COUNTS.json")]
    counts: PathBuf,
    /// The share of unknown-eligibility cases taken as eligible (default: the proportional
    /// allocation, (I+P+R+NC+O) / (I+P+R+NC+O+NE)).
    #[arg(long = "e", value_name = "VALUE")]
    e: Option<f64>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Report {
    counts: Counts,
    e_source: &'static str,
    rates: Rates,
}

/// Reads the counts, computes the rates and prints them.
pub fn run(args: AaporArgs) -> anyhow::Result<()> {
    let path = args.counts.display();
    let text = std::fs::read_to_string(&args.counts).with_context(|| format!("reading the counts file {path}"))?;
    let counts: Counts = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!("{path}: line {} column {}: {e:#}", e.line(), e.column())
            .context("the counts file must be a JSON object of case counts with the keys I, P, R, NC, O, UH, UO, NE")
    })?;
    let (eligibility, e_source) = match args.e {
        Some(e) => (Eligibility::Fixed(e), "set"),
        None => (Eligibility::Proportional, "proportional"),
    };
    let rates = Rates::compute(&counts, eligibility).with_context(|| format!("{path}"))?;
    if args.json {
        return output::json(&Report {
            counts,
            e_source,
            rates,
        });
    }
    output::table(
        &["rate", "value"],
        rates.named().iter().map(|(name, value)| {
            vec![
                name.to_string(),
                value.map_or_else(|| "-".into(), |v| format!("{v:.3}")),
            ]
        }),
    );
    Ok(())
}
