//! A report written out: as text for the terminal, or as CSV, JSON or Parquet. A file is
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
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "table" => Ok(Format::Table),
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            "parquet" => Ok(Format::Parquet),
            other => Err(format!("'{other}' is not a format: table, csv, json or parquet")),
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
        Format::Parquet => {
            return Err(ReportError::BadOption {
                option: "--format parquet".into(),
                message: "Parquet is written to a file: give --output FILE".into(),
            });
        }
    }
    Ok(())
}

/// Writes `frame` in `format` to the file at `path`, whole or not at all.
pub fn write_file(frame: &mut DataFrame, format: Format, path: &Path) -> Result<(), ReportError> {
    let failed = |source| ReportError::Write {
        path: path.display().to_string(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".paceline-report")
        .tempfile_in(dir)
        .map_err(failed)?;
    match format {
        Format::Parquet => {
            ParquetWriter::new(temp.as_file_mut()).finish(frame)?;
        }
        other => {
            let mut out = std::io::BufWriter::new(temp.as_file_mut());
            write_to(frame, other, &mut out)?;
            out.flush().map_err(failed)?;
        }
    }
    temp.persist(path).map_err(|e| failed(e.error))?;
    Ok(())
}
