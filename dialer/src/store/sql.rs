//! Backend-neutral statements for the dialer's hot path: a statement is SQL text (with `$n`
//! placeholders, which both backends accept) and a list of [`Param`]s; results come back as
//! rows of [`Value`]s read by a declared [`Kind`] per column.
//!
//! The runtime writes to SQLite through an in-process connection (rusqlite) on its own thread
//! and to PostgreSQL through sqlx; both run the same statements built here, so what is
//! written is the same on both (rule 6 of the house).

use std::borrow::Cow;

use chrono::{DateTime, SecondsFormat, Utc};

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// NULL of a column kind (PostgreSQL types every parameter, NULLs too).
    Null(Kind),
    /// An integer.
    Int(i64),
    /// A float.
    Real(f64),
    /// Text.
    Text(String),
    /// A boolean (INTEGER 0/1 on SQLite, BOOLEAN on PostgreSQL).
    Bool(bool),
    /// An instant (TEXT in sqlx's format on SQLite, TIMESTAMPTZ on PostgreSQL).
    Time(DateTime<Utc>),
    /// A JSON document (TEXT on SQLite, JSONB on PostgreSQL).
    Json(String),
}

impl From<i64> for Param {
    fn from(v: i64) -> Self {
        Param::Int(v)
    }
}

impl From<bool> for Param {
    fn from(v: bool) -> Self {
        Param::Bool(v)
    }
}

impl From<&str> for Param {
    fn from(v: &str) -> Self {
        Param::Text(v.to_string())
    }
}

impl From<String> for Param {
    fn from(v: String) -> Self {
        Param::Text(v)
    }
}

impl From<DateTime<Utc>> for Param {
    fn from(v: DateTime<Utc>) -> Self {
        Param::Time(v)
    }
}

impl From<Option<i64>> for Param {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Param::Null(Kind::Int), Param::Int)
    }
}

impl From<Option<bool>> for Param {
    fn from(v: Option<bool>) -> Self {
        v.map_or(Param::Null(Kind::Bool), Param::Bool)
    }
}

impl From<Option<&str>> for Param {
    fn from(v: Option<&str>) -> Self {
        v.map_or(Param::Null(Kind::Text), Into::into)
    }
}

impl From<Option<String>> for Param {
    fn from(v: Option<String>) -> Self {
        v.map_or(Param::Null(Kind::Text), Param::Text)
    }
}

impl From<Option<DateTime<Utc>>> for Param {
    fn from(v: Option<DateTime<Utc>>) -> Self {
        v.map_or(Param::Null(Kind::Time), Param::Time)
    }
}

/// One statement and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// SQL with `$1`, `$2`... placeholders.
    pub sql: Cow<'static, str>,
    /// The values, `$1` first.
    pub params: Vec<Param>,
}

impl Statement {
    /// A statement with these parameters.
    pub fn new(sql: &'static str, params: Vec<Param>) -> Self {
        Self {
            sql: Cow::Borrowed(sql),
            params,
        }
    }

    /// A statement whose text was built at run time (an `IN` list of some length).
    pub fn built(sql: String, params: Vec<Param>) -> Self {
        Self {
            sql: Cow::Owned(sql),
            params,
        }
    }
}

/// The type a result column is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// BIGINT / INTEGER.
    Int,
    /// DOUBLE PRECISION / REAL.
    Real,
    /// TEXT.
    Text,
    /// BOOLEAN.
    Bool,
    /// TIMESTAMPTZ / sqlx's TEXT.
    Time,
    /// JSONB / TEXT, read as its text.
    Json,
}

/// A value read from a row; NULL reads as [`Value::Null`] whatever the kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// NULL.
    Null,
    /// An integer.
    Int(i64),
    /// A float.
    Real(f64),
    /// Text (also JSON text).
    Text(String),
    /// A boolean.
    Bool(bool),
    /// An instant.
    Time(DateTime<Utc>),
}

/// A row that did not have the shape its reader expected: a bug, not bad input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: expected {expected}, found {found}")]
pub struct ShapeError {
    /// The column's index.
    pub column: usize,
    /// What the reader asked for.
    pub expected: &'static str,
    /// What the row held.
    pub found: String,
}

