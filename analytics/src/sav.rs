//! SPSS system files (`.sav`): a [`Dataset`] written with its variable names, labels, value
//! labels, missing codes and formats, for SPSS, PSPP, R (haven) and Python (pyreadstat).
//!
//! The layout follows the PSPP developers guide, "System File Format": the file header, one
//! variable record per 8 bytes of a case, value labels, the extension records (machine
//! integer and float info, display parameters, long names, very long strings, encoding), the
//! dictionary end, then the cases, bytecode compressed. Text is UTF-8 and widths count bytes.
//!
//! Limits SPSS sets, and what this writer does about them: variable labels are cut to 255
//! bytes and value labels to 120 (at a character boundary); a variable keeps at most three
//! missing codes, or a range and one code when the range covers no valid value; text is at
//! most 32767 bytes wide. The triple-S writer makes the same checks of a data set ([`Invalid`]).

use std::collections::{HashMap, HashSet};
use std::io::{self, BufWriter, Write};

use chrono::{Datelike, Local, NaiveDate, NaiveDateTime, Timelike};

use crate::labelled::{Cell, Dataset, Measure, VarKind, Variable};

/// Compressed numbers are stored as `value + BIAS` in one opcode byte.
const BIAS: f64 = 100.0;
/// System-missing, HIGHEST and LOWEST as SPSS defines them (PSPP guide, "Machine Floating-Point
/// Info Record").
const SYSMIS: f64 = -f64::MAX;
const HIGHEST: f64 = f64::MAX;
const LOWEST: f64 = f64::from_bits(0xffef_ffff_ffff_fffe);
/// The widest string SPSS has.
pub const MAX_TEXT_WIDTH: usize = 32767;
/// The most decimals an F format shows.
pub const MAX_DECIMALS: u8 = 16;
const VAR_LABEL_MAX: usize = 255;
const VALUE_LABEL_MAX: usize = 120;
const FILE_LABEL_LEN: usize = 64;
/// Words SPSS syntax reserves; no variable may be named one of them.
const RESERVED: [&str; 13] = [
    "ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH",
];

/// Why a data set cannot be written, as SPSS or as triple-S: both writers check the same things.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Invalid {
    /// There is nothing to write a case of.
    #[error("the data set has no variables")]
    NoVariables,
    /// A variable's declaration cannot be written.
    #[error("variable '{name}': {reason}")]
    Variable {
        /// The variable.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A row does not have one cell per variable.
    #[error("row {row} has {cells} cells but there are {variables} variables")]
    RowLength {
        /// The row, counting from 1 as SPSS numbers cases.
        row: usize,
        /// Its cells.
        cells: usize,
        /// The variables.
        variables: usize,
    },
    /// A cell does not fit its variable.
    #[error("row {row}, variable '{name}': {reason}")]
    Cell {
        /// The row, counting from 1.
        row: usize,
        /// The variable.
        name: String,
        /// What is wrong with the cell.
        reason: String,
    },
}

/// Why a `.sav` file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SavError {
    /// The data set cannot be written as SPSS data; nothing was written.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// Writing failed part way.
    #[error("writing the SPSS file: {0}")]
    Io(#[from] io::Error),
}

/// Writes `data` to `out` as an SPSS system file (bytecode compressed, UTF-8). The data set is
/// checked whole before the first byte is written.
pub fn write(data: &Dataset, out: &mut impl Write) -> Result<(), SavError> {
    write_created(data, out, Local::now().naive_local())
}

/// [`write`] with the creation time the header records, so tests get the same bytes each run.
fn write_created(data: &Dataset, out: &mut impl Write, created: NaiveDateTime) -> Result<(), SavError> {
    check(data)?;
    let columns = layout(data)?;
    let mut out = BufWriter::new(out);
    out.write_all(&dictionary(data, &columns, created))?;
    let mut cases = Compressor::new(&mut out);
    for row in &data.rows {
        for (column, cell) in columns.iter().zip(row) {
            put_cell(&mut cases, column, cell)?;
        }
    }
    cases.finish()?;
    out.flush()?;
    Ok(())
}

/// Checks what both the `.sav` and the triple-S writers need: valid, unique names; widths,
/// decimals, value labels and missing codes that can be written; one cell per variable in
/// every row, each of its variable's kind, text no wider than its variable, numbers finite or
/// NaN (written as missing).
pub(crate) fn check(data: &Dataset) -> Result<(), Invalid> {
    if data.variables.is_empty() {
        return Err(Invalid::NoVariables);
    }
    let mut seen: HashMap<String, &str> = HashMap::new();
    for var in &data.variables {
        let bad = |reason: String| Invalid::Variable {
            name: var.name.clone(),
            reason,
        };
        check_name(&var.name).map_err(bad)?;
        // SPSS names are case-insensitive: `Q1` and `q1` are the same variable.
        if let Some(other) = seen.insert(var.name.to_uppercase(), &var.name) {
            return Err(bad(format!("its name is the same as '{other}' (SPSS ignores case)")));
        }
        check_declaration(var).map_err(bad)?;
    }
    for (i, row) in data.rows.iter().enumerate() {
        if row.len() != data.variables.len() {
            return Err(Invalid::RowLength {
                row: i + 1,
                cells: row.len(),
                variables: data.variables.len(),
            });
        }
        for (var, cell) in data.variables.iter().zip(row) {
            check_cell(var, cell).map_err(|reason| Invalid::Cell {
                row: i + 1,
                name: var.name.clone(),
                reason,
            })?;
        }
    }
    Ok(())
}

