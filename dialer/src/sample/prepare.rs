//! Turning one row of a file into a record ready to store, or the reasons it cannot be one.
//! Pure and independent per row, so an import runs it on every core at once.

use chrono_tz::Tz;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::fields::{FieldSpec, FieldType};
use super::mapping::ColumnPlan;
use super::phone::{Normalized, PhoneNormalizer};
use super::source::SourceRow;
use super::zones::{RecordZones, ZoneSource, infer_zones, parse_zone};

/// What happened to a row or a cell, for the reject file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueAction {
    /// The row was not imported.
    Rejected,
    /// The row was imported without this number.
    NumberDropped,
}

impl IssueAction {
    /// The word written in the reject file.
    pub fn as_str(self) -> &'static str {
        match self {
            IssueAction::Rejected => "rejected",
            IssueAction::NumberDropped => "number_dropped",
        }
    }
}

/// Why a row is rejected, for the summary's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueKind {
    /// The row's data is wrong.
    Invalid,
    /// The row repeats another row or a stored record.
    Duplicate,
    /// The row's numbers are on a do-not-call list.
    DoNotCall,
}

/// One line of the reject file.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// Row number as the user sees it (header = 1).
    pub row: u64,
    /// Column name, or empty for the whole row.
    pub column: String,
    /// The cell's value.
    pub value: String,
    /// What is wrong.
    pub reason: String,
    /// What was done about it.
    pub action: IssueAction,
    /// For rejections: why, in one word.
    pub kind: IssueKind,
}

/// A phone number of a prepared row.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedPhone {
    /// The field it came from.
    pub field: String,
    /// The column it came from (for messages).
    pub column: String,
    /// The normalised number.
    pub number: Normalized,
}

/// A row ready to be screened and stored.
#[derive(Debug, Clone)]
pub struct PreparedRow {
    /// Row number.
    pub row: u64,
    /// Field values, as the JSON document stored (serialised here, on the workers).
    pub fields: Box<RawValue>,
    /// Numbers, in field order.
    pub phones: Vec<PreparedPhone>,
    /// Time zone(s) and where they came from.
    pub zones: (RecordZones, ZoneSource),
    /// The key that identifies the record within the campaign.
    pub key: String,
    /// A 128-bit hash of the key, for the in-memory duplicate check.
    pub key_hash: u128,
    /// Numbers dropped from the row, reported but not fatal.
    pub dropped: Vec<Issue>,
}

/// Everything a row needs to be prepared, shared by all rows of an import.
pub struct RowContext<'a> {
    /// The file's header.
    pub header: &'a [String],
    /// Column to field.
    pub plan: &'a ColumnPlan,
    /// The campaign's fields.
    pub fields: &'a [FieldSpec],
    /// Phone normalisation with the campaign's default country.
    pub phones: &'a PhoneNormalizer,
    /// The campaign's fallback time zone.
    pub default_zone: Option<Tz>,
}

/// Prepares one row: typed fields, normalised numbers, time zone and key; or its rejection.
pub fn prepare(ctx: &RowContext<'_>, row: &SourceRow) -> Result<PreparedRow, Vec<Issue>> {
    let reject = |column: &str, value: &str, reason: String| Issue {
        row: row.row,
        column: column.to_string(),
        value: value.to_string(),
        reason,
        action: IssueAction::Rejected,
        kind: IssueKind::Invalid,
    };
    if row.cells.len() != ctx.header.len() {
        return Err(vec![reject(
            "",
            "",
            format!(
                "the row has {} cells, the header has {}",
                row.cells.len(),
                ctx.header.len()
            ),
        )]);
    }
    let mut problems = Vec::new();
    let mut dropped = Vec::new();
    let mut values = Map::new();
    let mut phones = Vec::new();
    let mut zones: Option<(RecordZones, ZoneSource)> = None;
    let mut region_zone: Option<Tz> = None;
    let mut filled = vec![false; ctx.fields.len()];
    for (column_index, target) in ctx.plan.targets.iter().enumerate() {
        let Some(field_index) = *target else { continue };
        let spec = &ctx.fields[field_index];
        let column = &ctx.header[column_index];
        let cell = row.cells.get(column_index).unwrap_or("").trim();
        if cell.is_empty() {
            continue;
        }
        filled[field_index] = true;
        match spec.kind {
            FieldType::Phone => match ctx.phones.normalize(cell) {
                Ok(number) => {
                    values.insert(spec.name.clone(), Value::String(number.e164.clone()));
                    phones.push(PreparedPhone {
                        field: spec.name.clone(),
                        column: column.clone(),
                        number,
                    });
                }
                Err(e) if spec.required || spec.key => problems.push(reject(column, cell, e.to_string())),
                Err(e) => dropped.push(Issue {
                    action: IssueAction::NumberDropped,
                    ..reject(column, cell, e.to_string())
                }),
            },
            FieldType::TimeZone => match parse_zone(cell) {
                Ok(tz) => {
                    values.insert(spec.name.clone(), Value::String(tz.name().to_string()));
                    zones = Some((RecordZones(vec![tz]), ZoneSource::Column));
                }
                Err(e) => problems.push(reject(column, cell, e.to_string())),
            },
            _ => match spec.parse_value(cell) {
                Ok(value) => {
                    if let Some(tz) = value.as_str().and_then(|v| spec.time_zones.get(v)) {
                        region_zone = Some(*tz);
                    }
                    values.insert(spec.name.clone(), value);
                }
                Err(reason) => problems.push(reject(column, cell, reason)),
            },
        }
    }
    for (spec, filled) in ctx.fields.iter().zip(&filled) {
        let mapped = ctx
            .plan
            .targets
            .iter()
            .any(|t| t.is_some_and(|i| ctx.fields[i].name == spec.name));
        if (spec.required || spec.key) && mapped && !filled {
            let column = ctx
                .plan
                .targets
                .iter()
                .position(|t| t.is_some_and(|i| ctx.fields[i].name == spec.name))
                .map(|c| ctx.header[c].clone())
                .unwrap_or_default();
            problems.push(reject(
                &column,
                "",
                format!("field '{}' is required and the cell is empty", spec.name),
            ));
        }
    }
    if problems.is_empty() && phones.is_empty() {
        let reason = if dropped.is_empty() {
            "the row has no phone number".to_string()
        } else {
            "the row has no valid phone number".to_string()
        };
        problems.push(reject("", "", reason));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let zones = zones
        .or_else(|| region_zone.map(|tz| (RecordZones(vec![tz]), ZoneSource::Region)))
        .or_else(|| infer_zones(phones[0].number.region.as_deref(), ctx.default_zone));
    let Some(zones) = zones else {
        return Err(vec![reject(
            &phones[0].column,
            &phones[0].number.e164,
            "cannot tell the record's time zone from its number; add a time_zone column or set the campaign's default_time_zone".into(),
        )]);
    };
    let key_fields: Vec<&FieldSpec> = ctx.fields.iter().filter(|f| f.key).collect();
    let key = if key_fields.is_empty() {
        phones[0].number.e164.clone()
    } else {
        key_fields
            .iter()
            .map(|f| match values.get(&f.name) {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            })
            .collect::<Vec<_>>()
            .join("\u{1f}")
    };
    Ok(PreparedRow {
        row: row.row,
        fields: RawValue::from_string(Value::Object(values).to_string()).expect("a serialised map is valid JSON"),
        phones,
        zones,
        key_hash: xxhash_rust::xxh3::xxh3_128(key.as_bytes()),
        key,
        dropped,
    })
}
