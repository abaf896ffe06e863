//! A report written out: as text for the terminal, or as CSV, JSON, Parquet or XLSX. A file is
//! written under a temporary name beside its place and renamed when complete, so a failed
//! export never leaves half a file.

use std::io::Write;
use std::path::Path;
use std::str::FromStr;

use polars::prelude::*;

use crate::ReportError;

/// The formats a report is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned text for the terminal.
    Table,
    /// Comma-separated values with a header.
    Csv,
    /// A JSON array of objects.
    Json,
    /// Apache Parquet.
    Parquet,
    /// An Excel workbook of one sheet.
    Xlsx,
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "table" => Ok(Format::Table),
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            "parquet" => Ok(Format::Parquet),
            "xlsx" => Ok(Format::Xlsx),
            other => Err(format!("'{other}' is not a format: table, csv, json, parquet or xlsx")),
        }
    }
}

/// The frame's header and rows as text, every row shown (the terminal's table).
pub fn text_rows(frame: &DataFrame) -> (Vec<String>, Vec<Vec<String>>) {
    let header = frame.get_column_names().iter().map(|n| n.to_string()).collect();
    let rows = (0..frame.height())
        .map(|i| {
            frame
                .columns()
                .iter()
                .map(|c| match c.get(i) {
                    Ok(AnyValue::Null) | Err(_) => String::new(),
                    Ok(AnyValue::Float64(x)) => format!("{x:.2}"),
                    Ok(AnyValue::String(s)) => s.to_string(),
                    Ok(other) => other.to_string(),
                })
                .collect()
        })
        .collect();
    (header, rows)
}

/// Writes `frame` in `format` to `out` (Table, CSV and JSON).
pub fn write_to(frame: &mut DataFrame, format: Format, out: &mut impl Write) -> Result<(), ReportError> {
    match format {
        Format::Table => {
            let (header, rows) = text_rows(frame);
            let widths: Vec<usize> = header
                .iter()
                .enumerate()
                .map(|(i, h)| rows.iter().map(|r| r[i].len()).chain([h.len()]).max().unwrap_or(0))
                .collect();
            let line = |cells: &[String]| {
                cells
                    .iter()
                    .zip(&widths)
                    .map(|(c, w)| format!("{c:<w$}"))
                    .collect::<Vec<_>>()
                    .join("  ")
                    .trim_end()
                    .to_string()
            };
            let io = |source| ReportError::Write {
                path: "standard output".into(),
                source,
            };
            writeln!(out, "{}", line(&header)).map_err(io)?;
            for row in &rows {
                writeln!(out, "{}", line(row)).map_err(io)?;
            }
        }
        Format::Csv => CsvWriter::new(out).include_header(true).finish(frame)?,
        Format::Json => JsonWriter::new(out).with_json_format(JsonFormat::Json).finish(frame)?,
        Format::Parquet | Format::Xlsx => {
            return Err(ReportError::BadOption {
                option: format!("--format {}", if format == Format::Xlsx { "xlsx" } else { "parquet" }),
                message: "this format is written to a file: give --output FILE".into(),
            });
        }
    }
    Ok(())
}

/// Writes `frame` in `format` to the file at `path`, whole or not at all.
pub fn write_file(frame: &mut DataFrame, format: Format, path: &Path) -> Result<(), ReportError> {
    atomically(path, |file| match format {
        Format::Parquet => {
            ParquetWriter::new(file).finish(frame)?;
            Ok(())
        }
        Format::Xlsx => file.write_all(&xlsx(frame)?).map_err(|e| write_error(path, e)),
        other => {
            let mut out = std::io::BufWriter::new(file);
            write_to(frame, other, &mut out)?;
            out.flush().map_err(|e| write_error(path, e))
        }
    })
}

fn write_error(path: &Path, source: std::io::Error) -> ReportError {
    ReportError::Write {
        path: path.display().to_string(),
        source,
    }
}

/// Runs `write` on a temporary file beside `path` and renames it to `path` when it succeeds,
/// so that a failed export never leaves half a file (nor replaces a good one).
pub fn atomically(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> Result<(), ReportError>,
) -> Result<(), ReportError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".paceline-export")
        .tempfile_in(dir)
        .map_err(|e| write_error(path, e))?;
    write(temp.as_file_mut())?;
    temp.as_file_mut().sync_all().map_err(|e| write_error(path, e))?;
    temp.persist(path).map_err(|e| write_error(path, e.error))?;
    Ok(())
}

/// Days from Excel's day 0 (1899-12-30) to 1970-01-01.
const EXCEL_EPOCH_DAYS: f64 = 25_569.0;

/// The frame as an XLSX workbook of one sheet: a bold header row kept in view, numbers as
/// numbers, dates and times as Excel dates.
pub fn xlsx(frame: &DataFrame) -> Result<Vec<u8>, ReportError> {
    use rust_xlsxwriter::{ExcelDateTime, Format as Style, Workbook};
    // Excel's own limits: a sheet has 1,048,576 rows, a cell 32,767 characters.
    const MAX_ROWS: usize = 1_048_575;
    const MAX_TEXT: usize = 32_767;
    if frame.height() > MAX_ROWS {
        return Err(ReportError::BadOption {
            option: "--format xlsx".into(),
            message: format!(
                "{} rows do not fit an Excel sheet (at most {MAX_ROWS}); use csv or parquet",
                frame.height()
            ),
        });
    }
    let failed = |e: rust_xlsxwriter::XlsxError| ReportError::BadOption {
        option: "--format xlsx".into(),
        message: e.to_string(),
    };
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("report").map_err(failed)?;
    let bold = Style::new().set_bold();
    let date = Style::new().set_num_format("yyyy-mm-dd");
    let time = Style::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    for (c, column) in frame.columns().iter().enumerate() {
        let c = c as u16;
        sheet
            .write_string_with_format(0, c, column.name().as_str(), &bold)
            .map_err(failed)?;
        for i in 0..frame.height() {
            let row = i as u32 + 1;
            let value = column.get(i)?;
            let number = match &value {
                AnyValue::Null => continue,
                AnyValue::Boolean(b) => {
                    sheet.write_boolean(row, c, *b).map_err(failed)?;
                    continue;
                }
                AnyValue::String(s) => {
                    let s: String = s.chars().take(MAX_TEXT).collect();
                    sheet.write_string(row, c, s).map_err(failed)?;
                    continue;
                }
                AnyValue::Date(days) => {
                    let at =
                        ExcelDateTime::from_serial_datetime(f64::from(*days) + EXCEL_EPOCH_DAYS).map_err(failed)?;
                    sheet.write_datetime_with_format(row, c, &at, &date).map_err(failed)?;
                    continue;
                }
                AnyValue::Datetime(t, unit, _) => {
                    let per_day = match unit {
                        TimeUnit::Nanoseconds => 86_400e9,
                        TimeUnit::Microseconds => 86_400e6,
                        TimeUnit::Milliseconds => 86_400e3,
                    };
                    let at =
                        ExcelDateTime::from_serial_datetime(*t as f64 / per_day + EXCEL_EPOCH_DAYS).map_err(failed)?;
                    sheet.write_datetime_with_format(row, c, &at, &time).map_err(failed)?;
                    continue;
                }
                other => other.extract::<f64>(),
            };
            match number {
                Some(x) if x.is_finite() => sheet.write_number(row, c, x).map_err(failed)?,
                _ => sheet.write_string(row, c, value.to_string()).map_err(failed)?,
            };
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(failed)?;
    sheet.autofit();
    book.save_to_buffer().map_err(failed)
}