/// A letter, then letters, digits or `_`, at most 64 bytes, not a reserved word, not ending
/// in `_` (SPSS keeps such names for its own variables).
fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    match chars.next() {
        None => return Err("the name is empty".into()),
        Some(c) if !c.is_alphabetic() => return Err(format!("the name must start with a letter, not '{c}'")),
        Some(_) => {}
    }
    if let Some(c) = chars.find(|c| !(c.is_alphanumeric() || *c == '_')) {
        return Err(format!("the name may hold only letters, digits and '_', not '{c}'"));
    }
    if name.len() > 64 {
        return Err(format!("the name is {} bytes long; SPSS allows 64", name.len()));
    }
    if name.ends_with('_') {
        return Err("the name must not end with '_'".into());
    }
    if RESERVED.contains(&name.to_uppercase().as_str()) {
        return Err(format!("'{name}' is a reserved word in SPSS"));
    }
    Ok(())
}

fn check_declaration(var: &Variable) -> Result<(), String> {
    match var.kind {
        VarKind::Text { width } if width == 0 || width > MAX_TEXT_WIDTH => {
            return Err(format!(
                "a text width of {width} bytes; it must be 1 to {MAX_TEXT_WIDTH}"
            ));
        }
        VarKind::Numeric { decimals } if decimals > MAX_DECIMALS => {
            return Err(format!("{decimals} decimals; SPSS shows at most {MAX_DECIMALS}"));
        }
        VarKind::Numeric { .. } => {}
        _ if !var.value_labels.is_empty() => return Err("value labels are only for numeric variables".into()),
        _ if !var.missing.is_empty() => return Err("missing codes are only for numeric variables".into()),
        _ => {}
    }
    let mut codes = Vec::new();
    for (code, _) in &var.value_labels {
        if !code.is_finite() {
            return Err(format!("the value label code {code} is not a finite number"));
        }
        if codes.contains(code) {
            return Err(format!("the code {code} has two value labels"));
        }
        codes.push(*code);
    }
    if let Some(code) = var.missing.iter().find(|c| !c.is_finite()) {
        return Err(format!("the missing code {code} is not a finite number"));
    }
    Ok(())
}

fn check_cell(var: &Variable, cell: &Cell) -> Result<(), String> {
    match (var.kind, cell) {
        (_, Cell::Empty) => Ok(()),
        (VarKind::Numeric { .. }, Cell::Number(x)) if x.is_infinite() => Err(format!("{x} is not a finite number")),
        (VarKind::Numeric { .. }, Cell::Number(_)) => Ok(()),
        (VarKind::Text { width }, Cell::Text(s)) if s.len() > width => Err(format!(
            "the text is {} bytes long but the variable holds {width}",
            s.len()
        )),
        (VarKind::Text { .. }, Cell::Text(_))
        | (VarKind::Date, Cell::Date(_))
        | (VarKind::DateTime, Cell::DateTime(_)) => Ok(()),
        (kind, cell) => Err(format!("{} in a {} variable", cell_kind(cell), kind_name(kind))),
    }
}

fn cell_kind(cell: &Cell) -> &'static str {
    match cell {
        Cell::Number(_) => "a number",
        Cell::Text(_) => "text",
        Cell::Date(_) => "a date",
        Cell::DateTime(_) => "a date and time",
        Cell::Empty => "nothing",
    }
}

fn kind_name(kind: VarKind) -> &'static str {
    match kind {
        VarKind::Numeric { .. } => "numeric",
        VarKind::Text { .. } => "text",
        VarKind::Date => "date",
        VarKind::DateTime => "date-time",
    }
}

/// How one variable's missing codes are recorded: up to three codes, or a range (and a code).
#[derive(Debug, Clone, PartialEq)]
enum Missing {
    Codes(Vec<f64>),
    Range { low: f64, high: f64, code: Option<f64> },
}

impl Missing {
    /// The variable record's `n_missing_values`: the count, negated when there is a range.
    fn count(&self) -> i32 {
        match self {
            Missing::Codes(codes) => codes.len() as i32,
            Missing::Range { code: None, .. } => -2,
            Missing::Range { code: Some(_), .. } => -3,
        }
    }

    /// The values as the variable record lists them: the range first.
    fn values(&self) -> Vec<f64> {
        match self {
            Missing::Codes(codes) => codes.clone(),
            Missing::Range { low, high, code } => [*low, *high].into_iter().chain(*code).collect(),
        }
    }
}

/// SPSS keeps three discrete missing codes, or a range plus one code. More codes are written
/// as a range only when the range covers no valid value (a labelled code or a value in the
/// data that is not missing), so no answer turns missing.
fn missing_spec(var: &Variable, valid: &[f64]) -> Result<Missing, String> {
    let mut codes: Vec<f64> = Vec::new();
    for code in &var.missing {
        if !codes.contains(code) {
            codes.push(*code);
        }
    }
    if codes.len() <= 3 {
        return Ok(Missing::Codes(codes));
    }
    codes.sort_by(f64::total_cmp);
    let free = |low: f64, high: f64| !valid.iter().any(|v| (low..=high).contains(v) && !codes.contains(v));
    let (first, last, n) = (codes[0], codes[codes.len() - 1], codes.len());
    if free(first, last) {
        Ok(Missing::Range {
            low: first,
            high: last,
            code: None,
        })
    } else if free(first, codes[n - 2]) {
        Ok(Missing::Range {
            low: first,
            high: codes[n - 2],
            code: Some(last),
        })
    } else if free(codes[1], last) {
        Ok(Missing::Range {
            low: codes[1],
            high: last,
            code: Some(first),
        })
    } else {
        Err(format!(
            "{n} missing codes; SPSS keeps three, or a range and one code, and any range over {codes:?} would also \
             cover valid values"
        ))
    }
}

/// One variable as the file lays it out.
#[derive(Debug)]
struct Column<'a> {
    var: &'a Variable,
    /// The segments' short names and widths (0 for numbers); text wider than 255 bytes is cut
    /// into segments (PSPP guide, "Very Long String Record").
    segments: Vec<(String, usize)>,
    /// Print and write format (type << 16 | width << 8 | decimals).
    format: u32,
    display_width: i32,
    missing: Missing,
}

impl Column<'_> {
    fn text_width(&self) -> Option<usize> {
        match self.var.kind {
            VarKind::Text { width } => Some(width),
            _ => None,
        }
    }
}

