//! `paceline questionnaire`: questionnaire files as their authors check them.

use std::path::PathBuf;

use paceline_cati::questionnaire::{self, LoadError, Summary};
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
