//! Agent productivity per agent and period (RPT-01, RPT-04): logged-in time, ready, not
//! ready (in all and by reason), reserved, talk and wrap-up, occupancy, dials, person
//! contacts, completes and completes per hour. Time in each state comes from the agents'
//! state changes, cut at the period boundaries; counts from the attempts dialed for or
//! bridged to them.

use chrono::{DateTime, Utc};
use polars::prelude::*;

use crate::ReportError;
use crate::facts::{Attempt, StateChange};
use crate::period::{Bucket, Period};

/// Time an agent spent in one state within one period.
#[derive(Debug, Clone, PartialEq)]
pub struct StateTime {
    /// The agent (login).
    pub agent: String,
    /// The period's start.
    pub period: DateTime<Utc>,
    /// The state.
    pub state: String,
    /// The not-ready reason.
    pub reason: Option<String>,
    /// Seconds in it.
    pub seconds: f64,
}

/// Each agent's time in each state, per period, from their changes (ordered by agent, then
/// in the order they happened, each agent's first being their state at the range's start)
/// up to `to`. A state runs until the agent's next change, or until `to`.
pub fn state_times(changes: &[StateChange], to: DateTime<Utc>, period: Period) -> Vec<StateTime> {
    let bucket = Bucket::Period(period);
    let mut out = Vec::new();
    for (i, change) in changes.iter().enumerate() {
        if change.to_state == "logged_out" {
            continue;
        }
        let end = match changes.get(i + 1) {
            Some(next) if next.agent == change.agent => next.at,
            _ => to,
        };
        for (start, from, until) in bucket.split(change.at, end.min(to)) {
            out.push(StateTime {
                agent: change.agent.clone(),
                period: start,
                state: change.to_state.clone(),
                reason: change.reason.clone(),
                seconds: (until - from).num_milliseconds() as f64 / 1000.0,
            });
        }
    }
    out
}

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// A column of times (UTC, to the millisecond).
pub(crate) fn time_column(name: &str, values: Vec<i64>) -> Result<Column, ReportError> {
    Ok(Column::new(name.into(), values).cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?)
}

