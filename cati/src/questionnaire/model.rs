//! The questionnaire as the interview runtime reads it, whatever file it came from: items in
//! order, each question with its type, texts per language, routing and checks, and where in
//! its file it was defined (for every error message after loading).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::expr::{Expr, Type};

/// A loaded, checked questionnaire.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Questionnaire {
    /// Short unique name, e.g. `csat`.
    pub id: String,
    /// What respondents and interviewers see as its title.
    pub title: Text,
    /// The author's version label; publishing stores each version apart.
    pub version: String,
    /// The languages its texts come in; the first is the default.
    pub languages: Vec<String>,
    /// Sample fields its expressions and texts may use, with their types.
    pub sample_fields: BTreeMap<String, FieldType>,
    /// Its questions and groups, in order.
    pub items: Vec<Item>,
    /// Its quotas.
    pub quotas: Vec<Quota>,
    /// How the import treated what the file had beyond what the model holds (columns that
    /// shape a screen, metadata filled in by the system).
    pub notes: Vec<String>,
}

/// A text in each of the questionnaire's languages (a template: `${name}` pipes in an
/// answer or a sample field).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Text(pub BTreeMap<String, String>);

impl Text {
    /// The text in `language`, else in the first language it has.
    pub fn get(&self, language: &str) -> Option<&str> {
        self.0
            .get(language)
            .or_else(|| self.0.values().next())
            .map(String::as_str)
    }

    /// A text in one language.
    pub fn one(language: &str, text: &str) -> Self {
        Text(BTreeMap::from([(language.to_string(), text.to_string())]))
    }
}

/// The type of a sample field as expressions see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Text.
    Text,
    /// A number.
    Number,
    /// A date.
    Date,
}

impl FieldType {
    /// The expression type of the field.
    pub fn expr_type(self) -> Type {
        match self {
            FieldType::Text => Type::Text,
            FieldType::Number => Type::Number,
            FieldType::Date => Type::Date,
        }
    }
}

/// Where something was defined: the file, and the sheet, row and column or the key path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The file's name as given.
    pub file: String,
    /// For a spreadsheet: the sheet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// For a spreadsheet: the row, from 1 as the spreadsheet shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
    /// For a spreadsheet: the column's header (e.g. `relevant`); for a TOML file: the key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// For a TOML file: the item, e.g. `questions[3] (age)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
}

impl Location {
    /// The same place, at another column or key.
    pub fn at_column(&self, column: &str) -> Location {
        Location {
            column: Some(column.to_string()),
            ..self.clone()
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(sheet) = &self.sheet {
            write!(f, ", sheet {sheet}")?;
        }
        if let Some(row) = self.row {
            write!(f, ", row {row}")?;
        }
        if let Some(item) = &self.item {
            write!(f, ", {item}")?;
        }
        if let Some(column) = &self.column {
            let word = if self.sheet.is_some() { "column" } else { "key" };
            write!(f, ", {word} {column}")?;
        }
        Ok(())
    }
}

/// A question or a group of them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "item", rename_all = "snake_case")]
pub enum Item {
    /// A question (or a note, a computed variable, an end point).
    Question(Box<Question>),
    /// A group of items, asked or skipped together.
    Group(Box<Group>),
}

impl Item {
    /// The item's name.
    pub fn name(&self) -> &str {
        match self {
            Item::Question(q) => &q.name,
            Item::Group(g) => &g.name,
        }
    }
}

/// A group (XLSForm's `begin group`, the own format's `[[groups]]`): a block of items with a
/// shared condition, whose question order may be shuffled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// Unique name.
    pub name: String,
    /// A heading shown above its questions.
    pub label: Option<Text>,
    /// Asked only when this holds.
    pub relevant: Option<Expr>,
    /// Whether its items are asked in an order shuffled per interview.
    pub shuffle: bool,
    /// Whether it takes turns going first with the groups marked so beside it (block
    /// rotation: interview `seed` starts at block `seed mod n`).
    pub rotate: bool,
    /// For a repeat (XLSForm's `begin repeat`): asked once per member of a list, as many
    /// times as `count` says, or for as long as the respondent adds one.
    pub repeat: Option<Repeat>,
    /// Its items, in order.
    pub items: Vec<Item>,
    /// Where it was defined.
    pub at: Location,
}

