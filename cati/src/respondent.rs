//! Simulated respondents: a plausible answer to the question on screen, for the demo's
//! simulated interviewers and the load generator. Answers are drawn from the options offered
//! and within a question's bounds; a constraint may still refuse one, so callers draw again.

use chrono::{Duration, NaiveDate};
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, RngExt};

use crate::expr::{Expr, Op, Value};
use crate::interview::Shown;
use crate::questionnaire::{Kind, Question};

/// An answer to `question` as `shown`, on `today`.
pub fn answer(shown: &Shown, question: &Question, today: NaiveDate, rng: &mut impl Rng) -> Value {
    let options: Vec<&str> = shown.options.iter().map(|(name, _)| name.as_str()).collect();
    match &question.kind {
        Kind::SingleChoice(_) => options.choose(rng).map_or(Value::Empty, |o| Value::Text(o.to_string())),
        Kind::MultipleChoice { choices, max_picks } => {
            let exclusive = |name: &str| choices.options.iter().any(|o| o.name == name && o.exclusive);
            let mut plain: Vec<&str> = options.iter().copied().filter(|o| !exclusive(o)).collect();
            if plain.is_empty() || rng.random_bool(0.1) {
                return options
                    .choose(rng)
                    .map_or(Value::Empty, |o| Value::List(vec![o.to_string()]));
            }
            plain.shuffle(rng);
            let most = max_picks.map_or(plain.len(), |m| m as usize).min(plain.len()).max(1);
            let n = rng.random_range(1..=most);
            Value::List(plain[..n].iter().map(|s| s.to_string()).collect())
        }
        Kind::Ranking(_) => {
            let mut all: Vec<String> = options.iter().map(|s| s.to_string()).collect();
            all.shuffle(rng);
            Value::List(all)
        }
        Kind::Integer { min, max } => {
            let (lo, hi) = bounds(question, min.map(|m| m as f64), max.map(|m| m as f64));
            let (lo, hi) = (lo.ceil() as i64, hi.floor().max(lo.ceil()) as i64);
            // Counts are mostly small (children, cars); a constraint relating answers, which
            // the bounds cannot read, is most often met by one.
            let hi = if rng.random_bool(0.4) {
                hi.min(lo.max(0) + 4)
            } else {
                hi
            };
            Value::Number(rng.random_range(lo..=hi.max(lo)) as f64)
        }
        Kind::Decimal { min, max } => {
            let (lo, hi) = bounds(question, *min, *max);
            Value::Number(((lo + rng.random::<f64>() * (hi - lo)) * 100.0).round() / 100.0)
        }
        Kind::Rating { min, max } => Value::Number(rng.random_range(*min..=*max) as f64),
        Kind::Grid { rows, scale } => Value::List(
            rows.iter()
                .filter_map(|r| scale.choose(rng).map(|s| format!("{}={}", r.name, s.name)))
                .collect(),
        ),
        // Words, or a code of digits (a postcode, a reference) for texts a pattern checks.
        Kind::Text if rng.random_bool(0.5) => {
            let digits = rng.random_range(4..=6);
            Value::Text(
                (0..digits)
                    .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
                    .collect(),
            )
        }
        Kind::Text => Value::Text(
            [
                "fine",
                "no comment",
                "it depends",
                "quite happy with it",
                "could be better",
            ]
            .choose(rng)
            .expect("not empty")
            .to_string(),
        ),
        Kind::Date => Value::Date(today - Duration::days(rng.random_range(0..3650))),
        Kind::Time => Value::Text(format!("{:02}:{:02}", rng.random_range(7..22), rng.random_range(0..60))),
        Kind::Note | Kind::Calculate { .. } | Kind::Metadata { .. } | Kind::End { .. } => Value::Empty,
    }
}

/// The range to draw a number from: the question's bounds, narrowed by what its constraint
/// says of `.` in plain comparisons with numbers (`. >= 1.0 and . <= 2.5`).
fn bounds(question: &Question, min: Option<f64>, max: Option<f64>) -> (f64, f64) {
    fn walk(e: &Expr, lo: &mut f64, hi: &mut f64) {
        match e {
            Expr::Binary(Op::And, a, b) => {
                walk(a, lo, hi);
                walk(b, lo, hi);
            }
            Expr::Binary(op, a, b) => {
                let (op, n) = match (&**a, &**b) {
                    (Expr::Current, Expr::Number(n)) => (*op, *n),
                    // `5 > .` is `. < 5`.
                    (Expr::Number(n), Expr::Current) => match op {
                        Op::Lt => (Op::Gt, *n),
                        Op::Le => (Op::Ge, *n),
                        Op::Gt => (Op::Lt, *n),
                        Op::Ge => (Op::Le, *n),
                        other => (*other, *n),
                    },
                    _ => return,
                };
                match op {
                    Op::Gt | Op::Ge => *lo = lo.max(n),
                    Op::Lt | Op::Le => *hi = hi.min(n),
                    _ => {}
                }
            }
            _ => {}
        }
    }
    let mut lo = min.unwrap_or(f64::NEG_INFINITY);
    let mut hi = max.unwrap_or(f64::INFINITY);
    if let Some(c) = &question.constraint {
        walk(c, &mut lo, &mut hi);
    }
    match (lo.is_finite(), hi.is_finite()) {
        (true, true) => (lo, hi.max(lo)),
        (true, false) => (lo, lo + 100.0),
        (false, true) => (hi - 100.0, hi),
        (false, false) => (0.0, 100.0),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::interview::{Interview, State};
    use crate::questionnaire;

    /// Simulated respondents finish every shipped questionnaire (drawing again when a
    /// constraint refuses), on many seeds.
    #[test]
    fn simulated_respondents_finish_the_shipped_questionnaires() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../questionnaires");
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        for file in ["health-survey.xlsx", "csat.toml"] {
            let q = questionnaire::load(&dir.join(file)).unwrap();
            let sample: BTreeMap<String, Value> = q
                .sample_fields
                .keys()
                .map(|k| (k.clone(), Value::Text("x".into())))
                .collect();
            for seed in 0..50 {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                let mut iv = Interview::start(&q, sample.clone(), &q.languages[0], today, seed);
                let mut steps = 0;
                while let Some(shown) = iv.current().filter(|_| iv.state() == &State::Asking) {
                    let question = q.question(&shown.name).unwrap();
                    let mut tries = 0;
                    while iv.answer(answer(&shown, question, today, &mut rng)).is_err() {
                        tries += 1;
                        assert!(
                            tries < 50,
                            "{file} seed {seed}: no answer to {} is accepted",
                            shown.name
                        );
                    }
                    steps += 1;
                    assert!(steps < 500, "{file} seed {seed} does not end");
                }
                assert_ne!(iv.state(), &State::Asking);
            }
        }
    }
}
