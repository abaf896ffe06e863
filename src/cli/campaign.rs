//! `paceline campaign create|update|copy|show|list|publish|start|pause|resume|close`.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use paceline_dialer::campaign::store as campaigns;
use paceline_dialer::campaign::{CampaignConfig, CampaignKind, LifecycleStep};

use super::App;
use crate::output::{self, or_dash};

#[derive(Debug, Subcommand)]
pub enum CampaignCommand {
    /// Creates a draft campaign, with settings from a TOML file (see docs/campaign-settings.md).
    Create {
        /// Unique name.
        name: String,
        /// survey, collections, reminder or generic (default: the file's `kind`, else survey).
        #[arg(long)]
        kind: Option<CampaignKind>,
        /// Settings file (TOML).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Replaces a campaign's settings with those of a TOML file.
    Update {
        /// Campaign name or id.
        campaign: String,
        /// Settings file (TOML).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Copies a campaign's settings, questionnaire link, assignments and dispositions into a
    /// new draft (not its sample or results).
    Copy {
        /// Campaign to copy (name or id).
        from: String,
        /// Name of the copy.
        name: String,
    },
    /// Shows a campaign: settings, assignments, dispositions and record counts.
    Show {
        /// Campaign name or id.
        campaign: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Lists campaigns.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// draft -> published (checks the settings in full).
    Publish(StepArgs),
    /// published -> running.
    Start(StepArgs),
    /// running -> paused.
    Pause(StepArgs),
    /// paused -> running.
    Resume(StepArgs),
    /// published, running or paused -> closed.
    Close(StepArgs),
}

#[derive(Debug, clap::Args)]
pub struct StepArgs {
    /// Campaign name or id.
    campaign: String,
    /// Who takes the step (login), for the record.
    #[arg(long, env = "PACELINE_USER")]
    by: Option<String>,
}

fn read_config(path: &PathBuf) -> anyhow::Result<CampaignConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    CampaignConfig::from_toml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

pub async fn run(app: &App, command: CampaignCommand) -> anyhow::Result<()> {
    let step = |args: StepArgs, step: LifecycleStep| (args, step);
    let (args, lifecycle) = match command {
        CampaignCommand::Create { name, kind, config } => {
            let config = match &config {
                Some(path) => read_config(path)?,
                None => CampaignConfig::default(),
            };
            let kind = kind.or(config.kind).unwrap_or(CampaignKind::Survey);
            let campaign = campaigns::create(&app.db, &name, kind, &config, app.now()).await?;
            println!(
                "created {} campaign '{}' (id {}) as a draft",
                campaign.kind, campaign.name, campaign.id
            );
            return Ok(());
        }
        CampaignCommand::Update { campaign, config } => {
            let config = read_config(&config)?;
            let campaign = campaigns::update(&app.db, &campaign, &config, app.now()).await?;
            println!("updated the settings of campaign '{}'", campaign.name);
            return Ok(());
        }
        CampaignCommand::Copy { from, name } => {
            let copy = campaigns::copy(&app.db, &from, &name, app.now()).await?;
            println!("copied '{from}' into draft campaign '{}' (id {})", copy.name, copy.id);
            return Ok(());
        }
        CampaignCommand::Show { campaign, json } => return show(app, &campaign, json).await,
        CampaignCommand::List { json } => {
            let all = campaigns::list(&app.db).await?;
            if json {
                return output::json(&all);
            }
            output::table(
                &["id", "name", "kind", "status", "records"],
                all.iter().map(|c| {
                    vec![
                        c.id.to_string(),
                        c.name.clone(),
                        c.kind.to_string(),
                        c.status.to_string(),
                        c.records.to_string(),
                    ]
                }),
            );
            return Ok(());
        }
        CampaignCommand::Publish(args) => step(args, LifecycleStep::Publish),
        CampaignCommand::Start(args) => step(args, LifecycleStep::Start),
        CampaignCommand::Pause(args) => step(args, LifecycleStep::Pause),
        CampaignCommand::Resume(args) => step(args, LifecycleStep::Resume),
        CampaignCommand::Close(args) => step(args, LifecycleStep::Close),
    };
    let by = match &args.by {
        Some(login) => Some(app.actor(login).await?.id),
        None => None,
    };
    let campaign = campaigns::step(&app.db, &args.campaign, lifecycle, by, app.now()).await?;
    println!("campaign '{}' is now {}", campaign.name, campaign.status);
    Ok(())
}

async fn show(app: &App, reference: &str, json: bool) -> anyhow::Result<()> {
    let campaign = campaigns::find(&app.db, reference).await?;
    let dispositions = campaigns::dispositions(&app.db, campaign.id).await?;
    let counts = campaigns::status_counts(&app.db, campaign.id).await?;
    if json {
        return output::json(&serde_json::json!({
            "campaign": campaign,
            "dispositions": dispositions,
            "records": counts.iter().map(|(s, n)| (s.clone(), *n)).collect::<std::collections::BTreeMap<_, _>>(),
        }));
    }
    let s = &campaign.settings;
    println!(
        "campaign {} '{}': {} {}",
        campaign.id, campaign.name, campaign.status, campaign.kind
    );
    let modes: Vec<&str> = s.dial_modes().iter().map(|m| m.as_str()).collect();
    println!(
        "  dial mode      {} (agents may use {})",
        s.dial_mode.as_str(),
        modes.join(", ")
    );
    println!(
        "  abandon limit  {:.1}% over {} h; ring timeout {} s",
        s.abandon.ceiling * 100.0,
        s.abandon.window_hours,
        s.ring_timeout_s
    );
    println!(
        "  caller ID      {}; recording {}",
        or_dash(s.caller_id.as_ref()),
        if s.recording { "on" } else { "off" }
    );
    println!(
        "  numbers        default country {}, default time zone {}",
        s.default_country,
        or_dash(s.default_time_zone.map(|t| t.name()))
    );
    let hours = &s.calling_hours;
    let days: Vec<&str> = hours.days.iter().map(|d| d.as_str()).collect();
    let ranges: Vec<String> = hours.ranges.iter().map(ToString::to_string).collect();
    println!(
        "  calling hours  {} {} (local time of the called person)",
        days.join(","),
        ranges.join(", ")
    );
    for (day, ranges) in &hours.by_day {
        let ranges: Vec<String> = ranges.iter().map(ToString::to_string).collect();
        println!("                 {}: {}", day.as_str(), ranges.join(", "));
    }
    if !hours.holidays.is_empty() {
        let days: Vec<String> = hours.holidays.iter().map(ToString::to_string).collect();
        println!("  holidays       {}", days.join(", "));
    }
    println!("  max attempts   {}; order {}", s.max_attempts, s.call_order.as_str());
    println!(
        "  agents         {}",
        if campaign.agents.is_empty() {
            "-".into()
        } else {
            campaign.agents.join(", ")
        }
    );
    println!(
        "  teams          {}",
        if campaign.teams.is_empty() {
            "-".into()
        } else {
            campaign.teams.join(", ")
        }
    );
    println!("  questionnaire  {}", or_dash(s.questionnaire.as_ref()));
    println!("retry rules:");
    output::table(
        &["outcome", "after (min)", "max attempts", "next number"],
        s.retry.iter().map(|r| {
            vec![
                r.outcome.as_str().to_string(),
                or_dash(r.after_minutes),
                r.max_attempts.to_string(),
                if r.next_number { "yes" } else { "no" }.to_string(),
            ]
        }),
    );
    println!("fields:");
    output::table(
        &["field", "type", "required", "key", "values"],
        s.fields.iter().map(|f| {
            vec![
                f.name.clone(),
                f.kind.as_str().to_string(),
                if f.required { "yes" } else { "" }.to_string(),
                if f.key { "yes" } else { "" }.to_string(),
                f.values.join(", "),
            ]
        }),
    );
    println!("dispositions:");
    output::table(
        &["code", "label", "AAPOR", "next", "retry (min)"],
        dispositions.iter().map(|d| {
            vec![
                d.code.clone(),
                d.label.clone(),
                d.aapor.clone(),
                d.next.as_str().to_string(),
                or_dash(d.retry_after_minutes),
            ]
        }),
    );
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    println!("records: {total}");
    for (status, n) in &counts {
        println!("  {status:<13} {n}");
    }
    Ok(())
}
