//! Triple-S 2.0 (<https://triple-s.org>), the survey interchange standard most tabulation
//! packages import: an XML file describing each variable (name, label, type, codes, position)
//! and a data file with one fixed-width line per case.
//!
//! How a [`Dataset`]'s variables become triple-S variables:
//! - numeric with value labels: `single`. Its codes are written as numbers (right-aligned,
//!   with the range of codes and a label per labelled code) when all are whole and not
//!   negative; otherwise (missing codes such as -1) as `format="literal"` codes, left-aligned,
//!   each listed with its label (its own text when it has none);
//! - numeric without value labels: `quantity`, its range the data's smallest and largest
//!   values (and missing codes), written with the variable's decimals;
//! - text: `character`, as wide as the variable;
//! - date: `date`, `YYYYMMDD`;
//! - date and time: `character` of 19 columns, ISO 8601 `YYYY-MM-DDTHH:MM:SS` (UTC; seconds
//!   cut), since triple-S's `time` type has no date and one variable keeps the answer whole.
//!
//! Empty cells (and NaN) are blank fields. The files are UTF-8 and positions count characters,
//! so ASCII data gives the same columns in bytes; line breaks and other control characters in
//! text become spaces, as a case is one line.

use std::io::{self, BufWriter, Write};

use chrono::{Datelike, Local, NaiveDateTime};

use crate::labelled::{Cell, Dataset, VarKind, Variable};
use crate::sav::{Invalid, check};

/// Why the triple-S files could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SssError {
    /// The data set cannot be written; nothing was written.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// Writing failed part way.
    #[error("writing the triple-S files: {0}")]
    Io(#[from] io::Error),
}

/// Writes `data` as triple-S 2.0: the metadata to `xml`, the cases to `dat`, one line each.
/// `data_file_name` is how the metadata names the data file (its `href`), usually the data
/// file's name beside the XML file.
pub fn write(data: &Dataset, xml: &mut impl Write, dat: &mut impl Write, data_file_name: &str) -> Result<(), SssError> {
    write_created(data, xml, dat, data_file_name, Local::now().naive_local())
}

/// Both files in one ZIP archive, `{name}.xml` and `{name}.dat` (which the XML names), so
/// that they travel as one download.
pub fn zip(data: &Dataset, name: &str) -> Result<Vec<u8>, SssError> {
    let (mut xml, mut dat) = (Vec::new(), Vec::new());
    let dat_name = format!("{name}.dat");
    write(data, &mut xml, &mut dat, &dat_name)?;
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut archive = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
    for (file, bytes) in [(format!("{name}.xml"), &xml), (dat_name, &dat)] {
        archive.start_file(file, options).map_err(io::Error::other)?;
        archive.write_all(bytes)?;
    }
    Ok(archive.finish().map_err(io::Error::other)?.into_inner())
}

