//! The interview runtime: one run of a questionnaire for one respondent, as a state machine
//! in plain data. It routes (relevance, skips, end points), validates answers (type, range,
//! required, constraint with its message), computes calculations, pipes answers into texts,
//! shuffles options and group orders reproducibly from the interview's seed, goes back and
//! jumps without losing answers, and sets aside answers that a changed answer has made
//! unreachable. Storage is the caller's: every method that changes the interview returns
//! what changed, to be stored before the next question is shown.

mod answer;

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::NaiveDate;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

pub use crate::questionnaire::{instance_key, split_key};
pub use answer::parse_answer;

use crate::expr::{self, Expr, Value, Values};
use crate::questionnaire::{Choice, EndOutcome, Group, Item, Kind, Question, Questionnaire, Text};

/// Where an interview stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    /// A question is shown.
    Asking,
    /// Stopped for a callback; resumes at the same question.
    Suspended,
    /// Every relevant question answered.
    Complete,
    /// Ended by an end point: not eligible.
    ScreenedOut {
        /// The end point's name.
        at: String,
    },
    /// Ended by an end point, or by the interviewer, for a reason.
    Terminated {
        /// Why.
        reason: String,
    },
}

/// The question on screen, as the interviewer sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shown {
    /// The name its answer is kept under: the question's, or `name[k]` inside a repeat.
    pub name: String,
    /// The question's name in the questionnaire.
    pub question: String,
    /// Inside repeats, which time round of each (from 1), outermost first.
    pub repeat: Vec<usize>,
    /// Its type name.
    pub kind: &'static str,
    /// The text to read out, answers piped in, in the interview's language.
    pub text: String,
    /// The hint, if any.
    pub hint: Option<String>,
    /// The options offered, in this interview's order: (name, text).
    pub options: Vec<(String, String)>,
    /// Whether it must be answered.
    pub required: bool,
    /// The answer given so far, if any.
    pub answer: Option<Value>,
    /// The share of the expected route done, 0 to 1.
    pub progress: f64,
}

/// An answer refused, with the message to say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{question}: {message}")]
pub struct Refused {
    /// The question.
    pub question: String,
    /// Why, in the interview's language where the questionnaire says it.
    pub message: String,
}

/// A question in asking order with the conditions of the groups around it.
#[derive(Debug, Clone)]
struct Step<'q> {
    question: &'q Question,
    conditions: Vec<&'q Expr>,
    /// Inside repeats: each repeat around it, outermost first, with the time round (from 1);
    /// asked only while its repeats want that many.
    levels: Vec<(&'q Group, usize)>,
    /// The times round alone: where in the repeats' answers it stands.
    instance: Vec<usize>,
    /// The name its answer is kept under: the question's, or `name[k]` inside a repeat.
    key: Cow<'q, str>,
}

/// The most times a repeat is asked, whatever its count says: a count past it is almost
/// always a slip of the keypad, and the questions would go on for the rest of the call.
pub const MAX_REPEATS: usize = 50;

/// Everything an interview is, as stored: with its questionnaire version, enough to
/// rebuild it exactly ([`Interview::restore`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Saved {
    /// The respondent's sample fields.
    pub sample: BTreeMap<String, Value>,
    /// The answers on the route (and computed values).
    pub answers: BTreeMap<String, Value>,
    /// Answers a change made unreachable.
    pub set_aside: BTreeMap<String, Value>,
    /// Option orders shown.
    pub orders: BTreeMap<String, Vec<String>>,
    /// Question names shown, in order.
    pub path: Vec<String>,
    /// The language.
    pub language: String,
    /// The interview's date.
    pub today: NaiveDate,
    /// The seed of its shuffles.
    pub seed: u64,
    /// Its state.
    pub state: State,
}

