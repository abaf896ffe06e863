//! Checking an expression when its questionnaire is loaded: every name known and answered
//! before the expression is evaluated, every function known with the right number of
//! arguments, every operator used on values it means something for, every option named in a
//! comparison an option of its question.

use super::parse::{Expr, Op};

/// The type of a value in an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// Integers and decimals.
    Number,
    /// Free text.
    Text,
    /// True or false.
    Bool,
    /// A calendar date.
    Date,
    /// A time of day.
    Time,
    /// The answer to a single-choice question: one option's name.
    Choice,
    /// The answer to a multiple-choice question: option names.
    Choices,
    /// Not known when loading (a sample field without a type, a branch of `if`).
    Any,
}

impl Type {
    /// The type as a reader says it.
    pub fn describe(self) -> &'static str {
        match self {
            Type::Number => "a number",
            Type::Text => "text",
            Type::Bool => "true or false",
            Type::Date => "a date",
            Type::Time => "a time",
            Type::Choice => "a single choice",
            Type::Choices => "a multiple choice",
            Type::Any => "a value",
        }
    }
}

/// What the names in an expression refer to, where it is checked.
pub trait Scope {
    /// The type of `${name}`, or why the name may not be used here (unknown, or answered only
    /// after this expression is evaluated).
    fn reference(&self, name: &str) -> Result<Type, String>;
    /// The type of `.`, when the expression checks an answer (a constraint).
    fn current(&self) -> Option<Type> {
        None
    }
    /// The option names of `${name}` when it is a choice question.
    fn options(&self, _name: &str) -> Option<Vec<String>> {
        None
    }
    /// The type of a bare column name, when the expression filters choices.
    fn column(&self, _name: &str) -> Option<Type> {
        None
    }
    /// What to do when an expression compares a choice question with a value that is not one
    /// of its options: refuse it (the default), or note it and go on (`Ok`).
    fn unknown_option(&self, message: String) -> Result<(), String> {
        Err(message)
    }
}

/// Why an expression cannot be used where it stands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CheckError(pub String);

fn fail<T>(message: impl Into<String>) -> Result<T, CheckError> {
    Err(CheckError(message.into()))
}

fn what(e: &Expr) -> String {
    match e {
        Expr::Text(s) => format!("'{s}'"),
        other => format!("`{other}`"),
    }
}

fn numeric_text(e: &Expr) -> bool {
    matches!(e, Expr::Text(s) if s.trim().parse::<f64>().is_ok())
}

