//! The admin console's API over real HTTP: `paceline serve` on the demo's store (SQLite, or
//! PostgreSQL with PACELINE_TEST_DATABASE_URL). Every endpoint is used as the admin page
//! uses it, and every refusal is checked: the roles that may not, bad files with their row
//! and column, bad settings by name, unknown campaigns.

// Not every helper of the shared start-up is used here (the live demo is not).
#[allow(dead_code)]
mod common;

use std::path::Path;
use std::process::Stdio;

use common::{Running, paceline, serving};

use paceline_dialer::store::testing::TestDb;
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::{Value, json};

/// A running `paceline serve` and its address, stopped when dropped.
struct Server {
    _running: Running,
    url: String,
}

/// The demo's users and campaigns (admin, supervisor, agent, analyst), then the server.
fn server(test: &TestDb, dir: &Path) -> Server {
    let status = paceline(test, dir)
        .args(["demo", "--records", "20", "--interviewers", "0", "--setup-only"])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let mut command = paceline(test, dir);
    command.args(["serve", "--port", "0"]);
    let (running, url) = serving(command);
    Server { _running: running, url }
}

/// A signed-in client of one user: its cookies and its session's CSRF token.
struct Client {
    http: reqwest::Client,
    csrf: String,
    url: String,
}

impl Client {
    /// Signs `login` in through the API.
    async fn sign_in(url: &str, login: &str, password: &str) -> Client {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .unwrap();
        let response = http
            .post(format!("{url}/api/login"))
            .json(&json!({ "login": login, "password": password }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{login} could not sign in");
        let me: Value = response.json().await.unwrap();
        Client {
            http,
            csrf: me["csrf"].as_str().unwrap().to_string(),
            url: url.to_string(),
        }
    }

    async fn admin(url: &str) -> Client {
        Client::sign_in(url, "admin", "demo-admin-pw").await
    }

    /// GET: the status and the JSON body.
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self.http.get(format!("{}{path}", self.url)).send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// POST of JSON with the CSRF token: the status and the JSON body.
    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .header("X-CSRF-Token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// POST of a file as the body with the CSRF token: the status and the JSON body.
    async fn upload(&self, path: &str, bytes: impl Into<Vec<u8>>) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .header("X-CSRF-Token", &self.csrf)
            .body(bytes.into())
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

/// A refusal: the status, and the field the JSON error names.
fn refused(answer: &(StatusCode, Value), status: StatusCode, field: Option<&str>) {
    assert_eq!(answer.0, status, "{}", answer.1);
    if let Some(field) = field {
        assert_eq!(answer.1["field"], field, "{}", answer.1);
    }
    assert!(answer.1["error"].is_string(), "{}", answer.1);
}

/// A draft campaign with a name, a phone and an age, for samples.
const PANEL: &str = "kind = \"survey\"\ncaller_id = \"+12125550100\"\ndefault_country = \"US\"\n\
                     [[fields]]\nname = \"name\"\ntype = \"text\"\n\
                     [[fields]]\nname = \"phone\"\ntype = \"phone\"\nrequired = true\n\
                     [[fields]]\nname = \"age\"\ntype = \"integer\"\n";

async fn panel_campaign(admin: &Client, name: &str) {
    let created = admin
        .post("/api/campaigns", json!({ "name": name, "config": PANEL }))
        .await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
}

/// Three rows: one good, one with a bad number, one with an age that is no number.
const CSV: &str = "Name,Tel,Age\nAnn,+1 212 555 0101,34\nBob,not a number,40\nCy,+1 212 555 0103,abc\n";

#[tokio::test]
async fn a_sample_is_uploaded_mapped_imported_and_reported_row_by_row() {
    let test = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let server = server(&test, dir.path());
    let admin = Client::admin(&server.url).await;
    panel_campaign(&admin, "panel").await;

    // The file's header beside the fields, mapped by name where the names agree.
    let (status, columns) = admin
        .upload("/api/campaigns/panel/sample/columns?file=people.csv", CSV)
        .await;
    assert_eq!(status, StatusCode::OK, "{columns}");
    assert_eq!(columns["columns"], json!(["Name", "Tel", "Age"]));
    assert_eq!(columns["mapping"], json!({ "Name": "name", "Tel": null, "Age": "age" }));
    assert_eq!(columns["rows"][1], json!(["Bob", "not a number", "40"]));
    assert_eq!(columns["fields"][1]["name"], "phone");

    // Without a column for the phone the import is refused before anything is read.
    let unmapped = admin.upload("/api/campaigns/panel/sample?file=people.csv", CSV).await;
    refused(&unmapped, StatusCode::UNPROCESSABLE_ENTITY, Some("mapping"));
    let problems = unmapped.1["problems"].to_string();
    assert!(problems.contains("'Tel'"), "{problems}");
    assert!(
        problems.contains("field 'phone' is required but no column of the file feeds it"),
        "{problems}"
    );
    let mapping = json!({ "Name": "name", "Tel": "phone", "Age": "age" }).to_string();
    let to_nowhere = admin
        .upload(
            &format!(
                "/api/campaigns/panel/sample?file=people.csv&mapping={}",
                urlencode(&json!({ "Tel": "mobile" }).to_string())
            ),
            CSV,
        )
        .await;
    refused(&to_nowhere, StatusCode::UNPROCESSABLE_ENTITY, Some("mapping"));
    assert!(
        to_nowhere.1["error"]
            .as_str()
            .unwrap()
            .contains("field 'mobile', which the campaign does not have"),
        "{}",
        to_nowhere.1
    );
    let (_, counts) = admin.get("/api/campaigns/panel/sample").await;
    assert_eq!(counts["total"], 0, "a refused import stores nothing");

    // Mapped: one row in, two refused, each with its row, column, field and reason.
    let (status, report) = admin
        .upload(
            &format!(
                "/api/campaigns/panel/sample?file=people.csv&mapping={}",
                urlencode(&mapping)
            ),
            CSV,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (
            &report["rows_read"],
            &report["inserted"],
            &report["invalid"],
            &report["issues_total"]
        ),
        (&json!(3), &json!(1), &json!(2), &json!(2)),
        "{report}"
    );
    let issues = report["issues"].as_array().unwrap();
    assert_eq!(
        (
            &issues[0]["row"],
            &issues[0]["column"],
            &issues[0]["field"],
            &issues[0]["action"]
        ),
        (&json!(3), &json!("Tel"), &json!("phone"), &json!("rejected")),
        "{report}"
    );
    assert_eq!(issues[0]["value"], "not a number");
    assert_eq!(
        (&issues[1]["row"], &issues[1]["column"], &issues[1]["field"]),
        (&json!(4), &json!("Age"), &json!("age")),
        "{report}"
    );
    assert!(issues[1]["reason"].as_str().unwrap().len() > 5, "{report}");
    assert!(
        !report.to_string().contains("/tmp"),
        "the report names no server path: {report}"
    );
    // The same file again adds nothing and says it was imported before.
    let (_, again) = admin
        .upload(
            &format!(
                "/api/campaigns/panel/sample?file=people.csv&mapping={}",
                urlencode(&mapping)
            ),
            CSV,
        )
        .await;
    assert_eq!(again["inserted"], 0, "{again}");
    assert_eq!(again["duplicates_in_campaign"], 1, "{again}");
    assert!(again["previously_imported_at"].is_string(), "{again}");

    // Status counts, the record list and its filters.
    let (status, counts) = admin.get("/api/campaigns/panel/sample").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((&counts["total"], &counts["counts"]["new"]), (&json!(1), &json!(1)));
    assert_eq!(counts["counts"]["completed"], 0);
    let (_, list) = admin.get("/api/campaigns/panel/records?status=new").await;
    let records = list["records"].as_array().unwrap();
    assert_eq!(records.len(), 1, "{list}");
    assert_eq!(records[0]["fields"]["name"], "Ann");
    assert_eq!(records[0]["phones"][0]["e164"], "+12125550101");
    assert_eq!(list["more"], false);
    let ann = records[0]["id"].as_i64().unwrap();
    let (_, none) = admin.get("/api/campaigns/panel/records?status=completed").await;
    assert_eq!(none["records"], json!([]));
    let bad_status = admin.get("/api/campaigns/panel/records?status=lost").await;
    refused(&bad_status, StatusCode::UNPROCESSABLE_ENTITY, Some("status"));
    let bad_limit = admin.get("/api/campaigns/panel/records?limit=0").await;
    refused(&bad_limit, StatusCode::UNPROCESSABLE_ENTITY, Some("limit"));
    let (_, paged) = admin.get("/api/campaigns/demo-survey/records?limit=5&offset=5").await;
    assert_eq!(
        (paged["records"].as_array().unwrap().len(), &paged["more"]),
        (5, &json!(true))
    );

    // Priority through the record's own endpoint.
    let (status, changed) = admin
        .post(&format!("/api/records/{ann}"), json!({ "priority": 7 }))
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    let (_, list) = admin.get("/api/campaigns/panel/records").await;
    assert_eq!(list["records"][0]["priority"], 7);

    // Allocation: to an agent, to a team, back to nobody; by ids or by status and count.
    let (status, done) = admin
        .post(
            "/api/campaigns/panel/records/assign",
            json!({ "records": [ann], "agent": "agent" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done, json!({ "assigned": 1, "of": 1 }));
    let (_, mine) = admin.get("/api/campaigns/panel/records?agent=agent").await;
    assert_eq!(mine["records"][0]["assigned_agent"], "agent");
    let (_, done) = admin
        .post(
            "/api/campaigns/demo-survey/records/assign",
            json!({ "status": "new", "limit": 3, "team": "demo-team" }),
        )
        .await;
    assert_eq!(done, json!({ "assigned": 3, "of": 3 }));
    let (_, team) = admin.get("/api/campaigns/demo-survey/records?team=demo-team").await;
    assert_eq!(team["records"].as_array().unwrap().len(), 3);
    let (_, done) = admin
        .post(
            "/api/campaigns/panel/records/assign",
            json!({ "records": [ann], "nobody": true }),
        )
        .await;
    assert_eq!(done["assigned"], 1);
    let unknown_agent = admin
        .post(
            "/api/campaigns/panel/records/assign",
            json!({ "records": [ann], "agent": "nobody-here" }),
        )
        .await;
    refused(&unknown_agent, StatusCode::UNPROCESSABLE_ENTITY, Some("agent"));
    let (_, others) = admin.get("/api/campaigns/demo-survey/records?limit=1").await;
    let other = others["records"][0]["id"].as_i64().unwrap();
    let elsewhere = admin
        .post(
            "/api/campaigns/panel/records/assign",
            json!({ "records": [other], "agent": "agent" }),
        )
        .await;
    refused(&elsewhere, StatusCode::UNPROCESSABLE_ENTITY, Some("records"));
    let whom = admin
        .post("/api/campaigns/panel/records/assign", json!({ "records": [ann] }))
        .await;
    refused(&whom, StatusCode::UNPROCESSABLE_ENTITY, Some("agent"));
}

#[tokio::test]
async fn bad_sample_files_unknown_campaigns_and_other_roles_are_refused() {
    let test = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let server = server(&test, dir.path());
    let admin = Client::admin(&server.url).await;
    panel_campaign(&admin, "panel").await;

    // A workbook that is not one: the file is named as uploaded, not where the server put it.
    let broken = admin
        .upload("/api/campaigns/panel/sample/columns?file=people.xlsx", "not a workbook")
        .await;
    refused(&broken, StatusCode::UNPROCESSABLE_ENTITY, Some("file"));
    let message = broken.1["error"].as_str().unwrap();
    assert!(message.starts_with("people.xlsx"), "{message}");
    let unknown_type = admin.upload("/api/campaigns/panel/sample?file=people.pdf", CSV).await;
    refused(&unknown_type, StatusCode::UNPROCESSABLE_ENTITY, Some("file"));
    assert!(
        unknown_type.1["error"]
            .as_str()
            .unwrap()
            .contains("unknown file type 'pdf'"),
        "{}",
        unknown_type.1
    );
    let nameless = admin.upload("/api/campaigns/panel/sample?file=", CSV).await;
    refused(&nameless, StatusCode::UNPROCESSABLE_ENTITY, Some("file"));
    let empty = admin.upload("/api/campaigns/panel/sample?file=a.csv", "").await;
    refused(&empty, StatusCode::UNPROCESSABLE_ENTITY, Some("file"));
    let bad_mapping = admin
        .upload("/api/campaigns/panel/sample?file=a.csv&mapping=%5B1%5D", CSV)
        .await;
    refused(&bad_mapping, StatusCode::UNPROCESSABLE_ENTITY, Some("mapping"));
    // A file named like a path is written under its last name only.
    let sneaky = admin
        .upload("/api/campaigns/panel/sample/columns?file=..%2F..%2Fpeople.csv", CSV)
        .await;
    assert_eq!(sneaky.0, StatusCode::OK, "{}", sneaky.1);
    assert_eq!(sneaky.1["file"], "people.csv");

    // Unknown campaigns.
    for answer in [
        admin.upload("/api/campaigns/nope/sample?file=a.csv", CSV).await,
        admin.upload("/api/campaigns/nope/sample/columns?file=a.csv", CSV).await,
        admin.get("/api/campaigns/nope/sample").await,
        admin.get("/api/campaigns/nope/records").await,
        admin
            .post(
                "/api/campaigns/nope/records/assign",
                json!({ "records": [1], "agent": "agent" }),
            )
            .await,
    ] {
        refused(&answer, StatusCode::UNPROCESSABLE_ENTITY, Some("campaign"));
        assert_eq!(answer.1["error"], "no campaign named 'nope'");
    }

    // Analysts read, and change nothing.
    let analyst = Client::sign_in(&server.url, "analyst", "demo-analyst-pw").await;
    assert_eq!(analyst.get("/api/campaigns/panel/sample").await.0, StatusCode::OK);
    assert_eq!(analyst.get("/api/campaigns/panel/records").await.0, StatusCode::OK);
    for answer in [
        analyst.upload("/api/campaigns/panel/sample?file=a.csv", CSV).await,
        analyst
            .upload("/api/campaigns/panel/sample/columns?file=a.csv", CSV)
            .await,
        analyst
            .post(
                "/api/campaigns/demo-survey/records/assign",
                json!({ "records": [1], "agent": "agent" }),
            )
            .await,
    ] {
        refused(&answer, StatusCode::FORBIDDEN, None);
    }
    // Supervisors see and allocate their teams' campaigns only, and import nothing.
    let supervisor = Client::sign_in(&server.url, "supervisor", "demo-supervisor-pw").await;
    let (status, _) = supervisor.get("/api/campaigns/demo-survey/records").await;
    assert_eq!(status, StatusCode::OK);
    let (status, done) = supervisor
        .post(
            "/api/campaigns/demo-survey/records/assign",
            json!({ "status": "new", "limit": 2, "agent": "agent" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let not_theirs = supervisor.get("/api/campaigns/panel/records").await;
    refused(&not_theirs, StatusCode::FORBIDDEN, None);
    assert_eq!(not_theirs.1["error"], "'supervisor' may not see campaign 'panel'");
    refused(
        &supervisor
            .upload("/api/campaigns/demo-survey/sample?file=a.csv", CSV)
            .await,
        StatusCode::FORBIDDEN,
        None,
    );
    // Agents see none of it.
    let agent = Client::sign_in(&server.url, "agent", "demo-agent-pw").await;
    refused(
        &agent.get("/api/campaigns/demo-survey/sample").await,
        StatusCode::FORBIDDEN,
        None,
    );
    refused(
        &agent.get("/api/campaigns/demo-survey/records").await,
        StatusCode::FORBIDDEN,
        None,
    );
}

/// Percent-encodes a query value.
fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
