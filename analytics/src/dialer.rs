//! Dialer performance per campaign and interval (RPT-03, RPT-07): dials, person answers,
//! machines, abandons and the abandon rate (abandons over person answers), calls bridged to
//! agents, and the mean talk and ring times.

use polars::prelude::*;

use crate::ReportError;
use crate::facts::Attempt;
use crate::period::{Bucket, Interval};
use crate::productivity::time_column;

/// The dialer report: one row per campaign and interval that had a dial, in that order. An
/// attempt counts in the interval it was dialed in.
pub fn report(attempts: &[Attempt], interval: Interval) -> Result<DataFrame, ReportError> {
    let bucket = Bucket::Interval(interval);
    let dialed: Vec<&Attempt> = attempts.iter().filter(|a| a.dialed_at.is_some()).collect();
    let seconds =
        |from: Option<chrono::DateTime<chrono::Utc>>, to: Option<chrono::DateTime<chrono::Utc>>| match (from, to) {
            (Some(from), Some(to)) if to >= from => Some((to - from).num_milliseconds() as f64 / 1000.0),
            _ => None,
        };
    let machine = |a: &Attempt| a.amd_verdict.as_deref() == Some("machine") || a.outcome.as_deref() == Some("machine");
    let frame = DataFrame::new(
        dialed.len(),
        vec![
            Column::new(
                "campaign".into(),
                dialed.iter().map(|a| a.campaign.as_str()).collect::<Vec<_>>(),
            ),
            time_column(
                "interval",
                dialed
                    .iter()
                    .map(|a| bucket.start(a.dialed_at.expect("dialed")).timestamp_millis())
                    .collect(),
            )?,
            Column::new(
                "person_answer".into(),
                dialed
                    .iter()
                    .map(|a| u32::from(a.answered_at.is_some() && !machine(a)))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "machine".into(),
                dialed.iter().map(|a| u32::from(machine(a))).collect::<Vec<_>>(),
            ),
            Column::new(
                "abandoned".into(),
                dialed.iter().map(|a| u32::from(a.abandoned)).collect::<Vec<_>>(),
            ),
            Column::new(
                "bridged".into(),
                dialed
                    .iter()
                    .map(|a| u32::from(a.bridged_at.is_some()))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "talk".into(),
                dialed
                    .iter()
                    .map(|a| seconds(a.bridged_at, a.ended_at))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "ring".into(),
                dialed
                    .iter()
                    .map(|a| seconds(a.dialed_at, a.answered_at))
                    .collect::<Vec<_>>(),
            ),
        ],
    )?;
    let out = frame
        .lazy()
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
        .with_column(
            // No person answered: no rate (rather than 0, which would read as compliant).
            when(col("person_answers").gt(lit(0u32)))
                .then(col("abandons").cast(DataType::Float64) / col("person_answers").cast(DataType::Float64))
                .otherwise(lit(NULL).cast(DataType::Float64))
                .alias("abandon_rate"),
        )
        .sort(["campaign", "interval"], SortMultipleOptions::default())
        .collect()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;

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
        let df = report(&attempts, Interval::QuarterHour).unwrap();
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
