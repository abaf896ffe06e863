//! The chart that goes beside each report's table: which kind fits the report, and which of
//! its columns it draws. Plain data in, a [`Chart`] out; drawing it is the caller's choice
//! (SVG for a page, PNG for a file).
//!
//! A report whose frame lacks the columns expected, or has nothing to draw (every count
//! zero, no rows), gets no chart rather than an error: the table still says everything.

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::chart::{Chart, Series, X};

/// The chart that shows the report `report` (one of [`crate::REPORTS`]) made as `frame`, or
/// `None` when the report has no fitting chart (aapor: a list of rates) or nothing to draw.
pub fn chart_for(report: &str, frame: &DataFrame) -> Option<Chart> {
    chart_in(report, frame, chrono_tz::UTC)
}

/// [`chart_for`] a report whose time columns are wall-clock times of `zone` (named on the
/// time axes).
pub fn chart_in(report: &str, frame: &DataFrame, zone: chrono_tz::Tz) -> Option<Chart> {
    if frame.height() == 0 {
        return None;
    }
    let time = |what: &str| format!("{what} ({zone})");
    let chart = match report {
        "dialer" => dialer(frame, &time("interval")),
        "calls" => {
            Chart::histogram_from_column(frame, "talk_seconds", 20, "Talk time of the calls bridged to agents").ok()
        }
        "agent-productivity" => time_by_state(frame),
        "dispositions" => Chart::pie_from_frame(frame, "disposition", "attempts", "Attempts by disposition").ok(),
        "quotas" => completes_by_cell(frame),
        "interview-length" => lengths(frame),
        "drop-off" => lines_over(
            frame,
            "position",
            &[("reached", "reached"), ("broke_off", "broke off")],
            Labels {
                title: "Interviews reaching each question",
                x: "question (position in the questionnaire)".into(),
                y: "interviews",
            },
        ),
        "callbacks" => lines_over(
            frame,
            "period_start",
            &[
                ("booked", "booked"),
                ("dialed", "dialed"),
                ("reached", "reached"),
                ("completed", "completed"),
            ],
            Labels {
                title: "Callbacks per period",
                x: time("period"),
                y: "callbacks",
            },
        ),
        "return-visits" => lines_over(
            frame,
            "period_start",
            &[
                ("drawn", "drawn"),
                ("due", "due"),
                ("done", "done"),
                ("done_late", "done late"),
                ("overdue", "overdue"),
            ],
            Labels {
                title: "Return visits per period",
                x: time("period"),
                y: "visits",
            },
        ),
        _ => None,
    }?;
    drawable(&chart).then_some(chart)
}

/// The words around a chart.
struct Labels {
    title: &'static str,
    x: String,
    y: &'static str,
}

/// One line per `(column, legend name)` of `ys` against `x`. Rows sharing an x (one per
/// campaign, when the report covers several) are added up, so each line is the total.
fn lines_over(frame: &DataFrame, x: &str, ys: &[(&str, &str)], labels: Labels) -> Option<Chart> {
    let totals = frame
        .clone()
        .lazy()
        .group_by([col(x)])
        .agg(ys.iter().map(|(c, _)| col(*c).sum()).collect::<Vec<_>>())
        .sort([x], SortMultipleOptions::default())
        .collect()
        .ok()?;
    let columns: Vec<&str> = ys.iter().map(|(c, _)| *c).collect();
    let mut chart = Chart::line_from_frame(&totals, x, &columns, labels.title).ok()?;
    if let Chart::Line {
        x_label,
        y_label,
        series,
        ..
    } = &mut chart
    {
        *x_label = labels.x;
        *y_label = labels.y.to_string();
        for (line, (_, name)) in series.iter_mut().zip(ys) {
            line.name = name.to_string();
        }
    }
    Some(chart)
}

/// Dialer: the calls per interval and, below them when the report has the campaigns'
/// ceilings, each campaign's abandon rate over its compliance window against the ceiling.
fn dialer(frame: &DataFrame, x: &str) -> Option<Chart> {
    let calls = lines_over(
        frame,
        "interval",
        &[
            ("dials", "dials"),
            ("person_answers", "person answers"),
            ("abandons", "abandons"),
        ],
        Labels {
            title: "Dials, person answers and abandons",
            x: x.to_string(),
            y: "calls",
        },
    )?;
    match abandon_rates(frame, x) {
        Some(rates) if drawable(&rates) => Some(Chart::Stack {
            charts: vec![calls, rates],
        }),
        _ => Some(calls),
    }
}

