//! Filters on the fields of the records a report is about (RPT-08): `region=North`,
//! `age>=40`, `surname~smi`. Conditions are parsed and checked against the campaigns' field
//! configurations here, without I/O; [`selected`] reads the records they pick from the store.
//!
//! Values compare as their field's type: numbers as numbers, dates as dates, text and
//! categories as text without regard to case. `~` is the fuzzy match: the value contains the
//! text, ignoring case. A record without a value for the field matches only `!=`.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use paceline_dialer::Db;
use paceline_dialer::sample::fields::{FieldSpec, FieldType};
use paceline_dialer::with_db;
use serde_json::Value;
use sqlx::types::Json;

use crate::ReportError;

/// How a condition compares the field with its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`: equal (text without regard to case).
    Eq,
    /// `!=`: not equal, or no value.
    Ne,
    /// `~`: contains the text, ignoring case.
    Contains,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// The operators as written, longest first so that `<=` is not read as `<`.
const OPERATORS: [(&str, Op); 7] = [
    ("!=", Op::Ne),
    ("<=", Op::Le),
    (">=", Op::Ge),
    ("=", Op::Eq),
    ("~", Op::Contains),
    ("<", Op::Lt),
    (">", Op::Gt),
];

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = OPERATORS
            .iter()
            .find(|(_, op)| op == self)
            .map_or("?", |(text, _)| text);
        f.write_str(text)
    }
}

/// One condition on a record field, as written: `FIELD OP VALUE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldCondition {
    /// The field's name, as in the campaign's field configuration.
    pub field: String,
    /// How it compares.
    pub op: Op,
    /// The value, as written (trimmed).
    pub value: String,
}

impl fmt::Display for FieldCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{}", self.field, self.op, self.value)
    }
}

impl FromStr for FieldCondition {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let name_end = text
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(text.len());
        let field = &text[..name_end];
        let rest = text[name_end..].trim_start();
        let Some((written, op)) = OPERATORS.iter().find(|(written, _)| rest.starts_with(written)) else {
            return Err(format!(
                "'{text}' is not a condition on a record field: write FIELD=VALUE, FIELD!=VALUE, FIELD~TEXT (contains), or FIELD<, <=, >, >= VALUE"
            ));
        };
        if field.is_empty() {
            return Err(format!("'{text}': the condition names no field before '{written}'"));
        }
        let value = rest[written.len()..].trim();
        if value.is_empty() && *op != Op::Eq && *op != Op::Ne {
            return Err(format!("'{text}': give a value after '{written}'"));
        }
        Ok(FieldCondition {
            field: field.to_string(),
            op: *op,
            value: value.to_string(),
        })
    }
}

/// Conditions as a reader would say them: `region=North and age>=40`.
pub fn describe(conditions: &[FieldCondition]) -> String {
    conditions
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" and ")
}

/// A condition's value read as its field's type.
#[derive(Debug, Clone, PartialEq)]
enum Wanted {
    Number(f64),
    Date(NaiveDate),
    /// Lower-cased.
    Text(String),
}

/// A condition checked against one campaign's field.
#[derive(Debug, Clone, PartialEq)]
struct Check {
    field: String,
    op: Op,
    wanted: Wanted,
}

/// The conditions checked against each campaign's fields: for each campaign (by id), the
/// checks its records must pass, or `None` when it lacks a field named (none of its records
/// can match).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordQuery {
    campaigns: HashMap<i64, Option<Vec<Check>>>,
}

/// Checks `conditions` against the field configurations of the campaigns in scope
/// (`(id, name, fields)`): each field must be a field of one of them at least, and each value
/// must fit the field's type (a number for a number, a date for a date, one of a category's
/// values). `option` names the option for the messages (`--where`, `where`).
pub fn check(
    option: &str,
    conditions: &[FieldCondition],
    campaigns: &[(i64, String, Vec<FieldSpec>)],
) -> Result<RecordQuery, ReportError> {
    let bad = |message: String| ReportError::BadOption {
        option: option.to_string(),
        message,
    };
    for condition in conditions {
        if !campaigns
            .iter()
            .any(|(_, _, fields)| fields.iter().any(|f| f.name == condition.field))
        {
            let mut known: Vec<&str> = campaigns
                .iter()
                .flat_map(|(_, _, fields)| fields.iter().map(|f| f.name.as_str()))
                .collect();
            known.sort_unstable();
            known.dedup();
            let scope = match campaigns {
                [(_, name, _)] => format!("campaign '{name}'"),
                _ => "any campaign in the report".to_string(),
            };
            return Err(bad(format!(
                "{condition}: '{}' is not a record field of {scope}; the fields are {}",
                condition.field,
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )));
        }
    }
    let mut out = HashMap::new();
    for (id, name, fields) in campaigns {
        let mut checks = Vec::new();
        for condition in conditions {
            let Some(spec) = fields.iter().find(|f| f.name == condition.field) else {
                checks.clear();
                break;
            };
            let wanted =
                wanted(condition, spec).map_err(|why| bad(format!("{condition} (campaign '{name}'): {why}")))?;
            checks.push(Check {
                field: condition.field.clone(),
                op: condition.op,
                wanted,
            });
        }
        let lacks_a_field = checks.len() < conditions.len();
        out.insert(*id, (!lacks_a_field).then_some(checks));
    }
    Ok(RecordQuery { campaigns: out })
}

