//! Interviews as interviewers conduct them, on the shipped questionnaires: routing, answers
//! refused with their messages, back and jump, answers set aside when a change makes them
//! unreachable, piping, progress, reproducible shuffles.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use paceline_cati::expr::Value;
use paceline_cati::interview::{Interview, State};
use paceline_cati::questionnaire::{self, Questionnaire, own_format};
use proptest::prelude::*;

fn csat() -> Questionnaire {
    questionnaire::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../questionnaires/csat.toml")).unwrap()
}

fn sample() -> BTreeMap<String, Value> {
    BTreeMap::from([
        ("customer_name".to_string(), Value::Text("Wang Fang".into())),
        ("service".to_string(), Value::Text("boiler repair".into())),
        (
            "service_date".to_string(),
            Value::Date(NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()),
        ),
    ])
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn list(items: &[&str]) -> Value {
    Value::List(items.iter().map(|s| s.to_string()).collect())
}

fn on(interview: &Interview<'_>) -> String {
    interview.current().map(|s| s.name).unwrap_or_default()
}

#[test]
fn a_dissatisfied_customer_is_routed_to_the_complaint() {
    let q = csat();
    let mut iv = Interview::start(&q, sample(), "en", today(), 7);
    let intro = iv.current().unwrap();
    assert_eq!(
        intro.text,
        "Hello, may I speak with Wang Fang? I am calling about the boiler repair of 2026-11-25."
    );
    assert_eq!(intro.progress, 0.0);
    iv.answer(Value::Empty).unwrap();
    iv.answer(text("yes")).unwrap();
    iv.answer(Value::Number(2.0)).unwrap();
    assert_eq!(on(&iv), "aspects");
    iv.answer(list(&["punctuality=2", "courtesy=4", "quality=1"])).unwrap();
    assert_eq!(on(&iv), "problems");
    iv.answer(list(&["late", "unfixed"])).unwrap();
    assert_eq!(on(&iv), "complaint", "an unfixed problem opens the complaint question");
    iv.answer(text("yes")).unwrap();
    iv.answer(Value::Number(9.0)).unwrap();
    assert_eq!(iv.answers()["nps_group"], text("promoter"));
    iv.answer(Value::Empty).unwrap();
    let last = iv.current().unwrap();
    assert_eq!(last.name, "thanks");
    assert!(last.progress > 0.8 && last.progress < 1.0, "{}", last.progress);
    iv.answer(Value::Empty).unwrap();
    assert_eq!(iv.state(), &State::Complete);
    assert_eq!(
        iv.path(),
        [
            "intro",
            "right_person",
            "overall",
            "aspects",
            "problems",
            "complaint",
            "recommend",
            "comment",
            "thanks"
        ]
    );
}

#[test]
fn the_wrong_person_is_screened_out() {
    let q = csat();
    let mut iv = Interview::start(&q, sample(), "zh", today(), 7);
    assert!(iv.current().unwrap().text.starts_with("您好，请问是Wang Fang吗"));
    iv.answer(Value::Empty).unwrap();
    iv.answer(text("no")).unwrap();
    assert_eq!(
        iv.state(),
        &State::ScreenedOut {
            at: "wrong_person".into()
        }
    );
    // Back from the end point: the answer can be corrected.
    assert!(iv.back());
    assert_eq!(on(&iv), "right_person");
    iv.answer(text("yes")).unwrap();
    assert_eq!(on(&iv), "overall");
}

#[test]
fn answers_are_refused_with_the_questions_own_message() {
    let q = csat();
    let mut iv = Interview::start(&q, sample(), "en", today(), 7);
    iv.answer(Value::Empty).unwrap();
    let refused = |iv: &mut Interview<'_>, v: Value| iv.answer(v).unwrap_err().message;
    assert_eq!(refused(&mut iv, Value::Empty), "an answer is required");
    assert_eq!(
        refused(&mut iv, text("maybe")),
        "'maybe' is not one of the options offered: yes, no"
    );
    iv.answer(text("yes")).unwrap();
    assert_eq!(
        refused(&mut iv, Value::Number(6.0)),
        "a rating is a whole number from 1 to 5"
    );
    iv.answer(Value::Number(1.0)).unwrap();
    assert_eq!(
        refused(&mut iv, list(&["punctuality=9"])),
        "'9' is not on the grid's scale"
    );
    iv.answer(Value::Empty).unwrap();
    assert_eq!(
        refused(&mut iv, list(&["late", "rude", "price", "unfixed"])),
        "at most 3 options may be picked, not 4"
    );
    assert_eq!(
        refused(&mut iv, list(&["late", "none"])),
        "'none' cannot be picked with other options"
    );
    iv.answer(list(&["price"])).unwrap();
    assert_eq!(on(&iv), "recommend", "no complaint question for a price problem");
    assert_eq!(
        refused(&mut iv, Value::Number(11.0)),
        "11 is above the most accepted, 10"
    );
    assert_eq!(refused(&mut iv, Value::Number(2.5)), "2.5 is not a whole number");
    // Nothing refused was kept.
    assert_eq!(iv.answers().get("recommend"), None);
}

#[test]
fn a_changed_answer_sets_aside_what_it_made_unreachable() {
    let q = csat();
    let mut iv = Interview::start(&q, sample(), "en", today(), 7);
    iv.answer(Value::Empty).unwrap();
    iv.answer(text("yes")).unwrap();
    iv.answer(Value::Number(2.0)).unwrap();
    iv.answer(Value::Empty).unwrap();
    iv.answer(list(&["unfixed"])).unwrap();
    iv.answer(text("yes")).unwrap();
    assert_eq!(on(&iv), "recommend");
    // Back to the overall rating, kept; a 5 now: no problems to ask about.
    iv.jump_to("overall").unwrap();
    assert_eq!(iv.current().unwrap().answer, Some(Value::Number(2.0)));
    iv.answer(Value::Number(5.0)).unwrap();
    assert_eq!(on(&iv), "aspects");
    iv.answer(Value::Empty).unwrap();
    assert_eq!(on(&iv), "recommend");
    assert_eq!(iv.answers().get("problems"), None);
    assert_eq!(iv.set_aside()["problems"], list(&["unfixed"]));
    assert_eq!(iv.set_aside()["complaint"], text("yes"));
    // And back again: the answers return with their questions.
    iv.jump_to("overall").unwrap();
    iv.answer(Value::Number(3.0)).unwrap();
    iv.answer(Value::Empty).unwrap();
    assert_eq!(iv.current().unwrap().answer, Some(list(&["unfixed"])));
    assert!(iv.jump_to("thanks").is_err(), "only questions already shown");
}

#[test]
fn suspended_interviews_resume_where_they_stopped() {
    let q = csat();
    let mut iv = Interview::start(&q, sample(), "en", today(), 7);
    iv.answer(Value::Empty).unwrap();
    iv.answer(text("yes")).unwrap();
    iv.suspend();
    assert_eq!(iv.state(), &State::Suspended);
    iv.resume();
    assert_eq!(on(&iv), "overall");
    iv.set_language("zh");
    assert!(iv.current().unwrap().text.starts_with("总体来说"));
}

const SHUFFLED: &str = r#"
id = "s"
title = "Shuffles"
[[groups]]
name = "block"
shuffle = true
[[questions]]
name = "brand"
type = "single_choice"
label = "Which brand?"
shuffle = true
options = [{ name = "a" }, { name = "b" }, { name = "c" }, { name = "d" }, { name = "e" }, { name = "other" }, { name = "none", exclusive = true }]
[[questions]]
name = "q1"
group = "block"
type = "text"
label = "1"
[[questions]]
name = "q2"
group = "block"
type = "text"
label = "2"
[[questions]]
name = "q3"
group = "block"
type = "text"
label = "3"
[[questions]]
name = "q4"
group = "block"
type = "text"
label = "4"
"#;

#[test]
fn shuffles_are_reproducible_from_the_seed() {
    let q = own_format::read("s.toml", SHUFFLED).unwrap();
    let run = |seed: u64| {
        let mut iv = Interview::start(&q, BTreeMap::new(), "en", today(), seed);
        let options: Vec<String> = iv.current().unwrap().options.into_iter().map(|o| o.0).collect();
        iv.answer(text("a")).unwrap();
        while iv.state() == &State::Asking {
            iv.answer(text("x")).unwrap();
        }
        (options, iv.path().iter().map(|s| s.to_string()).collect::<Vec<_>>())
    };
    assert_eq!(run(1), run(1));
    let orders: std::collections::BTreeSet<_> = (0..20).map(run).collect();
    assert!(orders.len() > 10, "20 seeds gave only {} orders", orders.len());
    for (options, path) in &orders {
        assert_eq!(&options[5..], ["other", "none"], "fixed options stay last");
        assert_eq!(path[0], "brand");
    }
}

proptest! {
    /// Whatever an interviewer does, in any order: the interview never panics, progress
    /// stays a share, the question on screen is on the path, every answer kept or set aside
    /// was given to a question shown (or computed), and none is both kept and set aside.
    #[test]
    fn any_sequence_of_actions_keeps_the_interview_sound(actions in proptest::collection::vec((0u8..6, 0u8..12), 1..60)) {
        let q = csat();
        let mut iv = Interview::start(&q, sample(), "en", today(), 3);
        let answers = [
            Value::Empty, text("yes"), text("no"), Value::Number(1.0), Value::Number(5.0), Value::Number(10.0),
            list(&["late"]), list(&["unfixed", "rude"]), list(&["none"]), list(&["punctuality=3"]), text("x"), Value::Number(0.0),
        ];
        let mut shown_ever: Vec<String> = Vec::new();
        for (action, pick) in actions {
            if let Some(shown) = iv.current() {
                shown_ever.push(shown.name);
            }
            match action {
                0..=2 => { let _ = iv.answer(answers[pick as usize].clone()); }
                3 => { iv.back(); }
                4 => {
                    let path: Vec<String> = iv.path().iter().map(|s| s.to_string()).collect();
                    if !path.is_empty() { let _ = iv.jump_to(&path[pick as usize % path.len()]); }
                }
                _ => { iv.suspend(); iv.resume(); }
            }
            if let Some(shown) = iv.current() {
                prop_assert!((0.0..=1.0).contains(&shown.progress));
                prop_assert!(iv.path().contains(&shown.name.as_str()));
            }
            for name in iv.answers().keys().chain(iv.set_aside().keys()) {
                prop_assert!(shown_ever.contains(name) || name == "nps_group", "{name} was never asked: {shown_ever:?}");
            }
            for name in iv.answers().keys() {
                prop_assert!(!iv.set_aside().contains_key(name), "{name} both kept and set aside");
            }
        }
    }
}

mod quotas {
    use super::*;
    use paceline_cati::quota::{CellId, Count, QuotaBook};

    fn poll() -> Questionnaire {
        questionnaire::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../questionnaires/opinion-poll.toml"))
            .unwrap_or_else(|e| panic!("{e:#?}"))
    }

    fn region(r: &str) -> BTreeMap<String, Value> {
        BTreeMap::from([("region".to_string(), text(r))])
    }

    fn cell(quota: &str, cell: &str) -> CellId {
        CellId {
            quota: quota.into(),
            cell: cell.into(),
        }
    }

    /// Answers a poll interview through the screening: consent, age, gender, registration.
    fn screened<'q>(
        q: &'q Questionnaire,
        book: &QuotaBook,
        region_name: &str,
        age: f64,
        gender: &str,
    ) -> Interview<'q> {
        let mut iv = Interview::start(q, region(region_name), "en", today(), 1);
        for v in [Value::Empty, text("yes"), Value::Number(age), text(gender), text("yes")] {
            iv.answer(v).unwrap();
            if let Some(full) = book.closes(iv.answers(), iv.sample(), iv.today(), true) {
                iv.screen_out(&full.to_string());
                break;
            }
        }
        iv
    }

    #[test]
    fn a_template_says_what_a_substitution_cannot() {
        let q = poll();
        let book = QuotaBook::new(&q);
        let mut iv = screened(&q, &book, "west", 40.0, "f");
        while iv.current().is_some_and(|s| s.name != "thanks") {
            let shown = iv.current().unwrap();
            let value = match shown.kind {
                "rating" => Value::Number(3.0),
                "integer" => Value::Number(2.0),
                "multiple_choice" => list(&["health"]),
                "single_choice" => text(&shown.options[0].0),
                _ => Value::Empty,
            };
            iv.answer(value).unwrap();
        }
        assert_eq!(
            iv.current().unwrap().text,
            "That is all. Thank you very much for your time, madam."
        );
    }

    #[test]
    fn the_poll_has_its_cells_and_places_respondents_in_them() {
        let q = poll();
        let book = QuotaBook::new(&q);
        let progress = book.progress();
        assert_eq!(progress.len(), 25);
        assert_eq!(progress.iter().filter(|p| p.target == 30).count(), 2);
        let iv = screened(&q, &book, "north", 62.0, "f");
        assert_eq!(iv.answers()["age_band"], text("55+"));
        assert_eq!(
            book.cells_of(iv.answers(), iv.sample(), today()),
            [cell("rga", "north/f/55+")]
        );
        let iv = screened(&q, &book, "south", 30.0, "x");
        assert_eq!(
            book.cells_of(iv.answers(), iv.sample(), today()),
            [cell("south", "south")]
        );
    }

    #[test]
    fn a_full_cell_screens_out_its_interviews_and_only_them() {
        let q = poll();
        let mut book = QuotaBook::new(&q);
        book.set(
            cell("rga", "north/f/55+"),
            Count {
                completes: 29,
                in_progress: 3,
            },
        );
        // Not full yet: 29 of 30, interviews in progress not counted by this quota.
        let iv = screened(&q, &book, "north", 62.0, "f");
        assert_eq!(iv.state(), &State::Asking);
        book.completed(&[cell("rga", "north/f/55+")]);
        assert_eq!(
            book.count(&cell("rga", "north/f/55+")),
            Count {
                completes: 30,
                in_progress: 2
            }
        );
        let iv = screened(&q, &book, "north", 62.0, "f");
        assert_eq!(
            iv.state(),
            &State::ScreenedOut {
                at: "quota rga north/f/55+".into()
            }
        );
        // The next cell is open; and the quota waits for an answer before it ends anyone.
        assert_eq!(screened(&q, &book, "north", 50.0, "f").state(), &State::Asking);
        let iv = screened(&q, &book, "north", 62.0, "f");
        assert!(book.closes(iv.answers(), iv.sample(), today(), false).is_none());
        assert!(book.closes(iv.answers(), iv.sample(), today(), true).is_some());
        assert!(progress_full(&book, "north/f/55+"));
    }

    #[test]
    fn a_target_changed_in_the_field_decides_when_the_cell_is_full() {
        let q = poll();
        let mut book = QuotaBook::new(&q);
        let north = cell("rga", "north/f/55+");
        book.set(
            north.clone(),
            Count {
                completes: 10,
                in_progress: 0,
            },
        );
        assert!(!progress_full(&book, "north/f/55+"));
        assert!(book.set_target(&north, 10));
        assert!(progress_full(&book, "north/f/55+"));
        assert_eq!(
            screened(&q, &book, "north", 62.0, "f").state(),
            &State::ScreenedOut {
                at: "quota rga north/f/55+".into()
            }
        );
        assert!(book.set_target(&north, 11));
        assert_eq!(screened(&q, &book, "north", 62.0, "f").state(), &State::Asking);
        // A cell the questionnaire lacks changes nothing.
        assert!(!book.set_target(&cell("rga", "mars/f/55+"), 1));
        assert!(!book.set_target(&cell("age", "young"), 1));
        assert_eq!(book.cells().count(), 25);
    }

    fn progress_full(book: &QuotaBook, key: &str) -> bool {
        book.progress().iter().any(|p| p.id.cell == key && p.full)
    }

    #[test]
    fn the_dialer_holds_back_records_whose_sample_fields_fill_a_full_cell() {
        let q = poll();
        let mut book = QuotaBook::new(&q);
        assert_eq!(book.closed_for_sample(&region("south"), today()), None);
        book.set(
            cell("south", "south"),
            Count {
                completes: 200,
                in_progress: 0,
            },
        );
        assert_eq!(
            book.closed_for_sample(&region("south"), today()),
            Some(cell("south", "south"))
        );
        assert_eq!(book.closed_for_sample(&region("north"), today()), None);
        // A cell that needs answers (gender, age band) is decided in the interview, not here.
        book.set(
            cell("rga", "north/f/55+"),
            Count {
                completes: 30,
                in_progress: 0,
            },
        );
        assert_eq!(book.closed_for_sample(&region("north"), today()), None);
    }

    #[test]
    fn quota_mistakes_are_named() {
        let source = |quota: &str| {
            format!(
                "id = \"t\"\ntitle = \"T\"\n[sample]\nregion = \"text\"\n[[questions]]\nname = \"gender\"\ntype = \"single_choice\"\nlabel = \"G\"\noptions = [{{ name = \"f\" }}, {{ name = \"m\" }}]\n{quota}"
            )
        };
        let problems = |quota: &str| -> Vec<String> {
            match own_format::read("q.toml", &source(quota)) {
                Err(e) => e.iter().map(ToString::to_string).collect(),
                Ok(q) => paceline_cati::questionnaire::check::check(&q)
                    .errors
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            }
        };
        assert_eq!(
            problems(
                "[[quotas]]\nname = \"g\"\ncross = [{ field = \"gender\", values = [\"f\", \"m\"] }]\ntargets = { \"f\" = 10, \"w\" = 5 }\n"
            ),
            [
                "q.toml, quotas[0] (g), key targets: 'w' is not a cell of this quota (its cells: f, m)",
                "q.toml, quotas[0] (g), key target: the cell 'm' has no target",
            ]
        );
        assert_eq!(
            problems("[[quotas]]\nname = \"a\"\nwhen = \"${age} > 50\"\ntarget = 5\n"),
            [
                "q.toml, quotas[0] (a), key when: in `${age} > 50`: unknown name ${age}: no question or sample field is called so"
            ]
        );
        assert_eq!(
            problems("[[quotas]]\nname = \"a\"\ntarget = 5\n"),
            ["q.toml, quotas[0] (a), key cross: a quota needs `when` (one cell) or `cross` (cells)"]
        );
    }
}

