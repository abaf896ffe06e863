//! `paceline aapor`: AAPOR outcome rates from disposition counts (the calculator analysts use
//! to check a field report) or from a campaign's sample in the store.

use std::path::PathBuf;

use anyhow::Context;
use paceline_cati::aapor::{Counts, Eligibility, Rates};
use serde::Serialize;

use crate::output;

#[derive(Debug, clap::Args)]
pub struct AaporArgs {
    /// A JSON object of case counts per AAPOR group: keys I, P, R, NC, O, UH, UO, NE (missing
    /// keys count 0).
    #[arg(
        long,
        value_name = "COUNTS.json",
        required_unless_present = "campaign",
        conflicts_with = "campaign"
    )]
    counts: Option<PathBuf>,
    /// Count a campaign's sample instead (name or id): each record once, by its final AAPOR
    /// code; a record never dialed counts as 3.11 (not attempted).
    #[arg(long, value_name = "CAMPAIGN")]
    campaign: Option<String>,
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
    source: String,
    counts: Counts,
    e_source: &'static str,
    rates: Rates,
}

/// Whether the rates are a campaign's, read from the store.
pub fn needs_store(args: &AaporArgs) -> bool {
    args.campaign.is_some()
}

/// Reads the counts (from the file, or from the campaign's records in `db`), computes the
/// rates and prints them.
pub async fn run(args: AaporArgs, db: Option<&paceline_dialer::Db>) -> anyhow::Result<()> {
    let (counts, source) = match (&args.counts, &args.campaign, db) {
        (Some(file), _, _) => {
            let path = file.display();
            let text = std::fs::read_to_string(file).with_context(|| format!("reading the counts file {path}"))?;
            let counts: Counts = serde_json::from_str(&text).map_err(|e| {
                anyhow::anyhow!("{path}: line {} column {}: {e:#}", e.line(), e.column()).context(
                    "the counts file must be a JSON object of case counts with the keys I, P, R, NC, O, UH, UO, NE",
                )
            })?;
            (counts, path.to_string())
        }
        (None, Some(reference), Some(db)) => {
            let campaign = paceline_dialer::campaign::store::find(db, reference).await?;
            let counts = paceline_cati::store::campaign_counts(db, campaign.id)
                .await
                .with_context(|| format!("counting the records of campaign {}", campaign.name))?;
            (counts, format!("campaign {}", campaign.name))
        }
        _ => anyhow::bail!("give --counts FILE or --campaign NAME"),
    };
    let (eligibility, e_source) = match args.e {
        Some(e) => (Eligibility::Fixed(e), "set"),
        None => (Eligibility::Proportional, "proportional"),
    };
    let rates = Rates::compute(&counts, eligibility).with_context(|| source.clone())?;
    if args.json {
        return output::json(&Report {
            source,
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
