//! XLSForm import: the spreadsheet standard of ODK, KoBoToolbox and SurveyCTO (`survey`,
//! `choices` and `settings` sheets), read into the [`Questionnaire`] model.
//!
//! What a telephone interview cannot do (capture a location, a photo, a file, a barcode) is
//! refused with the sheet, row and column; what only shapes a screen (`appearance`, media,
//! ODK's `bind::` and `body::` attributes) is set aside and said so in the questionnaire's
//! notes; metadata (`start`, `end`, `today`, `username`, `deviceid`, `phonenumber`) is filled
//! in by the system.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use calamine::{Data, Reader, open_workbook_auto_from_rs};

use super::check::LoadError;
use super::model::{Choice, Choices, FieldType, Group, Item, Kind, Location, Question, Questionnaire, Repeat, Text};
use crate::expr::{self, Expr};

/// One sheet: its header (trimmed, `list name` read as `list_name`) and its non-empty rows
/// with their spreadsheet row numbers.
struct Sheet {
    name: String,
    header: Vec<String>,
    rows: Vec<(usize, Vec<String>)>,
}

impl Sheet {
    fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(x) => expr::eval::number_text(*x),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(at) => at.format("%Y-%m-%d").to_string(),
            None => expr::eval::number_text(dt.as_f64()),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e}"),
    }
}

fn read_sheet(range: &calamine::Range<Data>, name: &str) -> Sheet {
    let (first_row, first_col) = range.start().map_or((0, 0), |(r, c)| (r as usize, c as usize));
    let mut rows = range.rows();
    let mut header: Vec<String> = vec![String::new(); first_col];
    if let Some(cells) = rows.next() {
        header.extend(cells.iter().map(|c| {
            let h = cell_text(c);
            match h.to_ascii_lowercase().as_str() {
                "list name" | "list_name" => "list_name".to_string(),
                _ => h,
            }
        }));
    }
    let mut out = Vec::new();
    for (i, cells) in rows.enumerate() {
        let mut row: Vec<String> = vec![String::new(); first_col];
        row.extend(cells.iter().map(cell_text));
        if row.iter().any(|c| !c.is_empty()) {
            // Spreadsheet rows count from 1, and the header is the range's first row.
            out.push((first_row + i + 2, row));
        }
    }
    Sheet {
        name: name.to_string(),
        header,
        rows: out,
    }
}

/// Types a telephone interview cannot ask, and why.
fn refused(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "geopoint" | "geotrace" | "geoshape" | "start-geopoint" => "a location cannot be captured over the telephone",
        "image" | "audio" | "video" | "file" | "background-audio" => {
            "a recording or a file cannot be captured over the telephone"
        }
        "barcode" => "a barcode cannot be scanned over the telephone",
        "select_one_from_file" | "select_multiple_from_file" | "select_one_external" => {
            "its choices come from a file outside the form; put them in the choices sheet"
        }
        _ => return None,
    })
}

const METADATA: &[&str] = &[
    "start",
    "end",
    "today",
    "deviceid",
    "username",
    "phonenumber",
    "subscriberid",
    "simserial",
    "email",
    "audit",
];

/// Survey columns that shape a screen or an ODK device and mean nothing on a call.
fn set_aside(column: &str) -> bool {
    matches!(
        column,
        "appearance" | "read_only" | "autoplay" | "image" | "audio" | "video" | "big-image" | "note" | "instance_name"
    ) || [
        "media::",
        "bind::",
        "body::",
        "image::",
        "audio::",
        "video::",
        "big-image::",
        "guidance_hint",
    ]
    .iter()
    .any(|p| column.starts_with(p))
}

struct Import {
    file: String,
    default_language: String,
    errors: Vec<LoadError>,
}

impl Import {
    fn at(&self, sheet: &str, row: usize, column: Option<&str>) -> Location {
        Location {
            file: self.file.clone(),
            sheet: Some(sheet.to_string()),
            row: Some(row),
            column: column.map(str::to_string),
            item: None,
        }
    }

    fn fail(&mut self, at: Location, message: impl Into<String>) {
        self.errors.push(LoadError {
            at,
            message: message.into(),
        });
    }

