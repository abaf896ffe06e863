//! Answers by question type: reading one from JSON (as the API and `questionnaire run` give
//! it) and checking it against the question (type, range, options, picks).

use chrono::{NaiveDate, NaiveTime};

use crate::expr::Value;
use crate::questionnaire::{Choice, Kind, Question};

/// Reads a JSON answer to `question` into a value: a string for choices and text, a number
/// for numbers, a list for multiple choice and ranking, an object (row: scale option) for a
/// grid. `null` is no answer.
pub fn parse_answer(question: &Question, json: &serde_json::Value) -> Result<Value, String> {
    use serde_json::Value as J;
    let text = |j: &J| match j {
        J::String(s) => Some(s.clone()),
        J::Number(n) => Some(n.to_string()),
        J::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    if json.is_null() {
        return Ok(Value::Empty);
    }
    Ok(match &question.kind {
        Kind::Integer { .. } | Kind::Decimal { .. } | Kind::Rating { .. } => match json {
            J::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
            J::String(s) => match s.trim().parse::<f64>() {
                Ok(x) => Value::Number(x),
                Err(_) => return Err(format!("'{s}' is not a number")),
            },
            other => return Err(format!("{other} is not a number")),
        },
        Kind::MultipleChoice { .. } | Kind::Ranking(_) => match json {
            J::Array(items) => Value::List(
                items
                    .iter()
                    .map(|i| text(i).ok_or_else(|| format!("{i} is not an option name")))
                    .collect::<Result<_, _>>()?,
            ),
            J::String(s) => Value::List(s.split_whitespace().map(str::to_string).collect()),
            other => return Err(format!("{other} is not a list of option names")),
        },
        Kind::Grid { .. } => match json {
            J::Object(map) => Value::List(
                map.iter()
                    .map(|(row, v)| {
                        text(v)
                            .map(|v| format!("{row}={v}"))
                            .ok_or_else(|| format!("{v} is not a scale option"))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            other => return Err(format!("{other} is not an object of row: scale option")),
        },
        // A date as a date; one that is not, as the text it is, for `validate` to refuse.
        Kind::Date => {
            let t = text(json).ok_or_else(|| format!("{json} is not a single value"))?;
            NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d").map_or(Value::Text(t), Value::Date)
        }
        _ => Value::Text(text(json).ok_or_else(|| format!("{json} is not a single value"))?),
    })
}

fn names(options: &[&Choice]) -> String {
    options.iter().map(|o| o.name.as_str()).collect::<Vec<_>>().join(", ")
}

/// Checks a non-empty answer against its question; the message says what is wrong.
pub(super) fn validate(question: &Question, value: &Value, offered: &[&Choice]) -> Result<(), String> {
    let number = || match value {
        Value::Number(n) if !n.is_nan() => Ok(*n),
        other => Err(format!("'{}' is not a number", other.text())),
    };
    let option = |name: &str, other_allowed: bool| {
        if offered.iter().any(|o| o.name == name) || (other_allowed && name == "other") {
            Ok(())
        } else {
            Err(format!(
                "'{name}' is not one of the options offered: {}",
                names(offered)
            ))
        }
    };
    match &question.kind {
        Kind::SingleChoice(c) => option(&value.text(), c.other),
        Kind::MultipleChoice { choices, max_picks } => {
            let Value::List(picked) = value else {
                return Err("a multiple choice takes a list of options".into());
            };
            for (i, p) in picked.iter().enumerate() {
                option(p, choices.other)?;
                if picked[..i].contains(p) {
                    return Err(format!("'{p}' is picked twice"));
                }
            }
            if let Some(max) = max_picks
                && picked.len() > *max as usize
            {
                return Err(format!("at most {max} options may be picked, not {}", picked.len()));
            }
            if picked.len() > 1
                && let Some(exclusive) = picked
                    .iter()
                    .find(|p| choices.options.iter().any(|o| &o.name == *p && o.exclusive))
            {
                return Err(format!("'{exclusive}' cannot be picked with other options"));
            }
            Ok(())
        }
        Kind::Ranking(_) => {
            let Value::List(order) = value else {
                return Err("a ranking takes the options in order".into());
            };
            let mut sorted = order.clone();
            sorted.sort();
            let mut all: Vec<String> = offered.iter().map(|o| o.name.clone()).collect();
            all.sort();
            if sorted != all {
                return Err(format!(
                    "a ranking puts every option in order, once each: {}",
                    names(offered)
                ));
            }
            Ok(())
        }
        Kind::Integer { min, max } => {
            let n = number()?;
            if n.fract() != 0.0 {
                return Err(format!("{n} is not a whole number"));
            }
            let n = n as i64;
            match (min, max) {
                (Some(lo), _) if n < *lo => Err(format!("{n} is below the least accepted, {lo}")),
                (_, Some(hi)) if n > *hi => Err(format!("{n} is above the most accepted, {hi}")),
                _ => Ok(()),
            }
        }
        Kind::Decimal { min, max } => {
            let n = number()?;
            match (min, max) {
                (Some(lo), _) if n < *lo => Err(format!("{n} is below the least accepted, {lo}")),
                (_, Some(hi)) if n > *hi => Err(format!("{n} is above the most accepted, {hi}")),
                _ => Ok(()),
            }
        }
        Kind::Rating { min, max } => {
            let n = number()?;
            if n.fract() != 0.0 || n < *min as f64 || n > *max as f64 {
                return Err(format!("a rating is a whole number from {min} to {max}"));
            }
            Ok(())
        }
        Kind::Date => NaiveDate::parse_from_str(value.text().trim(), "%Y-%m-%d")
            .map(|_| ())
            .map_err(|_| format!("'{}' is not a date written YYYY-MM-DD", value.text())),
        Kind::Time => {
            let t = value.text();
            NaiveTime::parse_from_str(t.trim(), "%H:%M")
                .or_else(|_| NaiveTime::parse_from_str(t.trim(), "%H:%M:%S"))
                .map(|_| ())
                .map_err(|_| format!("'{t}' is not a time written HH:MM"))
        }
        Kind::Grid { rows, scale } => {
            let Value::List(cells) = value else {
                return Err("a grid takes one scale option per row".into());
            };
            for cell in cells {
                let (row, pick) = cell.split_once('=').unwrap_or((cell, ""));
                if !rows.iter().any(|r| r.name == row) {
                    return Err(format!("'{row}' is not a row of the grid"));
                }
                if !scale.iter().any(|s| s.name == pick) {
                    return Err(format!("'{pick}' is not on the grid's scale"));
                }
            }
            if question.required && cells.len() < rows.len() {
                return Err("every row of the grid needs an answer".into());
            }
            Ok(())
        }
        Kind::Text => Ok(()),
        Kind::Note | Kind::Calculate { .. } | Kind::Metadata { .. } | Kind::End { .. } => {
            Err("this item takes no answer".into())
        }
    }
}
