//! Questionnaires: the model the interview runtime reads ([`model`]), the files it comes
//! from (the own TOML format, [`own_format`]; XLSForm workbooks, [`xlsform`]), and the checks every questionnaire passes
//! when it is loaded ([`check`]).

pub mod check;
pub mod model;
pub mod own_format;
pub mod xlsform;

use std::path::Path;

use serde::Serialize;

pub use check::LoadError;
pub use model::{
    Choice, Choices, EndOutcome, FieldType, Group, Item, Kind, Location, Question, Questionnaire, Quota, QuotaAction,
    QuotaCell, Text, instance_key, split_key,
};

/// Loads and checks the questionnaire in `path`, by its extension: `.toml` is the own format,
/// `.xlsx`, `.xls`, `.xlsm` and `.ods` are XLSForms. Returns it, or every problem found, each
/// with its location.
pub fn load(path: &Path) -> Result<Questionnaire, Vec<LoadError>> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| {
        vec![LoadError {
            at: Location {
                file: file.clone(),
                ..Location::default()
            },
            message: format!("cannot read the file: {e}"),
        }]
    })?;
    load_bytes(&file, &bytes)
}

/// As [`load`], for a file's bytes (an upload, a published version) named `file`.
pub fn load_bytes(file: &str, bytes: &[u8]) -> Result<Questionnaire, Vec<LoadError>> {
    let whole = Location {
        file: file.to_string(),
        ..Location::default()
    };
    let one = |message: String| {
        vec![LoadError {
            at: whole.clone(),
            message,
        }]
    };
    let extension = Path::new(file)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let questionnaire = match extension.as_str() {
        "toml" => {
            let source = std::str::from_utf8(bytes).map_err(|e| one(format!("the file is not UTF-8 text: {e}")))?;
            own_format::read(file, source)?
        }
        "xlsx" | "xls" | "xlsm" | "ods" => {
            let read = xlsform::read_bytes(file, bytes)?;
            let mut findings = check::check_except(&read.questionnaire, &read.refused);
            if !read.errors.is_empty() || !findings.errors.is_empty() {
                let mut errors = read.errors;
                errors.append(&mut findings.errors);
                errors.sort_by_key(|e| (e.at.sheet.clone(), e.at.row));
                return Err(errors);
            }
            return Ok(with_warnings(read.questionnaire, findings));
        }
        other => {
            return Err(one(format!(
                "'.{other}' is not a questionnaire format Paceline reads: .toml (the own format) or an XLSForm (.xlsx, .xls, .ods)"
            )));
        }
    };
    let findings = check::check(&questionnaire);
    if !findings.errors.is_empty() {
        return Err(findings.errors);
    }
    Ok(with_warnings(questionnaire, findings))
}

/// The questionnaire with the check's warnings among its notes.
fn with_warnings(mut questionnaire: Questionnaire, findings: check::Findings) -> Questionnaire {
    questionnaire
        .notes
        .extend(findings.warnings.iter().map(|w| format!("warning: {w}")));
    questionnaire
}

/// What `paceline questionnaire check` reports of a questionnaire that loads.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Its id.
    pub id: String,
    /// Its version label.
    pub version: String,
    /// Its languages, the default first.
    pub languages: Vec<String>,
    /// How many questions (notes, calculations and end points included).
    pub questions: usize,
    /// How many groups.
    pub groups: usize,
    /// Its quotas: name and number of cells.
    pub quotas: Vec<(String, usize)>,
    /// How many questions of each type, by the own format's type names.
    pub by_type: std::collections::BTreeMap<&'static str, usize>,
    /// How many items are asked only under a condition.
    pub conditional: usize,
    /// The sample fields it uses.
    pub sample_fields: Vec<String>,
    /// How the import treated what the file had beyond the model.
    pub notes: Vec<String>,
}

impl Summary {
    /// The summary of a loaded questionnaire.
    pub fn of(q: &Questionnaire) -> Self {
        let questions = q.questions();
        let mut by_type = std::collections::BTreeMap::new();
        for question in &questions {
            *by_type.entry(question.kind.type_name()).or_insert(0) += 1;
        }
        let groups = q.groups();
        Summary {
            id: q.id.clone(),
            version: q.version.clone(),
            languages: q.languages.clone(),
            questions: questions.len(),
            groups: groups.len(),
            quotas: q
                .quotas
                .iter()
                .map(|quota| (quota.name.clone(), quota.cells.len()))
                .collect(),
            by_type,
            conditional: questions.iter().filter(|q| q.relevant.is_some()).count()
                + groups.iter().filter(|g| g.relevant.is_some()).count(),
            sample_fields: q.sample_fields.keys().cloned().collect(),
            notes: q.notes.clone(),
        }
    }
}
