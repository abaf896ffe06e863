//! `paceline questionnaire`: questionnaire files as their authors check them.

use std::path::PathBuf;

use std::collections::BTreeMap;

use anyhow::Context;
use paceline_cati::expr::Value;
use paceline_cati::interview::{Interview, Refused, State, instance_key, parse_answer};
use paceline_cati::questionnaire::{self, LoadError, Questionnaire, Summary};
use paceline_cati::quota::{CellId, Count, QuotaBook};
use serde::Serialize;

use crate::output;

#[derive(Debug, clap::Subcommand)]
pub enum QuestionnaireCommand {
    /// Loads a questionnaire (own TOML format) and prints a summary, or every error with
    /// its location; exit status 0 only when it loads.
    Check {
        /// The questionnaire file.
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Runs a scripted interview: asks in routed order, taking each answer from a JSON map
    /// of question names to answers (a list for multiple choice), until the end or a
    /// question the map does not answer.
    Run {
        /// The questionnaire file.
        file: PathBuf,
        /// The answers: a JSON object, question name to answer.
        #[arg(long, value_name = "ANSWERS.json")]
        answers: PathBuf,
        /// The respondent's sample fields: a JSON object.
        #[arg(long, value_name = "SAMPLE.json")]
        sample: Option<PathBuf>,
        /// The language (default: the questionnaire's first).
        #[arg(long)]
        language: Option<String>,
        /// The seed of the interview's shuffles.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Completes so far per quota cell: a JSON object, "quota cell" (e.g. "rga north/f/18-34")
        /// to a count; an interview that lands in a full cell is screened out.
        #[arg(long, value_name = "COUNTS.json")]
        quota_counts: Option<PathBuf>,
        /// Today's date for today() (default: today, UTC).
        #[arg(long, value_name = "YYYY-MM-DD")]
        today: Option<chrono::NaiveDate>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Serialize)]
struct Run<'a> {
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    path: Vec<&'a str>,
    answers: &'a BTreeMap<String, Value>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    set_aside: &'a BTreeMap<String, Value>,
    errors: Vec<Refused>,
}

fn read_json(path: &std::path::Path, what: &str) -> anyhow::Result<serde_json::Map<String, serde_json::Value>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading the {what} file {}", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: line {} column {}: {e}", path.display(), e.line(), e.column()))?;
    match value {
        serde_json::Value::Object(map) => Ok(map),
        _ => anyhow::bail!(
            "{}: the {what} must be a JSON object of names to values",
            path.display()
        ),
    }
}

/// The sample fields of a respondent, typed as the questionnaire declares them.
fn sample_values(
    q: &Questionnaire,
    path: &std::path::Path,
    map: serde_json::Map<String, serde_json::Value>,
) -> anyhow::Result<BTreeMap<String, Value>> {
    map.iter()
        .map(|(name, json)| {
            let value = q
                .sample_value(name, json)
                .map_err(|why| anyhow::anyhow!("{}: {why}", path.display()))?;
            Ok((name.clone(), value))
        })
        .collect()
}

#[derive(Serialize)]
struct Report<'a> {
    loads: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<Summary>,
    errors: &'a [LoadError],
}

