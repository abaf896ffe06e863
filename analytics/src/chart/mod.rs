//! Charts drawn on the server: a pie, a histogram or a line chart, from plain data or from a
//! report's DataFrame, rendered as SVG text or PNG bytes. No I/O: the caller decides where the
//! picture goes (an HTTP response, a file, an e-mail).
//!
//! Text is measured, and drawn in PNGs, with DejaVu Sans embedded in the crate (`fonts/`), so a
//! picture comes out the same on every machine, with or without system fonts. SVG names the
//! family `sans-serif` and leaves the glyphs to the viewer.
//!
//! `pie`, `histogram` and `line` each check their data and draw one kind of chart; this module
//! holds the types, the two outputs, the shared look (palette, text sizes, title, legend) and
//! the column readers behind the `*_from_frame` constructors.

mod histogram;
mod line;
mod pie;
mod raster;

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use polars::prelude::{Column, DataFrame, DataType, TimeUnit};

/// A chart to draw: its kind, title and data. Build it with the variant or a constructor, then
/// render it with [`Chart::svg`] or [`Chart::png`].
#[derive(Debug, Clone, PartialEq)]
pub enum Chart {
    /// Parts of a whole, e.g. today's calls by disposition.
    Pie {
        /// The heading above the chart.
        title: String,
        /// A label and a value (zero or more) for each slice, in the order they are drawn.
        slices: Vec<(String, f64)>,
    },
    /// How values spread, e.g. the talk time of today's completes.
    Histogram {
        /// The heading above the chart.
        title: String,
        /// What the values are, written under the x axis.
        x_label: String,
        /// The values to count.
        values: Vec<f64>,
        /// How many equal-width bins the range of values is cut into.
        bins: usize,
    },
    /// One or more lines over time or over a number, e.g. dials per 15 minutes.
    Line {
        /// The heading above the chart.
        title: String,
        /// What the x axis is, written under it.
        x_label: String,
        /// What the y axis is, written beside it.
        y_label: String,
        /// The lines, each named in the legend.
        series: Vec<Series>,
        /// A horizontal dashed line and its legend text, e.g. the abandon-rate ceiling.
        reference: Option<(String, f64)>,
    },
    /// Charts one above the other, sharing the picture's height evenly, e.g. a campaign's
    /// calls above its abandon rate against the ceiling.
    Stack {
        /// The charts, top first.
        charts: Vec<Chart>,
    },
}

/// One line of a line chart: its name in the legend and its points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The name shown in the legend.
    pub name: String,
    /// The points; their order does not matter, the line is drawn from left to right.
    pub points: Vec<(X, f64)>,
}

/// A position on a line chart's x axis: a number or an instant. One chart uses one kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum X {
    /// A plain number, e.g. an attempt number or an hour of the day.
    Number(f64),
    /// An instant; the axis is labelled in UTC.
    Time(DateTime<Utc>),
}

impl From<f64> for X {
    fn from(x: f64) -> Self {
        X::Number(x)
    }
}

impl From<DateTime<Utc>> for X {
    fn from(x: DateTime<Utc>) -> Self {
        X::Time(x)
    }
}

