//! The line chart: one line per series over a time or number axis, an optional dashed
//! reference line, and a legend to the right of the plot so it never covers the data.

use std::ops::Range;

use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::{
    ChartError, GRID, INK, Look, MUTED, PALETTE, Row, Series, Swatch, X, draw_error, draw_legend, legend_width, tick,
};

/// Series with at most this many points get a dot on each: with few points the dots show where
/// the data is; with many they would blur into the line.
const MAX_DOTTED: usize = 48;

/// A series ready to draw: its name, and its points sorted by x.
type Line<'a, X> = (&'a str, Vec<(X, f64)>);

/// Checks the series, then draws the title, the lines and their legend on `root`.
pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    look: &Look,
    name: &str,
    title: &str,
    labels: (&str, &str),
    series: &[Series],
    reference: Option<&(String, f64)>,
) -> Result<(), ChartError> {
    let invalid = |reason: &str| ChartError::Invalid {
        chart: name.to_string(),
        reason: reason.to_string(),
    };
    let lines: Vec<Line<X>> = series
        .iter()
        .map(|s| {
            let mut points: Vec<(X, f64)> = s
                .points
                .iter()
                .copied()
                .filter(|(x, y)| y.is_finite() && !matches!(x, X::Number(n) if !n.is_finite()))
                .collect();
            points.sort_by(|a, b| position(a.0).total_cmp(&position(b.0)));
            (s.name.as_str(), points)
        })
        .collect();
    let mut points = lines.iter().flat_map(|(_, p)| p);
    let Some(first) = points.next() else {
        return Err(ChartError::Empty {
            chart: name.to_string(),
        });
    };
    let times = matches!(first.0, X::Time(_));
    if points.any(|p| matches!(p.0, X::Time(_)) != times) {
        return Err(invalid(
            "the x values mix numbers and times; one chart has one kind of x axis",
        ));
    }
    if reference.is_some_and(|(_, value)| !value.is_finite()) {
        return Err(invalid("the reference line's value is not a finite number"));
    }

    let ys = lines
        .iter()
        .flat_map(|(_, p)| p.iter().map(|(_, y)| *y))
        .chain(reference.map(|(_, y)| *y));
    let (low, high) = ys.fold((0.0f64, f64::NEG_INFINITY), |(l, h), y| (l.min(y), h.max(y)));
    let high = if high > low {
        high + (high - low) * 0.08
    } else {
        low + 1.0
    };

    let area = look.frame(root, title)?;
    let mut rows: Vec<Row> = lines
        .iter()
        .zip(PALETTE.iter().cycle())
        .map(|((name, _), &c)| Row::new(Swatch::Line(c), *name, ""))
        .collect();
    if let Some((label, _)) = reference {
        rows.push(Row::new(Swatch::Dashed(MUTED), label.as_str(), ""));
    }
    let (width, _) = area.dim_in_pixel();
    let legend = legend_width(&area, look, &rows, width as i32 * 30 / 100)?;
    let (plot_area, legend_area) = area.split_horizontally(width as i32 - legend);
    let plot = Plot {
        look,
        labels,
        y: low..high,
        reference: reference.map(|(_, y)| *y),
    };

    if times {
        let lines: Vec<Line<DateTime<Utc>>> = lines
            .into_iter()
            .map(|(n, p)| (n, p.into_iter().filter_map(|(x, y)| time(x).map(|t| (t, y))).collect()))
            .collect();
        let (first, last) = span(lines.iter().flat_map(|(_, p)| p.iter().map(|(t, _)| *t)));
        let (first, last) = if first == last {
            (first - Duration::minutes(30), last + Duration::minutes(30))
        } else {
            (first, last)
        };
        let format = time_format(first, last);
        let label = |t: &DateTime<Utc>| t.format(format(t)).to_string();
        plot.draw(&plot_area, RangedDateTime::from(first..last), &lines, &label)?;
    } else {
        let lines: Vec<Line<f64>> = lines
            .into_iter()
            .map(|(n, p)| (n, p.into_iter().map(|(x, y)| (position(x), y)).collect()))
            .collect();
        let (first, last) = span(lines.iter().flat_map(|(_, p)| p.iter().map(|(x, _)| *x)));
        let (first, last) = if first == last {
            (first - 0.5, last + 0.5)
        } else {
            (first, last)
        };
        plot.draw(&plot_area, RangedCoordf64::from(first..last), &lines, &|x: &f64| {
            tick(*x)
        })?;
    }
    draw_legend(&legend_area, look, &rows, look.pad())
}

