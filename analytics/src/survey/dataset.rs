//! A campaign's interviews as a labelled data set, one row per interview: paradata (who
//! asked it, when, how long, how many attempts, how it ended), the sample record's fields,
//! then one variable per question, per option of a multiple choice and per row of a grid.
//! Pure: the facts in, the data set out.
//!
//! Choices are coded 1, 2, ... in the order authored (an "other" option last), with their
//! labels. A question the route passed by is "not asked" (-1); one shown and left without an
//! answer is "asked, not answered" (-2). Both are declared missing, so statistics packages
//! leave them out of valid counts.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use paceline_cati::expr::Value;
use paceline_cati::interview::{instance_key, parse_answer, split_key};
use paceline_cati::questionnaire::{Choice, Item, Kind, Question};
use paceline_dialer::sample::fields::{FieldSpec, FieldType};

use super::facts::{InterviewFact, SurveyFacts};
use crate::ReportError;
use crate::labelled::{Cell, Dataset, Measure, Source, VarKind, Variable};

/// The code of a question the route passed by.
pub const NOT_ASKED: f64 = -1.0;
/// The code of a question shown and left without an answer.
pub const NO_ANSWER: f64 = -2.0;

/// What goes into the data set.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The language of the labels (default: the questionnaire's first).
    pub language: Option<String>,
    /// Only these sample fields, in this order (default: all the campaign's fields).
    pub fields: Option<Vec<String>>,
}

/// The data set, and what could not be put in it (an answer that is no longer an option of
/// the layout's version, say), one line each.
#[derive(Debug, Clone)]
pub struct Built {
    /// The data set.
    pub dataset: Dataset,
    /// Answers left out, and why.
    pub warnings: Vec<String>,
}

/// Builds the data set of `facts`, laid out by its questionnaire version.
pub fn build(facts: &SurveyFacts, options: &Options) -> Result<Built, ReportError> {
    let questionnaire = &facts.questionnaire;
    let language = match &options.language {
        Some(l) if !questionnaire.languages.contains(l) => {
            return Err(ReportError::BadOption {
                option: "--language".into(),
                message: format!(
                    "questionnaire '{}' is not written in '{l}'; its languages are {}",
                    questionnaire.id,
                    questionnaire.languages.join(", ")
                ),
            });
        }
        Some(l) => l.clone(),
        None => questionnaire.languages.first().cloned().unwrap_or_default(),
    };
    let fields = chosen_fields(&facts.campaign.settings.fields, options.fields.as_deref())?;
    let mut out = Builder {
        names: Names::default(),
        variables: Vec::new(),
        columns: Vec::new(),
        warnings: Vec::new(),
        interviews: &facts.interviews,
        asked: facts
            .interviews
            .iter()
            .map(|i| i.path.iter().map(String::as_str).collect())
            .collect(),
    };
    // A question keeps its name: derived names (an option's `conditions_other` beside a
    // question of that name) and sample fields (the sample's `age` beside the question `age`)
    // give way to it.
    let asked = questions(&questionnaire.items, &[]);
    out.names.reserved = asked.iter().map(|(q, _)| q.name.to_ascii_lowercase()).collect();
    out.paradata();
    for field in fields {
        let lower = field.name.to_ascii_lowercase();
        let name = if out.names.reserved.contains(&lower) || out.names.taken.contains(&lower) {
            format!("sample_{}", field.name)
        } else {
            field.name.clone()
        };
        out.sample_field(field, &name);
    }
    let keys = answer_keys(&facts.interviews);
    for (question, asked_when) in asked {
        let instances = keys
            .get(question.name.as_str())
            .filter(|set| set.iter().any(|k| !k.is_empty()))
            .map(|set| set.iter().filter(|k| !k.is_empty()).cloned().collect())
            .unwrap_or_else(|| vec![Vec::new()]);
        for instance in instances {
            out.question(question, &instance, asked_when.clone(), &language);
        }
    }
    let Builder {
        mut variables,
        columns,
        warnings,
        ..
    } = out;
    for (variable, column) in variables.iter_mut().zip(&columns) {
        if let VarKind::Text { width } = &mut variable.kind {
            *width = column
                .iter()
                .map(|c| match c {
                    Cell::Text(t) => t.len(),
                    _ => 0,
                })
                .max()
                .unwrap_or(0)
                .max(1);
        }
    }
    let rows = (0..facts.interviews.len())
        .map(|i| columns.iter().map(|c| c[i].clone()).collect())
        .collect();
    Ok(Built {
        dataset: Dataset {
            label: format!(
                "{}: answers to {} ({})",
                facts.campaign.name,
                questionnaire.title.get(&language).unwrap_or(&questionnaire.id),
                questionnaire.version
            ),
            variables,
            rows,
        },
        warnings,
    })
}