impl Series {
    /// A named line from `(x, y)` points, x being an `f64` or a `DateTime<Utc>`.
    pub fn new<T: Into<X>>(name: impl Into<String>, points: impl IntoIterator<Item = (T, f64)>) -> Self {
        Series {
            name: name.into(),
            points: points.into_iter().map(|(x, y)| (x.into(), y)).collect(),
        }
    }
}

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// Nothing is left to draw once missing and NaN values are skipped.
    #[error("{chart} has no data to draw (none given, or every value missing or NaN)")]
    Empty {
        /// Which chart, e.g. `the pie chart 'Dispositions'`.
        chart: String,
    },
    /// Every slice of a pie is zero, so there is no whole to divide.
    #[error("{chart} has only zero values: there is no whole to divide")]
    AllZero {
        /// Which chart.
        chart: String,
    },
    /// The chart's settings or data cannot make a picture (a negative slice, no bins, a size
    /// out of range, numbers and times on one axis).
    #[error("{chart}: {reason}")]
    Invalid {
        /// Which chart.
        chart: String,
        /// What is wrong.
        reason: String,
    },
    /// The frame has no column of this name.
    #[error("there is no column '{column}'; the columns are {columns}")]
    NoColumn {
        /// The column asked for.
        column: String,
        /// The frame's columns, comma-separated.
        columns: String,
    },
    /// The column holds something other than numbers (or, for an x axis, times).
    #[error("column '{column}' holds {dtype}, not {wanted}")]
    NotNumeric {
        /// The column.
        column: String,
        /// Its type.
        dtype: String,
        /// What it should hold.
        wanted: &'static str,
    },
    /// Polars failed reading a column.
    #[error(transparent)]
    Polars(#[from] polars::error::PolarsError),
    /// The drawing library failed.
    #[error("drawing the chart failed: {0}")]
    Draw(String),
    /// Encoding the PNG failed.
    #[error("encoding the PNG failed: {0}")]
    Png(#[from] png::EncodingError),
}

/// The smallest and largest picture, in pixels: below the minimum the axes and legend no longer
/// fit; above the maximum a request could make the server allocate gigabytes for one bitmap.
const MIN_SIZE: (u32, u32) = (240, 160);
const MAX_SIDE: u32 = 4096;

impl Chart {
    /// A pie chart of labelled values.
    pub fn pie(title: impl Into<String>, slices: Vec<(String, f64)>) -> Self {
        Chart::Pie {
            title: title.into(),
            slices,
        }
    }

    /// A histogram of `values` cut into `bins` equal-width bins.
    pub fn histogram(title: impl Into<String>, x_label: impl Into<String>, values: Vec<f64>, bins: usize) -> Self {
        Chart::Histogram {
            title: title.into(),
            x_label: x_label.into(),
            values,
            bins,
        }
    }

    /// A line chart without a reference line (add one with [`Chart::with_reference`]).
    pub fn line(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
        series: Vec<Series>,
    ) -> Self {
        Chart::Line {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            series,
            reference: None,
        }
    }

    /// Adds a horizontal dashed line at `value` to a line chart, named `label` in the legend
    /// (e.g. the abandon-rate ceiling). A pie or histogram has no y value to mark and is
    /// returned as it was.
    pub fn with_reference(mut self, label: impl Into<String>, value: f64) -> Self {
        if let Chart::Line { reference, .. } = &mut self {
            *reference = Some((label.into(), value));
        }
        self
    }

    /// A pie chart with one slice per row of `frame`: the label from `label_col` (any type,
    /// shown as text), the value from the numeric `value_col`. Rows with the same label are
    /// added together, so a frame need not be aggregated first; rows without a value are skipped.
    pub fn pie_from_frame(
        frame: &DataFrame,
        label_col: &str,
        value_col: &str,
        title: &str,
    ) -> Result<Self, ChartError> {
        let labels = labels(frame, label_col)?;
        let values = numbers(frame, value_col)?;
        let mut slices: Vec<(String, f64)> = Vec::new();
        for (label, value) in labels.into_iter().zip(values) {
            let Some(value) = value else { continue };
            let label = label.unwrap_or_else(|| "(none)".to_string());
            match slices.iter_mut().find(|(l, _)| *l == label) {
                Some((_, total)) => *total += value,
                None => slices.push((label, value)),
            }
        }
        Ok(Chart::pie(title, slices))
    }

    /// A histogram of the numeric column `col` (its name labels the x axis); nulls are skipped.
    pub fn histogram_from_column(frame: &DataFrame, col: &str, bins: usize, title: &str) -> Result<Self, ChartError> {
        let values = numbers(frame, col)?.into_iter().flatten().collect();
        Ok(Chart::histogram(title, col, values, bins))
    }

    /// A line chart with one series per column of `y_cols` (numeric) against `x_col` (numeric,
    /// date or datetime). Column names label the axes and the legend; rows where x or y is
    /// null are skipped.
    pub fn line_from_frame(frame: &DataFrame, x_col: &str, y_cols: &[&str], title: &str) -> Result<Self, ChartError> {
        let xs = xs(frame, x_col)?;
        let mut series = Vec::with_capacity(y_cols.len());
        for &name in y_cols {
            let ys = numbers(frame, name)?;
            let points = xs.iter().zip(ys).filter_map(|(x, y)| Some(((*x)?, y?))).collect();
            series.push(Series {
                name: name.to_string(),
                points,
            });
        }
        let y_label = if let [only] = y_cols { *only } else { "" };
        Ok(Chart::line(title, x_col, y_label, series))
    }

    /// The chart as an SVG document of `width` x `height` pixels.
    pub fn svg(&self, width: u32, height: u32) -> Result<String, ChartError> {
        self.check_size(width, height)?;
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(draw_error)?;
        }
        Ok(svg)
    }

    /// The chart as a PNG image of `width` x `height` pixels (8-bit RGB), encoded.
    pub fn png(&self, width: u32, height: u32) -> Result<Vec<u8>, ChartError> {
        self.check_size(width, height)?;
        let mut rgb = vec![0u8; width as usize * height as usize * 3];
        {
            let root = raster::Raster::new(&mut rgb, (width, height), font()?).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(draw_error)?;
        }
        let mut encoded = Vec::new();
        let mut encoder = png::Encoder::new(&mut encoded, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&rgb)?;
        writer.finish()?;
        Ok(encoded)
    }

    /// How errors name this chart, e.g. `the pie chart 'Dispositions'`.
    fn name(&self) -> String {
        let (kind, title) = match self {
            Chart::Pie { title, .. } => ("pie chart", title),
            Chart::Histogram { title, .. } => ("histogram", title),
            Chart::Line { title, .. } => ("line chart", title),
            Chart::Stack { charts } => {
                return match charts.first() {
                    Some(first) => format!("the stack of charts from {}", first.name()),
                    None => "the empty stack of charts".to_string(),
                };
            }
        };
        if title.trim().is_empty() {
            format!("the untitled {kind}")
        } else {
            format!("the {kind} '{title}'")
        }
    }

    fn check_size(&self, width: u32, height: u32) -> Result<(), ChartError> {
        if width < MIN_SIZE.0 || height < MIN_SIZE.1 || width > MAX_SIDE || height > MAX_SIDE {
            return Err(ChartError::Invalid {
                chart: self.name(),
                reason: format!(
                    "a {width}x{height} picture is out of range: charts are from {}x{} to {MAX_SIDE}x{MAX_SIDE} pixels",
                    MIN_SIZE.0, MIN_SIZE.1
                ),
            });
        }
        Ok(())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ChartError> {
        register_font()?;
        let look = Look::for_size(root.dim_in_pixel());
        match self {
            Chart::Pie { title, slices } => pie::draw(root, &look, &self.name(), title, slices),
            Chart::Histogram {
                title,
                x_label,
                values,
                bins,
            } => histogram::draw(root, &look, &self.name(), title, x_label, values, *bins),
            Chart::Line {
                title,
                x_label,
                y_label,
                series,
                reference,
            } => line::draw(
                root,
                &look,
                &self.name(),
                title,
                (x_label, y_label),
                series,
                reference.as_ref(),
            ),
            Chart::Stack { charts } => {
                if charts.is_empty() {
                    return Err(ChartError::Empty { chart: self.name() });
                }
                for (chart, area) in charts.iter().zip(root.split_evenly((charts.len(), 1))) {
                    chart.draw(&area)?;
                }
                Ok(())
            }
        }
    }
}

// --- The look shared by every chart ---

/// The family every text style names. The embedded font is registered under it, and it is
/// also what SVG viewers fall back on.
const FAMILY: &str = "sans-serif";

static DEJAVU_SANS: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");

/// plotters looks fonts up in a process-wide table (for measuring text, and for drawing it in
/// SVG), so the font is registered once.
fn register_font() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok());
    if ok { Ok(()) } else { Err(font_error()) }
}