/// What one plot needs besides its x axis, which is either times or numbers.
struct Plot<'a> {
    look: &'a Look,
    labels: (&'a str, &'a str),
    y: Range<f64>,
    reference: Option<f64>,
}

impl Plot<'_> {
    fn draw<DB, XR>(
        &self,
        area: &DrawingArea<DB, Shift>,
        x: XR,
        lines: &[Line<XR::ValueType>],
        x_format: &dyn Fn(&XR::ValueType) -> String,
    ) -> Result<(), ChartError>
    where
        DB: DrawingBackend,
        XR: Ranged + ValueFormatter<XR::ValueType>,
        XR::ValueType: Clone + 'static,
    {
        let look = self.look;
        let x_range = x.range();
        let (width, _) = area.dim_in_pixel();
        let mut chart = ChartBuilder::on(area)
            .x_label_area_size(look.text * 3.2)
            .y_label_area_size(look.text * 5.0)
            .margin_right(look.pad())
            .build_cartesian_2d(x, self.y.clone())
            .map_err(draw_error)?;
        let y_format = |y: &f64| tick(*y);
        let mut mesh = chart.configure_mesh();
        mesh.light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .axis_style(INK.mix(0.6))
            // Room for labels as wide as "May 14" without crowding; plotters thins them to round steps.
            .x_labels((width as f64 / (look.text * 6.0)).clamp(2.0, 16.0) as usize)
            .y_labels(8)
            .label_style(look.ticks())
            .axis_desc_style(look.body())
            .y_label_formatter(&y_format);
        // An empty description would still take an empty <text> element and its space.
        if !self.labels.0.is_empty() {
            mesh.x_desc(self.labels.0);
        }
        if !self.labels.1.is_empty() {
            mesh.y_desc(self.labels.1);
        }
        mesh.x_label_formatter(x_format);
        mesh.draw().map_err(draw_error)?;
        if let Some(y) = self.reference {
            let ends = [(x_range.start.clone(), y), (x_range.end.clone(), y)];
            chart
                .draw_series(DashedLineSeries::new(ends, 10, 6, MUTED.stroke_width(2)))
                .map_err(draw_error)?;
        }
        for ((_, points), color) in lines.iter().zip(PALETTE.iter().cycle()) {
            chart
                .draw_series(LineSeries::new(points.iter().cloned(), color.stroke_width(2)))
                .map_err(draw_error)?;
            if points.len() <= MAX_DOTTED {
                chart
                    .draw_series(points.iter().map(|p| Circle::new(p.clone(), 3, color.filled())))
                    .map_err(draw_error)?;
            }
        }
        Ok(())
    }
}

/// Where a point sits on the axis, to sort points of either kind.
fn position(x: X) -> f64 {
    match x {
        X::Number(n) => n,
        X::Time(t) => t.timestamp_millis() as f64,
    }
}

fn time(x: X) -> Option<DateTime<Utc>> {
    match x {
        X::Time(t) => Some(t),
        X::Number(_) => None,
    }
}

fn span<T: PartialOrd + Copy>(mut values: impl Iterator<Item = T>) -> (T, T) {
    let first = values.next().expect("span of at least one value");
    values.fold((first, first), |(l, h), v| {
        (if v < l { v } else { l }, if v > h { v } else { h })
    })
}

