//! Loading questionnaires as authors write them: the shipped ones load, and mistakes are
//! refused with the item, the key and why.

use std::path::Path;

use paceline_cati::questionnaire::{self, LoadError, Summary, check, own_format};

fn shipped(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../questionnaires")
        .join(name)
}

/// The problems with an own-format questionnaire given as text, as they are printed.
fn problems(source: &str) -> Vec<String> {
    let errors: Vec<LoadError> = match own_format::read("q.toml", source) {
        Err(errors) => errors,
        Ok(q) => check::check(&q).errors,
    };
    errors.iter().map(ToString::to_string).collect()
}

#[test]
fn the_customer_satisfaction_survey_loads() {
    let q = questionnaire::load(&shipped("csat.toml")).unwrap_or_else(|e| panic!("{e:#?}"));
    let summary = Summary::of(&q);
    assert_eq!(summary.languages, ["en", "zh"]);
    assert_eq!((summary.questions, summary.groups), (11, 1));
    assert_eq!(summary.by_type["grid"], 1);
    assert_eq!(summary.conditional, 3);
    assert_eq!(summary.sample_fields, ["customer_name", "service", "service_date"]);
}

const HEAD: &str = r#"
id = "t"
title = "Test"
[sample]
region = "text"
"#;

#[test]
fn mistakes_are_refused_where_they_are() {
    let cases: &[(&str, &[&str])] = &[
        (
            r#"
[[questions]]
name = "age"
type = "integer"
label = "Age?"
relevant = "${consent} = 'yes'"
[[questions]]
name = "consent"
type = "single_choice"
label = "Consent?"
options = [{ name = "yes" }, { name = "no" }]
"#,
            &[
                "q.toml, questions[0] (age), key relevant: in `${consent} = 'yes'`: ${consent} is asked later (q.toml, questions[1] (consent)), so it has no answer yet here",
            ],
        ),
        (
            r#"
[[questions]]
name = "consent"
type = "single_choice"
label = "Consent?"
options = [{ name = "yes" }, { name = "no" }]
[[questions]]
name = "age"
type = "integer"
label = "Age, ${nmae}?"
relevant = "${consent} = 'si'"
constraint = "${age} > 0"
"#,
            &[
                "q.toml, questions[1] (age), key constraint: in `${age} > 0`: ${age} refers to the question's own answer; in a constraint the answer is `.`",
                "q.toml, questions[1] (age), key label: the text pipes in unknown name ${nmae}: no question or sample field is called so",
            ],
        ),
        (
            r#"
[[questions]]
name = "q"
type = "single_choice"
label = "Pick"
[[questions]]
name = "q"
type = "text"
label = "Again"
[[questions]]
name = "region"
type = "text"
label = "Region"
"#,
            &[
                "q.toml, questions[1] (q), key name: the name 'q' is already used (q.toml, questions[0] (q))",
                "q.toml, questions[2] (region), key name: the name 'region' is also a sample field's",
                "q.toml, questions[0] (q), key choices: the single_choice question 'q' has no options",
            ],
        ),
        (
            r#"
[[questions]]
name = "n"
type = "integer"
label = "N"
min = 10
max = 1
[[questions]]
name = "r"
type = "slider"
label = "R"
[[questions]]
name = "t"
type = "text"
relevant = "${n} >"
"#,
            &[
                "q.toml, questions[1] (r), key type: 'slider' is not a question type: single_choice, multiple_choice, ranking, integer, decimal, text, date, time, rating, grid, note, calculate or end",
                "q.toml, questions[2] (t), key label: a question needs a label (what the interviewer reads out)",
                "q.toml, questions[2] (t), key relevant: `${n} >` at character 7: the expression ends where a value should come",
            ],
        ),
        (
            r#"
[[questions]]
name = "n"
type = "integer"
label = "N"
min = 10
max = 1
"#,
            &["q.toml, questions[0] (n), key max: the range is empty: the least accepted, 10, is above the most, 1"],
        ),
        (
            r#"
[[questions]]
name = "n"
type = "integer"
label = "{% if region == 'north' %}North{% endif %} {{ nn + 1 }}"
hint = "{% if n %}unclosed"
"#,
            &[
                "q.toml, questions[0] (n), key label: the text pipes in unknown name ${nn}: no question or sample field is called so",
                "q.toml, questions[0] (n), key hint: the text (en): it is not a valid template: unexpected end of input, expected end of block",
            ],
        ),
        (
            r#"
[[questions]]
name = "n"
type = "integer"
label = "N"
colour = "red"
"#,
            &[
                "q.toml: line 11, column 1: unknown field `colour`, expected one of `name`, `type`, `group`, `label`, `hint`, `required`, `required_message`, `relevant`, `constraint`, `constraint_message`, `default`, `options`, `shuffle`, `other`, `filter`, `max_picks`, `min`, `max`, `rows`, `scale`, `calculation`, `outcome`",
            ],
        ),
    ];
    for (body, want) in cases {
        let got = problems(&format!("{HEAD}{body}"));
        assert_eq!(got, *want, "{body}");
    }
}