/// A quota: cells over sample fields and answers, each with a target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quota {
    /// Unique name.
    pub name: String,
    /// Its cells.
    pub cells: Vec<QuotaCell>,
    /// Whether interviews in progress count towards the target, as well as completes.
    pub count_in_progress: bool,
    /// When an interview in a full cell ends.
    pub action: QuotaAction,
    /// Where it was defined.
    pub at: Location,
}

/// One cell of a quota.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuotaCell {
    /// Its key within the quota, e.g. `north/f/18-34`.
    pub key: String,
    /// Who is in it.
    pub when: Expr,
    /// How many completes it takes.
    pub target: u32,
    /// The names `when` uses.
    pub uses: Vec<String>,
    /// Whether `when` uses sample fields only, so the dialer can hold records back.
    pub sample_only: bool,
}

/// When an interview that lands in a full cell ends (as LimeSurvey's quota actions say).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuotaAction {
    /// At once: checked before every question, so an interview already in a cell that
    /// another interview has just filled ends at its next step.
    AtOnce,
    /// Right after an answer: the question on screen is finished first.
    AfterQuestion,
}

/// How often a repeated group is asked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Repeat {
    /// The number of times (XLSForm's `repeat_count`); none: until the respondent says stop.
    pub count: Option<Expr>,
    /// Without a count: the yes/no question that ends each time round, asking for one more
    /// ([`Questionnaire::ask_for_another`] adds it).
    pub another: Option<String>,
}

/// One question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Question {
    /// Unique name; answers and expressions use it.
    pub name: String,
    /// What kind of answer it takes.
    pub kind: Kind,
    /// What the interviewer reads out.
    pub label: Text,
    /// A note for the interviewer, not read out.
    pub hint: Option<Text>,
    /// Whether it must be answered to go on.
    pub required: bool,
    /// Required only when this holds (XLSForm's `required` written as a condition).
    pub required_when: Option<Expr>,
    /// Said when a required answer is missing.
    pub required_message: Option<Text>,
    /// Asked only when this holds.
    pub relevant: Option<Expr>,
    /// An answer is accepted only when this holds (`.` is the answer).
    pub constraint: Option<Expr>,
    /// Said when the constraint refuses an answer.
    pub constraint_message: Option<Text>,
    /// The answer offered before the interviewer gives one.
    pub default: Option<String>,
    /// Where it was defined.
    pub at: Location,
}

/// A question's kind, and what it needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Kind {
    /// One option.
    SingleChoice(Choices),
    /// Several options.
    MultipleChoice {
        /// The options.
        #[serde(flatten)]
        choices: Choices,
        /// At most this many picks.
        max_picks: Option<u32>,
    },
    /// A whole number, within bounds.
    Integer {
        /// The least accepted.
        min: Option<i64>,
        /// The most accepted.
        max: Option<i64>,
    },
    /// A decimal number, within bounds.
    Decimal {
        /// The least accepted.
        min: Option<f64>,
        /// The most accepted.
        max: Option<f64>,
    },
    /// Free text.
    Text,
    /// A calendar date.
    Date,
    /// A time of day.
    Time,
    /// A rating on a scale of whole numbers, e.g. 1 to 5.
    Rating {
        /// The lowest point.
        min: i64,
        /// The highest point.
        max: i64,
    },
    /// Several items rated on one scale: one option of `scale` per row.
    Grid {
        /// The rows (items asked about).
        rows: Vec<Choice>,
        /// The scale every row is answered on.
        scale: Vec<Choice>,
    },
    /// The options put in order of preference.
    Ranking(Choices),
    /// Text read out, no answer.
    Note,
    /// A value computed from earlier answers and sample fields.
    Calculate {
        /// The computation.
        expr: Expr,
    },
    /// Filled in by the system, not asked: the interview's start or end time, today's date,
    /// the interviewer (XLSForm's metadata types `start`, `end`, `today`, `username`,
    /// `deviceid`), the number dialed (`phonenumber`).
    Metadata {
        /// Which: the XLSForm type name.
        of: String,
    },
    /// The interview ends here when this item is reached (it is usually relevant only for
    /// some answers): a screen-out, a termination, or an early complete.
    End {
        /// How the interview ends.
        outcome: EndOutcome,
    },
}