/// [`write`] with the creation time the metadata records, so tests get the same text each run.
fn write_created(
    data: &Dataset,
    xml: &mut impl Write,
    dat: &mut impl Write,
    data_file_name: &str,
    created: NaiveDateTime,
) -> Result<(), SssError> {
    check(data)?;
    check_years(data)?;
    let columns = layout(data);
    xml.write_all(metadata(data, &columns, data_file_name, created).as_bytes())?;
    xml.flush()?;
    let mut out = BufWriter::new(dat);
    let mut line = String::new();
    for row in &data.rows {
        line.clear();
        for (column, cell) in columns.iter().zip(row) {
            let text = field_text(&column.field, cell);
            let pad = " ".repeat(column.width - text.chars().count());
            if column.field.right_aligned() {
                line.push_str(&pad);
                line.push_str(&text);
            } else {
                line.push_str(&text);
                line.push_str(&pad);
            }
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    out.flush()?;
    Ok(())
}

/// Triple-S dates have four-digit years.
fn check_years(data: &Dataset) -> Result<(), Invalid> {
    for (i, row) in data.rows.iter().enumerate() {
        for (var, cell) in data.variables.iter().zip(row) {
            let year = match cell {
                Cell::Date(d) => d.year(),
                Cell::DateTime(t) => t.year(),
                _ => continue,
            };
            if !(0..=9999).contains(&year) {
                return Err(Invalid::Cell {
                    row: i + 1,
                    name: var.name.clone(),
                    reason: format!("the year {year} does not fit triple-S's four digits"),
                });
            }
        }
    }
    Ok(())
}

/// How one variable is written.
#[derive(Debug, Clone, PartialEq)]
enum Field {
    /// Coded answers: `range` (smallest and largest code) when the codes are written as
    /// numbers, none when they are literal text; each code with its label.
    Single {
        range: Option<(i64, i64)>,
        values: Vec<(String, String)>,
    },
    /// Numbers with `decimals`, between `from` and `to` (as written).
    Quantity { decimals: usize, from: String, to: String },
    /// Text of at most `size` characters.
    Character { size: usize },
    /// `YYYYMMDD`.
    Date,
    /// `YYYY-MM-DDTHH:MM:SS`, as a `character` variable.
    DateTime,
}

impl Field {
    fn width(&self) -> usize {
        match self {
            Field::Single { values, range } => {
                let widest = values.iter().map(|(code, _)| code.chars().count()).max().unwrap_or(1);
                range.map_or(widest, |(from, to)| {
                    widest.max(from.to_string().len()).max(to.to_string().len())
                })
            }
            Field::Quantity { from, to, .. } => from.len().max(to.len()),
            Field::Character { size } => *size,
            Field::Date => 8,
            Field::DateTime => 19,
        }
    }

    /// Numbers are right-aligned, text and literal codes left-aligned.
    fn right_aligned(&self) -> bool {
        matches!(
            self,
            Field::Single { range: Some(_), .. } | Field::Quantity { .. } | Field::Date
        )
    }
}

#[derive(Debug)]
struct Column<'a> {
    var: &'a Variable,
    field: Field,
    width: usize,
    start: usize,
}

fn layout(data: &Dataset) -> Vec<Column<'_>> {
    let fields: Vec<Field> = data
        .variables
        .iter()
        .enumerate()
        .map(|(i, var)| {
            let numbers: Vec<f64> = data
                .rows
                .iter()
                .filter_map(|row| match row[i] {
                    Cell::Number(x) if x.is_finite() => Some(x),
                    _ => None,
                })
                .collect();
            field_for(var, &numbers)
        })
        .collect();
    let widths: Vec<usize> = fields.iter().map(Field::width).collect();
    positions(&widths)
        .into_iter()
        .zip(data.variables.iter().zip(fields))
        .map(|((start, finish), (var, field))| Column {
            var,
            field,
            width: finish + 1 - start,
            start,
        })
        .collect()
}

/// How a variable is written, given the finite numbers in its cells.
fn field_for(var: &Variable, numbers: &[f64]) -> Field {
    match var.kind {
        VarKind::Numeric { .. } if !var.value_labels.is_empty() => single(var, numbers),
        VarKind::Numeric { decimals } => {
            let decimals = decimals as usize;
            let all = || numbers.iter().chain(&var.missing).copied();
            let low = all().fold(f64::INFINITY, f64::min);
            let high = all().fold(f64::NEG_INFINITY, f64::max);
            let (low, high) = if low.is_finite() { (low, high) } else { (0.0, 0.0) };
            // Every value lies between the ends, so neither its digits nor its sign make it
            // wider than the wider end, rounded as it is (9.999 -> 10.00).
            Field::Quantity {
                decimals,
                from: fixed(low, decimals),
                to: fixed(high, decimals),
            }
        }
        VarKind::Text { width } => Field::Character { size: width },
        VarKind::Date => Field::Date,
        VarKind::DateTime => Field::DateTime,
    }
}

