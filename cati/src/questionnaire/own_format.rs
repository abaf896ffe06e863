//! Paceline's own questionnaire format: a TOML file, documented in `questionnaires/README.md`.
//! Read here into the [`Questionnaire`] model; every problem is reported with the item and
//! the key.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::check::LoadError;
use super::model::{
    Choice, Choices, EndOutcome, FieldType, Group, Item, Kind, Location, Question, Questionnaire, Quota, QuotaAction,
    QuotaCell, Repeat, Text,
};
use crate::expr::{self, Expr};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    id: String,
    title: RawText,
    #[serde(default = "default_version")]
    version: String,
    #[serde(default)]
    languages: Vec<String>,
    #[serde(default)]
    sample: BTreeMap<String, FieldType>,
    #[serde(default)]
    groups: Vec<RawGroup>,
    #[serde(default)]
    questions: Vec<RawQuestion>,
    #[serde(default)]
    quotas: Vec<RawQuota>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuota {
    name: String,
    /// One cell: who is in it.
    when: Option<String>,
    /// Cells crossing the values of fields or questions.
    #[serde(default)]
    cross: Vec<RawDimension>,
    /// Every cell's target.
    target: Option<u32>,
    /// Targets of single cells by key (`north/f/18-34`).
    #[serde(default)]
    targets: BTreeMap<String, u32>,
    #[serde(default)]
    count_in_progress: bool,
    action: Option<QuotaAction>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDimension {
    field: String,
    values: Vec<String>,
}

fn default_version() -> String {
    "1".into()
}

#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum RawText {
    One(String),
    Many(BTreeMap<String, String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    name: String,
    label: Option<RawText>,
    relevant: Option<String>,
    #[serde(default)]
    shuffle: bool,
    #[serde(default)]
    rotate: bool,
    repeat_count: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    group: Option<String>,
    label: Option<RawText>,
    hint: Option<RawText>,
    #[serde(default)]
    required: bool,
    required_message: Option<RawText>,
    relevant: Option<String>,
    constraint: Option<String>,
    constraint_message: Option<RawText>,
    default: Option<String>,
    #[serde(default)]
    options: Vec<RawOption>,
    #[serde(default)]
    shuffle: bool,
    #[serde(default)]
    other: bool,
    filter: Option<String>,
    max_picks: Option<u32>,
    min: Option<f64>,
    max: Option<f64>,
    #[serde(default)]
    rows: Vec<RawOption>,
    #[serde(default)]
    scale: Vec<RawOption>,
    calculation: Option<String>,
    outcome: Option<String>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct RawOption {
    name: String,
    label: Option<RawText>,
    #[serde(default)]
    exclusive: bool,
    #[serde(default)]
    fields: BTreeMap<String, String>,
}

struct Reader<'a> {
    file: &'a str,
    default_language: String,
    errors: Vec<LoadError>,
}

/// The `${name}` references of an expression.
fn references(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Ref(name) if !out.contains(name) => out.push(name.clone()),
        Expr::Neg(inner) => references(inner, out),
        Expr::Binary(_, a, b) => {
            references(a, out);
            references(b, out);
        }
        Expr::Call(_, args) => args.iter().for_each(|a| references(a, out)),
        _ => {}
    }
}