/// How an interview that reaches an end point ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndOutcome {
    /// Not eligible (AAPOR 4.70).
    ScreenedOut,
    /// Ended by the questionnaire for another reason.
    Terminated,
    /// Counted as complete.
    Complete,
}

/// The options of a choice question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Choices {
    /// The options, in the order authored.
    pub options: Vec<Choice>,
    /// Whether their order is shuffled per interview.
    pub shuffle: bool,
    /// Whether an "other, specify" option (named `other`) takes a text.
    pub other: bool,
    /// Only options for which this holds are offered (bare names are option fields).
    pub filter: Option<Expr>,
}

/// One option.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Choice {
    /// The stored value.
    pub name: String,
    /// What is read out.
    pub label: Text,
    /// Whether picking it excludes every other option ("none of these").
    pub exclusive: bool,
    /// More fields, for choice filters (XLSForm's extra columns of the choices sheet).
    pub fields: BTreeMap<String, String>,
}

impl Kind {
    /// The type of the question's answer in expressions (`None`: it has none).
    pub fn answer_type(&self) -> Option<Type> {
        Some(match self {
            Kind::SingleChoice(_) => Type::Choice,
            Kind::MultipleChoice { .. } | Kind::Ranking(_) => Type::Choices,
            Kind::Integer { .. } | Kind::Decimal { .. } | Kind::Rating { .. } => Type::Number,
            Kind::Text => Type::Text,
            Kind::Date => Type::Date,
            Kind::Time => Type::Time,
            Kind::Grid { .. } | Kind::Calculate { .. } | Kind::Metadata { .. } => Type::Any,
            Kind::Note | Kind::End { .. } => return None,
        })
    }

    /// The options, for choice questions.
    pub fn choices(&self) -> Option<&Choices> {
        match self {
            Kind::SingleChoice(c) | Kind::MultipleChoice { choices: c, .. } | Kind::Ranking(c) => Some(c),
            _ => None,
        }
    }

    /// The kind's name as the own format writes it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Kind::SingleChoice(_) => "single_choice",
            Kind::MultipleChoice { .. } => "multiple_choice",
            Kind::Integer { .. } => "integer",
            Kind::Decimal { .. } => "decimal",
            Kind::Text => "text",
            Kind::Date => "date",
            Kind::Time => "time",
            Kind::Rating { .. } => "rating",
            Kind::Grid { .. } => "grid",
            Kind::Ranking(_) => "ranking",
            Kind::Note => "note",
            Kind::Calculate { .. } => "calculate",
            Kind::End { .. } => "end",
            Kind::Metadata { .. } => "metadata",
        }
    }
}