/// The font for drawing PNG text.
fn font() -> Result<ab_glyph::FontRef<'static>, ChartError> {
    ab_glyph::FontRef::try_from_slice(DEJAVU_SANS).map_err(|_| font_error())
}

fn font_error() -> ChartError {
    ChartError::Draw("the embedded font DejaVu Sans could not be read".into())
}

/// Tableau 10: ten hues that stay distinguishable for most colour-blind readers.
const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4E, 0x79, 0xA7),
    RGBColor(0xF2, 0x8E, 0x2B),
    RGBColor(0xE1, 0x57, 0x59),
    RGBColor(0x76, 0xB7, 0xB2),
    RGBColor(0x59, 0xA1, 0x4F),
    RGBColor(0xED, 0xC9, 0x48),
    RGBColor(0xB0, 0x7A, 0xA1),
    RGBColor(0xFF, 0x9D, 0xA7),
    RGBColor(0x9C, 0x75, 0x5F),
    RGBColor(0xBA, 0xB0, 0xAC),
];
const INK: RGBColor = RGBColor(0x26, 0x26, 0x26);
const MUTED: RGBColor = RGBColor(0x59, 0x59, 0x59);
const GRID: RGBColor = RGBColor(0xE6, 0xE6, 0xE6);

/// Text sizes and spacing for one picture size, so that a thumbnail and a full-page chart are
/// both legible.
struct Look {
    /// Body text: legend, axis names, tick labels.
    text: f64,
    /// The title.
    title: f64,
}