impl Reader<'_> {
    fn quota(&mut self, index: usize, raw: &RawQuota, sample: &BTreeMap<String, FieldType>) -> Option<Quota> {
        let at = self.at(format!("quotas[{index}] ({})", raw.name), None);
        let fail = |reader: &mut Self, key: &str, message: String| {
            reader.errors.push(LoadError {
                at: at.at_column(key),
                message,
            })
        };
        // (key, expression source) per cell.
        let sources: Vec<(String, String)> = match (&raw.when, raw.cross.is_empty()) {
            (Some(when), true) => vec![(raw.name.clone(), when.clone())],
            (None, false) => {
                let mut cells = vec![(Vec::<String>::new(), Vec::<String>::new())];
                for d in &raw.cross {
                    if d.values.is_empty() {
                        fail(self, "cross", format!("the dimension {} has no values", d.field));
                        return None;
                    }
                    cells = cells
                        .into_iter()
                        .flat_map(|(keys, conds)| {
                            d.values.iter().map(move |v| {
                                let mut keys = keys.clone();
                                let mut conds = conds.clone();
                                keys.push(v.clone());
                                conds.push(format!("${{{}}} = '{}'", d.field, v.replace('\'', "")));
                                (keys, conds)
                            })
                        })
                        .collect();
                }
                cells.into_iter().map(|(k, c)| (k.join("/"), c.join(" and "))).collect()
            }
            (Some(_), false) => {
                fail(
                    self,
                    "when",
                    "a quota has either `when` (one cell) or `cross` (cells), not both".into(),
                );
                return None;
            }
            (None, true) => {
                fail(
                    self,
                    "cross",
                    "a quota needs `when` (one cell) or `cross` (cells)".into(),
                );
                return None;
            }
        };
        for key in raw.targets.keys() {
            if !sources.iter().any(|(k, _)| k == key) {
                let known: Vec<&str> = sources.iter().map(|(k, _)| k.as_str()).collect();
                fail(
                    self,
                    "targets",
                    format!("'{key}' is not a cell of this quota (its cells: {})", known.join(", ")),
                );
            }
        }
        let mut cells = Vec::new();
        for (key, source) in sources {
            let Some(target) = raw.targets.get(&key).copied().or(raw.target) else {
                fail(self, "target", format!("the cell '{key}' has no target"));
                continue;
            };
            let column = if raw.when.is_some() { "when" } else { "cross" };
            let Some(when) = self.expr(&Some(source), &at.at_column(column)) else {
                continue;
            };
            let mut uses = Vec::new();
            references(&when, &mut uses);
            cells.push(QuotaCell {
                key,
                sample_only: !uses.is_empty() && uses.iter().all(|u| sample.contains_key(u)),
                uses,
                when,
                target,
            });
        }
        Some(Quota {
            name: raw.name.clone(),
            cells,
            count_in_progress: raw.count_in_progress,
            action: raw.action.unwrap_or(QuotaAction::AtOnce),
            at,
        })
    }

    fn at(&self, item: String, key: Option<&str>) -> Location {
        Location {
            file: self.file.to_string(),
            item: Some(item),
            column: key.map(str::to_string),
            ..Location::default()
        }
    }

    fn text(&self, raw: &RawText) -> Text {
        match raw {
            RawText::One(s) => Text::one(&self.default_language, s),
            RawText::Many(m) => Text(m.clone()),
        }
    }

    fn expr(&mut self, source: &Option<String>, at: &Location) -> Option<Expr> {
        let source = source.as_ref()?;
        match expr::parse(source) {
            Ok(e) => Some(e),
            Err(e) => {
                self.errors.push(LoadError {
                    at: at.clone(),
                    message: format!("`{source}` {e}"),
                });
                None
            }
        }
    }

    fn options(&self, raw: &[RawOption]) -> Vec<Choice> {
        raw.iter()
            .map(|o| Choice {
                name: o.name.clone(),
                label: o
                    .label
                    .as_ref()
                    .map_or_else(|| Text::one(&self.default_language, &o.name), |l| self.text(l)),
                exclusive: o.exclusive,
                fields: o.fields.clone(),
            })
            .collect()
    }

    fn question(&mut self, index: usize, raw: &RawQuestion) -> Option<Question> {
        let item = format!("questions[{index}] ({})", raw.name);
        let at = self.at(item.clone(), None);
        let key = |k: &str| at.at_column(k);
        let wrong = |reader: &mut Self, k: &str, message: String| {
            reader.errors.push(LoadError { at: key(k), message });
        };
        let choices = |reader: &mut Self| Choices {
            options: reader.options(&raw.options),
            shuffle: raw.shuffle,
            other: raw.other,
            filter: None,
        };
        let whole = |reader: &mut Self, k: &str, v: Option<f64>| -> Option<i64> {
            let v = v?;
            if v.fract() != 0.0 {
                wrong(reader, k, format!("{v} is not a whole number"));
                return None;
            }
            Some(v as i64)
        };
        let mut kind = match raw.kind.as_str() {
            "single_choice" => Kind::SingleChoice(choices(self)),
            "multiple_choice" => Kind::MultipleChoice {
                choices: choices(self),
                max_picks: raw.max_picks,
            },
            "ranking" => Kind::Ranking(choices(self)),
            "integer" => Kind::Integer {
                min: whole(self, "min", raw.min),
                max: whole(self, "max", raw.max),
            },
            "decimal" => Kind::Decimal {
                min: raw.min,
                max: raw.max,
            },
            "text" => Kind::Text,
            "date" => Kind::Date,
            "time" => Kind::Time,
            "rating" => Kind::Rating {
                min: whole(self, "min", raw.min).unwrap_or(1),
                max: whole(self, "max", raw.max).unwrap_or(5),
            },
            "grid" => Kind::Grid {
                rows: self.options(&raw.rows),
                scale: self.options(&raw.scale),
            },
            "note" => Kind::Note,
            "calculate" => {
                let Some(expr) = self.expr(&raw.calculation, &key("calculation")) else {
                    if raw.calculation.is_none() {
                        wrong(self, "calculation", "a calculate item needs a calculation".into());
                    }
                    return None;
                };
                Kind::Calculate { expr }
            }
            "end" => {
                let outcome = match raw.outcome.as_deref() {
                    Some("screened_out") | None => EndOutcome::ScreenedOut,
                    Some("terminated") => EndOutcome::Terminated,
                    Some("complete") => EndOutcome::Complete,
                    Some(other) => {
                        wrong(
                            self,
                            "outcome",
                            format!("'{other}' is not an outcome: screened_out, terminated or complete"),
                        );
                        EndOutcome::ScreenedOut
                    }
                };
                Kind::End { outcome }
            }
            other => {
                wrong(
                    self,
                    "type",
                    format!(
                        "'{other}' is not a question type: single_choice, multiple_choice, ranking, integer, decimal, text, date, time, rating, grid, note, calculate or end"
                    ),
                );
                return None;
            }
        };
        if let Kind::SingleChoice(c) | Kind::MultipleChoice { choices: c, .. } | Kind::Ranking(c) = &mut kind {
            c.filter = self.expr(&raw.filter, &key("filter"));
        }
        let label = match (&raw.label, &kind) {
            (Some(l), _) => self.text(l),
            (None, Kind::Calculate { .. }) => Text::default(),
            (None, _) => {
                wrong(
                    self,
                    "label",
                    "a question needs a label (what the interviewer reads out)".into(),
                );
                Text::default()
            }
        };
        Some(Question {
            name: raw.name.clone(),
            label,
            hint: raw.hint.as_ref().map(|t| self.text(t)),
            required: raw.required,
            required_when: None,
            required_message: raw.required_message.as_ref().map(|t| self.text(t)),
            relevant: self.expr(&raw.relevant, &key("relevant")),
            constraint: self.expr(&raw.constraint, &key("constraint")),
            constraint_message: raw.constraint_message.as_ref().map(|t| self.text(t)),
            default: raw.default.clone(),
            kind,
            at,
        })
    }
}

