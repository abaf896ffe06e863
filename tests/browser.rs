//! The web application in headless Chromium, as a person uses it (Debian packages `chromium`
//! and `chromium-driver`; `.ci/run` installs them and runs these tests with `--ignored`):
//! an agent signs in, chooses one of their two campaigns, goes ready, takes a live predictive
//! call of the demo, corrects the record on screen (F7), answers the
//! questionnaire to the end with the keyboard alone and gives the disposition, while the
//! supervisor's wallboard shows the agent on the call and then the completed interview; an
//! analyst is refused the agent desktop, the wallboard and the admin console; the admin
//! console shows the campaigns and a questionnaire's errors with their place; an agent in
//! preview mode skips a record with F6 and dials the next with F4; an analyst sees a report's
//! chart beside its table (above it on a narrow screen) and saves survey answers, and an agent
//! is refused the reports page. Screenshots are kept in `target/browser-artifacts/`.

mod chromium;
mod common;

use std::path::Path;
use std::time::Duration;

use chromium::{artifacts, chromium, sign_in, wait_for_text};
use common::Running;
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use paceline_dialer::store::testing::TestDb;
use serde_json::{Value, json};

/// The demo on a free port (two simulated interviewers beside the person).
fn demo(test: &TestDb, dir: &Path) -> (Running, String) {
    common::demo(test, dir, 2)
}

