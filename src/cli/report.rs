//! `paceline report NAME`: a report over the stored facts (see `paceline-analytics`), as a
//! table, CSV, JSON, Parquet or XLSX, to the terminal or a file.

use std::path::PathBuf;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use paceline_analytics::export::{self, Format};
use paceline_analytics::facts::Filter;
use paceline_analytics::period::{Interval, Period};
use paceline_analytics::record_filter::FieldCondition;
use paceline_analytics::{Grouping, REPORTS};

use super::App;

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The report: agent-productivity, dialer, calls (the call log), dispositions, callbacks,
    /// return-visits, and for one survey campaign quotas, aapor, interview-length or drop-off.
    name: String,
    /// From this day (YYYY-MM-DD, UTC) or time (RFC 3339); default: 7 days before --to.
    #[arg(long)]
    from: Option<String>,
    /// Up to this day (inclusive) or time (exclusive); default: now.
    #[arg(long)]
    to: Option<String>,
    /// Only this campaign.
    #[arg(long)]
    campaign: Option<String>,
    /// Only the agents of this team.
    #[arg(long)]
    team: Option<String>,
    /// Only this agent (login).
    #[arg(long)]
    agent: Option<String>,
    /// Only records whose field passes this condition (repeat to combine): FIELD=VALUE,
    /// FIELD!=VALUE, FIELD~TEXT (contains, ignoring case), FIELD<VALUE, <=, >, >=.
    #[arg(long = "where", value_name = "CONDITION")]
    records: Vec<FieldCondition>,
    /// agent-productivity, callbacks, return-visits: per day, week, month or year.
    #[arg(long, default_value = "day")]
    period: Period,
    /// dialer: per 15m, hour or day.
    #[arg(long, default_value = "hour")]
    interval: Interval,
    /// The time zone whose days and hours the report follows and shows (an IANA name such as
    /// Europe/London); --from and --to days are its days too.
    #[arg(long, default_value = "UTC", value_parser = zone)]
    time_zone: chrono_tz::Tz,
    /// table, csv, json, parquet or xlsx.
    #[arg(long, default_value = "table")]
    format: Format,
    /// Write to this file (whole or not at all) instead of the terminal.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also draw the report's chart to this file: .svg or .png.
    #[arg(long, value_name = "FILE.svg|FILE.png")]
    chart: Option<PathBuf>,
}

/// A day (its midnight, or the next midnight when it ends a range) or an RFC 3339 time.
pub(super) fn when(option: &str, text: &str, end: bool) -> anyhow::Result<DateTime<Utc>> {
    when_in(option, text, end, chrono_tz::UTC)
}

/// [`when`] with days of `zone` (their local midnight).
fn when_in(option: &str, text: &str, end: bool, zone: chrono_tz::Tz) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .with_context(|| format!("{option} '{text}': give a day (2026-11-30) or a time (2026-11-30T09:00:00Z)"))?;
    let day = if end { day.succ_opt().unwrap_or(day) } else { day };
    Ok(paceline_analytics::period::midnight_in(zone, day))
}

/// An IANA time zone name.
fn zone(text: &str) -> Result<chrono_tz::Tz, String> {
    text.parse::<chrono_tz::Tz>().map_err(|_| {
        format!("'{text}' is not a time zone: give an IANA name such as UTC, Europe/London or America/New_York")
    })
}

pub async fn run(app: &App, args: ReportArgs) -> anyhow::Result<()> {
    if !REPORTS.contains(&args.name.as_str()) {
        anyhow::bail!("there is no report '{}'; reports are {}", args.name, REPORTS.join(", "));
    }
    // Nothing has happened after now: an agent's last state runs to now at the latest.
    let to = match &args.to {
        Some(text) => when_in("--to", text, true, args.time_zone)?.min(app.now()),
        None => app.now(),
    };
    let from = match &args.from {
        Some(text) => when_in("--from", text, false, args.time_zone)?,
        None => to - chrono::Duration::days(7),
    };
    let filter = Filter {
        from,
        to,
        campaign: args.campaign,
        team: args.team,
        agent: args.agent,
        records: args.records,
    };
    let grouping = Grouping {
        period: args.period,
        interval: args.interval,
        zone: args.time_zone,
    };
    let png = match args.chart.as_ref().and_then(|p| p.extension()).and_then(|e| e.to_str()) {
        None if args.chart.is_none() => false,
        Some("svg") => false,
        Some("png") => true,
        _ => anyhow::bail!("--chart: name a .svg or a .png file"),
    };
    let mut frame = paceline_analytics::run(&app.db, &args.name, &filter, grouping).await?;
    if let Some(path) = &args.chart {
        let chart = paceline_analytics::report_chart::chart_in(&args.name, &frame, args.time_zone)
            .with_context(|| format!("the {} report has no chart", args.name))?;
        let bytes = if png {
            chart.png(1200, 700)?
        } else {
            chart.svg(1200, 700)?.into_bytes()
        };
        export::atomically(path, |file| {
            std::io::Write::write_all(file, &bytes).map_err(|source| paceline_analytics::ReportError::Write {
                path: path.display().to_string(),
                source,
            })
        })?;
        eprintln!("chart written to {}", path.display());
    }
    match &args.output {
        Some(path) => {
            export::write_file(&mut frame, args.format, path)?;
            eprintln!("{} rows written to {}", frame.height(), path.display());
        }
        None => {
            let mut out = std::io::stdout().lock();
            export::write_to(&mut frame, args.format, &mut out)?;
        }
    }
    Ok(())
}