/// One line per campaign of its abandon rate over its compliance window, in percent, with the
/// ceiling dashed across (the lowest, when the campaigns' ceilings differ).
fn abandon_rates(frame: &DataFrame, x: &str) -> Option<Chart> {
    let ceilings: Vec<f64> = frame.column("ceiling").ok()?.f64().ok()?.iter().flatten().collect();
    let lowest = ceilings.iter().copied().reduce(f64::min)?;
    let all_alike = ceilings.iter().all(|c| *c == lowest);
    let campaigns = frame.column("campaign").ok()?.str().ok()?;
    let mut names: Vec<&str> = campaigns.iter().flatten().collect();
    names.sort_unstable();
    names.dedup();
    let mut series = Vec::new();
    for name in names {
        let rows = frame.filter(&campaigns.equal(name)).ok()?;
        let line = Chart::line_from_frame(&rows, "interval", &["window_abandon_rate"], "").ok()?;
        let Chart::Line { series: mut lines, .. } = line else {
            return None;
        };
        let mut line = lines.pop()?;
        line.name = name.to_string();
        for (_, y) in &mut line.points {
            *y *= 100.0;
        }
        series.push(line);
    }
    let ceiling = format!(
        "{}ceiling {}%",
        if all_alike { "" } else { "lowest " },
        (lowest * 1000.0).round() / 10.0
    );
    Some(
        Chart::line(
            "Abandon rate over the compliance window",
            x,
            "abandoned (% of person answers)",
            series,
        )
        .with_reference(ceiling, lowest * 100.0),
    )
}

/// The column's total, as a number (`None` when the frame has no such numeric column).
fn total(frame: &DataFrame, name: &str) -> Option<f64> {
    let column = frame.column(name).ok()?;
    if !column.dtype().is_primitive_numeric() {
        return None;
    }
    Some(column.cast(&DataType::Float64).ok()?.f64().ok()?.sum().unwrap_or(0.0))
}

/// Agent productivity: the agents' time in each state, added over agents and periods; not
/// ready split by reason where the report has reasons. States without time are left out.
fn time_by_state(frame: &DataFrame) -> Option<Chart> {
    let mut seconds = Vec::new();
    for (column, label) in [
        ("ready", "ready"),
        ("reserved", "reserved"),
        ("talk", "talk"),
        ("wrap_up", "wrap-up"),
    ] {
        seconds.push((label.to_string(), total(frame, column)?));
    }
    let not_ready = total(frame, "not_ready")?;
    let mut by_reason = 0.0;
    for name in frame.get_column_names() {
        if let Some(reason) = name.as_str().strip_prefix("not_ready:") {
            let time = total(frame, name.as_str()).unwrap_or(0.0);
            by_reason += time;
            seconds.push((format!("not ready: {reason}"), time));
        }
    }
    // Not ready without a reason given, or all of it when the report has no reasons.
    seconds.push(("not ready".to_string(), not_ready - by_reason));
    // The unit that keeps the legend's numbers readable: a short day in minutes, a
    // month in hours, a first minute of the demo in seconds.
    let whole: f64 = seconds.iter().map(|(_, s)| s.max(0.0)).sum();
    let (unit, per) = if whole >= 2.0 * 3600.0 {
        ("hours", 3600.0)
    } else if whole >= 120.0 {
        ("minutes", 60.0)
    } else {
        ("seconds", 1.0)
    };
    let slices = seconds
        .into_iter()
        .filter(|(_, s)| *s >= 0.5)
        .map(|(label, s)| (label, s / per))
        .collect();
    Some(Chart::pie(format!("Agents' time by state ({unit})"), slices))
}

