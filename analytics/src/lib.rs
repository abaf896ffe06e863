//! Paceline's reports: the stored facts (attempts, agent state history) read from the store,
//! aggregated with Polars into DataFrames, and written as a table, CSV, JSON or Parquet.
//! It reads; it never writes to the operational tables.
//!
//! `facts` reads the store; `period` holds the time buckets; `productivity` and `dialer` are
//! the reports, pure over the facts (as lazy frames, from the store or Parquet); `export`
//! writes a frame whole or not at all; `synthetic` generates a history at scale for the
//! benchmarks, as Parquet and as a SQLite store.

pub mod call_log;
pub mod chart;
pub mod dialer;
pub mod export;
pub mod facts;
pub mod follow_up;
pub mod labelled;
pub mod period;
pub mod productivity;
pub mod record_filter;
pub mod report_chart;
pub mod sav;
pub mod sss;
pub mod staffing;
pub mod state_time;
pub mod survey;
pub mod synthetic;

use std::collections::{BTreeMap, HashMap, HashSet};

use paceline_dialer::Db;
use polars::prelude::{DataFrame, IntoLazy};

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// No report has this name.
    #[error("there is no report '{0}'; reports are {reports}", reports = REPORTS.join(", "))]
    UnknownReport(String),
    /// An option is wrong.
    #[error("{option}: {message}")]
    BadOption {
        /// The option.
        option: String,
        /// What is wrong.
        message: String,
    },
    /// The filter matched nothing.
    #[error("nothing to report: {0}")]
    Empty(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] sqlx::Error),
    /// Polars failed.
    #[error(transparent)]
    Polars(#[from] polars::error::PolarsError),
    /// Writing the file failed.
    #[error("writing {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// The reports by name.
pub const REPORTS: [&str; 10] = [
    "agent-productivity",
    "dialer",
    "calls",
    "dispositions",
    "callbacks",
    "return-visits",
    "quotas",
    "aapor",
    "interview-length",
    "drop-off",
];

/// The reports that are about one survey campaign, and need it named.
pub const SURVEY_REPORTS: [&str; 4] = ["quotas", "aapor", "interview-length", "drop-off"];

/// How a report groups time.
#[derive(Debug, Clone, Copy)]
pub struct Grouping {
    /// The period of the agent productivity report.
    pub period: period::Period,
    /// The interval of the dialer report.
    pub interval: period::Interval,
    /// The time zone whose wall clock the periods and intervals follow, and the report's time
    /// columns show.
    pub zone: chrono_tz::Tz,
}

/// Makes the report named `name` over the facts the filter selects.
pub async fn run(db: &Db, name: &str, filter: &facts::Filter, grouping: Grouping) -> Result<DataFrame, ReportError> {
    if filter.to <= filter.from {
        return Err(ReportError::BadOption {
            option: "--to".into(),
            message: format!("the range ends ({}) before it starts ({})", filter.to, filter.from),
        });
    }
    // Record-field conditions pick records; reports about no record cannot take them.
    if !filter.records.is_empty() && ["agent-productivity", "quotas"].contains(&name) {
        return Err(ReportError::BadOption {
            option: "--where".into(),
            message: match name {
                "quotas" => "quota cells count a campaign's whole sample against its targets: they cannot be filtered by record fields (drop-off, interview-length and aapor can)",
                _ => "agent productivity is agents' time in their states, which belongs to no record: it cannot be filtered by record fields (the dialer, dispositions and callbacks reports can)",
            }
            .into(),
        });
    }
    let picked = record_filter::selected(db, filter.campaign.as_deref(), &filter.records, "--where").await?;
    let keep = picked.as_ref().map(record_filter::ids);
    let frame = match name {
        "agent-productivity" => {
            let changes = facts::state_changes(db, filter).await?;
            let attempts = facts::attempts(db, filter).await?;
            productivity::report_in(
                facts::state_changes_frame(&changes).lazy(),
                facts::attempts_frame(&attempts).lazy(),
                filter.to,
                &calendar(
                    period::Bucket::Period(grouping.period),
                    grouping.zone,
                    filter.from,
                    filter.to,
                )?,
            )?
        }
        "dialer" => dialer_report(db, filter, grouping, keep.as_ref()).await?,
        "calls" => {
            let mut calls = facts::calls(db, filter).await?;
            calls.retain(|c| kept(keep.as_ref(), c.attempt.record_id));
            call_log::log(&calls)?
        }
        "dispositions" => survey::progress::dispositions(&attempts(db, filter, keep.as_ref()).await?)?,
        "callbacks" => {
            let mut calls = follow_up::callback_facts(db, filter).await?;
            calls.retain(|c| kept(keep.as_ref(), c.record_id));
            follow_up::callbacks(&calls, filter, grouping.period, grouping.zone)?
        }
        "return-visits" => {
            let mut visits = follow_up::visit_facts(db, filter).await?;
            visits.retain(|v| kept(keep.as_ref(), v.record_id));
            follow_up::return_visits(&visits, filter, grouping.period, grouping.zone)?
        }
        survey if SURVEY_REPORTS.contains(&survey) => survey_report(db, survey, filter, picked.as_ref()).await?,
        other => return Err(ReportError::UnknownReport(other.to_string())),
    };
    if frame.height() == 0 {
        let zone = grouping.zone;
        return Err(ReportError::Empty(format!(
            "no {} facts from {} to {} {zone}{}",
            name,
            filter.from.with_timezone(&zone).format("%Y-%m-%d %H:%M"),
            filter.to.with_timezone(&zone).format("%Y-%m-%d %H:%M"),
            [
                filter.campaign.as_ref().map(|c| format!(" in campaign '{c}'")),
                filter.team.as_ref().map(|t| format!(" for team '{t}'")),
                filter.agent.as_ref().map(|a| format!(" for agent '{a}'")),
                (!filter.records.is_empty())
                    .then(|| format!(" for records with {}", record_filter::describe(&filter.records))),
            ]
            .into_iter()
            .flatten()
            .collect::<String>()
        )));
    }
    on_wall_clock(frame, grouping.zone)
}

/// The calendar of a report's buckets, or why the zone cannot have one.
fn calendar(
    bucket: period::Bucket,
    zone: chrono_tz::Tz,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> Result<period::Calendar, ReportError> {
    period::Calendar::new(bucket, zone, from, to).map_err(|message| ReportError::BadOption {
        option: "--time-zone".into(),
        message,
    })
}

/// The report's time columns (the buckets `period`, `interval`, `period_start`, and the call
/// log's `dialed_at`, `answered_at`, `bridged_at`, `ended_at`) as wall-clock times of `zone`,
/// which is what a reader in that zone expects to see ("the 25th", "09:00"); the reports
/// compute them as instants. Nothing changes in UTC.
fn on_wall_clock(mut frame: DataFrame, zone: chrono_tz::Tz) -> Result<DataFrame, ReportError> {
    use polars::prelude::*;
    if zone == chrono_tz::UTC {
        return Ok(frame);
    }
    const TIMES: [&str; 7] = [
        "period",
        "interval",
        "period_start",
        "dialed_at",
        "answered_at",
        "bridged_at",
        "ended_at",
    ];
    for name in TIMES {
        let Ok(column) = frame.column(name) else { continue };
        if !matches!(column.dtype(), DataType::Datetime(_, _)) {
            continue;
        }
        let ms = column
            .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?
            .cast(&DataType::Int64)?;
        let wall: Int64Chunked = ms.i64()?.apply_values(|utc| period::wall_ms(zone, utc));
        let wall = wall
            .into_series()
            .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?
            .with_name(name.into());
        frame.with_column(wall.into_column())?;
    }
    Ok(frame)
}

/// Whether a record is among those picked (all are when nothing was picked).
fn kept(keep: Option<&HashSet<i64>>, record: i64) -> bool {
    keep.is_none_or(|k| k.contains(&record))
}

/// The filter's attempts to the records kept.
async fn attempts(
    db: &Db,
    filter: &facts::Filter,
    keep: Option<&HashSet<i64>>,
) -> Result<Vec<facts::Attempt>, ReportError> {
    let mut rows = facts::attempts(db, filter).await?;
    rows.retain(|a| kept(keep, a.record_id));
    Ok(rows)
}

/// The dialer report with each campaign's staffing (its agents' logged-in time), and its
/// abandon rate over its compliance window against its ceiling. The attempts are read from a
/// window before the range, so that the first intervals' windows hold their earlier calls;
/// the report itself counts the range's.
async fn dialer_report(
    db: &Db,
    filter: &facts::Filter,
    grouping: Grouping,
    keep: Option<&HashSet<i64>>,
) -> Result<DataFrame, ReportError> {
    let mut rules = BTreeMap::new();
    for summary in paceline_dialer::campaign::store::list(db)
        .await
        .map_err(|e| ReportError::BadOption {
            option: "--campaign".into(),
            message: e.to_string(),
        })?
    {
        if filter.campaign.as_ref().is_some_and(|c| *c != summary.name) {
            continue;
        }
        if let Ok(campaign) = paceline_dialer::campaign::store::find(db, &summary.name).await {
            rules.insert(campaign.name, dialer::Compliance::of(&campaign.settings));
        }
    }
    let reach = rules.values().map(|r| r.window).max().unwrap_or_default();
    let wide = facts::Filter {
        from: filter.from - reach,
        ..filter.clone()
    };
    let reach_back = attempts(db, &wide, keep).await?;
    // The report counts the range's attempts; the window reaches back before it.
    let in_range: Vec<facts::Attempt> = reach_back
        .iter()
        .filter(|a| a.queued_at >= filter.from)
        .cloned()
        .collect();
    let (in_range, all) = (facts::attempts_frame(&in_range), facts::attempts_frame(&reach_back));
    let calendar = calendar(
        period::Bucket::Interval(grouping.interval),
        grouping.zone,
        wide.from,
        filter.to,
    )?;
    let report = dialer::report_in(in_range.clone().lazy(), &calendar)?;
    let changes = facts::state_changes(db, filter).await?;
    let agent_seconds = staffing::per_campaign(
        &staffing::logged_in(&changes, filter.to, grouping.interval, grouping.zone),
        &facts::assignments(db).await?,
    );
    let report = dialer::with_staffing(report, in_range.lazy(), &calendar, &agent_seconds)?;
    dialer::against_ceiling(report, all.lazy(), &calendar, &rules)
}

/// A report about one survey campaign (`filter.campaign`): its quota cells and AAPOR rates as
/// they stand, its interviews' lengths and drop-off over those started in the range; with
/// record-field conditions, over the records `picked` (by id, with their AAPOR codes).
async fn survey_report(
    db: &Db,
    name: &str,
    filter: &facts::Filter,
    picked: Option<&HashMap<i64, Option<String>>>,
) -> Result<DataFrame, ReportError> {
    let Some(campaign) = filter.campaign.as_deref() else {
        return Err(ReportError::BadOption {
            option: "--campaign".into(),
            message: format!("the {name} report is about one survey campaign: name it"),
        });
    };
    let which = survey::facts::Which::All;
    match name {
        "quotas" => {
            let (campaign, questionnaire) = survey::facts::current_questionnaire(db, campaign).await?;
            let book = paceline_cati::store::quota_book(db, campaign.id, &questionnaire)
                .await
                .map_err(|e| ReportError::BadOption {
                    option: "--campaign".into(),
                    message: format!("counting its quotas: {e}"),
                })?;
            Ok(survey::progress::quotas(&campaign.name, &book.progress())?)
        }
        "aapor" => {
            let campaign = paceline_dialer::campaign::store::find(db, campaign)
                .await
                .map_err(|e| ReportError::BadOption {
                    option: "--campaign".into(),
                    message: e.to_string(),
                })?;
            let counts = match picked {
                None => paceline_cati::store::campaign_counts(db, campaign.id).await,
                Some(picked) => paceline_cati::store::tally(picked.values().map(|code| (code.clone(), 1))),
            }
            .map_err(|e| ReportError::BadOption {
                option: "--campaign".into(),
                message: e.to_string(),
            })?;
            let rates = paceline_cati::aapor::Rates::compute(&counts, paceline_cati::aapor::Eligibility::Proportional);
            let rates = rates.as_ref().map_err(|e| e.to_string());
            Ok(survey::progress::aapor(&campaign.name, &counts, rates)?)
        }
        "interview-length" => {
            let mut facts = survey::facts::read(db, campaign, which, Some((filter.from, filter.to))).await?;
            facts
                .interviews
                .retain(|i| picked.is_none_or(|p| p.contains_key(&i.record)));
            Ok(survey::progress::interview_length(
                &facts.campaign.name,
                &facts.interviews,
                1,
            )?)
        }
        _ => {
            let mut facts = survey::facts::read(db, campaign, which, Some((filter.from, filter.to))).await?;
            facts
                .interviews
                .retain(|i| picked.is_none_or(|p| p.contains_key(&i.record)));
            Ok(survey::progress::drop_off(
                &facts.campaign.name,
                &facts.questionnaire.items,
                &facts.interviews,
            )?)
        }
    }
}
