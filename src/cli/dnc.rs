//! `paceline dnc import|add|remove|list|check`.

use std::path::PathBuf;

use clap::Subcommand;
use paceline_dialer::campaign::store as campaigns;
use paceline_dialer::dnc::{self, Scope};

use super::App;
use crate::output;

#[derive(Debug, Subcommand)]
pub enum DncCommand {
    /// Imports numbers from a file (one per row; a column named phone/number, or the first).
    Import {
        /// The file (CSV, XLSX or Parquet).
        file: PathBuf,
        #[command(flatten)]
        list: ListArgs,
        /// Who imports (login), for the record.
        #[arg(long, env = "PACELINE_USER")]
        by: Option<String>,
    },
    /// Adds one number.
    Add {
        /// The number.
        number: String,
        #[command(flatten)]
        list: ListArgs,
    },
    /// Removes one number.
    Remove {
        /// The number.
        number: String,
        #[command(flatten)]
        list: ListArgs,
    },
    /// Lists a list's newest entries.
    List {
        #[command(flatten)]
        list: ListArgs,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Says whether a number may be dialed, and which list forbids it.
    Check {
        /// The number.
        number: String,
        #[command(flatten)]
        list: ListArgs,
    },
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// The campaign's own list (default: the global list).
    #[arg(long)]
    campaign: Option<String>,
    /// Country for numbers written without a country code (default: the campaign's, else US).
    #[arg(long)]
    country: Option<String>,
}

async fn resolve(app: &App, list: &ListArgs) -> anyhow::Result<(Scope, String)> {
    match &list.campaign {
        Some(reference) => {
            let campaign = campaigns::find(&app.db, reference).await?;
            let country = list
                .country
                .clone()
                .unwrap_or(campaign.settings.default_country.clone());
            Ok((Scope::Campaign(campaign.id), country))
        }
        None => Ok((Scope::Global, list.country.clone().unwrap_or_else(|| "US".into()))),
    }
}

fn scope_name(scope: Scope) -> String {
    match scope {
        Scope::Global => "the global list".into(),
        Scope::Campaign(id) => format!("the list of campaign {id}"),
    }
}

pub async fn run(app: &App, command: DncCommand) -> anyhow::Result<()> {
    match command {
        DncCommand::Import { file, list, by } => {
            let (scope, country) = resolve(app, &list).await?;
            let user_id = match &by {
                Some(login) => Some(app.actor(login).await?.id),
                None => None,
            };
            let summary = dnc::import(&app.db, &file, scope, &country, user_id, app.now()).await?;
            println!(
                "{}: {} number(s) read, {} added to {}, {} already listed, {} refused",
                file.display(),
                summary.read,
                summary.added,
                scope_name(scope),
                summary.already_listed,
                summary.invalid.len()
            );
            for (row, value, reason) in summary.invalid.iter().take(20) {
                println!("  row {row}: '{value}': {reason}");
            }
            if summary.invalid.len() > 20 {
                println!("  ... and {} more", summary.invalid.len() - 20);
            }
        }
        DncCommand::Add { number, list } => {
            let (scope, country) = resolve(app, &list).await?;
            let added = dnc::add(&app.db, &number, scope, &country, "manual", None, app.now()).await?;
            println!(
                "{} {}",
                if added { "added to" } else { "already on" },
                scope_name(scope)
            );
        }
        DncCommand::Remove { number, list } => {
            let (scope, country) = resolve(app, &list).await?;
            let e164 = normalize(&number, &country)?;
            let removed = dnc::remove(&app.db, &e164, scope).await?;
            println!(
                "{e164} {} {}",
                if removed { "removed from" } else { "was not on" },
                scope_name(scope)
            );
        }
        DncCommand::List { list, limit } => {
            let (scope, _) = resolve(app, &list).await?;
            let entries = dnc::list(&app.db, scope, limit).await?;
            output::table(
                &["number", "source", "added"],
                entries
                    .iter()
                    .map(|e| vec![e.e164.clone(), e.source.clone(), e.added_at.to_rfc3339()]),
            );
        }
        DncCommand::Check { number, list } => {
            let (scope, country) = resolve(app, &list).await?;
            let e164 = normalize(&number, &country)?;
            let campaign = match scope {
                Scope::Campaign(id) => Some(id),
                Scope::Global => None,
            };
            let hits = dnc::check(&app.db, &e164, campaign).await?;
            if hits.is_empty() {
                println!("{e164} may be dialed");
            } else {
                for hit in hits {
                    println!(
                        "{e164} is on {} ({}, since {})",
                        scope_name(hit.scope),
                        hit.source,
                        hit.added_at.to_rfc3339()
                    );
                }
            }
        }
    }
    Ok(())
}

fn normalize(number: &str, country: &str) -> anyhow::Result<String> {
    let normalizer = paceline_dialer::sample::phone::PhoneNormalizer::new(country)?;
    Ok(normalizer
        .normalize(number)
        .map_err(|e| anyhow::anyhow!("'{number}': {e}"))?
        .e164)
}