#[test]
fn an_option_that_does_not_exist_is_a_warning() {
    let q = own_format::read(
        "q.toml",
        &format!(
            r#"{HEAD}
[[questions]]
name = "consent"
type = "single_choice"
label = "Consent?"
options = [{{ name = "yes" }}, {{ name = "no" }}]
[[questions]]
name = "age"
type = "integer"
label = "Age?"
relevant = "${{consent}} = 'si'"
"#
        ),
    )
    .unwrap();
    let findings = check::check(&q);
    assert_eq!(findings.errors, []);
    let warnings: Vec<String> = findings.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "q.toml, questions[1] (age), key relevant: in `${consent} = 'si'`: 'si' is not an option of ${consent} (its options: yes, no), so the comparison is decided whatever the answer"
        ]
    );
}

#[test]
fn groups_stand_together() {
    let got = problems(&format!(
        r#"{HEAD}
[[groups]]
name = "a"
[[groups]]
name = "empty"
[[questions]]
name = "one"
group = "a"
type = "text"
label = "1"
[[questions]]
name = "two"
type = "text"
label = "2"
[[questions]]
name = "three"
group = "a"
type = "text"
label = "3"
[[questions]]
name = "four"
group = "b"
type = "text"
label = "4"
"#
    ));
    assert_eq!(
        got,
        [
            "q.toml, questions[2] (three), key group: the questions of group 'a' must stand together; this one is apart from the others",
            "q.toml, questions[3] (four), key group: there is no group 'b' in [[groups]]",
            "q.toml, groups[1] (empty): the group 'empty' has no questions",
        ]
    );
}

fn real(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/questionnaires-real")
        .join(name)
}

