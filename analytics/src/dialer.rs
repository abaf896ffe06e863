//! Dialer performance per campaign and interval (RPT-03, RPT-07): dials, person answers,
//! machines, abandons and the abandon rate (abandons over person answers), calls bridged to
//! agents, and the mean talk, ring and hold times (a person's wait from answering to an
//! agent); with the campaign's agents' time ([`with_staffing`]), agent hours, contacts per
//! agent hour and the dial level; and, beside them, the abandon rate over each
//! campaign's compliance window against its ceiling ([`against_ceiling`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use paceline_dialer::runtime::window::AbandonWindow;
use polars::prelude::*;

use crate::ReportError;
use crate::facts::time_dtype;
use crate::period::{Bucket, Calendar, Interval};

/// A campaign's abandon rule as its settings give it (DIAL-12): the ceiling, the window it is
/// measured over, and the detector's false-positive rate the runtime adds to its abandons.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Compliance {
    /// The highest abandon rate allowed, e.g. 0.03.
    pub ceiling: f64,
    /// The compliance window (24 hours for Ofcom, 30 days for the FTC).
    pub window: Duration,
    /// The share of persons answering-machine detection takes for machines (0 without it).
    pub false_positive: f64,
}

impl Compliance {
    /// The rule of a campaign's settings.
    pub fn of(settings: &paceline_dialer::campaign::settings::CampaignSettings) -> Self {
        Compliance {
            ceiling: settings.abandon.ceiling,
            window: Duration::hours(i64::from(settings.abandon.window_hours)),
            false_positive: if settings.amd.enabled {
                settings.amd.false_positive
            } else {
                0.0
            },
        }
    }
}

/// The start of the interval an attempt was dialed in.
fn interval_of(calendar: &Calendar) -> Expr {
    calendar
        .start(col("dialed_at").cast(time_dtype()).cast(DataType::Int64))
        .cast(time_dtype())
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
    report_in(attempts, &Calendar::utc(Bucket::Interval(interval)))
}

