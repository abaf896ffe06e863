//! The pie chart: slices clockwise from twelve o'clock, each slice's percentage inside it when
//! it fits, and a legend beside the pie with every label, percentage and value.

use std::f64::consts::{PI, TAU};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{ChartError, INK, Look, PALETTE, Row, Swatch, draw_error, draw_legend, legend_width, readable, row_height};

/// Past this many slices the smallest are folded into one "Other" slice: the palette has this
/// many colours, and thinner slices could not be told apart anyway. A short picture folds
/// more, so that every slice keeps its legend row.
const MAX_SLICES: usize = PALETTE.len();

/// Slices below this share of the whole get no percentage inside: it would not fit. The
/// legend still gives it.
const MIN_LABELLED_SHARE: f64 = 0.04;

/// Checks the slices, then draws the title, the pie and its legend on `root`.
pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    look: &Look,
    name: &str,
    title: &str,
    slices: &[(String, f64)],
) -> Result<(), ChartError> {
    let slices = prepare(name, slices)?;
    let total: f64 = slices.iter().map(|(_, v)| v).sum();
    let area = look.frame(root, title)?;
    let (width, height) = area.dim_in_pixel();
    let (width, height) = (width as i32, height as i32);
    let slices = fold(slices, ((height / row_height(look)) as usize).clamp(2, MAX_SLICES));

    let rows: Vec<Row> = slices
        .iter()
        .zip(PALETTE)
        .map(|((label, value), color)| {
            let details = format!(": {:.1}% ({})", value / total * 100.0, readable(*value));
            Row::new(Swatch::Block(color), label.as_str(), details)
        })
        .collect();
    let legend = legend_width(&area, look, &rows, width * 45 / 100)?;
    let (pie_area, legend_area) = area.split_horizontally(width - legend);

    let pie_width = width - legend;
    let radius = f64::from((pie_width - look.pad()).min(height)) * 0.46;
    let center = (pie_width / 2, height / 2);
    let mut start = -PI / 2.0;
    let mut boundaries = Vec::new();
    let mut labels = Vec::new();
    for ((_, value), color) in slices.iter().zip(PALETTE) {
        let share = value / total;
        if share <= 0.0 {
            continue;
        }
        let end = start + share * TAU;
        pie_area
            .draw(&Polygon::new(wedge(center, radius, start, end), color.filled()))
            .map_err(draw_error)?;
        boundaries.push(start);
        if share >= MIN_LABELLED_SHARE {
            labels.push((
                format!("{:.0}%", share * 100.0),
                point(center, radius * 0.68, (start + end) / 2.0),
                color,
            ));
        }
        start = end;
    }
    // White spokes between slices read as gaps and hide the bitmap's jagged polygon edges.
    if boundaries.len() > 1 {
        for angle in boundaries {
            let spoke = vec![center, point(center, radius + 1.0, angle)];
            pie_area
                .draw(&PathElement::new(spoke, WHITE.stroke_width(2)))
                .map_err(draw_error)?;
        }
    }
    for (text, at, color) in labels {
        let ink = if luminance(color) > 0.6 { INK } else { WHITE };
        let style = look.style(look.text, &ink).pos(Pos::new(HPos::Center, VPos::Center));
        pie_area.draw(&Text::new(text, at, style)).map_err(draw_error)?;
    }

    let top = ((height - row_height(look) * rows.len() as i32) / 2).max(0);
    draw_legend(&legend_area, look, &rows, top)
}

/// The slices to draw: NaNs dropped, refused when empty, negative or all zero.
fn prepare(name: &str, slices: &[(String, f64)]) -> Result<Vec<(String, f64)>, ChartError> {
    let mut kept = Vec::with_capacity(slices.len());
    for (label, value) in slices {
        if !value.is_finite() {
            continue;
        }
        if *value < 0.0 {
            return Err(ChartError::Invalid {
                chart: name.to_string(),
                reason: format!(
                    "slice '{label}' is {value}; a pie shows parts of a whole, so no slice can be negative"
                ),
            });
        }
        kept.push((label.clone(), *value));
    }
    if kept.is_empty() {
        return Err(ChartError::Empty {
            chart: name.to_string(),
        });
    }
    if kept.iter().all(|(_, v)| *v == 0.0) {
        return Err(ChartError::AllZero {
            chart: name.to_string(),
        });
    }
    Ok(kept)
}

/// At most `max` slices: past that, the largest `max - 1` in their order and an "Other (n)"
/// slice for the rest.
fn fold(slices: Vec<(String, f64)>, max: usize) -> Vec<(String, f64)> {
    if slices.len() <= max {
        return slices;
    }
    let mut by_size: Vec<usize> = (0..slices.len()).collect();
    by_size.sort_by(|&a, &b| slices[b].1.total_cmp(&slices[a].1));
    let small = &by_size[max - 1..];
    let (mut other, mut folded) = (0.0, 0);
    let mut large = Vec::with_capacity(max);
    for (i, slice) in slices.into_iter().enumerate() {
        if small.contains(&i) {
            other += slice.1;
            folded += 1;
        } else {
            large.push(slice);
        }
    }
    large.push((format!("Other ({folded})"), other));
    large
}