/// Reads a questionnaire in the own format from `source`, the text of the file named `file`.
/// Returns the model (not yet checked) or every problem found.
pub fn read(file: &str, source: &str) -> Result<Questionnaire, Vec<LoadError>> {
    let whole = Location {
        file: file.to_string(),
        ..Location::default()
    };
    let raw: File = toml::from_str(source).map_err(|e| {
        let place = e.span().map(|span| {
            let before = &source[..span.start.min(source.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}: ")
        });
        vec![LoadError {
            at: whole.clone(),
            message: format!("{}{}", place.unwrap_or_default(), e.message().trim()),
        }]
    })?;
    let languages = if raw.languages.is_empty() {
        vec!["en".to_string()]
    } else {
        raw.languages.clone()
    };
    let mut reader = Reader {
        file,
        default_language: languages[0].clone(),
        errors: Vec::new(),
    };
    // Groups by name; each stands where its first question does, its questions together.
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for (i, g) in raw.groups.iter().enumerate() {
        let at = reader.at(format!("groups[{i}] ({})", g.name), None);
        let relevant = reader.expr(&g.relevant, &at.at_column("relevant"));
        let repeat = reader
            .expr(&g.repeat_count, &at.at_column("repeat_count"))
            .map(|count| Repeat {
                count: Some(count),
                another: None,
            });
        let group = Group {
            name: g.name.clone(),
            label: g.label.as_ref().map(|l| reader.text(l)),
            relevant,
            shuffle: g.shuffle,
            rotate: g.rotate,
            repeat,
            items: Vec::new(),
            at,
        };
        if groups.insert(g.name.clone(), group).is_some() {
            reader.errors.push(LoadError {
                at: reader.at(format!("groups[{i}] ({})", g.name), Some("name")),
                message: format!("the group name '{}' is used twice", g.name),
            });
        }
    }
    let mut items: Vec<Item> = Vec::new();
    let mut open: Option<String> = None;
    let mut closed: Vec<String> = Vec::new();
    for (i, rq) in raw.questions.iter().enumerate() {
        let Some(question) = reader.question(i, rq) else {
            continue;
        };
        let Some(name) = &rq.group else {
            closed.extend(open.take());
            items.push(Item::Question(Box::new(question)));
            continue;
        };
        if open.as_ref() == Some(name) {
            if let Some(Item::Group(group)) = items.last_mut() {
                group.items.push(Item::Question(Box::new(question)));
            }
            continue;
        }
        closed.extend(open.take());
        if closed.contains(name) {
            reader.errors.push(LoadError {
                at: question.at.at_column("group"),
                message: format!(
                    "the questions of group '{name}' must stand together; this one is apart from the others"
                ),
            });
            continue;
        }
        match groups.remove(name) {
            Some(mut group) => {
                group.items.push(Item::Question(Box::new(question)));
                items.push(Item::Group(Box::new(group)));
                open = Some(name.clone());
            }
            None => reader.errors.push(LoadError {
                at: question.at.at_column("group"),
                message: format!("there is no group '{name}' in [[groups]]"),
            }),
        }
    }
    for group in groups.into_values() {
        reader.errors.push(LoadError {
            at: group.at.clone(),
            message: format!("the group '{}' has no questions", group.name),
        });
    }
    let quotas = raw
        .quotas
        .iter()
        .enumerate()
        .filter_map(|(i, q)| reader.quota(i, q, &raw.sample))
        .collect();
    if raw.questions.is_empty() {
        reader.errors.push(LoadError {
            at: whole.at_column("questions"),
            message: "the questionnaire has no questions".into(),
        });
    }
    if !reader.errors.is_empty() {
        return Err(reader.errors);
    }
    Ok(Questionnaire {
        id: raw.id,
        title: match &raw.title {
            RawText::One(s) => Text::one(&languages[0], s),
            RawText::Many(m) => Text(m.clone()),
        },
        version: raw.version,
        languages,
        sample_fields: raw.sample,
        items,
        quotas,
        notes: Vec::new(),
    })
}