/// The demo's agent signed in, on the desktop, signed in to the phone (not ready).
async fn on_the_phone(client: &Client, url: &str) {
    sign_in(client, url, "agent", "demo-agent-pw").await;
    client.goto(&format!("{url}/agent")).await.unwrap();
    client
        .wait()
        .for_element(Locator::Css("#state[data-state='logged_out']"))
        .await
        .unwrap();
    client
        .find(Locator::Id("phone-in"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_state(client, "not_ready", 10).await;
}

/// The desktop's state as the page's own session reads it from the API.
async fn desktop(client: &Client) -> Value {
    client
        .execute("return fetch('/api/agent').then((r) => r.json());", vec![])
        .await
        .unwrap()
}

/// Presses a key on whatever has the focus.
async fn press(client: &Client, key: &str) {
    client.active_element().await.unwrap().send_keys(key).await.unwrap();
}

async fn state(client: &Client) -> String {
    client
        .find(Locator::Id("state"))
        .await
        .unwrap()
        .attr("data-state")
        .await
        .unwrap()
        .unwrap_or_default()
}

async fn wait_for_state(client: &Client, want: &str, seconds: u64) {
    for _ in 0..seconds * 4 {
        if state(client).await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("the desktop never showed '{want}' (it shows '{}')", state(client).await);
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver; .ci/run installs them and runs it"]
async fn an_agent_takes_a_call_and_answers_with_the_keyboard_alone() {
    let test = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let (_demo, url) = demo(&test, dir.path());
    let (_driver, client) = chromium().await;

    // The supervisor watches the wallboard in a browser of their own.
    let (_driver2, board) = chromium().await;
    sign_in(&board, &url, "supervisor", "demo-supervisor-pw").await;
    board.goto(&format!("{url}/wallboard")).await.unwrap();
    board
        .wait()
        .for_element(Locator::Css("#agents tr[data-agent='agent']"))
        .await
        .unwrap();

    on_the_phone(&client, &url).await;
    // Signed in to both demo campaigns; the agent takes calls from the first only (DIAL-03).
    let wave_2 = "#campaign-picks input[data-campaign='demo-wave-2']";
    client.wait().for_element(Locator::Css(wave_2)).await.unwrap();
    client.find(Locator::Css(wave_2)).await.unwrap().click().await.unwrap();
    for _ in 0..40 {
        let view = desktop(&client).await;
        let chosen: Vec<&str> = view["campaigns"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["chosen"] == true)
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        if chosen == ["demo-survey"] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    press(&client, &Key::F2.to_string()).await;
    wait_for_state(&client, "ready", 10).await;
    // A predictive call reaches the agent within a couple of minutes of the demo's dialing.
    wait_for_state(&client, "on_call", 180).await;
    client
        .wait()
        .for_element(Locator::Css("#question-text[data-name]"))
        .await
        .unwrap();
    // The agent corrects the record on screen: F7, a field, Enter (CATI-01).
    press(&client, &Key::F7.to_string()).await;
    let first_name = client
        .wait()
        .for_element(Locator::Css("#record-inputs input[data-field='first_name']"))
        .await
        .unwrap();
    first_name.clear().await.unwrap();
    first_name.send_keys("Josephine").await.unwrap();
    first_name.send_keys(&Key::Enter.to_string()).await.unwrap();
    client
        .wait()
        .for_element(Locator::Css("#record-edit[hidden]"))
        .await
        .unwrap();
    wait_for_text(&client, "#record", "Josephine", 10).await;
    client
        .screenshot()
        .await
        .map(|png| std::fs::write(artifacts().join("agent-desktop.png"), png).unwrap())
        .unwrap();
    // The wallboard shows the agent on the call, and the call among those in progress.
    wait_for_text(&board, "#agents tr[data-agent='agent']", "on call", 10).await;
    wait_for_text(&board, "#call-list", "Demo Agent", 10).await;
    board
        .screenshot()
        .await
        .map(|png| std::fs::write(artifacts().join("wallboard.png"), png).unwrap())
        .unwrap();

    let answers: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("questionnaires/health-survey.answers.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut asked: Vec<String> = Vec::new();
    loop {
        if client
            .find(Locator::Id("question"))
            .await
            .unwrap()
            .attr("hidden")
            .await
            .unwrap()
            .is_some()
        {
            break;
        }
        let name = client
            .find(Locator::Id("question-text"))
            .await
            .unwrap()
            .attr("data-name")
            .await
            .unwrap()
            .unwrap();
        if asked.last() == Some(&name) {
            // Not moved on yet: wait for the desktop to show the next question.
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        assert!(asked.len() < 100, "the interview does not end: {asked:?}");
        asked.push(name.clone());
        let value = answers.get(&name).cloned().unwrap_or(Value::Null);
        let options = client.find_all(Locator::Css("#options li")).await.unwrap();
        if !options.is_empty() {
            let picks: Vec<String> = match &value {
                Value::Array(items) => items.iter().map(|v| v.as_str().unwrap().to_string()).collect(),
                Value::String(s) => vec![s.clone()],
                _ => vec![],
            };
            for pick in picks {
                let mut index = None;
                for (i, option) in options.iter().enumerate() {
                    if option.attr("data-option").await.unwrap().as_deref() == Some(pick.as_str()) {
                        index = Some(i);
                    }
                }
                let index = index.unwrap_or_else(|| panic!("{name}: no option '{pick}' on screen"));
                press(&client, &(index + 1).to_string()).await;
            }
            press(&client, &Key::Enter.to_string()).await;
        } else {
            let text = match &value {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            // The answer field has the focus for a typed answer; the date field takes its
            // digits in the browser's order.
            let field = client.active_element().await.unwrap();
            if field.attr("type").await.unwrap().as_deref() == Some("date") {
                client
                    .execute(
                        "document.getElementById('answer').value = arguments[0];",
                        vec![json!(text)],
                    )
                    .await
                    .unwrap();
            } else if !text.is_empty() {
                field.send_keys(&text).await.unwrap();
            }
            press(&client, &Key::Enter.to_string()).await;
        }
    }
    let ended = client
        .find(Locator::Id("ended-how"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(ended, "complete", "after {asked:?}");
    press(&client, &Key::F9.to_string()).await;
    wait_for_state(&client, "wrap_up", 10).await;
    press(&client, &Key::F10.to_string()).await;
    client.wait().for_element(Locator::Css("#wrap[hidden]")).await.unwrap();
    client
        .screenshot()
        .await
        .map(|png| std::fs::write(artifacts().join("agent-after-disposition.png"), png).unwrap())
        .unwrap();
    let (disposition,): (String,) = paceline_dialer::with_db!(&test.db, |p| sqlx::query_as(
        "SELECT r.last_disposition FROM interviews i JOIN records r ON r.id = i.record_id
         WHERE i.interviewer_id = (SELECT id FROM users WHERE login = 'agent')"
    )
    .fetch_one(p)
    .await
    .unwrap());
    assert_eq!(disposition, "complete");
    // The agent looks the call up among theirs, and the record's answers (CATI-04).
    let answers_button = "#calls tbody tr button[data-record]";
    client.wait().for_element(Locator::Css(answers_button)).await.unwrap();
    client
        .find(Locator::Css(answers_button))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&client, "#answers-list", "complete", 10).await;
    wait_for_text(&client, "#answers-list", "75011", 10).await;
    // ... and the completed interview.
    wait_for_text(&board, "#agents tr[data-agent='agent'] td.completes", "1", 10).await;
    board.close().await.unwrap();

    // An analyst may not open the agent desktop.
    client.delete_all_cookies().await.unwrap();
    sign_in(&client, &url, "analyst", "demo-analyst-pw").await;
    client.goto(&format!("{url}/agent")).await.unwrap();
    let body = client.find(Locator::Css("body")).await.unwrap().text().await.unwrap();
    assert!(
        body.contains("'analyst' may not do this: it needs the role agent"),
        "{body}"
    );
    client.goto(&format!("{url}/wallboard")).await.unwrap();
    let body = client.find(Locator::Css("body")).await.unwrap().text().await.unwrap();
    assert!(
        body.contains("'analyst' may not do this: it needs the role supervisor or admin"),
        "{body}"
    );
    client.goto(&format!("{url}/admin")).await.unwrap();
    let body = client.find(Locator::Css("body")).await.unwrap().text().await.unwrap();
    assert!(
        body.contains("'analyst' may not do this: it needs the role admin"),
        "{body}"
    );

    // The admin console: the campaigns with their lifecycle steps, a questionnaire's errors
    // shown with their place.
    client.delete_all_cookies().await.unwrap();
    sign_in(&client, &url, "admin", "demo-admin-pw").await;
    client.goto(&format!("{url}/admin")).await.unwrap();
    wait_for_text(&client, "#campaigns tr[data-campaign='demo-survey']", "running", 10).await;
    let broken = dir.path().join("broken.toml");
    std::fs::write(
        &broken,
        "id = \"b\"\ntitle = \"B\"\n[[questions]]\nname = \"q\"\ntype = \"integer\"\nlabel = \"Q?\"\nrelevant = \"${nope} > 1\"\n",
    )
    .unwrap();
    client
        .find(Locator::Css("#questionnaire input[type=file]"))
        .await
        .unwrap()
        .send_keys(broken.to_str().unwrap())
        .await
        .unwrap();
    client
        .find(Locator::Css("#questionnaire button[value=check]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&client, "#check-result", "key relevant", 10).await;
    client
        .screenshot()
        .await
        .map(|png| std::fs::write(artifacts().join("admin-console.png"), png).unwrap())
        .unwrap();
    client.close().await.unwrap();
}

async fn text_of(client: &Client, css: &str) -> String {
    match client.find(Locator::Css(css)).await {
        Ok(element) => element.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver; .ci/run installs them and runs it"]
async fn an_agent_previews_records_and_skips_or_dials_them_with_the_keyboard() {
    let test = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let (_demo, url) = common::demo(&test, dir.path(), 0);
    let (_driver, client) = chromium().await;
    on_the_phone(&client, &url).await;
    // Preview mode (DIAL-04), then ready: a record is shown before anything is dialed.
    client
        .find(Locator::Id("mode"))
        .await
        .unwrap()
        .select_by_value("preview")
        .await
        .unwrap();
    for _ in 0..40 {
        let view = desktop(&client).await;
        if view["mode"] == "preview" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    press(&client, &Key::F2.to_string()).await;
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#preview:not([hidden])"))
        .await
        .unwrap();
    let first = text_of(&client, "#preview-record").await;
    assert!(!first.is_empty());
    wait_for_text(&client, "#preview-fields", "respondent_id", 10).await;
    client
        .screenshot()
        .await
        .map(|png| std::fs::write(artifacts().join("agent-preview.png"), png).unwrap())
        .unwrap();
    // F6 skips it: the next record is shown.
    press(&client, &Key::F6.to_string()).await;
    let mut second = String::new();
    for _ in 0..80 {
        second = text_of(&client, "#preview:not([hidden]) #preview-record").await;
        if !second.is_empty() && second != first {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_ne!(second, first, "F6 did not show another record");
    // F4 dials the record shown; the dial is stored within the runtime's commit interval.
    press(&client, &Key::F4.to_string()).await;
    let record: i64 = second.trim().parse().unwrap();
    let mut dialed = 0;
    for _ in 0..80 {
        dialed = paceline_dialer::with_db!(&test.db, |p| sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM attempts WHERE record_id = $1 AND dial_mode = 'preview' AND dialed_at IS NOT NULL"
        )
        .bind(record)
        .fetch_one(p)
        .await
        .unwrap());
        if dialed > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(dialed, 1, "F4 did not dial record {record}");
    client.close().await.unwrap();
}

/// The rectangle (left, top, right, bottom) of the element, in the page's pixels.
async fn rect(client: &Client, css: &str) -> [f64; 4] {
    let r: Value = client
        .execute(
            "const r = document.querySelector(arguments[0]).getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom];",
            vec![json!(css)],
        )
        .await
        .unwrap();
    let n = |i: usize| r[i].as_f64().unwrap();
    [n(0), n(1), n(2), n(3)]
}

/// Chooses `report`, shows it (again, until the demo has dialed enough for it), and waits
/// for its table's rows and its chart.
async fn show_report(client: &Client, report: &str, chart_text: &str) {
    client
        .find(Locator::Css(&format!("#report option[value='{report}']")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .find(Locator::Css("#report-campaign"))
        .await
        .unwrap()
        .select_by_value("demo-survey")
        .await
        .unwrap();
    for _ in 0..30 {
        submit(client).await;
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let shown: bool = client
            .execute(
                "return !document.getElementById('result').hidden \
                 && document.querySelectorAll('#report-table tbody tr').length > 0 \
                 && document.querySelector('#chart svg') !== null \
                 && document.querySelector('#chart svg').textContent.includes(arguments[0]);",
                vec![json!(chart_text)],
            )
            .await
            .unwrap()
            .as_bool()
            .unwrap_or(false);
        if shown {
            return;
        }
    }
    let message = text_of(client, "#report-message").await;
    chromium::screenshot(client, "failed.png").await;
    panic!("the {report} report never showed its table and chart (the page says '{message}')");
}

/// Submits the reports form.
async fn submit(client: &Client) {
    client
        .find(Locator::Css("#report-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Submits the reports form and waits for the refusal that says `message` and marks the
/// form's `field`.
async fn refused_field(client: &Client, message: &str, field: &str) {
    submit(client).await;
    wait_for_text(client, "#report-message", message, 10).await;
    client
        .find(Locator::Css(&format!("#report-form label.bad[data-field='{field}']")))
        .await
        .unwrap_or_else(|_| panic!("the {field} field is not marked"));
}

/// Chooses `report` and shows it (again, until the demo has calls for it), waiting for its
/// table's rows only.
async fn show_rows(client: &Client, report: &str) {
    client
        .find(Locator::Css(&format!("#report option[value='{report}']")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    for _ in 0..30 {
        submit(client).await;
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let rows: i64 = client
            .execute(
                "return document.getElementById('result').hidden ? 0 : document.querySelectorAll('#report-table tbody tr').length;",
                vec![],
            )
            .await
            .unwrap()
            .as_i64()
            .unwrap_or(0);
        if rows > 0 {
            return;
        }
    }
    let message = text_of(client, "#report-message").await;
    panic!("the {report} report never showed rows (the page says '{message}')");
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver; .ci/run installs them and runs it"]
async fn an_analyst_sees_each_reports_chart_beside_its_table() {
    let test = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let (_demo, url) = demo(&test, dir.path());
    let (_driver, client) = chromium().await;
    sign_in(&client, &url, "analyst", "demo-analyst-pw").await;
    client.goto(&format!("{url}/reports")).await.unwrap();
    client
        .wait()
        .for_element(Locator::Css("#report option[value='dialer']"))
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Css("#report-campaign option[value='demo-survey']"))
        .await
        .unwrap();

    // The dialer report of the demo's survey: the line chart beside the table, in one row.
    show_report(&client, "dialer", "Dials, person answers and abandons").await;
    let chart = rect(&client, "#chart").await;
    let table = rect(&client, ".table-wrap").await;
    assert!(
        chart[2] <= table[0],
        "the chart {chart:?} is not left of the table {table:?}"
    );
    assert!(
        (chart[1] - table[1]).abs() < 5.0,
        "the chart {chart:?} and the table {table:?} do not start level"
    );
    let page_width: f64 = client
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            vec![],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    assert!(page_width <= 0.0, "the page overflows sideways by {page_width}px");
    // Its downloads are offered.
    wait_for_text(&client, "#downloads", "Parquet", 5).await;
    chromium::screenshot(&client, "reports-dialer.png").await;
    // On a narrow screen the chart goes above the table, and nothing overflows sideways.
    client.set_window_size(700, 1000).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let chart = rect(&client, "#chart").await;
    let table = rect(&client, ".table-wrap").await;
    assert!(
        chart[3] <= table[1],
        "the chart {chart:?} is not above the table {table:?}"
    );
    let overflow: f64 = client
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            vec![],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    assert!(overflow <= 0.0, "the narrow page overflows sideways by {overflow}px");
    chromium::screenshot(&client, "reports-narrow.png").await;
    client.set_window_size(1280, 1000).await.unwrap();

    // Agent productivity: time by state as a pie.
    show_report(&client, "agent-productivity", "Agents' time by state").await;
    chromium::screenshot(&client, "reports-productivity.png").await;

    // The call log of the records a condition picks, on India's clock: the page says the zone.
    let set = async |name: &str, value: &str| {
        client
            .execute(
                "document.querySelector(`#report-form input[name=${arguments[0]}]`).value = arguments[1];",
                vec![json!(name), json!(value)],
            )
            .await
            .unwrap();
    };
    set("where", "age>=18; gender!=other").await;
    set("time_zone", "Asia/Kolkata").await;
    show_rows(&client, "calls").await;
    wait_for_text(&client, "#report-message", "Asia/Kolkata", 10).await;
    wait_for_text(&client, "#report-table thead", "hold seconds", 5).await;
    // No record is that old: the page says nothing matched, for which records.
    set("where", "age>=200").await;
    submit(&client).await;
    wait_for_text(
        &client,
        "#report-message",
        "Asia/Kolkata in campaign 'demo-survey' for records with age>=200",
        10,
    )
    .await;
    // A field the records lack is refused by name, and the conditions' input marked.
    set("where", "shoe_size=9").await;
    refused_field(&client, "shoe_size", "where").await;
    // And a zone that does not exist.
    set("where", "").await;
    set("time_zone", "Mars/Olympus").await;
    refused_field(&client, "Mars/Olympus", "time_zone").await;
    set("time_zone", "UTC").await;
    // AAPOR rates are a table without a chart.
    client
        .find(Locator::Css("#report option[value='aapor']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    submit(&client).await;
    wait_for_text(&client, "#chart", "no chart", 10).await;
    wait_for_text(&client, "#report-table", "RR1", 10).await;
    // A refusal says why and marks the field at fault: a range that ends before it starts.
    client
        .find(Locator::Css("#report option[value='dialer']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    set("from", "2099-01-01").await;
    refused_field(&client, "before it starts", "to").await;
    assert!(client.find(Locator::Css("#result[hidden]")).await.is_ok());

    // Survey data: the answers saved as SPSS, the codebook a link to open.
    common::seed_interviews(&test.db).await;
    client
        .find(Locator::Css("a.answers[data-format='sav']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&client, "#survey-message", "Saved demo-survey-answers-", 10).await;
    let codebook = client
        .find(Locator::Id("codebook-html"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(
        codebook.contains("/api/campaigns/demo-survey/codebook?format=html"),
        "{codebook}"
    );

    // An agent is refused the page.
    client.delete_all_cookies().await.unwrap();
    sign_in(&client, &url, "agent", "demo-agent-pw").await;
    client.goto(&format!("{url}/reports")).await.unwrap();
    wait_for_text(&client, "main", "may not do this", 10).await;
    client.close().await.unwrap();
}