/// The outline of a slice: the centre, then the arc in steps short enough to look round.
fn wedge(center: (i32, i32), radius: f64, start: f64, end: f64) -> Vec<(i32, i32)> {
    let steps = (((end - start) * radius / 2.0).ceil() as usize).max(2);
    std::iter::once(center)
        .chain((0..=steps).map(|i| point(center, radius, start + (end - start) * i as f64 / steps as f64)))
        .collect()
}

fn point(center: (i32, i32), radius: f64, angle: f64) -> (i32, i32) {
    (
        center.0 + (radius * angle.cos()).round() as i32,
        center.1 + (radius * angle.sin()).round() as i32,
    )
}

/// Relative luminance, to choose dark or light text on a slice.
fn luminance(color: RGBColor) -> f64 {
    (0.2126 * f64::from(color.0) + 0.7152 * f64::from(color.1) + 0.0722 * f64::from(color.2)) / 255.0
}

#[cfg(test)]
mod tests {
    use super::super::check::{decode, save, svg_texts};
    use super::super::{Chart, ChartError};
    use super::*;
    use polars::prelude::df;

    fn dispositions() -> Chart {
        Chart::pie(
            "Calls by disposition & result",
            vec![
                ("Complete".into(), 412.0),
                ("No answer".into(), 1310.0),
                ("Busy".into(), 96.0),
                ("Answering machine".into(), 540.0),
                ("Refused".into(), 233.0),
                ("Callback".into(), 57.0),
                ("Fax".into(), f64::NAN),
            ],
        )
    }

    #[test]
    fn the_svg_is_well_formed_and_names_every_slice_with_its_percentage() {
        let svg = dispositions().svg(800, 450).unwrap();
        save("pie.svg", svg.as_bytes());
        let texts = svg_texts(&svg);
        assert!(
            texts.contains(&"Calls by disposition & result".to_string()),
            "{texts:?}"
        );
        for label in [
            "Complete: 15.6% (412)",
            "No answer: 49.5% (1,310)",
            "Callback: 2.2% (57)",
        ] {
            assert!(texts.contains(&label.to_string()), "{label} not in {texts:?}");
        }
        assert!(
            texts.contains(&"49%".to_string()),
            "the big slice's percentage is inside it: {texts:?}"
        );
        assert!(
            !texts.iter().any(|t| t.contains("Fax")),
            "a NaN slice is skipped: {texts:?}"
        );
    }

    #[test]
    fn the_png_has_the_asked_size_colours_and_a_rendered_title() {
        let png = dispositions().png(800, 450).unwrap();
        save("pie.png", &png);
        let picture = decode(&png);
        assert_eq!((picture.width, picture.height), (800, 450));
        assert!(picture.distinct_colors() > 20, "{} colours", picture.distinct_colors());
        assert!(
            picture.dark_pixels(0..40) > 100,
            "the title is drawn: {}",
            picture.dark_pixels(0..40)
        );
    }

    #[test]
    fn empty_all_zero_and_negative_pies_are_refused() {
        let err = Chart::pie("Calls", vec![]).svg(800, 450).unwrap_err();
        assert!(
            matches!(err, ChartError::Empty { ref chart } if chart == "the pie chart 'Calls'"),
            "{err}"
        );
        let err = Chart::pie("Calls", vec![("a".into(), f64::NAN)])
            .png(800, 450)
            .unwrap_err();
        assert!(matches!(err, ChartError::Empty { .. }), "{err}");
        let err = Chart::pie("Calls", vec![("a".into(), 0.0), ("b".into(), 0.0)])
            .svg(800, 450)
            .unwrap_err();
        assert!(matches!(err, ChartError::AllZero { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            "the pie chart 'Calls' has only zero values: there is no whole to divide"
        );
        let err = Chart::pie("Calls", vec![("a".into(), 2.0), ("b".into(), -1.0)])
            .svg(800, 450)
            .unwrap_err();
        assert!(err.to_string().contains("slice 'b' is -1"), "{err}");
    }

    #[test]
    fn past_ten_slices_the_smallest_fold_into_other() {
        let slices: Vec<(String, f64)> = (1..=13).map(|i| (format!("s{i}"), f64::from(i))).collect();
        let kept = fold(prepare("x", &slices).unwrap(), MAX_SLICES);
        assert_eq!(kept.len(), 10);
        assert_eq!(kept[0], ("s5".to_string(), 5.0), "the order of the kept slices stays");
        assert_eq!(kept[9], ("Other (4)".to_string(), 1.0 + 2.0 + 3.0 + 4.0));
    }

    #[test]
    fn a_frame_gives_one_slice_per_label_summing_repeats() {
        let frame = df!(
            "disposition" => [Some("complete"), Some("busy"), Some("complete"), None],
            "calls" => [Some(3i64), Some(2), Some(4), Some(1)],
        )
        .unwrap();
        let chart = Chart::pie_from_frame(&frame, "disposition", "calls", "Calls").unwrap();
        assert_eq!(
            chart,
            Chart::pie(
                "Calls",
                vec![("complete".into(), 7.0), ("busy".into(), 2.0), ("(none)".into(), 1.0)]
            )
        );
    }
}