/// How to label a tick: the hour within one day (with seconds, or milliseconds, when the axis
/// spans only minutes or seconds), the day when a tick falls on midnight of a multi-day axis,
/// both otherwise; the year only when the axis crosses one.
fn time_format(first: DateTime<Utc>, last: DateTime<Utc>) -> impl Fn(&DateTime<Utc>) -> &'static str {
    let span = last - first;
    let one_day = first.date_naive() == last.date_naive();
    let one_year = first.year() == last.year();
    move |t| match (one_day, t.time() == NaiveTime::MIN, one_year) {
        _ if span < Duration::minutes(1) => "%H:%M:%S%.3f",
        _ if span < Duration::minutes(10) => "%H:%M:%S",
        (true, _, _) => "%H:%M",
        (false, true, true) => "%b %d",
        (false, true, false) => "%Y-%m-%d",
        (false, false, _) => "%b %d %H:%M",
    }
}

#[cfg(test)]
mod tests {
    use super::super::check::{decode, save, svg_texts};
    use super::super::{Chart, ChartError};
    use super::*;
    use chrono::TimeZone;
    use polars::prelude::{DataType, TimeUnit, df};

    fn quarter_hours() -> Vec<DateTime<Utc>> {
        let start = Utc.with_ymd_and_hms(2025, 5, 14, 9, 0, 0).unwrap();
        (0..32).map(|i| start + Duration::minutes(15 * i)).collect()
    }

    fn abandon_rates() -> Chart {
        let times = quarter_hours();
        let rate = |i: usize, phase: f64| 0.012 + 0.01 * ((i as f64) / 3.0 + phase).sin().abs();
        Chart::line(
            "Abandon rate per 15 minutes",
            "time (UTC)",
            "abandon rate",
            vec![
                Series::new("Campaign A", times.iter().enumerate().map(|(i, t)| (*t, rate(i, 0.0)))),
                Series::new(
                    "Campaign B",
                    times
                        .iter()
                        .enumerate()
                        .map(|(i, t)| (*t, if i == 7 { f64::NAN } else { rate(i, 1.3) })),
                ),
            ],
        )
        .with_reference("Ceiling 3%", 0.03)
    }

    #[test]
    fn the_svg_is_well_formed_with_title_axes_legend_and_times() {
        let svg = abandon_rates().svg(900, 450).unwrap();
        save("line.svg", svg.as_bytes());
        let texts = svg_texts(&svg);
        for text in [
            "Abandon rate per 15 minutes",
            "time (UTC)",
            "abandon rate",
            "Campaign A",
            "Campaign B",
            "Ceiling 3%",
        ] {
            assert!(texts.contains(&text.to_string()), "{text} not in {texts:?}");
        }
        assert!(
            texts.iter().any(|t| t == "10:00"),
            "ticks are hours of the day: {texts:?}"
        );
    }

    #[test]
    fn the_png_has_the_asked_size_lines_and_a_rendered_title() {
        let png = abandon_rates().png(900, 450).unwrap();
        save("line.png", &png);
        let picture = decode(&png);
        assert_eq!((picture.width, picture.height), (900, 450));
        assert!(picture.distinct_colors() > 20, "{} colours", picture.distinct_colors());
        assert!(picture.dark_pixels(0..40) > 100, "the title is drawn");
    }

    #[test]
    fn numbers_on_the_x_axis_and_completes_per_day() {
        let by_attempt = Chart::line(
            "Contact rate by attempt",
            "attempt",
            "contact rate",
            vec![Series::new(
                "All campaigns",
                [(1.0, 0.31), (2.0, 0.24), (3.0, 0.19), (4.0, 0.12)],
            )],
        );
        let texts = svg_texts(&by_attempt.svg(600, 400).unwrap());
        assert!(
            texts.contains(&"attempt".to_string()) && texts.contains(&"All campaigns".to_string()),
            "{texts:?}"
        );

        let day = |d| Utc.with_ymd_and_hms(2025, 5, d, 0, 0, 0).unwrap();
        let per_day = Chart::line(
            "Completes per day",
            "day",
            "completes",
            vec![Series::new(
                "Completes",
                (1..=20).map(|d| (day(d), f64::from(40 + (d * 7) % 23))),
            )],
        );
        let png = per_day.png(800, 400).unwrap();
        save("line-per-day.png", &png);
        let texts = svg_texts(&per_day.svg(800, 400).unwrap());
        assert!(
            texts.iter().any(|t| t.starts_with("May ")),
            "days are labelled as dates: {texts:?}"
        );
    }

