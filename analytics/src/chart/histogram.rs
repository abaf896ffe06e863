//! The histogram: the range of the values cut into equal-width bins, one bar per bin, the
//! count on the y axis.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{ChartError, GRID, INK, Look, PALETTE, draw_error, tick};

/// Checks the values and bins, then draws the title and the bars on `root`.
pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    look: &Look,
    name: &str,
    title: &str,
    x_label: &str,
    values: &[f64],
    bins: usize,
) -> Result<(), ChartError> {
    let bars = count(name, values, bins)?;
    let (low, high) = (bars[0].0, bars[bars.len() - 1].1);
    let most = bars.iter().map(|b| b.2).max().unwrap_or(0);
    let area = look.frame(root, title)?;

    let mut chart = ChartBuilder::on(&area)
        .x_label_area_size(look.text * 3.2)
        .y_label_area_size(look.text * 5.0)
        .margin_right(look.pad())
        .build_cartesian_2d(low..high, 0u32..(most + most / 10).max(most + 1))
        .map_err(draw_error)?;
    let x_format = |x: &f64| tick(*x);
    let mut mesh = chart.configure_mesh();
    mesh.disable_x_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID)
        .axis_style(INK.mix(0.6))
        .x_labels(10)
        .y_labels(8)
        .label_style(look.ticks())
        .axis_desc_style(look.body())
        .x_label_formatter(&x_format)
        .y_desc("count");
    // An empty description would still take an empty <text> element.
    if !x_label.is_empty() {
        mesh.x_desc(x_label);
    }
    mesh.draw().map_err(draw_error)?;
    chart
        .draw_series(
            bars.iter()
                .map(|&(from, to, n)| Rectangle::new([(from, 0), (to, n)], PALETTE[0].filled())),
        )
        .map_err(draw_error)?;
    // A white edge keeps neighbouring bars apart when bins are narrow.
    chart
        .draw_series(
            bars.iter()
                .map(|&(from, to, n)| Rectangle::new([(from, 0), (to, n)], WHITE.stroke_width(1))),
        )
        .map_err(draw_error)?;
    Ok(())
}

/// The bins as `(from, to, count)`, skipping NaN and infinite values. A single distinct value
/// gets a bin one unit wide around it, so it still shows as a bar.
fn count(name: &str, values: &[f64], bins: usize) -> Result<Vec<(f64, f64, u32)>, ChartError> {
    if bins == 0 {
        return Err(ChartError::Invalid {
            chart: name.to_string(),
            reason: "a histogram needs at least one bin".into(),
        });
    }
    let values: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if values.is_empty() {
        return Err(ChartError::Empty {
            chart: name.to_string(),
        });
    }
    let (mut low, mut high) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
    if low == high {
        low -= 0.5;
        high += 0.5;
    }
    let width = (high - low) / bins as f64;
    let mut counts = vec![0u32; bins];
    for v in values {
        // The top value belongs to the last bin, not to one past it.
        let bin = (((v - low) / width) as usize).min(bins - 1);
        counts[bin] += 1;
    }
    Ok(counts
        .into_iter()
        .enumerate()
        .map(|(i, n)| {
            (
                low + width * i as f64,
                if i + 1 == bins {
                    high
                } else {
                    low + width * (i + 1) as f64
                },
                n,
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::super::check::{decode, save, svg_texts};
    use super::super::{Chart, ChartError};
    use super::*;
    use polars::prelude::df;

    /// Talk times in seconds, skewed like real ones: most short, a long tail.
    fn talk_times() -> Vec<f64> {
        (0..600)
            .map(|i| 40.0 + f64::from(i % 37) * f64::from(i % 11) * 1.7 + f64::from(i % 5) * 9.0)
            .collect()
    }

    fn chart() -> Chart {
        let mut values = talk_times();
        values.push(f64::NAN);
        Chart::histogram("Talk time of completes", "talk time (seconds)", values, 24)
    }

    #[test]
    fn bins_cover_the_range_and_count_every_finite_value() {
        let bars = count("x", &[1.0, 2.0, 3.0, 4.0, f64::NAN, f64::INFINITY], 3).unwrap();
        assert_eq!(bars, vec![(1.0, 2.0, 1), (2.0, 3.0, 1), (3.0, 4.0, 2)]);
        assert_eq!(count("x", &[7.0, 7.0], 4).unwrap().iter().map(|b| b.2).sum::<u32>(), 2);
    }

    #[test]
    fn the_svg_is_well_formed_with_title_and_axis_labels() {
        let svg = chart().svg(800, 450).unwrap();
        save("histogram.svg", svg.as_bytes());
        let texts = svg_texts(&svg);
        for text in ["Talk time of completes", "talk time (seconds)", "count"] {
            assert!(texts.contains(&text.to_string()), "{text} not in {texts:?}");
        }
    }

    #[test]
    fn the_png_has_the_asked_size_bars_and_a_rendered_title() {
        let png = chart().png(800, 450).unwrap();
        save("histogram.png", &png);
        let picture = decode(&png);
        assert_eq!((picture.width, picture.height), (800, 450));
        assert!(picture.distinct_colors() > 20, "{} colours", picture.distinct_colors());
        let bar = picture
            .rgb
            .chunks(3)
            .filter(|p| *p == [PALETTE[0].0, PALETTE[0].1, PALETTE[0].2])
            .count();
        assert!(bar > 10_000, "bars are drawn: {bar} pixels");
        assert!(picture.dark_pixels(0..40) > 100, "the title is drawn");
    }

    #[test]
    fn no_values_or_no_bins_are_refused() {
        let err = Chart::histogram("Talk", "s", vec![f64::NAN], 10)
            .png(800, 450)
            .unwrap_err();
        assert!(
            matches!(err, ChartError::Empty { ref chart } if chart == "the histogram 'Talk'"),
            "{err}"
        );
        let err = Chart::histogram("Talk", "s", vec![1.0], 0).svg(800, 450).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the histogram 'Talk': a histogram needs at least one bin"
        );
    }

    #[test]
    fn a_column_gives_its_values_and_its_name() {
        let frame = df!("talk_seconds" => [Some(30.0), None, Some(90.0)]).unwrap();
        let chart = Chart::histogram_from_column(&frame, "talk_seconds", 5, "Talk").unwrap();
        assert_eq!(chart, Chart::histogram("Talk", "talk_seconds", vec![30.0, 90.0], 5));
    }
}