    /// The text of `base` (`label`, `hint`, ...) in every language of the row.
    fn text(&self, sheet: &Sheet, row: &[String], base: &str) -> Option<Text> {
        let mut text = BTreeMap::new();
        for (i, h) in sheet.header.iter().enumerate() {
            let value = row.get(i).map(String::as_str).unwrap_or("");
            if value.is_empty() {
                continue;
            }
            if h == base {
                text.insert(self.default_language.clone(), value.to_string());
            } else if let Some(language) = h.strip_prefix(base).and_then(|rest| rest.strip_prefix("::")) {
                text.insert(language.trim().to_string(), value.to_string());
            }
        }
        (!text.is_empty()).then_some(Text(text))
    }

    fn expr(&mut self, source: &str, at: Location) -> Option<Expr> {
        if source.is_empty() {
            return None;
        }
        match expr::parse(source) {
            Ok(e) => Some(e),
            Err(e) => {
                self.fail(at, format!("`{}` {e}", source.trim()));
                None
            }
        }
    }
}

/// The languages of a form: those its text columns name, the default first.
fn languages(survey: &Sheet, settings_default: Option<&str>) -> Vec<String> {
    let mut named: Vec<String> = Vec::new();
    for h in &survey.header {
        if let Some((_, language)) = h.split_once("::")
            && ["label", "hint", "constraint_message", "required_message"]
                .iter()
                .any(|b| h.starts_with(&format!("{b}::")))
        {
            let language = language.trim().to_string();
            if !named.contains(&language) {
                named.push(language);
            }
        }
    }
    let default = settings_default
        .map(str::to_string)
        .or_else(|| named.first().cloned())
        .unwrap_or_else(|| "default".to_string());
    let mut out = vec![default.clone()];
    out.extend(named.into_iter().filter(|l| *l != default));
    out
}

/// `key=value` pairs of a `parameters` cell.
fn parameters(cell: &str) -> BTreeMap<String, String> {
    cell.split(|c: char| c.is_whitespace() || c == ';' || c == ',')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect()
}

fn truth(cell: &str) -> Option<bool> {
    match cell.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "true()" | "1" | "y" => Some(true),
        "" | "no" | "false" | "false()" | "0" | "n" => Some(false),
        _ => None,
    }
}

/// An XLSForm as read: the model without the rows that were refused, and those rows'
/// problems (the rest is checked by [`super::check`]).
pub struct Read {
    /// The questionnaire, without the refused rows.
    pub questionnaire: Questionnaire,
    /// The refused rows' problems, with sheet, row and column.
    pub errors: Vec<LoadError>,
    /// The names of the refused rows.
    pub refused: Vec<String>,
}

