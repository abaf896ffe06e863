//! How a file's columns map to a campaign's fields: the optional mapping file
//! (`--mapping M`) and the column plan resolved from it and the file's header.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::fields::FieldSpec;

/// A mapping file: which file column feeds which field, and which columns to ignore.
///
/// ```toml
/// ignore = ["Internal notes"]
/// [columns]
/// "Mobile" = "phone1"
/// "手机" = "phone2"
/// ```
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnMapping {
    /// File column (header text) to field name.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// File columns to skip.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Skip every column that is neither mapped nor named like a field.
    #[serde(default)]
    pub ignore_unknown: bool,
}

impl ColumnMapping {
    /// Parses a mapping file's text.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}

/// Where each column of the file goes: `Some(field index)` or `None` (ignored).
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnPlan {
    /// One entry per file column.
    pub targets: Vec<Option<usize>>,
}

fn same(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// Resolves the plan, or every problem with it: columns that fit no field, mapped columns or
/// fields that do not exist, two columns for one field, required fields without a column.
pub fn plan(header: &[String], fields: &[FieldSpec], mapping: &ColumnMapping) -> Result<ColumnPlan, Vec<String>> {
    let mut problems = Vec::new();
    let field_index = |name: &str| fields.iter().position(|f| f.name == name);
    for (column, field) in &mapping.columns {
        if !header.iter().any(|h| same(h, column)) {
            problems.push(format!("the mapping names column '{column}', which is not in the file"));
        }
        if field_index(field).is_none() {
            problems.push(format!(
                "the mapping sends column '{column}' to field '{field}', which the campaign does not have"
            ));
        }
    }
    let mut targets = Vec::with_capacity(header.len());
    for (i, column) in header.iter().enumerate() {
        let mapped = mapping
            .columns
            .iter()
            .find(|(c, _)| same(c, column))
            .map(|(_, f)| f.as_str());
        let target = match mapped {
            Some(field) => field_index(field),
            None if mapping.ignore.iter().any(|c| same(c, column)) => None,
            None => match fields.iter().position(|f| same(&f.name, column)) {
                Some(index) => Some(index),
                None if mapping.ignore_unknown => None,
                None => {
                    problems.push(format!(
                        "column {} '{column}' is not a field of the campaign; map it to a field or ignore it in a mapping file (fields are {})",
                        i + 1,
                        fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ")
                    ));
                    None
                }
            },
        };
        targets.push(target);
    }
    for (index, field) in fields.iter().enumerate() {
        let columns: Vec<&String> = header
            .iter()
            .zip(&targets)
            .filter(|(_, t)| **t == Some(index))
            .map(|(h, _)| h)
            .collect();
        if columns.len() > 1 {
            problems.push(format!(
                "columns {} all feed field '{}'; keep one",
                columns.iter().map(|c| format!("'{c}'")).collect::<Vec<_>>().join(", "),
                field.name
            ));
        }
        if columns.is_empty() && (field.required || field.key) {
            problems.push(format!(
                "field '{}' is required but no column of the file feeds it",
                field.name
            ));
        }
    }
    if problems.is_empty() {
        Ok(ColumnPlan { targets })
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::fields::FieldType;

    fn fields() -> Vec<FieldSpec> {
        let mut phone = FieldSpec::new("phone1", FieldType::Phone);
        phone.required = true;
        vec![
            FieldSpec::new("name", FieldType::Text),
            phone,
            FieldSpec::new("phone2", FieldType::Phone),
        ]
    }

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn same_named_columns_map_without_a_file() {
        let plan = plan(
            &header(&["Name", "PHONE1", "phone2"]),
            &fields(),
            &ColumnMapping::default(),
        )
        .unwrap();
        assert_eq!(plan.targets, [Some(0), Some(1), Some(2)]);
    }

    #[test]
    fn a_mapping_renames_and_ignores() {
        let mapping = ColumnMapping::from_toml("ignore = [\"Notes\"]\n[columns]\n\"手机\" = \"phone1\"\n").unwrap();
        let plan = plan(&header(&["name", "手机", "Notes"]), &fields(), &mapping).unwrap();
        assert_eq!(plan.targets, [Some(0), Some(1), None]);
    }

    #[test]
    fn every_problem_is_reported() {
        let mapping = ColumnMapping::from_toml("[columns]\n\"Tel\" = \"phone3\"\n\"Mobile\" = \"phone2\"\n").unwrap();
        let problems = plan(&header(&["name", "Mobile", "phone2", "Extra"]), &fields(), &mapping).unwrap_err();
        assert_eq!(
            problems,
            [
                "the mapping names column 'Tel', which is not in the file",
                "the mapping sends column 'Tel' to field 'phone3', which the campaign does not have",
                "column 4 'Extra' is not a field of the campaign; map it to a field or ignore it in a mapping file (fields are name, phone1, phone2)",
                "field 'phone1' is required but no column of the file feeds it",
                "columns 'Mobile', 'phone2' all feed field 'phone2'; keep one",
            ]
        );
    }

    #[test]
    fn unknown_mapping_keys_are_refused() {
        let err = ColumnMapping::from_toml("[colums]\n").unwrap_err();
        assert!(err.contains("unknown field `colums`"), "{err}");
    }
}