fn chosen_fields<'a>(all: &'a [FieldSpec], chosen: Option<&[String]>) -> Result<Vec<&'a FieldSpec>, ReportError> {
    let Some(chosen) = chosen else {
        return Ok(all.iter().collect());
    };
    chosen
        .iter()
        .filter(|name| !name.is_empty())
        .map(|name| {
            all.iter()
                .find(|f| &f.name == name)
                .ok_or_else(|| ReportError::BadOption {
                    option: "--fields".into(),
                    message: format!(
                        "the campaign's records have no field '{name}'; they have {}",
                        all.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                })
        })
        .collect()
}

/// The questions that hold answers, in questionnaire order, each with the condition it is
/// asked under (its groups' and its own relevance), if any.
fn questions<'q>(items: &'q [Item], around: &[String]) -> Vec<(&'q Question, Option<String>)> {
    let mut out = Vec::new();
    for item in items {
        match item {
            Item::Question(q) => {
                if matches!(q.kind, Kind::Note | Kind::End { .. }) {
                    continue;
                }
                let mut conditions = around.to_vec();
                conditions.extend(q.relevant.as_ref().map(|e| e.to_string()));
                out.push((&**q, joined(&conditions)));
            }
            Item::Group(g) => {
                let mut conditions = around.to_vec();
                conditions.extend(g.relevant.as_ref().map(|e| e.to_string()));
                out.extend(questions(&g.items, &conditions));
            }
        }
    }
    out
}

fn joined(conditions: &[String]) -> Option<String> {
    match conditions {
        [] => None,
        [one] => Some(one.clone()),
        many => Some(many.iter().map(|c| format!("({c})")).collect::<Vec<_>>().join(" and ")),
    }
}

/// Every answer key and every key shown, by question name (an `_other` text under its
/// question), with the repeat instances seen.
fn answer_keys(interviews: &[InterviewFact]) -> BTreeMap<&str, BTreeSet<Vec<usize>>> {
    let mut keys: BTreeMap<&str, BTreeSet<Vec<usize>>> = BTreeMap::new();
    for interview in interviews {
        for key in interview.answers.keys().chain(&interview.path) {
            let (name, instance) = split_key(key);
            let name = name.strip_suffix("_other").unwrap_or(name);
            keys.entry(name).or_default().insert(instance);
        }
    }
    keys
}

/// Variable names as SPSS takes them: a letter, then letters, digits and `_`, at most 64
/// bytes, unique regardless of case.
#[derive(Default)]
struct Names {
    taken: HashSet<String>,
    /// The questions' own names (lower case), which only their own variables take.
    reserved: HashSet<String>,
}

impl Names {
    /// A name for a question's own variable: its name, when free.
    fn own(&mut self, wanted: &str) -> String {
        self.pick(wanted, false)
    }

    /// A name for any other variable, which leaves the questions' names to them.
    fn take(&mut self, wanted: &str) -> String {
        self.pick(wanted, true)
    }

    fn pick(&mut self, wanted: &str, avoid_reserved: bool) -> String {
        let mut base: String = wanted
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        if !base.starts_with(|c: char| c.is_ascii_alphabetic()) {
            base.insert(0, 'v');
        }
        base.truncate(60);
        let mut name = base.clone();
        let mut n = 2;
        while (avoid_reserved && self.reserved.contains(&name.to_ascii_lowercase()))
            || !self.taken.insert(name.to_ascii_lowercase())
        {
            name = format!("{base}_{n}");
            n += 1;
        }
        name
    }
}

/// Where an interview stands on one answer key.
enum Status<'a> {
    Answered(&'a serde_json::Value),
    AskedNotAnswered,
    NotAsked,
}

struct Builder<'f> {
    names: Names,
    variables: Vec<Variable>,
    columns: Vec<Vec<Cell>>,
    warnings: Vec<String>,
    interviews: &'f [InterviewFact],
    asked: Vec<HashSet<&'f str>>,
}

fn variable(name: String, label: String, kind: VarKind, measure: Measure, source: Source) -> Variable {
    Variable {
        name,
        label,
        kind,
        measure,
        value_labels: Vec::new(),
        missing: Vec::new(),
        source,
    }
}

fn text_kind() -> VarKind {
    VarKind::Text { width: 1 }
}

fn number(x: f64) -> Cell {
    if x.is_finite() { Cell::Number(x) } else { Cell::Empty }
}

fn text(t: Option<&str>) -> Cell {
    match t {
        Some(t) if !t.is_empty() => Cell::Text(t.to_string()),
        _ => Cell::Empty,
    }
}

