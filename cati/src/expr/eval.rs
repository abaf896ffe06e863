//! Evaluating an expression with XPath's meaning, as ODK does: an unanswered question is
//! empty text, comparisons with a number compare numbers (an empty or non-numeric side is
//! never equal and never ordered), `and` and `or` take any value as true when it is a
//! non-zero number or non-empty text.

use chrono::NaiveDate;

use super::parse::{Expr, Op};

/// A value an expression works on.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Unanswered, not asked, or missing.
    Empty,
    /// True or false.
    Bool(bool),
    /// A number.
    Number(f64),
    /// Text, and the answer to a single-choice question (the option's name).
    Text(String),
    /// A calendar date.
    Date(NaiveDate),
    /// The answer to a multiple-choice question: the option names picked, in order.
    List(Vec<String>),
}

impl Value {
    /// The value as a number (days since 1970-01-01 for a date); NaN when it is none.
    pub fn number(&self) -> f64 {
        match self {
            Value::Empty => f64::NAN,
            Value::Bool(b) => f64::from(u8::from(*b)),
            Value::Number(n) => *n,
            Value::Text(s) => s.trim().parse().unwrap_or(f64::NAN),
            Value::Date(d) => epoch_days(*d),
            Value::List(_) => f64::NAN,
        }
    }

    /// The value as text (a multiple choice: its names separated by spaces, as in ODK).
    pub fn text(&self) -> String {
        match self {
            Value::Empty => String::new(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => number_text(*n),
            Value::Text(s) => s.clone(),
            Value::Date(d) => d.format("%Y-%m-%d").to_string(),
            Value::List(items) => items.join(" "),
        }
    }

    /// The value as true or false.
    pub fn truth(&self) -> bool {
        match self {
            Value::Empty => false,
            Value::Bool(b) => *b,
            Value::Number(n) => *n != 0.0 && !n.is_nan(),
            Value::Text(s) => !s.is_empty(),
            Value::Date(_) => true,
            Value::List(items) => !items.is_empty(),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Value::Empty => true,
            Value::Text(s) => s.is_empty(),
            Value::List(items) => items.is_empty(),
            _ => false,
        }
    }

    fn date(&self) -> Option<NaiveDate> {
        match self {
            Value::Date(d) => Some(*d),
            Value::Text(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok(),
            _ => None,
        }
    }

    fn items(&self) -> Vec<String> {
        match self {
            Value::List(items) => items.clone(),
            Value::Empty => Vec::new(),
            other => other.text().split_whitespace().map(str::to_string).collect(),
        }
    }
}

/// A value in JSON: empty as null, a whole number without a fraction, a date as YYYY-MM-DD,
/// a multiple choice as a list.
impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Empty => serializer.serialize_none(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Number(n) if n.fract() == 0.0 && n.abs() < 9e15 => serializer.serialize_i64(*n as i64),
            Value::Number(n) => serializer.serialize_f64(*n),
            Value::Text(s) => serializer.serialize_str(s),
            Value::Date(_) => serializer.serialize_str(&self.text()),
            Value::List(items) => items.serialize(serializer),
        }
    }
}

impl Value {
    /// Whether the value is, or (for a multiple choice) contains, the option `name`.
    pub fn items_contain(&self, name: &str) -> bool {
        match self {
            Value::List(items) => items.iter().any(|i| i == name),
            Value::Text(s) => s == name,
            _ => false,
        }
    }