impl Questionnaire {
    /// Every question, in order, groups opened.
    pub fn questions(&self) -> Vec<&Question> {
        fn walk<'a>(items: &'a [Item], out: &mut Vec<&'a Question>) {
            for item in items {
                match item {
                    Item::Question(q) => out.push(q),
                    Item::Group(g) => walk(&g.items, out),
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.items, &mut out);
        out
    }

    /// Gives each repeat without a count a last question, `GROUP_another` (yes or no), so the
    /// interviewer asks whether there is one more: on a call nobody taps "add".
    pub fn ask_for_another(&mut self) {
        fn walk(items: &mut [Item], language: &str) {
            for item in items {
                let Item::Group(g) = item else { continue };
                walk(&mut g.items, language);
                let Some(repeat) = g.repeat.as_mut().filter(|r| r.count.is_none() && r.another.is_none()) else {
                    continue;
                };
                let name = format!("{}_another", g.name);
                repeat.another = Some(name.clone());
                let what = g
                    .label
                    .as_ref()
                    .and_then(|l| l.get(language))
                    .unwrap_or(&g.name)
                    .to_string();
                let option = |name: &str, label: &str| Choice {
                    name: name.into(),
                    label: Text::one(language, label),
                    exclusive: false,
                    fields: BTreeMap::new(),
                };
                g.items.push(Item::Question(Box::new(Question {
                    name,
                    kind: Kind::SingleChoice(Choices {
                        options: vec![option("yes", "Yes"), option("no", "No")],
                        shuffle: false,
                        other: false,
                        filter: None,
                    }),
                    label: Text::one(language, &format!("Is there another? ({what})")),
                    hint: None,
                    required: true,
                    required_when: None,
                    required_message: None,
                    relevant: None,
                    constraint: None,
                    constraint_message: None,
                    default: None,
                    at: g.at.at_column("type"),
                })));
            }
        }
        let language = self.languages.first().cloned().unwrap_or_default();
        walk(&mut self.items, &language);
    }

    /// The question named `name`, in any group; or the one a repeat's answer key names (`age[2]`).
    pub fn question(&self, name: &str) -> Option<&Question> {
        let name = split_key(name).0;
        fn find<'a>(items: &'a [Item], name: &str) -> Option<&'a Question> {
            items.iter().find_map(|item| match item {
                Item::Question(q) if q.name == name => Some(&**q),
                Item::Question(_) => None,
                Item::Group(g) => find(&g.items, name),
            })
        }
        find(&self.items, name)
    }

    /// A sample field's value from JSON, typed as the questionnaire declares the field (a
    /// date as a date); a field it does not declare as text or a number, as given.
    pub fn sample_value(&self, name: &str, json: &serde_json::Value) -> Result<crate::expr::Value, String> {
        use crate::expr::Value;
        use serde_json::Value as J;
        Ok(match (self.sample_fields.get(name), json) {
            (_, J::Null) => Value::Empty,
            (Some(FieldType::Number), J::Number(n)) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
            (Some(FieldType::Date), J::String(s)) => Value::Date(
                s.parse()
                    .map_err(|_| format!("{name} is '{s}', not a date written YYYY-MM-DD"))?,
            ),
            (Some(FieldType::Number | FieldType::Date), other) => {
                return Err(format!("{name} is {other}, which does not fit its type"));
            }
            (_, J::String(s)) => Value::Text(s.clone()),
            (_, J::Number(n)) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
            (_, other) => Value::Text(other.to_string()),
        })
    }

    /// Every group, in order, nested ones after their parent.
    pub fn groups(&self) -> Vec<&Group> {
        fn walk<'a>(items: &'a [Item], out: &mut Vec<&'a Group>) {
            for item in items {
                if let Item::Group(g) = item {
                    out.push(g);
                    walk(&g.items, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.items, &mut out);
        out
    }
}

/// The name an answer is kept under: `name`, or inside repeats `name[k]` for the k-th time
/// round (`name[2][3]`: the third time round an inner repeat, in the second of the outer).
pub fn instance_key<'a>(name: &'a str, instance: &[usize]) -> Cow<'a, str> {
    if instance.is_empty() {
        return Cow::Borrowed(name);
    }
    let mut key = name.to_string();
    for k in instance {
        key.push_str(&format!("[{k}]"));
    }
    Cow::Owned(key)
}

/// A key split into the question's name and the times round its repeats (`age[2]` is
/// `("age", [2])`).
pub fn split_key(key: &str) -> (&str, Vec<usize>) {
    let mut name = key;
    let mut instance = Vec::new();
    while let Some(open) = name.rfind('[')
        && let Some(inner) = name[open + 1..].strip_suffix(']')
        && let Ok(k) = inner.parse::<usize>()
    {
        instance.push(k);
        name = &name[..open];
    }
    instance.reverse();
    (name, instance)
}