const STATES: [(&str, &str); 5] = [
    ("complete", "Complete"),
    ("asking", "Open (left on a question)"),
    ("suspended", "Suspended for a callback"),
    ("screened_out", "Screened out"),
    ("terminated", "Terminated"),
];

impl<'f> Builder<'f> {
    fn push(&mut self, variable: Variable, column: Vec<Cell>) {
        self.variables.push(variable);
        self.columns.push(column);
    }

    fn paradata(&mut self) {
        type Of = fn(&InterviewFact) -> Cell;
        let number = VarKind::Numeric { decimals: 0 };
        let columns: [(&str, &str, VarKind, Measure, Of); 15] = [
            ("interview_id", "Interview", number, Measure::Nominal, |i| {
                Cell::Number(i.id as f64)
            }),
            ("record_id", "Sample record", number, Measure::Nominal, |i| {
                Cell::Number(i.record as f64)
            }),
            (
                "questionnaire_version",
                "Questionnaire version",
                text_kind(),
                Measure::Nominal,
                |i| text(Some(&i.version_label)),
            ),
            ("interviewer", "Interviewer", text_kind(), Measure::Nominal, |i| {
                text(i.interviewer.as_deref())
            }),
            (
                "language",
                "Language of the interview",
                text_kind(),
                Measure::Nominal,
                |i| text(Some(&i.language)),
            ),
            (
                "state",
                "State of the interview",
                number,
                Measure::Nominal,
                |i| match STATES.iter().position(|(s, _)| *s == i.state) {
                    Some(k) => Cell::Number(k as f64 + 1.0),
                    None => Cell::Empty,
                },
            ),
            (
                "state_detail",
                "End point reached, or why it was terminated",
                text_kind(),
                Measure::Nominal,
                |i| text(i.state_detail.as_deref()),
            ),
            (
                "started",
                "When the interview started (UTC)",
                VarKind::DateTime,
                Measure::Scale,
                |i| Cell::DateTime(i.started_at.naive_utc()),
            ),
            (
                "ended",
                "When the interview ended (UTC)",
                VarKind::DateTime,
                Measure::Scale,
                |i| {
                    if i.finished() {
                        Cell::DateTime(i.updated_at.naive_utc())
                    } else {
                        Cell::Empty
                    }
                },
            ),
            (
                "length_s",
                "Length of the interview (seconds)",
                number,
                Measure::Scale,
                |i| {
                    if i.finished() {
                        Cell::Number((i.updated_at - i.started_at).num_seconds() as f64)
                    } else {
                        Cell::Empty
                    }
                },
            ),
            ("questions_shown", "Questions shown", number, Measure::Scale, |i| {
                Cell::Number(i.path.len() as f64)
            }),
            (
                "last_question",
                "The last question shown",
                text_kind(),
                Measure::Nominal,
                |i| text(i.path.last().map(String::as_str)),
            ),
            ("attempts", "Call attempts to the record", number, Measure::Scale, |i| {
                Cell::Number(i.attempts as f64)
            }),
            (
                "disposition",
                "The record's last disposition",
                text_kind(),
                Measure::Nominal,
                |i| text(i.disposition.as_deref()),
            ),
            (
                "aapor",
                "The record's AAPOR final code",
                text_kind(),
                Measure::Nominal,
                |i| text(i.aapor.as_deref()),
            ),
        ];
        for (name, label, kind, measure, of) in columns {
            let mut v = variable(
                self.names.take(name),
                label.to_string(),
                kind,
                measure,
                Source::Paradata,
            );
            if name == "state" {
                v.value_labels = STATES
                    .iter()
                    .enumerate()
                    .map(|(k, (_, l))| (k as f64 + 1.0, l.to_string()))
                    .collect();
            }
            let column = self.interviews.iter().map(of).collect();
            self.push(v, column);
        }
    }

