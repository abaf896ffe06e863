//! The checks every questionnaire passes after its file is read, whatever the format: unique
//! names, options where options are needed, sound bounds, and every expression and piped
//! text using only names answered before it, with types that fit.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::Serialize;

use super::model::{Item, Kind, Location, Question, Questionnaire, Text};
use crate::expr::{self, Expr, Scope, Type};

/// One thing wrong with a questionnaire, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoadError {
    /// Where: file, and sheet, row and column, or item and key.
    pub at: Location,
    /// What is wrong, and why.
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// Every name an expression may use, and where each comes in the questionnaire's order.
struct Names<'a> {
    /// Questions by name: their position in order, answer type, options.
    questions: HashMap<&'a str, (usize, &'a Question)>,
    sample: &'a BTreeMap<String, super::model::FieldType>,
    /// Options compared that do not exist, noted while checking one expression: the
    /// condition never holds, which ODK accepts, so it is a warning.
    pending: std::cell::RefCell<Vec<String>>,
    /// Names of items refused while the file was read (already reported): expressions that
    /// use them are not reported again.
    refused: &'a [String],
    /// The repeats around each question inside one, outermost first.
    repeat_of: HashMap<&'a str, Vec<&'a str>>,
}

/// The names as seen from one place in the questionnaire.
struct At<'n, 'a> {
    names: &'n Names<'a>,
    /// The position of the item the expression belongs to.
    position: usize,
    current: Option<Type>,
    columns: Option<Vec<String>>,
    /// The repeats the expression is inside, outermost first.
    repeat: &'n [&'a str],
}

impl Scope for At<'_, '_> {
    fn reference(&self, name: &str) -> Result<Type, String> {
        if let Some(field) = self.names.sample.get(name) {
            return Ok(field.expr_type());
        }
        if self.names.refused.iter().any(|r| r == name) {
            return Ok(Type::Any);
        }
        // The text of "other, specify" is known as NAME_other, answered with its question.
        if !self.names.questions.contains_key(name)
            && let Some(base) = name.strip_suffix("_other")
            && let Some(&(_, question)) = self.names.questions.get(base)
            && question.kind.choices().is_some_and(|c| c.other)
        {
            return self.reference(base).map(|_| Type::Text);
        }
        let Some(&(position, question)) = self.names.questions.get(name) else {
            return Err(format!(
                "unknown name ${{{name}}}: no question or sample field is called so"
            ));
        };
        if position == self.position {
            return Err(format!(
                "${{{name}}} refers to the question's own answer; in a constraint the answer is `.`"
            ));
        }
        if position > self.position {
            return Err(format!(
                "${{{name}}} is asked later ({}), so it has no answer yet here",
                question.at
            ));
        }
        if let Some(around) = self.names.repeat_of.get(name)
            && !self.repeat.starts_with(around)
        {
            return Err(format!(
                "${{{name}}} is asked once per time round the repeat '{}', so it has one answer only \
                 inside that repeat",
                around.last().expect("a repeat")
            ));
        }
        question
            .kind
            .answer_type()
            .ok_or_else(|| format!("${{{name}}} is a {} and has no answer", question.kind.type_name()))
    }

    fn current(&self) -> Option<Type> {
        self.current
    }

    fn options(&self, name: &str) -> Option<Vec<String>> {
        let (_, question) = self.names.questions.get(name)?;
        let choices = question.kind.choices()?;
        // An option filtered by a choice filter still exists.
        let mut options: Vec<String> = choices.options.iter().map(|o| o.name.clone()).collect();
        if choices.other && !options.iter().any(|o| o == "other") {
            options.push("other".into());
        }
        Some(options)
    }

    fn column(&self, name: &str) -> Option<Type> {
        self.columns.as_ref()?.iter().any(|c| c == name).then_some(Type::Text)
    }

    fn unknown_option(&self, message: String) -> Result<(), String> {
        self.names.pending.borrow_mut().push(message);
        Ok(())
    }
}

/// What checking a questionnaire found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    /// What keeps it from loading, in order.
    pub errors: Vec<LoadError>,
    /// What loads but is most likely a mistake (a condition that can never hold).
    pub warnings: Vec<LoadError>,
}

/// Checks a questionnaire read from its file: every problem, in order.
pub fn check(q: &Questionnaire) -> Findings {
    check_except(q, &[])
}