fn single(var: &Variable, numbers: &[f64]) -> Field {
    let mut codes: Vec<f64> = var.value_labels.iter().map(|(c, _)| *c).collect();
    let mut unlabelled: Vec<f64> = var
        .missing
        .iter()
        .chain(numbers)
        .copied()
        .filter(|x| !codes.contains(x))
        .collect();
    unlabelled.sort_by(f64::total_cmp);
    unlabelled.dedup();
    codes.extend(&unlabelled);
    let whole = codes.iter().all(|x| x.fract() == 0.0 && (0.0..1e15).contains(x));
    let range = whole.then(|| {
        let low = codes.iter().copied().fold(f64::INFINITY, f64::min);
        let high = codes.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (low as i64, high as i64)
    });
    // Numeric codes outside the labels are covered by the range; literal ones are listed.
    let listed = if whole {
        &codes[..var.value_labels.len()]
    } else {
        &codes[..]
    };
    let values = listed
        .iter()
        .map(|code| {
            (
                code_text(*code),
                var.label_of(*code).map_or_else(|| code_text(*code), str::to_string),
            )
        })
        .collect();
    Field::Single { range, values }
}

/// A code as triple-S writes it: whole numbers without a decimal point.
fn code_text(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// `x` with `decimals` decimals, without a sign when it rounds to zero.
fn fixed(x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$}");
    match s.strip_prefix('-') {
        Some(rest) if rest.bytes().all(|b| b == b'0' || b == b'.') => rest.to_string(),
        _ => s,
    }
}

/// Each field's first and last column, from 1, the fields side by side.
fn positions(widths: &[usize]) -> Vec<(usize, usize)> {
    let mut start = 1;
    widths
        .iter()
        .map(|w| {
            let field = (start, start + w - 1);
            start += w;
            field
        })
        .collect()
}

/// A cell's text in its field, before padding.
fn field_text(field: &Field, cell: &Cell) -> String {
    match (field, cell) {
        (Field::Single { .. }, Cell::Number(x)) if x.is_finite() => code_text(*x),
        (Field::Quantity { decimals, .. }, Cell::Number(x)) if x.is_finite() => fixed(*x, *decimals),
        (Field::Character { .. }, Cell::Text(s)) => s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect(),
        (Field::Date, Cell::Date(d)) => d.format("%Y%m%d").to_string(),
        (Field::DateTime, Cell::DateTime(t)) => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
        _ => String::new(),
    }
}