    fn sample_field(&mut self, field: &FieldSpec, name: &str) {
        let label = field.label.clone().unwrap_or_else(|| field.name.clone());
        let name = self.names.take(name);
        let values = self.interviews.iter().map(|i| i.fields.get(&field.name));
        let (kind, measure, column): (VarKind, Measure, Vec<Cell>) = match field.kind {
            FieldType::Integer | FieldType::Decimal => (
                VarKind::Numeric {
                    decimals: if field.kind == FieldType::Integer { 0 } else { 2 },
                },
                Measure::Scale,
                values
                    .map(|v| match v {
                        Some(serde_json::Value::Number(n)) => number(n.as_f64().unwrap_or(f64::NAN)),
                        Some(serde_json::Value::String(s)) => number(s.trim().parse().unwrap_or(f64::NAN)),
                        _ => Cell::Empty,
                    })
                    .collect(),
            ),
            FieldType::Category => {
                let column = values
                    .map(|v| match v.and_then(|v| v.as_str()) {
                        Some(s) => match field.values.iter().position(|x| x == s) {
                            Some(k) => Cell::Number(k as f64 + 1.0),
                            None => Cell::Empty,
                        },
                        None => Cell::Empty,
                    })
                    .collect();
                (VarKind::Numeric { decimals: 0 }, Measure::Nominal, column)
            }
            FieldType::Date => (
                VarKind::Date,
                Measure::Scale,
                values
                    .map(|v| {
                        v.and_then(|v| v.as_str())
                            .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                            .map_or(Cell::Empty, Cell::Date)
                    })
                    .collect(),
            ),
            FieldType::Text | FieldType::Phone | FieldType::TimeZone => (
                text_kind(),
                Measure::Nominal,
                values
                    .map(|v| match v {
                        Some(serde_json::Value::String(s)) => text(Some(s)),
                        Some(serde_json::Value::Null) | None => Cell::Empty,
                        Some(other) => Cell::Text(other.to_string()),
                    })
                    .collect(),
            ),
        };
        let mut v = variable(name, label, kind, measure, Source::SampleField);
        if field.kind == FieldType::Category {
            v.value_labels = field
                .values
                .iter()
                .enumerate()
                .map(|(k, value)| (k as f64 + 1.0, value.clone()))
                .collect();
        }
        self.push(v, column);
    }