fn date_text(e: &Expr) -> bool {
    matches!(e, Expr::Text(s) if chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").is_ok())
}

/// Checks `expr` in `scope` and returns the type of its value.
pub fn check(expr: &Expr, scope: &dyn Scope) -> Result<Type, CheckError> {
    match expr {
        Expr::Number(_) => Ok(Type::Number),
        Expr::Text(_) => Ok(Type::Text),
        Expr::Ref(name) => scope.reference(name).map_err(CheckError),
        Expr::Current => match scope.current() {
            Some(t) => Ok(t),
            None => fail("`.` (the answer being checked) means something only in a constraint"),
        },
        Expr::Column(name) => match scope.column(name) {
            Some(t) => Ok(t),
            None => fail(format!(
                "'{name}' is neither a function call nor a ${{reference}}; a question is written ${{{name}}}"
            )),
        },
        Expr::Neg(inner) => {
            arithmetic_operand("-", inner, check(inner, scope)?)?;
            Ok(Type::Number)
        }
        Expr::Binary(op, a, b) => {
            let (ta, tb) = (check(a, scope)?, check(b, scope)?);
            binary(*op, a, ta, b, tb, scope)
        }
        Expr::Call(name, args) => {
            let types = args.iter().map(|a| check(a, scope)).collect::<Result<Vec<_>, _>>()?;
            call(name, args, &types, scope)
        }
    }
}

fn arithmetic_operand(op: &str, e: &Expr, t: Type) -> Result<(), CheckError> {
    match t {
        Type::Number | Type::Date | Type::Choice | Type::Bool | Type::Any => Ok(()),
        Type::Text if numeric_text(e) || !matches!(e, Expr::Text(_) | Expr::Ref(_)) => Ok(()),
        _ => fail(format!(
            "'{op}' takes numbers or dates, and {} is {}",
            what(e),
            t.describe()
        )),
    }
}

fn binary(op: Op, a: &Expr, ta: Type, b: &Expr, tb: Type, scope: &dyn Scope) -> Result<Type, CheckError> {
    use Type::*;
    match op {
        Op::Or | Op::And => Ok(Bool),
        Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Mod => {
            arithmetic_operand(op.as_str(), a, ta)?;
            arithmetic_operand(op.as_str(), b, tb)?;
            Ok(Number)
        }
        Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge => {
            let ordering = !matches!(op, Op::Eq | Op::Ne);
            for (x, tx, y, ty) in [(a, ta, b, tb), (b, tb, a, ta)] {
                // A number against text that is not a number: never equal, never ordered.
                if tx == Number && ty == Text && matches!(y, Expr::Text(_)) && !numeric_text(y) {
                    return fail(format!(
                        "'{}' compares {} with the text {}, which is not a number",
                        op.as_str(),
                        what(x),
                        what(y)
                    ));
                }
                if tx == Date && ty == Text && matches!(y, Expr::Text(_)) && !date_text(y) {
                    return fail(format!(
                        "'{}' compares the date {} with {}, which is not a date written YYYY-MM-DD",
                        op.as_str(),
                        what(x),
                        what(y)
                    ));
                }
                if tx == Choices && !ordering && matches!(y, Expr::Text(_)) {
                    return fail(format!(
                        "{} is a multiple choice: to ask whether {} was picked, write selected({x}, {y})",
                        what(x),
                        what(y)
                    ));
                }
                if ordering && matches!(tx, Text | Choices | Bool) && !numeric_text(x) && !(tx == Text && date_text(x))
                {
                    return fail(format!(
                        "'{}' orders numbers, dates and times, and {} is {}",
                        op.as_str(),
                        what(x),
                        tx.describe()
                    ));
                }
                // A single choice against a literal: the literal must be one of its options.
                if let (Expr::Ref(name), Expr::Text(option)) = (x, y)
                    && tx == Choice
                {
                    check_option(scope, name, option)?;
                }
            }
            Ok(Bool)
        }
    }
}

fn check_option(scope: &dyn Scope, question: &str, option: &str) -> Result<(), CheckError> {
    // `''` asks whether the question is answered at all.
    if let Some(options) = scope.options(question)
        && !option.is_empty()
        && !options.iter().any(|o| o == option)
    {
        let message = format!(
            "'{option}' is not an option of ${{{question}}} (its options: {})",
            options.join(", ")
        );
        return scope.unknown_option(message).map_err(CheckError);
    }
    Ok(())
}

/// The functions expressions may call: name, fewest and most arguments.
pub const FUNCTIONS: &[(&str, usize, usize)] = &[
    ("selected", 2, 2),
    ("count-selected", 1, 1),
    ("selected-at", 2, 2),
    ("if", 3, 3),
    ("coalesce", 2, 2),
    ("string-length", 1, 1),
    ("today", 0, 0),
    ("regex", 2, 2),
    ("not", 1, 1),
    ("true", 0, 0),
    ("false", 0, 0),
    ("concat", 1, usize::MAX),
    ("number", 1, 1),
    ("int", 1, 1),
    ("round", 1, 2),
    ("string", 1, 1),
    ("contains", 2, 2),
    ("starts-with", 2, 2),
    ("ends-with", 2, 2),
    ("substr", 2, 3),
    ("date", 1, 1),
    ("min", 1, usize::MAX),
    ("max", 1, usize::MAX),
    ("abs", 1, 1),
    ("pow", 2, 2),
    ("sqrt", 1, 1),
    ("exp", 1, 1),
    ("log", 1, 1),
    ("sin", 1, 1),
    ("cos", 1, 1),
    ("tan", 1, 1),
    ("asin", 1, 1),
    ("acos", 1, 1),
    ("atan", 1, 1),
    ("pi", 0, 0),
    ("once", 1, 1),
    ("boolean", 1, 1),
    ("format-date", 2, 2),
];

fn call(name: &str, args: &[Expr], types: &[Type], scope: &dyn Scope) -> Result<Type, CheckError> {
    use Type::*;
    let Some(&(_, least, most)) = FUNCTIONS.iter().find(|(f, ..)| *f == name) else {
        return fail(format!("unknown function {name}()"));
    };
    let n = args.len();
    if n < least || n > most {
        let takes = match (least, most) {
            (l, m) if l == m => format!("{l}"),
            (l, usize::MAX) => format!("at least {l}"),
            (l, m) => format!("{l} to {m}"),
        };
        let plural = if most == 1 && least == 1 {
            "argument"
        } else {
            "arguments"
        };
        return fail(format!("{name}() takes {takes} {plural}, not {n}"));
    }
    let choice_question = |i: usize, multiple: bool| -> Result<(), CheckError> {
        let ok = match types[i] {
            Choices | Any => true,
            Choice | Text => !multiple,
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            let wanted = if multiple {
                "a multiple-choice question"
            } else {
                "a choice question"
            };
            fail(format!(
                "{name}() takes {wanted}, and {} is {}",
                what(&args[i]),
                types[i].describe()
            ))
        }
    };
    let numeric = |i: usize| arithmetic_operand(&format!("{name}()"), &args[i], types[i]);
    Ok(match name {
        "selected" => {
            choice_question(0, false)?;
            if let (Expr::Ref(q), Expr::Text(option)) = (&args[0], &args[1]) {
                check_option(scope, q, option)?;
            }
            Bool
        }
        "count-selected" => {
            choice_question(0, true)?;
            Number
        }
        "selected-at" => {
            choice_question(0, true)?;
            numeric(1)?;
            Choice
        }
        "if" => unify(types[1], types[2]),
        "coalesce" => unify(types[0], types[1]),
        "once" => types[0],
        "string-length" => Number,
        "today" => Date,
        "regex" | "not" | "true" | "false" | "contains" | "starts-with" | "ends-with" | "boolean" => Bool,
        "concat" | "string" | "substr" | "format-date" => Text,
        "date" => Date,
        _ => {
            // Numeric functions: number(), int(), round(), min(), max(), abs(), pow(), sqrt()...
            if name != "number" {
                for i in 0..n {
                    numeric(i)?;
                }
            }
            Number
        }
    })
}

fn unify(a: Type, b: Type) -> Type {
    if a == b { a } else { Type::Any }
}

#[cfg(test)]
mod tests {
    use super::super::parse::parse;
    use super::*;

    struct Form;

    impl Scope for Form {
        fn reference(&self, name: &str) -> Result<Type, String> {
            match name {
                "age" => Ok(Type::Number),
                "consent" => Ok(Type::Choice),
                "topics" => Ok(Type::Choices),
                "name" => Ok(Type::Text),
                "dob" => Ok(Type::Date),
                "later" => Err("${later} is asked after this question".into()),
                _ => Err(format!("unknown name ${{{name}}}")),
            }
        }
        fn current(&self) -> Option<Type> {
            Some(Type::Number)
        }
        fn options(&self, name: &str) -> Option<Vec<String>> {
            match name {
                "consent" => Some(vec!["yes".into(), "no".into()]),
                "topics" => Some(vec!["health".into(), "other".into()]),
                _ => None,
            }
        }
    }

    fn check_str(source: &str) -> Result<Type, String> {
        check(&parse(source).unwrap(), &Form).map_err(|e| e.0)
    }

    #[test]
    fn sound_expressions_have_their_type() {
        for (source, t) in [
            ("${age} >= 18 and ${consent} = 'yes'", Type::Bool),
            ("selected(${topics}, 'other')", Type::Bool),
            ("count-selected(${topics}) + 1", Type::Number),
            (". >= 0 and . <= 120", Type::Bool),
            ("if(${age} > 65, 'senior', 'adult')", Type::Text),
            ("round(15 div sqrt(${age}), 2)", Type::Number),
            ("today() - ${dob}", Type::Number),
            ("${dob} < '2000-01-01'", Type::Bool),
            ("${age} = '18'", Type::Bool),
            ("string-length(${name}) > 2", Type::Bool),
        ] {
            assert_eq!(check_str(source), Ok(t), "{source}");
        }
    }

    #[test]
    fn mistakes_are_named() {
        for (source, message) in [
            ("${agee} > 18", "unknown name ${agee}"),
            ("${later} = 1", "${later} is asked after this question"),
            (
                "${consent} = 'yse'",
                "'yse' is not an option of ${consent} (its options: yes, no)",
            ),
            (
                "selected(${topics}, 'sport')",
                "'sport' is not an option of ${topics} (its options: health, other)",
            ),
            (
                "${age} = 'old'",
                "'=' compares `${age}` with the text 'old', which is not a number",
            ),
            ("${name} + 1", "'+' takes numbers or dates, and `${name}` is text"),
            (
                "${topics} = 'health'",
                "`${topics}` is a multiple choice: to ask whether 'health' was picked, write selected(${topics}, 'health')",
            ),
            (
                "${name} > 'm'",
                "'>' orders numbers, dates and times, and `${name}` is text",
            ),
            (
                "count-selected(${age})",
                "count-selected() takes a multiple-choice question, and `${age}` is a number",
            ),
            ("frobnicate(1)", "unknown function frobnicate()"),
            ("round(1, 2, 3)", "round() takes 1 to 2 arguments, not 3"),
            ("today(1)", "today() takes 0 arguments, not 1"),
            (
                "${dob} > 'yesterday'",
                "'>' compares the date `${dob}` with 'yesterday', which is not a date written YYYY-MM-DD",
            ),
            (
                "age > 3",
                "'age' is neither a function call nor a ${reference}; a question is written ${age}",
            ),
        ] {
            assert_eq!(check_str(source), Err(message.to_string()), "{source}");
        }
    }
}