    #[test]
    fn time_ticks_show_what_changes_along_the_axis() {
        let at = |d, h, m, s| Utc.with_ymd_and_hms(2025, 5, d, h, m, s).unwrap();
        let label = |first, last, tick: DateTime<Utc>| tick.format(time_format(first, last)(&tick)).to_string();
        assert_eq!(label(at(14, 9, 0, 0), at(14, 17, 0, 0), at(14, 10, 0, 0)), "10:00");
        assert_eq!(label(at(14, 9, 0, 0), at(14, 9, 5, 0), at(14, 9, 2, 30)), "09:02:30");
        assert_eq!(label(at(1, 0, 0, 0), at(20, 0, 0, 0), at(8, 0, 0, 0)), "May 08");
        assert_eq!(
            label(at(14, 20, 0, 0), at(15, 4, 0, 0), at(15, 2, 0, 0)),
            "May 15 02:00"
        );
        let new_year = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(label(at(1, 0, 0, 0), new_year, new_year), "2026-01-01");
    }

    #[test]
    fn empty_mixed_and_bad_reference_lines_are_refused() {
        let err = Chart::line("Dials", "t", "n", vec![]).svg(800, 400).unwrap_err();
        assert!(
            matches!(err, ChartError::Empty { ref chart } if chart == "the line chart 'Dials'"),
            "{err}"
        );
        let nan_only = vec![Series::new("a", [(1.0, f64::NAN)])];
        assert!(matches!(
            Chart::line("Dials", "t", "n", nan_only).png(800, 400),
            Err(ChartError::Empty { .. })
        ));
        let mixed = vec![
            Series::new("a", [(1.0, 2.0)]),
            Series::new("b", [(Utc.with_ymd_and_hms(2025, 5, 1, 0, 0, 0).unwrap(), 2.0)]),
        ];
        let err = Chart::line("Dials", "t", "n", mixed).svg(800, 400).unwrap_err();
        assert!(err.to_string().contains("mix numbers and times"), "{err}");
        let chart =
            Chart::line("Dials", "t", "n", vec![Series::new("a", [(1.0, 2.0)])]).with_reference("cap", f64::NAN);
        assert!(chart.svg(800, 400).unwrap_err().to_string().contains("reference line"));
    }

    #[test]
    fn a_frame_gives_one_series_per_column_against_datetimes() {
        let times: Vec<i64> = quarter_hours().iter().take(3).map(|t| t.timestamp_millis()).collect();
        let mut frame = df!(
            "interval" => times,
            "dials" => [Some(120u32), Some(131), None],
            "answers" => [40.0, 52.0, 47.0],
        )
        .unwrap();
        frame
            .apply("interval", |c| {
                c.cast(&DataType::Datetime(TimeUnit::Milliseconds, None)).unwrap()
            })
            .unwrap();
        let chart = Chart::line_from_frame(&frame, "interval", &["dials", "answers"], "Dials").unwrap();
        let Chart::Line {
            x_label,
            y_label,
            series,
            ..
        } = &chart
        else {
            panic!("{chart:?}")
        };
        assert_eq!((x_label.as_str(), y_label.as_str()), ("interval", ""));
        assert_eq!(series[0].name, "dials");
        assert_eq!(series[0].points.len(), 2, "the null is skipped");
        assert_eq!(series[1].points[2], (X::Time(quarter_hours()[2]), 47.0));
        let texts = svg_texts(&chart.svg(800, 400).unwrap());
        assert!(texts.contains(&"answers".to_string()), "{texts:?}");
    }
}
