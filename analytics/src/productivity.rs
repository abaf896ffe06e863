//! Agent productivity per agent and period (RPT-01, RPT-04): logged-in time, ready, not
//! ready (in all and by reason), reserved, talk and wrap-up, occupancy, dials, person
//! contacts, completes and completes per hour. Time in each state comes from the agents'
//! state changes, cut at the period boundaries; counts from the attempts dialed for or
//! bridged to them. Both come in as lazy frames (see [`crate::facts`] for their columns), so
//! the report runs the same over rows read from the store and over Parquet files.

use chrono::{DateTime, Utc};
use polars::prelude::*;

use crate::ReportError;
use crate::facts::time_dtype;
use crate::period::{Bucket, Calendar, Period};
use crate::state_time;

/// The states whose time the report shows, with the column each goes to.
const STATE_COLUMNS: [(&str, &str); 5] = [
    ("ready", "ready"),
    ("not_ready", "not_ready"),
    ("reserved", "reserved"),
    ("on_call", "talk"),
    ("wrap_up", "wrap_up"),
];

fn as_time(ms: Expr) -> Expr {
    ms.cast(time_dtype())
}

/// A plan run on Polars' streaming engine, which reads Parquet and aggregates as it goes
/// (sums and counts only: its 0.55 lost values taken with `first()` per group).
fn streamed(plan: LazyFrame) -> Result<DataFrame, ReportError> {
    let optimizations = plan.get_current_optimizations();
    Ok(
        LazyFrame::collect_all_with_engine(vec![plan.logical_plan], Engine::Streaming, optimizations)?
            .pop()
            .expect("one plan, one result"),
    )
}

/// The columns of the changes the cut reads, in their order (by agent, then as they
/// happened): the cut is one pass over them (see `state_time`).
fn cut_columns(changes: LazyFrame) -> Result<DataFrame, ReportError> {
    Ok(changes
        .select([col("agent"), col("at"), col("to_state"), col("reason")])
        .collect()?)
}

/// Frees the columns on another thread: fifty million texts take a fifth of a second to
/// free, which is no part of the report.
fn drop_later(columns: DataFrame) {
    std::thread::spawn(move || drop(columns));
}

/// Each agent's milliseconds in each state (and, when not ready, reason), per period: the
/// columns `agent`, `period`, `state`, `reason` (strings; `reason` only for not ready) and
/// `ms` (Int64). See [`state_times`].
fn state_millis(changes: LazyFrame, to: DateTime<Utc>, calendar: &Calendar) -> Result<DataFrame, ReportError> {
    let columns = cut_columns(changes)?;
    let (pieces, agents_once) = state_time::cut(&columns, to, calendar.bucket(), calendar.zone())?;
    drop_later(columns);
    if agents_once {
        return Ok(pieces);
    }
    // An agent whose changes came in two runs has two rows per period: one each.
    Ok(pieces
        .lazy()
        .group_by([col("agent"), col("period"), col("state"), col("reason")])
        .agg([col("ms").sum()])
        .collect()?)
}

/// Each agent's time in each state, per period, from their changes (ordered by agent, then
/// in the order they happened, each agent's first being their state at the range's start)
/// up to `to`. A state runs until the agent's next change, or until `to`; logged out is no
/// time. One row per agent, period, state and reason, with `seconds` (Float64).
pub fn state_times(changes: LazyFrame, to: DateTime<Utc>, period: Period) -> Result<DataFrame, ReportError> {
    Ok(state_millis(changes, to, &Calendar::utc(Bucket::Period(period)))?
        .lazy()
        .select([
            col("agent"),
            col("period"),
            col("state"),
            col("reason"),
            (col("ms").cast(DataType::Float64) / lit(1000.0)).alias("seconds"),
        ])
        .collect()?)
}

/// The agent productivity report: one row per agent and period, in agent then period order.
/// `changes` must come by agent, then in the order they happened (`seq`), as
/// [`crate::facts::state_changes`] returns them and the Parquet files of
/// [`crate::synthetic`] hold them.
pub fn report(
    changes: LazyFrame,
    attempts: LazyFrame,
    to: DateTime<Utc>,
    period: Period,
) -> Result<DataFrame, ReportError> {
    report_in(changes, attempts, to, &Calendar::utc(Bucket::Period(period)))
}

