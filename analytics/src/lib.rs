//! Paceline's reports: the stored facts (attempts, agent state history) read from the store,
//! aggregated with Polars into DataFrames, and written as a table, CSV, JSON or Parquet.
//! It reads; it never writes to the operational tables.
//!
//! `facts` reads the store; `period` holds the time buckets; `productivity` and `dialer` are
//! the reports, pure over the facts; `export` writes a frame whole or not at all.

pub mod dialer;
pub mod export;
pub mod facts;
pub mod period;
pub mod productivity;

use paceline_dialer::Db;
use polars::prelude::DataFrame;

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
pub const REPORTS: [&str; 2] = ["agent-productivity", "dialer"];

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
            productivity::report(&changes, &attempts, filter.to, grouping.period)?
        }
        "dialer" => dialer::report(&facts::attempts(db, filter).await?, grouping.interval)?,
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