/// Format type codes (PSPP guide, "Variable Record").
const FMT_A: u32 = 1;
const FMT_F: u32 = 5;
const FMT_DATE: u32 = 20;
const FMT_DATETIME: u32 = 22;

fn format_code(kind: u32, width: usize, decimals: u8) -> u32 {
    (kind << 16) | ((width.min(255) as u32) << 8) | decimals as u32
}

fn layout(data: &Dataset) -> Result<Vec<Column<'_>>, Invalid> {
    let names: Vec<&str> = data.variables.iter().map(|v| v.name.as_str()).collect();
    let mut short = ShortNames::default();
    let firsts = short.assign(&names);
    let mut columns = Vec::with_capacity(data.variables.len());
    for (i, (var, first)) in data.variables.iter().zip(firsts).enumerate() {
        let numbers: Vec<f64> = data
            .rows
            .iter()
            .filter_map(|row| match row[i] {
                Cell::Number(x) if x.is_finite() => Some(x),
                _ => None,
            })
            .collect();
        let (format, display_width, widths) = match var.kind {
            VarKind::Numeric { decimals } => {
                let codes = var
                    .value_labels
                    .iter()
                    .map(|(c, _)| *c)
                    .chain(var.missing.iter().copied());
                let width = numeric_width(decimals, numbers.iter().copied().chain(codes));
                (format_code(FMT_F, width, decimals), width as i32, vec![0])
            }
            VarKind::Date => (format_code(FMT_DATE, 11, 0), 11, vec![0]),
            VarKind::DateTime => (format_code(FMT_DATETIME, 20, 0), 20, vec![0]),
            VarKind::Text { width } => (
                format_code(FMT_A, width, 0),
                width.min(32) as i32,
                segment_widths(width),
            ),
        };
        let valid: Vec<f64> = numbers
            .iter()
            .copied()
            .chain(var.value_labels.iter().map(|(c, _)| *c))
            .collect();
        let missing = missing_spec(var, &valid).map_err(|reason| Invalid::Variable {
            name: var.name.clone(),
            reason,
        })?;
        let mut segments = vec![(first.clone(), widths[0])];
        for width in &widths[1..] {
            segments.push((short.claim(&first), *width));
        }
        columns.push(Column {
            var,
            segments,
            format,
            display_width,
            missing,
        });
    }
    Ok(columns)
}

/// The F width that shows every value with its decimals: at least 8 (SPSS's default), at most
/// 40 (SPSS's limit).
fn numeric_width(decimals: u8, values: impl Iterator<Item = f64>) -> usize {
    values
        .map(|x| format!("{:.*}", decimals as usize, x).len())
        .fold(8, usize::max)
        .min(40)
}

/// The widths of a text variable's segments: one for up to 255 bytes; beyond, one per 252
/// bytes, each 255 wide but the last (PSPP guide, "Very Long String Record").
fn segment_widths(width: usize) -> Vec<usize> {
    if width <= 255 {
        return vec![width];
    }
    let n = width.div_ceil(252);
    (0..n)
        .map(|i| if i + 1 < n { 255 } else { width - (n - 1) * 252 })
        .collect()
}

/// Bytes a segment of this width takes in a case: whole 8-byte units; numbers take one.
fn segment_bytes(width: usize) -> usize {
    if width == 0 { 8 } else { width.div_ceil(8) * 8 }
}

/// Unique short names for SPSS's 8-byte name field; the long names record maps them back.
#[derive(Default)]
struct ShortNames {
    taken: HashSet<String>,
}

impl ShortNames {
    /// Short names for these long names, in order. Names that fit are claimed first, so `Q1`
    /// stays `Q1` even after `q1_long_name` (whose start is `Q1_LONG_`).
    fn assign(&mut self, names: &[&str]) -> Vec<String> {
        let bases: Vec<String> = names.iter().map(|n| short_base(n)).collect();
        let mut out = vec![String::new(); names.len()];
        let fits = |i: usize| bases[i] == names[i].to_ascii_uppercase();
        for pass in [true, false] {
            for i in (0..names.len()).filter(|&i| fits(i) == pass) {
                out[i] = self.claim(&bases[i]);
            }
        }
        out
    }

    /// `base` if free, else `base` cut short with `_1`, `_2`, ... at its end.
    fn claim(&mut self, base: &str) -> String {
        let free = |name: &str, taken: &HashSet<String>| !taken.contains(name) && !RESERVED.contains(&name);
        let mut name = base.to_string();
        let mut n = 0;
        while !free(&name, &self.taken) {
            n += 1;
            let suffix = format!("_{n}");
            name = format!("{}{suffix}", &base[..base.len().min(8 - suffix.len())]);
        }
        self.taken.insert(name.clone());
        name
    }
}

/// A name's ASCII letters, digits and `_`, uppercased, at most 8 bytes, starting with a letter.
fn short_base(name: &str) -> String {
    let mut base: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if !base.starts_with(|c: char| c.is_ascii_alphabetic()) {
        base.insert(0, 'V');
    }
    base.truncate(8);
    base
}

/// Seconds since 1582-10-14 00:00:00, the start of SPSS's calendar.
pub fn spss_seconds(at: NaiveDateTime) -> f64 {
    let epoch = NaiveDate::from_ymd_opt(1582, 10, 14)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("valid date");
    let since = at - epoch;
    since.num_seconds() as f64 + f64::from(since.subsec_nanos()) / 1e9
}

/// The start of a day, in SPSS seconds.
pub fn spss_date(date: NaiveDate) -> f64 {
    spss_seconds(date.and_time(chrono::NaiveTime::MIN))
}

fn put_i32(buf: &mut Vec<u8>, x: i32) {
    buf.extend_from_slice(&x.to_le_bytes());
}

fn put_f64(buf: &mut Vec<u8>, x: f64) {
    buf.extend_from_slice(&x.to_le_bytes());
}