#[test]
fn the_dialers_gate_holds_back_records_of_full_sample_cells() {
    use std::sync::Arc;

    use paceline_cati::quota::{CellId, Count, QuotaBook, SampleGate};
    use paceline_dialer::clock::ManualClock;
    use paceline_dialer::runtime::QuotaGate;

    let q = questionnaire::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../questionnaires/opinion-poll.toml"))
        .unwrap();
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let gate = SampleGate::new(clock);
    let south = serde_json::json!({"region": "south", "name": "A"});
    let north = serde_json::json!({"region": "north", "name": "B"});
    assert!(!gate.closed(1, &south), "no book: nothing is held back");
    gate.set_book(1, QuotaBook::new(&q));
    assert!(!gate.closed(1, &south));
    gate.update(1, |book| {
        book.set(
            CellId {
                quota: "south".into(),
                cell: "south".into(),
            },
            Count {
                completes: 200,
                in_progress: 0,
            },
        )
    });
    assert!(gate.closed(1, &south));
    assert!(!gate.closed(1, &north));
    assert!(!gate.closed(2, &south), "another campaign's book");
}

#[test]
fn other_specify_keeps_its_text_beside_the_answer() {
    let q = csat();
    let mut iv = Interview::start(&q, sample(), "en", today(), 7);
    for v in [Value::Empty, text("yes"), Value::Number(2.0), Value::Empty] {
        iv.answer(v).unwrap();
    }
    assert_eq!(on(&iv), "problems");
    assert_eq!(
        iv.answer(list(&["late", "other"])).unwrap_err().message,
        "'other' was picked: say what it is"
    );
    iv.answer_other(list(&["late", "other"]), Some(" the noise ")).unwrap();
    assert_eq!(iv.answers()["problems_other"], text("the noise"));
    // Changed to a list without it: the text goes too.
    iv.jump_to("problems").unwrap();
    iv.answer(list(&["late"])).unwrap();
    assert!(!iv.answers().contains_key("problems_other"));
}