    /// A value from its JSON form (see the `Serialize` impl); a date comes back as text, which
    /// compares and computes as the date it writes.
    pub fn from_json(json: &serde_json::Value) -> Value {
        use serde_json::Value as J;
        match json {
            J::Null => Value::Empty,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
            J::String(s) => Value::Text(s.clone()),
            J::Array(items) => Value::List(
                items
                    .iter()
                    .map(|i| match i {
                        J::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect(),
            ),
            J::Object(_) => Value::Text(json.to_string()),
        }
    }
}

fn epoch_days(d: NaiveDate) -> f64 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");
    (d - epoch).num_days() as f64
}

/// A number as ODK shows it: integers without a decimal point.
pub fn number_text(n: f64) -> String {
    if n.is_nan() {
        "NaN".into()
    } else if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// What an expression's names have as values when it is evaluated.
pub trait Values {
    /// The value of `${name}`.
    fn value(&self, name: &str) -> Value;
    /// The value of `.`: the answer being checked.
    fn current(&self) -> Value {
        Value::Empty
    }
    /// The value of a bare column name: the choice being filtered.
    fn column(&self, _name: &str) -> Value {
        Value::Empty
    }
    /// Today, in the respondent's or the campaign's time zone.
    fn today(&self) -> NaiveDate;
}

/// An evaluation that cannot give a value (a regex that does not compile).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EvalError(pub String);

/// Evaluates `expr` with the values `values` gives.
pub fn eval(expr: &Expr, values: &dyn Values) -> Result<Value, EvalError> {
    Ok(match expr {
        Expr::Number(n) => Value::Number(*n),
        Expr::Text(s) => Value::Text(s.clone()),
        Expr::Ref(name) => values.value(name),
        Expr::Current => values.current(),
        Expr::Column(name) => values.column(name),
        Expr::Neg(inner) => Value::Number(-eval(inner, values)?.number()),
        Expr::Binary(Op::Or, a, b) => Value::Bool(eval(a, values)?.truth() || eval(b, values)?.truth()),
        Expr::Binary(Op::And, a, b) => Value::Bool(eval(a, values)?.truth() && eval(b, values)?.truth()),
        Expr::Binary(op, a, b) => binary(*op, &eval(a, values)?, &eval(b, values)?),
        Expr::Call(name, args) => call(name, args, values)?,
    })
}

fn binary(op: Op, a: &Value, b: &Value) -> Value {
    let (x, y) = (a.number(), b.number());
    match op {
        Op::Add => Value::Number(x + y),
        Op::Sub => Value::Number(x - y),
        Op::Mul => Value::Number(x * y),
        Op::Div => Value::Number(x / y),
        Op::Mod => Value::Number(x % y),
        Op::Eq | Op::Ne => {
            let equal = equal(a, b);
            Value::Bool(if op == Op::Eq { equal } else { !equal })
        }
        Op::Lt | Op::Le | Op::Gt | Op::Ge => {
            let (x, y) = match (a.date(), b.date()) {
                (Some(d), Some(e)) => (epoch_days(d), epoch_days(e)),
                _ => (x, y),
            };
            Value::Bool(match op {
                Op::Lt => x < y,
                Op::Le => x <= y,
                Op::Gt => x > y,
                _ => x >= y,
            })
        }
        Op::Or | Op::And => unreachable!("evaluated lazily above"),
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Bool(x), other) | (other, Value::Bool(x)) => *x == other.truth(),
        (Value::Number(_), other) | (other, Value::Number(_)) if !other.is_empty() => a.number() == b.number(),
        (Value::Number(_), _) | (_, Value::Number(_)) => false,
        (Value::Date(_), _) | (_, Value::Date(_)) => a.date().is_some() && a.date() == b.date(),
        _ => a.text() == b.text(),
    }
}

fn call(name: &str, args: &[Expr], values: &dyn Values) -> Result<Value, EvalError> {
    let arg = |i: usize| eval(&args[i], values);
    let num = |i: usize| -> Result<f64, EvalError> { Ok(arg(i)?.number()) };
    let math = |f: fn(f64) -> f64| -> Result<Value, EvalError> { Ok(Value::Number(f(num(0)?))) };
    Ok(match name {
        "selected" => {
            let option = arg(1)?.text();
            Value::Bool(arg(0)?.items().contains(&option))
        }
        "count-selected" => Value::Number(arg(0)?.items().len() as f64),
        "selected-at" => {
            let i = num(1)?;
            let items = arg(0)?.items();
            if i >= 0.0 && (i as usize) < items.len() {
                Value::Text(items[i as usize].clone())
            } else {
                Value::Empty
            }
        }
        "if" => {
            if arg(0)?.truth() {
                arg(1)?
            } else {
                arg(2)?
            }
        }
        "coalesce" => {
            let first = arg(0)?;
            if first.is_empty() { arg(1)? } else { first }
        }
        "once" => arg(0)?,
        "string-length" => Value::Number(arg(0)?.text().chars().count() as f64),
        "today" => Value::Date(values.today()),
        "regex" => {
            let pattern = arg(1)?.text();
            let re = regex::Regex::new(&pattern)
                .map_err(|e| EvalError(format!("regex(): '{pattern}' is not a regular expression: {e}")))?;
            Value::Bool(re.is_match(&arg(0)?.text()))
        }
        "not" => Value::Bool(!arg(0)?.truth()),
        "boolean" => Value::Bool(arg(0)?.truth()),
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "concat" => {
            let mut out = String::new();
            for i in 0..args.len() {
                out.push_str(&arg(i)?.text());
            }
            Value::Text(out)
        }
        "string" => Value::Text(arg(0)?.text()),
        "number" => Value::Number(num(0)?),
        "int" => math(f64::trunc)?,
        "round" => {
            let x = num(0)?;
            let digits = if args.len() > 1 { num(1)? } else { 0.0 };
            let scale = 10f64.powi(digits as i32);
            // XPath rounds halves up, towards positive infinity.
            Value::Number((x * scale + 0.5).floor() / scale)
        }
        "contains" => Value::Bool(arg(0)?.text().contains(&arg(1)?.text())),
        "starts-with" => Value::Bool(arg(0)?.text().starts_with(&arg(1)?.text())),
        "ends-with" => Value::Bool(arg(0)?.text().ends_with(&arg(1)?.text())),
        "substr" => {
            let text: Vec<char> = arg(0)?.text().chars().collect();
            let start = (num(1)?.max(0.0) as usize).min(text.len());
            let end = if args.len() > 2 {
                (num(2)?.max(0.0) as usize).clamp(start, text.len())
            } else {
                text.len()
            };
            Value::Text(text[start..end].iter().collect())
        }
        "date" => {
            let v = arg(0)?;
            match v.date() {
                Some(d) => Value::Date(d),
                None if !v.number().is_nan() => {
                    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");
                    epoch
                        .checked_add_signed(chrono::Duration::days(v.number() as i64))
                        .map_or(Value::Empty, Value::Date)
                }
                None => Value::Empty,
            }
        }
        "format-date" => match arg(0)?.date() {
            Some(d) => Value::Text(format_date(d, &arg(1)?.text())),
            None => Value::Empty,
        },
        "min" | "max" => {
            let mut best: Option<f64> = None;
            for i in 0..args.len() {
                let x = num(i)?;
                best = Some(match best {
                    None => x,
                    Some(b) if name == "min" => b.min(x),
                    Some(b) => b.max(x),
                });
            }
            Value::Number(best.unwrap_or(f64::NAN))
        }
        "abs" => math(f64::abs)?,
        "pow" => Value::Number(num(0)?.powf(num(1)?)),
        "sqrt" => math(f64::sqrt)?,
        "exp" => math(f64::exp)?,
        "log" => math(f64::ln)?,
        "sin" => math(f64::sin)?,
        "cos" => math(f64::cos)?,
        "tan" => math(f64::tan)?,
        "asin" => math(f64::asin)?,
        "acos" => math(f64::acos)?,
        "atan" => math(f64::atan)?,
        "pi" => Value::Number(std::f64::consts::PI),
        other => return Err(EvalError(format!("unknown function {other}()"))),
    })
}

/// ODK's `format-date` patterns: %Y, %y, %m, %n, %b, %d, %e, %a.
fn format_date(d: NaiveDate, pattern: &str) -> String {
    let mut out = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let spec = match chars.next() {
            Some('Y') => "%Y",
            Some('y') => "%y",
            Some('m') => "%m",
            Some('n') => "%-m",
            Some('b') => "%b",
            Some('d') => "%d",
            Some('e') => "%-d",
            Some('a') => "%a",
            Some(other) => {
                out.push('%');
                out.push(other);
                continue;
            }
            None => {
                out.push('%');
                break;
            }
        };
        out.push_str(&d.format(spec).to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::parse::parse;
    use super::*;

    struct Answers;

    impl Values for Answers {
        fn value(&self, name: &str) -> Value {
            match name {
                "age" => Value::Number(34.0),
                "consent" => Value::Text("yes".into()),
                "topics" => Value::List(vec!["health".into(), "other".into()]),
                "dob" => Value::Date(NaiveDate::from_ymd_opt(1992, 5, 17).unwrap()),
                "slope" => Value::Number(20.0),
                _ => Value::Empty,
            }
        }
        fn current(&self) -> Value {
            Value::Number(7.0)
        }
        fn today(&self) -> NaiveDate {
            NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
        }
    }

    fn run(source: &str) -> Value {
        eval(&parse(source).unwrap(), &Answers).unwrap()
    }

    #[test]
    fn values_are_odks() {
        for (source, want) in [
            ("${age} >= 18 and ${consent} = 'yes'", Value::Bool(true)),
            ("selected(${topics}, 'other')", Value::Bool(true)),
            ("selected(${topics}, 'sport')", Value::Bool(false)),
            ("count-selected(${topics})", Value::Number(2.0)),
            ("selected-at(${topics}, 1)", Value::Text("other".into())),
            // Unanswered: empty text, never equal to a number, never ordered.
            ("${missing} = ''", Value::Bool(true)),
            ("${missing} > 3", Value::Bool(false)),
            ("${missing} = 0", Value::Bool(false)),
            ("${missing} != 0", Value::Bool(true)),
            ("coalesce(${missing}, 'n/a')", Value::Text("n/a".into())),
            ("count-selected(${missing})", Value::Number(0.0)),
            ("${age} = '34'", Value::Bool(true)),
            (". < 10", Value::Bool(true)),
            ("if(${age} > 65, 'senior', 'adult')", Value::Text("adult".into())),
            (
                "round(15 div (sqrt(cos(atan(${slope} div 100)))),2)",
                Value::Number(15.15),
            ),
            ("round(2.5)", Value::Number(3.0)),
            ("7 mod 3 + 10 div 4", Value::Number(3.5)),
            ("int(-2.7)", Value::Number(-2.0)),
            ("string-length('héllo')", Value::Number(5.0)),
            ("regex('AB-1234', '^[A-Z]{2}-[0-9]{4}$')", Value::Bool(true)),
            ("concat(${consent}, '-', ${age})", Value::Text("yes-34".into())),
            ("today() - ${dob} > 365 * 18", Value::Bool(true)),
            ("${dob} < '2000-01-01'", Value::Bool(true)),
            ("format-date(${dob}, '%e/%n/%Y')", Value::Text("17/5/1992".into())),
            ("not(${consent} = 'no')", Value::Bool(true)),
            ("-${age} + 4", Value::Number(-30.0)),
            ("substr('interview', 2, 5)", Value::Text("ter".into())),
            ("max(3, ${age}, 12)", Value::Number(34.0)),
        ] {
            assert_eq!(run(source), want, "{source}");
        }
    }

    #[test]
    fn a_bad_regex_is_an_error_not_a_panic() {
        let e = eval(&parse("regex('x', '[')").unwrap(), &Answers).unwrap_err();
        assert!(e.0.starts_with("regex(): '[' is not a regular expression"), "{e}");
    }
}
