//! The `paceline` command line end to end, as a person or a script uses it, on the store the
//! environment names (SQLite by default, PostgreSQL with PACELINE_TEST_DATABASE_URL).

use std::path::Path;

use assert_cmd::Command;
use paceline_dialer::store::testing::TestDb;
use predicates::prelude::*;
use serde_json::Value;

mod common;

fn paceline(test: &TestDb, dir: &Path) -> Command {
    let mut command = Command::cargo_bin("paceline").unwrap();
    command
        .current_dir(dir)
        .arg("--database")
        .arg(&test.url)
        .env_remove("DATABASE_URL")
        .env_remove("PACELINE_USER");
    command
}

fn json(output: &[u8]) -> Value {
    serde_json::from_slice(output).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(output)))
}

const CAMPAIGN: &str = r#"
kind = "collections"
agents = ["ann"]
caller_id = "+12125550100"
default_country = "US"
[calling_hours]
days = ["mon", "tue", "wed", "thu", "fri"]
ranges = ["09:00-20:00"]
[[fields]]
name = "account"
type = "text"
required = true
key = true
[[fields]]
name = "phone"
type = "phone"
required = true
[[fields]]
name = "balance"
type = "decimal"
"#;

#[tokio::test]
async fn a_campaign_from_users_to_sample() {
    let test = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let run = || paceline(&test, dir.path());

    run().args(["team", "add", "north"]).assert().success();
    run()
        .args([
            "user",
            "add",
            "ann",
            "--name",
            "Ann Lee",
            "--role",
            "agent",
            "--team",
            "north",
            "--skill",
            "english=90",
        ])
        .arg("--password-stdin")
        .write_stdin("correct horse\n")
        .assert()
        .success()
        .stdout("created user ann (Ann Lee) with roles agent\n");
    run()
        .args([
            "user",
            "add",
            "sam",
            "--role",
            "supervisor",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .write_stdin("battery staple\n")
        .assert()
        .success();
    let users = json(&run().args(["user", "list", "--json"]).output().unwrap().stdout);
    assert_eq!(users[0]["login"], "ann");
    assert_eq!(users[0]["skills"][0]["level"], 90);
    assert_eq!(users[1]["roles"], serde_json::json!(["supervisor", "admin"]));

    std::fs::write(dir.path().join("dues.toml"), CAMPAIGN).unwrap();
    run()
        .args(["campaign", "create", "Dues", "--config", "dues.toml"])
        .assert()
        .success()
        .stdout(predicate::str::contains("created collections campaign 'Dues'"));
    run()
        .args(["campaign", "publish", "Dues", "--by", "sam"])
        .assert()
        .success()
        .stdout("campaign 'Dues' is now published\n");

    std::fs::write(
        dir.path().join("debtors.csv"),
        "account,phone,balance\nA-1,(212) 555-0101,120.50\nA-2,212 555 0102,abc\nA-3,212-555-0103,80\n",
    )
    .unwrap();
    let summary = json(
        &run()
            .args([
                "sample",
                "import",
                "debtors.csv",
                "--campaign",
                "Dues",
                "--by",
                "sam",
                "--json",
            ])
            .output()
            .unwrap()
            .stdout,
    );
    assert_eq!(
        (summary["inserted"].as_u64(), summary["invalid"].as_u64()),
        (Some(2), Some(1))
    );
    let rejects = std::fs::read_to_string(dir.path().join("debtors.csv.rejects.csv")).unwrap();
    assert!(
        rejects.contains("3,balance,abc,'abc' is not a number (use . as the decimal mark),rejected"),
        "{rejects}"
    );

    let records = json(
        &run()
            .args(["sample", "list", "--campaign", "Dues", "--json"])
            .output()
            .unwrap()
            .stdout,
    );
    let id = records[0]["id"].as_i64().unwrap().to_string();
    assert_eq!(records[0]["phones"][0]["e164"], "+12125550101");
    assert_eq!(records[0]["fields"]["balance"], 120.5);

    run()
        .args(["sample", "edit", &id, "--set", "balance=99.90", "--by", "ann"])
        .assert()
        .success();
    run()
        .args(["sample", "edit", &id, "--priority", "9", "--by", "ann"])
        .assert()
        .failure()
        .stderr("error: ann may not change a record's priority or status (supervisors do)\n");
    run()
        .args([
            "sample",
            "assign",
            "--campaign",
            "Dues",
            "--status",
            "new",
            "--limit",
            "1",
            "--team",
            "north",
            "--by",
            "sam",
        ])
        .assert()
        .success()
        .stdout("assigned 1 of 1 record(s)\n");
    let shown = json(&run().args(["sample", "show", &id, "--json"]).output().unwrap().stdout);
    assert_eq!(shown["record"]["fields"]["balance"], 99.9);
    assert_eq!(shown["record"]["assigned_team"], "north");
    let fields: Vec<&str> = shown["edits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["balance", "assigned_team"]);
    run()
        .args(["sample", "show", &id])
        .assert()
        .success()
        .stdout(predicate::str::contains("+12125550101"));

    run()
        .args(["dnc", "add", "212-555-0103", "--campaign", "Dues"])
        .assert()
        .success();
    run()
        .args(["dnc", "check", "(212) 555-0103", "--campaign", "Dues"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("+12125550103 is on the list of campaign"));
    run()
        .args(["dnc", "check", "(212) 555-0103"])
        .assert()
        .success()
        .stdout("+12125550103 may be dialed\n");

    let shown = json(
        &run()
            .args(["campaign", "show", "Dues", "--json"])
            .output()
            .unwrap()
            .stdout,
    );
    assert_eq!(shown["campaign"]["status"], "published");
    assert_eq!(shown["records"]["new"], 2);
    assert_eq!(shown["dispositions"][0]["code"], "paid");
    // AAPOR rates of the sample: two records never dialed count as 3.11 (unknown if household).
    run()
        .args(["aapor", "--campaign", "Dues"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("e cannot be estimated"));
    let rates = json(
        &run()
            .args(["aapor", "--campaign", "Dues", "--e", "0.5", "--json"])
            .output()
            .unwrap()
            .stdout,
    );
    assert_eq!(rates["source"], "campaign Dues");
    assert_eq!(rates["counts"]["UH"], 2.0);
    assert_eq!(rates["rates"]["rr1"], 0.0);
    assert_eq!(rates["rates"]["rr5"], serde_json::Value::Null);
    // Interviewer look-ups on a campaign nobody has called yet: empty, not an error.
    for args in [
        vec!["interviewer", "calls", "ann", "--json"],
        vec!["interviewer", "answers", id.as_str(), "--json"],
        vec!["interviewer", "leaderboard", "--campaign", "Dues", "--week", "--json"],
    ] {
        let out = run().args(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(json(&out.stdout), serde_json::json!([]), "{args:?}");
    }
    run()
        .args(["interviewer", "calls", "nobody"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("no user with login 'nobody'"));
    // Return visits drawn by a date field the records lack: none drawn, each record named.
    let drawn = json(
        &run()
            .args([
                "return-visit",
                "draw",
                "--campaign",
                "Dues",
                "--field",
                "paid_on",
                "--after-days",
                "7",
                "--json",
            ])
            .output()
            .unwrap()
            .stdout,
    );
    assert_eq!(drawn["visits"], serde_json::json!([]));
    assert_eq!(drawn["without_date"].as_array().unwrap().len(), 2);
    let listed = run()
        .args(["return-visit", "list", "--campaign", "Dues", "--json"])
        .output()
        .unwrap();
    assert_eq!(json(&listed.stdout), serde_json::json!([]));
    run()
        .args(["return-visit", "done", "999"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("there is no open return visit 999"));
    run().args(["campaign", "copy", "Dues", "Dues 2027"]).assert().success();
    run()
        .args(["campaign", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Dues 2027").and(predicate::str::contains("draft")));
}

#[tokio::test]
async fn mistakes_get_clear_errors_and_change_nothing() {
    let test = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let run = || paceline(&test, dir.path());

    run()
        .args(["campaign", "show", "nope"])
        .assert()
        .failure()
        .stderr("error: no campaign named 'nope'\n");
    std::fs::write(
        dir.path().join("bad.toml"),
        "caller_id = \"+12125550100\"\ndial_mod = \"preview\"\n",
    )
    .unwrap();
    run()
        .args(["campaign", "create", "x", "--config", "bad.toml"])
        .assert()
        .failure()
        .stderr(predicate::str::starts_with(
            "error: bad.toml: unknown setting `dial_mod` (line 2)",
        ));
    std::fs::write(
        dir.path().join("loud.toml"),
        "[abandon]\nceiling = 0.1\nwindow_hours = 24\n",
    )
    .unwrap();
    run()
        .args(["campaign", "create", "x", "--config", "loud.toml"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("abandon.ceiling: 0.1 is outside 0 to 0.03"));
    run().args(["campaign", "create", "x"]).assert().success();
    run()
        .args(["campaign", "pause", "x"])
        .assert()
        .failure()
        .stderr("error: cannot pause a campaign that is draft\n");
    run()
        .args(["user", "add", "ann", "--role", "agent", "--password-stdin"])
        .write_stdin("short\n")
        .assert()
        .failure()
        .stderr("error: the password is too short: it needs at least 8 characters\n");
    run()
        .args(["user", "add", "ann", "--role", "chief", "--password-stdin"])
        .write_stdin("long enough\n")
        .assert()
        .failure()
        .stderr(predicate::str::contains("unknown role 'chief'"));
    std::fs::write(dir.path().join("s.csv"), "phone\n2125550101\n").unwrap();
    run().args(["sample", "import", "s.csv", "--campaign", "x"]).assert().failure().stderr(
        "error: campaign 'x' has no field of type phone; set its field configuration first (paceline campaign update)\n",
    );
    std::fs::write(dir.path().join("dues.toml"), CAMPAIGN.replace("agents = [\"ann\"]", "")).unwrap();
    run()
        .args(["campaign", "update", "x", "--config", "dues.toml"])
        .assert()
        .success();
    run()
        .args(["sample", "import", "missing.csv", "--campaign", "x"])
        .assert()
        .failure()
        .stderr(predicate::str::starts_with("error: missing.csv: No such file"));
    let listed = json(&run().args(["user", "list", "--json"]).output().unwrap().stdout);
    assert_eq!(listed, serde_json::json!([]));
}

#[tokio::test]
async fn the_demo_runs_and_a_second_run_adds_nothing() {
    let test = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let run = || paceline(&test, dir.path());
    run()
        .args(["demo", "--records", "2000", "--setup-only"])
        .assert()
        .success()
        .stdout(predicate::str::contains("2000 row(s) read").and(predicate::str::contains("demo logins")));
    let first = json(
        &run()
            .args(["campaign", "show", "demo-survey", "--json"])
            .output()
            .unwrap()
            .stdout,
    );
    let added = first["records"]["new"].as_i64().unwrap();
    assert!((1900..2000).contains(&added), "{added}");
    run()
        .args(["demo", "--records", "2000", "--setup-only"])
        .assert()
        .success()
        .stdout(predicate::str::contains("        0 added"));
    let second = json(
        &run()
            .args(["campaign", "show", "demo-survey", "--json"])
            .output()
            .unwrap()
            .stdout,
    );
    assert_eq!(second["records"]["new"].as_i64(), Some(added));
}

#[test]
fn aapor_rates_from_a_counts_file() {
    let dir = tempfile::tempdir().unwrap();
    let counts = dir.path().join("counts.json");
    std::fs::write(
        &counts,
        r#"{"I": 4, "P": 2, "R": 1, "NC": 1, "O": 1, "UH": 1, "UO": 1, "NE": 1}"#,
    )
    .unwrap();
    let aapor = || {
        let mut command = Command::cargo_bin("paceline").unwrap();
        command
            .current_dir(dir.path())
            .args(["aapor", "--counts", "counts.json"]);
        command
    };
    let out = aapor().arg("--json").assert().success().get_output().stdout.clone();
    let report = json(&out);
    assert_eq!(report["e_source"], "proportional");
    let rate = |name: &str| report["rates"][name].as_f64().unwrap();
    for (name, want) in [
        ("e", 0.9),
        ("rr1", 0.364),
        ("rr3", 0.370),
        ("coop4", 0.857),
        ("con2", 0.741),
    ] {
        assert!((rate(name) - want).abs() < 0.0005, "{name}: {}", rate(name));
    }
    aapor()
        .assert()
        .success()
        .stdout(predicate::str::contains("RR6").and(predicate::str::contains("0.667")));
    // A set e; then mistakes, each named.
    let out = aapor()
        .args(["--e", "0.5", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!((json(&out)["rates"]["rr3"].as_f64().unwrap() - 0.4).abs() < 1e-9);
    aapor()
        .args(["--e", "2"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("e is 2: it is a share of cases, from 0 to 1"));
    std::fs::write(&counts, "{\"I\": 4,\n \"X\": 1}").unwrap();
    aapor().assert().failure().stderr(
        predicate::str::contains("counts.json: line 2 column").and(predicate::str::contains("unknown field `X`")),
    );
    std::fs::write(&counts, r#"{"I": 4, "NC": -2}"#).unwrap();
    aapor()
        .assert()
        .failure()
        .stderr(predicate::str::contains("the count of NC is -2"));
}

#[test]
fn questionnaire_check_summarises_or_lists_every_error() {
    let dir = tempfile::tempdir().unwrap();
    let check = |file: &Path| {
        let mut command = Command::cargo_bin("paceline").unwrap();
        command
            .current_dir(dir.path())
            .args(["questionnaire", "check"])
            .arg(file);
        command
    };
    let csat = Path::new(env!("CARGO_MANIFEST_DIR")).join("questionnaires/csat.toml");
    let out = check(&csat)
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report = json(&out);
    assert_eq!(report["loads"], true);
    assert_eq!(report["summary"]["questions"], 11);
    assert_eq!(report["summary"]["languages"], serde_json::json!(["en", "zh"]));
    check(&csat)
        .assert()
        .success()
        .stdout(predicate::str::contains("customer_name, service, service_date"));

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "id = \"b\"\ntitle = \"B\"\n[[questions]]\nname = \"a\"\ntype = \"integer\"\nlabel = \"A\"\nrelevant = \"${b} = 1\"\n[[questions]]\nname = \"b\"\ntype = \"single_choice\"\nlabel = \"B\"\n",
    )
    .unwrap();
    let out = check(&bad).arg("--json").assert().failure().get_output().stdout.clone();
    let report = json(&out);
    assert_eq!(report["loads"], false);
    let messages: Vec<&str> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages[0].contains("${b} is asked later"), "{messages:?}");
    assert_eq!(messages[1], "the single_choice question 'b' has no options");
    assert_eq!(report["errors"][0]["at"]["column"], "relevant");
    check(&bad).assert().failure().stderr(
        predicate::str::contains("bad.toml, questions[1] (b), key choices:")
            .and(predicate::str::contains("does not load: 2 errors")),
    );
}

#[test]
fn questionnaire_run_scripts_an_interview() {
    let dir = tempfile::tempdir().unwrap();
    let csat = Path::new(env!("CARGO_MANIFEST_DIR")).join("questionnaires/csat.toml");
    std::fs::write(
        dir.path().join("sample.json"),
        r#"{"customer_name": "Wang Fang", "service": "boiler repair", "service_date": "2026-11-25"}"#,
    )
    .unwrap();
    let run = |answers: &str| {
        std::fs::write(dir.path().join("answers.json"), answers).unwrap();
        let mut command = Command::cargo_bin("paceline").unwrap();
        command
            .current_dir(dir.path())
            .args(["questionnaire", "run"])
            .arg(&csat)
            .args(["--answers", "answers.json", "--sample", "sample.json", "--json"]);
        let out = command.assert().success().get_output().stdout.clone();
        json(&out)
    };
    let done = run(
        r#"{"right_person": "yes", "overall": 5, "aspects": {"quality": "5"}, "recommend": 10, "comment": "fine"}"#,
    );
    assert_eq!(done["outcome"], "complete");
    assert_eq!(
        done["path"],
        serde_json::json!([
            "intro",
            "right_person",
            "overall",
            "aspects",
            "recommend",
            "comment",
            "thanks"
        ])
    );
    assert_eq!(done["answers"]["nps_group"], "promoter");
    assert_eq!(done["answers"]["overall"], 5);
    let screened = run(r#"{"right_person": "no"}"#);
    assert_eq!(screened["outcome"], "screened_out");
    assert_eq!(screened["reason"], "wrong_person");
    let stopped = run(r#"{"right_person": "yes", "overall": 9}"#);
    assert_eq!(stopped["outcome"], "stopped");
    assert_eq!(stopped["reason"], "overall");
    assert_eq!(
        stopped["errors"],
        serde_json::json!([{"question": "overall", "message": "a rating is a whole number from 1 to 5"}])
    );
    let unanswered = run(r#"{"right_person": "yes"}"#);
    assert_eq!(
        (unanswered["outcome"].as_str(), unanswered["reason"].as_str()),
        (Some("stopped"), Some("overall"))
    );
    assert_eq!(unanswered["errors"], serde_json::json!([]));
}

#[test]
fn questionnaire_run_screens_out_a_full_quota_cell() {
    let dir = tempfile::tempdir().unwrap();
    let poll = Path::new(env!("CARGO_MANIFEST_DIR")).join("questionnaires/opinion-poll.toml");
    std::fs::write(dir.path().join("sample.json"), r#"{"region": "north"}"#).unwrap();
    std::fs::write(
        dir.path().join("answers.json"),
        r#"{"consent": "yes", "age": 62, "gender": "f", "registered": "yes", "likelihood": 0,
            "top_issues": ["health"], "approval": 3, "direction": "dont_know", "household": 1}"#,
    )
    .unwrap();
    let run = |counts: &str| {
        std::fs::write(dir.path().join("counts.json"), counts).unwrap();
        let mut command = Command::cargo_bin("paceline").unwrap();
        command
            .current_dir(dir.path())
            .args(["questionnaire", "run"])
            .arg(&poll)
            .args([
                "--answers",
                "answers.json",
                "--sample",
                "sample.json",
                "--quota-counts",
                "counts.json",
                "--json",
            ]);
        command.assert()
    };
    let out = run(r#"{"rga north/f/55+": 29}"#).success().get_output().stdout.clone();
    assert_eq!(json(&out)["outcome"], "complete");
    let out = run(r#"{"rga north/f/55+": 30}"#).success().get_output().stdout.clone();
    let report = json(&out);
    assert_eq!(report["outcome"], "screened_out");
    assert_eq!(report["reason"], "quota rga north/f/55+");
    run(r#"{"rga north/x/55+": 3}"#)
        .failure()
        .stderr(predicate::str::contains(
            "'rga north/x/55+' is not a quota cell of opinion-poll",
        ));
}

/// One simulated hour of a small centre, in the test's store.
const SHORT_SCENARIO: &str = r#"
name = "report-hour"
warmup_hours = 0
hours = 1
abandon_target = 0.03
window_hours = 24
connect_grace_s = 2
[agents]
count = 4
wrap_up_s = { dist = "fixed", value = 10 }
[outcomes]
person = 0.35
machine = 0.15
no_answer = 0.50
[delay_s]
person = { dist = "uniform", min = 4, max = 20 }
machine = { dist = "uniform", min = 4, max = 20 }
no_answer = { dist = "uniform", min = 2, max = 25 }
[talk_time_s]
dist = "lognormal"
mean = 120
sd = 120
[amd]
enabled = true
analysis_s = 1.5
false_positive = 0.02
false_negative = 0.10
"#;

#[tokio::test]
async fn reports_add_up_to_what_the_store_holds() {
    let test = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hour.toml"), SHORT_SCENARIO).unwrap();
    Command::cargo_bin("paceline")
        .unwrap()
        .current_dir(dir.path())
        .args([
            "simulate",
            "--scenario",
            "hour.toml",
            "--sim-database",
            &test.url,
            "--json",
        ])
        .assert()
        .success();
    // The simulated hour, from its first agent state change to a minute after its last (the
    // agents stay signed in when the simulation stops).
    let (first, last): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) = paceline_dialer::with_db!(
        &test.db,
        |p| sqlx::query_as("SELECT MIN(at), MAX(at) FROM agent_state_changes")
            .fetch_one(p)
            .await
            .unwrap()
    );
    let (from, to) = (
        (first - chrono::Duration::minutes(1)).to_rfc3339(),
        (last + chrono::Duration::minutes(1)).to_rfc3339(),
    );
    let report = |args: &[&str]| {
        let mut command = paceline(&test, dir.path());
        command.args(["report"]).args(args).args(["--from", &from, "--to", &to]);
        command
    };

    // The dialer report, per day, against the attempts table.
    let out = report(&["dialer", "--interval", "day", "--format", "json"])
        .assert()
        .success();
    let rows = json(&out.get_output().stdout);
    let sum =
        |rows: &Value, key: &str| -> u64 { rows.as_array().unwrap().iter().map(|r| r[key].as_u64().unwrap()).sum() };
    let (dials, abandons, bridged): (i64, i64, i64) = paceline_dialer::with_db!(&test.db, |p| {
        sqlx::query_as(
        "SELECT COUNT(*), SUM(CASE WHEN abandoned THEN 1 ELSE 0 END), COUNT(bridged_at) FROM attempts WHERE dialed_at IS NOT NULL"
    )
    .fetch_one(p)
    .await
    .unwrap()
    });
    assert!(dials > 50, "the hour dialed only {dials}");
    assert_eq!(sum(&rows, "dials"), dials as u64, "{rows}");
    assert_eq!(sum(&rows, "abandons"), abandons as u64, "{rows}");
    assert_eq!(sum(&rows, "bridged"), bridged as u64, "{rows}");
    assert!(sum(&rows, "machines") > 0, "{rows}");

    // Agent productivity per day, as CSV in a file: the states add up to the time logged in,
    // and the calls to what was bridged to agents.
    let file = dir.path().join("agents.csv");
    report(&[
        "agent-productivity",
        "--format",
        "csv",
        "--output",
        file.to_str().unwrap(),
    ])
    .assert()
    .success();
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no {name} in {header:?}"))
    };
    let mut contacts = 0u64;
    let mut agents = 0;
    let mut logged_in = 0.0;
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        let f = |name: &str| cells[at(name)].parse::<f64>().unwrap();
        logged_in += f("logged_in");
        let parts = f("ready") + f("not_ready") + f("reserved") + f("talk") + f("wrap_up");
        assert!((f("logged_in") - parts).abs() < 0.01, "{line}");
        assert!(f("talk") > 0.0, "{line}");
        assert!(
            f("logged_in") > 3000.0 && f("logged_in") < 3900.0,
            "about the hour: {line}"
        );
        contacts += cells[at("contacts")].parse::<u64>().unwrap();
        agents += 1;
    }
    assert_eq!(agents, 4, "{text}");
    assert_eq!(contacts, bridged as u64);

    // Beside the calls, the campaign's staffing and its rule: agent hours are its agents'
    // logged-in time; the abandon rate over its 24-hour window is counted as the runtime
    // counts it (persons the detector took for machines estimated at its 2% false positives).
    let out = report(&["dialer", "--interval", "day", "--format", "json"])
        .assert()
        .success();
    let rows = json(&out.get_output().stdout);
    let rows = rows.as_array().unwrap();
    let agent_hours: f64 = rows.iter().map(|r| r["agent_hours"].as_f64().unwrap_or(0.0)).sum();
    // Each report takes the changes to the millisecond its own way: within a second in all.
    assert!(
        (agent_hours * 3600.0 - logged_in).abs() < 1.0,
        "{agent_hours} h against {logged_in} s"
    );
    assert!(rows.iter().all(|r| r["dial_level"].as_f64().unwrap() > 0.0), "{rows:?}");
    let last = rows.last().unwrap();
    assert_eq!(last["ceiling"], 0.03, "{last}");
    let (machines, persons, person_abandons): (i64, i64, i64) = paceline_dialer::with_db!(&test.db, |p| {
        sqlx::query_as(
            "SELECT SUM(CASE WHEN amd_verdict = 'machine' THEN 1 ELSE 0 END),
                    SUM(CASE WHEN amd_verdict = 'machine' THEN 0 ELSE 1 END),
                    SUM(CASE WHEN amd_verdict = 'machine' OR NOT abandoned THEN 0 ELSE 1 END)
             FROM attempts WHERE answered_at IS NOT NULL",
        )
        .fetch_one(p)
        .await
        .unwrap()
    });
    let hidden = (persons as f64 * 0.02 / 0.98).min(machines as f64);
    let expected = (person_abandons as f64 + hidden) / (persons as f64 + hidden);
    let rate = last["window_abandon_rate"].as_f64().unwrap();
    assert!((rate - expected).abs() < 1e-9, "{rate} against {expected}: {last}");
    assert_eq!(last["over_ceiling"], expected > 0.03, "{last}");

    // On India's clock (UTC+5:30), the hours are India's: the first is the hour of India's
    // clock the first call was dialed in, and every call is in one.
    let (first_dial,): (chrono::DateTime<chrono::Utc>,) = paceline_dialer::with_db!(&test.db, |p| {
        sqlx::query_as("SELECT MIN(dialed_at) FROM attempts")
            .fetch_one(p)
            .await
            .unwrap()
    });
    let out = report(&[
        "dialer",
        "--interval",
        "hour",
        "--time-zone",
        "Asia/Kolkata",
        "--format",
        "json",
    ])
    .assert()
    .success();
    let local = json(&out.get_output().stdout);
    assert_eq!(sum(&local, "dials"), dials as u64, "{local}");
    let hour = local[0]["interval"].as_str().unwrap().replace('T', " ");
    let expected = first_dial
        .with_timezone(&chrono_tz::Asia::Kolkata)
        .format("%Y-%m-%d %H:00:00")
        .to_string();
    assert!(hour.starts_with(&expected), "{hour} against {expected}");
    // The call log on India's clock: a row per call placed, its first dialed at the first
    // dial's wall-clock time there, and each call's talk and hold as the store's times give.
    let out = report(&["calls", "--time-zone", "Asia/Kolkata", "--format", "json"])
        .assert()
        .success();
    let calls = json(&out.get_output().stdout);
    let calls = calls.as_array().unwrap();
    assert_eq!(calls.len() as i64, dials);
    let expected = first_dial
        .with_timezone(&chrono_tz::Asia::Kolkata)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    let first_row = calls[0]["dialed_at"].as_str().unwrap().replace('T', " ");
    assert!(first_row.starts_with(&expected), "{first_row} against {expected}");
    type Spans = (
        i64,
        Option<chrono::DateTime<chrono::Utc>>,
        Option<chrono::DateTime<chrono::Utc>>,
        Option<chrono::DateTime<chrono::Utc>>,
        bool,
    );
    let stored: Vec<Spans> = paceline_dialer::with_db!(&test.db, |p| {
        sqlx::query_as(
            "SELECT id, answered_at, bridged_at, ended_at, abandoned FROM attempts WHERE dialed_at IS NOT NULL",
        )
        .fetch_all(p)
        .await
        .unwrap()
    });
    let by_id: std::collections::HashMap<i64, Spans> = stored.into_iter().map(|s| (s.0, s)).collect();
    let seconds = |a: Option<chrono::DateTime<chrono::Utc>>, b: Option<chrono::DateTime<chrono::Utc>>| {
        Some((b? - a?).num_milliseconds() as f64 / 1000.0)
    };
    let mut held = 0;
    for call in calls {
        let (_, answered, bridged, ended, abandoned) = by_id[&call["attempt"].as_i64().unwrap()];
        assert_eq!(call["talk_seconds"].as_f64(), seconds(bridged, ended), "{call}");
        if bridged.is_some() || abandoned {
            assert_eq!(
                call["hold_seconds"].as_f64(),
                seconds(answered, bridged.or(ended)),
                "{call}"
            );
            held += 1;
        } else {
            assert!(call["hold_seconds"].is_null(), "nobody waited: {call}");
        }
    }
    assert_eq!(held, bridged + abandons, "every person bridged or abandoned waited");

    // Agent productivity per day of New York: the same time, in New York's days.
    let out = report(&[
        "agent-productivity",
        "--time-zone",
        "America/New_York",
        "--format",
        "json",
    ])
    .assert()
    .success();
    let local = json(&out.get_output().stdout);
    let local_logged_in: f64 = local
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["logged_in"].as_f64().unwrap())
        .sum();
    assert!((local_logged_in - logged_in).abs() < 0.01, "{local}");
    let new_york_day = first
        .with_timezone(&chrono_tz::America::New_York)
        .format("%Y-%m-%d 00:00:00")
        .to_string();
    assert!(
        local[0]["period"]
            .as_str()
            .unwrap()
            .replace('T', " ")
            .starts_with(&new_york_day),
        "{local} against {new_york_day}"
    );
    let refused = |args: &[&str], message: &str| {
        report(args)
            .assert()
            .failure()
            .stderr(predicate::str::contains(message));
    };
    refused(
        &["dialer", "--time-zone", "Mars/Olympus"],
        "'Mars/Olympus' is not a time zone",
    );

    // Record fields: the calls to records whose id contains "S0000000" (S00000001 to
    // S00000009), against the attempts to those records.
    let (picked_dials,): (i64,) = paceline_dialer::with_db!(&test.db, |p| {
        sqlx::query_as(
            "SELECT COUNT(*) FROM attempts a JOIN records r ON r.id = a.record_id
             WHERE a.dialed_at IS NOT NULL AND r.dedupe_key LIKE 'S0000000%'",
        )
        .fetch_one(p)
        .await
        .unwrap()
    });
    let out = report(&[
        "dialer",
        "--interval",
        "day",
        "--where",
        "respondent_id~s0000000",
        "--format",
        "json",
    ])
    .assert()
    .success();
    let rows = json(&out.get_output().stdout);
    assert!(picked_dials > 0);
    assert_eq!(sum(&rows, "dials"), picked_dials as u64, "{rows}");
    refused(
        &["dialer", "--where", "respondent_id=S99999999"],
        "for records with respondent_id=S99999999",
    );
    report(&["dialer", "--where", "town=Leeds"]).assert().failure().stderr(
        predicate::str::contains("--where: town=Leeds: 'town' is not a record field of")
            .and(predicate::str::contains("the fields are phone, respondent_id")),
    );
    refused(
        &["agent-productivity", "--where", "respondent_id=S00000001"],
        "cannot be filtered by record fields",
    );
    refused(
        &["dialer", "--where", "respondent_id"],
        "is not a condition on a record field",
    );

    // Filters: one agent, a team nobody is in.
    let out = report(&[
        "agent-productivity",
        "--agent",
        "sim-report-hour-agent-001",
        "--format",
        "json",
    ])
    .assert()
    .success();
    let rows = json(&out.get_output().stdout);
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert_eq!(rows[0]["agent"], "sim-report-hour-agent-001");
    report(&["agent-productivity", "--team", "nobody"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("for team 'nobody'"));

    // Parquet to a file; bad input named.
    let parquet = dir.path().join("dialer.parquet");
    report(&["dialer", "--format", "parquet", "--output", parquet.to_str().unwrap()])
        .assert()
        .success();
    assert_eq!(&std::fs::read(&parquet).unwrap()[..4], b"PAR1");
    report(&["dialer", "--format", "parquet"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("give --output FILE"));

    // XLSX, and the report's chart beside it.
    let xlsx = dir.path().join("dialer.xlsx");
    let svg = dir.path().join("dialer.svg");
    report(&[
        "dialer",
        "--format",
        "xlsx",
        "--output",
        xlsx.to_str().unwrap(),
        "--chart",
        svg.to_str().unwrap(),
    ])
    .assert()
    .success();
    assert_eq!(&std::fs::read(&xlsx).unwrap()[..2], b"PK");
    let svg = std::fs::read_to_string(&svg).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("dials"), "{svg}");
    let png = dir.path().join("agents.png");
    report(&[
        "agent-productivity",
        "--format",
        "csv",
        "--chart",
        png.to_str().unwrap(),
    ])
    .assert()
    .success();
    assert_eq!(&std::fs::read(&png).unwrap()[..4], b"\x89PNG");
    report(&["dialer", "--chart", "dialer.gif"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("name a .svg or a .png file"));
    report(&["league-table"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "there is no report 'league-table'; reports are agent-productivity, dialer",
        ));
    report(&["dialer", "--interval", "fortnight"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("'fortnight' is not an interval"));
    report(&["dialer", "--campaign", "nowhere"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("nothing to report"));
}

#[tokio::test]
async fn answers_export_reads_back_in_spss_with_their_labels() {
    let test = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    paceline(&test, dir.path())
        .args(["demo", "--setup-only", "--records", "20", "--interviewers", "1"])
        .assert()
        .success();
    let ids = common::seed_interviews(&test.db).await;
    let export = |args: &[&str]| {
        let mut command = paceline(&test, dir.path());
        command.args(["export"]).args(args);
        command
    };

    // SPSS, read back by an independent reader.
    let sav = dir.path().join("health.sav");
    export(&[
        "answers",
        "--campaign",
        "demo-survey",
        "--format",
        "sav",
        "--output",
        sav.to_str().unwrap(),
    ])
    .assert()
    .success()
    .stderr(predicate::str::contains("4 interviews"));
    let script = r#"
import datetime, json, math, sys, pyreadstat
data, meta = pyreadstat.read_sav(sys.argv[1], user_missing=True, output_format="dict")
def plain(v):
    if hasattr(v, "item"): v = v.item()
    if isinstance(v, (datetime.date, datetime.datetime)): return v.isoformat()
    if isinstance(v, float) and math.isnan(v): return None
    return v
rows = [{n: plain(data[n][i]) for n in meta.column_names} for i in range(meta.number_rows)]
print(json.dumps({"names": meta.column_names, "labels": meta.column_names_to_labels,
                  "value_labels": {k: {str(int(c)): l for c, l in v.items()} for k, v in meta.variable_value_labels.items()},
                  "missing": {k: [r["lo"] for r in v] for k, v in meta.missing_ranges.items()},
                  "rows": rows}))
"#;
    let read = std::process::Command::new("python3")
        .args(["-c", script, sav.to_str().unwrap()])
        .output()
        .expect("python3 runs (pip install pyreadstat)");
    assert!(
        read.status.success(),
        "pyreadstat could not read the file (pip install pyreadstat): {}",
        String::from_utf8_lossy(&read.stderr)
    );
    let spss = json(&read.stdout);
    let rows = spss["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 4, "{spss}");
    assert_eq!(
        rows.iter()
            .map(|r| r["interview_id"].as_f64().unwrap() as i64)
            .collect::<Vec<_>>(),
        ids
    );
    let names: Vec<&str> = spss["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    for name in [
        "interviewer",
        "length_s",
        "respondent_id",
        "sample_age",
        "consent",
        "age",
        "conditions_asthma",
        "conditions_diabetes",
    ] {
        assert!(names.contains(&name), "{name} is missing from {names:?}");
    }
    assert_eq!(rows[0]["age"], 44.0);
    assert_eq!(rows[1]["age"], 31.0);
    assert_eq!(rows[0]["interviewer"], "sim-01");
    assert_eq!(rows[0]["conditions_asthma"], 1.0);
    assert_eq!(rows[0]["conditions_diabetes"], 0.0);
    assert_eq!(rows[1]["conditions_diabetes"], 1.0);
    // The gender codes carry their labels; the two completes differ.
    let gender = &spss["value_labels"]["gender"];
    let label = |row: &Value| {
        gender[(row["gender"].as_f64().unwrap() as i64).to_string()]
            .as_str()
            .unwrap()
            .to_lowercase()
    };
    assert!(label(&rows[0]).contains("female"), "{gender}");
    assert!(!label(&rows[1]).contains("female"), "{gender}");
    // The interview left after five questions never reached the last one: not asked (-1),
    // declared missing.
    assert_eq!(rows[2]["recontact"], -1.0, "{}", rows[2]);
    assert_eq!(rows[3]["consent"], 2.0, "{}", rows[3]);
    assert_eq!(rows[3]["gender"], -1.0, "refused consent, so never asked: {}", rows[3]);
    // The sample's own age gives the question its name.
    assert!(rows[3]["sample_age"].is_number(), "{}", rows[3]);
    assert!(rows[3]["age"].is_null(), "{}", rows[3]);
    assert!(
        spss["missing"]["recontact"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(-1.0)),
        "{spss}"
    );
    assert_eq!(
        spss["value_labels"]["state"][&rows[0]["state"].as_f64().unwrap().to_string().replace(".0", "")],
        "Complete"
    );
    assert!(rows[0]["length_s"].as_f64().unwrap() > 0.0);
    assert!(spss["labels"]["age"].as_str().is_some_and(|l| !l.is_empty()), "{spss}");

    // CSV with labels, to the terminal.
    let out = export(&[
        "answers",
        "--campaign",
        "demo-survey",
        "--interviews",
        "complete",
        "--labels",
    ])
    .assert()
    .success();
    let mut csv = csv::Reader::from_reader(&out.get_output().stdout[..]);
    let header = csv.headers().unwrap().clone();
    let records: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    // Refusing consent skips the rest of this form, which then completes.
    assert_eq!(records.len(), 3, "only the completes");
    let gender_at = header.iter().position(|h| h == "gender").unwrap();
    assert!(
        records[0][gender_at].to_lowercase().contains("female"),
        "{:?}",
        &records[0]
    );

    // Triple-S, XLSX and Parquet files; the codebook.
    let xml = dir.path().join("health.xml");
    export(&[
        "answers",
        "--campaign",
        "demo-survey",
        "--format",
        "sss",
        "--output",
        xml.to_str().unwrap(),
    ])
    .assert()
    .success();
    assert!(std::fs::read_to_string(&xml).unwrap().contains("<sss"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("health.dat"))
            .unwrap()
            .lines()
            .count(),
        4
    );
    let xlsx = dir.path().join("health.xlsx");
    export(&[
        "answers",
        "--campaign",
        "demo-survey",
        "--format",
        "xlsx",
        "--output",
        xlsx.to_str().unwrap(),
    ])
    .assert()
    .success();
    assert_eq!(&std::fs::read(&xlsx).unwrap()[..2], b"PK");
    let out = export(&["codebook", "--campaign", "demo-survey"]).assert().success();
    let book = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(book.contains("## `age`"), "{book}");
    assert!(
        book.contains("- Asked when: `"),
        "routing conditions are listed: {book}"
    );
    assert!(book.contains("4 cases"), "{book}");

    // Bad input is named; nothing is written.
    export(&["answers", "--campaign", "nowhere"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("nowhere"));
    export(&["answers", "--campaign", "demo-survey", "--fields", "shoe_size"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("no field 'shoe_size'"));
    export(&["answers", "--campaign", "demo-survey", "--format", "sav"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("give --output FILE"));
    export(&["answers", "--campaign", "demo-wave-2"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("has no interviews"));

    // The survey progress reports over the same interviews.
    let report = |args: &[&str]| {
        let mut command = paceline(&test, dir.path());
        command
            .args(["report"])
            .args(args)
            .args(["--campaign", "demo-survey", "--format", "json"]);
        command
    };
    // How many interviews the drop-off report says reached the consent question.
    let reached_consent = |rows: &Value| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["question"] == "consent")
            .unwrap()["reached"]
            .clone()
    };
    let out = report(&["drop-off"]).assert().success();
    let rows = json(&out.get_output().stdout);
    assert_eq!(reached_consent(&rows), 4, "{rows}");
    let broke_off: u64 = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["broke_off"].as_u64().unwrap())
        .sum();
    assert_eq!(broke_off, 1, "the one left after five questions: {rows}");
    let out = report(&["interview-length"]).assert().success();
    let rows = json(&out.get_output().stdout);
    let completes: u64 = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["interviews"].as_u64().unwrap())
        .sum();
    assert_eq!(completes, 3, "{rows}");
    let out = report(&["aapor"]).assert().success();
    let rows = json(&out.get_output().stdout);
    assert!(rows.as_array().unwrap().iter().any(|r| r["measure"] == "RR1"), "{rows}");

    // Conditions on the records' fields: the first seeded record alone, by its id.
    let respondent = format!("respondent_id={}", common::first_respondent(&test.db).await);
    let out = export(&["answers", "--campaign", "demo-survey", "--where", &respondent])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert_eq!(text.lines().count(), 2, "the header and the one interview: {text}");
    let out = report(&["drop-off", "--where", &respondent]).assert().success();
    let rows = json(&out.get_output().stdout);
    assert_eq!(reached_consent(&rows), 1, "{rows}");
    // AAPOR over the one record: one case in all.
    let out = report(&["aapor", "--where", &respondent]).assert().success();
    let rows = json(&out.get_output().stdout);
    let cases: f64 = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| ["I", "P", "R", "NC", "O", "UH", "UO", "NE"].contains(&r["measure"].as_str().unwrap()))
        .map(|r| r["value"].as_f64().unwrap())
        .sum();
    assert_eq!(cases, 1.0, "{rows}");
    export(&[
        "answers",
        "--campaign",
        "demo-survey",
        "--where",
        "respondent_id=nobody",
    ])
    .assert()
    .failure()
    .stderr(predicate::str::contains("of records with respondent_id=nobody"));
    export(&["answers", "--campaign", "demo-survey", "--where", "shoe_size>3"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "'shoe_size' is not a record field of campaign 'demo-survey'",
        ));
    report(&["quotas", "--where", &respondent])
        .assert()
        .failure()
        .stderr(predicate::str::contains("cannot be filtered by record fields"));
    report(&["quotas"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("nothing to report"));
    paceline(&test, dir.path())
        .args(["report", "drop-off"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "the drop-off report is about one survey campaign",
        ));
}