#[test]
fn the_text_of_other_can_be_used_later() {
    let q = own_format::read(
        "o.toml",
        r#"
id = "o"
title = "O"
[[questions]]
name = "brand"
type = "single_choice"
label = "Brand?"
other = true
options = [{ name = "a" }, { name = "other" }]
[[questions]]
name = "why"
type = "text"
label = "Why ${brand_other}?"
relevant = "${brand_other} != ''"
"#,
    )
    .unwrap();
    assert_eq!(paceline_cati::questionnaire::check::check(&q).errors, []);
    let mut iv = Interview::start(&q, BTreeMap::new(), "en", today(), 1);
    iv.answer_other(text("other"), Some("Acme")).unwrap();
    assert_eq!(iv.current().unwrap().text, "Why Acme?");
}

#[test]
fn rotated_blocks_take_turns_going_first() {
    let q = own_format::read(
        "r.toml",
        r#"
id = "r"
title = "R"
[[groups]]
name = "a"
rotate = true
[[groups]]
name = "b"
rotate = true
[[groups]]
name = "c"
rotate = true
[[questions]]
name = "start"
type = "text"
label = "S"
[[questions]]
name = "qa"
group = "a"
type = "text"
label = "A"
[[questions]]
name = "qb"
group = "b"
type = "text"
label = "B"
[[questions]]
name = "qc"
group = "c"
type = "text"
label = "C"
[[questions]]
name = "end"
type = "text"
label = "E"
"#,
    )
    .unwrap();
    let order = |seed: u64| {
        let mut iv = Interview::start(&q, BTreeMap::new(), "en", today(), seed);
        while iv.state() == &State::Asking {
            iv.answer(text("x")).unwrap();
        }
        iv.path().join(" ")
    };
    assert_eq!(order(0), "start qa qb qc end");
    assert_eq!(order(1), "start qb qc qa end");
    assert_eq!(order(2), "start qc qa qb end");
    assert_eq!(order(3), order(0));
}

