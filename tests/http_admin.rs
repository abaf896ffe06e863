//! The admin console's API over real HTTP: `paceline serve` on the demo's store (SQLite, or
//! PostgreSQL with PACELINE_TEST_DATABASE_URL). Every endpoint is used as the admin page
//! uses it, and every refusal is checked: the roles that may not, bad files with their row
//! and column, bad settings by name, unknown campaigns.

mod common;

use std::path::Path;

use common::Running;

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
    let (running, url) = common::served_demo(test, dir);
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

/// A refusal of the role: 403 with a JSON error.
fn forbidden(answer: &(StatusCode, Value)) {
    refused(answer, StatusCode::FORBIDDEN, None);
}

/// A refusal of bad input: 422 with a JSON error naming `field`.
fn invalid(answer: &(StatusCode, Value), field: &str) {
    refused(answer, StatusCode::UNPROCESSABLE_ENTITY, Some(field));
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
    invalid(&unmapped, "mapping");
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
    invalid(&to_nowhere, "mapping");
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
    invalid(&bad_status, "status");
    let bad_limit = admin.get("/api/campaigns/panel/records?limit=0").await;
    invalid(&bad_limit, "limit");
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
    invalid(&unknown_agent, "agent");
    let (_, others) = admin.get("/api/campaigns/demo-survey/records?limit=1").await;
    let other = others["records"][0]["id"].as_i64().unwrap();
    let elsewhere = admin
        .post(
            "/api/campaigns/panel/records/assign",
            json!({ "records": [other], "agent": "agent" }),
        )
        .await;
    invalid(&elsewhere, "records");
    let whom = admin
        .post("/api/campaigns/panel/records/assign", json!({ "records": [ann] }))
        .await;
    invalid(&whom, "agent");
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
    invalid(&broken, "file");
    let message = broken.1["error"].as_str().unwrap();
    assert!(message.starts_with("people.xlsx"), "{message}");
    let unknown_type = admin.upload("/api/campaigns/panel/sample?file=people.pdf", CSV).await;
    invalid(&unknown_type, "file");
    assert!(
        unknown_type.1["error"]
            .as_str()
            .unwrap()
            .contains("unknown file type 'pdf'"),
        "{}",
        unknown_type.1
    );
    let nameless = admin.upload("/api/campaigns/panel/sample?file=", CSV).await;
    invalid(&nameless, "file");
    let empty = admin.upload("/api/campaigns/panel/sample?file=a.csv", "").await;
    invalid(&empty, "file");
    let bad_mapping = admin
        .upload("/api/campaigns/panel/sample?file=a.csv&mapping=%5B1%5D", CSV)
        .await;
    invalid(&bad_mapping, "mapping");
    // A file named like a path is written under its last name only.
    let sneaky = admin
        .upload("/api/campaigns/panel/sample/columns?file=..%2F..%2Fpeople.csv", CSV)
        .await;
    assert_eq!(sneaky.0, StatusCode::OK, "{}", sneaky.1);
    assert_eq!(sneaky.1["file"], "people.csv");

    // A file past axum's default body limit of 2 MiB is taken.
    let mut big = String::from("Name,Tel,Age\n");
    for i in 0..120_000 {
        big.push_str(&format!("Person {i},+1 212 555 {:04},{}\n", i % 10_000, i % 90));
    }
    assert!(big.len() > 3 << 20);
    let (status, columns) = admin
        .upload("/api/campaigns/panel/sample/columns?file=big.csv", big)
        .await;
    assert_eq!(status, StatusCode::OK, "{columns}");

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
        invalid(&answer, "campaign");
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
        forbidden(&answer);
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
    forbidden(&not_theirs);
    assert_eq!(not_theirs.1["error"], "'supervisor' may not see campaign 'panel'");
    forbidden(
        &supervisor
            .upload("/api/campaigns/demo-survey/sample?file=a.csv", CSV)
            .await,
    );
    // Agents see none of it.
    let agent = Client::sign_in(&server.url, "agent", "demo-agent-pw").await;
    forbidden(&agent.get("/api/campaigns/demo-survey/sample").await);
    forbidden(&agent.get("/api/campaigns/demo-survey/records").await);
}