/// The condition's value as its field's type, or why it cannot be.
fn wanted(condition: &FieldCondition, spec: &FieldSpec) -> Result<Wanted, String> {
    let value = condition.value.as_str();
    // `field=` and `field!=`: has no value, has one (whatever the type).
    if value.is_empty() {
        return Ok(Wanted::Text(String::new()));
    }
    if condition.op == Op::Contains {
        return Ok(Wanted::Text(value.to_lowercase()));
    }
    let ordered = matches!(condition.op, Op::Lt | Op::Le | Op::Gt | Op::Ge);
    match spec.kind {
        FieldType::Integer | FieldType::Decimal => match value.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Wanted::Number(x)),
            _ => Err(format!(
                "'{value}' is not a number, and {} is a number field",
                spec.name
            )),
        },
        FieldType::Date => NaiveDate::parse_from_str(value, "%Y-%m-%d")
            .map(Wanted::Date)
            .map_err(|_| {
                format!(
                    "'{value}' is not a date (YYYY-MM-DD), and {} is a date field",
                    spec.name
                )
            }),
        FieldType::Category if !ordered => match spec.values.iter().find(|v| v.eq_ignore_ascii_case(value)) {
            Some(v) => Ok(Wanted::Text(v.to_lowercase())),
            None => Err(format!(
                "'{value}' is not one of {}'s values: {}",
                spec.name,
                spec.values.join(", ")
            )),
        },
        _ => Ok(Wanted::Text(value.to_lowercase())),
    }
}

impl RecordQuery {
    /// Whether a record of `campaign` with these stored `fields` passes every condition.
    pub fn matches(&self, campaign: i64, fields: &Value) -> bool {
        let Some(Some(checks)) = self.campaigns.get(&campaign) else {
            return false;
        };
        checks.iter().all(|check| check.passes(fields.get(&check.field)))
    }
}

impl Check {
    fn passes(&self, value: Option<&Value>) -> bool {
        let value = value.filter(|v| !v.is_null() && v.as_str() != Some(""));
        // An empty value asked for: `field=` is "has none", `field!=` "has one".
        if self.wanted == Wanted::Text(String::new()) {
            return match self.op {
                Op::Eq => value.is_none(),
                Op::Ne => value.is_some(),
                _ => true,
            };
        }
        let Some(value) = value else {
            return self.op == Op::Ne;
        };
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let order = match &self.wanted {
            Wanted::Text(wanted) if self.op == Op::Contains => return text.to_lowercase().contains(wanted.as_str()),
            Wanted::Text(wanted) => text.to_lowercase().as_str().cmp(wanted.as_str()),
            Wanted::Number(wanted) => {
                let Some(x) = value.as_f64().or_else(|| text.trim().parse().ok()) else {
                    return self.op == Op::Ne;
                };
                match x.partial_cmp(wanted) {
                    Some(order) => order,
                    None => return false,
                }
            }
            Wanted::Date(wanted) => match NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
                Ok(day) => day.cmp(wanted),
                Err(_) => return self.op == Op::Ne,
            },
        };
        use std::cmp::Ordering::*;
        match self.op {
            Op::Eq => order == Equal,
            Op::Ne => order != Equal,
            Op::Lt => order == Less,
            Op::Le => order != Greater,
            Op::Gt => order == Greater,
            Op::Ge => order != Less,
            Op::Contains => unreachable!("handled above"),
        }
    }
}

/// The records `conditions` pick, with their AAPOR codes, among those of `campaign` (or of
/// every campaign); `None` when there are no conditions (every record). `option` names the
/// option in messages.
pub async fn selected(
    db: &Db,
    campaign: Option<&str>,
    conditions: &[FieldCondition],
    option: &str,
) -> Result<Option<HashMap<i64, Option<String>>>, ReportError> {
    if conditions.is_empty() {
        return Ok(None);
    }
    let store_error = |e: paceline_dialer::campaign::CampaignError| ReportError::BadOption {
        option: "--campaign".into(),
        message: e.to_string(),
    };
    let names: Vec<String> = match campaign {
        Some(name) => vec![name.to_string()],
        None => paceline_dialer::campaign::store::list(db)
            .await
            .map_err(store_error)?
            .into_iter()
            .map(|c| c.name)
            .collect(),
    };
    let mut campaigns = Vec::new();
    for name in names {
        let campaign = paceline_dialer::campaign::store::find(db, &name)
            .await
            .map_err(store_error)?;
        campaigns.push((campaign.id, campaign.name, campaign.settings.fields));
    }
    let query = check(option, conditions, &campaigns)?;
    let mut picked = HashMap::new();
    for (id, _, _) in &campaigns {
        let rows: Vec<(i64, Json<Value>, Option<String>)> = with_db!(db, |pool| {
            sqlx::query_as("SELECT id, fields, aapor FROM records WHERE campaign_id = $1")
                .bind(*id)
                .fetch_all(pool)
                .await?
        });
        for (record, Json(fields), aapor) in rows {
            if query.matches(*id, &fields) {
                picked.insert(record, aapor);
            }
        }
    }
    Ok(Some(picked))
}

