//! Paceline's reports: the stored facts (attempts, agent state history) read from the store,
//! aggregated with Polars into DataFrames, and written as a table, CSV, JSON or Parquet.
//! It reads; it never writes to the operational tables.
//!
//! `facts` reads the store; `period` holds the time buckets; `productivity` and `dialer` are
//! the reports, pure over the facts (as lazy frames, from the store or Parquet); `export`
//! writes a frame whole or not at all; `synthetic` generates a history at scale for the
//! benchmarks, as Parquet and as a SQLite store.

pub mod chart;
pub mod dialer;
pub mod export;
pub mod facts;
pub mod follow_up;
pub mod labelled;
pub mod period;
pub mod productivity;
pub mod report_chart;
pub mod sav;
pub mod sss;
pub mod survey;
pub mod synthetic;

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
pub const REPORTS: [&str; 9] = [
    "agent-productivity",
    "dialer",
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
}

/// Makes the report named `name` over the facts the filter selects.
pub async fn run(db: &Db, name: &str, filter: &facts::Filter, grouping: Grouping) -> Result<DataFrame, ReportError> {
    if filter.to <= filter.from {
        return Err(ReportError::BadOption {
            option: "--to".into(),
            message: format!("the range ends ({}) before it starts ({})", filter.to, filter.from),
        });
    }
    let frame = match name {
        "agent-productivity" => {
            let changes = facts::state_changes(db, filter).await?;
            let attempts = facts::attempts(db, filter).await?;
            productivity::report(
                facts::state_changes_frame(&changes).lazy(),
                facts::attempts_frame(&attempts).lazy(),
                filter.to,
                grouping.period,
            )?
        }
        "dialer" => dialer::report(
            facts::attempts_frame(&facts::attempts(db, filter).await?).lazy(),
            grouping.interval,
        )?,
        "dispositions" => survey::progress::dispositions(&facts::attempts(db, filter).await?)?,
        "callbacks" => follow_up::callbacks(&follow_up::callback_facts(db, filter).await?, filter, grouping.period)?,
        "return-visits" => {
            follow_up::return_visits(&follow_up::visit_facts(db, filter).await?, filter, grouping.period)?
        }
        survey if SURVEY_REPORTS.contains(&survey) => survey_report(db, survey, filter).await?,
        other => return Err(ReportError::UnknownReport(other.to_string())),
    };
    if frame.height() == 0 {
        return Err(ReportError::Empty(format!(
            "no {} facts from {} to {}{}",
            name,
            filter.from.format("%Y-%m-%d %H:%M"),
            filter.to.format("%Y-%m-%d %H:%M"),
            [
                filter.campaign.as_ref().map(|c| format!(" in campaign '{c}'")),
                filter.team.as_ref().map(|t| format!(" for team '{t}'")),
                filter.agent.as_ref().map(|a| format!(" for agent '{a}'")),
            ]
            .into_iter()
            .flatten()
            .collect::<String>()
        )));
    }
    Ok(frame)
}

/// A report about one survey campaign (`filter.campaign`): its quota cells and AAPOR rates as
/// they stand, its interviews' lengths and drop-off over those started in the range.
async fn survey_report(db: &Db, name: &str, filter: &facts::Filter) -> Result<DataFrame, ReportError> {
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
            let counts = paceline_cati::store::campaign_counts(db, campaign.id)
                .await
                .map_err(|e| ReportError::BadOption {
                    option: "--campaign".into(),
                    message: e.to_string(),
                })?;
            let rates = paceline_cati::aapor::Rates::compute(&counts, paceline_cati::aapor::Eligibility::Proportional);
            let rates = rates.as_ref().map_err(|e| e.to_string());
            Ok(survey::progress::aapor(&campaign.name, &counts, rates)?)
        }
        "interview-length" => {
            let facts = survey::facts::read(db, campaign, which, Some((filter.from, filter.to))).await?;
            Ok(survey::progress::interview_length(
                &facts.campaign.name,
                &facts.interviews,
                1,
            )?)
        }
        _ => {
            let facts = survey::facts::read(db, campaign, which, Some((filter.from, filter.to))).await?;
            Ok(survey::progress::drop_off(
                &facts.campaign.name,
                &facts.questionnaire.items,
                &facts.interviews,
            )?)
        }
    }
}