/// Runs a questionnaire command; needs no store.
pub fn run(command: QuestionnaireCommand) -> anyhow::Result<()> {
    match command {
        QuestionnaireCommand::Run {
            file,
            answers,
            sample,
            language,
            seed,
            quota_counts,
            today,
            json,
        } => {
            let q = questionnaire::load(&file).map_err(|errors| {
                for e in &errors {
                    eprintln!("{e}");
                }
                anyhow::anyhow!("{} does not load", file.display())
            })?;
            let given = read_json(&answers, "answers")?;
            let sample = match &sample {
                Some(path) => sample_values(&q, path, read_json(path, "sample")?)?,
                None => BTreeMap::new(),
            };
            let language = language.unwrap_or_else(|| q.languages[0].clone());
            let today = today.unwrap_or_else(|| chrono::Utc::now().date_naive());
            let mut book = QuotaBook::new(&q);
            if let Some(path) = &quota_counts {
                for (id, count) in read_json(path, "quota counts")? {
                    let (quota, cell) = id.split_once(' ').unwrap_or((id.as_str(), id.as_str()));
                    let completes = count.as_u64().with_context(|| {
                        format!(
                            "{}: the count of {id} is {count}, not a number of completes",
                            path.display()
                        )
                    })?;
                    let known = q
                        .quotas
                        .iter()
                        .any(|x| x.name == quota && x.cells.iter().any(|c| c.key == cell));
                    anyhow::ensure!(known, "{}: '{id}' is not a quota cell of {}", path.display(), q.id);
                    book.set(
                        CellId {
                            quota: quota.to_string(),
                            cell: cell.to_string(),
                        },
                        Count {
                            completes: completes as u32,
                            in_progress: 0,
                        },
                    );
                }
            }
            let mut interview = Interview::start(&q, sample, &language, today, seed);
            let mut errors = Vec::new();
            let mut answered = false;
            loop {
                if interview.state() == &State::Asking
                    && let Some(full) =
                        book.closes(interview.answers(), interview.sample(), interview.today(), answered)
                {
                    interview.screen_out(&full.to_string());
                }
                let (State::Asking, Some(shown)) = (interview.state(), interview.current()) else {
                    break;
                };
                answered = shown.kind != "note";
                let value = match (shown.kind, given.get(&shown.name)) {
                    ("note", _) => Value::Empty,
                    (_, None) => break,
                    (_, Some(json)) => {
                        let question = q
                            .question(&shown.question)
                            .expect("the question shown is the questionnaire's");
                        match parse_answer(question, json) {
                            Ok(v) => v,
                            Err(message) => {
                                errors.push(Refused {
                                    question: shown.name.clone(),
                                    message,
                                });
                                break;
                            }
                        }
                    }
                };
                let other_key = instance_key(&format!("{}_other", shown.question), &shown.repeat).into_owned();
                let other = given.get(&other_key).and_then(|v| v.as_str());
                if let Err(refused) = interview.answer_other(value, other) {
                    errors.push(refused);
                    break;
                }
            }
            let (outcome, reason) = match interview.state() {
                State::Complete => ("complete", None),
                State::ScreenedOut { at } => ("screened_out", Some(at.clone())),
                State::Terminated { reason } => ("terminated", Some(reason.clone())),
                State::Asking | State::Suspended => ("stopped", interview.current().map(|s| s.name)),
            };
            let report = Run {
                outcome,
                reason,
                path: interview.path(),
                answers: interview.answers(),
                set_aside: interview.set_aside(),
                errors,
            };
            if json {
                return output::json(&report);
            }
            println!(
                "outcome: {outcome}{}",
                report.reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default()
            );
            println!("path: {}", report.path.join(" > "));
            output::table(
                &["question", "answer"],
                report.answers.iter().map(|(k, v)| vec![k.clone(), v.text()]),
            );
            for e in &report.errors {
                println!("refused: {e}");
            }
            Ok(())
        }
        QuestionnaireCommand::Check { file, json } => {
            let loaded = questionnaire::load(&file);
            let (summary, errors) = match &loaded {
                Ok(q) => (Some(Summary::of(q)), &[][..]),
                Err(errors) => (None, errors.as_slice()),
            };
            if json {
                output::json(&Report {
                    loads: summary.is_some(),
                    summary: summary.clone(),
                    errors,
                })?;
            } else if let Some(s) = &summary {
                let types: Vec<String> = s.by_type.iter().map(|(t, n)| format!("{n} {t}")).collect();
                output::table(
                    &["questionnaire", &s.id],
                    [
                        vec!["version".to_string(), s.version.clone()],
                        vec!["languages".into(), s.languages.join(", ")],
                        vec!["questions".into(), format!("{} ({})", s.questions, types.join(", "))],
                        vec!["groups".into(), s.groups.to_string()],
                        vec!["asked under a condition".into(), s.conditional.to_string()],
                        vec![
                            "quotas".into(),
                            s.quotas
                                .iter()
                                .map(|(n, c)| format!("{n} ({c} cells)"))
                                .collect::<Vec<_>>()
                                .join(", "),
                        ],
                        vec!["sample fields".into(), s.sample_fields.join(", ")],
                    ]
                    .into_iter()
                    .chain(s.notes.iter().map(|n| vec!["note".to_string(), n.clone()])),
                );
            } else {
                for error in errors {
                    eprintln!("{error}");
                }
            }
            if summary.is_none() {
                anyhow::bail!(
                    "{} does not load: {} error{}",
                    file.display(),
                    errors.len(),
                    if errors.len() == 1 { "" } else { "s" }
                );
            }
            Ok(())
        }
    }
}
