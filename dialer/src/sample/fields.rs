//! A campaign's field configuration (CATI-08): the typed fields of its records, and how a
//! cell of an imported file becomes a field value.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What kind of value a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Free text.
    Text,
    /// A whole number.
    Integer,
    /// A number with a fractional part.
    Decimal,
    /// A calendar date.
    Date,
    /// One of a fixed list of values.
    Category,
    /// A phone number, normalised to E.164; a record may have several.
    Phone,
    /// The record's time zone: an IANA name or a whole-hour UTC offset.
    TimeZone,
}

impl FieldType {
    /// The name used in settings and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Integer => "integer",
            FieldType::Decimal => "decimal",
            FieldType::Date => "date",
            FieldType::Category => "category",
            FieldType::Phone => "phone",
            FieldType::TimeZone => "time_zone",
        }
    }
}

/// One field of a campaign's records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// The field's name: lower-case letters, digits and `_`, starting with a letter.
    pub name: String,
    /// The kind of value.
    #[serde(rename = "type")]
    pub kind: FieldType,
    /// Whether every record must have a value.
    #[serde(default)]
    pub required: bool,
    /// Part of the key that identifies a record; when no field is a key, the first phone is.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub key: bool,
    /// Allowed values of a category field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// For a category field that names a region: the time zone of each region value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub time_zones: BTreeMap<String, Tz>,
    /// For a date field: the `strftime` format of the file's dates when not ISO `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// A label for screens; defaults to the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl FieldSpec {
    /// A field of a kind, optional, with nothing else set.
    pub fn new(name: &str, kind: FieldType) -> Self {
        Self {
            name: name.to_string(),
            kind,
            required: false,
            key: false,
            values: Vec::new(),
            time_zones: BTreeMap::new(),
            format: None,
            label: None,
        }
    }

    /// Turns a non-empty cell into this field's typed value (phones and time zones are
    /// handled by their own parsers and only checked for emptiness here).
    pub fn parse_value(&self, cell: &str) -> Result<Value, String> {
        let cell = cell.trim();
        match self.kind {
            FieldType::Text | FieldType::Phone | FieldType::TimeZone => Ok(Value::String(cell.to_string())),
            FieldType::Integer => cell
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| format!("'{cell}' is not a whole number")),
            FieldType::Decimal => match cell.parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(Value::from(x)),
                _ => Err(format!("'{cell}' is not a number (use . as the decimal mark)")),
            },
            FieldType::Date => self
                .parse_date(cell)
                .map(|d| Value::String(d.format("%Y-%m-%d").to_string())),
            FieldType::Category => {
                if self.values.iter().any(|v| v == cell) {
                    Ok(Value::String(cell.to_string()))
                } else {
                    Err(format!(
                        "'{cell}' is not one of the allowed values: {}",
                        self.values.join(", ")
                    ))
                }
            }
        }
    }

    fn parse_date(&self, cell: &str) -> Result<NaiveDate, String> {
        if let Some(format) = &self.format {
            return NaiveDate::parse_from_str(cell, format)
                .map_err(|_| format!("'{cell}' is not a date in the format {format}"));
        }
        // ISO, and the year-first slash form Chinese spreadsheet software writes.
        NaiveDate::parse_from_str(cell, "%Y-%m-%d")
            .or_else(|_| NaiveDate::parse_from_str(cell, "%Y/%m/%d"))
            .map_err(|_| format!("'{cell}' is not a date like 2026-11-22 (set the field's format for other forms)"))
    }

    /// Problems with this field's definition, as `(setting, message)` pairs.
    pub fn problems(&self, index: usize) -> Vec<(String, String)> {
        let at = format!("fields[{index}] ({})", self.name);
        let mut problems = Vec::new();
        let mut chars = self.name.chars();
        let valid_name = chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid_name {
            problems.push((
                at.clone(),
                format!(
                    "field name '{}' must start with a-z and hold only a-z, 0-9 and _",
                    self.name
                ),
            ));
        }
        match self.kind {
            FieldType::Category if self.values.is_empty() => {
                problems.push((at.clone(), "a category field needs its allowed values".into()));
            }
            FieldType::Category => {
                for region in self.time_zones.keys() {
                    if !self.values.contains(region) {
                        problems.push((
                            at.clone(),
                            format!("time_zones names '{region}', which is not one of the values"),
                        ));
                    }
                }
            }
            _ if !self.values.is_empty() || !self.time_zones.is_empty() => {
                problems.push((at.clone(), "only category fields take values and time_zones".into()));
            }
            _ => {}
        }
        if self.format.is_some() && self.kind != FieldType::Date {
            problems.push((at.clone(), "only date fields take a format".into()));
        }
        if self.key && matches!(self.kind, FieldType::TimeZone) {
            problems.push((at, "a time zone cannot be part of the record key".into()));
        }
        problems
    }
}