/// One interview.
#[derive(Debug, Clone)]
pub struct Interview<'q> {
    questionnaire: &'q Questionnaire,
    steps: Vec<Step<'q>>,
    /// How many times each repeat is laid out in `steps`, by the repeat's key (`trees`, or
    /// `stems[2]` inside the second tree): it only grows, so the answers of a time round a
    /// lowered count drops are set aside like any unreachable answer.
    times: BTreeMap<String, usize>,
    has_repeats: bool,
    sample: BTreeMap<String, Value>,
    answers: BTreeMap<String, Value>,
    set_aside: BTreeMap<String, Value>,
    /// Option orders shown, per question: stored with the interview, so it is reproducible.
    orders: BTreeMap<String, Vec<String>>,
    /// Step indices shown, in order; the last is the current one.
    path: Vec<usize>,
    language: String,
    today: NaiveDate,
    seed: u64,
    state: State,
}

/// The values an expression sees in an interview: answers first, then sample fields.
pub(crate) struct View<'a> {
    answers: &'a BTreeMap<String, Value>,
    sample: &'a BTreeMap<String, Value>,
    current: Value,
    choice: Option<&'a Choice>,
    today: NaiveDate,
    /// Inside repeats, the times round: names of the repeats' questions mean these times'.
    instance: &'a [usize],
}

impl<'a> View<'a> {
    /// The answers and sample fields of an interview on `today`, outside any question.
    pub(crate) fn of(
        answers: &'a BTreeMap<String, Value>,
        sample: &'a BTreeMap<String, Value>,
        today: NaiveDate,
    ) -> Self {
        View {
            answers,
            sample,
            current: Value::Empty,
            choice: None,
            today,
            instance: &[],
        }
    }
}

impl Values for View<'_> {
    fn value(&self, name: &str) -> Value {
        for depth in (1..=self.instance.len()).rev() {
            if let Some(v) = self.answers.get(instance_key(name, &self.instance[..depth]).as_ref()) {
                return v.clone();
            }
        }
        self.answers
            .get(name)
            .or_else(|| self.sample.get(name))
            .cloned()
            .unwrap_or(Value::Empty)
    }
    fn current(&self) -> Value {
        self.current.clone()
    }
    fn column(&self, name: &str) -> Value {
        match self.choice {
            Some(c) if name == "name" => Value::Text(c.name.clone()),
            Some(c) => c.fields.get(name).map_or(Value::Empty, |v| Value::Text(v.clone())),
            None => Value::Empty,
        }
    }
    fn today(&self) -> NaiveDate {
        self.today
    }
}

fn seeded(seed: u64, salt: &str) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ fnv1a(salt))
}

/// A stable hash of a name (FNV-1a), so shuffles depend only on the seed and the name.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Consecutive groups marked `rotate` take turns going first: interview `seed` starts the
/// run at block `seed mod n` (sequential seeds give each order equally often).
fn rotated<'q>(items: &[&'q Item], seed: u64) -> Vec<&'q Item> {
    let mut out = Vec::with_capacity(items.len());
    let mut i = 0;
    while i < items.len() {
        let rotates = |item: &Item| matches!(item, Item::Group(g) if g.rotate);
        if !rotates(items[i]) {
            out.push(items[i]);
            i += 1;
            continue;
        }
        let run_end = items[i..]
            .iter()
            .position(|item| !rotates(item))
            .map_or(items.len(), |n| i + n);
        let run = &items[i..run_end];
        let first = (seed % run.len() as u64) as usize;
        out.extend(run[first..].iter().chain(&run[..first]));
        i = run_end;
    }
    out
}

/// Whether `items` (or a group among them) hold the question `name`.
fn contains_question(items: &[Item], name: &str) -> bool {
    items.iter().any(|item| match item {
        Item::Question(q) => q.name == name,
        Item::Group(g) => contains_question(&g.items, name),
    })
}

/// The repeats around the question `name`, outermost first.
fn repeats_around<'q>(items: &'q [Item], name: &str) -> Vec<&'q Group> {
    for item in items {
        if let Item::Group(g) = item
            && contains_question(&g.items, name)
        {
            let mut out: Vec<&Group> = g.repeat.is_some().then_some(&**g).into_iter().collect();
            out.extend(repeats_around(&g.items, name));
            return out;
        }
    }
    Vec::new()
}