#[tokio::test]
async fn do_not_call_lists_are_listed_changed_uploaded_and_checked() {
    let test = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let server = server(&test, dir.path());
    let admin = Client::admin(&server.url).await;
    panel_campaign(&admin, "panel").await;

    // A number on the global list, another on the campaign's.
    let (status, added) = admin.post("/api/dnc", json!({ "number": "(212) 555-0199" })).await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(added, json!({ "e164": "+12125550199", "added": true }));
    let (status, again) = admin.post("/api/dnc", json!({ "number": "+1 212 555 0199" })).await;
    assert_eq!((status, &again["added"]), (StatusCode::OK, &json!(false)));
    let (status, _) = admin
        .post("/api/dnc", json!({ "number": "212 555 0188", "campaign": "panel" }))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let bad = admin.post("/api/dnc", json!({ "number": "call me" })).await;
    invalid(&bad, "number");
    assert!(
        bad.1["error"]
            .as_str()
            .unwrap()
            .starts_with("'call me' is not a valid phone number")
    );
    let unknown = admin
        .post("/api/dnc", json!({ "number": "212 555 0101", "campaign": "nope" }))
        .await;
    invalid(&unknown, "campaign");

    let (_, global) = admin.get("/api/dnc").await;
    assert_eq!(global.as_array().unwrap().len(), 1, "{global}");
    assert_eq!(
        (&global[0]["e164"], &global[0]["campaign"]),
        (&json!("+12125550199"), &Value::Null)
    );
    let (_, own) = admin.get("/api/dnc?campaign=panel").await;
    assert_eq!(
        (&own[0]["e164"], &own[0]["campaign"]),
        (&json!("+12125550188"), &json!("panel"))
    );
    assert_eq!(own[0]["source"], "manual");

    // Checked for a campaign: its own list and the global one.
    let (_, hit) = admin.get("/api/dnc/check?number=2125550188&campaign=panel").await;
    assert_eq!(
        (&hit["listed"], &hit["entries"][0]["campaign"]),
        (&json!(true), &json!("panel"))
    );
    let (_, global_hit) = admin.get("/api/dnc/check?number=2125550199&campaign=panel").await;
    assert_eq!(global_hit["listed"], true);
    let (_, clear) = admin.get("/api/dnc/check?number=2125550188").await;
    assert_eq!(clear["listed"], false, "the campaign's list is not the global one");
    let bad = admin.get("/api/dnc/check?number=12").await;
    invalid(&bad, "number");

    // A list file: good numbers listed, a bad cell refused with its row.
    let (status, uploaded) = admin
        .upload(
            "/api/dnc/upload?file=optouts.csv&campaign=panel",
            "phone\n2125550177\nnope\n+1 212 555 0188\n",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{uploaded}");
    assert_eq!(
        (&uploaded["read"], &uploaded["added"], &uploaded["already_listed"]),
        (&json!(3), &json!(1), &json!(1)),
        "{uploaded}"
    );
    assert_eq!(
        (&uploaded["invalid"][0]["row"], &uploaded["invalid"][0]["value"]),
        (&json!(3), &json!("nope"))
    );
    let bad_file = admin.upload("/api/dnc/upload?file=optouts.xlsx", "no workbook").await;
    invalid(&bad_file, "file");
    assert!(
        bad_file.1["error"].as_str().unwrap().starts_with("optouts.xlsx"),
        "{}",
        bad_file.1
    );

    // A listed number keeps a sample row out; taken off, it no longer does.
    let (_, report) = admin
        .upload(
            &format!(
                "/api/campaigns/panel/sample?file=p.csv&mapping={}",
                urlencode(&json!({ "Tel": "phone" }).to_string())
            ),
            "Tel\n2125550177\n2125550166\n",
        )
        .await;
    assert_eq!(
        (&report["inserted"], &report["do_not_call"]),
        (&json!(1), &json!(1)),
        "{report}"
    );
    let (_, removed) = admin
        .post(
            "/api/dnc/remove",
            json!({ "number": "212-555-0177", "campaign": "panel" }),
        )
        .await;
    assert_eq!(removed, json!({ "e164": "+12125550177", "removed": true }));
    let (_, removed) = admin
        .post(
            "/api/dnc/remove",
            json!({ "number": "212-555-0177", "campaign": "panel" }),
        )
        .await;
    assert_eq!(removed["removed"], false);

    // Supervisors and analysts read and check; only admins change the lists.
    for (login, password) in [("supervisor", "demo-supervisor-pw"), ("analyst", "demo-analyst-pw")] {
        let client = Client::sign_in(&server.url, login, password).await;
        assert_eq!(client.get("/api/dnc").await.0, StatusCode::OK);
        assert_eq!(client.get("/api/dnc/check?number=2125550199").await.0, StatusCode::OK);
        forbidden(&client.post("/api/dnc", json!({ "number": "2125550100" })).await);
        forbidden(&client.post("/api/dnc/remove", json!({ "number": "2125550199" })).await);
        forbidden(&client.upload("/api/dnc/upload?file=a.csv", "2125550100\n").await);
    }
    let agent = Client::sign_in(&server.url, "agent", "demo-agent-pw").await;
    forbidden(&agent.get("/api/dnc").await);
}

#[tokio::test]
async fn teams_are_made_users_join_them_and_campaigns_get_agents_and_teams() {
    let test = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let server = server(&test, dir.path());
    let admin = Client::admin(&server.url).await;
    panel_campaign(&admin, "panel").await;

    let (status, team) = admin.post("/api/teams", json!({ "name": "night shift" })).await;
    assert_eq!(status, StatusCode::CREATED, "{team}");
    assert_eq!((&team["name"], &team["members"]), (&json!("night shift"), &json!([])));
    invalid(
        &admin.post("/api/teams", json!({ "name": "night shift" })).await,
        "name",
    );
    invalid(&admin.post("/api/teams", json!({ "name": " " })).await, "name");

    let (status, team) = admin
        .post("/api/teams/night%20shift/members", json!({ "login": "agent" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{team}");
    assert_eq!(team["members"], json!(["agent"]));
    let (_, teams) = admin.get("/api/teams").await;
    assert!(
        teams.as_array().unwrap().iter().any(|t| t["name"] == "demo-team"),
        "{teams}"
    );
    let (_, users) = admin.get("/api/users").await;
    let agent = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["login"] == "agent")
        .unwrap();
    assert_eq!(agent["teams"], json!(["demo-team", "night shift"]));
    let (_, team) = admin
        .post(
            "/api/teams/night%20shift/members",
            json!({ "login": "agent", "member": false }),
        )
        .await;
    assert_eq!(team["members"], json!([]));
    invalid(
        &admin.post("/api/teams/day/members", json!({ "login": "agent" })).await,
        "team",
    );
    invalid(
        &admin
            .post("/api/teams/night%20shift/members", json!({ "login": "ghost" }))
            .await,
        "login",
    );

    // A campaign's agents and teams, replaced together; its settings stay.
    let (status, campaign) = admin
        .post(
            "/api/campaigns/panel/assignments",
            json!({ "agents": ["agent"], "teams": ["night shift", "demo-team"] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{campaign}");
    assert_eq!(
        (&campaign["agents"], &campaign["teams"]),
        (&json!(["agent"]), &json!(["demo-team", "night shift"]))
    );
    let (_, fields) = admin.get("/api/campaigns/panel/sample").await;
    assert_eq!(fields["fields"].as_array().unwrap().len(), 3, "the settings are kept");
    // The supervisor of demo-team now sees it.
    let supervisor = Client::sign_in(&server.url, "supervisor", "demo-supervisor-pw").await;
    assert_eq!(supervisor.get("/api/campaigns/panel/records").await.0, StatusCode::OK);
    let unknown = admin
        .post("/api/campaigns/panel/assignments", json!({ "agents": ["ghost"] }))
        .await;
    invalid(&unknown, "agents");
    assert!(unknown.1["error"].as_str().unwrap().contains("ghost"));
    let unknown = admin
        .post("/api/campaigns/panel/assignments", json!({ "teams": ["day"] }))
        .await;
    invalid(&unknown, "teams");
    let (_, campaigns) = admin.get("/api/campaigns").await;
    let panel = campaigns
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "panel")
        .unwrap();
    assert_eq!(panel["agents"], json!(["agent"]), "a refused change changed nothing");
    invalid(
        &admin
            .post("/api/campaigns/nope/assignments", json!({ "agents": [] }))
            .await,
        "campaign",
    );

    // Only admins change teams and assignments; supervisors and analysts read teams.
    for (login, password) in [("supervisor", "demo-supervisor-pw"), ("analyst", "demo-analyst-pw")] {
        let client = Client::sign_in(&server.url, login, password).await;
        assert_eq!(client.get("/api/teams").await.0, StatusCode::OK);
        forbidden(&client.post("/api/teams", json!({ "name": "x" })).await);
        forbidden(
            &client
                .post("/api/teams/demo-team/members", json!({ "login": "agent" }))
                .await,
        );
        forbidden(
            &client
                .post("/api/campaigns/panel/assignments", json!({ "agents": [] }))
                .await,
        );
    }
}

#[tokio::test]
async fn users_change_roles_get_a_new_password_and_are_disabled() {
    let test = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let server = server(&test, dir.path());
    let admin = Client::admin(&server.url).await;
    let agent = Client::sign_in(&server.url, "agent", "demo-agent-pw").await;

    // New roles sign the user's sessions out (they carry the old roles).
    let (status, user) = admin
        .post("/api/users/agent", json!({ "roles": ["agent", "supervisor"] }))
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["roles"], json!(["agent", "supervisor"]));
    assert_eq!(agent.get("/api/me").await.0, StatusCode::UNAUTHORIZED);
    let agent = Client::sign_in(&server.url, "agent", "demo-agent-pw").await;
    let (_, me) = agent.get("/api/me").await;
    assert!(me["roles"].to_string().contains("supervisor"), "{me}");
    invalid(
        &admin.post("/api/users/agent", json!({ "roles": ["chief"] })).await,
        "roles",
    );
    invalid(&admin.post("/api/users/agent", json!({ "roles": [] })).await, "roles");

    // A password reset: the old one no longer works.
    invalid(
        &admin
            .post("/api/users/agent", json!({ "password": "short", "roles": ["agent"] }))
            .await,
        "password",
    );
    let (_, unchanged) = admin.get("/api/users").await;
    let still = unchanged
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["login"] == "agent")
        .unwrap()
        .clone();
    assert_eq!(
        still["roles"],
        json!(["agent", "supervisor"]),
        "a refused change changed nothing"
    );
    let (status, _) = admin
        .post("/api/users/agent", json!({ "password": "a new long one" }))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(agent.get("/api/me").await.0, StatusCode::UNAUTHORIZED);
    let old = reqwest::Client::new()
        .post(format!("{}/api/login", server.url))
        .json(&json!({ "login": "agent", "password": "demo-agent-pw" }))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let agent = Client::sign_in(&server.url, "agent", "a new long one").await;

    // Disabled: signed out and refused at sign-in; enabled again: back.
    let (_, user) = admin.post("/api/users/agent", json!({ "active": false })).await;
    assert_eq!(user["active"], false);
    assert_eq!(agent.get("/api/me").await.0, StatusCode::UNAUTHORIZED);
    let refused_sign_in = reqwest::Client::new()
        .post(format!("{}/api/login", server.url))
        .json(&json!({ "login": "agent", "password": "a new long one" }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused_sign_in.status(), StatusCode::UNAUTHORIZED);
    admin.post("/api/users/agent", json!({ "active": true })).await;
    Client::sign_in(&server.url, "agent", "a new long one").await;

    // An admin keeps their own admin role and cannot disable themselves.
    invalid(
        &admin.post("/api/users/admin", json!({ "roles": ["analyst"] })).await,
        "roles",
    );
    invalid(
        &admin.post("/api/users/admin", json!({ "active": false })).await,
        "active",
    );
    invalid(
        &admin.post("/api/users/ghost", json!({ "active": false })).await,
        "login",
    );
    // Nobody else may.
    let supervisor = Client::sign_in(&server.url, "supervisor", "demo-supervisor-pw").await;
    forbidden(&supervisor.post("/api/users/agent", json!({ "active": false })).await);
    let analyst = Client::sign_in(&server.url, "analyst", "demo-analyst-pw").await;
    forbidden(&analyst.post("/api/users/agent", json!({ "roles": ["admin"] })).await);
}

#[tokio::test]
async fn settings_are_changed_from_the_form_or_the_toml_and_bad_ones_are_named() {
    let test = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let server = server(&test, dir.path());
    let admin = Client::admin(&server.url).await;
    panel_campaign(&admin, "panel").await;

    let (status, shown) = admin.get("/api/campaigns/panel/settings").await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown["settings"]["caller_id"], "+12125550100");
    assert_eq!(shown["settings"]["abandon"]["ceiling"], 0.03);
    let toml_text = shown["config"].as_str().unwrap();
    assert!(toml_text.contains("caller_id = \"+12125550100\""), "{toml_text}");

    // The form's settings, each whole; the rest stay.
    let mut abandon = shown["settings"]["abandon"].clone();
    abandon["ceiling"] = json!(0.02);
    let (status, saved) = admin
        .post(
            "/api/campaigns/panel/settings",
            json!({ "settings": {
                "calling_hours": { "days": ["mon", "tue", "wed"], "ranges": ["10:00-13:00", "14:00-20:00"] },
                "dial_mode": "progressive",
                "allowed_dial_modes": ["progressive", "preview"],
                "abandon": abandon,
                "caller_id": "+12125550111",
                "max_attempts": 6,
                "retry": [{ "outcome": "busy", "after_minutes": 10, "max_attempts": 3 }],
            } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let settings = &saved["settings"];
    assert_eq!(
        settings["calling_hours"]["ranges"],
        json!(["10:00-13:00", "14:00-20:00"])
    );
    assert_eq!(
        (
            &settings["dial_mode"],
            &settings["caller_id"],
            &settings["max_attempts"]
        ),
        (&json!("progressive"), &json!("+12125550111"), &json!(6))
    );
    assert_eq!(settings["abandon"]["ceiling"], 0.02);
    assert_eq!(settings["retry"].as_array().unwrap().len(), 1);
    assert_eq!(
        settings["fields"].as_array().unwrap().len(),
        3,
        "untouched settings stay"
    );
    let (_, again) = admin.get("/api/campaigns/panel/settings").await;
    assert_eq!(again["settings"], saved["settings"]);

    // Refusals name the setting, and change nothing.
    for (change, field, says) in [
        (
            json!({ "abandon": { "ceiling": 0.2, "window_hours": 24 } }),
            "abandon.ceiling",
            "0.2",
        ),
        (
            json!({ "calling_hours": { "days": ["mon"], "ranges": ["07:00-12:00"] } }),
            "calling_hours.ranges",
            "outside 08:00-21:00",
        ),
        (
            json!({ "calling_hours": { "days": ["mon"], "ranges": ["noon"] } }),
            "calling_hours",
            "noon",
        ),
        (json!({ "dial_mode": "turbo" }), "dial_mode", "turbo"),
        (json!({ "caller_id": "hello" }), "caller_id", "hello"),
        (json!({ "max_attempts": 0 }), "max_attempts", "outside 1 to 100"),
        (json!({ "loudness": 11 }), "loudness", "unknown setting"),
        (
            json!({ "retry": [{ "outcome": "busy", "after_minutes": 0, "max_attempts": 3 }] }),
            "retry[0] (busy)",
            "after_minutes",
        ),
    ] {
        let answer = admin
            .post("/api/campaigns/panel/settings", json!({ "settings": change }))
            .await;
        assert_eq!(answer.0, StatusCode::UNPROCESSABLE_ENTITY, "{change}: {}", answer.1);
        assert!(
            answer.1["field"].as_str().unwrap().starts_with(field),
            "{change}: {}",
            answer.1
        );
        assert!(
            answer.1["error"].as_str().unwrap().contains(says),
            "{change}: {}",
            answer.1
        );
    }
    let (_, after) = admin.get("/api/campaigns/panel/settings").await;
    assert_eq!(after["settings"], saved["settings"], "refused changes changed nothing");

    // The field configuration: a field added; one that holds data is not removed.
    let mut fields = after["settings"]["fields"].clone();
    fields
        .as_array_mut()
        .unwrap()
        .push(json!({ "name": "region", "type": "category", "values": ["north", "south"] }));
    let (status, saved) = admin
        .post(
            "/api/campaigns/panel/settings",
            json!({ "settings": { "fields": fields } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["settings"]["fields"][3]["name"], "region");
    admin
        .upload(
            &format!(
                "/api/campaigns/panel/sample?file=p.csv&mapping={}",
                urlencode(&json!({ "Tel": "phone", "Age": "age" }).to_string())
            ),
            "Tel,Age\n2125550101,30\n",
        )
        .await;
    let without_age: Vec<Value> = fields
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["name"] != "age")
        .cloned()
        .collect();
    let in_use = admin
        .post(
            "/api/campaigns/panel/settings",
            json!({ "settings": { "fields": without_age } }),
        )
        .await;
    invalid(&in_use, "fields");
    assert!(
        in_use.1["error"]
            .as_str()
            .unwrap()
            .contains("field 'age' holds data in 1 record")
    );

    // The TOML box: the whole configuration, round trip.
    let (_, shown) = admin.get("/api/campaigns/panel/settings").await;
    let text = shown["config"]
        .as_str()
        .unwrap()
        .replace("max_attempts = 6", "max_attempts = 4");
    let (status, saved) = admin
        .post("/api/campaigns/panel/config", json!({ "config": text }))
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["settings"]["max_attempts"], 4);
    assert_eq!(saved["settings"]["caller_id"], "+12125550111");
    let bad = admin
        .post(
            "/api/campaigns/panel/config",
            json!({ "config": "max_attempts = \"many\"\n" }),
        )
        .await;
    invalid(&bad, "config");
    let bad = admin
        .post(
            "/api/campaigns/panel/config",
            json!({ "config": "kind = \"reminder\"\n" }),
        )
        .await;
    invalid(&bad, "kind");
    let bad = admin
        .post(
            "/api/campaigns/panel/config",
            json!({ "config": "caller_id = \"x\"\n" }),
        )
        .await;
    invalid(&bad, "caller_id");

    // Unknown campaigns, and who may.
    invalid(&admin.get("/api/campaigns/nope/settings").await, "campaign");
    invalid(
        &admin
            .post(
                "/api/campaigns/nope/settings",
                json!({ "settings": { "max_attempts": 3 } }),
            )
            .await,
        "campaign",
    );
    let analyst = Client::sign_in(&server.url, "analyst", "demo-analyst-pw").await;
    assert_eq!(analyst.get("/api/campaigns/panel/settings").await.0, StatusCode::OK);
    let supervisor = Client::sign_in(&server.url, "supervisor", "demo-supervisor-pw").await;
    assert_eq!(
        supervisor.get("/api/campaigns/demo-survey/settings").await.0,
        StatusCode::OK
    );
    for client in [&analyst, &supervisor] {
        forbidden(
            &client
                .post(
                    "/api/campaigns/demo-survey/settings",
                    json!({ "settings": { "max_attempts": 3 } }),
                )
                .await,
        );
        forbidden(
            &client
                .post(
                    "/api/campaigns/demo-survey/config",
                    json!({ "config": "max_attempts = 3\n" }),
                )
                .await,
        );
    }
}

/// The preview's path for these steps.
fn preview_path(which: &str, steps: Value) -> String {
    format!(
        "/api/questionnaires/preview?{which}&steps={}&sample={}",
        urlencode(&steps.to_string()),
        urlencode(&json!({ "region": "north" }).to_string())
    )
}

#[tokio::test]
async fn a_questionnaire_is_previewed_as_the_interviewer_sees_it_and_nothing_is_stored() {
    let test = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let server = server(&test, dir.path());
    let admin = Client::admin(&server.url).await;
    let poll = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("questionnaires/opinion-poll.toml")).unwrap();

    // The file being checked, before it is published: the first question, a note.
    let (status, start) = admin
        .upload(&preview_path("file=opinion-poll.toml", json!([])), poll.clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{start}");
    assert_eq!(
        (&start["key"], &start["state"]["state"]),
        (&json!("opinion-poll"), &json!("asking"))
    );
    assert_eq!(start["shown"]["name"], "intro");
    assert!(
        start["shown"]["text"]
            .as_str()
            .unwrap()
            .contains("public issues in the north"),
        "the sample is piped in: {start}"
    );
    // On through the note, then consent's options.
    let (_, consent) = admin
        .upload(
            &preview_path("file=opinion-poll.toml", json!([{ "answer": null }])),
            poll.clone(),
        )
        .await;
    assert_eq!(consent["shown"]["name"], "consent");
    assert_eq!(consent["shown"]["options"], json!([["yes", "Yes"], ["no", "No"]]));
    // A refused answer: the message, and the step not taken.
    let (_, bad) = admin
        .upload(
            &preview_path(
                "file=opinion-poll.toml",
                json!([{ "answer": null }, { "answer": "yes" }, { "answer": 150 }]),
            ),
            poll.clone(),
        )
        .await;
    assert_eq!(bad["steps"], 2, "{bad}");
    assert_eq!(bad["shown"]["name"], "age");
    assert_eq!(bad["refused"]["message"], "150 is above the most accepted, 120");
    assert_eq!(bad["refused"]["question"], "age");
    // Back, and a different route: an age under 18 screens out.
    let (_, back) = admin
        .upload(
            &preview_path(
                "file=opinion-poll.toml",
                json!([{ "answer": null }, { "answer": "yes" }, "back"]),
            ),
            poll.clone(),
        )
        .await;
    assert_eq!(back["shown"]["name"], "consent");
    assert_eq!(back["shown"]["answer"], "yes", "the answer given is shown again");
    let (_, young) = admin
        .upload(
            &preview_path(
                "file=opinion-poll.toml",
                json!([{ "answer": null }, { "answer": "yes" }, { "answer": 16 }]),
            ),
            poll.clone(),
        )
        .await;
    assert_eq!(
        young["state"],
        json!({ "state": "screened_out", "at": "too_young" }),
        "{young}"
    );
    assert_eq!(young["shown"], Value::Null);

    // A published version, by id.
    let (_, versions) = admin.get("/api/questionnaires").await;
    let health = versions
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["key"] == "health-survey")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (status, first) = admin
        .post(&format!("/api/questionnaires/preview?version={health}"), json!(null))
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["key"], "health-survey");
    assert!(first["shown"]["text"].is_string(), "{first}");

    // Refusals: no such version, a broken file, bad steps, a language it lacks.
    invalid(
        &admin.upload("/api/questionnaires/preview?version=999", "").await,
        "version",
    );
    invalid(&admin.upload("/api/questionnaires/preview", "").await, "version");
    let broken = admin
        .upload(
            "/api/questionnaires/preview?file=b.toml",
            "id = \"b\"\n[[questions]]\nname = 1\n",
        )
        .await;
    invalid(&broken, "file");
    assert!(
        broken.1["error"].as_str().unwrap().starts_with("b.toml does not load"),
        "{}",
        broken.1
    );
    invalid(
        &admin
            .upload(
                "/api/questionnaires/preview?file=opinion-poll.toml&steps=%7B",
                poll.clone(),
            )
            .await,
        "steps",
    );
    invalid(
        &admin
            .upload(
                &preview_path(
                    "file=opinion-poll.toml",
                    json!([{ "answer": null }, { "answer": "maybe" }, { "answer": 30 }]),
                ),
                poll.clone(),
            )
            .await,
        "steps",
    );
    invalid(
        &admin
            .upload(
                "/api/questionnaires/preview?file=opinion-poll.toml&language=fr",
                poll.clone(),
            )
            .await,
        "language",
    );

    // Nothing was stored: no interview, no new version.
    let (_, after) = admin.get("/api/questionnaires").await;
    assert_eq!(after, versions);
    assert!(!after.to_string().contains("opinion-poll"), "{after}");

    // Supervisors and analysts may preview; agents may not.
    let analyst = Client::sign_in(&server.url, "analyst", "demo-analyst-pw").await;
    assert_eq!(
        analyst
            .upload(&preview_path("file=opinion-poll.toml", json!([])), poll.clone())
            .await
            .0,
        StatusCode::OK
    );
    let agent = Client::sign_in(&server.url, "agent", "demo-agent-pw").await;
    forbidden(
        &agent
            .upload(&preview_path("file=opinion-poll.toml", json!([])), poll)
            .await,
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

#[tokio::test]
async fn a_campaigns_quotas_are_shown_from_its_questionnaire_with_their_progress() {
    let test = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let server = server(&test, dir.path());
    let admin = Client::admin(&server.url).await;
    let poll = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("questionnaires/opinion-poll.toml")).unwrap();
    let published = admin.upload("/api/questionnaires?file=opinion-poll.toml", poll).await;
    assert_eq!(published.0, StatusCode::CREATED, "{}", published.1);
    let config = format!("questionnaire = \"opinion-poll\"\n{PANEL}[[fields]]\nname = \"region\"\ntype = \"text\"\n");
    let created = admin
        .post("/api/campaigns", json!({ "name": "poll", "config": config }))
        .await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);

    let (status, view) = admin.get("/api/campaigns/poll/quotas").await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(
        (view["questionnaire"].as_str(), view["version"].as_str()),
        (Some("opinion-poll"), Some("1"))
    );
    let cells = view["cells"].as_array().unwrap();
    // 4 regions x 2 genders x 3 age bands, and the one "south" cell.
    assert_eq!(cells.len(), 25, "{view}");
    let south = cells.iter().find(|c| c["quota"] == "south").unwrap();
    assert_eq!(
        (
            south["target"].as_u64(),
            south["completes"].as_u64(),
            south["full"].as_bool()
        ),
        (Some(200), Some(0), Some(false))
    );
    // A campaign whose questionnaire has no quotas, one with no questionnaire, and refusals.
    let (_, demo) = admin.get("/api/campaigns/demo-survey/quotas").await;
    assert_eq!(demo["questionnaire"], "health-survey");
    assert_eq!(demo["cells"], json!([]));
    invalid(&admin.get("/api/campaigns/nowhere/quotas").await, "campaign");
    let agent = Client::sign_in(&server.url, "agent", "demo-agent-pw").await;
    forbidden(&agent.get("/api/campaigns/demo-survey/quotas").await);
    let analyst = Client::sign_in(&server.url, "analyst", "demo-analyst-pw").await;
    assert_eq!(analyst.get("/api/campaigns/poll/quotas").await.0, StatusCode::OK);

    // Targets changed in the field: the campaign's own, kept over the questionnaire's.
    let target = |quota: &str, cell: &str, target: i64| json!({ "quota": quota, "cell": cell, "target": target });
    let (status, view) = admin
        .post("/api/campaigns/poll/quotas", target("south", "south", 150))
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    let of = |view: &Value, cell: &str| -> Value {
        view["cells"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["cell"] == cell)
            .unwrap()
            .clone()
    };
    assert_eq!(of(&view, "south")["target"], 150);
    let (_, view) = admin
        .post("/api/campaigns/poll/quotas", target("rga", "north/f/55+", 0))
        .await;
    assert_eq!(
        (
            of(&view, "north/f/55+")["target"].as_u64(),
            of(&view, "north/f/55+")["full"].as_bool()
        ),
        (Some(0), Some(true))
    );
    assert_eq!(of(&view, "north/m/55+")["target"], 30, "the other cells keep theirs");
    let (_, view) = admin.get("/api/campaigns/poll/quotas").await;
    assert_eq!(of(&view, "south")["target"], 150, "read back from the store");
    let unknown_cell = admin
        .post("/api/campaigns/poll/quotas", target("rga", "mars/f/55+", 5))
        .await;
    invalid(&unknown_cell, "cell");
    assert!(
        unknown_cell.1["error"].as_str().unwrap().contains("north/f/55+"),
        "{}",
        unknown_cell.1
    );
    invalid(
        &admin
            .post("/api/campaigns/poll/quotas", target("age", "young", 5))
            .await,
        "quota",
    );
    invalid(
        &admin
            .post("/api/campaigns/demo-survey/quotas", target("south", "south", 5))
            .await,
        "quota",
    );
    invalid(
        &admin
            .post("/api/campaigns/poll/quotas", target("south", "south", -1))
            .await,
        "target",
    );
    for user in [&analyst, &agent] {
        forbidden(
            &user
                .post("/api/campaigns/poll/quotas", target("south", "south", 5))
                .await,
        );
    }
}