/// Quotas: completes by cell of the first quota that has any (the cells of one quota divide
/// its completes; cells of different quotas overlap, so one pie shows one quota).
fn completes_by_cell(frame: &DataFrame) -> Option<Chart> {
    let quotas = frame.column("quota").ok()?.str().ok()?;
    let cells = frame.column("cell").ok()?.str().ok()?;
    let completes = frame.column("completes").ok()?.cast(&DataType::Float64).ok()?;
    let completes = completes.f64().ok()?;
    let mut order: Vec<&str> = Vec::new();
    let mut by_quota: BTreeMap<&str, Vec<(String, f64)>> = BTreeMap::new();
    for ((quota, cell), n) in quotas.iter().zip(cells.iter()).zip(completes.iter()) {
        let (Some(quota), Some(cell)) = (quota, cell) else {
            continue;
        };
        if !order.contains(&quota) {
            order.push(quota);
        }
        by_quota
            .entry(quota)
            .or_default()
            .push((cell.to_string(), n.unwrap_or(0.0)));
    }
    let quota = order.into_iter().find(|q| by_quota[q].iter().any(|(_, n)| *n > 0.0))?;
    let slices = by_quota.remove(quota)?;
    Some(Chart::pie(format!("Completes by {quota}"), slices))
}

/// Interview length: completed interviews per band of minutes, drawn at each band's middle,
/// with the bands nobody fell in drawn at zero (the report lists only bands with interviews,
/// and a line straight across a gap would suggest interviews that were not there).
fn lengths(frame: &DataFrame) -> Option<Chart> {
    let from = frame.column("from_min").ok()?.cast(&DataType::Int64).ok()?;
    let to = frame.column("to_min").ok()?.cast(&DataType::Int64).ok()?;
    let count = frame.column("interviews").ok()?.cast(&DataType::Float64).ok()?;
    let mut bands: BTreeMap<i64, f64> = BTreeMap::new();
    let mut width = 1;
    for ((from, to), n) in from
        .i64()
        .ok()?
        .iter()
        .zip(to.i64().ok()?.iter())
        .zip(count.f64().ok()?.iter())
    {
        let (Some(from), Some(to), Some(n)) = (from, to, n) else {
            continue;
        };
        width = (to - from).max(1);
        *bands.entry(from).or_default() += n;
    }
    let (&first, &last) = (bands.keys().next()?, bands.keys().next_back()?);
    let points = (first..=last).step_by(width as usize).map(|from| {
        (
            X::Number(from as f64 + width as f64 / 2.0),
            bands.get(&from).copied().unwrap_or(0.0),
        )
    });
    Some(Chart::Line {
        title: "Completed interviews by length".into(),
        x_label: "length (minutes)".into(),
        y_label: "interviews".into(),
        series: vec![Series {
            name: "completes".into(),
            points: points.collect(),
        }],
        reference: None,
    })
}