/// Keeps the survey campaign's interviews of the records `conditions` pick.
pub async fn restrict(
    db: &Db,
    facts: &mut crate::survey::facts::SurveyFacts,
    conditions: &[FieldCondition],
    option: &str,
) -> Result<(), ReportError> {
    if let Some(picked) = selected(db, Some(&facts.campaign.name), conditions, option).await? {
        facts.interviews.retain(|i| picked.contains_key(&i.record));
    }
    Ok(())
}

/// The records picked, as a set of ids.
pub fn ids(picked: &HashMap<i64, Option<String>>) -> HashSet<i64> {
    picked.keys().copied().collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields() -> Vec<FieldSpec> {
        let mut region = FieldSpec::new("region", FieldType::Category);
        region.values = vec!["North".into(), "South".into()];
        vec![
            FieldSpec::new("surname", FieldType::Text),
            FieldSpec::new("age", FieldType::Integer),
            FieldSpec::new("joined", FieldType::Date),
            region,
        ]
    }

    fn query(conditions: &[&str]) -> Result<RecordQuery, ReportError> {
        let conditions: Vec<FieldCondition> = conditions.iter().map(|c| c.parse().unwrap()).collect();
        check("--where", &conditions, &[(1, "poll".into(), fields())])
    }

    fn record() -> Value {
        json!({"surname": "Smithers", "age": 42, "joined": "2025-03-01", "region": "North"})
    }

    #[test]
    fn conditions_parse_with_their_operators() {
        let c: FieldCondition = "age >= 40".parse().unwrap();
        assert_eq!((c.field.as_str(), c.op, c.value.as_str()), ("age", Op::Ge, "40"));
        assert_eq!("age<=40".parse::<FieldCondition>().unwrap().op, Op::Le);
        assert_eq!("region!=North".parse::<FieldCondition>().unwrap().op, Op::Ne);
        assert_eq!("surname~smi".parse::<FieldCondition>().unwrap().op, Op::Contains);
        assert_eq!("note=a=b".parse::<FieldCondition>().unwrap().value, "a=b");
        assert!("age".parse::<FieldCondition>().unwrap_err().contains("FIELD=VALUE"));
        assert!("=3".parse::<FieldCondition>().unwrap_err().contains("names no field"));
        assert!("age>".parse::<FieldCondition>().unwrap_err().contains("give a value"));
    }

    #[test]
    fn values_compare_as_their_fields_type() {
        let passes = |conditions: &[&str]| query(conditions).unwrap().matches(1, &record());
        assert!(passes(&["age>=40", "age<43", "age=42", "age!=41"]));
        assert!(!passes(&["age>42"]));
        // As numbers, not as text: "9" > "42" as text.
        assert!(!passes(&["age<9"]));
        assert!(passes(&["joined>2025-01-31", "joined<=2025-03-01"]));
        assert!(passes(&["region=north", "surname~SMI", "surname=smithers"]));
        assert!(!passes(&["region=South"]));
        assert!(!passes(&["surname~jones"]));
        // Combined: every condition must hold.
        assert!(!passes(&["age>=40", "region=South"]));
    }

    #[test]
    fn a_record_without_the_value_matches_only_not_equal_and_empty() {
        let q = query(&["age>30"]).unwrap();
        assert!(!q.matches(1, &json!({"surname": "Lee"})));
        assert!(query(&["age!=30"]).unwrap().matches(1, &json!({})));
        assert!(query(&["surname="]).unwrap().matches(1, &json!({"surname": ""})));
        assert!(!query(&["surname="]).unwrap().matches(1, &record()));
        assert!(query(&["age="]).unwrap().matches(1, &json!({"surname": "Lee"})));
        // A campaign outside the query's scope matches nothing.
        assert!(!q.matches(2, &record()));
    }

    #[test]
    fn bad_conditions_are_named_with_the_reason() {
        let message = |conditions: &[&str]| query(conditions).unwrap_err().to_string();
        let unknown = message(&["town=Leeds"]);
        assert!(
            unknown.contains("--where: town=Leeds: 'town' is not a record field of campaign 'poll'"),
            "{unknown}"
        );
        assert!(unknown.contains("age, joined, region, surname"), "{unknown}");
        assert!(message(&["age>forty"]).contains("'forty' is not a number"));
        assert!(message(&["joined<March"]).contains("is not a date"));
        assert!(message(&["region=East"]).contains("'East' is not one of region's values: North, South"));
    }

    #[test]
    fn over_several_campaigns_a_field_one_lacks_excludes_its_records() {
        let conditions = vec!["age>30".parse().unwrap()];
        let campaigns = vec![
            (1, "poll".to_string(), fields()),
            (2, "bills".to_string(), vec![FieldSpec::new("account", FieldType::Text)]),
        ];
        let q = check("where", &conditions, &campaigns).unwrap();
        assert!(q.matches(1, &record()));
        assert!(!q.matches(2, &json!({"age": 50})));
    }
}