/// [`report`] with the intervals of `calendar` (on the wall clock of its time zone); the
/// `interval` column holds each interval's start as an instant.
pub fn report_in(attempts: LazyFrame, calendar: &Calendar) -> Result<DataFrame, ReportError> {
    let is = |column: &str, value: &str| col(column).eq(lit(value.to_string())).fill_null(lit(false));
    let machine = is("amd_verdict", "machine").or(is("outcome", "machine"));
    let out = attempts
        .filter(col("dialed_at").is_not_null())
        .select([
            col("campaign"),
            interval_of(calendar).alias("interval"),
            col("answered_at")
                .is_not_null()
                .and(machine.clone().not())
                .alias("person_answer"),
            machine.alias("machine"),
            col("abandoned"),
            col("bridged_at").is_not_null().alias("bridged"),
            seconds("bridged_at", "ended_at").alias("talk"),
            seconds("dialed_at", "answered_at").alias("ring"),
            // How long a person who answered held before an agent took the call.
            seconds("answered_at", "bridged_at").alias("hold"),
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
            col("hold").mean().alias("mean_hold_seconds"),
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

/// The dialer `report` with the campaigns' staffing: `agent_hours` (the logged-in time of
/// the agents assigned to the campaign, from `agent_seconds` by campaign and interval start in
/// milliseconds), `contacts_per_agent_hour` (calls bridged to an agent per agent hour) and
/// `dial_level` (calls ringing per logged-in agent, on average over the interval: each dial
/// rings from dialing until answered or given up, and counts in the interval it was dialed
/// in). Intervals without agent time have nulls.
pub fn with_staffing(
    report: DataFrame,
    attempts: LazyFrame,
    calendar: &Calendar,
    agent_seconds: &std::collections::HashMap<(String, i64), f64>,
) -> Result<DataFrame, ReportError> {
    let ms = |name: &str| col(name).cast(time_dtype()).cast(DataType::Int64);
    let ringing = attempts
        .filter(col("dialed_at").is_not_null())
        .select([
            col("campaign").cast(DataType::String),
            interval_of(calendar).alias("interval"),
            (ms("answered_at").fill_null(ms("ended_at")) - ms("dialed_at"))
                .clip_min(lit(0i64))
                .alias("ring_ms"),
        ])
        .group_by([col("campaign"), col("interval")])
        .agg([col("ring_ms").sum()]);
    let report = report
        .lazy()
        .join(
            ringing,
            [col("campaign"), col("interval")],
            [col("campaign"), col("interval")],
            JoinArgs::new(JoinType::Left),
        )
        .sort(["campaign", "interval"], SortMultipleOptions::default())
        .collect()?;
    let names = report.column("campaign")?.str()?;
    let starts = report.column("interval")?.cast(&DataType::Int64)?;
    let starts = starts.i64()?;
    let seconds: Vec<Option<f64>> = names
        .iter()
        .zip(starts.iter())
        .map(|(name, start)| {
            let seconds = *agent_seconds.get(&(name?.to_string(), start?))?;
            (seconds > 0.0).then_some(seconds)
        })
        .collect();
    let bridged = report.column("bridged")?.cast(&DataType::Float64)?;
    let bridged = bridged.f64()?;
    let ring = report.column("ring_ms")?.cast(&DataType::Float64)?;
    let ring = ring.f64()?;
    let hours: Vec<Option<f64>> = seconds.iter().map(|s| s.map(|s| s / 3600.0)).collect();
    let contacts: Vec<Option<f64>> = hours
        .iter()
        .zip(bridged.iter())
        .map(|(h, b)| Some(b? / (*h)?))
        .collect();
    let level: Vec<Option<f64>> = seconds
        .iter()
        .zip(ring.iter())
        .map(|(s, r)| Some(r.unwrap_or(0.0) / 1000.0 / (*s)?))
        .collect();
    let mut report = report.drop("ring_ms")?;
    report.with_column(Column::new("agent_hours".into(), hours))?;
    report.with_column(Column::new("contacts_per_agent_hour".into(), contacts))?;
    report.with_column(Column::new("dial_level".into(), level))?;
    Ok(report)
}

/// The dialer `report` with three columns more for the campaigns `rules` names: the abandon
/// rate over the campaign's compliance window ending with each interval, counted as the
/// runtime counts it (persons taken for machines estimated from the detector's false-positive
/// rate; no rate before any person answered), `ceiling`, and `over_ceiling`. `attempts` must
/// reach back a window before the first interval, or the first intervals' windows are short
/// of their earlier calls: use [`Compliance::window`] to read them. Rows of a campaign
/// without a rule keep nulls.
pub fn against_ceiling(
    report: DataFrame,
    attempts: LazyFrame,
    calendar: &Calendar,
    rules: &BTreeMap<String, Compliance>,
) -> Result<DataFrame, ReportError> {
    let machine = col("amd_verdict").eq(lit("machine")).fill_null(lit(false));
    // Each campaign's answers per minute, as the runtime's window keeps them.
    let minutes = attempts
        .filter(col("answered_at").is_not_null())
        .select([
            col("campaign").cast(DataType::String),
            col("answered_at")
                .cast(time_dtype())
                .cast(DataType::Int64)
                .floor_div(lit(60_000i64))
                .alias("minute"),
            machine.clone().not().alias("person"),
            col("abandoned").and(machine.clone().not()).alias("abandon"),
            machine.alias("machine"),
        ])
        .group_by([col("campaign"), col("minute")])
        .agg([
            col("person").sum().cast(DataType::Int64),
            col("abandon").sum().cast(DataType::Int64),
            col("machine").sum().cast(DataType::Int64),
        ])
        .sort(["campaign", "minute"], SortMultipleOptions::default())
        .collect()?;
    let mut by_campaign: BTreeMap<&str, Vec<(i64, i64, i64, i64)>> = BTreeMap::new();
    {
        let campaign = minutes.column("campaign")?.str()?;
        let int = |name: &str| minutes.column(name).and_then(|c| c.i64().cloned());
        let (minute, person, abandon, machine) = (int("minute")?, int("person")?, int("abandon")?, int("machine")?);
        for i in 0..minutes.height() {
            if let Some(name) = campaign.get(i) {
                by_campaign.entry(name).or_default().push((
                    minute.get(i).unwrap_or(0),
                    person.get(i).unwrap_or(0),
                    abandon.get(i).unwrap_or(0),
                    machine.get(i).unwrap_or(0),
                ));
            }
        }
    }
    let report = report.sort(["campaign", "interval"], SortMultipleOptions::default())?;
    let names = report.column("campaign")?.str()?;
    let starts = report.column("interval")?.cast(&DataType::Int64)?;
    let starts = starts.i64()?;
    let mut rates: Vec<Option<f64>> = Vec::with_capacity(report.height());
    let mut ceilings: Vec<Option<f64>> = Vec::with_capacity(report.height());
    // One campaign's window, and how far into its minutes it has been fed.
    let mut current: Option<(&str, AbandonWindow, usize)> = None;
    for i in 0..report.height() {
        let (Some(name), Some(start)) = (names.get(i), starts.get(i)) else {
            rates.push(None);
            ceilings.push(None);
            continue;
        };
        let Some(rule) = rules.get(name) else {
            rates.push(None);
            ceilings.push(None);
            continue;
        };
        if current.as_ref().is_none_or(|(c, _, _)| *c != name) {
            current = Some((
                name,
                AbandonWindow::new(rule.window, rule.ceiling, rule.false_positive),
                0,
            ));
        }
        let (_, window, fed) = current.as_mut().expect("set above");
        let start = DateTime::<Utc>::from_timestamp_millis(start).unwrap_or_default();
        let end = calendar.bucket().next_in(calendar.zone(), start);
        let end_minute = end.timestamp().div_euclid(60);
        let minutes = by_campaign.get(name).map_or(&[][..], Vec::as_slice);
        while let Some(&(minute, person, abandon, machine)) = minutes.get(*fed) {
            if minute >= end_minute {
                break;
            }
            let at = DateTime::<Utc>::from_timestamp(minute * 60, 0).unwrap_or_default();
            for _ in 0..person {
                window.person_answered(at);
            }
            for _ in 0..abandon {
                window.abandoned(at);
            }
            for _ in 0..machine {
                window.machine_detected(at);
            }
            *fed += 1;
        }
        let counts = window.counts(end);
        rates.push((counts.person_answers > 0.0).then(|| counts.rate()));
        ceilings.push(Some(rule.ceiling));
    }
    let over: Vec<Option<bool>> = rates
        .iter()
        .zip(&ceilings)
        .map(|(rate, ceiling)| Some((*rate)? > (*ceiling)?))
        .collect();
    let mut report = report;
    report.with_column(Column::new("window_abandon_rate".into(), rates))?;
    report.with_column(Column::new("ceiling".into(), ceilings))?;
    report.with_column(Column::new("over_ceiling".into(), over))?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::facts::{Attempt, attempts_frame};

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn hourly() -> Calendar {
        Calendar::utc(Bucket::Interval(Interval::Hour))
    }

    fn dial(at: &str, answered: bool, verdict: Option<&str>, abandoned: bool, bridged: bool) -> Attempt {
        let at = t(at);
        Attempt {
            campaign: "poll".into(),
            record_id: 1,
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

    #[test]
    fn the_window_rate_is_measured_against_the_ceiling_as_the_runtime_counts_it() {
        let mut attempts = Vec::new();
        for minute in 0..10 {
            // 09:00 to 09:54: ten persons, the second abandoned.
            attempts.push(dial(
                &format!("2026-11-25T09:{:02}:00Z", minute * 6),
                true,
                Some("person"),
                minute == 1,
                minute != 1,
            ));
            // 10:00 to 10:54: ten persons, none abandoned.
            attempts.push(dial(
                &format!("2026-11-25T10:{:02}:00Z", minute * 6),
                true,
                Some("person"),
                false,
                true,
            ));
        }
        let mut other = dial("2026-11-25T09:30:00Z", true, Some("person"), true, false);
        other.campaign = "bills".into();
        attempts.push(other);
        let frame = attempts_frame(&attempts);
        let base = report(frame.clone().lazy(), Interval::Hour).unwrap();
        let rule = Compliance {
            ceiling: 0.03,
            window: Duration::hours(1),
            false_positive: 0.0,
        };
        let rules = BTreeMap::from([("poll".to_string(), rule)]);
        let df = against_ceiling(base, frame.lazy(), &hourly(), &rules).unwrap();
        let rate = df.column("window_abandon_rate").unwrap().f64().unwrap();
        let over = df.column("over_ceiling").unwrap().bool().unwrap();
        let ceiling = df.column("ceiling").unwrap().f64().unwrap();
        // Rows: bills 09:00, poll 09:00, poll 10:00.
        assert_eq!((rate.get(0), ceiling.get(0), over.get(0)), (None, None, None), "{df}");
        assert_eq!((rate.get(1), over.get(1)), (Some(0.1), Some(true)), "{df}");
        // The hour to 11:00 no longer holds the abandon of 09:06.
        assert_eq!(
            (rate.get(2), ceiling.get(2), over.get(2)),
            (Some(0.0), Some(0.03), Some(false)),
            "{df}"
        );

        // A 24-hour window still holds it; with detection, hidden persons are added.
        let day = Compliance {
            window: Duration::hours(24),
            false_positive: 0.5,
            ..rule
        };
        let mut with_machine = attempts.clone();
        with_machine.push(dial("2026-11-25T10:30:00Z", true, Some("machine"), false, false));
        let frame = attempts_frame(&with_machine);
        let base = report(frame.clone().lazy(), Interval::Hour).unwrap();
        let rules = BTreeMap::from([("poll".to_string(), day)]);
        let df = against_ceiling(base, frame.lazy(), &hourly(), &rules).unwrap();
        let rate = df.column("window_abandon_rate").unwrap().f64().unwrap();
        // 20 persons seen, a machine verdict that may be a hidden person: (1 + 1) / (20 + 1).
        assert_eq!(rate.get(2), Some(2.0 / 21.0), "{df}");
    }

    #[test]
    fn staffing_gives_agent_hours_contacts_per_agent_hour_and_the_dial_level() {
        // Two dials ringing 10 s each and one bridged, in an hour when one agent was logged
        // in for half an hour.
        let attempts = vec![
            dial("2026-11-25T09:01:00Z", true, Some("person"), false, true),
            dial("2026-11-25T09:02:00Z", true, Some("person"), true, false),
            dial("2026-11-25T10:02:00Z", true, Some("person"), false, true),
        ];
        let frame = attempts_frame(&attempts);
        let base = report(frame.clone().lazy(), Interval::Hour).unwrap();
        let nine = t("2026-11-25T09:00:00Z").timestamp_millis();
        let seconds = std::collections::HashMap::from([(("poll".to_string(), nine), 1800.0)]);
        let df = with_staffing(base, frame.lazy(), &hourly(), &seconds).unwrap();
        let f = |name: &str, row: usize| df.column(name).unwrap().f64().unwrap().get(row);
        assert_eq!(f("agent_hours", 0), Some(0.5), "{df}");
        assert_eq!(f("contacts_per_agent_hour", 0), Some(2.0), "{df}");
        assert_eq!(f("dial_level", 0), Some(20.0 / 1800.0), "{df}");
        // No agent time at ten: no rates rather than infinities.
        assert_eq!((f("agent_hours", 1), f("dial_level", 1)), (None, None), "{df}");
        assert!(df.column("ring_ms").is_err());
    }
}