/// A household roster: as many members as the first answer says, each asked by name.
const ROSTER: &str = r#"
id = "roster"
title = "Roster"
[[groups]]
name = "member"
repeat_count = "${size}"
[[questions]]
name = "size"
type = "integer"
label = "How many people live in your household?"
min = 0
max = 20
[[questions]]
name = "first_name"
group = "member"
type = "text"
label = "First name?"
required = true
[[questions]]
name = "age"
group = "member"
type = "integer"
label = "How old is ${first_name}?"
constraint = ". < 120"
constraint_message = "${first_name} cannot be that old"
[[questions]]
name = "adult"
group = "member"
type = "calculate"
calculation = "if(${age} >= 18, 'yes', 'no')"
[[questions]]
name = "works"
group = "member"
type = "single_choice"
label = "Does ${first_name} work?"
relevant = "${adult} = 'yes'"
options = [{ name = "yes" }, { name = "no" }]
[[questions]]
name = "done"
type = "text"
label = "Anything else?"
"#;

#[test]
fn a_repeat_is_asked_as_many_times_as_its_count_says() {
    let q = own_format::read("roster.toml", ROSTER).unwrap();
    assert_eq!(paceline_cati::questionnaire::check::check(&q).errors, []);
    let mut iv = Interview::start(&q, BTreeMap::new(), "en", today(), 1);
    iv.answer(Value::Number(2.0)).unwrap();
    iv.answer(text("Ann")).unwrap();
    let shown = iv.current().unwrap();
    assert_eq!((shown.name.as_str(), shown.question.as_str()), ("age[1]", "age"));
    assert_eq!(shown.repeat, [1]);
    assert_eq!(shown.text, "How old is Ann?");
    // The constraint and its message see this time round's answers.
    let refused = iv.answer(Value::Number(130.0)).unwrap_err();
    assert_eq!(
        (refused.question.as_str(), refused.message.as_str()),
        ("age[1]", "Ann cannot be that old")
    );
    iv.answer(Value::Number(40.0)).unwrap();
    iv.answer(text("yes")).unwrap();
    iv.answer(text("Bo")).unwrap();
    assert_eq!(iv.current().unwrap().text, "How old is Bo?");
    // A child: the calculation of this time round skips the work question.
    iv.answer(Value::Number(9.0)).unwrap();
    assert_eq!(on(&iv), "done");
    assert_eq!(
        iv.path(),
        [
            "size",
            "first_name[1]",
            "age[1]",
            "works[1]",
            "first_name[2]",
            "age[2]",
            "done"
        ]
    );
    assert_eq!(iv.answers()["adult[1]"], text("yes"));
    assert_eq!(iv.answers()["adult[2]"], text("no"));

    // Read back mid-way, it goes on exactly as it would have.
    let restored = Interview::restore(&q, iv.saved()).unwrap();
    assert_eq!(restored.saved(), iv.saved());
    assert_eq!(restored.current(), iv.current());

    // Fewer members: the second's answers are set aside, and come back with her.
    iv.jump_to("size").unwrap();
    iv.answer(Value::Number(1.0)).unwrap();
    assert_eq!(on(&iv), "first_name[1]");
    iv.answer(text("Ann")).unwrap();
    iv.answer(Value::Number(40.0)).unwrap();
    iv.answer(text("yes")).unwrap();
    assert_eq!(on(&iv), "done");
    assert!(!iv.answers().contains_key("first_name[2]"));
    assert_eq!(iv.set_aside()["first_name[2]"], text("Bo"));
    iv.jump_to("size").unwrap();
    iv.answer(Value::Number(3.0)).unwrap();
    for _ in 0..3 {
        iv.answer(iv.current().unwrap().answer.unwrap()).unwrap();
    }
    assert_eq!(on(&iv), "first_name[2]");
    assert_eq!(iv.current().unwrap().answer, Some(text("Bo")));
    iv.answer(text("Bo")).unwrap();
    iv.answer(Value::Number(9.0)).unwrap();
    assert_eq!(on(&iv), "first_name[3]");
    iv.answer(text("Cy")).unwrap();
    iv.answer(Value::Number(70.0)).unwrap();
    iv.answer(text("no")).unwrap();
    iv.answer(text("")).unwrap();
    assert_eq!(iv.state(), &State::Complete);
    assert_eq!(iv.answers()["works[3]"], text("no"));
    assert_eq!(Interview::restore(&q, iv.saved()).unwrap().saved(), iv.saved());
}