/// [`report`] with the periods of `calendar` (local days, weeks, months or years of its time
/// zone); the `period` column holds each period's start as an instant.
pub fn report_in(
    changes: LazyFrame,
    attempts: LazyFrame,
    to: DateTime<Utc>,
    calendar: &Calendar,
) -> Result<DataFrame, ReportError> {
    // The time in each state as the table's columns straight from the cut.
    let columns = cut_columns(changes)?;
    let (time, agents_once) = state_time::cut_wide(&columns, to, calendar.bucket(), calendar.zone(), &STATE_COLUMNS)?;
    drop_later(columns);
    let time_columns: Vec<String> = time
        .get_column_names()
        .into_iter()
        .skip(2)
        .map(|name| name.to_string())
        .collect();
    let keys = [col("agent"), col("period")];
    let time = if agents_once {
        time.lazy()
    } else {
        // An agent whose changes came in two runs has two rows per period: one each.
        time.lazy()
            .group_by(keys.clone())
            .agg(time_columns.iter().map(|c| col(c.as_str()).sum()).collect::<Vec<_>>())
    };
    let counts = attempts
        .filter(col("agent").is_not_null())
        .select([
            col("agent"),
            as_time(
                calendar.start(
                    col("dialed_at")
                        .fill_null(col("queued_at"))
                        .cast(time_dtype())
                        .cast(DataType::Int64),
                ),
            )
            .alias("period"),
            col("dialed_at").is_not_null().alias("dialed"),
            col("bridged_at").is_not_null().alias("contact"),
            col("disposition")
                .eq(lit("complete"))
                .fill_null(lit(false))
                .alias("complete"),
        ])
        .group_by(keys.clone())
        .agg([
            col("dialed").sum().cast(DataType::UInt32).alias("dials"),
            col("contact").sum().cast(DataType::UInt32).alias("contacts"),
            col("complete").sum().cast(DataType::UInt32).alias("completes"),
        ])
        // After grouping, so that a Categorical agent column is turned to text once per row
        // of the report rather than once per attempt.
        .with_column(col("agent").cast(DataType::String));
    let counts = streamed(counts)?.lazy();
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
    use crate::facts::{Attempt, StateChange, attempts_frame, state_changes_frame};
    use crate::period::Bucket;

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

    /// One piece of a state: agent, bucket start, state, reason, milliseconds.
    type Piece<T> = (String, T, String, Option<String>, i64);

    /// The cut as it was first written, one row at a time: the reference the frame version
    /// is checked against.
    fn state_times_row_by_row(
        changes: &[StateChange],
        to: DateTime<Utc>,
        period: Period,
        zone: chrono_tz::Tz,
    ) -> Vec<Piece<DateTime<Utc>>> {
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
            for (start, from, until) in bucket.split_in(zone, change.at, end.min(to)) {
                out.push((
                    change.agent.clone(),
                    start,
                    change.to_state.clone(),
                    // The frames keep the reason of not ready only.
                    change.reason.clone().filter(|_| change.to_state == "not_ready"),
                    (until - from).num_milliseconds(),
                ));
            }
        }
        out
    }

    /// The frame version's rows, and the reference's summed by agent, period, state and
    /// reason, both sorted.
    fn both_ways(
        changes: &[StateChange],
        to: DateTime<Utc>,
        period: Period,
        zone: chrono_tz::Tz,
    ) -> (Vec<Piece<i64>>, Vec<Piece<i64>>) {
        let from = changes.iter().map(|c| c.at).min().unwrap();
        let calendar = Calendar::new(Bucket::Period(period), zone, from, to).unwrap();
        let df = state_millis(state_changes_frame(changes).lazy(), to, &calendar).unwrap();
        let mut framed: Vec<_> = (0..df.height())
            .map(|i| {
                let text = |name: &str| df.column(name).unwrap().str().unwrap().get(i).map(String::from);
                (
                    text("agent").unwrap(),
                    df.column("period").unwrap().datetime().unwrap().phys.get(i).unwrap(),
                    text("state").unwrap(),
                    text("reason"),
                    df.column("ms").unwrap().i64().unwrap().get(i).unwrap(),
                )
            })
            .collect();
        framed.sort();
        let mut summed = std::collections::BTreeMap::new();
        for (agent, start, state, reason, ms) in state_times_row_by_row(changes, to, period, zone) {
            *summed
                .entry((agent, start.timestamp_millis(), state, reason))
                .or_insert(0) += ms;
        }
        let reference = summed
            .into_iter()
            .map(|((agent, start, state, reason), ms)| (agent, start, state, reason, ms))
            .collect();
        (framed, reference)
    }

    #[test]
    fn a_state_runs_to_the_next_change_and_is_cut_at_midnight() {
        let changes = vec![
            change("ann", "2026-11-25T22:00:00Z", 1, "ready", None),
            change("ann", "2026-11-25T23:00:00Z", 2, "not_ready", Some("break")),
            change("ann", "2026-11-26T00:30:00Z", 3, "logged_out", None),
            change("bo", "2026-11-26T00:00:00Z", 1, "ready", None),
        ];
        let times = state_times(
            state_changes_frame(&changes).lazy(),
            t("2026-11-26T01:00:00Z"),
            Period::Day,
        )
        .unwrap();
        let seconds = |agent: &str, day: &str, state: &str| -> f64 {
            times
                .clone()
                .lazy()
                .filter(
                    col("agent")
                        .eq(lit(agent))
                        .and(col("period").eq(lit(t(day).timestamp_millis()).cast(time_dtype())))
                        .and(col("state").eq(lit(state))),
                )
                .select([col("seconds").sum()])
                .collect()
                .unwrap()
                .column("seconds")
                .unwrap()
                .f64()
                .unwrap()
                .get(0)
                .unwrap()
        };
        assert_eq!(seconds("ann", "2026-11-25T00:00:00Z", "ready"), 3600.0);
        assert_eq!(seconds("ann", "2026-11-25T00:00:00Z", "not_ready"), 3600.0);
        assert_eq!(seconds("ann", "2026-11-26T00:00:00Z", "not_ready"), 1800.0);
        // Logged out is no time worked; the last state runs to the end of the range.
        assert_eq!(seconds("ann", "2026-11-26T00:00:00Z", "logged_out"), 0.0);
        assert_eq!(seconds("bo", "2026-11-26T00:00:00Z", "ready"), 3600.0);
    }

    /// Spans within a period, over one boundary, over several (a weekend not logged out, a
    /// state left running past the end of the range), one change after the range's end, and
    /// two changes at the same instant.
    fn awkward_changes() -> Vec<StateChange> {
        vec![
            change("ann", "2026-11-27T16:00:00Z", 1, "ready", None),
            change("ann", "2026-11-27T17:00:00Z", 2, "not_ready", Some("away")),
            change("ann", "2026-11-30T08:00:00Z", 3, "logged_out", None),
            change("ann", "2026-11-30T08:10:00Z", 4, "not_ready", Some("logged_in")),
            change("ann", "2026-11-30T08:10:00Z", 5, "ready", None),
            change("ann", "2026-11-30T23:59:59.500Z", 6, "on_call", None),
            // A pause asked for during the call: recorded on the call, taken after wrap-up.
            change("ann", "2026-11-30T23:59:59.900Z", 7, "on_call", Some("personal")),
            change("ann", "2026-12-01T00:00:00.250Z", 8, "wrap_up", None),
            change("ann", "2026-12-01T00:01:00Z", 9, "not_ready", Some("personal")),
            change("ann", "2026-12-01T00:03:00Z", 10, "ready", None),
            change("bo", "2026-10-30T20:00:00Z", 1, "not_ready", Some("lunch")),
            change("bo", "2026-12-31T23:00:00Z", 2, "ready", None),
            change("bo", "2027-01-09T00:00:00Z", 3, "reserved", None),
            change("cy", "2026-11-29T12:00:00Z", 1, "ready", None),
        ]
    }

    #[test]
    fn the_frames_cut_states_as_the_row_by_row_loop_did() {
        let changes = awkward_changes();
        // In UTC, and on local clocks: New York's clocks go back on 1 November, within bo's
        // lunch; Kolkata's days begin at 18:30 UTC.
        let zones = [chrono_tz::UTC, chrono_tz::America::New_York, chrono_tz::Asia::Kolkata];
        for zone in zones {
            for period in [Period::Day, Period::Week, Period::Month, Period::Year] {
                for to in ["2027-01-08T06:00:00Z", "2026-12-01T00:00:30Z"] {
                    let (framed, reference) = both_ways(&changes, t(to), period, zone);
                    assert_eq!(framed, reference, "{zone} {period} to {to}");
                }
            }
        }
    }

    #[test]
    fn coded_texts_read_back_from_parquet_cut_as_plain_texts_do() {
        let changes = awkward_changes();
        let mut coded = crate::synthetic::coded_texts(state_changes_frame(&changes)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("changes.parquet");
        ParquetWriter::new(std::fs::File::create(&path).unwrap())
            .finish(&mut coded)
            .unwrap();
        let read = LazyFrame::scan_parquet(PlRefPath::new(path.to_str().unwrap()), Default::default())
            .unwrap()
            .collect()
            .unwrap();
        for name in ["agent", "to_state", "reason"] {
            assert!(
                matches!(read.column(name).unwrap().dtype(), DataType::Categorical(..)),
                "{name} is read back as {:?}",
                read.column(name).unwrap().dtype()
            );
        }
        let to = t("2027-01-08T06:00:00Z");
        for zone in [chrono_tz::UTC, chrono_tz::Asia::Kolkata] {
            let from = changes.iter().map(|c| c.at).min().unwrap();
            let calendar = Calendar::new(Bucket::Period(Period::Day), zone, from, to).unwrap();
            let sorted = |df: DataFrame| {
                df.sort(["agent", "period", "state", "reason"], SortMultipleOptions::default())
                    .unwrap()
            };
            let plain = sorted(state_millis(state_changes_frame(&changes).lazy(), to, &calendar).unwrap());
            let from_codes = sorted(state_millis(read.clone().lazy(), to, &calendar).unwrap());
            assert!(plain.height() > 10);
            assert!(
                plain.equals_missing(&from_codes),
                "{zone}: {plain} against {from_codes}"
            );
        }
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
            record_id: 1,
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
        let df = report(
            state_changes_frame(&changes).lazy(),
            attempts_frame(&attempts).lazy(),
            t("2026-11-26T00:00:00Z"),
            Period::Day,
        )
        .unwrap();
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
        assert_eq!(
            df.get_column_names().iter().map(|n| n.as_str()).collect::<Vec<_>>(),
            [
                "agent",
                "period",
                "logged_in",
                "ready",
                "not_ready",
                "reserved",
                "talk",
                "wrap_up",
                "not_ready:break",
                "dials",
                "contacts",
                "completes",
                "occupancy",
                "completes_per_hour"
            ]
        );
        assert_eq!(df.column("period").unwrap().dtype(), &time_dtype());
    }
}