/// As [`check`], for a questionnaire whose items named `refused` were refused (and
/// reported) while its file was read: what uses them is not reported again.
pub fn check_except(q: &Questionnaire, refused: &[String]) -> Findings {
    let mut findings = Findings::default();
    let errors = &mut findings.errors;
    let questions = q.questions();
    let mut names = Names {
        questions: HashMap::new(),
        sample: &q.sample_fields,
        pending: Default::default(),
        refused,
        repeat_of: HashMap::new(),
    };
    members_of_repeats(&q.items, &[], &mut names.repeat_of);
    let mut seen: HashMap<&str, &Location> = HashMap::new();
    for (i, question) in questions.iter().enumerate() {
        if let Some(first) = seen.get(question.name.as_str()) {
            errors.push(LoadError {
                at: question.at.at_column("name"),
                message: format!("the name '{}' is already used ({first})", question.name),
            });
            continue;
        }
        if q.sample_fields.contains_key(&question.name) {
            errors.push(LoadError {
                at: question.at.at_column("name"),
                message: format!("the name '{}' is also a sample field's", question.name),
            });
        }
        seen.insert(&question.name, &question.at);
        names.questions.insert(&question.name, (i, question));
    }
    for group in q.groups() {
        if let Some(first) = seen.get(group.name.as_str()) {
            errors.push(LoadError {
                at: group.at.at_column("name"),
                message: format!("the name '{}' is already used ({first})", group.name),
            });
        }
    }
    let mut position = 0;
    walk(&q.items, &names, &mut position, &[], &mut findings);
    // Quota cells are decided on everything the interview may have answered.
    let mut quota_names: Vec<&str> = Vec::new();
    for quota in &q.quotas {
        if quota_names.contains(&quota.name.as_str()) {
            findings.errors.push(LoadError {
                at: quota.at.at_column("name"),
                message: format!("the quota name '{}' is used twice", quota.name),
            });
        }
        quota_names.push(&quota.name);
        let column = if quota.cells.len() == 1 && quota.cells[0].key == quota.name {
            "when"
        } else {
            "cross"
        };
        for cell in &quota.cells {
            let scope = At {
                names: &names,
                position: usize::MAX,
                current: None,
                columns: None,
                repeat: &[],
            };
            expression(
                &cell.when,
                &scope,
                &quota.at.at_column(column),
                Some(Type::Bool),
                &mut findings,
            );
            if cell.target == 0 {
                findings.errors.push(LoadError {
                    at: quota.at.at_column("target"),
                    message: format!(
                        "the cell '{}' has a target of 0: it would screen out everyone in it",
                        cell.key
                    ),
                });
            }
        }
    }
    findings
}

/// Notes the repeat each question inside one belongs to.
fn members_of_repeats<'a>(items: &'a [Item], around: &[&'a str], out: &mut HashMap<&'a str, Vec<&'a str>>) {
    for item in items {
        match item {
            Item::Question(q) => {
                if !around.is_empty() {
                    out.insert(&q.name, around.to_vec());
                }
            }
            Item::Group(g) => {
                let mut inner = around.to_vec();
                inner.extend(g.repeat.is_some().then_some(g.name.as_str()));
                members_of_repeats(&g.items, &inner, out);
            }
        }
    }
}

fn walk<'a>(items: &'a [Item], names: &Names<'a>, position: &mut usize, repeat: &[&'a str], findings: &mut Findings) {
    for item in items {
        match item {
            Item::Group(group) => {
                if let Some(relevant) = &group.relevant {
                    let scope = At {
                        names,
                        position: *position,
                        current: None,
                        columns: None,
                        repeat,
                    };
                    expression(
                        relevant,
                        &scope,
                        &group.at.at_column("relevant"),
                        Some(Type::Bool),
                        findings,
                    );
                }
                if let Some(count) = group.repeat.as_ref().and_then(|r| r.count.as_ref()) {
                    let scope = At {
                        names,
                        position: *position,
                        current: None,
                        columns: None,
                        repeat,
                    };
                    expression(count, &scope, &group.at.at_column("repeat_count"), None, findings);
                }
                if let Some(label) = &group.label {
                    texts(label, names, *position, repeat, &group.at.at_column("label"), findings);
                }
                if group.items.is_empty() {
                    findings.errors.push(LoadError {
                        at: group.at.clone(),
                        message: format!("the group '{}' has no questions", group.name),
                    });
                }
                let mut inner = repeat.to_vec();
                inner.extend(group.repeat.is_some().then_some(group.name.as_str()));
                walk(&group.items, names, position, &inner, findings);
            }
            Item::Question(question) => {
                check_question(question, names, *position, repeat, findings);
                *position += 1;
            }
        }
    }
}