/// `s` in exactly `len` bytes: cut (at a character boundary) or padded with spaces.
fn put_padded(buf: &mut Vec<u8>, s: &str, len: usize) {
    let s = truncate(s, len);
    buf.extend_from_slice(s.as_bytes());
    buf.resize(buf.len() + len - s.len(), b' ');
}

/// The longest start of `s` of at most `max` bytes that ends at a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Everything before the cases: header, variable records, value labels, extension records,
/// and the dictionary's end.
fn dictionary(data: &Dataset, columns: &[Column], created: NaiveDateTime) -> Vec<u8> {
    let mut buf = Vec::new();
    header(&mut buf, data, columns, created);
    for column in columns {
        variable_records(&mut buf, column);
    }
    let mut index = 1;
    for column in columns {
        if !column.var.value_labels.is_empty() {
            value_labels(&mut buf, column.var, index);
        }
        index += column
            .segments
            .iter()
            .map(|(_, w)| segment_bytes(*w) / 8)
            .sum::<usize>() as i32;
    }
    machine_info(&mut buf);
    display_parameters(&mut buf, columns);
    let long_names: Vec<String> = columns
        .iter()
        .map(|c| format!("{}={}", c.segments[0].0, c.var.name))
        .collect();
    extension(&mut buf, 13, long_names.join("\t").as_bytes());
    let very_long: String = columns
        .iter()
        .filter(|c| c.segments.len() > 1)
        .map(|c| format!("{}={:05}\0\t", c.segments[0].0, c.text_width().unwrap_or(0)))
        .collect();
    if !very_long.is_empty() {
        extension(&mut buf, 14, very_long.as_bytes());
    }
    extension(&mut buf, 20, b"UTF-8");
    put_i32(&mut buf, 999);
    put_i32(&mut buf, 0);
    buf
}

fn header(buf: &mut Vec<u8>, data: &Dataset, columns: &[Column], created: NaiveDateTime) {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    buf.extend_from_slice(b"$FL2");
    put_padded(buf, "@(#) SPSS DATA FILE Paceline", 60);
    put_i32(buf, 2); // layout code: little-endian integers
    let case_size: usize = columns
        .iter()
        .flat_map(|c| &c.segments)
        .map(|(_, w)| segment_bytes(*w) / 8)
        .sum();
    put_i32(buf, case_size as i32);
    put_i32(buf, 1); // bytecode compression
    put_i32(buf, 0); // no weight variable
    put_i32(buf, i32::try_from(data.rows.len()).unwrap_or(-1));
    put_f64(buf, BIAS);
    let date = format!(
        "{:02} {} {:02}",
        created.day(),
        MONTHS[created.month0() as usize],
        created.year() % 100
    );
    put_padded(buf, &date, 9);
    let time = format!("{:02}:{:02}:{:02}", created.hour(), created.minute(), created.second());
    put_padded(buf, &time, 8);
    put_padded(buf, &data.label, FILE_LABEL_LEN);
    buf.extend_from_slice(&[0; 3]);
}

fn variable_records(buf: &mut Vec<u8>, column: &Column) {
    let var = column.var;
    for (i, (short, width)) in column.segments.iter().enumerate() {
        let first = i == 0;
        let label = if first { truncate(&var.label, VAR_LABEL_MAX) } else { "" };
        put_i32(buf, 2);
        put_i32(buf, *width as i32);
        put_i32(buf, i32::from(!label.is_empty()));
        put_i32(buf, if first { column.missing.count() } else { 0 });
        let format = if first {
            column.format
        } else {
            format_code(FMT_A, *width, 0)
        };
        put_i32(buf, format as i32);
        put_i32(buf, format as i32);
        put_padded(buf, short, 8);
        if !label.is_empty() {
            put_i32(buf, label.len() as i32);
            put_padded(buf, label, label.len().next_multiple_of(4));
        }
        if first {
            for value in column.missing.values() {
                put_f64(buf, value);
            }
        }
        // A string takes one record per 8 bytes: the first names it, the rest continue it.
        for _ in 1..segment_bytes(*width) / 8 {
            put_i32(buf, 2);
            put_i32(buf, -1);
            for _ in 0..4 {
                put_i32(buf, 0);
            }
            put_padded(buf, "", 8);
        }
    }
}

/// A value label record (type 3) and the record naming its one variable (type 4); `index` is
/// the variable's position in 8-byte units, from 1.
fn value_labels(buf: &mut Vec<u8>, var: &Variable, index: i32) {
    put_i32(buf, 3);
    put_i32(buf, var.value_labels.len() as i32);
    for (code, label) in &var.value_labels {
        put_f64(buf, *code);
        let label = truncate(label, VALUE_LABEL_MAX);
        buf.push(label.len() as u8);
        // The length byte and the label fill whole 8-byte units.
        put_padded(buf, label, (label.len() + 1).next_multiple_of(8) - 1);
    }
    put_i32(buf, 4);
    put_i32(buf, 1);
    put_i32(buf, index);
}

/// An extension record (type 7) of bytes.
fn extension(buf: &mut Vec<u8>, subtype: i32, bytes: &[u8]) {
    put_i32(buf, 7);
    put_i32(buf, subtype);
    put_i32(buf, 1);
    put_i32(buf, bytes.len() as i32);
    buf.extend_from_slice(bytes);
}

/// The machine integer info (subtype 3) and floating-point info (subtype 4) records.
fn machine_info(buf: &mut Vec<u8>) {
    for x in [7, 3, 4, 8] {
        put_i32(buf, x);
    }
    let version = |part: &str| part.parse().unwrap_or(0);
    put_i32(buf, version(env!("CARGO_PKG_VERSION_MAJOR")));
    put_i32(buf, version(env!("CARGO_PKG_VERSION_MINOR")));
    put_i32(buf, version(env!("CARGO_PKG_VERSION_PATCH")));
    // machine code (none), IEEE 754 floats, bytecode compression, little-endian, UTF-8
    for x in [-1, 1, 1, 2, 65001] {
        put_i32(buf, x);
    }
    for x in [7, 4, 8, 3] {
        put_i32(buf, x);
    }
    for x in [SYSMIS, HIGHEST, LOWEST] {
        put_f64(buf, x);
    }
}

