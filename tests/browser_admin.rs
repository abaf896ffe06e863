//! The admin console in headless Chromium, as an admin uses it (Debian packages `chromium` and
//! `chromium-driver`; `.ci/run` installs them and runs these tests with `--ignored`): a small
//! CSV with one bad row uploaded to a campaign, a column mapped to a field, the imported count
//! and the bad row's report seen; a setting saved from the form and a bad one refused by
//! name; a questionnaire previewed through two questions with a validation message and back;
//! a team made and joined, a number put on the do-not-call list and checked.
//! Screenshots are kept in `target/browser-artifacts/`.

// Not every helper of the shared start-up is used here (the live demo is not).
#[allow(dead_code)]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Running, paceline, serving};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use paceline_dialer::store::testing::TestDb;
use serde_json::json;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// chromedriver on a free port, and a headless Chromium session through it.
async fn chromium() -> (Running, Client) {
    let driver = std::env::var("PACELINE_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let port = free_port();
    let child = Command::new(&driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start {driver} ({e}): install the Debian packages chromium and chromium-driver")
        });
    let driver = Running(child);
    let chrome = std::env::var("PACELINE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chrome,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"],
        }),
    );
    for _ in 0..100 {
        if let Ok(client) = ClientBuilder::rustls()
            .expect("a TLS configuration")
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            return (driver, client);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start on port {port}");
}

/// The demo's users and campaigns, then `paceline serve` on a free port.
fn server(test: &TestDb, dir: &Path) -> (Running, String) {
    let status = paceline(test, dir)
        .args(["demo", "--records", "20", "--interviewers", "0", "--setup-only"])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let mut command = paceline(test, dir);
    command.args(["serve", "--port", "0"]);
    serving(command)
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Scrolls the page so the element is in the screenshot.
async fn scroll_to(client: &Client, css: &str) {
    client
        .execute(
            "document.querySelector(arguments[0]).scrollIntoView({ block: 'start' });",
            vec![json!(css)],
        )
        .await
        .unwrap();
}

async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    std::fs::write(artifacts().join(name), png).unwrap();
}

async fn sign_in(client: &Client, url: &str, login: &str, password: &str) {
    client.goto(&format!("{url}/login")).await.unwrap();
    client
        .find(Locator::Css("input[name=login]"))
        .await
        .unwrap()
        .send_keys(login)
        .await
        .unwrap();
    let password_field = client.find(Locator::Css("input[name=password]")).await.unwrap();
    password_field.send_keys(password).await.unwrap();
    password_field.send_keys(&Key::Enter.to_string()).await.unwrap();
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("form[action='/logout']"))
        .await
        .unwrap_or_else(|e| panic!("{login} did not get signed in: {e}"));
}