/// The rows a load refused: (sheet, row, column).
fn refused_rows(errors: &[LoadError]) -> Vec<(String, usize, String)> {
    errors
        .iter()
        .map(|e| {
            (
                e.at.sheet.clone().unwrap_or_default(),
                e.at.row.unwrap_or(0),
                e.at.column.clone().unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn the_german_participation_survey_loads() {
    let q = questionnaire::load(&real("mitwirken_umfrage.xlsx")).unwrap_or_else(|e| panic!("{e:#?}"));
    let s = Summary::of(&q);
    assert_eq!((s.questions, s.groups, s.conditional), (42, 9, 14));
    assert_eq!(s.languages, ["Deutsch (de)"]);
    // Row 28 asks for the 'other' of a list that has none: loaded, and said.
    let warnings: Vec<&String> = s.notes.iter().filter(|n| n.starts_with("warning:")).collect();
    assert_eq!(warnings.len(), 1, "{:?}", s.notes);
    assert!(
        warnings[0].contains("sheet survey, row 28, column relevant"),
        "{warnings:?}"
    );
    assert!(
        warnings[0].contains("'other' is not an option of ${teilhabe_gruppen}"),
        "{warnings:?}"
    );
}

#[test]
fn the_household_energy_survey_refuses_only_its_location_row() {
    let errors = questionnaire::load(&real("household_energy.xlsx")).unwrap_err();
    assert_eq!(refused_rows(&errors), [("survey".to_string(), 19, "type".to_string())]);
    assert!(
        errors[0]
            .message
            .contains("'geopoint' is not supported on a telephone interview")
    );
}

#[test]
fn the_biomass_field_form_refuses_only_locations_photos_and_files() {
    let errors = questionnaire::load(&real("UCL_Biomass_Plot_Form.xlsx")).unwrap_err();
    let rows: Vec<usize> = errors.iter().map(|e| e.at.row.unwrap()).collect();
    assert_eq!(rows, [16, 17, 18, 20, 22, 23, 35, 46, 57, 65, 73, 81]);
    for e in &errors {
        assert_eq!(e.at.column.as_deref(), Some("type"), "{e}");
        let why = [
            "a location cannot",
            "a recording or a file cannot",
            "its choices come from a file",
        ];
        assert!(why.iter().any(|w| e.message.contains(w)), "{e}");
    }
}

/// An XLSForm written cell by cell: (sheet, rows), the first row the header.
fn workbook(dir: &Path, sheets: &[(&str, &[&[&str]])]) -> std::path::PathBuf {
    let mut book = rust_xlsxwriter::Workbook::new();
    for (name, rows) in sheets {
        let sheet = book.add_worksheet();
        sheet.set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, value) in row.iter().enumerate() {
                if !value.is_empty() {
                    sheet.write_string(r as u32, c as u16, *value).unwrap();
                }
            }
        }
    }
    let path = dir.join("form.xlsx");
    book.save(&path).unwrap();
    path
}

const CHOICES: &[&[&str]] = &[
    &["list_name", "name", "label::English (en)"],
    &["yes_no", "yes", "Yes"],
    &["yes_no", "no", "No"],
];
const SETTINGS: &[&[&str]] = &[&["form_id", "default_language"], &["t", "English (en)"]];

#[test]
fn xlsform_mistakes_are_refused_by_sheet_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let header: &[&str] = &[
        "type",
        "name",
        "label::English (en)",
        "label::Igbo (ig)",
        "relevant",
        "constraint",
        "required",
    ];
    let path = workbook(
        dir.path(),
        &[
            (
                "survey",
                &[
                    header,
                    &["begin group", "intro", "Intro", "", "", "", ""],
                    &["select_one yes_no", "consent", "Consent?", "Nkwenye?", "", "", "yes"],
                    &[
                        "integer",
                        "age",
                        "Age of ${name}?",
                        "",
                        "${consent} = 'yes'",
                        ". > 17 and",
                        "",
                    ],
                    &["select_one colours", "colour", "Colour?", "", "", "", ""],
                    &["end group", "", "", "", "", "", ""],
                    &["text", "name", "Name?", "", "${age} > 'old'", "", "maybe"],
                    &["end repeat", "", "", "", "", "", ""],
                ],
            ),
            ("choices", CHOICES),
            ("settings", SETTINGS),
        ],
    );
    let errors = questionnaire::load(&path).unwrap_err();
    let shown: Vec<String> = errors
        .iter()
        .map(|e| {
            format!(
                "{}:{}: {}",
                e.at.row.unwrap(),
                e.at.column.as_deref().unwrap_or(""),
                e.message
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            "4:constraint: `. > 17 and` at character 11: the expression ends where a value should come",
            "5:type: there is no choice list 'colours' in the choices sheet",
            "8:type: 'end repeat' closes nothing: no group is open",
        ]
    );
    // With the read errors fixed, the checks of the rest.
    let path = workbook(
        dir.path(),
        &[
            (
                "survey",
                &[
                    header,
                    &["select_one yes_no", "consent", "Consent?", "Nkwenye?", "", "", "yes"],
                    &[
                        "integer",
                        "age",
                        "Age of ${name}?",
                        "",
                        "${consent} = 'yes'",
                        ". > 17",
                        "",
                    ],
                    &["text", "name", "Name?", "", "${age} > 'old'", "", "${consent} = 'yes'"],
                    &["geopoint", "where", "Where?", "", "", "", ""],
                    &["note", "", "You are at ${where}", "", "", "", ""],
                ],
            ),
            ("choices", CHOICES),
            ("settings", SETTINGS),
        ],
    );
    let errors = questionnaire::load(&path).unwrap_err();
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let file = path.display();
    assert_eq!(
        shown,
        [
            format!(
                "{file}, sheet survey, row 3, column label: the text pipes in ${{name}} is asked later ({file}, sheet survey, row 4), so it has no answer yet here"
            ),
            format!(
                "{file}, sheet survey, row 4, column relevant: in `${{age}} > 'old'`: '>' compares `${{age}}` with the text 'old', which is not a number"
            ),
            format!(
                "{file}, sheet survey, row 5, column type: 'geopoint' is not supported on a telephone interview: a location cannot be captured over the telephone"
            ),
        ]
    );
}

#[test]
fn the_shipped_xlsform_loads_and_filters_districts_by_region() {
    use paceline_cati::expr::Value;
    use paceline_cati::interview::{Interview, State};

    let q = questionnaire::load(&shipped("health-survey.xlsx")).unwrap_or_else(|e| panic!("{e:#?}"));
    let s = Summary::of(&q);
    assert_eq!((s.questions, s.groups), (33, 5));
    assert_eq!(s.languages, ["English (en)", "French (fr)"]);
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let mut iv = Interview::start(&q, Default::default(), "French (fr)", today, 1);
    assert!(iv.current().unwrap().text.starts_with("Bonjour"));
    iv.set_language("English (en)");
    let answers: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(shipped("health-survey.answers.json")).unwrap()).unwrap();
    while let (State::Asking, Some(shown)) = (iv.state(), iv.current()) {
        if shown.name == "district" {
            let offered: Vec<&str> = shown.options.iter().map(|o| o.0.as_str()).collect();
            assert_eq!(offered, ["n1", "n2"], "the north's districts only");
            assert!(iv.answer(Value::Text("s1".into())).is_err());
        }
        let question = q.question(&shown.name).unwrap();
        let value = match answers.get(&shown.name) {
            Some(json) => paceline_cati::interview::parse_answer(question, json).unwrap(),
            None => Value::Empty,
        };
        iv.answer(value).unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(iv.state(), &State::Complete);
    assert_eq!(iv.answers()["bmi"], Value::Number(22.9));
    assert_eq!(iv.path().len(), 29);
}

#[test]
fn a_repeats_answers_are_used_only_inside_it() {
    let source = r#"
id = "r"
title = "R"
[[groups]]
name = "member"
repeat_count = "${size} + ${later}"
[[questions]]
name = "size"
type = "integer"
label = "How many?"
[[questions]]
name = "age"
group = "member"
type = "integer"
label = "Age?"
[[questions]]
name = "later"
type = "integer"
label = "And ${age}?"
"#;
    assert_eq!(
        problems(source),
        [
            "q.toml, groups[0] (member), key repeat_count: in `${size} + ${later}`: ${later} is asked later (q.toml, questions[2] (later)), so it has no answer yet here",
            "q.toml, questions[2] (later), key label: the text pipes in ${age} is asked once per time round the repeat 'member', so it has one answer only inside that repeat",
        ]
    );
}