    fn status(&self, interview: usize, key: &str) -> Status<'f> {
        let fact = &self.interviews[interview];
        match fact.answers.get(key) {
            Some(serde_json::Value::Null) | None if self.asked[interview].contains(key) => Status::AskedNotAnswered,
            Some(serde_json::Value::Null) | None => Status::NotAsked,
            Some(value) => Status::Answered(value),
        }
    }

    /// The question's answers typed, one per interview: `Ok(value)` when answered,
    /// `Err(code)` with the missing code when not.
    fn answers(&mut self, question: &Question, key: &str) -> Vec<Result<Value, f64>> {
        (0..self.interviews.len())
            .map(|i| match self.status(i, key) {
                Status::NotAsked => Err(NOT_ASKED),
                Status::AskedNotAnswered => Err(NO_ANSWER),
                Status::Answered(json) => match parse_answer(question, json) {
                    Ok(Value::Empty) => Err(NO_ANSWER),
                    Ok(value) => Ok(value),
                    Err(why) => {
                        self.warnings
                            .push(format!("interview {}: {key}: {why}; left out", self.interviews[i].id));
                        Err(NO_ANSWER)
                    }
                },
            })
            .collect()
    }

    fn question(&mut self, question: &'f Question, instance: &[usize], asked_when: Option<String>, language: &str) {
        let key = instance_key(&question.name, instance).into_owned();
        let suffix: String = instance.iter().map(|k| format!("_{k}")).collect();
        let times: String = instance.iter().map(|k| format!(" [{k}]")).collect();
        let label = format!("{}{times}", question.label.get(language).unwrap_or(&question.name));
        let kind_name = question.kind.type_name();
        let source = || Source::Question {
            question: question.name.clone(),
            kind: kind_name.to_string(),
            asked_when: asked_when.clone(),
        };
        let answers = self.answers(question, &key);
        let missing_labels = || {
            vec![
                (NOT_ASKED, "Not asked".to_string()),
                (NO_ANSWER, "Asked, not answered".to_string()),
            ]
        };
        let coded = |name: String, label: String, measure: Measure, codes: Vec<(f64, String)>, column: Vec<Cell>| {
            let mut v = variable(name, label, VarKind::Numeric { decimals: 0 }, measure, source());
            v.value_labels = codes;
            v.value_labels.extend(missing_labels());
            v.missing = vec![NOT_ASKED, NO_ANSWER];
            (v, column)
        };
        let id = |i: usize| self.interviews[i].id;
        match &question.kind {
            Kind::SingleChoice(choices) => {
                let codes = codes(&choices.options, choices.other, language);
                let mut warnings = Vec::new();
                let column = answers
                    .iter()
                    .enumerate()
                    .map(|(i, a)| match a {
                        Ok(value) => match code_of(&choices.options, choices.other, &value.text()) {
                            Some(code) => Cell::Number(code),
                            None => {
                                warnings.push(format!(
                                    "interview {}: {key}: '{}' is not an option; left out",
                                    id(i),
                                    value.text()
                                ));
                                Cell::Number(NO_ANSWER)
                            }
                        },
                        Err(code) => Cell::Number(*code),
                    })
                    .collect();
                self.warnings.extend(warnings);
                let name = self.names.own(&format!("{}{suffix}", question.name));
                let (v, c) = coded(name, label.clone(), Measure::Nominal, codes, column);
                self.push(v, c);
                if choices.other {
                    self.other_text(question, instance, &label, source());
                }
            }
            Kind::MultipleChoice { choices, .. } => {
                let mut options: Vec<(String, String)> = choices
                    .options
                    .iter()
                    .map(|o| (o.name.clone(), o.label.get(language).unwrap_or(&o.name).to_string()))
                    .collect();
                if choices.other {
                    options.push(("other".into(), "Other".into()));
                }
                for (option, option_label) in &options {
                    let column = answers
                        .iter()
                        .map(|a| match a {
                            Ok(Value::List(picked)) => Cell::Number(f64::from(u8::from(picked.contains(option)))),
                            Ok(_) => Cell::Number(NO_ANSWER),
                            Err(code) => Cell::Number(*code),
                        })
                        .collect();
                    let name = self.names.take(&format!("{}{suffix}_{option}", question.name));
                    let codes = vec![(0.0, "Not chosen".to_string()), (1.0, "Chosen".to_string())];
                    let (v, c) = coded(
                        name,
                        format!("{label}: {option_label}"),
                        Measure::Nominal,
                        codes,
                        column,
                    );
                    self.push(v, c);
                }
                if choices.other {
                    self.other_text(question, instance, &label, source());
                }
            }
            Kind::Ranking(choices) => {
                for option in &choices.options {
                    let column = answers
                        .iter()
                        .map(|a| match a {
                            Ok(Value::List(order)) => match order.iter().position(|o| *o == option.name) {
                                Some(k) => Cell::Number(k as f64 + 1.0),
                                None => Cell::Empty,
                            },
                            Ok(_) => Cell::Number(NO_ANSWER),
                            Err(code) => Cell::Number(*code),
                        })
                        .collect();
                    let name = self.names.take(&format!("{}{suffix}_{}", question.name, option.name));
                    let option_label = option.label.get(language).unwrap_or(&option.name);
                    let (v, c) = coded(
                        name,
                        format!("{label}: rank of {option_label}"),
                        Measure::Ordinal,
                        Vec::new(),
                        column,
                    );
                    self.push(v, c);
                }
            }
            Kind::Grid { rows, scale } => {
                let codes = codes(scale, false, language);
                for row in rows {
                    let mut warnings = Vec::new();
                    let column = answers
                        .iter()
                        .enumerate()
                        .map(|(i, a)| match a {
                            Ok(Value::List(pairs)) => {
                                let picked = pairs
                                    .iter()
                                    .find_map(|p| p.split_once('=').filter(|(r, _)| *r == row.name).map(|(_, s)| s));
                                match picked {
                                    Some(s) => code_of(scale, false, s).map(Cell::Number).unwrap_or_else(|| {
                                        warnings.push(format!(
                                            "interview {}: {key}: '{s}' is not a scale point; left out",
                                            id(i)
                                        ));
                                        Cell::Number(NO_ANSWER)
                                    }),
                                    None => Cell::Number(NO_ANSWER),
                                }
                            }
                            Ok(_) => Cell::Number(NO_ANSWER),
                            Err(code) => Cell::Number(*code),
                        })
                        .collect();
                    self.warnings.extend(warnings);
                    let name = self.names.take(&format!("{}{suffix}_{}", question.name, row.name));
                    let row_label = row.label.get(language).unwrap_or(&row.name);
                    let (v, c) = coded(
                        name,
                        format!("{label}: {row_label}"),
                        Measure::Ordinal,
                        codes.clone(),
                        column,
                    );
                    self.push(v, c);
                }
            }
            Kind::Integer { min, .. } => {
                let non_negative = min.is_some_and(|m| m >= 0);
                self.numeric(
                    question,
                    &suffix,
                    label,
                    0,
                    Measure::Scale,
                    non_negative,
                    &answers,
                    source(),
                );
            }
            Kind::Rating { min, .. } => {
                self.numeric(
                    question,
                    &suffix,
                    label,
                    0,
                    Measure::Ordinal,
                    *min >= 0,
                    &answers,
                    source(),
                );
            }
            Kind::Decimal { min, .. } => {
                let non_negative = min.is_some_and(|m| m >= 0.0);
                self.numeric(
                    question,
                    &suffix,
                    label,
                    2,
                    Measure::Scale,
                    non_negative,
                    &answers,
                    source(),
                );
            }
            Kind::Calculate { .. } => {
                let all_numbers = answers
                    .iter()
                    .all(|a| !matches!(a, Ok(v) if !matches!(v, Value::Number(_))));
                if all_numbers {
                    let decimals = if answers
                        .iter()
                        .all(|a| !matches!(a, Ok(Value::Number(x)) if x.fract() != 0.0))
                    {
                        0
                    } else {
                        2
                    };
                    self.numeric(
                        question,
                        &suffix,
                        label,
                        decimals,
                        Measure::Scale,
                        false,
                        &answers,
                        source(),
                    );
                } else {
                    self.text(question, &suffix, label, &answers, source());
                }
            }
            Kind::Date => {
                let column = answers
                    .iter()
                    .map(|a| match a {
                        Ok(Value::Date(d)) => Cell::Date(*d),
                        _ => Cell::Empty,
                    })
                    .collect();
                let name = self.names.own(&format!("{}{suffix}", question.name));
                self.push(variable(name, label, VarKind::Date, Measure::Scale, source()), column);
            }
            Kind::Text | Kind::Time | Kind::Metadata { .. } => self.text(question, &suffix, label, &answers, source()),
            Kind::Note | Kind::End { .. } => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn numeric(
        &mut self,
        question: &Question,
        suffix: &str,
        label: String,
        decimals: u8,
        measure: Measure,
        with_codes: bool,
        answers: &[Result<Value, f64>],
        source: Source,
    ) {
        let column = answers
            .iter()
            .map(|a| match a {
                Ok(value) => number(value.number()),
                Err(code) if with_codes => Cell::Number(*code),
                Err(_) => Cell::Empty,
            })
            .collect();
        let name = self.names.own(&format!("{}{suffix}", question.name));
        let mut v = variable(name, label, VarKind::Numeric { decimals }, measure, source);
        if with_codes {
            v.value_labels = vec![
                (NOT_ASKED, "Not asked".to_string()),
                (NO_ANSWER, "Asked, not answered".to_string()),
            ];
            v.missing = vec![NOT_ASKED, NO_ANSWER];
        }
        self.push(v, column);
    }

    fn text(
        &mut self,
        question: &Question,
        suffix: &str,
        label: String,
        answers: &[Result<Value, f64>],
        source: Source,
    ) {
        let column = answers
            .iter()
            .map(|a| match a {
                Ok(value) => text(Some(&value.text())),
                Err(_) => Cell::Empty,
            })
            .collect();
        let name = self.names.own(&format!("{}{suffix}", question.name));
        self.push(variable(name, label, text_kind(), Measure::Nominal, source), column);
    }

    /// The text given for "other" (kept under `NAME_other`).
    fn other_text(&mut self, question: &Question, instance: &[usize], label: &str, source: Source) {
        let key = instance_key(&format!("{}_other", question.name), instance).into_owned();
        let column = (0..self.interviews.len())
            .map(|i| match self.status(i, &key) {
                Status::Answered(serde_json::Value::String(s)) => text(Some(s)),
                Status::Answered(other) => Cell::Text(other.to_string()),
                _ => Cell::Empty,
            })
            .collect();
        let suffix: String = instance.iter().map(|k| format!("_{k}")).collect();
        let name = self.names.take(&format!("{}{suffix}_other_text", question.name));
        self.push(
            variable(
                name,
                format!("{label}: other, specified"),
                text_kind(),
                Measure::Nominal,
                source,
            ),
            column,
        );
    }
}

fn codes(options: &[Choice], other: bool, language: &str) -> Vec<(f64, String)> {
    let mut codes: Vec<(f64, String)> = options
        .iter()
        .enumerate()
        .map(|(k, o)| (k as f64 + 1.0, o.label.get(language).unwrap_or(&o.name).to_string()))
        .collect();
    if other {
        codes.push((options.len() as f64 + 1.0, "Other".to_string()));
    }
    codes
}

fn code_of(options: &[Choice], other: bool, name: &str) -> Option<f64> {
    match options.iter().position(|o| o.name == name) {
        Some(k) => Some(k as f64 + 1.0),
        None if other && name == "other" => Some(options.len() as f64 + 1.0),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use paceline_dialer::campaign::{Campaign, CampaignKind, CampaignSettings, CampaignStatus};
    use serde_json::json;

    use super::*;
    use crate::labelled::Cell as C;

    fn csat() -> paceline_cati::questionnaire::Questionnaire {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../questionnaires/csat.toml");
        paceline_cati::questionnaire::own_format::read("csat.toml", &std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn campaign() -> Campaign {
        let mut settings = CampaignSettings::default();
        settings.fields.push(FieldSpec::new("customer_name", FieldType::Text));
        let mut region = FieldSpec::new("region", FieldType::Category);
        region.values = vec!["north".into(), "south".into()];
        settings.fields.push(region);
        settings.fields.push(FieldSpec::new("spend", FieldType::Decimal));
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap();
        Campaign {
            id: 1,
            name: "service".into(),
            kind: CampaignKind::Survey,
            status: CampaignStatus::Running,
            settings,
            agents: vec![],
            teams: vec![],
            copied_from: None,
            created_at: at,
            updated_at: at,
        }
    }

    fn interview(id: i64, state: &str, path: &[&str], answers: serde_json::Value) -> InterviewFact {
        let started = Utc.with_ymd_and_hms(2026, 11, 30, 10, 0, 0).unwrap();
        InterviewFact {
            id,
            record: 100 + id,
            version: 1,
            version_label: "1".into(),
            interviewer: Some("ann".into()),
            language: "en".into(),
            state: state.into(),
            state_detail: None,
            path: path.iter().map(|p| p.to_string()).collect(),
            started_at: started,
            updated_at: started + chrono::Duration::seconds(95),
            answers: serde_json::from_value(answers).unwrap(),
            fields: serde_json::from_value(json!({"customer_name": "Wu Fang", "region": "south", "spend": 12.5}))
                .unwrap(),
            attempts: 2,
            disposition: Some("complete".into()),
            aapor: Some("1.1".into()),
        }
    }

    fn facts() -> SurveyFacts {
        SurveyFacts {
            campaign: campaign(),
            questionnaire: csat(),
            interviews: vec![
                interview(
                    1,
                    "complete",
                    &[
                        "right_person",
                        "overall",
                        "aspects",
                        "problems",
                        "problems_other",
                        "complaint",
                        "recommend",
                        "comment",
                    ],
                    json!({
                        "right_person": "yes", "overall": 2, "aspects": {"punctuality": "2", "courtesy": "4", "quality": "1"},
                        "problems": ["late", "other"], "problems_other": "no receipt", "recommend": 3,
                        "nps_group": "detractor", "comment": "Zu spät – très"
                    }),
                ),
                interview(
                    2,
                    "asking",
                    &["right_person", "overall"],
                    json!({"right_person": "yes"}),
                ),
                interview(3, "screened_out", &["right_person"], json!({"right_person": "no"})),
            ],
        }
    }

    fn column<'d>(data: &'d Dataset, name: &str) -> Vec<&'d C> {
        let k = data.variables.iter().position(|v| v.name == name).unwrap_or_else(|| {
            panic!(
                "no variable {name} in {:?}",
                data.variables.iter().map(|v| &v.name).collect::<Vec<_>>()
            )
        });
        data.rows.iter().map(|r| &r[k]).collect()
    }

    fn variable<'d>(data: &'d Dataset, name: &str) -> &'d Variable {
        data.variables.iter().find(|v| v.name == name).unwrap()
    }

    #[test]
    fn one_row_per_interview_with_paradata_sample_fields_and_answers() {
        let built = build(&facts(), &Options::default()).unwrap();
        let data = &built.dataset;
        assert!(built.warnings.is_empty(), "{:?}", built.warnings);
        assert_eq!(data.rows.len(), 3);
        assert!(data.rows.iter().all(|r| r.len() == data.variables.len()));
        assert_eq!(
            column(data, "interview_id"),
            [&C::Number(1.0), &C::Number(2.0), &C::Number(3.0)]
        );
        assert_eq!(
            column(data, "length_s"),
            [&C::Number(95.0), &C::Empty, &C::Number(95.0)]
        );
        assert_eq!(column(data, "state")[1], &C::Number(2.0));
        assert_eq!(variable(data, "state").label_of(2.0), Some("Open (left on a question)"));
        // Sample fields: a category coded with its values as labels.
        assert_eq!(column(data, "region")[0], &C::Number(2.0));
        assert_eq!(variable(data, "region").label_of(2.0), Some("south"));
        assert_eq!(column(data, "spend")[0], &C::Number(12.5));
        assert_eq!(column(data, "customer_name")[0], &C::Text("Wu Fang".into()));
    }

    #[test]
    fn choices_are_coded_with_labels_and_missing_codes_say_why() {
        let data = build(&facts(), &Options::default()).unwrap().dataset;
        let right = variable(&data, "right_person");
        assert_eq!(right.label_of(1.0), Some("Yes"));
        assert_eq!(right.missing, vec![NOT_ASKED, NO_ANSWER]);
        assert_eq!(
            column(&data, "right_person"),
            [&C::Number(1.0), &C::Number(1.0), &C::Number(2.0)]
        );
        // Shown but not answered, against never reached.
        assert_eq!(
            column(&data, "overall"),
            [&C::Number(2.0), &C::Number(NO_ANSWER), &C::Number(NOT_ASKED)]
        );
        // A multiple choice: one 0/1 variable per option, "other" last with its text.
        assert_eq!(column(&data, "problems_late")[0], &C::Number(1.0));
        assert_eq!(column(&data, "problems_rude")[0], &C::Number(0.0));
        assert_eq!(column(&data, "problems_other")[0], &C::Number(1.0));
        assert_eq!(column(&data, "problems_other")[2], &C::Number(NOT_ASKED));
        assert_eq!(column(&data, "problems_other_text")[0], &C::Text("no receipt".into()));
        // A grid: one variable per row, on the scale's codes.
        assert_eq!(column(&data, "aspects_courtesy")[0], &C::Number(4.0));
        assert!(
            variable(&data, "aspects_courtesy")
                .label
                .contains("Courtesy of the staff")
        );
        // The routing is kept for the codebook.
        let Source::Question { asked_when, .. } = &variable(&data, "complaint").source else {
            panic!("complaint is a question")
        };
        assert!(asked_when.as_deref().unwrap().contains("unfixed"), "{asked_when:?}");
        // Text keeps its bytes; the width is the widest value.
        assert_eq!(column(&data, "comment")[0], &C::Text("Zu spät – très".into()));
        assert_eq!(
            variable(&data, "comment").kind,
            VarKind::Text {
                width: "Zu spät – très".len()
            }
        );
        // Notes and end points hold no answer.
        assert!(
            data.variables
                .iter()
                .all(|v| v.name != "intro" && v.name != "wrong_person")
        );
    }

    #[test]
    fn labels_come_in_the_chosen_language_and_fields_can_be_chosen() {
        let options = Options {
            language: Some("zh".into()),
            fields: Some(vec!["region".into()]),
        };
        let data = build(&facts(), &options).unwrap().dataset;
        assert_eq!(variable(&data, "right_person").label_of(1.0), Some("是"));
        assert!(data.variables.iter().all(|v| v.name != "customer_name"));
        let bad = build(
            &facts(),
            &Options {
                fields: Some(vec!["shoe_size".into()]),
                ..Options::default()
            },
        )
        .unwrap_err();
        assert!(bad.to_string().contains("no field 'shoe_size'"), "{bad}");
        let bad = build(
            &facts(),
            &Options {
                language: Some("fr".into()),
                ..Options::default()
            },
        )
        .unwrap_err();
        assert!(bad.to_string().contains("not written in 'fr'"), "{bad}");
    }

    #[test]
    fn an_answer_that_is_no_longer_an_option_is_reported_not_guessed() {
        let mut facts = facts();
        facts.interviews[0]
            .answers
            .insert("right_person".into(), json!("maybe"));
        let built = build(&facts, &Options::default()).unwrap();
        assert_eq!(column(&built.dataset, "right_person")[0], &C::Number(NO_ANSWER));
        assert_eq!(
            built.warnings,
            vec!["interview 1: right_person: 'maybe' is not an option; left out"]
        );
    }

    #[test]
    fn a_sample_field_named_like_a_question_gives_way_to_it() {
        let mut facts = facts();
        facts
            .campaign
            .settings
            .fields
            .push(FieldSpec::new("recommend", FieldType::Integer));
        facts.interviews[0].fields.insert("recommend".into(), json!(7));
        let data = build(&facts, &Options::default()).unwrap().dataset;
        assert_eq!(column(&data, "sample_recommend")[0], &C::Number(7.0));
        assert_eq!(column(&data, "recommend")[0], &C::Number(3.0), "the question's answer");
        assert_eq!(variable(&data, "sample_recommend").source, Source::SampleField);
    }

    #[test]
    fn names_are_valid_and_unique_for_spss() {
        let mut names = Names::default();
        assert_eq!(names.take("age"), "age");
        assert_eq!(names.take("AGE"), "AGE_2");
        names.reserved.insert("q_other".into());
        assert_eq!(
            names.take("q_other"),
            "q_other_2",
            "an option's dummy gives way to a question"
        );
        assert_eq!(names.own("q_other"), "q_other");
        assert_eq!(names.take("1st choice"), "v1st_choice");
        assert_eq!(names.take("q.3-b"), "q_3_b");
        assert!(names.take(&"x".repeat(100)).len() <= 64);
    }

    #[test]
    fn repeats_get_one_variable_per_time_round() {
        let mut facts = facts();
        // A question seen inside a repeat: answers keyed comment[1], comment[2].
        let i = &mut facts.interviews[0];
        i.answers.remove("comment");
        i.answers.insert("comment[1]".into(), json!("first"));
        i.answers.insert("comment[2]".into(), json!("second"));
        let data = build(&facts, &Options::default()).unwrap().dataset;
        assert_eq!(column(&data, "comment_1")[0], &C::Text("first".into()));
        assert_eq!(column(&data, "comment_2")[0], &C::Text("second".into()));
        assert!(variable(&data, "comment_2").label.ends_with("[2]"));
    }
}