/// Variable display parameters (subtype 11): measure, column width and alignment for each
/// segment.
fn display_parameters(buf: &mut Vec<u8>, columns: &[Column]) {
    let segments: usize = columns.iter().map(|c| c.segments.len()).sum();
    for x in [7, 11, 4, 3 * segments as i32] {
        put_i32(buf, x);
    }
    for column in columns {
        let text = column.text_width().is_some();
        let measure = match column.var.measure {
            Measure::Nominal => 1,
            Measure::Ordinal => 2,
            // SPSS does not let text be a scale.
            Measure::Scale if text => 1,
            Measure::Scale => 3,
        };
        let alignment = if text { 0 } else { 1 };
        for _ in &column.segments {
            for x in [measure, column.display_width, alignment] {
                put_i32(buf, x);
            }
        }
    }
}

/// One 8-byte unit of a case, compressed: an opcode, and the 8 bytes to store if the opcode
/// does not say all.
fn compress_number(x: Option<f64>) -> (u8, Option<[u8; 8]>) {
    match x {
        None => (255, None),
        Some(x) if x.fract() == 0.0 && (1.0 - BIAS..=251.0 - BIAS).contains(&x) => ((x + BIAS) as u8, None),
        Some(x) => (253, Some(x.to_le_bytes())),
    }
}

/// Eight bytes of text: 254 when they are all spaces, else stored as they are.
fn compress_text(chunk: [u8; 8]) -> (u8, Option<[u8; 8]>) {
    if chunk == [b' '; 8] {
        (254, None)
    } else {
        (253, Some(chunk))
    }
}

/// Bytecode compression (PSPP guide, "Data Record"): blocks of eight opcodes, each followed by
/// the 8-byte values its opcodes store. Blocks run on across cases.
struct Compressor<'w, W: Write> {
    out: &'w mut W,
    opcodes: [u8; 8],
    count: usize,
    values: Vec<u8>,
}

impl<'w, W: Write> Compressor<'w, W> {
    fn new(out: &'w mut W) -> Self {
        Compressor {
            out,
            opcodes: [0; 8],
            count: 0,
            values: Vec::with_capacity(64),
        }
    }

    fn push(&mut self, (opcode, value): (u8, Option<[u8; 8]>)) -> io::Result<()> {
        if self.count == 8 {
            self.flush()?;
        }
        self.opcodes[self.count] = opcode;
        self.count += 1;
        if let Some(value) = value {
            self.values.extend_from_slice(&value);
        }
        Ok(())
    }

    /// Writes the block, its unused opcodes 0 (padding, which readers skip).
    fn flush(&mut self) -> io::Result<()> {
        self.opcodes[self.count..].fill(0);
        self.out.write_all(&self.opcodes)?;
        self.out.write_all(&self.values)?;
        self.count = 0;
        self.values.clear();
        Ok(())
    }

    fn finish(mut self) -> io::Result<()> {
        if self.count > 0 { self.flush() } else { Ok(()) }
    }
}