/// Typed access to a row of [`Value`]s.
pub trait RowExt {
    /// Column `i` as an integer.
    fn int(&self, i: usize) -> Result<i64, ShapeError>;
    /// Column `i` as an integer or NULL.
    fn opt_int(&self, i: usize) -> Result<Option<i64>, ShapeError>;
    /// Column `i` as text.
    fn text(&self, i: usize) -> Result<&str, ShapeError>;
    /// Column `i` as text or NULL.
    fn opt_text(&self, i: usize) -> Result<Option<&str>, ShapeError>;
    /// Column `i` as a boolean.
    fn bool(&self, i: usize) -> Result<bool, ShapeError>;
    /// Column `i` as an instant or NULL.
    fn opt_time(&self, i: usize) -> Result<Option<DateTime<Utc>>, ShapeError>;
    /// Column `i` as an instant.
    fn time(&self, i: usize) -> Result<DateTime<Utc>, ShapeError> {
        self.opt_time(i)?.ok_or_else(|| ShapeError {
            column: i,
            expected: "an instant",
            found: "NULL".into(),
        })
    }
}

fn shape(column: usize, expected: &'static str, found: &Value) -> ShapeError {
    ShapeError {
        column,
        expected,
        found: format!("{found:?}"),
    }
}

impl RowExt for [Value] {
    fn int(&self, i: usize) -> Result<i64, ShapeError> {
        match &self[i] {
            Value::Int(v) => Ok(*v),
            other => Err(shape(i, "an integer", other)),
        }
    }

    fn opt_int(&self, i: usize) -> Result<Option<i64>, ShapeError> {
        match &self[i] {
            Value::Null => Ok(None),
            Value::Int(v) => Ok(Some(*v)),
            other => Err(shape(i, "an integer or NULL", other)),
        }
    }

    fn text(&self, i: usize) -> Result<&str, ShapeError> {
        match &self[i] {
            Value::Text(v) => Ok(v),
            other => Err(shape(i, "text", other)),
        }
    }

    fn opt_text(&self, i: usize) -> Result<Option<&str>, ShapeError> {
        match &self[i] {
            Value::Null => Ok(None),
            Value::Text(v) => Ok(Some(v)),
            other => Err(shape(i, "text or NULL", other)),
        }
    }

    fn bool(&self, i: usize) -> Result<bool, ShapeError> {
        match &self[i] {
            Value::Bool(v) => Ok(*v),
            Value::Int(v) => Ok(*v != 0),
            other => Err(shape(i, "a boolean", other)),
        }
    }

    fn opt_time(&self, i: usize) -> Result<Option<DateTime<Utc>>, ShapeError> {
        match &self[i] {
            Value::Null => Ok(None),
            Value::Time(v) => Ok(Some(*v)),
            Value::Text(v) => parse_sqlite_time(v)
                .map(Some)
                .ok_or_else(|| shape(i, "an instant", &self[i])),
            other => Err(shape(i, "an instant", other)),
        }
    }
}

/// An instant written the way sqlx writes `DateTime<Utc>` to SQLite (RFC 3339, fractional
/// seconds as needed, `+00:00`), so values written by either library compare as text.
pub fn sqlite_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// Reads an instant written by [`sqlite_time`] or by sqlx.
pub fn parse_sqlite_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(text, "%F %T%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}

/// `$from, $from+1, ...` for `n` values: the placeholder list of an `IN (...)`.
pub fn placeholders(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn instants_round_trip_and_sort_as_text() {
        let a = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 39).unwrap();
        let b = a + chrono::Duration::microseconds(500_000);
        let c = a + chrono::Duration::microseconds(500_001);
        let texts = [sqlite_time(a), sqlite_time(b), sqlite_time(c)];
        assert_eq!(texts[0], "2026-11-23T09:00:39+00:00");
        assert!(texts[0] < texts[1] && texts[1] < texts[2], "{texts:?}");
        for (text, at) in texts.iter().zip([a, b, c]) {
            assert_eq!(parse_sqlite_time(text), Some(at));
        }
    }

    #[test]
    fn rows_read_by_kind() {
        let row = [
            Value::Int(3),
            Value::Null,
            Value::Text("x".into()),
            Value::Int(1),
            Value::Text("2026-11-23T09:00:39+00:00".into()),
        ];
        assert_eq!(row.int(0), Ok(3));
        assert_eq!(row.opt_int(1), Ok(None));
        assert_eq!(row.text(2), Ok("x"));
        assert_eq!(row.bool(3), Ok(true));
        assert!(row.time(4).is_ok());
        assert_eq!(
            row.int(2).unwrap_err().to_string(),
            "column 2: expected an integer, found Text(\"x\")"
        );
        assert_eq!(placeholders(3, 3), "$3, $4, $5");
    }
}