/// The agent productivity report: one row per agent and period, in agent then period order.
pub fn report(
    changes: &[StateChange],
    attempts: &[Attempt],
    to: DateTime<Utc>,
    period: Period,
) -> Result<DataFrame, ReportError> {
    let times = state_times(changes, to, period);
    let reasons: std::collections::BTreeSet<String> = times
        .iter()
        .filter(|t| t.state == "not_ready")
        .filter_map(|t| t.reason.clone())
        .collect();
    let states = DataFrame::new(
        times.len(),
        vec![
            Column::new(
                "agent".into(),
                times.iter().map(|t| t.agent.as_str()).collect::<Vec<_>>(),
            ),
            time_column("period", times.iter().map(|t| millis(t.period)).collect())?,
            Column::new(
                "state".into(),
                times.iter().map(|t| t.state.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "reason".into(),
                times.iter().map(|t| t.reason.as_deref()).collect::<Vec<_>>(),
            ),
            Column::new("seconds".into(), times.iter().map(|t| t.seconds).collect::<Vec<_>>()),
        ],
    )?;
    let bucket = Bucket::Period(period);
    let worked: Vec<&Attempt> = attempts.iter().filter(|a| a.agent.is_some()).collect();
    let calls = DataFrame::new(
        worked.len(),
        vec![
            Column::new(
                "agent".into(),
                worked
                    .iter()
                    .map(|a| a.agent.as_deref().unwrap_or_default())
                    .collect::<Vec<_>>(),
            ),
            time_column(
                "period",
                worked
                    .iter()
                    .map(|a| millis(bucket.start(a.dialed_at.unwrap_or(a.queued_at))))
                    .collect(),
            )?,
            Column::new(
                "dialed".into(),
                worked
                    .iter()
                    .map(|a| u32::from(a.dialed_at.is_some()))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "contact".into(),
                worked
                    .iter()
                    .map(|a| u32::from(a.bridged_at.is_some()))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "complete".into(),
                worked
                    .iter()
                    .map(|a| u32::from(a.disposition.as_deref() == Some("complete")))
                    .collect::<Vec<_>>(),
            ),
        ],
    )?;

    let in_state = |state: &str| {
        col("seconds")
            .filter(col("state").eq(lit(state.to_string())))
            .sum()
            .alias(state)
    };
    let mut time_aggs = vec![
        col("seconds").sum().alias("logged_in"),
        in_state("ready"),
        in_state("not_ready"),
        in_state("reserved"),
        in_state("on_call").alias("talk"),
        in_state("wrap_up"),
    ];
    for reason in &reasons {
        time_aggs.push(
            col("seconds")
                .filter(
                    col("state")
                        .eq(lit("not_ready"))
                        .and(col("reason").eq(lit(reason.clone()))),
                )
                .sum()
                .alias(format!("not_ready:{reason}")),
        );
    }
    let time_columns: Vec<String> = ["logged_in", "ready", "not_ready", "reserved", "talk", "wrap_up"]
        .into_iter()
        .map(String::from)
        .chain(reasons.iter().map(|r| format!("not_ready:{r}")))
        .collect();
    let keys = [col("agent"), col("period")];
    let time = states.lazy().group_by(keys.clone()).agg(time_aggs);
    let counts = calls.lazy().group_by(keys.clone()).agg([
        col("dialed").sum().cast(DataType::UInt32).alias("dials"),
        col("contact").sum().cast(DataType::UInt32).alias("contacts"),
        col("complete").sum().cast(DataType::UInt32).alias("completes"),
    ]);
    let joined = time
        .join(
            counts,
            keys.clone(),
            keys,
            JoinArgs::new(JoinType::Full).with_coalesce(JoinCoalesce::CoalesceColumns),
        )
        .with_columns(
            ["dials", "contacts", "completes"]
                .into_iter()
                .map(|c| col(c).fill_null(lit(0u32)))
                .chain(time_columns.iter().map(|c| col(c.as_str()).fill_null(lit(0.0))))
                .collect::<Vec<_>>(),
        )
        .with_columns([
            // Occupancy: the share of available time spent on calls and their wrap-up.
            ((col("talk") + col("wrap_up")) / (col("talk") + col("wrap_up") + col("ready") + col("reserved")))
                .alias("occupancy"),
            (col("completes").cast(DataType::Float64) / (col("logged_in") / lit(3600.0))).alias("completes_per_hour"),
        ])
        .sort(["agent", "period"], SortMultipleOptions::default())
        .collect()?;
    Ok(joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn change(agent: &str, at: &str, seq: i64, state: &str, reason: Option<&str>) -> StateChange {
        StateChange {
            agent: agent.into(),
            at: t(at),
            seq,
            to_state: state.into(),
            reason: reason.map(Into::into),
        }
    }

    #[test]
    fn a_state_runs_to_the_next_change_and_is_cut_at_midnight() {
        let changes = vec![
            change("ann", "2026-11-25T22:00:00Z", 1, "ready", None),
            change("ann", "2026-11-25T23:00:00Z", 2, "not_ready", Some("break")),
            change("ann", "2026-11-26T00:30:00Z", 3, "logged_out", None),
            change("bo", "2026-11-26T00:00:00Z", 1, "ready", None),
        ];
        let times = state_times(&changes, t("2026-11-26T01:00:00Z"), Period::Day);
        let seconds = |agent: &str, day: &str, state: &str| -> f64 {
            times
                .iter()
                .filter(|x| x.agent == agent && x.period == t(day) && x.state == state)
                .map(|x| x.seconds)
                .sum()
        };
        assert_eq!(seconds("ann", "2026-11-25T00:00:00Z", "ready"), 3600.0);
        assert_eq!(seconds("ann", "2026-11-25T00:00:00Z", "not_ready"), 3600.0);
        assert_eq!(seconds("ann", "2026-11-26T00:00:00Z", "not_ready"), 1800.0);
        // Logged out is no time worked; the last state runs to the end of the range.
        assert_eq!(seconds("ann", "2026-11-26T00:00:00Z", "logged_out"), 0.0);
        assert_eq!(seconds("bo", "2026-11-26T00:00:00Z", "ready"), 3600.0);
    }

    #[test]
    fn the_report_adds_time_and_calls_per_agent_and_day() {
        let changes = vec![
            change("ann", "2026-11-25T09:00:00Z", 1, "ready", None),
            change("ann", "2026-11-25T09:30:00Z", 2, "on_call", None),
            change("ann", "2026-11-25T09:45:00Z", 3, "wrap_up", None),
            change("ann", "2026-11-25T09:50:00Z", 4, "not_ready", Some("break")),
            change("ann", "2026-11-25T10:00:00Z", 5, "logged_out", None),
        ];
        let call = |disposition: Option<&str>, bridged: bool| Attempt {
            campaign: "c".into(),
            agent: Some("ann".into()),
            dial_mode: "preview".into(),
            queued_at: t("2026-11-25T09:29:00Z"),
            dialed_at: Some(t("2026-11-25T09:29:10Z")),
            answered_at: bridged.then(|| t("2026-11-25T09:29:30Z")),
            bridged_at: bridged.then(|| t("2026-11-25T09:30:00Z")),
            ended_at: Some(t("2026-11-25T09:45:00Z")),
            outcome: Some("answered".into()),
            amd_verdict: None,
            abandoned: false,
            disposition: disposition.map(Into::into),
        };
        let attempts = vec![call(Some("complete"), true), call(None, false)];
        let df = report(&changes, &attempts, t("2026-11-26T00:00:00Z"), Period::Day).unwrap();
        assert_eq!(df.height(), 1, "{df}");
        let f = |name: &str| df.column(name).unwrap().f64().unwrap().get(0).unwrap();
        let u = |name: &str| df.column(name).unwrap().u32().unwrap().get(0).unwrap();
        assert_eq!(f("logged_in"), 3600.0);
        assert_eq!(f("ready"), 1800.0);
        assert_eq!(f("talk"), 900.0);
        assert_eq!(f("wrap_up"), 300.0);
        assert_eq!(f("not_ready"), 600.0);
        assert_eq!(f("not_ready:break"), 600.0);
        assert_eq!((u("dials"), u("contacts"), u("completes")), (2, 1, 1));
        assert!((f("occupancy") - 1200.0 / 3000.0).abs() < 1e-9);
        assert_eq!(f("completes_per_hour"), 1.0);
    }
}