#[test]
fn nobody_in_the_household_skips_the_repeat() {
    let q = own_format::read("roster.toml", ROSTER).unwrap();
    let mut iv = Interview::start(&q, BTreeMap::new(), "en", today(), 1);
    iv.answer(Value::Number(0.0)).unwrap();
    assert_eq!(on(&iv), "done");
}

#[test]
fn a_repeat_without_a_count_asks_for_another_and_repeats_nest() {
    let dir = tempfile::tempdir().unwrap();
    let mut book = rust_xlsxwriter::Workbook::new();
    let survey: &[&[&str]] = &[
        &["type", "name", "label", "repeat_count", "relevant"],
        &["begin repeat", "tree", "Trees", "", ""],
        &["text", "species", "Species?", "", ""],
        &["integer", "stems", "How many stems has the ${species}?", "", ""],
        &["begin repeat", "stem", "Stems", "${stems}", ""],
        &["decimal", "girth", "Girth of stem of the ${species}?", "", ""],
        &["end repeat", "", "", "", ""],
        &["end repeat", "", "", "", ""],
        &["note", "bye", "Thank you", "", ""],
    ];
    let choices: &[&[&str]] = &[&["list_name", "name", "label"]];
    for (name, rows) in [("survey", survey), ("choices", choices)] {
        let sheet = book.add_worksheet();
        sheet.set_name(name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, value) in row.iter().enumerate() {
                if !value.is_empty() {
                    sheet.write_string(r as u32, c as u16, *value).unwrap();
                }
            }
        }
    }
    let path = dir.path().join("trees.xlsx");
    book.save(&path).unwrap();
    let q = questionnaire::load(&path).unwrap();
    let mut iv = Interview::start(&q, BTreeMap::new(), "default", today(), 1);
    iv.answer(text("oak")).unwrap();
    iv.answer(Value::Number(2.0)).unwrap();
    assert_eq!(iv.current().unwrap().text, "Girth of stem of the oak?");
    iv.answer(Value::Number(1.5)).unwrap();
    assert_eq!(on(&iv), "girth[1][2]");
    iv.answer(Value::Number(0.5)).unwrap();
    let another = iv.current().unwrap();
    assert_eq!(another.name, "tree_another[1]");
    assert_eq!(another.text, "Is there another? (Trees)");
    iv.answer(text("yes")).unwrap();
    iv.answer(text("ash")).unwrap();
    iv.answer(Value::Number(1.0)).unwrap();
    assert_eq!(iv.current().unwrap().text, "Girth of stem of the ash?");
    iv.answer(Value::Number(3.0)).unwrap();
    iv.answer(text("no")).unwrap();
    assert_eq!(on(&iv), "bye");
    assert_eq!(
        iv.path().join(" "),
        "species[1] stems[1] girth[1][1] girth[1][2] tree_another[1] species[2] stems[2] girth[2][1] tree_another[2] bye"
    );
    assert_eq!(iv.answers()["girth[1][2]"], Value::Number(0.5));
    let restored = Interview::restore(&q, iv.saved()).unwrap();
    assert_eq!(restored.saved(), iv.saved());
}