fn check_question<'a>(
    question: &Question,
    names: &Names<'a>,
    position: usize,
    repeat: &[&'a str],
    findings: &mut Findings,
) {
    let at = &question.at;
    let scope = |current: Option<Type>, columns: Option<Vec<String>>| At {
        names,
        position,
        current,
        columns,
        repeat,
    };
    let mut fail = |column: &str, message: String| {
        findings.errors.push(LoadError {
            at: at.at_column(column),
            message,
        })
    };
    match &question.kind {
        Kind::Integer {
            min: Some(lo),
            max: Some(hi),
        } if lo > hi => fail(
            "max",
            format!("the range is empty: the least accepted, {lo}, is above the most, {hi}"),
        ),
        Kind::Decimal {
            min: Some(lo),
            max: Some(hi),
        } if lo > hi => fail(
            "max",
            format!("the range is empty: the least accepted, {lo}, is above the most, {hi}"),
        ),
        Kind::Rating { min, max } if min >= max => fail(
            "max",
            format!("a rating scale needs its top ({max}) above its bottom ({min})"),
        ),
        Kind::Grid { rows, scale } if rows.is_empty() || scale.is_empty() => fail(
            "choices",
            "a grid needs rows (the items asked about) and a scale (the answers)".into(),
        ),
        Kind::MultipleChoice { max_picks: Some(0), .. } => {
            fail("max_picks", "at most 0 picks leaves nothing to answer".into())
        }
        _ => {}
    }
    if let Some(choices) = question.kind.choices() {
        if choices.options.is_empty() {
            fail(
                "choices",
                format!(
                    "the {} question '{}' has no options",
                    question.kind.type_name(),
                    question.name
                ),
            );
        }
        let mut seen: Vec<&str> = Vec::new();
        for option in &choices.options {
            if seen.contains(&option.name.as_str()) {
                fail("choices", format!("the option '{}' is listed twice", option.name));
            }
            seen.push(&option.name);
        }
    }
    let answer = question.kind.answer_type();
    let mut expressions: Vec<(&str, &Expr, At<'_, '_>, Option<Type>)> = Vec::new();
    if let Some(relevant) = &question.relevant {
        expressions.push(("relevant", relevant, scope(None, None), Some(Type::Bool)));
    }
    if let Some(required_when) = &question.required_when {
        expressions.push(("required", required_when, scope(None, None), Some(Type::Bool)));
    }
    if let Some(constraint) = &question.constraint {
        expressions.push(("constraint", constraint, scope(answer, None), Some(Type::Bool)));
    }
    if let Kind::Calculate { expr } = &question.kind {
        expressions.push(("calculation", expr, scope(None, None), None));
    }
    if let Some(choices) = question.kind.choices()
        && let Some(filter) = &choices.filter
    {
        let mut columns: Vec<String> = choices.options.iter().flat_map(|o| o.fields.keys().cloned()).collect();
        columns.extend(["name".to_string(), "label".to_string()]);
        expressions.push(("choice_filter", filter, scope(None, Some(columns)), Some(Type::Bool)));
    }
    for (column, expr, scope, want) in expressions {
        expression(expr, &scope, &at.at_column(column), want, findings);
    }
    let mut labelled: Vec<(&str, &Text)> = vec![("label", &question.label)];
    labelled.extend(question.hint.iter().map(|h| ("hint", h)));
    labelled.extend(question.constraint_message.iter().map(|m| ("constraint_message", m)));
    labelled.extend(question.required_message.iter().map(|m| ("required_message", m)));
    for (column, text) in labelled {
        texts(text, names, position, repeat, &at.at_column(column), findings);
    }
}

fn expression(expr: &Expr, scope: &At<'_, '_>, at: &Location, want: Option<Type>, findings: &mut Findings) {
    let checked = expr::check(expr, scope);
    for message in scope.names.pending.borrow_mut().drain(..) {
        findings.warnings.push(LoadError {
            at: at.clone(),
            message: format!("in `{expr}`: {message}, so the comparison is decided whatever the answer"),
        });
    }
    match checked {
        Ok(t) => {
            if let Some(want) = want
                && want == Type::Bool
                && !matches!(t, Type::Bool | Type::Any)
            {
                // XPath takes any value as a condition; a bare answer as a condition is
                // almost always a forgotten comparison.
                findings.errors.push(LoadError {
                    at: at.clone(),
                    message: format!(
                        "`{expr}` is {}, not a condition: compare it, e.g. `{expr} = ...`",
                        t.describe()
                    ),
                });
            }
        }
        Err(e) => findings.errors.push(LoadError {
            at: at.clone(),
            message: format!("in `{expr}`: {e}"),
        }),
    }
}

fn texts<'a>(
    text: &Text,
    names: &Names<'a>,
    position: usize,
    repeat: &[&'a str],
    at: &Location,
    findings: &mut Findings,
) {
    let scope = At {
        names,
        position,
        current: None,
        columns: None,
        repeat,
    };
    for (language, template) in &text.0 {
        let names = match crate::template::names(template) {
            Ok(names) => names,
            Err(why) => {
                findings.errors.push(LoadError {
                    at: at.clone(),
                    message: format!("the text ({language}): {why}"),
                });
                continue;
            }
        };
        for name in &names {
            if let Err(e) = scope.reference(name) {
                let which = if text.0.len() > 1 {
                    format!(" ({language})")
                } else {
                    String::new()
                };
                findings.errors.push(LoadError {
                    at: at.clone(),
                    message: format!("the text{which} pipes in {e}"),
                });
            }
        }
    }
}
