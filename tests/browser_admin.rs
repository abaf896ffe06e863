//! The admin console in headless Chromium, as an admin uses it (Debian packages `chromium` and
//! `chromium-driver`; `.ci/run` installs them and runs these tests with `--ignored`): a small
//! CSV with one bad row uploaded to a campaign, a column mapped to a field, the imported count
//! and the bad row's report seen; a setting saved from the form and a bad one refused by
//! name; a questionnaire previewed through two questions with a validation message and back;
//! a team made and joined, a number put on the do-not-call list and checked.
//! Screenshots are kept in `target/browser-artifacts/`.

mod chromium;
mod common;

use std::path::Path;
use std::time::Duration;

use chromium::{chromium, screenshot, sign_in, wait_for_text};
use common::served_demo as server;
use fantoccini::{Client, Locator};
use paceline_dialer::store::testing::TestDb;
use serde_json::json;

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
    // A shorter Saturday and a holiday, a 30-day window, and VICIdial's pacer.
    fill(&client, "#day-ranges tr[data-day=sat] input", "10:00-14:00").await;
    fill(&client, "#settings-form input[name=holidays]", "2026-12-25").await;
    fill(&client, "#settings-form input[name=window_hours]", "720").await;
    choose(&client, "#settings-form select[name=pacer]", "vicidial-adaptive").await;
    click(&client, "#settings-form button[type=submit]").await;
    wait_for_text(&client, "#notice", "panel: settings saved", 10).await;
    let toml = value(&client, "#config-form textarea").await;
    for saved in [
        "max_attempts = 6",
        "sat = [\"10:00-14:00\"]",
        "holidays = [\"2026-12-25\"]",
        "window_hours = 720",
        "pacer = \"vicidial-adaptive\"",
    ] {
        assert!(toml.contains(saved), "the TOML box lacks {saved}: {toml}");
    }
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
