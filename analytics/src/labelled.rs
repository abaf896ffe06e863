//! A survey data set as statistics packages want it: named variables with labels, value labels
//! and missing-value codes, one row per case. The answers export builds one; the SPSS `.sav`,
//! triple-S and codebook writers read it.

use chrono::{NaiveDate, NaiveDateTime};

/// A data set: its variables, in order, and one row per case (one cell per variable).
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// What the data set is (the file label), e.g. "health-survey 3: answers".
    pub label: String,
    /// The variables, in column order.
    pub variables: Vec<Variable>,
    /// The cases: each row has one cell per variable, in the variables' order.
    pub rows: Vec<Vec<Cell>>,
}

/// One variable (column).
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    /// Its name: unique in the data set, a letter then letters, digits or `_`, at most 64
    /// bytes (what SPSS accepts).
    pub name: String,
    /// Its label: the question's text, or what a sample field or paradata column holds.
    pub label: String,
    /// What its cells hold.
    pub kind: VarKind,
    /// The level of measurement.
    pub measure: Measure,
    /// Labels of numeric codes (a choice's number and its text).
    pub value_labels: Vec<(f64, String)>,
    /// Codes that mean "no valid answer" (not asked, not reached), each also in
    /// `value_labels`.
    pub missing: Vec<f64>,
    /// Where it comes from: a question (and its routing), a sample field, or paradata.
    pub source: Source,
}

/// What a variable's cells hold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum VarKind {
    /// Numbers, shown with this many decimals.
    Numeric {
        /// Decimals shown.
        decimals: u8,
    },
    /// Text of at most this many bytes (UTF-8).
    Text {
        /// The widest value, in bytes (at least 1).
        width: usize,
    },
    /// A calendar date.
    Date,
    /// A date and time (UTC).
    DateTime,
}

/// The level of measurement, as SPSS records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Categories without order.
    Nominal,
    /// Ordered categories.
    Ordinal,
    /// Numbers.
    Scale,
}

/// Where a variable comes from, for the codebook.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A question (or one option of a multiple choice, or one row of a grid).
    Question {
        /// The question's name.
        question: String,
        /// Its type (single_choice, integer, ...).
        kind: String,
        /// When it is asked (its and its groups' relevance), if not always.
        asked_when: Option<String>,
    },
    /// A field of the sample record.
    SampleField,
    /// Recorded by the system about the interview (interviewer, times, attempts).
    Paradata,
}

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// A number (a code, for a variable with value labels).
    Number(f64),
    /// Text.
    Text(String),
    /// A date.
    Date(NaiveDate),
    /// A date and time (UTC).
    DateTime(NaiveDateTime),
    /// No value at all (SPSS's system-missing).
    Empty,
}

impl Variable {
    /// The label of a code, if it has one.
    pub fn label_of(&self, code: f64) -> Option<&str> {
        self.value_labels
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, l)| l.as_str())
    }
}

/// The data set as a Polars frame, for CSV, JSON, Parquet and XLSX: codes as numbers (whole
/// numbers as integers), or, with `labels`, a labelled variable's codes as their labels.
pub fn frame(data: &Dataset, labels: bool) -> polars::prelude::PolarsResult<polars::prelude::DataFrame> {
    use polars::prelude::*;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("the epoch");
    let columns = data
        .variables
        .iter()
        .enumerate()
        .map(|(k, v)| {
            let cells = data.rows.iter().map(|row| &row[k]);
            let name = PlSmallStr::from(v.name.as_str());
            Ok(match v.kind {
                VarKind::Numeric { .. } if labels && !v.value_labels.is_empty() => {
                    let values: Vec<Option<String>> = cells
                        .map(|c| match c {
                            Cell::Number(x) => Some(v.label_of(*x).map_or_else(|| x.to_string(), str::to_string)),
                            _ => None,
                        })
                        .collect();
                    Column::new(name, values)
                }
                VarKind::Numeric { decimals: 0 } => {
                    let values: Vec<Option<i64>> = cells
                        .map(|c| match c {
                            Cell::Number(x) if x.fract() == 0.0 => Some(*x as i64),
                            _ => None,
                        })
                        .collect();
                    Column::new(name, values)
                }
                VarKind::Numeric { .. } => {
                    let values: Vec<Option<f64>> = cells
                        .map(|c| match c {
                            Cell::Number(x) => Some(*x),
                            _ => None,
                        })
                        .collect();
                    Column::new(name, values)
                }
                VarKind::Text { .. } => {
                    let values: Vec<Option<&str>> = cells
                        .map(|c| match c {
                            Cell::Text(t) => Some(t.as_str()),
                            _ => None,
                        })
                        .collect();
                    Column::new(name, values)
                }
                VarKind::Date => {
                    let values: Vec<Option<i32>> = cells
                        .map(|c| match c {
                            Cell::Date(d) => Some((*d - epoch).num_days() as i32),
                            _ => None,
                        })
                        .collect();
                    Column::new(name, values).cast(&DataType::Date)?
                }
                VarKind::DateTime => {
                    let values: Vec<Option<i64>> = cells
                        .map(|c| match c {
                            Cell::DateTime(t) => Some(t.and_utc().timestamp_millis()),
                            _ => None,
                        })
                        .collect();
                    Column::new(name, values).cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?
                }
            })
        })
        .collect::<PolarsResult<Vec<Column>>>()?;
    DataFrame::new(data.rows.len(), columns)
}