fn put_cell<W: Write>(cases: &mut Compressor<W>, column: &Column, cell: &Cell) -> io::Result<()> {
    if column.text_width().is_none() {
        let x = match cell {
            Cell::Number(x) if x.is_nan() => None,
            Cell::Number(x) => Some(*x),
            Cell::Date(d) => Some(spss_date(*d)),
            Cell::DateTime(t) => Some(spss_seconds(*t)),
            _ => None,
        };
        return cases.push(compress_number(x));
    }
    let text = match cell {
        Cell::Text(s) => s.as_bytes(),
        _ => b"",
    };
    // A very long string's segments each hold 255 bytes of it (in 256), the last the rest.
    let segments = column.segments.len();
    for (i, (_, seg_width)) in column.segments.iter().enumerate() {
        let part = if segments == 1 {
            text
        } else {
            &text[(i * 255).min(text.len())..((i + 1) * 255).min(text.len())]
        };
        let mut bytes = part.to_vec();
        bytes.resize(segment_bytes(*seg_width), b' ');
        for chunk in bytes.chunks_exact(8) {
            cases.push(compress_text(chunk.try_into().expect("8 bytes")))?;
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use std::process::Command;

    use serde_json::{Value, json};

    use super::*;
    use crate::labelled::Source;

    fn var(name: &str, label: &str, kind: VarKind, measure: Measure) -> Variable {
        Variable {
            name: name.into(),
            label: label.into(),
            kind,
            measure,
            value_labels: Vec::new(),
            missing: Vec::new(),
            source: Source::Paradata,
        }
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> NaiveDateTime {
        date(y, m, d).and_hms_opt(h, min, s).unwrap()
    }

    /// The long text of the first case: 300 bytes, with a two-byte character across the
    /// boundary of the first 255-byte segment.
    pub(crate) fn long_text() -> String {
        let mut s = "x".repeat(254);
        s.push('é');
        s.push_str(&"y".repeat(44));
        assert_eq!(s.len(), 300);
        s
    }

    /// A small survey with every kind of variable, labels, missing codes and empty cells.
    pub(crate) fn survey() -> Dataset {
        use crate::labelled::Cell::{Date, DateTime, Empty, Number, Text};
        let codes = |pairs: &[(f64, &str)]| pairs.iter().map(|(c, l)| (*c, l.to_string())).collect::<Vec<_>>();
        let mut satisfaction = var(
            "satisfaction_overall",
            "How satisfied are you overall with \"Paceline\" & <friends>?",
            VarKind::Numeric { decimals: 0 },
            Measure::Ordinal,
        );
        satisfaction.value_labels = codes(&[
            (1.0, "Very satisfied"),
            (2.0, "Satisfied"),
            (3.0, "Dissatisfied"),
            (-1.0, "Not asked"),
            (-2.0, "Not reached"),
        ]);
        satisfaction.missing = vec![-1.0, -2.0];
        satisfaction.source = Source::Question {
            question: "satisfaction".into(),
            kind: "single_choice".into(),
            asked_when: None,
        };
        let mut staff = var(
            "satisfaction_staff",
            "And with the staff?",
            VarKind::Numeric { decimals: 0 },
            Measure::Ordinal,
        );
        staff.value_labels = codes(&[(1.0, "Good"), (2.0, "Bad")]);
        let mut tv = var(
            "media_tv",
            "Which media do you use? TV",
            VarKind::Numeric { decimals: 0 },
            Measure::Nominal,
        );
        tv.value_labels = codes(&[(0.0, "Not chosen"), (1.0, "Chosen")]);
        let variables = vec![
            satisfaction,
            staff,
            tv,
            var("age", "Age in years", VarKind::Numeric { decimals: 0 }, Measure::Scale),
            var(
                "spend",
                "Monthly spend (€)",
                VarKind::Numeric { decimals: 2 },
                Measure::Scale,
            ),
            var("initials", "Initials", VarKind::Text { width: 4 }, Measure::Nominal),
            var("city", "City", VarKind::Text { width: 40 }, Measure::Nominal),
            var("interview_date", "Date of the interview", VarKind::Date, Measure::Scale),
            var(
                "started_at",
                "Start of the interview (UTC)",
                VarKind::DateTime,
                Measure::Scale,
            ),
            var(
                "comment",
                "Anything else?",
                VarKind::Text { width: 300 },
                Measure::Nominal,
            ),
        ];
        let rows = vec![
            vec![
                Number(1.0),
                Number(2.0),
                Number(1.0),
                Number(34.0),
                Number(12.5),
                Text("AB".into()),
                Text("Zürich – ça va".into()),
                Date(date(2024, 3, 1)),
                DateTime(at(2024, 3, 1, 9, 15, 30)),
                Text(long_text()),
            ],
            vec![
                Number(-1.0),
                Empty,
                Number(0.0),
                Empty,
                Empty,
                Empty,
                Empty,
                Empty,
                Empty,
                Empty,
            ],
            vec![
                Number(3.0),
                Number(1.0),
                Empty,
                Number(200.0),
                Number(-3.25),
                Text("XYZW".into()),
                Text("Genève".into()),
                Date(date(1999, 12, 31)),
                DateTime(at(2000, 1, 1, 0, 0, 0)),
                Text("short".into()),
            ],
            vec![
                Number(-2.0),
                Number(f64::NAN),
                Number(1.0),
                Number(0.0),
                Number(1234567.89),
                Text(String::new()),
                Text("12345678".into()),
                Empty,
                DateTime(at(2024, 12, 31, 23, 59, 59)),
                Text(" ".into()),
            ],
        ];
        Dataset {
            label: "health-survey 3: answers".into(),
            variables,
            rows,
        }
    }

    fn write_bytes(data: &Dataset) -> Result<Vec<u8>, SavError> {
        let mut out = Vec::new();
        write_created(data, &mut out, at(2025, 6, 7, 8, 9, 10))?;
        Ok(out)
    }

    fn invalid(data: &Dataset) -> String {
        match write_bytes(data) {
            Err(SavError::Invalid(e)) => e.to_string(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn short_names_are_unique_upper_case_and_at_most_8_bytes() {
        let names = [
            "satisfaction_overall",
            "satisfaction_staff",
            "SATISFAC",
            "q1",
            "Größe",
            "_x",
            "to",
            "a_very_long_name_1",
            "a_very_long_name_2",
        ];
        let shorts = ShortNames::default().assign(&names);
        assert_eq!(
            shorts,
            [
                "SATISF_1", "SATISF_2", "SATISFAC", "Q1", "GRE", "V_X", "TO_1", "A_VERY_L", "A_VERY_1"
            ]
        );
        let unique: HashSet<&String> = shorts.iter().collect();
        assert_eq!(unique.len(), shorts.len());
        assert!(
            shorts
                .iter()
                .all(|s| s.len() <= 8 && s.bytes().all(|b| !b.is_ascii_lowercase()))
        );
    }

    #[test]
    fn short_names_run_past_nine() {
        let names: Vec<String> = (0..12).map(|i| format!("question_{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let shorts = ShortNames::default().assign(&names);
        assert_eq!(shorts[0], "QUESTION");
        assert_eq!(shorts[1], "QUESTI_1");
        assert_eq!(shorts[11], "QUEST_11");
    }

    #[test]
    fn dates_count_seconds_from_14_october_1582() {
        assert_eq!(spss_date(date(1582, 10, 14)), 0.0);
        assert_eq!(spss_date(date(1582, 10, 15)), 86_400.0);
        // The Unix epoch, as haven and pyreadstat convert it.
        assert_eq!(spss_date(date(1970, 1, 1)), 12_219_379_200.0);
        assert_eq!(spss_seconds(at(1970, 1, 1, 0, 0, 1)), 12_219_379_201.0);
        let half = date(1970, 1, 1).and_hms_milli_opt(0, 0, 0, 500).unwrap();
        assert_eq!(spss_seconds(half), 12_219_379_200.5);
    }

    #[test]
    fn compression_codes() {
        assert_eq!(compress_number(None), (255, None));
        assert_eq!(compress_number(Some(0.0)), (100, None));
        assert_eq!(compress_number(Some(-99.0)), (1, None));
        assert_eq!(compress_number(Some(151.0)), (251, None));
        assert_eq!(compress_number(Some(152.0)), (253, Some(152.0f64.to_le_bytes())));
        assert_eq!(compress_number(Some(-100.0)), (253, Some((-100.0f64).to_le_bytes())));
        assert_eq!(compress_number(Some(1.5)), (253, Some(1.5f64.to_le_bytes())));
        assert_eq!(compress_text(*b"        "), (254, None));
        assert_eq!(compress_text(*b"ab      "), (253, Some(*b"ab      ")));
    }

    #[test]
    fn compressor_fills_blocks_of_eight_and_pads_the_last() {
        let mut out = Vec::new();
        let mut c = Compressor::new(&mut out);
        for x in [1.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 1000.0] {
            c.push(compress_number(Some(x))).unwrap();
        }
        c.finish().unwrap();
        let mut want = vec![101, 253, 103, 104, 105, 106, 107, 108];
        want.extend_from_slice(&2.5f64.to_le_bytes());
        want.extend_from_slice(&[253, 0, 0, 0, 0, 0, 0, 0]);
        want.extend_from_slice(&1000.0f64.to_le_bytes());
        assert_eq!(out, want);
    }

    #[test]
    fn segments_of_very_long_text() {
        assert_eq!(segment_widths(1), [1]);
        assert_eq!(segment_widths(255), [255]);
        assert_eq!(segment_widths(256), [255, 4]);
        assert_eq!(segment_widths(300), [255, 48]);
        // The PSPP guide's example.
        let w = segment_widths(20_000);
        assert_eq!((w.len(), w[78], w[79]), (80, 255, 92));
        assert_eq!(segment_bytes(0), 8);
        assert_eq!(segment_bytes(9), 16);
        assert_eq!(segment_bytes(255), 256);
    }

    #[test]
    fn numeric_width_fits_the_widest_value() {
        assert_eq!(numeric_width(0, [1.0, 2.0].into_iter()), 8);
        assert_eq!(numeric_width(2, [-1234567.891].into_iter()), 11);
        assert_eq!(numeric_width(16, [1.0].into_iter()), 18);
        assert_eq!(numeric_width(0, [1e300].into_iter()), 40);
    }

    #[test]
    fn more_than_three_missing_codes_become_a_range_that_covers_no_answer() {
        let mut v = var("q", "", VarKind::Numeric { decimals: 0 }, Measure::Nominal);
        v.missing = vec![-1.0, -2.0, -3.0, -4.0];
        assert_eq!(
            missing_spec(&v, &[1.0, 2.0]),
            Ok(Missing::Range {
                low: -4.0,
                high: -1.0,
                code: None
            })
        );
        v.missing = vec![-1.0, -2.0, -3.0, 99.0];
        assert_eq!(
            missing_spec(&v, &[1.0, 2.0]),
            Ok(Missing::Range {
                low: -3.0,
                high: -1.0,
                code: Some(99.0)
            })
        );
        v.missing = vec![-9.0, 97.0, 98.0, 99.0];
        assert_eq!(
            missing_spec(&v, &[1.0, 2.0]),
            Ok(Missing::Range {
                low: 97.0,
                high: 99.0,
                code: Some(-9.0)
            })
        );
        v.missing = vec![-9.0, 1.0, 98.0, 99.0, 5.0];
        let err = missing_spec(&v, &[2.0, 3.0]).unwrap_err();
        assert!(err.contains("5 missing codes"), "{err}");
        v.missing = vec![-1.0, -2.0, -1.0];
        assert_eq!(missing_spec(&v, &[]), Ok(Missing::Codes(vec![-1.0, -2.0])));
    }

    #[test]
    fn truncation_keeps_characters_whole() {
        assert_eq!(truncate("Zürich", 2), "Z");
        assert_eq!(truncate("Zürich", 3), "Zü");
        assert_eq!(truncate("abc", 10), "abc");
    }

    #[test]
    fn header_is_176_bytes_and_names_the_file() {
        let bytes = write_bytes(&survey()).unwrap();
        assert_eq!(&bytes[..4], b"$FL2");
        assert!(bytes[4..64].starts_with(b"@(#) SPSS DATA FILE Paceline"));
        let int = |at: usize| i32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        assert_eq!(int(64), 2);
        // 5 numbers, 1 + 5 units of text, 2 dates, 32 + 6 units of very long text
        assert_eq!(int(68), 5 + 6 + 2 + 38);
        assert_eq!((int(72), int(76), int(80)), (1, 0, 4));
        assert_eq!(f64::from_le_bytes(bytes[84..92].try_into().unwrap()), 100.0);
        assert_eq!(&bytes[92..109], b"07 Jun 2508:09:10");
        assert!(bytes[109..173].starts_with(b"health-survey 3: answers   "));
        assert_eq!(&bytes[173..176], &[0, 0, 0]);
        assert_eq!(i32::from_le_bytes(bytes[176..180].try_into().unwrap()), 2);
    }

    #[test]
    fn rejects_what_spss_cannot_hold() {
        let mut data = survey();
        data.variables[3].name = "2nd".into();
        assert_eq!(
            invalid(&data),
            "variable '2nd': the name must start with a letter, not '2'"
        );

        let mut data = survey();
        data.variables[3].name = "age-years".into();
        assert_eq!(
            invalid(&data),
            "variable 'age-years': the name may hold only letters, digits and '_', not '-'"
        );

        let mut data = survey();
        data.variables[3].name = "SPEND".into();
        assert_eq!(
            invalid(&data),
            "variable 'spend': its name is the same as 'SPEND' (SPSS ignores case)"
        );

        let mut data = survey();
        data.variables[3].name = "with".into();
        assert_eq!(invalid(&data), "variable 'with': 'with' is a reserved word in SPSS");

        let mut data = survey();
        data.variables[3].name = "a".repeat(65);
        assert!(invalid(&data).ends_with("the name is 65 bytes long; SPSS allows 64"));

        let mut data = survey();
        data.rows[2][3] = Cell::Text("old".into());
        assert_eq!(invalid(&data), "row 3, variable 'age': text in a numeric variable");

        let mut data = survey();
        data.rows[0][7] = Cell::Number(1.0);
        assert_eq!(
            invalid(&data),
            "row 1, variable 'interview_date': a number in a date variable"
        );

        let mut data = survey();
        data.rows[1].pop();
        assert_eq!(invalid(&data), "row 2 has 9 cells but there are 10 variables");

        let mut data = survey();
        data.rows[0][5] = Cell::Text("ABCDE".into());
        assert_eq!(
            invalid(&data),
            "row 1, variable 'initials': the text is 5 bytes long but the variable holds 4"
        );

        let mut data = survey();
        data.rows[0][4] = Cell::Number(f64::INFINITY);
        assert_eq!(invalid(&data), "row 1, variable 'spend': inf is not a finite number");

        let mut data = survey();
        data.variables[9].kind = VarKind::Text { width: 40_000 };
        assert_eq!(
            invalid(&data),
            "variable 'comment': a text width of 40000 bytes; it must be 1 to 32767"
        );

        let mut data = survey();
        data.variables[5].missing = vec![1.0];
        assert_eq!(
            invalid(&data),
            "variable 'initials': missing codes are only for numeric variables"
        );

        let mut data = survey();
        data.variables[0].value_labels.push((1.0, "Again".into()));
        assert_eq!(
            invalid(&data),
            "variable 'satisfaction_overall': the code 1 has two value labels"
        );

        let mut data = survey();
        data.variables[0].missing = vec![-1.0, -2.0, 2.0, 5.0];
        assert!(invalid(&data).contains("4 missing codes; SPSS keeps three"));

        let data = Dataset {
            label: String::new(),
            variables: Vec::new(),
            rows: Vec::new(),
        };
        assert_eq!(invalid(&data), "the data set has no variables");
    }

    #[test]
    fn nothing_is_written_when_the_data_set_is_invalid() {
        let mut data = survey();
        data.rows[3][0] = Cell::Text("x".into());
        let mut out = Vec::new();
        assert!(write(&data, &mut out).is_err());
        assert!(out.is_empty());
    }

    /// Reads `path` with pyreadstat (through `tests/read_sav.py`) and returns what it saw.
    fn read_with_pyreadstat(path: &std::path::Path) -> Value {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/read_sav.py");
        let output = Command::new("python3").arg(script).arg(path).output().unwrap_or_else(|e| {
            panic!("cannot run python3 ({e}): this test reads the .sav with pyreadstat; install Python 3, then `pip install pyreadstat`")
        });
        // read_sav.py says `pip install pyreadstat` when it cannot import it.
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "reading the .sav with pyreadstat failed:\n{stderr}"
        );
        serde_json::from_slice(&output.stdout).expect("read_sav.py prints JSON")
    }

    #[test]
    fn pyreadstat_reads_back_every_name_label_code_and_value() {
        let data = survey();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("survey.sav");
        let mut file = std::fs::File::create(&path).unwrap();
        write(&data, &mut file).unwrap();
        drop(file);
        let got = read_with_pyreadstat(&path);

        assert_eq!(got["file_label"], "health-survey 3: answers");
        assert_eq!(got["encoding"], "UTF-8");
        assert_eq!(got["rows"], 4);
        let names: Vec<&str> = data.variables.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(got["names"], json!(names));
        let labels: Vec<&str> = data.variables.iter().map(|v| v.label.as_str()).collect();
        assert_eq!(got["labels"], json!(labels));
        assert_eq!(
            got["formats"],
            json!([
                "F8.0",
                "F8.0",
                "F8.0",
                "F8.0",
                "F10.2",
                "A4",
                "A40",
                "DATE11",
                "DATETIME20",
                "A300"
            ])
        );
        assert_eq!(
            got["measures"],
            json!([
                "ordinal", "ordinal", "nominal", "scale", "scale", "nominal", "nominal", "scale", "scale", "nominal"
            ])
        );
        assert_eq!(
            got["value_labels"],
            json!({
                "satisfaction_overall": [
                    [-2.0, "Not reached"], [-1.0, "Not asked"], [1.0, "Very satisfied"], [2.0, "Satisfied"],
                    [3.0, "Dissatisfied"]
                ],
                "satisfaction_staff": [[1.0, "Good"], [2.0, "Bad"]],
                "media_tv": [[0.0, "Not chosen"], [1.0, "Chosen"]],
            })
        );
        assert_eq!(
            got["missing"],
            json!({"satisfaction_overall": [{"lo": -1.0, "hi": -1.0}, {"lo": -2.0, "hi": -2.0}]})
        );
        let long = long_text();
        assert_eq!(
            got["values"],
            json!([
                [
                    1.0,
                    2.0,
                    1.0,
                    34.0,
                    12.5,
                    "AB",
                    "Zürich – ça va",
                    "2024-03-01",
                    "2024-03-01T09:15:30",
                    long
                ],
                [-1.0, null, 0.0, null, null, "", "", null, null, ""],
                [
                    3.0,
                    1.0,
                    null,
                    200.0,
                    -3.25,
                    "XYZW",
                    "Genève",
                    "1999-12-31",
                    "2000-01-01T00:00:00",
                    "short"
                ],
                [
                    -2.0,
                    null,
                    1.0,
                    0.0,
                    1234567.89,
                    "",
                    "12345678",
                    null,
                    "2024-12-31T23:59:59",
                    ""
                ],
            ])
        );
        // Read as analysts do by default, the missing codes are missing.
        assert_eq!(
            got["satisfaction_overall_without_user_missing"],
            json!([1.0, null, 3.0, null])
        );
    }

    #[test]
    fn pyreadstat_reads_a_range_of_missing_codes() {
        let mut data = survey();
        data.variables[0].missing = vec![-1.0, -2.0, -3.0, -4.0];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("range.sav");
        write(&data, &mut std::fs::File::create(&path).unwrap()).unwrap();
        let got = read_with_pyreadstat(&path);
        assert_eq!(
            got["missing"],
            json!({"satisfaction_overall": [{"lo": -4.0, "hi": -1.0}]})
        );
    }
}