impl Look {
    fn for_size((width, height): (u32, u32)) -> Self {
        // Whole pixels: crisper glyphs, and tidy `font-size`s in the SVG.
        let text = (f64::from(width.min(height)) / 32.0).clamp(11.0, 20.0).round();
        Look {
            text,
            title: (text * 1.45).round(),
        }
    }

    fn style(&self, size: f64, color: &RGBColor) -> TextStyle<'static> {
        (FAMILY, size).into_font().color(color)
    }

    fn body(&self) -> TextStyle<'static> {
        self.style(self.text, &INK)
    }

    fn ticks(&self) -> TextStyle<'static> {
        self.style((self.text * 0.9).round(), &MUTED)
    }

    /// Space between the picture's edge and its content.
    fn pad(&self) -> i32 {
        (self.text * 1.2).round() as i32
    }

    /// Paints the background and the title; returns the area left for the chart.
    fn frame<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        title: &str,
    ) -> Result<DrawingArea<DB, Shift>, ChartError> {
        root.fill(&WHITE).map_err(draw_error)?;
        let (width, _) = root.dim_in_pixel();
        let band = (self.title * 2.2).round() as i32;
        let style = self.style(self.title, &INK).pos(Pos::new(HPos::Center, VPos::Center));
        let pad = self.pad();
        let text = fit(root, title, "", &style, width as i32 - 2 * pad)?;
        root.draw(&Text::new(text, (width as i32 / 2, band / 2), style))
            .map_err(draw_error)?;
        Ok(root.margin(band, pad / 2, pad, pad))
    }
}

/// What a legend row shows before its text.
#[derive(Clone, Copy)]
enum Swatch {
    Block(RGBColor),
    Line(RGBColor),
    Dashed(RGBColor),
}

/// One legend row: a swatch, a name, and details after it (a share, a count) that stay whole
/// when the name is cut short to fit.
struct Row {
    swatch: Swatch,
    name: String,
    details: String,
}

impl Row {
    fn new(swatch: Swatch, name: impl Into<String>, details: impl Into<String>) -> Self {
        Row {
            swatch,
            name: name.into(),
            details: details.into(),
        }
    }
}

/// The height of a legend row.
fn row_height(look: &Look) -> i32 {
    (look.text * 1.8).round() as i32
}

/// Width a legend needs for `rows`, capped at `max` (longer names are cut to fit).
fn legend_width<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    look: &Look,
    rows: &[Row],
    max: i32,
) -> Result<i32, ChartError> {
    let mut widest = 0;
    for row in rows {
        let text = format!("{}{}", row.name, row.details);
        widest = widest.max(area.estimate_text_size(&text, &look.body()).map_err(draw_error)?.0 as i32);
    }
    Ok((widest + swatch_width(look, rows) + look.pad()).min(max))
}

/// Where a legend's text starts: past a block, or past a longer line sample when any row
/// has one (a dash pattern needs the length to show).
fn swatch_width(look: &Look, rows: &[Row]) -> i32 {
    let blocks = rows.iter().all(|row| matches!(row.swatch, Swatch::Block(_)));
    (look.text * if blocks { 1.6 } else { 2.8 }).round() as i32
}