/// Reads an XLSForm workbook's bytes (a file, an upload, a published version) named `file`:
/// the model and the rows it refused, or the problems that keep it from being read at all (no
/// survey sheet, a group never closed...).
pub fn read_bytes(file: &str, bytes: &[u8]) -> Result<Read, Vec<LoadError>> {
    let path = Path::new(file);
    let file = file.to_string();
    let whole = Location {
        file: file.clone(),
        ..Location::default()
    };
    let one = |message: String| {
        vec![LoadError {
            at: whole.clone(),
            message,
        }]
    };
    let mut workbook = open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| one(format!("not a readable spreadsheet: {e}")))?;
    let names = workbook.sheet_names();
    let mut sheet = |wanted: &str| -> Option<Sheet> {
        let name = names.iter().find(|n| n.trim().eq_ignore_ascii_case(wanted))?.clone();
        workbook.worksheet_range(&name).ok().map(|r| read_sheet(&r, &name))
    };
    let survey = sheet("survey").ok_or_else(|| {
        one(format!(
            "an XLSForm needs a sheet named survey; this workbook has {}",
            names.join(", ")
        ))
    })?;
    let choices_sheet = sheet("choices");
    let settings = sheet("settings");
    let setting = |key: &str| -> Option<String> {
        let s = settings.as_ref()?;
        let column = s.column(key)?;
        s.rows.first()?.1.get(column).filter(|v| !v.is_empty()).cloned()
    };
    let languages = languages(&survey, setting("default_language").as_deref());
    let mut import = Import {
        file: file.clone(),
        default_language: languages[0].clone(),
        errors: Vec::new(),
    };
    let mut notes = Vec::new();

    // Choice lists, with their extra columns as fields for choice filters.
    let mut lists: BTreeMap<String, Vec<Choice>> = BTreeMap::new();
    if let Some(choices) = &choices_sheet {
        let (list_col, name_col) = (choices.column("list_name"), choices.column("name"));
        match (list_col, name_col) {
            (Some(list_col), Some(name_col)) => {
                let reserved = |h: &str| {
                    h.is_empty()
                        || h == "list_name"
                        || h == "name"
                        || h == "label"
                        || h.starts_with("label::")
                        || set_aside(h)
                };
                for (row_number, row) in &choices.rows {
                    let list = row.get(list_col).cloned().unwrap_or_default();
                    let name = row.get(name_col).cloned().unwrap_or_default();
                    if list.is_empty() {
                        continue;
                    }
                    if name.is_empty() {
                        let at = import.at(&choices.name, *row_number, Some("name"));
                        import.fail(at, format!("a choice of the list '{list}' has no name"));
                        continue;
                    }
                    let label = import
                        .text(choices, row, "label")
                        .unwrap_or_else(|| Text::one(&import.default_language, &name));
                    let fields = choices
                        .header
                        .iter()
                        .enumerate()
                        .filter(|(_, h)| !reserved(h))
                        .map(|(i, h)| (h.clone(), row.get(i).cloned().unwrap_or_default()))
                        .collect();
                    lists.entry(list).or_default().push(Choice {
                        name,
                        label,
                        exclusive: false,
                        fields,
                    });
                }
            }
            _ => {
                let at = Location {
                    file: file.clone(),
                    sheet: Some(choices.name.clone()),
                    row: Some(1),
                    ..Location::default()
                };
                import.fail(at, "the choices sheet needs the columns list_name and name");
            }
        }
    }

    let Some(type_col) = survey.column("type") else {
        return Err(one("the survey sheet has no type column".into()));
    };
    let cell = |row: &[String], column: &str| -> String {
        survey
            .column(column)
            .and_then(|i| row.get(i))
            .cloned()
            .unwrap_or_default()
    };
    let mut aside: BTreeSet<String> = BTreeSet::new();
    for (i, h) in survey.header.iter().enumerate() {
        if set_aside(h) && survey.rows.iter().any(|(_, r)| r.get(i).is_some_and(|v| !v.is_empty())) {
            aside.insert(h.clone());
        }
    }
    if !aside.is_empty() {
        notes.push(format!(
            "survey columns set aside, as they shape a screen and not a call: {}",
            aside.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }

    // Open groups: the group and the row that began it.
    let mut stack: Vec<(Group, usize)> = Vec::new();
    let mut top: Vec<Item> = Vec::new();
    let mut metadata_used: BTreeSet<String> = BTreeSet::new();
    let mut unnamed_notes: Vec<usize> = Vec::new();
    let mut rows_refused: Vec<LoadError> = Vec::new();
    let mut refused_names: Vec<String> = Vec::new();
    let push = |stack: &mut Vec<(Group, usize)>, top: &mut Vec<Item>, item: Item| match stack.last_mut() {
        Some((group, _)) => group.items.push(item),
        None => top.push(item),
    };
    for (row_number, row) in &survey.rows {
        let row_number = *row_number;
        let raw_type = row.get(type_col).map(|t| t.trim()).unwrap_or("");
        let name = cell(row, "name");
        let at = import.at(&survey.name, row_number, None);
        if raw_type.is_empty() {
            if !name.is_empty() {
                import.fail(at.at_column("type"), format!("'{name}' has no type"));
            }
            continue;
        }
        let words: Vec<&str> = raw_type.split_whitespace().collect();
        let (head, rest) = (words[0], &words[1..]);
        let expr_at = |column: &str| at.at_column(column);
        // (begins, repeat) for the rows that open or close a group or a repeat.
        let structure = match (head, rest.first().copied()) {
            ("begin", Some("group")) | ("begin_group", _) => Some((true, false)),
            ("begin", Some("repeat")) | ("begin_repeat", _) => Some((true, true)),
            ("end", Some("group")) | ("end_group", _) => Some((false, false)),
            ("end", Some("repeat")) | ("end_repeat", _) => Some((false, true)),
            _ => None,
        };
        match structure {
            Some((true, repeat)) => {
                let relevant = import.expr(&cell(row, "relevant"), expr_at("relevant"));
                let count = if repeat {
                    Some(Repeat {
                        count: import.expr(&cell(row, "repeat_count"), expr_at("repeat_count")),
                        another: None,
                    })
                } else {
                    None
                };
                if name.is_empty() {
                    import.fail(at.at_column("name"), "a group needs a name");
                }
                let shuffle = parameters(&cell(row, "parameters"))
                    .get("randomize")
                    .is_some_and(|v| v == "true");
                stack.push((
                    Group {
                        name,
                        label: import.text(&survey, row, "label"),
                        relevant,
                        shuffle,
                        rotate: false,
                        repeat: count,
                        items: Vec::new(),
                        at,
                    },
                    row_number,
                ));
                continue;
            }
            Some((false, repeat)) => {
                match stack.pop() {
                    Some((group, _)) if group.repeat.is_some() == repeat => {
                        push(&mut stack, &mut top, Item::Group(Box::new(group)));
                    }
                    Some((group, began)) => {
                        import.fail(
                            at.at_column("type"),
                            format!(
                                "'{raw_type}' closes '{}', which row {began} began as a {}",
                                group.name,
                                if group.repeat.is_some() { "repeat" } else { "group" }
                            ),
                        );
                        push(&mut stack, &mut top, Item::Group(Box::new(group)));
                    }
                    None => import.fail(
                        at.at_column("type"),
                        format!("'{raw_type}' closes nothing: no group is open"),
                    ),
                }
                continue;
            }
            None => {}
        }
        if let Some(why) = refused(head) {
            rows_refused.push(LoadError {
                at: at.at_column("type"),
                message: format!("'{raw_type}' is not supported on a telephone interview: {why}"),
            });
            refused_names.push(name);
            continue;
        }
        // A note has no answer, so nothing refers to it: one without a name is named by its
        // row, as a reader would find it.
        let name = if name.is_empty() && head == "note" {
            unnamed_notes.push(row_number);
            format!("note_row_{row_number}")
        } else {
            name
        };
        if name.is_empty() {
            import.fail(at.at_column("name"), format!("a {head} row needs a name"));
            continue;
        }
        let params = parameters(&cell(row, "parameters"));
        let choices_of = |import: &mut Import, list: Option<&str>| -> Choices {
            let other = rest.contains(&"or_other");
            let options = match list {
                Some(list) => match lists.get(list) {
                    Some(options) => options.clone(),
                    None => {
                        import.fail(
                            at.at_column("type"),
                            format!("there is no choice list '{list}' in the choices sheet"),
                        );
                        Vec::new()
                    }
                },
                None => {
                    import.fail(
                        at.at_column("type"),
                        format!("'{head}' needs a choice list: {head} LIST"),
                    );
                    Vec::new()
                }
            };
            Choices {
                options,
                shuffle: params.get("randomize").is_some_and(|v| v == "true"),
                other,
                filter: None,
            }
        };
        let number = |import: &mut Import, key: &str| -> Option<f64> {
            let v = params.get(key)?;
            match v.parse::<f64>() {
                Ok(x) => Some(x),
                Err(_) => {
                    import.fail(at.at_column("parameters"), format!("{key}={v} is not a number"));
                    None
                }
            }
        };
        let mut kind = match head {
            "select_one" => Kind::SingleChoice(choices_of(&mut import, rest.first().copied())),
            "select_multiple" => Kind::MultipleChoice {
                choices: choices_of(&mut import, rest.first().copied()),
                max_picks: None,
            },
            "rank" => Kind::Ranking(choices_of(&mut import, rest.first().copied())),
            "integer" => Kind::Integer { min: None, max: None },
            "decimal" => Kind::Decimal { min: None, max: None },
            "range" => {
                let (start, end, step) = (
                    number(&mut import, "start").unwrap_or(1.0),
                    number(&mut import, "end").unwrap_or(10.0),
                    number(&mut import, "step").unwrap_or(1.0),
                );
                if start.fract() == 0.0 && end.fract() == 0.0 && step == 1.0 && start < end {
                    Kind::Rating {
                        min: start as i64,
                        max: end as i64,
                    }
                } else {
                    Kind::Decimal {
                        min: Some(start.min(end)),
                        max: Some(start.max(end)),
                    }
                }
            }
            "text" | "string" => Kind::Text,
            "date" => Kind::Date,
            "time" => Kind::Time,
            "datetime" | "dateTime" => Kind::Date,
            "note" => Kind::Note,
            "acknowledge" => Kind::SingleChoice(Choices {
                options: vec![Choice {
                    name: "OK".into(),
                    label: Text::one(&import.default_language, "OK"),
                    exclusive: false,
                    fields: BTreeMap::new(),
                }],
                shuffle: false,
                other: false,
                filter: None,
            }),
            "calculate" | "hidden" => {
                let source = cell(row, "calculation");
                match import.expr(&source, expr_at("calculation")) {
                    Some(expr) => Kind::Calculate { expr },
                    None if source.is_empty() && head == "calculate" => {
                        import.fail(at.at_column("calculation"), "a calculate row needs a calculation");
                        continue;
                    }
                    None if source.is_empty() => Kind::Metadata { of: head.to_string() },
                    None => continue,
                }
            }
            meta if METADATA.contains(&meta) => {
                metadata_used.insert(meta.to_string());
                Kind::Metadata { of: meta.to_string() }
            }
            other => {
                import.fail(
                    at.at_column("type"),
                    format!("'{other}' is not an XLSForm question type Paceline reads"),
                );
                continue;
            }
        };
        if let Kind::SingleChoice(c) | Kind::MultipleChoice { choices: c, .. } | Kind::Ranking(c) = &mut kind {
            c.filter = import.expr(&cell(row, "choice_filter"), expr_at("choice_filter"));
        }
        let required_cell = cell(row, "required");
        let (required, required_when) = match truth(&required_cell) {
            Some(r) => (r, None),
            None => (false, import.expr(&required_cell, expr_at("required"))),
        };
        let label = import.text(&survey, row, "label").unwrap_or_default();
        let question = Question {
            name,
            label,
            hint: import.text(&survey, row, "hint"),
            required,
            required_when,
            required_message: import.text(&survey, row, "required_message"),
            relevant: import.expr(&cell(row, "relevant"), expr_at("relevant")),
            constraint: import.expr(&cell(row, "constraint"), expr_at("constraint")),
            constraint_message: import.text(&survey, row, "constraint_message"),
            default: Some(cell(row, "default")).filter(|d| !d.is_empty()),
            kind,
            at,
        };
        push(&mut stack, &mut top, Item::Question(Box::new(question)));
    }
    while let Some((group, began)) = stack.pop() {
        let at = import.at(&survey.name, began, Some("type"));
        import.fail(at, format!("the group '{}' begun here is never ended", group.name));
        push(&mut stack, &mut top, Item::Group(Box::new(group)));
    }
    if !unnamed_notes.is_empty() {
        let rows: Vec<String> = unnamed_notes.iter().map(ToString::to_string).collect();
        notes.push(format!(
            "notes without a name, named note_row_N by their survey row: rows {}",
            rows.join(", ")
        ));
    }
    if !metadata_used.is_empty() {
        notes.push(format!(
            "metadata filled in by the system, not asked: {}",
            metadata_used.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    if !import.errors.is_empty() {
        // Row problems in file order, the refused rows among them.
        let mut errors = import.errors;
        errors.extend(rows_refused);
        errors.sort_by_key(|e| (e.at.sheet.clone(), e.at.row));
        return Err(errors);
    }
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("form").to_string();
    let title = setting("form_title").unwrap_or_else(|| stem.clone());
    let mut questionnaire = Questionnaire {
        id: setting("form_id").unwrap_or(stem),
        title: Text::one(&languages[0], &title),
        version: setting("version").unwrap_or_else(|| "1".into()),
        languages,
        sample_fields: BTreeMap::<String, FieldType>::new(),
        items: top,
        quotas: Vec::new(),
        notes,
    };
    questionnaire.ask_for_another();
    Ok(Read {
        questionnaire,
        errors: rows_refused,
        refused: refused_names,
    })
}
