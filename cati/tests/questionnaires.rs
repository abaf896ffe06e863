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
        Ok(q) => check::check(&q),
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
                "q.toml, questions[1] (age), key relevant: in `${consent} = 'si'`: 'si' is not an option of ${consent} (its options: yes, no)",
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