/// Draws legend rows down `area` from `top`. Names are cut to the area's width; rows past its
/// height are summed up in a last "+ N more" row rather than drawn over the edge.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    look: &Look,
    rows: &[Row],
    top: i32,
) -> Result<(), ChartError> {
    let row_height = row_height(look);
    let (width, height) = area.dim_in_pixel();
    let room = ((height as i32 - top) / row_height).max(1) as usize;
    let (shown, hidden) = if rows.len() > room {
        (&rows[..room - 1], rows.len() + 1 - room)
    } else {
        (rows, 0)
    };
    let swatch = swatch_width(look, rows);
    let style = look.body().pos(Pos::new(HPos::Left, VPos::Center));
    let line_end = swatch - (look.text * 0.7).round() as i32;
    for (i, row) in shown.iter().enumerate() {
        let y = top + i as i32 * row_height + row_height / 2;
        match row.swatch {
            Swatch::Block(color) => {
                let half = (look.text * 0.45).round() as i32;
                area.draw(&Rectangle::new([(0, y - half), (2 * half, y + half)], color.filled()))
            }
            Swatch::Line(color) => area.draw(&PathElement::new(vec![(0, y), (line_end, y)], color.stroke_width(3))),
            Swatch::Dashed(color) => {
                let dash = line_end / 3;
                let style = color.stroke_width(2);
                area.draw(&PathElement::new(vec![(0, y), (dash, y)], style))
                    .and_then(|()| area.draw(&PathElement::new(vec![(2 * dash, y), (line_end, y)], style)))
            }
        }
        .map_err(draw_error)?;
        let text = fit(area, &row.name, &row.details, &style, width as i32 - swatch)?;
        area.draw(&Text::new(text, (swatch, y), style.clone()))
            .map_err(draw_error)?;
    }
    if hidden > 0 {
        let y = top + shown.len() as i32 * row_height + row_height / 2;
        let style = look.style(look.text, &MUTED).pos(Pos::new(HPos::Left, VPos::Center));
        area.draw(&Text::new(format!("+ {hidden} more"), (swatch, y), style))
            .map_err(draw_error)?;
    }
    Ok(())
}

/// `text` then `details`, with `text` cut short with an ellipsis if the whole is wider than
/// `max` pixels.
fn fit<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    details: &str,
    style: &TextStyle,
    max: i32,
) -> Result<String, ChartError> {
    let width = |s: &str| {
        area.estimate_text_size(s, style)
            .map(|(w, _)| w as i32)
            .map_err(draw_error)
    };
    let whole = format!("{text}{details}");
    if width(&whole)? <= max {
        return Ok(whole);
    }
    let mut cut: String = text.to_string();
    while !cut.is_empty() {
        cut.pop();
        let candidate = format!("{}…{details}", cut.trim_end());
        if width(&candidate)? <= max {
            return Ok(candidate);
        }
    }
    Ok(format!("…{details}"))
}

/// A number as a person reads it in a legend: thousands grouped, at most two decimals;
/// past a trillion in powers of ten, where digit groups stop being readable.
fn readable(value: f64) -> String {
    if value.abs() >= 1e12 {
        return scientific(value);
    }
    let rounded = (value * 100.0).round() / 100.0;
    let text = format!("{:.2}", rounded.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let fraction = fraction.trim_end_matches('0');
    let sign = if rounded < 0.0 { "-" } else { "" };
    if fraction.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{fraction}")
    }
}

