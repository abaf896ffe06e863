//! Dialer performance per campaign and interval (RPT-03, RPT-07): dials, person answers,
//! machines, abandons and the abandon rate (abandons over person answers), calls bridged to
//! agents, and the mean talk and ring times.

use polars::prelude::*;

use crate::ReportError;
use crate::facts::time_dtype;
use crate::period::Interval;

/// The interval as Polars names it for `dt().truncate`.
fn every(interval: Interval) -> &'static str {
    match interval {
        Interval::QuarterHour => "15m",
        Interval::Hour => "1h",
        Interval::Day => "1d",
    }
}

/// Seconds from one time column to another, when both are known and in order.
fn seconds(from: &str, to: &str) -> Expr {
    let (from, to) = (col(from).cast(DataType::Int64), col(to).cast(DataType::Int64));
    when(to.clone().gt_eq(from.clone()))
        .then((to - from).cast(DataType::Float64) / lit(1000.0))
        .otherwise(lit(NULL).cast(DataType::Float64))
}

/// The dialer report: one row per campaign and interval that had a dial, in that order. An
/// attempt counts in the interval it was dialed in. `attempts` has the columns of
/// [`crate::facts::attempts_frame`], in any order of rows.
pub fn report(attempts: LazyFrame, interval: Interval) -> Result<DataFrame, ReportError> {
    let is = |column: &str, value: &str| col(column).eq(lit(value.to_string())).fill_null(lit(false));
    let machine = is("amd_verdict", "machine").or(is("outcome", "machine"));
    let out = attempts
        .filter(col("dialed_at").is_not_null())
        .select([
            col("campaign"),
            col("dialed_at")
                .cast(time_dtype())
                .dt()
                .truncate(lit(every(interval)))
                .alias("interval"),
            col("answered_at")
                .is_not_null()
                .and(machine.clone().not())
                .alias("person_answer"),
            machine.alias("machine"),
            col("abandoned"),
            col("bridged_at").is_not_null().alias("bridged"),
            seconds("bridged_at", "ended_at").alias("talk"),
            seconds("dialed_at", "answered_at").alias("ring"),
        ])
        .group_by([col("campaign"), col("interval")])
        .agg([
            len().cast(DataType::UInt32).alias("dials"),
            col("person_answer")
                .sum()
                .cast(DataType::UInt32)
                .alias("person_answers"),
            col("machine").sum().cast(DataType::UInt32).alias("machines"),
            col("abandoned").sum().cast(DataType::UInt32).alias("abandons"),
            col("bridged").sum().cast(DataType::UInt32).alias("bridged"),
            col("talk").mean().alias("mean_talk_seconds"),
            col("ring").mean().alias("mean_ring_seconds"),
        ])
        .with_columns([
            // After grouping: a Categorical campaign column becomes text once per row.
            col("campaign").cast(DataType::String),
            // No person answered: no rate (rather than 0, which would read as compliant).
            when(col("person_answers").gt(lit(0u32)))
                .then(col("abandons").cast(DataType::Float64) / col("person_answers").cast(DataType::Float64))
                .otherwise(lit(NULL).cast(DataType::Float64))
                .alias("abandon_rate"),
        ])
        .sort(["campaign", "interval"], SortMultipleOptions::default());
    // Streamed: Polars aggregates the rows as it reads them (see `productivity`).
    let optimizations = out.get_current_optimizations();
    let mut out = LazyFrame::collect_all_with_engine(vec![out.logical_plan], Engine::Streaming, optimizations)?;
    Ok(out.pop().expect("one result"))
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::facts::{Attempt, attempts_frame};

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn dial(at: &str, answered: bool, verdict: Option<&str>, abandoned: bool, bridged: bool) -> Attempt {
        let at = t(at);
        Attempt {
            campaign: "poll".into(),
            agent: None,
            dial_mode: "predictive".into(),
            queued_at: at,
            dialed_at: Some(at),
            answered_at: answered.then(|| at + chrono::Duration::seconds(10)),
            bridged_at: bridged.then(|| at + chrono::Duration::seconds(11)),
            ended_at: Some(at + chrono::Duration::seconds(71)),
            outcome: Some(if answered { "answered" } else { "no_answer" }.into()),
            amd_verdict: verdict.map(Into::into),
            abandoned,
            disposition: None,
        }
    }

    #[test]
    fn dials_answers_machines_and_abandons_per_quarter_hour() {
        let attempts = vec![
            dial("2026-11-25T09:01:00Z", true, Some("person"), false, true),
            dial("2026-11-25T09:02:00Z", true, Some("person"), true, false),
            dial("2026-11-25T09:03:00Z", true, Some("machine"), false, false),
            dial("2026-11-25T09:14:59Z", false, None, false, false),
            dial("2026-11-25T09:15:00Z", false, None, false, false),
        ];
        let df = report(attempts_frame(&attempts).lazy(), Interval::QuarterHour).unwrap();
        assert_eq!(df.height(), 2, "{df}");
        let u = |name: &str, row: usize| df.column(name).unwrap().u32().unwrap().get(row).unwrap();
        assert_eq!(
            (
                u("dials", 0),
                u("person_answers", 0),
                u("machines", 0),
                u("abandons", 0),
                u("bridged", 0)
            ),
            (4, 2, 1, 1, 1)
        );
        assert_eq!(df.column("abandon_rate").unwrap().f64().unwrap().get(0), Some(0.5));
        assert_eq!(
            df.column("mean_talk_seconds").unwrap().f64().unwrap().get(0),
            Some(60.0)
        );
        assert_eq!(u("dials", 1), 1);
        assert_eq!(df.column("abandon_rate").unwrap().f64().unwrap().get(1), None);
    }
}