proptest! {
    /// Any sequence of actions on a roster (counts raised and lowered, back, jumps): the
    /// question on screen is on the path, no answer is both kept and set aside, no time
    /// round goes past the largest count answered, and the interview reads back exactly.
    #[test]
    fn a_roster_stays_sound_and_reads_back_exactly(actions in proptest::collection::vec((0u8..5, 0u8..8), 1..50)) {
        let q = own_format::read("roster.toml", ROSTER).unwrap();
        let mut iv = Interview::start(&q, BTreeMap::new(), "en", today(), 3);
        let answers = [
            Value::Number(0.0), Value::Number(1.0), Value::Number(3.0), Value::Number(17.0), Value::Number(44.0),
            text("Ann"), text("yes"), text("no"),
        ];
        for (action, pick) in actions {
            match action {
                0..=2 => { let _ = iv.answer(answers[pick as usize].clone()); }
                3 => { iv.back(); }
                _ => {
                    let path: Vec<String> = iv.path().iter().map(|s| s.to_string()).collect();
                    if !path.is_empty() { let _ = iv.jump_to(&path[pick as usize % path.len()]); }
                }
            }
            if let Some(shown) = iv.current() {
                prop_assert!(iv.path().contains(&shown.name.as_str()));
                prop_assert!((0.0..=1.0).contains(&shown.progress));
            }
            for name in iv.answers().keys() {
                prop_assert!(!iv.set_aside().contains_key(name), "{name} both kept and set aside");
                let (_, instance) = paceline_cati::questionnaire::split_key(name);
                prop_assert!(instance.iter().all(|k| (1..=17).contains(k)), "{name}");
            }
            let restored = Interview::restore(&q, iv.saved()).unwrap();
            prop_assert_eq!(restored.saved(), iv.saved());
            prop_assert_eq!(restored.current(), iv.current());
        }
    }
}