impl<'q> Interview<'q> {
    /// Starts an interview of `questionnaire` for a respondent with these sample fields, in
    /// `language`, on `today`; `seed` fixes its shuffles. Shows the first question.
    pub fn start(
        questionnaire: &'q Questionnaire,
        sample: BTreeMap<String, Value>,
        language: &str,
        today: NaiveDate,
        seed: u64,
    ) -> Self {
        let mut interview = Interview {
            questionnaire,
            steps: Vec::new(),
            times: BTreeMap::new(),
            has_repeats: questionnaire.groups().iter().any(|g| g.repeat.is_some()),
            sample,
            answers: BTreeMap::new(),
            set_aside: BTreeMap::new(),
            orders: BTreeMap::new(),
            path: Vec::new(),
            language: language.to_string(),
            today,
            seed,
            state: State::Asking,
        };
        interview.lay_out();
        interview.advance_from(0);
        interview
    }

    /// An interview read back from the store: the same questionnaire version, sample,
    /// language, date and seed it started with, and what it had reached.
    pub fn restore(questionnaire: &'q Questionnaire, saved: Saved) -> Result<Self, String> {
        let mut interview = Interview {
            questionnaire,
            steps: Vec::new(),
            times: BTreeMap::new(),
            has_repeats: questionnaire.groups().iter().any(|g| g.repeat.is_some()),
            sample: saved.sample,
            answers: saved.answers,
            set_aside: saved.set_aside,
            orders: saved.orders,
            path: Vec::new(),
            language: saved.language,
            today: saved.today,
            seed: saved.seed,
            state: saved.state,
        };
        // Each repeat is laid out as often as any stored key has reached, so every answer
        // and every question shown has its step again.
        let keys = saved
            .path
            .iter()
            .chain(interview.answers.keys())
            .chain(interview.set_aside.keys());
        for key in keys {
            let (name, instance) = split_key(key);
            if instance.is_empty() {
                continue;
            }
            let name = name
                .strip_suffix("_other")
                .filter(|base| questionnaire.question(base).is_some())
                .unwrap_or(name);
            let around = repeats_around(&questionnaire.items, name);
            if around.len() != instance.len() {
                continue;
            }
            for (depth, group) in around.iter().enumerate() {
                let at = interview
                    .times
                    .entry(instance_key(&group.name, &instance[..depth]).into_owned())
                    .or_default();
                *at = (*at).max(instance[depth]);
            }
        }
        interview.lay_out();
        interview.path = saved
            .path
            .iter()
            .map(|name| {
                interview
                    .position(name)
                    .ok_or_else(|| format!("the stored path names '{name}', which the questionnaire does not have"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(interview)
    }

    /// Lays the steps out, each repeat as many times as it has been or its count now asks
    /// for; the path stays on the same questions. Whether anything moved.
    fn lay_out(&mut self) -> bool {
        let mut times = self.times.clone();
        let mut steps = Vec::with_capacity(self.steps.len());
        let items: Vec<&'q Item> = self.questionnaire.items.iter().collect();
        self.flatten(&items, &[], &[], &mut times, &mut steps);
        if times == self.times && !self.steps.is_empty() {
            return false;
        }
        let keys: Vec<String> = self.path.iter().map(|&i| self.steps[i].key.to_string()).collect();
        self.steps = steps;
        self.times = times;
        self.path = keys
            .iter()
            .map(|k| self.position(k).expect("laying out more times round keeps every step"))
            .collect();
        true
    }

    /// After an answer: lays out more times round a repeat when its count now asks for them
    /// (they all come after the answer, since a count uses only what is asked before it).
    fn grow_repeats(&mut self) -> bool {
        self.has_repeats && self.lay_out()
    }

    /// The questions of `items` in asking order, a repeat's as many times over as
    /// `times` and its count say (`times` is raised to that).
    fn flatten(
        &self,
        items: &[&'q Item],
        conditions: &[&'q Expr],
        levels: &[(&'q Group, usize)],
        times: &mut BTreeMap<String, usize>,
        out: &mut Vec<Step<'q>>,
    ) {
        let instance: Vec<usize> = levels.iter().map(|(_, k)| *k).collect();
        for item in rotated(items, self.seed) {
            match item {
                Item::Question(q) => out.push(Step {
                    question: q,
                    conditions: conditions.to_vec(),
                    levels: levels.to_vec(),
                    instance: instance.clone(),
                    key: instance_key(&q.name, &instance),
                }),
                Item::Group(g) => {
                    let mut inner = conditions.to_vec();
                    inner.extend(g.relevant.iter());
                    let mut children: Vec<&Item> = g.items.iter().collect();
                    if g.shuffle {
                        children.shuffle(&mut seeded(self.seed, &g.name));
                    }
                    if g.repeat.is_none() {
                        self.flatten(&children, &inner, levels, times, out);
                        continue;
                    }
                    let key = instance_key(&g.name, &instance).into_owned();
                    let n = times
                        .get(&key)
                        .copied()
                        .unwrap_or(0)
                        .max(self.times_wanted(g, &instance));
                    times.insert(key, n);
                    for k in 1..=n {
                        let mut deeper = levels.to_vec();
                        deeper.push((g, k));
                        self.flatten(&children, &inner, &deeper, times, out);
                    }
                }
            }
        }
    }

    /// How many times round the repeat `group` asks for now, inside the times round `outer`
    /// of the repeats around it: its count, or one more than the "another?" answered yes.
    fn times_wanted(&self, group: &Group, outer: &[usize]) -> usize {
        let Some(repeat) = &group.repeat else { return 1 };
        let n = match (&repeat.count, &repeat.another) {
            (Some(count), _) => {
                let n = expr::eval(count, &self.view(Value::Empty, outer)).map_or(f64::NAN, |v| v.number());
                if n >= 1.0 {
                    n.floor().min(MAX_REPEATS as f64) as usize
                } else {
                    0
                }
            }
            (None, Some(another)) => {
                let mut instance = outer.to_vec();
                instance.push(1);
                let mut n = 1;
                while n < MAX_REPEATS {
                    *instance.last_mut().expect("pushed") = n;
                    let yes =
                        self.answers.get(instance_key(another, &instance).as_ref()) == Some(&Value::Text("yes".into()));
                    if !yes {
                        break;
                    }
                    n += 1;
                }
                n
            }
            (None, None) => 1,
        };
        n.min(MAX_REPEATS)
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.key == key)
    }

    /// What the store keeps of the interview now.
    pub fn saved(&self) -> Saved {
        Saved {
            sample: self.sample.clone(),
            answers: self.answers.clone(),
            set_aside: self.set_aside.clone(),
            orders: self.orders.clone(),
            path: self.path().iter().map(|s| s.to_string()).collect(),
            language: self.language.clone(),
            today: self.today,
            seed: self.seed,
            state: self.state.clone(),
        }
    }

    fn view<'v>(&'v self, current: Value, instance: &'v [usize]) -> View<'v> {
        View {
            answers: &self.answers,
            sample: &self.sample,
            current,
            choice: None,
            today: self.today,
            instance,
        }
    }

    fn holds(&self, e: &Expr, instance: &[usize]) -> bool {
        expr::eval(e, &self.view(Value::Empty, instance)).is_ok_and(|v| v.truth())
    }

    fn relevant(&self, step: &Step<'_>) -> bool {
        let k = &step.instance;
        step.levels
            .iter()
            .enumerate()
            .all(|(depth, (group, time))| *time <= self.times_wanted(group, &k[..depth]))
            && step.conditions.iter().all(|c| self.holds(c, k))
            && step.question.relevant.as_ref().is_none_or(|r| self.holds(r, k))
    }

    /// Moves to the first step from `from` on that is to be shown, computing calculations and
    /// setting aside the answers of skipped questions; ends the interview at an end point or
    /// after the last question.
    fn advance_from(&mut self, from: usize) {
        let mut i = from;
        while i < self.steps.len() {
            let step = self.steps[i].clone();
            i += 1;
            let name: &str = &step.key;
            let k: &[usize] = &step.instance;
            if !self.relevant(&step) {
                if let Some(v) = self.answers.remove(name) {
                    self.set_aside.insert(name.to_string(), v);
                }
                continue;
            }
            match &step.question.kind {
                Kind::Calculate { expr } => {
                    let value = expr::eval(expr, &self.view(Value::Empty, k)).unwrap_or(Value::Empty);
                    // Computed afresh: a value set aside earlier is stale.
                    self.set_aside.remove(name);
                    self.answers.insert(name.to_string(), value);
                    // A repeat's count may be computed; its times round come later.
                    if self.grow_repeats() {
                        i = self.position(name).expect("laying out keeps every step") + 1;
                    }
                }
                Kind::Metadata { of } => {
                    let value = match of.as_str() {
                        "today" | "start" => Value::Date(self.today),
                        _ => Value::Empty,
                    };
                    self.set_aside.remove(name);
                    self.answers.insert(name.to_string(), value);
                }
                Kind::End { outcome } => {
                    self.path.push(i - 1);
                    self.state = match outcome {
                        EndOutcome::ScreenedOut => State::ScreenedOut { at: name.to_string() },
                        EndOutcome::Terminated => State::Terminated {
                            reason: step.question.label.get(&self.language).unwrap_or(name).to_string(),
                        },
                        EndOutcome::Complete => State::Complete,
                    };
                    return;
                }
                _ => {
                    // An answer set aside earlier comes back when its question does.
                    if let Some(v) = self.set_aside.remove(name) {
                        self.answers.insert(name.to_string(), v);
                    }
                    self.path.push(i - 1);
                    self.order_options(i - 1);
                    return;
                }
            }
        }
        self.state = State::Complete;
    }

    fn order_options(&mut self, step: usize) {
        let question = self.steps[step].question;
        let key = self.steps[step].key.to_string();
        let Some(choices) = question.kind.choices() else { return };
        if self.orders.contains_key(&key) {
            return;
        }
        let mut names: Vec<String> = choices.options.iter().map(|o| o.name.clone()).collect();
        if choices.shuffle {
            // "None of these" and "other" stay last, where interviewers expect them.
            let fixed = |n: &String| n == "other" || choices.options.iter().any(|o| &o.name == n && o.exclusive);
            let (mut moving, last): (Vec<String>, Vec<String>) = names.into_iter().partition(|n| !fixed(n));
            moving.shuffle(&mut seeded(self.seed, &key));
            moving.extend(last);
            names = moving;
        }
        self.orders.insert(key, names);
    }

    /// The interview's state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The answers given (and computed) and still on the route.
    pub fn answers(&self) -> &BTreeMap<String, Value> {
        &self.answers
    }

    /// Answers given to questions a later change made unreachable.
    pub fn set_aside(&self) -> &BTreeMap<String, Value> {
        &self.set_aside
    }

    /// The names of the questions shown, in order.
    pub fn path(&self) -> Vec<&str> {
        self.path.iter().map(|&i| self.steps[i].key.as_ref()).collect()
    }

    /// The option orders shown, per question.
    pub fn orders(&self) -> &BTreeMap<String, Vec<String>> {
        &self.orders
    }

    /// Switches the language texts are shown in.
    pub fn set_language(&mut self, language: &str) {
        self.language = language.to_string();
    }

    fn current_step(&self) -> Option<&Step<'q>> {
        match self.state {
            State::Asking | State::Suspended => self.path.last().map(|&i| &self.steps[i]),
            _ => None,
        }
    }

    fn text(&self, text: &Text, instance: &[usize]) -> String {
        let view = self.view(Value::Empty, instance);
        let all = || {
            let mut all = self.sample.clone();
            all.extend(self.answers.iter().map(|(k, v)| (k.clone(), v.clone())));
            // Inside repeats, templates name these times' answers plainly.
            if !instance.is_empty() {
                let mut here: Vec<(usize, &str, &Value)> = self
                    .answers
                    .iter()
                    .filter_map(|(key, v)| {
                        let (name, at) = split_key(key);
                        (!at.is_empty() && instance.starts_with(&at)).then_some((at.len(), name, v))
                    })
                    .collect();
                here.sort_by_key(|(depth, _, _)| *depth);
                for (_, name, v) in here {
                    all.insert(name.to_string(), v.clone());
                }
            }
            all
        };
        crate::template::render(text.get(&self.language).unwrap_or(""), &|name| view.value(name), &all)
    }

    /// The question on screen, or none when the interview has ended.
    pub fn current(&self) -> Option<Shown> {
        let step = self.current_step()?;
        let q = step.question;
        let k: &[usize] = &step.instance;
        let options = match (q.kind.choices(), self.orders.get(step.key.as_ref())) {
            (Some(choices), Some(order)) => order
                .iter()
                .filter_map(|name| choices.options.iter().find(|o| &o.name == name))
                .filter(|o| self.offered(q, o, k))
                .map(|o| (o.name.clone(), self.text(&o.label, k)))
                .collect(),
            _ => match &q.kind {
                Kind::Grid { scale, .. } => scale.iter().map(|o| (o.name.clone(), self.text(&o.label, k))).collect(),
                _ => Vec::new(),
            },
        };
        Some(Shown {
            name: step.key.to_string(),
            question: q.name.clone(),
            repeat: k.to_vec(),
            kind: q.kind.type_name(),
            text: self.text(&q.label, k),
            hint: q.hint.as_ref().map(|h| self.text(h, k)),
            options,
            required: self.required(q, k),
            answer: self.answers.get(step.key.as_ref()).cloned(),
            progress: self.progress(),
        })
    }

    fn offered(&self, q: &Question, option: &Choice, instance: &[usize]) -> bool {
        let Some(filter) = q.kind.choices().and_then(|c| c.filter.as_ref()) else {
            return true;
        };
        let view = View {
            choice: Some(option),
            ..self.view(Value::Empty, instance)
        };
        expr::eval(filter, &view).is_ok_and(|v| v.truth())
    }

    fn required(&self, q: &Question, instance: &[usize]) -> bool {
        q.required || q.required_when.as_ref().is_some_and(|r| self.holds(r, instance))
    }

    /// The share of the expected route done: questions shown before this one over those and
    /// the ones still ahead that the answers so far make relevant.
    pub fn progress(&self) -> f64 {
        let Some(&at) = self.path.last() else { return 1.0 };
        if !matches!(self.state, State::Asking | State::Suspended) {
            return 1.0;
        }
        let asked = |s: &Step<'_>| !matches!(s.question.kind, Kind::Calculate { .. } | Kind::Metadata { .. });
        let done = self.path.len() - 1;
        let ahead = self.steps[at..].iter().filter(|s| asked(s) && self.relevant(s)).count();
        done as f64 / (done + ahead).max(1) as f64
    }

    /// Validates and records the answer to the question on screen, then moves to the next
    /// question. A refused answer changes nothing.
    pub fn answer(&mut self, value: Value) -> Result<(), Refused> {
        self.answer_other(value, None)
    }

    /// As [`Interview::answer`], with the text of "other, specify" when the answer picks the
    /// option `other` of a question that takes one; the text is stored as the answer to
    /// `NAME_other` (as XLSForm names it), and expressions and texts may use it.
    pub fn answer_other(&mut self, value: Value, other: Option<&str>) -> Result<(), Refused> {
        let Some(step) = self.current_step().cloned() else {
            return Err(Refused {
                question: String::new(),
                message: "the interview has ended".into(),
            });
        };
        let q = step.question;
        let k: &[usize] = &step.instance;
        let key = step.key.to_string();
        let refuse = |message: String| Refused {
            question: key.clone(),
            message,
        };
        let empty = matches!(&value, Value::Empty)
            || matches!(&value, Value::Text(s) if s.trim().is_empty())
            || matches!(&value, Value::List(l) if l.is_empty());
        let picks_other = q.kind.choices().is_some_and(|c| c.other) && value.items_contain("other");
        if empty {
            if self.required(q, k) {
                let message = q
                    .required_message
                    .as_ref()
                    .map(|m| self.text(m, k))
                    .unwrap_or_else(|| "an answer is required".into());
                return Err(refuse(message));
            }
        } else {
            let offered: Vec<&Choice> = q
                .kind
                .choices()
                .map(|c| c.options.iter().filter(|o| self.offered(q, o, k)).collect())
                .unwrap_or_default();
            answer::validate(q, &value, &offered).map_err(refuse)?;
            if picks_other && other.is_none_or(|t| t.trim().is_empty()) {
                return Err(refuse("'other' was picked: say what it is".into()));
            }
            if let Some(constraint) = &q.constraint {
                let holds = expr::eval(constraint, &self.view(value.clone(), k)).is_ok_and(|v| v.truth());
                if !holds {
                    let message = q
                        .constraint_message
                        .as_ref()
                        .map(|m| self.text(m, k))
                        .unwrap_or_else(|| format!("the answer does not meet the condition `{constraint}`"));
                    return Err(refuse(message));
                }
            }
        }
        let other_name = instance_key(&format!("{}_other", q.name), k).into_owned();
        match other {
            Some(text) if picks_other => {
                self.answers.insert(other_name, Value::Text(text.trim().to_string()));
            }
            _ => {
                self.answers.remove(&other_name);
            }
        }
        if empty {
            self.answers.remove(&key);
        } else {
            self.answers.insert(key, value);
        }
        self.state = State::Asking;
        // The answer may be a repeat's count: its times round come after this question.
        self.grow_repeats();
        let at = *self.path.last().expect("a question is on screen");
        // Questions after this one are routed afresh: shown ones drop off the path.
        self.advance_from(at + 1);
        Ok(())
    }

    /// Goes back to the question shown before this one; answers are kept.
    pub fn back(&mut self) -> bool {
        let on_end_point = self
            .path
            .last()
            .is_some_and(|&i| matches!(self.steps[i].question.kind, Kind::End { .. }));
        match self.state {
            State::Asking | State::Suspended if self.path.len() < 2 => return false,
            State::Asking | State::Suspended => {
                self.path.pop();
            }
            // Ended at an end point: back to the question that led there.
            _ if on_end_point => {
                self.path.pop();
            }
            // Complete, or terminated by the interviewer: back to the last question shown.
            _ => {}
        }
        self.state = State::Asking;
        !self.path.is_empty()
    }

    /// Jumps back to an earlier question of the path (interviewer navigation); answers kept.
    pub fn jump_to(&mut self, name: &str) -> Result<(), Refused> {
        let Some(pos) = self.path.iter().position(|&i| self.steps[i].key == name) else {
            return Err(Refused {
                question: name.to_string(),
                message: "only a question already shown can be jumped to".into(),
            });
        };
        self.path.truncate(pos + 1);
        self.state = State::Asking;
        Ok(())
    }

    /// Suspends the interview (a callback): it resumes at the same question.
    pub fn suspend(&mut self) {
        if self.state == State::Asking {
            self.state = State::Suspended;
        }
    }

    /// Resumes a suspended interview.
    pub fn resume(&mut self) {
        if self.state == State::Suspended {
            self.state = State::Asking;
        }
    }

    /// Ends the interview as screened out because its quota cell is full (the caller asks the
    /// quota book after each answer).
    pub fn screen_out(&mut self, cell: &str) {
        self.state = State::ScreenedOut {
            at: format!("quota {cell}"),
        };
    }

    /// Ends the interview for a reason (the respondent broke off, the line dropped for good).
    pub fn terminate(&mut self, reason: &str) {
        self.state = State::Terminated {
            reason: reason.to_string(),
        };
    }

    /// The respondent's sample fields.
    pub fn sample(&self) -> &BTreeMap<String, Value> {
        &self.sample
    }

    /// The interview's date, for `today()`.
    pub fn today(&self) -> NaiveDate {
        self.today
    }
}
