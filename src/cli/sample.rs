//! `paceline sample import|list|show|edit|assign`.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;
use paceline_dialer::attempt::store as attempts;
use paceline_dialer::campaign::store as campaigns;
use paceline_dialer::sample::import::{ImportOptions, ImportSummary, import_file};
use paceline_dialer::sample::mapping::ColumnMapping;
use paceline_dialer::sample::record::{self, Assignee, RecordChanges, RecordFilter, RecordStatus};
use paceline_dialer::sample::source::SourceOptions;

use super::App;
use crate::output::{self, or_dash};

#[derive(Debug, Subcommand)]
pub enum SampleCommand {
    /// Imports a CSV, XLSX or Parquet file into a campaign's sample.
    Import {
        /// The file.
        file: PathBuf,
        /// Campaign name or id.
        #[arg(long)]
        campaign: String,
        /// Column mapping file (TOML); without it columns map to fields of the same name.
        #[arg(long, value_name = "FILE")]
        mapping: Option<PathBuf>,
        /// Where to write refused rows (default: FILE.rejects.csv beside the file).
        #[arg(long, value_name = "FILE")]
        rejects: Option<PathBuf>,
        /// XLSX sheet to read (default: the first).
        #[arg(long)]
        sheet: Option<String>,
        /// Who imports (login), for the record.
        #[arg(long, env = "PACELINE_USER")]
        by: Option<String>,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Lists a campaign's records, highest priority first.
    List {
        /// Campaign name or id.
        #[arg(long)]
        campaign: String,
        /// Only this status.
        #[arg(long)]
        status: Option<RecordStatus>,
        /// Only records assigned to this agent.
        #[arg(long)]
        agent: Option<String>,
        /// Only records assigned to this team.
        #[arg(long)]
        team: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Skip this many.
        #[arg(long, default_value_t = 0)]
        offset: i64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Shows one record with its numbers, attempts and edit history.
    Show {
        /// Record id.
        id: i64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Edits a record; every change is kept in its audit trail.
    Edit {
        /// Record id.
        id: i64,
        /// A field value as field=value (repeat; an empty value clears the field).
        #[arg(long = "set", value_name = "FIELD=VALUE")]
        set: Vec<String>,
        /// New priority (supervisors).
        #[arg(long)]
        priority: Option<i64>,
        /// New status (supervisors).
        #[arg(long)]
        status: Option<RecordStatus>,
        /// Who edits (login).
        #[arg(long, env = "PACELINE_USER")]
        by: String,
    },
    /// Assigns records to an agent or a team, or back to everyone.
    Assign {
        /// Campaign name or id.
        #[arg(long)]
        campaign: String,
        /// Record ids, comma-separated.
        #[arg(long, value_delimiter = ',', conflicts_with_all = ["status", "limit"])]
        records: Vec<i64>,
        /// Or: records in this status...
        #[arg(long)]
        status: Option<RecordStatus>,
        /// ...at most this many, in dialing order.
        #[arg(long)]
        limit: Option<i64>,
        /// To this agent.
        #[arg(long, group = "to")]
        agent: Option<String>,
        /// To this team.
        #[arg(long, group = "to")]
        team: Option<String>,
        /// To nobody (the common pool).
        #[arg(long, group = "to")]
        nobody: bool,
        /// Who assigns (login of a supervisor or admin).
        #[arg(long, env = "PACELINE_USER")]
        by: String,
    },
}

pub async fn run(app: &App, command: SampleCommand) -> anyhow::Result<()> {
    match command {
        SampleCommand::Import {
            file,
            campaign,
            mapping,
            rejects,
            sheet,
            by,
            json,
        } => {
            let mapping = match &mapping {
                Some(path) => {
                    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
                    Some(ColumnMapping::from_toml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?)
                }
                None => None,
            };
            let user_id = match &by {
                Some(login) => Some(app.actor(login).await?.id),
                None => None,
            };
            let options = ImportOptions {
                mapping,
                rejects,
                source: SourceOptions {
                    sheet,
                    ..SourceOptions::default()
                },
                user_id,
            };
            let summary = import_file(&app.db, &campaign, &file, &options, app.now()).await?;
            if json {
                return output::json(&summary);
            }
            print_summary(&file, &summary);
        }
        SampleCommand::List {
            campaign,
            status,
            agent,
            team,
            limit,
            offset,
            json,
        } => {
            let filter = RecordFilter {
                status,
                agent,
                team,
                limit: Some(limit),
                offset: Some(offset),
            };
            let records = record::list(&app.db, &campaign, &filter).await?;
            if json {
                return output::json(&records);
            }
            output::table(
                &["id", "status", "priority", "phones", "time zone", "assigned", "fields"],
                records.iter().map(|r| {
                    vec![
                        r.id.to_string(),
                        r.status.to_string(),
                        r.priority.to_string(),
                        r.phones.iter().map(|p| p.e164.as_str()).collect::<Vec<_>>().join(" "),
                        or_dash(r.time_zone.as_ref()),
                        or_dash(r.assigned_agent.as_ref().or(r.assigned_team.as_ref())),
                        short_fields(&r.fields),
                    ]
                }),
            );
        }
        SampleCommand::Show { id, json } => {
            let record = record::get(&app.db, id).await?;
            let edits = record::edits(&app.db, id).await?;
            let tried = attempts::for_record(&app.db, id).await?;
            if json {
                return output::json(&serde_json::json!({ "record": record, "attempts": tried, "edits": edits }));
            }
            let campaign = campaigns::find(&app.db, &record.campaign_id.to_string()).await?;
            println!(
                "record {} of campaign '{}' (row {} of its file)",
                record.id,
                campaign.name,
                or_dash(record.source_row)
            );
            println!(
                "  status     {}  priority {}  attempts {}",
                record.status, record.priority, record.attempts
            );
            println!("  next call  {}", or_dash(record.next_call_at));
            println!(
                "  time zone  {} ({})",
                or_dash(record.time_zone.as_ref()),
                or_dash(record.time_zone_source.as_ref())
            );
            println!(
                "  assigned   {}",
                or_dash(record.assigned_agent.as_ref().or(record.assigned_team.as_ref()))
            );
            output::table(
                &["field", "value"],
                campaign.settings.fields.iter().map(|f| {
                    let value = record.fields.get(&f.name).map(value_text).unwrap_or_default();
                    vec![f.name.clone(), value]
                }),
            );
            output::table(
                &["#", "number", "type", "country", "from field"],
                record.phones.iter().map(|p| {
                    vec![
                        p.position.to_string(),
                        p.e164.clone(),
                        p.number_type.clone(),
                        or_dash(p.region.as_ref()),
                        p.field.clone(),
                    ]
                }),
            );
            if !tried.is_empty() {
                println!("attempts:");
                output::table(
                    &["queued", "number", "outcome", "disposition"],
                    tried.iter().map(|a| {
                        vec![
                            a.queued_at.to_rfc3339(),
                            a.e164.clone(),
                            or_dash(a.outcome.as_ref()),
                            or_dash(a.disposition.as_ref()),
                        ]
                    }),
                );
            }
            if !edits.is_empty() {
                println!("edits:");
                output::table(
                    &["when", "by", "field", "from", "to"],
                    edits.iter().map(|e| {
                        vec![
                            e.at.to_rfc3339(),
                            e.user.clone(),
                            e.field.clone(),
                            or_dash(e.old_value.as_ref()),
                            or_dash(e.new_value.as_ref()),
                        ]
                    }),
                );
            }
        }
        SampleCommand::Edit {
            id,
            set,
            priority,
            status,
            by,
        } => {
            let user = app.actor(&by).await?;
            let fields = set
                .iter()
                .map(|pair| {
                    pair.split_once('=')
                        .map(|(f, v)| (f.trim().to_string(), v.to_string()))
                        .with_context(|| format!("--set '{pair}' is not FIELD=VALUE"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let changes = RecordChanges {
                fields,
                priority,
                status,
            };
            let record = record::edit(&app.db, id, &changes, &user, app.now()).await?;
            println!(
                "record {} saved ({} field(s) changed by {})",
                record.id,
                changes_count(&changes),
                user.login
            );
        }
        SampleCommand::Assign {
            campaign,
            records,
            status,
            limit,
            agent,
            team,
            nobody,
            by,
        } => {
            let user = app.actor(&by).await?;
            let to = match (agent, team, nobody) {
                (Some(agent), _, _) => Assignee::Agent(agent),
                (_, Some(team), _) => Assignee::Team(team),
                (_, _, true) => Assignee::Nobody,
                _ => bail!("say whom to assign to: --agent LOGIN, --team NAME or --nobody"),
            };
            let campaign = campaigns::find(&app.db, &campaign).await?;
            let ids = if records.is_empty() {
                let limit = limit.context("give --records IDS, or --status and --limit")?;
                record::ids_in_status(&app.db, campaign.id, status, limit).await?
            } else {
                records
            };
            let changed = record::assign(&app.db, &ids, &to, &user, app.now()).await?;
            println!("assigned {changed} of {} record(s)", ids.len());
        }
    }
    Ok(())
}

fn changes_count(changes: &RecordChanges) -> usize {
    changes.fields.len() + usize::from(changes.priority.is_some()) + usize::from(changes.status.is_some())
}

fn value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn short_fields(fields: &serde_json::Map<String, serde_json::Value>) -> String {
    let text: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={}", value_text(v))).collect();
    let text = text.join(" ");
    if text.chars().count() > 60 {
        format!("{}...", text.chars().take(57).collect::<String>())
    } else {
        text
    }
}

/// Prints what an import did, for a person.
pub fn print_summary(file: &std::path::Path, s: &ImportSummary) {
    println!(
        "imported {}: {} row(s) read in {:.1} s",
        file.display(),
        s.rows_read,
        s.seconds
    );
    if let Some(note) = &s.encoding_note {
        println!("  note: the file was {note}");
    }
    if let Some(at) = s.previously_imported_at {
        println!(
            "  note: this same file was imported into the campaign on {}",
            at.to_rfc3339()
        );
    }
    println!("  {:>9} added", s.inserted);
    println!("  {:>9} duplicate(s) within the file", s.duplicates_in_file);
    println!(
        "  {:>9} duplicate(s) of records already in the campaign",
        s.duplicates_in_campaign
    );
    println!("  {:>9} on a do-not-call list", s.do_not_call);
    println!("  {:>9} invalid", s.invalid);
    println!("  {:>9} number(s) left out of imported rows", s.numbers_dropped);
    match &s.rejects {
        Some(path) => println!("  details of everything refused: {}", path.display()),
        None => println!("  nothing refused"),
    }
}
