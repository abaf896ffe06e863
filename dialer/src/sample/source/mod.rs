//! Reading sample files: a header and rows of text cells, from CSV, XLSX or Parquet.
//!
//! Nothing here interprets the cells (typing, numbers and duplicates are the importer's
//! work). Bad files are refused with the file, the row and the column. Row numbers are the
//! ones a spreadsheet shows: the header is row 1, the first data row row 2.

mod csv;
mod parquet;
mod xlsx;

use std::path::Path;

/// One data row.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRow {
    /// Row number as a spreadsheet shows it (header = 1).
    pub row: u64,
    /// The cells, as text.
    pub cells: ::csv::StringRecord,
}

/// The kinds of file a sample comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    /// Comma-, semicolon- or tab-separated text.
    Csv,
    /// An Excel workbook.
    Xlsx,
    /// An Apache Parquet file.
    Parquet,
}

/// How to open a file.
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    /// The format, when the file's extension does not tell it.
    pub format: Option<SourceFormat>,
    /// The XLSX sheet to read; default the first.
    pub sheet: Option<String>,
}

/// Why a file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Opening or reading failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The failure.
        source: std::io::Error,
    },
    /// The extension is not a known format.
    #[error("{path}: unknown file type '{extension}'; samples are .csv, .tsv, .txt, .xlsx, .xlsm or .parquet")]
    UnknownFormat {
        /// The file.
        path: String,
        /// Its extension.
        extension: String,
    },
    /// The file is not UTF-8 and not a Chinese encoding we convert.
    #[error(
        "{path}: row {row} is not UTF-8 (the file looks like {guess}); save it as \"CSV UTF-8\" and import it again"
    )]
    Encoding {
        /// The file.
        path: String,
        /// The row of the first bad byte.
        row: u64,
        /// The encoding the file looks like.
        guess: String,
    },
    /// The file has no header row.
    #[error("{path}: the file is empty; row 1 must hold the column names")]
    Empty {
        /// The file.
        path: String,
    },
    /// A header cell is empty.
    #[error("{path}: column {column} has no name in row 1")]
    EmptyHeader {
        /// The file.
        path: String,
        /// 1-based column number.
        column: usize,
    },
    /// Two header cells have the same name.
    #[error("{path}: columns {first} and {second} are both named '{name}'")]
    DuplicateHeader {
        /// The file.
        path: String,
        /// The name.
        name: String,
        /// 1-based column number of the first.
        first: usize,
        /// 1-based column number of the second.
        second: usize,
    },
    /// The CSV text is malformed.
    #[error("{path}: row {row}: {message}")]
    Csv {
        /// The file.
        path: String,
        /// The row.
        row: u64,
        /// What is wrong.
        message: String,
    },
    /// The workbook is unreadable or the sheet is missing.
    #[error("{path}: {message}")]
    Xlsx {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A spreadsheet cell holds an error value.
    #[error(
        "{path}: sheet '{sheet}', row {row}, column {column} ('{name}') holds the error {value}; fix the formula or clear the cell"
    )]
    CellError {
        /// The file.
        path: String,
        /// The sheet.
        sheet: String,
        /// The row.
        row: u64,
        /// 1-based column number.
        column: usize,
        /// The column's name.
        name: String,
        /// The error value, e.g. #N/A.
        value: String,
    },
    /// The Parquet file is unreadable or has nested columns.
    #[error("{path}: {message}")]
    Parquet {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

enum Inner {
    Csv(csv::CsvSource),
    Xlsx(xlsx::XlsxSource),
    Parquet(parquet::ParquetSource),
}

/// An open sample file: its header and a stream of rows.
pub struct Source {
    inner: Inner,
    header: Vec<String>,
}

impl Source {
    /// Opens a file and reads its header.
    pub fn open(path: &Path, options: &SourceOptions) -> Result<Source, SourceError> {
        let name = path.display().to_string();
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let format = match options.format {
            Some(format) => format,
            None => match extension.as_str() {
                "csv" | "txt" | "tsv" => SourceFormat::Csv,
                "xlsx" | "xlsm" => SourceFormat::Xlsx,
                "parquet" => SourceFormat::Parquet,
                _ => return Err(SourceError::UnknownFormat { path: name, extension }),
            },
        };
        let (inner, header) = match format {
            SourceFormat::Csv => {
                let (source, header) = csv::CsvSource::open(path, extension == "tsv")?;
                (Inner::Csv(source), header)
            }
            SourceFormat::Xlsx => {
                let (source, header) = xlsx::XlsxSource::open(path, options.sheet.as_deref())?;
                (Inner::Xlsx(source), header)
            }
            SourceFormat::Parquet => {
                let (source, header) = parquet::ParquetSource::open(path)?;
                (Inner::Parquet(source), header)
            }
        };
        let header: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
        check_header(&name, &header)?;
        Ok(Source { inner, header })
    }

    /// The column names, trimmed.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The file's format.
    pub fn format(&self) -> SourceFormat {
        match self.inner {
            Inner::Csv(_) => SourceFormat::Csv,
            Inner::Xlsx(_) => SourceFormat::Xlsx,
            Inner::Parquet(_) => SourceFormat::Parquet,
        }
    }

    /// A note when the text was converted to UTF-8, e.g. "converted from GB18030".
    pub fn encoding_note(&self) -> Option<String> {
        match &self.inner {
            Inner::Csv(source) => source.encoding_note(),
            _ => None,
        }
    }

    /// Reads up to `max` rows into `out` (cleared first), skipping empty rows; 0 at the end.
    pub fn read_chunk(&mut self, out: &mut Vec<SourceRow>, max: usize) -> Result<usize, SourceError> {
        out.clear();
        match &mut self.inner {
            Inner::Csv(source) => source.read_chunk(out, max)?,
            Inner::Xlsx(source) => source.read_chunk(out, max)?,
            Inner::Parquet(source) => source.read_chunk(out, max)?,
        }
        Ok(out.len())
    }
}

fn check_header(path: &str, header: &[String]) -> Result<(), SourceError> {
    if header.is_empty() || header.iter().all(String::is_empty) {
        return Err(SourceError::Empty { path: path.to_string() });
    }
    for (i, name) in header.iter().enumerate() {
        if name.is_empty() {
            return Err(SourceError::EmptyHeader {
                path: path.to_string(),
                column: i + 1,
            });
        }
        if let Some(first) = header[..i].iter().position(|h| h.to_lowercase() == name.to_lowercase()) {
            return Err(SourceError::DuplicateHeader {
                path: path.to_string(),
                name: name.clone(),
                first: first + 1,
                second: i + 1,
            });
        }
    }
    Ok(())
}

/// Whether every cell of a row is blank.
fn is_blank(cells: &::csv::StringRecord) -> bool {
    cells.iter().all(|c| c.trim().is_empty())
}

/// A number as text the way a person wrote it: whole numbers without ".0" and never in
/// exponent form (phone numbers are often stored as numbers in spreadsheets).
fn number_text(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e17 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_people_wrote_them() {
        assert_eq!(number_text(13800138000.0), "13800138000");
        assert_eq!(number_text(42.0), "42");
        assert_eq!(number_text(-3.0), "-3");
        assert_eq!(number_text(2.5), "2.5");
        assert_eq!(number_text(0.1), "0.1");
    }

    #[test]
    fn unknown_extensions_are_refused() {
        let err = Source::open(Path::new("list.docx"), &SourceOptions::default())
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "list.docx: unknown file type 'docx'; samples are .csv, .tsv, .txt, .xlsx, .xlsm or .parquet"
        );
    }

    #[test]
    fn headers_are_checked() {
        let header = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            check_header("f.csv", &header(&["id", "Phone", "phone"]))
                .unwrap_err()
                .to_string(),
            "f.csv: columns 2 and 3 are both named 'phone'"
        );
        assert_eq!(
            check_header("f.csv", &header(&["id", "", "x"]))
                .unwrap_err()
                .to_string(),
            "f.csv: column 2 has no name in row 1"
        );
        assert!(check_header("f.csv", &header(&["", ""])).is_err());
    }
}