/// Problems with a whole field configuration: each field's own, plus names used twice and
/// more than one time-zone field.
pub fn configuration_problems(fields: &[FieldSpec]) -> Vec<(String, String)> {
    let mut problems: Vec<_> = fields.iter().enumerate().flat_map(|(i, f)| f.problems(i)).collect();
    for (i, field) in fields.iter().enumerate() {
        if let Some(first) = fields[..i].iter().position(|f| f.name == field.name) {
            problems.push((
                format!("fields[{i}] ({})", field.name),
                format!("the name is already used by fields[{first}]"),
            ));
        }
    }
    if fields.iter().filter(|f| f.kind == FieldType::TimeZone).count() > 1 {
        problems.push(("fields".into(), "at most one field may be of type time_zone".into()));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(kind: FieldType) -> FieldSpec {
        FieldSpec::new("f", kind)
    }

    #[test]
    fn cells_become_typed_values() {
        assert_eq!(field(FieldType::Integer).parse_value(" 42 ").unwrap(), Value::from(42));
        assert_eq!(field(FieldType::Decimal).parse_value("3.5").unwrap(), Value::from(3.5));
        assert_eq!(
            field(FieldType::Date).parse_value("2026/1/5").unwrap(),
            Value::from("2026-01-05")
        );
        let mut dmy = field(FieldType::Date);
        dmy.format = Some("%d.%m.%Y".into());
        assert_eq!(dmy.parse_value("22.11.2026").unwrap(), Value::from("2026-11-22"));
        let mut cat = field(FieldType::Category);
        cat.values = vec!["north".into(), "south".into()];
        assert_eq!(cat.parse_value("south").unwrap(), Value::from("south"));
    }

    #[test]
    fn bad_cells_say_why() {
        assert_eq!(
            field(FieldType::Integer).parse_value("4.5").unwrap_err(),
            "'4.5' is not a whole number"
        );
        assert_eq!(
            field(FieldType::Decimal).parse_value("3,5").unwrap_err(),
            "'3,5' is not a number (use . as the decimal mark)"
        );
        assert_eq!(
            field(FieldType::Date).parse_value("22/11/2026").unwrap_err(),
            "'22/11/2026' is not a date like 2026-11-22 (set the field's format for other forms)"
        );
        let mut cat = field(FieldType::Category);
        cat.values = vec!["north".into(), "south".into()];
        assert_eq!(
            cat.parse_value("east").unwrap_err(),
            "'east' is not one of the allowed values: north, south"
        );
    }

    #[test]
    fn configurations_are_checked() {
        let mut region = FieldSpec::new("region", FieldType::Category);
        region.time_zones.insert("west".into(), chrono_tz::America::Los_Angeles);
        let fields = vec![
            FieldSpec::new("Phone", FieldType::Phone),
            region,
            FieldSpec::new("tz", FieldType::TimeZone),
            FieldSpec::new("tz", FieldType::TimeZone),
        ];
        let texts: Vec<String> = configuration_problems(&fields)
            .iter()
            .map(|(s, m)| format!("{s}: {m}"))
            .collect();
        assert_eq!(
            texts,
            [
                "fields[0] (Phone): field name 'Phone' must start with a-z and hold only a-z, 0-9 and _",
                "fields[1] (region): a category field needs its allowed values",
                "fields[3] (tz): the name is already used by fields[2]",
                "fields: at most one field may be of type time_zone",
            ]
        );
    }
}