async fn wait_for_text(client: &Client, css: &str, want: &str, seconds: u64) {
    let mut seen = String::new();
    for _ in 0..seconds * 4 {
        if let Ok(element) = client.find(Locator::Css(css)).await {
            seen = element.text().await.unwrap_or_default();
            if seen.contains(want) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // What went wrong is usually on the page: its error line, and a screenshot.
    let error = match client.find(Locator::Id("error")).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    screenshot(client, "admin-failed.png").await;
    panic!("{css} never showed '{want}' (it shows '{seen}'; the page's error line: '{error}')");
}

async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
}

/// Replaces what an input holds.
async fn fill(client: &Client, css: &str, text: &str) {
    let input = client.find(Locator::Css(css)).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(text).await.unwrap();
}

async fn choose(client: &Client, css: &str, value: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .select_by_value(value)
        .await
        .unwrap_or_else(|e| panic!("{css} has no option {value}: {e}"));
}

async fn value(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver; .ci/run installs them and runs it"]
async fn an_admin_imports_a_sample_saves_a_setting_and_previews_a_questionnaire() {
    let test = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let (_server, url) = server(&test, dir.path());
    let (_driver, client) = chromium().await;
    sign_in(&client, &url, "admin", "demo-admin-pw").await;
    client.goto(&format!("{url}/admin")).await.unwrap();
    wait_for_text(&client, "#campaigns", "demo-survey", 10).await;

    // A campaign with a name, a phone and an age, from the new-campaign form.
    fill(&client, "#new-campaign input[name=name]", "panel").await;
    client
        .execute(
            "document.querySelector('#new-campaign textarea').value = arguments[0];",
            vec![json!(
                "kind = \"survey\"\ncaller_id = \"+12125550100\"\ndefault_country = \"US\"\n\
                 [[fields]]\nname = \"name\"\ntype = \"text\"\n\
                 [[fields]]\nname = \"phone\"\ntype = \"phone\"\nrequired = true\n\
                 [[fields]]\nname = \"age\"\ntype = \"integer\"\n"
            )],
        )
        .await
        .unwrap();
    click(&client, "#new-campaign button[type=submit]").await;
    wait_for_text(&client, "#sample-campaign", "panel", 10).await;

    // The sample: a CSV whose phone column is named otherwise, and one bad row.
    choose(&client, "#sample-campaign", "panel").await;
    let csv = dir.path().join("people.csv");
    std::fs::write(
        &csv,
        "Name,Tel,Age\nAnn,+1 212 555 0101,34\nBob,+1 212 555 0102,forty\n",
    )
    .unwrap();
    client
        .find(Locator::Css("#sample-upload input[type=file]"))
        .await
        .unwrap()
        .send_keys(csv.to_str().unwrap())
        .await
        .unwrap();
    click(&client, "#sample-upload button[type=submit]").await;
    wait_for_text(&client, "#mapping tr[data-column='Tel']", "Tel", 10).await;
    assert_eq!(
        value(&client, "#mapping select[name='Age']").await,
        "age",
        "mapped by name"
    );
    assert_eq!(
        value(&client, "#mapping select[name='Tel']").await,
        "",
        "no field is named Tel"
    );
    choose(&client, "#mapping select[name='Tel']", "phone").await;
    click(&client, "#sample-mapping button[type=submit]").await;
    wait_for_text(&client, "#import-summary", "2 rows read, 1 imported, 1 refused", 10).await;
    wait_for_text(&client, "#import-issues", "forty", 5).await;
    let report = client.find(Locator::Css("#import-issues tbody tr")).await.unwrap();
    let cells: Vec<String> = {
        let mut out = Vec::new();
        for td in report.find_all(Locator::Css("td")).await.unwrap() {
            out.push(td.text().await.unwrap());
        }
        out
    };
    assert_eq!(&cells[..4], ["3", "Age", "age", "forty"], "{cells:?}");
    assert_eq!(cells[5], "row refused");
    wait_for_text(&client, "#records", "Ann", 10).await;
    wait_for_text(&client, "#sample-counts", "new", 10).await;
    scroll_to(&client, "#sample-panel").await;
    screenshot(&client, "admin-sample-import.png").await;

    // A setting saved from the form, and a bad one refused with the setting named.
    choose(&client, "#settings-campaign", "panel").await;
    for _ in 0..40 {
        if value(&client, "#settings-form input[name=caller_id]").await == "+12125550100" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    fill(&client, "#settings-form input[name=max_attempts]", "6").await;
    fill(&client, "#settings-form input[name=ranges]", "10:00-13:00, 14:00-20:00").await;
    click(&client, "#settings-form button[type=submit]").await;
    wait_for_text(&client, "#notice", "panel: settings saved", 10).await;
    assert!(
        value(&client, "#config-form textarea")
            .await
            .contains("max_attempts = 6"),
        "the TOML box shows the saved settings"
    );
    fill(&client, "#settings-form input[name=ceiling]", "0.2").await;
    click(&client, "#settings-form button[type=submit]").await;
    wait_for_text(&client, "#settings-error", "abandon.ceiling", 10).await;
    client
        .find(Locator::Css("#settings-panel [data-setting='abandon'].bad"))
        .await
        .expect("the refused setting is marked");
    screenshot(&client, "admin-settings.png").await;

    // The preview of a questionnaire file: a note, consent, then the age with a validation
    // message, and back.
    let poll = Path::new(env!("CARGO_MANIFEST_DIR")).join("questionnaires/opinion-poll.toml");
    client
        .find(Locator::Css("#questionnaire input[type=file]"))
        .await
        .unwrap()
        .send_keys(poll.to_str().unwrap())
        .await
        .unwrap();
    click(&client, "#preview-start button[value=file]").await;
    wait_for_text(&client, "#preview-text", "Paceline Research", 10).await;
    click(&client, "#preview-next").await;
    wait_for_text(&client, "#preview-text", "May I ask you a few questions?", 10).await;
    click(&client, "#preview-options input[value=yes]").await;
    click(&client, "#preview-next").await;
    wait_for_text(&client, "#preview-text", "How old are you?", 10).await;
    fill(&client, "#preview-value", "150").await;
    click(&client, "#preview-next").await;
    wait_for_text(&client, "#preview-refused", "150 is above the most accepted, 120", 10).await;
    fill(&client, "#preview-value", "34").await;
    click(&client, "#preview-next").await;
    wait_for_text(&client, "#preview-text", "man, a woman", 10).await;
    click(&client, "#preview-back").await;
    wait_for_text(&client, "#preview-text", "How old are you?", 10).await;
    assert_eq!(value(&client, "#preview-value").await, "34", "the answer given is kept");
    scroll_to(&client, "#preview").await;
    screenshot(&client, "admin-preview.png").await;

    // A team, a member, and a number on the global do-not-call list, checked.
    fill(&client, "#new-team input[name=name]", "night shift").await;
    click(&client, "#new-team button[type=submit]").await;
    wait_for_text(&client, "#teams", "night shift", 10).await;
    choose(&client, "#team-member select[name=team]", "night shift").await;
    fill(&client, "#team-member input[name=login]", "agent").await;
    click(&client, "#team-member button[value=true]").await;
    wait_for_text(&client, "#teams tr[data-team='night shift']", "agent", 10).await;
    fill(&client, "#dnc-number input[name=number]", "(212) 555-0199").await;
    click(&client, "#dnc-number button[value=add]").await;
    wait_for_text(&client, "#dnc-entries", "+12125550199", 10).await;
    click(&client, "#dnc-number button[value=check]").await;
    wait_for_text(&client, "#dnc-result", "may not be called: on the global list", 10).await;
    scroll_to(&client, "#teams-panel").await;
    screenshot(&client, "admin-teams-dnc.png").await;
    client.close().await.unwrap();
}