/// A tick label: whole numbers grouped like [`readable`], fractions without float noise
/// (`0.30000000000000004` reads `0.3`) and without a trailing `.0`.
fn tick(value: f64) -> String {
    // Key points computed as `start + i * step` land a rounding error away from zero.
    if value.abs() < 1e-10 {
        return "0".to_string();
    }
    if value.abs() < 1e-4 {
        return scientific(value);
    }
    if (value - value.round()).abs() < 1e-9 * value.abs().max(1.0) {
        return readable(value.round());
    }
    let text = format!("{value:.6}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `1.5e13`, `-2e-6`: three significant digits at most, no trailing zeros.
fn scientific(value: f64) -> String {
    let text = format!("{value:.2e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let mantissa = if mantissa.contains('.') {
        mantissa.trim_end_matches('0').trim_end_matches('.')
    } else {
        mantissa
    };
    format!("{mantissa}e{exponent}")
}

fn draw_error<E: std::error::Error + Send + Sync>(error: DrawingAreaErrorKind<E>) -> ChartError {
    ChartError::Draw(error.to_string())
}

// --- Reading columns for the `*_from_frame` constructors ---

fn column<'a>(frame: &'a DataFrame, name: &str) -> Result<&'a Column, ChartError> {
    frame.column(name).map_err(|_| ChartError::NoColumn {
        column: name.to_string(),
        columns: frame
            .get_column_names()
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// A numeric column as `f64`s, nulls kept as `None` so rows stay aligned.
fn numbers(frame: &DataFrame, name: &str) -> Result<Vec<Option<f64>>, ChartError> {
    let col = column(frame, name)?;
    if !col.dtype().is_primitive_numeric() {
        return Err(ChartError::NotNumeric {
            column: name.into(),
            dtype: col.dtype().to_string(),
            wanted: "numbers",
        });
    }
    Ok(col.cast(&DataType::Float64)?.f64()?.iter().collect())
}

/// An x-axis column: numbers, dates (as midnight UTC) or datetimes (as UTC instants).
fn xs(frame: &DataFrame, name: &str) -> Result<Vec<Option<X>>, ChartError> {
    let col = column(frame, name)?;
    Ok(match col.dtype() {
        DataType::Datetime(unit, _) => {
            let unit = *unit;
            let instant = move |v: i64| match unit {
                TimeUnit::Nanoseconds => Some(DateTime::from_timestamp_nanos(v)),
                TimeUnit::Microseconds => DateTime::from_timestamp_micros(v),
                TimeUnit::Milliseconds => DateTime::from_timestamp_millis(v),
            };
            col.cast(&DataType::Int64)?
                .i64()?
                .iter()
                .map(|v| v.and_then(instant).map(X::Time))
                .collect()
        }
        DataType::Date => col
            .cast(&DataType::Int32)?
            .i32()?
            .iter()
            .map(|days| {
                days.and_then(|d| DateTime::from_timestamp(i64::from(d) * 86_400, 0))
                    .map(X::Time)
            })
            .collect(),
        dtype if dtype.is_primitive_numeric() => numbers(frame, name)?.into_iter().map(|v| v.map(X::Number)).collect(),
        dtype => {
            return Err(ChartError::NotNumeric {
                column: name.into(),
                dtype: dtype.to_string(),
                wanted: "numbers, dates or datetimes",
            });
        }
    })
}

/// Any column as text, for pie labels.
fn labels(frame: &DataFrame, name: &str) -> Result<Vec<Option<String>>, ChartError> {
    let col = column(frame, name)?;
    Ok(col
        .cast(&DataType::String)?
        .str()?
        .iter()
        .map(|s| s.map(str::to_string))
        .collect())
}

#[cfg(test)]
pub(super) mod check {
    //! What the tests of every chart kind share: reading the outputs back, and saving them
    //! under `target/chart-examples/` for a person to look at.

    use std::collections::HashSet;
    use std::io::Cursor;
    use std::path::PathBuf;

    /// Parses `svg` (failing the test if it is not well-formed XML) and returns the text of
    /// its `<text>` elements, trimmed.
    pub fn svg_texts(svg: &str) -> Vec<String> {
        let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("SVG is not well-formed: {e}\n{svg}"));
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        doc.descendants()
            .filter(|n| n.has_tag_name("text"))
            .map(|n| {
                n.children()
                    .filter_map(|t| t.text())
                    .collect::<String>()
                    .trim()
                    .to_string()
            })
            .collect()
    }

    /// A decoded PNG: width, height and RGB pixels.
    pub struct Picture {
        pub width: u32,
        pub height: u32,
        pub rgb: Vec<u8>,
    }

    impl Picture {
        pub fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
            let i = (y as usize * self.width as usize + x as usize) * 3;
            [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
        }

        pub fn distinct_colors(&self) -> usize {
            self.rgb
                .chunks(3)
                .map(|p| (p[0], p[1], p[2]))
                .collect::<HashSet<_>>()
                .len()
        }

        /// Pixels darker than mid-grey in the rows `rows`: text, since no chart fills with
        /// such dark colours.
        pub fn dark_pixels(&self, rows: std::ops::Range<u32>) -> usize {
            rows.flat_map(|y| (0..self.width).map(move |x| (x, y)))
                .filter(|&(x, y)| self.pixel(x, y).iter().map(|&c| u32::from(c)).sum::<u32>() < 3 * 110)
                .count()
        }
    }

    pub fn decode(png: &[u8]) -> Picture {
        let mut reader = png::Decoder::new(Cursor::new(png)).read_info().expect("a PNG");
        let mut buf = vec![0; reader.output_buffer_size().expect("a size")];
        let info = reader.next_frame(&mut buf).expect("a frame");
        assert_eq!(info.color_type, png::ColorType::Rgb);
        buf.truncate(info.buffer_size());
        Picture {
            width: info.width,
            height: info.height,
            rgb: buf,
        }
    }

    /// Writes an example picture for a person to look at.
    pub fn save(name: &str, bytes: &[u8]) {
        let dir = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
            .join("chart-examples");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::df;

    #[test]
    fn ticks_read_without_float_noise() {
        for (value, expect) in [
            (1.0, "1"),
            (12000.0, "12,000"),
            (0.1 + 0.2, "0.3"),
            (0.005, "0.005"),
            (-2.5, "-2.5"),
            (0.00002, "2e-5"),
            (-5.55e-17, "0"),
            (-1.5e300, "-1.5e300"),
        ] {
            assert_eq!(tick(value), expect, "{value}");
        }
    }

    #[test]
    fn readable_numbers_group_thousands_and_drop_trailing_zeros() {
        for (value, expect) in [
            (0.0, "0"),
            (1234.0, "1,234"),
            (1234567.5, "1,234,567.5"),
            (0.125, "0.13"),
            (-42.0, "-42"),
            (999_999_999_999.0, "999,999,999,999"),
            (1.25e13, "1.25e13"),
        ] {
            assert_eq!(readable(value), expect, "{value}");
        }
    }

    #[test]
    fn a_missing_column_is_named_with_the_columns_there_are() {
        let frame = df!("disposition" => ["complete"], "calls" => [3]).unwrap();
        let err = Chart::pie_from_frame(&frame, "disposition", "count", "Calls").unwrap_err();
        assert_eq!(
            err.to_string(),
            "there is no column 'count'; the columns are disposition, calls"
        );
        let err = Chart::line_from_frame(&frame, "hour", &["calls"], "Calls").unwrap_err();
        assert!(
            matches!(err, ChartError::NoColumn { ref column, .. } if column == "hour"),
            "{err}"
        );
    }

    #[test]
    fn a_text_column_is_not_numbers() {
        let frame = df!("disposition" => ["complete"], "calls" => [3]).unwrap();
        let err = Chart::histogram_from_column(&frame, "disposition", 10, "Calls").unwrap_err();
        assert_eq!(err.to_string(), "column 'disposition' holds str, not numbers");
        let err = Chart::line_from_frame(&frame, "disposition", &["calls"], "Calls").unwrap_err();
        assert!(err.to_string().contains("not numbers, dates or datetimes"), "{err}");
    }

    #[test]
    fn extreme_sizes_and_values_still_draw() {
        let t0 = DateTime::from_timestamp(1_747_260_000, 0).unwrap();
        let charts = [
            Chart::pie("", vec![("a".into(), 1e300), ("b".into(), 1e-300)]),
            Chart::histogram("h", "x", vec![1e300, -1e300], 10),
            Chart::histogram("h", "", vec![1.0, 1.0 + 1e-12], 1000),
            Chart::line("l", "x", "y", vec![Series::new("a", [(1.0, 1e300), (2.0, -1e300)])]),
            Chart::line("l", "", "", vec![Series::new("", [(0.0, 0.0)])]).with_reference("", -1.0),
            Chart::line(
                "l",
                "t",
                "y",
                vec![Series::new("a", [(t0, 3.0), (t0 + chrono::Duration::seconds(1), 4.0)])],
            ),
            Chart::line(
                "l",
                "t",
                "y",
                vec![Series::new("a", [(t0, 3.0), (t0 + chrono::Duration::days(3650), 4.0)])],
            ),
        ];
        for chart in &charts {
            for (width, height) in [MIN_SIZE, (MIN_SIZE.0, 2000), (2000, MIN_SIZE.1)] {
                let svg = chart
                    .svg(width, height)
                    .unwrap_or_else(|e| panic!("{chart:?} at {width}x{height}: {e}"));
                check::svg_texts(&svg);
                let png = chart
                    .png(width, height)
                    .unwrap_or_else(|e| panic!("{chart:?} at {width}x{height}: {e}"));
                assert_eq!(check::decode(&png).width, width);
            }
        }
    }

    #[test]
    fn sizes_out_of_range_are_refused_before_drawing() {
        let chart = Chart::pie("Calls", vec![("a".into(), 1.0)]);
        let err = chart.png(100, 100).unwrap_err();
        assert!(matches!(err, ChartError::Invalid { .. }), "{err}");
        assert!(
            err.to_string()
                .starts_with("the pie chart 'Calls': a 100x100 picture is out of range"),
            "{err}"
        );
        assert!(chart.svg(5000, 400).is_err());
    }
}