/// Whether the chart has something to draw: a slice above zero, or a finite point.
fn drawable(chart: &Chart) -> bool {
    match chart {
        Chart::Pie { slices, .. } => slices.iter().any(|(_, v)| v.is_finite() && *v > 0.0),
        Chart::Histogram { values, .. } => values.iter().any(|v| v.is_finite()),
        Chart::Line { series, .. } => series.iter().flat_map(|s| &s.points).any(|(_, y)| y.is_finite()),
        Chart::Stack { charts } => charts.iter().any(drawable),
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::REPORTS;

    fn at(day: u32, hour: u32) -> chrono::NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, day)
            .unwrap()
            .and_hms_opt(hour, 0, 0)
            .unwrap()
    }

    /// A small frame shaped like each report's.
    fn frame(report: &str) -> DataFrame {
        match report {
            "dialer" => df!(
                "campaign" => ["a", "b", "a"],
                "interval" => [at(30, 9), at(30, 9), at(30, 10)],
                "dials" => [10u32, 4, 12],
                "person_answers" => [4u32, 1, 5],
                "machines" => [2u32, 1, 3],
                "abandons" => [0u32, 0, 1],
                "bridged" => [4u32, 1, 4],
                "mean_talk_seconds" => [Some(60.0), None, Some(75.5)],
                "mean_ring_seconds" => [12.0, 15.0, 11.0],
                "abandon_rate" => [Some(0.0), Some(0.0), Some(0.2)],
                "window_abandon_rate" => [Some(0.0), None, Some(0.04)],
                "ceiling" => [Some(0.03), Some(0.05), Some(0.03)],
                "over_ceiling" => [Some(false), None, Some(true)],
            ),
            "agent-productivity" => df!(
                "agent" => ["ann", "bob"],
                "period" => [at(30, 0), at(30, 0)],
                "logged_in" => [7200.0, 3600.0],
                "ready" => [1800.0, 600.0],
                "not_ready" => [900.0, 600.0],
                "reserved" => [100.0, 50.0],
                "talk" => [3600.0, 1800.0],
                "wrap_up" => [800.0, 550.0],
                "not_ready:lunch" => [900.0, 0.0],
                "dials" => [40u32, 20],
                "contacts" => [12u32, 6],
                "completes" => [3u32, 1],
                "occupancy" => [0.7, 0.8],
                "completes_per_hour" => [1.5, 1.0],
            ),
            "dispositions" => df!(
                "campaign" => ["a", "a", "b"],
                "disposition" => ["complete", "no_answer", "complete"],
                "attempts" => [5u32, 3, 2],
                "share_pct" => [62.5, 37.5, 100.0],
            ),
            "quotas" => df!(
                "campaign" => ["a"; 4],
                "quota" => ["gender", "gender", "age", "age"],
                "cell" => ["female", "male", "18-34", "35+"],
                "target" => [50u32, 50, 50, 50],
                "completes" => [3u32, 2, 4, 1],
                "in_progress" => [1u32, 0, 0, 1],
                "remaining" => [47u32, 48, 46, 49],
                "done_pct" => [6.0, 4.0, 8.0, 2.0],
                "full" => [false, false, false, false],
            ),
            "aapor" => df!(
                "campaign" => ["a", "a"],
                "measure" => ["I", "RR1"],
                "value" => [Some(3.0), Some(0.25)],
                "about" => ["complete interviews", "response rate 1"],
            ),
            "interview-length" => df!(
                "campaign" => ["a", "a"],
                "from_min" => [3i64, 7],
                "to_min" => [4i64, 8],
                "interviews" => [2u32, 1],
                "share_pct" => [66.7, 33.3],
            ),
            "drop-off" => df!(
                "campaign" => ["a"; 3],
                "position" => [1u32, 2, 3],
                "question" => ["consent", "age", "gender"],
                "reached" => [4u32, 3, 2],
                "broke_off" => [1u32, 1, 0],
                "broke_off_pct" => [25.0, 33.3, 0.0],
            ),
            "callbacks" => df!(
                "campaign" => ["a", "a"],
                "period_start" => [at(29, 0), at(30, 0)],
                "booked" => [2u32, 1],
                "dialed" => [1u32, 2],
                "reached" => [1u32, 1],
                "completed" => [0u32, 1],
            ),
            "return-visits" => df!(
                "campaign" => ["a"],
                "period_start" => [at(30, 0)],
                "drawn" => [4u32],
                "due" => [3u32],
                "done" => [2u32],
                "done_late" => [1u32],
                "overdue" => [1u32],
            ),
            "calls" => df!(
                "attempt" => [1i64, 2, 3],
                "campaign" => ["a"; 3],
                "ring_seconds" => [Some(8.0), Some(30.0), Some(6.0)],
                "hold_seconds" => [Some(1.5), None, Some(4.0)],
                "talk_seconds" => [Some(180.0), None, Some(95.0)],
            ),
            other => panic!("no frame for {other}"),
        }
        .unwrap()
    }

    fn slices(chart: &Chart) -> Vec<(String, f64)> {
        match chart {
            Chart::Pie { slices, .. } => slices.clone(),
            other => panic!("not a pie: {other:?}"),
        }
    }

    fn series(chart: &Chart) -> Vec<(String, Vec<(X, f64)>)> {
        match chart {
            Chart::Line { series, .. } => series.iter().map(|s| (s.name.clone(), s.points.clone())).collect(),
            other => panic!("not a line chart: {other:?}"),
        }
    }

    #[test]
    fn every_report_gets_a_chart_that_draws_except_aapor() {
        for report in REPORTS {
            let chart = chart_for(report, &frame(report));
            if report == "aapor" {
                assert!(chart.is_none(), "aapor is a list of rates");
                continue;
            }
            let chart = chart.unwrap_or_else(|| panic!("{report} has no chart"));
            let svg = chart.svg(640, 400).unwrap_or_else(|e| panic!("{report}: {e}"));
            assert!(svg.starts_with("<svg"), "{report}");
            chart.png(640, 400).unwrap_or_else(|e| panic!("{report}: {e}"));
        }
    }

    #[test]
    fn empty_frames_foreign_frames_and_unknown_reports_get_none() {
        for report in REPORTS {
            let empty = frame(report).head(Some(0));
            assert!(chart_for(report, &empty).is_none(), "{report} without rows");
            let foreign = df!("x" => ["a"], "y" => [1u32]).unwrap();
            assert!(chart_for(report, &foreign).is_none(), "{report} of another shape");
        }
        assert!(chart_for("weather", &frame("dialer")).is_none());
    }

    #[test]
    fn the_dialer_lines_add_up_the_campaigns_per_interval() {
        let chart = chart_for("dialer", &frame("dialer")).unwrap();
        let Chart::Stack { charts } = &chart else {
            panic!("calls above the abandon rate: {chart:?}")
        };
        let lines = series(&charts[0]);
        let names: Vec<&str> = lines.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["dials", "person answers", "abandons"]);
        let dials: Vec<f64> = lines[0].1.iter().map(|(_, y)| *y).collect();
        assert_eq!(dials, [14.0, 12.0]);
        // Below: each campaign's window rate in percent, against the lowest ceiling.
        let rates = series(&charts[1]);
        assert_eq!(rates[0].0, "a");
        let a: Vec<f64> = rates[0].1.iter().map(|(_, y)| *y).collect();
        assert_eq!(a, [0.0, 4.0]);
        assert!(rates[1].1.is_empty(), "b has no window rate yet: {rates:?}");
        let Chart::Line { reference, .. } = &charts[1] else {
            panic!("a line chart")
        };
        assert_eq!(reference, &Some(("lowest ceiling 3%".to_string(), 3.0)));
        let svg = chart.svg(720, 600).unwrap();
        let texts = crate::chart::check::svg_texts(&svg);
        assert!(
            texts.iter().any(|t| t == "Abandon rate over the compliance window"),
            "{texts:?}"
        );
        assert!(
            texts.iter().any(|t| t == "Dials, person answers and abandons"),
            "{texts:?}"
        );

        // Without ceilings (a campaign with no rule), the calls alone.
        let plain = frame("dialer").drop_many(["window_abandon_rate", "ceiling", "over_ceiling"]);
        assert!(matches!(chart_for("dialer", &plain), Some(Chart::Line { .. })));
    }

    #[test]
    fn productivity_splits_not_ready_by_reason_in_hours() {
        let chart = chart_for("agent-productivity", &frame("agent-productivity")).unwrap();
        let slices = slices(&chart);
        let get = |label: &str| slices.iter().find(|(l, _)| l == label).map(|(_, v)| *v);
        assert_eq!(get("talk"), Some(1.5));
        assert_eq!(get("not ready: lunch"), Some(0.25));
        assert_eq!(
            get("not ready"),
            Some(600.0 / 3600.0),
            "bob's not ready without a reason"
        );
    }

    #[test]
    fn dispositions_add_up_across_campaigns() {
        let chart = chart_for("dispositions", &frame("dispositions")).unwrap();
        assert_eq!(
            slices(&chart),
            [("complete".to_string(), 7.0), ("no_answer".to_string(), 3.0)]
        );
    }

    #[test]
    fn quotas_show_the_first_quota_with_completes() {
        let chart = chart_for("quotas", &frame("quotas")).unwrap();
        assert!(matches!(&chart, Chart::Pie { title, .. } if title == "Completes by gender"));
        assert_eq!(slices(&chart).len(), 2);
        let none = frame("quotas")
            .lazy()
            .with_column(lit(0u32).alias("completes"))
            .collect()
            .unwrap();
        assert!(chart_for("quotas", &none).is_none(), "no completes: nothing to divide");
    }

    #[test]
    fn interview_lengths_fill_the_empty_bands_with_zero() {
        let chart = chart_for("interview-length", &frame("interview-length")).unwrap();
        let points: Vec<(X, f64)> = series(&chart).remove(0).1;
        let ys: Vec<f64> = points.iter().map(|(_, y)| *y).collect();
        assert_eq!(ys, [2.0, 0.0, 0.0, 0.0, 1.0]);
        assert_eq!(points[0].0, X::Number(3.5));
    }

    #[test]
    fn drop_off_draws_reached_and_broke_off_by_position() {
        let chart = chart_for("drop-off", &frame("drop-off")).unwrap();
        let lines = series(&chart);
        assert_eq!(lines[0].0, "reached");
        assert_eq!(lines[0].1[2], (X::Number(3.0), 2.0));
        assert_eq!(lines[1].0, "broke off");
    }
}