/// `s` safe in XML text and attribute values: markup characters escaped, tabs and line
/// breaks as character references (attribute values would lose them), and characters XML 1.0
/// forbids replaced by U+FFFD.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push_str(&format!("&#{};", c as u32)),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn metadata(data: &Dataset, columns: &[Column], data_file_name: &str, created: NaiveDateTime) -> String {
    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sss version=\"2.0\">\n");
    x.push_str(&format!("  <date>{}</date>\n", created.format("%Y-%m-%d")));
    x.push_str(&format!("  <time>{}</time>\n", created.format("%H:%M:%S")));
    x.push_str("  <origin>Paceline</origin>\n  <survey>\n");
    if !data.label.is_empty() {
        x.push_str(&format!("    <title>{}</title>\n", escape(&data.label)));
    }
    x.push_str(&format!(
        "    <record ident=\"A\" href=\"{}\" format=\"fixed\">\n",
        escape(data_file_name)
    ));
    for (i, column) in columns.iter().enumerate() {
        let (kind, format) = match &column.field {
            Field::Single { range: None, .. } => ("single", " format=\"literal\""),
            Field::Single { .. } => ("single", ""),
            Field::Quantity { .. } => ("quantity", ""),
            Field::Character { .. } | Field::DateTime => ("character", ""),
            Field::Date => ("date", ""),
        };
        x.push_str(&format!(
            "      <variable ident=\"{}\" type=\"{kind}\"{format}>\n",
            i + 1
        ));
        x.push_str(&format!("        <name>{}</name>\n", escape(&column.var.name)));
        x.push_str(&format!("        <label>{}</label>\n", escape(&column.var.label)));
        let finish = column.start + column.width - 1;
        x.push_str(&format!(
            "        <position start=\"{}\" finish=\"{finish}\"/>\n",
            column.start
        ));
        match &column.field {
            Field::Single { range, values } => {
                x.push_str("        <values>\n");
                if let Some((from, to)) = range {
                    x.push_str(&format!("          <range from=\"{from}\" to=\"{to}\"/>\n"));
                }
                for (code, label) in values {
                    x.push_str(&format!(
                        "          <value code=\"{}\">{}</value>\n",
                        escape(code),
                        escape(label)
                    ));
                }
                x.push_str("        </values>\n");
            }
            Field::Quantity { from, to, .. } => {
                x.push_str(&format!(
                    "        <values>\n          <range from=\"{from}\" to=\"{to}\"/>\n        </values>\n"
                ));
            }
            Field::Character { size } => x.push_str(&format!("        <size>{size}</size>\n")),
            Field::DateTime => x.push_str(&format!("        <size>{}</size>\n", column.width)),
            Field::Date => {}
        }
        x.push_str("      </variable>\n");
    }
    x.push_str("    </record>\n  </survey>\n</sss>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sav::tests::{long_text, survey};

    fn written(data: &Dataset) -> Result<(String, String), SssError> {
        let (mut xml, mut dat) = (Vec::new(), Vec::new());
        let created = chrono::NaiveDate::from_ymd_opt(2025, 6, 7)
            .unwrap()
            .and_hms_opt(8, 9, 10)
            .unwrap();
        write_created(data, &mut xml, &mut dat, "survey.dat", created)?;
        Ok((String::from_utf8(xml).unwrap(), String::from_utf8(dat).unwrap()))
    }

    #[test]
    fn escapes_markup_line_breaks_and_forbidden_characters() {
        assert_eq!(
            escape(r#"a & b < c > "d" 'e'"#),
            "a &amp; b &lt; c &gt; &quot;d&quot; &apos;e&apos;"
        );
        assert_eq!(escape("one\ttwo\nthree\r"), "one&#9;two&#10;three&#13;");
        assert_eq!(escape("bell\u{7} \u{FFFF}"), "bell\u{FFFD} \u{FFFD}");
        assert_eq!(escape("Zürich – ça va"), "Zürich – ça va");
    }

    #[test]
    fn fields_sit_side_by_side_from_column_1() {
        assert_eq!(positions(&[2, 1, 3]), [(1, 2), (3, 3), (4, 6)]);
        assert_eq!(positions(&[]), []);
    }

    #[test]
    fn numbers_as_written() {
        assert_eq!(code_text(3.0), "3");
        assert_eq!(code_text(-2.0), "-2");
        assert_eq!(code_text(2.5), "2.5");
        assert_eq!(fixed(12.5, 2), "12.50");
        assert_eq!(fixed(-0.001, 2), "0.00");
        assert_eq!(fixed(-3.0, 0), "-3");
    }

    #[test]
    fn quantity_range_is_wide_enough_for_rounded_values() {
        let var = Variable {
            name: "x".into(),
            label: String::new(),
            kind: VarKind::Numeric { decimals: 2 },
            measure: crate::labelled::Measure::Scale,
            value_labels: Vec::new(),
            missing: Vec::new(),
            source: crate::labelled::Source::Paradata,
        };
        let field = field_for(&var, &[9.999, 1.0]);
        assert_eq!(
            field,
            Field::Quantity {
                decimals: 2,
                from: "1.00".into(),
                to: "10.00".into()
            }
        );
        assert_eq!(field.width(), 5);
        assert_eq!(
            field_for(&var, &[]),
            Field::Quantity {
                decimals: 2,
                from: "0.00".into(),
                to: "0.00".into()
            }
        );
    }

    /// An element's first child of this name.
    fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> roxmltree::Node<'a, 'i> {
        node.children()
            .find(|n| n.has_tag_name(name))
            .unwrap_or_else(|| panic!("no <{name}>"))
    }

    #[test]
    fn the_survey_as_triple_s() {
        let data = survey();
        let (xml, dat) = written(&data).unwrap();
        let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
        let sss = doc.root_element();
        assert_eq!((sss.tag_name().name(), sss.attribute("version")), ("sss", Some("2.0")));
        assert_eq!(child(sss, "date").text(), Some("2025-06-07"));
        assert_eq!(child(sss, "origin").text(), Some("Paceline"));
        let survey = child(sss, "survey");
        assert_eq!(child(survey, "title").text(), Some("health-survey 3: answers"));
        let record = child(survey, "record");
        assert_eq!(record.attribute("href"), Some("survey.dat"));
        assert_eq!(record.attribute("format"), Some("fixed"));

        struct Want {
            kind: &'static str,
            literal: bool,
            start: usize,
            finish: usize,
            extra: &'static str,
        }
        let want = |kind, literal, start, finish, extra| Want {
            kind,
            literal,
            start,
            finish,
            extra,
        };
        let wants = [
            want(
                "single",
                true,
                1,
                2,
                "1=Very satisfied 2=Satisfied 3=Dissatisfied -1=Not asked -2=Not reached",
            ),
            want("single", false, 3, 3, "range 1..2 1=Good 2=Bad"),
            want("single", false, 4, 4, "range 0..1 0=Not chosen 1=Chosen"),
            want("quantity", false, 5, 7, "range 0..200"),
            want("quantity", false, 8, 17, "range -3.25..1234567.89"),
            want("character", false, 18, 21, "size 4"),
            want("character", false, 22, 61, "size 40"),
            want("date", false, 62, 69, ""),
            want("character", false, 70, 88, "size 19"),
            want("character", false, 89, 388, "size 300"),
        ];
        let variables: Vec<_> = record.children().filter(|n| n.has_tag_name("variable")).collect();
        assert_eq!(variables.len(), wants.len());
        for (i, ((node, var), want)) in variables.iter().zip(&data.variables).zip(&wants).enumerate() {
            assert_eq!(node.attribute("ident"), Some((i + 1).to_string().as_str()));
            assert_eq!(node.attribute("type"), Some(want.kind), "{}", var.name);
            assert_eq!(
                node.attribute("format"),
                want.literal.then_some("literal"),
                "{}",
                var.name
            );
            assert_eq!(child(*node, "name").text(), Some(var.name.as_str()));
            assert_eq!(child(*node, "label").text().unwrap_or(""), var.label);
            let position = child(*node, "position");
            let at = |a: &str| position.attribute(a).unwrap().parse::<usize>().unwrap();
            assert_eq!((at("start"), at("finish")), (want.start, want.finish), "{}", var.name);
            let mut extra = Vec::new();
            if let Some(size) = node.children().find(|n| n.has_tag_name("size")) {
                extra.push(format!("size {}", size.text().unwrap()));
            }
            if let Some(values) = node.children().find(|n| n.has_tag_name("values")) {
                for n in values.children().filter(|n| n.is_element()) {
                    extra.push(match n.tag_name().name() {
                        "range" => format!("range {}..{}", n.attribute("from").unwrap(), n.attribute("to").unwrap()),
                        _ => format!("{}={}", n.attribute("code").unwrap(), n.text().unwrap()),
                    });
                }
            }
            assert_eq!(extra.join(" "), want.extra, "{}", var.name);
        }

        let lines: Vec<&str> = dat.split_terminator('\n').collect();
        assert_eq!(lines.len(), data.rows.len());
        assert!(
            lines.iter().all(|l| l.chars().count() == 388),
            "every line is 388 columns"
        );
        let field = |line: &str, start: usize, finish: usize| -> String {
            line.chars().skip(start - 1).take(finish + 1 - start).collect()
        };
        let l = lines[0];
        assert_eq!(field(l, 1, 2), "1 ");
        assert_eq!(field(l, 3, 3), "2");
        assert_eq!(field(l, 5, 7), " 34");
        assert_eq!(field(l, 8, 17), "     12.50");
        assert_eq!(field(l, 18, 21), "AB  ");
        assert_eq!(field(l, 22, 61), format!("{:<40}", "Zürich – ça va"));
        assert_eq!(field(l, 62, 69), "20240301");
        assert_eq!(field(l, 70, 88), "2024-03-01T09:15:30");
        assert_eq!(field(l, 89, 388), format!("{:<300}", long_text()));
        let l = lines[1];
        assert_eq!(field(l, 1, 2), "-1");
        assert_eq!(field(l, 3, 3), " ");
        assert_eq!(field(l, 4, 4), "0");
        assert_eq!(
            l.chars().skip(4).collect::<String>(),
            " ".repeat(388 - 4),
            "empty cells are blank"
        );
        let l = lines[2];
        assert_eq!(field(l, 5, 7), "200");
        assert_eq!(field(l, 8, 17), "     -3.25");
        assert_eq!(field(l, 62, 69), "19991231");
        let l = lines[3];
        assert_eq!(field(l, 1, 2), "-2");
        assert_eq!(field(l, 3, 3), " ", "NaN is blank");
        assert_eq!(field(l, 8, 17), "1234567.89");
        assert_eq!(field(l, 22, 61), format!("{:<40}", "12345678"));
    }

    #[test]
    fn a_line_break_in_text_does_not_break_the_line() {
        let mut data = survey();
        data.rows[2][6] = Cell::Text("line one\nline two\r".into());
        let (_, dat) = written(&data).unwrap();
        let lines: Vec<&str> = dat.split_terminator('\n').collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[2].contains("line one line two "));
    }

    #[test]
    fn whole_non_negative_codes_outside_the_labels_are_in_the_range() {
        let mut data = survey();
        data.rows[0][1] = Cell::Number(7.0);
        let (xml, dat) = written(&data).unwrap();
        assert!(xml.contains("<range from=\"1\" to=\"7\"/>"), "{xml}");
        assert_eq!(dat.lines().next().unwrap().chars().nth(2), Some('7'));
    }

    #[test]
    fn rejects_what_it_cannot_write_and_writes_nothing() {
        let mut data = survey();
        data.rows[1][7] = Cell::Date(chrono::NaiveDate::from_ymd_opt(10_000, 1, 1).unwrap());
        let (mut xml, mut dat) = (Vec::new(), Vec::new());
        let err = write(&data, &mut xml, &mut dat, "x.dat").unwrap_err();
        assert_eq!(
            err.to_string(),
            "row 2, variable 'interview_date': the year 10000 does not fit triple-S's four digits"
        );
        assert!(xml.is_empty() && dat.is_empty());

        let mut data = survey();
        data.rows[0][3] = Cell::Text("old".into());
        assert_eq!(
            written(&data).unwrap_err().to_string(),
            "row 1, variable 'age': text in a numeric variable"
        );
    }

    #[test]
    fn the_zip_holds_both_files_and_the_xml_names_the_data() {
        use std::io::Read;
        let data = survey();
        let (xml, dat) = written(&data).unwrap();
        let bytes = zip(&data, "answers-csat").unwrap();
        let mut archive = zip::ZipArchive::new(io::Cursor::new(bytes)).unwrap();
        let mut names: Vec<String> = archive.file_names().map(|name| name.unwrap().to_string()).collect();
        names.sort();
        assert_eq!(names, ["answers-csat.dat", "answers-csat.xml"]);
        let mut read = |name: &str| {
            let mut text = String::new();
            archive.by_name(name).unwrap().read_to_string(&mut text).unwrap();
            text
        };
        let zipped_xml = read("answers-csat.xml");
        assert!(zipped_xml.contains("href=\"answers-csat.dat\""), "{zipped_xml}");
        assert_eq!(read("answers-csat.dat"), dat);
        // The same metadata as written alone, but for the data file's name and the date.
        assert_eq!(zipped_xml.lines().count(), xml.lines().count());
    }
}
