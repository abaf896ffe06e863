//! The web application over real HTTP, as a browser or a program uses it: `paceline serve`
//! on a store (SQLite, or PostgreSQL with PACELINE_TEST_DATABASE_URL), sign-in through the
//! form and the API, CSRF protection, sign-in limits, the password change, every role
//! refused what it may not do, and the analysts' reports and survey exports.

mod common;

use std::path::Path;
use std::process::Stdio;

use common::{Running, paceline};

use paceline_dialer::store::testing::TestDb;
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::{Value, json};

/// A running `paceline serve` (or demo) and its address, stopped when dropped.
struct Server {
    _running: Running,
    url: String,
}

/// The demo's users and campaign (admin, supervisor, agent, analyst), then the server.
fn server(test: &TestDb, dir: &Path) -> Server {
    let (running, url) = common::served_demo_with(test, dir, 50);
    Server { _running: running, url }
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// The value of `name="csrf"` in a page.
fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("the page has a CSRF field") + 19;
    page[at..at + 64].to_string()
}

/// Signs in through the API; the CSRF token of the session.
async fn api_login(client: &reqwest::Client, url: &str, login: &str, password: &str) -> String {
    let response = client
        .post(format!("{url}/api/login"))
        .json(&json!({ "login": login, "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{login} could not sign in");
    let me: Value = response.json().await.unwrap();
    me["csrf"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_person_signs_in_with_the_form_and_out_again() {
    let test = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let server = server(&test, dir.path());
    let client = browser();
    // Not signed in: every page leads to the sign-in form.
    let home = client.get(format!("{}/", server.url)).send().await.unwrap();
    assert_eq!(home.status(), StatusCode::SEE_OTHER);
    assert_eq!(home.headers()["location"], "/login");

    let form = client.get(format!("{}/login", server.url)).send().await.unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    let page = form.text().await.unwrap();
    let csrf = csrf_of(&page);
    // A form posted without its token (another site's form) is refused.
    let forged = client
        .post(format!("{}/login", server.url))
        .form(&[("login", "agent"), ("password", "demo-agent-pw")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let signed_in = client
        .post(format!("{}/login", server.url))
        .form(&[("login", "agent"), ("password", "demo-agent-pw"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("paceline_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let home = client
        .get(format!("{}/", server.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("Welcome, Demo Agent"), "{home}");

    // Signing out needs the session's token too.
    let session_csrf = csrf_of(&home);
    let forged = client.post(format!("{}/logout", server.url)).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let out = client
        .post(format!("{}/logout", server.url))
        .form(&[("csrf", &session_csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let me = client.get(format!("{}/api/me", server.url)).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    let body: Value = me.json().await.unwrap();
    assert_eq!(body["error"], "sign in first");
}

#[tokio::test]
async fn failed_sign_ins_are_limited() {
    let test = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let server = server(&test, dir.path());
    let client = browser();
    for _ in 0..5 {
        let wrong = client
            .post(format!("{}/api/login", server.url))
            .json(&json!({ "login": "supervisor", "password": "guess" }))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        let body: Value = wrong.json().await.unwrap();
        assert_eq!(body["error"], "the login or the password is wrong");
    }
    // The sixth attempt waits, even with the right password.
    let limited = client
        .post(format!("{}/api/login", server.url))
        .json(&json!({ "login": "supervisor", "password": "demo-supervisor-pw" }))
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = limited.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("too many failed sign-ins; try again after")
    );
}

#[tokio::test]
async fn a_password_change_signs_out_the_other_sessions() {
    let test = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let server = server(&test, dir.path());
    let (here, elsewhere) = (browser(), browser());
    let csrf = api_login(&here, &server.url, "analyst", "demo-analyst-pw").await;
    api_login(&elsewhere, &server.url, "analyst", "demo-analyst-pw").await;
    let change = |token: Option<&str>, body: Value| {
        let mut request = here.post(format!("{}/api/password", server.url)).json(&body);
        if let Some(token) = token {
            request = request.header("X-CSRF-Token", token);
        }
        request.send()
    };
    let no_token = change(
        None,
        json!({ "current": "demo-analyst-pw", "new": "a much longer one" }),
    )
    .await
    .unwrap();
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
    let wrong = change(Some(&csrf), json!({ "current": "nope", "new": "a much longer one" }))
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.json::<Value>().await.unwrap()["field"], "current");
    let weak = change(Some(&csrf), json!({ "current": "demo-analyst-pw", "new": "short" }))
        .await
        .unwrap();
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = weak.json().await.unwrap();
    assert_eq!(body["field"], "new");
    assert!(body["error"].as_str().unwrap().starts_with("the password is too short"));
    let done = change(
        Some(&csrf),
        json!({ "current": "demo-analyst-pw", "new": "a much longer one" }),
    )
    .await
    .unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    // This session goes on; the other one is over; the new password signs in.
    let me = here.get(format!("{}/api/me", server.url)).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let gone = elsewhere.get(format!("{}/api/me", server.url)).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::UNAUTHORIZED);
    api_login(&browser(), &server.url, "analyst", "a much longer one").await;
}

#[tokio::test]
async fn each_role_is_refused_what_it_may_not_do() {
    let test = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let server = server(&test, dir.path());
    let url = &server.url;
    // A campaign nobody is assigned to, beside the demo's.
    std::fs::write(
        dir.path().join("other.toml"),
        "kind = \"survey\"\ncaller_id = \"+12125550100\"\ndefault_country = \"US\"\n",
    )
    .unwrap();
    let status = paceline(&test, dir.path())
        .args(["campaign", "create", "other", "--config", "other.toml"])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());

    let names = |campaigns: Value| -> Vec<String> {
        campaigns
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect()
    };
    let new_user = json!({ "login": "bo", "password": "long enough pw", "roles": ["agent"] });
    for (login, password) in [
        ("agent", "demo-agent-pw"),
        ("supervisor", "demo-supervisor-pw"),
        ("analyst", "demo-analyst-pw"),
    ] {
        let client = browser();
        let csrf = api_login(&client, url, login, password).await;
        let users = client.get(format!("{url}/api/users")).send().await.unwrap();
        assert_eq!(users.status(), StatusCode::FORBIDDEN, "{login} listed users");
        let body: Value = users.json().await.unwrap();
        assert_eq!(
            body["error"],
            format!("'{login}' may not do this: it needs the role admin")
        );
        let create = client
            .post(format!("{url}/api/users"))
            .header("X-CSRF-Token", &csrf)
            .json(&new_user)
            .send()
            .await
            .unwrap();
        assert_eq!(create.status(), StatusCode::FORBIDDEN, "{login} created a user");
        let campaigns: Value = get_json(&client, format!("{url}/api/campaigns")).await;
        let expected: &[&str] = match login {
            "analyst" => &["demo-survey", "demo-wave-2", "other"],
            _ => &["demo-survey", "demo-wave-2"],
        };
        assert_eq!(names(campaigns), expected, "{login}'s campaigns");
    }
    // The API's OpenAPI document, for anyone: every route with its roles and errors.
    let document: Value = reqwest::get(format!("{url}/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."), "{document}");
    for path in [
        "/api/agent/{action}",
        "/api/wallboard",
        "/api/records/{record}",
        "/api/campaigns",
    ] {
        assert!(document["paths"][path].is_object(), "{path} is not in the document");
    }
    assert_eq!(
        document["paths"]["/api/users"]["post"]["responses"]["422"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorBody"
    );
    // Not signed in at all.
    let anonymous = reqwest::Client::new()
        .get(format!("{url}/api/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    // The admin may, and bad input names its field.
    let admin = browser();
    let csrf = api_login(&admin, url, "admin", "demo-admin-pw").await;
    let post = |body: Value| {
        admin
            .post(format!("{url}/api/users"))
            .header("X-CSRF-Token", &csrf)
            .json(&body)
            .send()
    };
    let bad_role = post(json!({ "login": "bo", "password": "long enough pw", "roles": ["chief"] }))
        .await
        .unwrap();
    assert_eq!(bad_role.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = bad_role.json().await.unwrap();
    assert_eq!(body["field"], "roles");
    assert_eq!(
        body["error"],
        "unknown role 'chief'; roles are agent, supervisor, admin, analyst"
    );
    let created = post(new_user.clone()).await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(created.json::<Value>().await.unwrap()["login"], "bo");
    let again = post(new_user).await.unwrap();
    assert_eq!(again.json::<Value>().await.unwrap()["field"], "login");
    let all: Value = get_json(&admin, format!("{url}/api/users")).await;
    assert_eq!(all.as_array().unwrap().len(), 5);
    // The new agent is on no campaign, so sees none.
    let bo = browser();
    let bo_csrf = api_login(&bo, url, "bo", "long enough pw").await;
    let campaigns: Value = get_json(&bo, format!("{url}/api/campaigns")).await;
    assert_eq!(campaigns, json!([]));
    // Nor the records of any campaign.
    let record = bo.get(format!("{url}/api/records/1/answers")).send().await.unwrap();
    assert_eq!(record.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        record.json::<Value>().await.unwrap()["error"],
        "'bo' may not see the records of campaign 'demo-survey'"
    );
    let record = bo.get(format!("{url}/api/records/1")).send().await.unwrap();
    assert_eq!(record.status(), StatusCode::FORBIDDEN);
    let edit = bo
        .post(format!("{url}/api/records/1"))
        .header("X-CSRF-Token", &bo_csrf)
        .json(&json!({ "fields": { "first_name": "Bo" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(edit.status(), StatusCode::FORBIDDEN);
}

/// The demo with its live campaign (two simulated interviewers), serving on a free port.
fn demo(test: &TestDb, dir: &Path) -> Server {
    demo_with(test, dir, 2)
}

/// The demo with `interviewers` simulated interviewers.
fn demo_with(test: &TestDb, dir: &Path, interviewers: usize) -> Server {
    let (running, url) = common::demo(test, dir, interviewers);
    Server { _running: running, url }
}

/// A GET's JSON body.
async fn get_json(client: &reqwest::Client, url: String) -> Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}

/// Posts an agent's action with the session's CSRF token.
fn agent_action(
    client: &reqwest::Client,
    url: &str,
    csrf: &str,
    action: &str,
    body: &Value,
) -> reqwest::RequestBuilder {
    client
        .post(format!("{url}/api/agent/{action}"))
        .header("X-CSRF-Token", csrf)
        .json(body)
}

#[tokio::test]
async fn an_agent_takes_a_live_call_and_answers_the_questionnaire_to_the_end() {
    let test = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let server = demo(&test, dir.path());
    let url = &server.url;
    let agent = browser();
    let csrf = api_login(&agent, url, "agent", "demo-agent-pw").await;
    let act = |action: &'static str, body: Value| agent_action(&agent, url, &csrf, action, &body).send();
    let view: Value = act("login", json!({})).await.unwrap().json().await.unwrap();
    assert_eq!(view["state"], "not_ready");
    // Signed in to both of the demo's campaigns; the agent switches to the first only (DIAL-03).
    let chosen = |view: &Value| -> Vec<String> {
        view["campaigns"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["chosen"] == true)
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(chosen(&view), ["demo-survey", "demo-wave-2"], "{view}");
    let unknown = act("campaigns", json!({ "campaigns": ["nowhere"] })).await.unwrap();
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.json::<Value>().await.unwrap()["field"], "campaigns");
    let none = act("campaigns", json!({ "campaigns": [] })).await.unwrap();
    assert_eq!(none.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let view: Value = act("campaigns", json!({ "campaigns": ["demo-survey"] }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(chosen(&view), ["demo-survey"], "{view}");
    let view: Value = act("ready", json!({})).await.unwrap().json().await.unwrap();
    assert_eq!(view["state"], "ready");

    // The supervisor's feed shows the demo's calls as they happen.
    let supervisor = browser();
    api_login(&supervisor, url, "supervisor", "demo-supervisor-pw").await;
    let mut feed = supervisor.get(format!("{url}/api/events")).send().await.unwrap();
    assert_eq!(feed.status(), StatusCode::OK);
    // Keep-alive comments (":") may come first while the demo is quiet.
    let first = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        loop {
            let chunk = feed.chunk().await.unwrap().unwrap();
            if !String::from_utf8_lossy(&chunk).trim_start().starts_with(':') {
                return chunk;
            }
        }
    })
    .await
    .expect("no event within a minute");
    assert!(String::from_utf8_lossy(&first).contains("event:"), "{first:?}");
    // An agent may not read the supervisors' feed.
    let refused = agent.get(format!("{url}/api/events")).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    // A person answers within a few simulated seconds of a dial; give it two minutes.
    let mut view = Value::Null;
    for _ in 0..240 {
        view = get_json(&agent, format!("{url}/api/agent")).await;
        if view["state"] == "on_call" && !view["interview"].is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert_eq!(view["state"], "on_call", "no call in two minutes: {view}");
    assert!(
        view["call"]["fields"]["respondent_id"].is_string(),
        "the screen pop: {view}"
    );
    let record = view["call"]["record"].as_i64().unwrap();
    let campaign: i64 = paceline_dialer::with_db!(&test.db, |p| sqlx::query_scalar(
        "SELECT c.id FROM campaigns c WHERE c.name = 'demo-survey'"
    )
    .fetch_one(p)
    .await
    .unwrap());
    assert_eq!(
        view["call"]["campaign"], campaign,
        "the call is from the campaign chosen"
    );

    // The agent corrects the record on screen (CATI-01): a bad value is refused naming the
    // field, a good one is stored with an audit row and shows on the screen pop.
    let edit = |body: Value| {
        agent
            .post(format!("{url}/api/records/{record}"))
            .header("X-CSRF-Token", &csrf)
            .json(&body)
            .send()
    };
    let bad = edit(json!({ "fields": { "age": "old" } })).await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json::<Value>().await.unwrap()["field"], "age");
    let unknown = edit(json!({ "fields": { "shoe_size": "9" } })).await.unwrap();
    assert_eq!(unknown.json::<Value>().await.unwrap()["field"], "shoe_size");
    let priority = edit(json!({ "priority": 9 })).await.unwrap();
    assert_eq!(priority.status(), StatusCode::FORBIDDEN, "agents do not set priorities");
    let edited: Value = edit(json!({ "fields": { "first_name": "Josephine" } }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(edited["record"]["fields"]["first_name"], "Josephine", "{edited}");
    let audit = edited["edits"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (audit["field"].as_str(), audit["user"].as_str()),
        (Some("first_name"), Some("agent"))
    );
    let popped: Value = get_json(&agent, format!("{url}/api/agent")).await;
    assert_eq!(popped["call"]["fields"]["first_name"], "Josephine", "{popped}");
    // The wallboard lists the call, on the agent.
    let board: Value = get_json(&supervisor, format!("{url}/api/wallboard")).await;
    let line = board["calls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["record"] == record)
        .unwrap_or_else(|| panic!("the call is on the wallboard: {board}"))
        .clone();
    assert_eq!(
        (line["phase"].as_str(), line["agent_name"].as_str()),
        (Some("on_call"), Some("Demo Agent")),
        "{line}"
    );

    // The respondent's answers, from the questionnaire's scripted interview.
    let answers: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("questionnaires/health-survey.answers.json"),
        )
        .unwrap(),
    )
    .unwrap();
    // A wrong answer is refused with the question's own message, and changes nothing.
    assert_eq!(view["interview"]["question"]["name"], "welcome");
    view = act("answer", json!({ "value": null }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view["interview"]["question"]["name"], "consent");
    // Read in French for a while, and back: the same question, in the other language.
    let languages = view["interview"]["languages"].clone();
    assert_eq!(languages.as_array().unwrap().len(), 2, "{languages}");
    let english = view["interview"]["question"]["text"].clone();
    let french: Value = act("language", json!({ "language": languages[1] }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(french["interview"]["question"]["name"], "consent");
    assert_ne!(french["interview"]["question"]["text"], english);
    let unknown = act("language", json!({ "language": "Klingon" })).await.unwrap();
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    view = act("language", json!({ "language": languages[0] }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view["interview"]["question"]["text"], english);
    let refused = act("answer", json!({ "value": "perhaps" })).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("consent"), "{body}");
    let mut asked = vec![];
    while view["interview"]["state"]["state"] == "asking" {
        let question = view["interview"]["question"]["name"].as_str().unwrap().to_string();
        let value = answers.get(&question).cloned().unwrap_or(Value::Null);
        let response = act("answer", json!({ "value": value })).await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{question}: {}",
            response.text().await.unwrap()
        );
        view = response.json().await.unwrap();
        asked.push(question);
        assert!(asked.len() < 100, "the interview does not end: {asked:?}");
    }
    assert_eq!(view["interview"]["state"]["state"], "complete", "{view}");
    assert!(asked.contains(&"postcode".to_string()));

    // The disposition waits for the end of the call.
    let early = act("finish", json!({})).await.unwrap();
    assert_eq!(early.status(), StatusCode::UNPROCESSABLE_ENTITY);
    view = act("hang-up", json!({})).await.unwrap().json().await.unwrap();
    for _ in 0..20 {
        if view["state"] == "wrap_up" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        view = get_json(&agent, format!("{url}/api/agent")).await;
    }
    assert_eq!(view["state"], "wrap_up", "{view}");
    view = act("finish", json!({})).await.unwrap().json().await.unwrap();
    assert_eq!(view["needs_disposition"], false, "{view}");
    assert!(view["interview"].is_null());

    // Stored: the record is complete (AAPOR 1.1), the interview with every answer.
    let (disposition, state): (String, String) = paceline_dialer::with_db!(&test.db, |p| sqlx::query_as(
        "SELECT r.last_disposition, i.state FROM interviews i JOIN records r ON r.id = i.record_id
         WHERE i.interviewer_id = (SELECT id FROM users WHERE login = 'agent')"
    )
    .fetch_one(p)
    .await
    .unwrap());
    assert_eq!((disposition.as_str(), state.as_str()), ("complete", "complete"));

    // The agent's look-ups: their call, the record's answers, today's count on the leaderboard.
    let calls: Value = get_json(&agent, format!("{url}/api/agent/calls")).await;
    let call = calls
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["disposition"] == "complete")
        .unwrap()
        .clone();
    let record = call["record"].as_i64().unwrap();
    let interviews: Value = get_json(&agent, format!("{url}/api/records/{record}/answers")).await;
    assert_eq!(interviews[0]["state"], "complete", "{interviews}");
    assert!(
        interviews.to_string().contains("75011"),
        "the postcode is among the answers: {interviews}"
    );
    let board: Value = get_json(&agent, format!("{url}/api/leaderboard?period=today")).await;
    let mine = board
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["login"] == "agent")
        .unwrap()
        .clone();
    assert_eq!(mine["completes"], 1, "{board}");
    let bad = agent
        .get(format!("{url}/api/leaderboard?period=decade"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json::<Value>().await.unwrap()["field"], "period");

    // The wallboard shows it; the supervisor puts the agent not ready; others may not.
    let board: Value = get_json(&supervisor, format!("{url}/api/wallboard")).await;
    assert_eq!(board["campaign"], "demo-survey");
    assert_eq!(board["live_campaigns"], json!(["demo-survey", "demo-wave-2"]));
    assert!(board["completes_today"].as_i64().unwrap() >= 1, "{board}");
    assert!(board["last_hour"]["dials"].as_u64().unwrap() >= 1, "{board}");
    for call in board["calls"].as_array().unwrap() {
        assert!(call["number"].as_str().unwrap().starts_with('+'), "{call}");
        assert!(
            [
                "ringing",
                "waiting",
                "connecting",
                "on_call",
                "collecting",
                "playing",
                "ending"
            ]
            .contains(&call["phase"].as_str().unwrap()),
            "{call}"
        );
    }
    let second: Value = get_json(&supervisor, format!("{url}/api/wallboard?campaign=demo-wave-2")).await;
    assert_eq!(second["campaign"], "demo-wave-2", "{second}");
    let nowhere = supervisor
        .get(format!("{url}/api/wallboard?campaign=nowhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(nowhere.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let me = board["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["login"] == "agent")
        .unwrap()
        .clone();
    assert_eq!(me["state"], "wrap_up");
    let refused = agent.get(format!("{url}/api/wallboard")).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let supervisor_csrf = get_json(&supervisor, format!("{url}/api/me")).await["csrf"]
        .as_str()
        .unwrap()
        .to_string();
    let forced = supervisor
        .post(format!("{url}/api/wallboard/agents/{}/not-ready", me["id"]))
        .header("X-CSRF-Token", &supervisor_csrf)
        .json(&json!({ "reason": "coaching" }))
        .send()
        .await
        .unwrap();
    assert_eq!(forced.status(), StatusCode::OK, "{}", forced.text().await.unwrap());
    let view: Value = get_json(&agent, format!("{url}/api/agent")).await;
    assert_eq!(
        (view["state"].as_str(), view["reason"].as_str()),
        (Some("not_ready"), Some("coaching"))
    );
}

#[tokio::test]
async fn an_admin_manages_campaigns_and_questionnaires() {
    let test = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let server = server(&test, dir.path());
    let url = &server.url;
    let admin = browser();
    let csrf = api_login(&admin, url, "admin", "demo-admin-pw").await;
    let post_json = |path: String, body: Value| {
        admin
            .post(format!("{url}{path}"))
            .header("X-CSRF-Token", &csrf)
            .json(&body)
            .send()
    };
    let post_file = |path: String, bytes: Vec<u8>| {
        admin
            .post(format!("{url}{path}"))
            .header("X-CSRF-Token", &csrf)
            .body(bytes)
            .send()
    };
    let shipped =
        |name: &str| std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("questionnaires").join(name)).unwrap();

    // Questionnaires: checked with every error's place, published as versions.
    let broken = b"id = \"b\"\ntitle = \"B\"\n[[questions]]\nname = \"q\"\ntype = \"single_choice\"\nlabel = \"Q?\"\nrelevant = \"${nope} = 1\"\n".to_vec();
    let checked: Value = post_file("/api/questionnaires/check?file=b.toml".into(), broken.clone())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(checked["ok"], false);
    let messages: Vec<String> = checked["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap().to_string())
        .collect();
    assert!(messages.iter().any(|m| m.contains("unknown name ${nope}")), "{checked}");
    assert!(messages.iter().any(|m| m.contains("has no options")), "{checked}");
    assert_eq!(checked["errors"][0]["at"]["file"], "b.toml");
    let refused = post_file("/api/questionnaires?file=b.toml".into(), broken)
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["field"], "file");
    assert!(body["errors"].as_array().unwrap().len() >= 2);
    let checked: Value = post_file(
        "/api/questionnaires/check?file=opinion-poll.toml".into(),
        shipped("opinion-poll.toml"),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(checked["ok"], true, "{checked}");
    let published = post_file(
        "/api/questionnaires?file=opinion-poll.toml".into(),
        shipped("opinion-poll.toml"),
    )
    .await
    .unwrap();
    assert_eq!(published.status(), StatusCode::CREATED);
    let again = post_file(
        "/api/questionnaires?file=opinion-poll.toml".into(),
        shipped("opinion-poll.toml"),
    )
    .await
    .unwrap();
    assert_eq!(
        again.status(),
        StatusCode::OK,
        "the same file again is the same version"
    );
    let versions: Value = get_json(&admin, format!("{url}/api/questionnaires")).await;
    let keys: Vec<&str> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["key"].as_str().unwrap())
        .collect();
    assert!(
        keys.contains(&"opinion-poll") && keys.contains(&"health-survey"),
        "{versions}"
    );

    // Campaigns: created from a configuration, through their lifecycle, copied.
    let config = "kind = \"survey\"\ncaller_id = \"+12125550100\"\ndefault_country = \"US\"\nquestionnaire = \"opinion-poll\"\n\
                  [[fields]]\nname = \"phone\"\ntype = \"phone\"\nrequired = true\n";
    let created = post_json(
        "/api/campaigns".into(),
        json!({ "name": "Poll 2027", "config": config }),
    )
    .await
    .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(created.json::<Value>().await.unwrap()["status"], "draft");
    let duplicate: Value = post_json(
        "/api/campaigns".into(),
        json!({ "name": "Poll 2027", "config": config }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(duplicate["field"], "name");
    let bad: Value = post_json(
        "/api/campaigns".into(),
        json!({ "name": "Bad", "config": "max_attempts = 0\n" }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(bad["field"], "config");
    assert!(bad["error"].as_str().unwrap().contains("max_attempts"), "{bad}");
    for (step, status) in [
        ("publish", "published"),
        ("start", "running"),
        ("pause", "paused"),
        ("resume", "running"),
    ] {
        let done: Value = post_json(format!("/api/campaigns/Poll%202027/{step}"), json!({}))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(done["status"], status, "{step}: {done}");
    }
    let illegal: Value = post_json("/api/campaigns/Poll%202027/publish".into(), json!({}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(illegal["field"], "step", "{illegal}");
    let copy: Value = post_json(
        "/api/campaigns/Poll%202027/copy".into(),
        json!({ "new_name": "Poll 2028" }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        (copy["name"].as_str(), copy["status"].as_str()),
        (Some("Poll 2028"), Some("draft"))
    );

    // Only admins.
    let analyst = browser();
    let analyst_csrf = api_login(&analyst, url, "analyst", "demo-analyst-pw").await;
    let denied = analyst
        .post(format!("{url}/api/campaigns/Poll%202027/close"))
        .header("X-CSRF-Token", &analyst_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    let denied = analyst
        .post(format!("{url}/api/questionnaires?file=x.toml"))
        .header("X-CSRF-Token", &analyst_csrf)
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_agent_in_preview_mode_dials_or_skips_the_record_shown() {
    let test = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let server = demo_with(&test, dir.path(), 0);
    let url = &server.url;
    let agent = browser();
    let csrf = api_login(&agent, url, "agent", "demo-agent-pw").await;
    let act = |action: &'static str, body: Value| agent_action(&agent, url, &csrf, action, &body).send();
    let view: Value = act("login", json!({})).await.unwrap().json().await.unwrap();
    assert_eq!(view["mode"], "predictive");
    assert_eq!(view["modes"], json!(["predictive", "progressive", "preview"]));
    let bad = act("mode", json!({ "mode": "telepathic" })).await.unwrap();
    assert_eq!(bad.json::<Value>().await.unwrap()["field"], "mode");
    let view: Value = act("mode", json!({ "mode": "preview" }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view["mode"], "preview");
    act("ready", json!({})).await.unwrap();
    let preview = |view: &Value| view["preview"]["record"].as_i64();
    let mut view = Value::Null;
    for _ in 0..40 {
        view = get_json(&agent, format!("{url}/api/agent")).await;
        if preview(&view).is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let first = preview(&view).unwrap_or_else(|| panic!("no record shown in preview: {view}"));
    assert!(view["preview"]["fields"]["respondent_id"].is_string(), "{view}");
    assert!(!view["preview"]["numbers"].as_array().unwrap().is_empty());
    // Skipped, it goes back and the next is shown.
    let view: Value = act("preview-skip", json!({})).await.unwrap().json().await.unwrap();
    let mut next = preview(&view);
    for _ in 0..40 {
        if next.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        let view: Value = get_json(&agent, format!("{url}/api/agent")).await;
        next = preview(&view);
    }
    let second = next.expect("a next record");
    assert_ne!(second, first);
    // A number the record does not have is refused; its own is dialed.
    let wrong = act("preview-dial", json!({ "position": 9 })).await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let view: Value = act("preview-dial", json!({})).await.unwrap().json().await.unwrap();
    assert!(view["preview"].is_null(), "{view}");
    // The dial is stored within the runtime's commit interval (a second).
    let mut dialed = 0;
    for _ in 0..40 {
        dialed = paceline_dialer::with_db!(&test.db, |p| sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM attempts WHERE record_id = $1 AND dial_mode = 'preview' AND dialed_at IS NOT NULL"
        )
        .bind(second)
        .fetch_one(p)
        .await
        .unwrap());
        if dialed > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(dialed, 1);
}

#[tokio::test]
async fn an_analyst_reads_reports_and_exports_survey_data() {
    let test = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let server = demo(&test, dir.path());
    let url = &server.url;
    common::seed_interviews(&test.db).await;
    // A campaign of no team's, without a questionnaire, beside the demo's.
    std::fs::write(
        dir.path().join("other.toml"),
        "kind = \"survey\"\ncaller_id = \"+12125550100\"\ndefault_country = \"US\"\n",
    )
    .unwrap();
    let status = paceline(&test, dir.path())
        .args(["campaign", "create", "other", "--config", "other.toml"])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let analyst = browser();
    api_login(&analyst, url, "analyst", "demo-analyst-pw").await;
    let get = |client: &reqwest::Client, path: &str| client.get(format!("{url}{path}")).send();

    let reports: Value = get_json(&analyst, format!("{url}/api/reports")).await;
    let names: Vec<&str> = reports
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 10, "{reports}");
    assert!(
        names.contains(&"dialer") && names.contains(&"calls") && names.contains(&"drop-off"),
        "{names:?}"
    );
    let dialer_info = reports
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "dialer")
        .unwrap();
    assert!(dialer_info["options"].as_array().unwrap().contains(&json!("interval")));
    assert_eq!(dialer_info["chart"], "line");

    // The demo dials in real time: the dialer report has rows within seconds.
    let mut table = Value::Null;
    for _ in 0..120 {
        let response = get(&analyst, "/api/reports/dialer?campaign=demo-survey&interval=15m")
            .await
            .unwrap();
        let status = response.status();
        table = response.json().await.unwrap();
        if status == StatusCode::OK {
            break;
        }
        assert_eq!(
            table["field"],
            Value::Null,
            "only an empty result may be refused: {table}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(table["report"], "dialer", "{table}");
    assert_eq!(table["chart"], true);
    let columns: Vec<&str> = table["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let dials = columns.iter().position(|c| *c == "dials").expect("a dials column");
    let rows = table["rows"].as_array().unwrap();
    assert!(!rows.is_empty(), "{table}");
    assert!(rows[0][dials].as_u64().unwrap() > 0, "dials are numbers: {table}");
    assert_eq!(
        rows[0][columns.iter().position(|c| *c == "campaign").unwrap()],
        "demo-survey"
    );

    // The same report as files.
    let csv = get(&analyst, "/api/reports/dialer?campaign=demo-survey&format=csv")
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let disposition = csv.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(
        disposition.starts_with("attachment; filename=\"dialer-demo-survey-") && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let csv = csv.text().await.unwrap();
    assert!(csv.lines().next().unwrap().contains("dials"), "{csv}");
    assert!(csv.lines().count() >= 2, "{csv}");
    for (format, magic) in [("xlsx", &b"PK"[..]), ("parquet", &b"PAR1"[..])] {
        let file = get(&analyst, &format!("/api/reports/dialer?format={format}"))
            .await
            .unwrap();
        assert_eq!(file.status(), StatusCode::OK, "{format}");
        assert!(
            file.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .ends_with(&format!(".{format}\"")),
            "{format}"
        );
        let bytes = file.bytes().await.unwrap();
        assert!(bytes.starts_with(magic), "{format}: {:?}", &bytes[..8.min(bytes.len())]);
    }

    // Its chart, as SVG and PNG.
    let svg = get(&analyst, "/api/reports/dialer/chart?campaign=demo-survey")
        .await
        .unwrap();
    assert_eq!(svg.status(), StatusCode::OK);
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    let svg = svg.text().await.unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "{svg}");
    assert!(svg.contains("Dials, person answers and abandons"), "{svg}");
    assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
    let png = get(
        &analyst,
        "/api/reports/dialer/chart?campaign=demo-survey&image=png&width=480&height=300",
    )
    .await
    .unwrap();
    assert_eq!(png.headers()["content-type"], "image/png");
    assert!(png.bytes().await.unwrap().starts_with(b"\x89PNG\r\n\x1a\n"));
    let productivity = get(&analyst, "/api/reports/agent-productivity/chart?campaign=demo-survey")
        .await
        .unwrap();
    assert_eq!(productivity.status(), StatusCode::OK);
    assert!(productivity.text().await.unwrap().contains("by state"));
    // AAPOR rates are a table without a chart.
    let aapor = get(&analyst, "/api/reports/aapor/chart?campaign=demo-survey")
        .await
        .unwrap();
    assert_eq!(aapor.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(aapor.json::<Value>().await.unwrap()["field"], "report");
    let too_big = get(&analyst, "/api/reports/dialer/chart?width=100000").await.unwrap();
    assert_eq!(too_big.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(too_big.json::<Value>().await.unwrap()["field"], "width");

    // Survey data: the answers, one row per interview, in every format; the codebook.
    let answers = get(&analyst, "/api/campaigns/demo-survey/answers?format=csv")
        .await
        .unwrap();
    assert_eq!(answers.status(), StatusCode::OK);
    assert!(
        answers.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"demo-survey-answers-")
    );
    let answers = answers.text().await.unwrap();
    let header = answers.lines().next().unwrap();
    assert!(header.split(',').any(|c| c == "age"), "{header}");
    assert!(
        answers.lines().count() >= 5,
        "four seeded interviews at least: {answers}"
    );
    let complete = get(
        &analyst,
        "/api/campaigns/demo-survey/answers?interviews=complete&labels=true",
    )
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(complete.lines().count() >= 3, "{complete}");
    for (format, magic) in [
        ("sav", &b"$FL2"[..]),
        ("xlsx", &b"PK"[..]),
        ("parquet", &b"PAR1"[..]),
        ("json", &b"["[..]),
    ] {
        let file = get(&analyst, &format!("/api/campaigns/demo-survey/answers?format={format}"))
            .await
            .unwrap();
        assert_eq!(file.status(), StatusCode::OK, "{format}");
        let bytes = file.bytes().await.unwrap();
        assert!(bytes.starts_with(magic), "{format}: {:?}", &bytes[..8.min(bytes.len())]);
    }
    // Triple-S: its XML and data files in one ZIP archive.
    let sss = get(&analyst, "/api/campaigns/demo-survey/answers?format=sss")
        .await
        .unwrap();
    assert_eq!(sss.status(), StatusCode::OK);
    assert_eq!(sss.headers()["content-type"], "application/zip");
    let name = sss.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(name.ends_with(".zip\""), "{name}");
    let bytes = sss.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PK"));
    let holds = |suffix: &str| {
        let stem = name
            .trim_start_matches("attachment; filename=\"")
            .trim_end_matches(".zip\"");
        let file = format!("{stem}{suffix}");
        bytes.windows(file.len()).any(|w| w == file.as_bytes())
    };
    assert!(holds(".xml") && holds(".dat"), "{name}");
    // Only the interviews of records whose fields pass every condition given.
    let respondent = common::first_respondent(&test.db).await;
    let one = get(
        &analyst,
        &format!("/api/campaigns/demo-survey/answers?format=csv&where=respondent_id%3D{respondent}&where=respondent_id~{respondent}"),
    )
    .await
    .unwrap();
    assert_eq!(one.status(), StatusCode::OK);
    let one = one.text().await.unwrap();
    assert_eq!(one.lines().count(), 2, "{one}");
    let none = get(
        &analyst,
        &format!(
            "/api/campaigns/demo-survey/answers?where=respondent_id%3D{respondent}&where=respondent_id!%3D{respondent}"
        ),
    )
    .await
    .unwrap();
    assert_eq!(none.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let codebook = get(&analyst, "/api/campaigns/demo-survey/codebook").await.unwrap();
    assert_eq!(codebook.headers()["content-type"], "text/html; charset=utf-8");
    let codebook = codebook.text().await.unwrap();
    assert!(codebook.contains("<code>age</code>"), "{codebook}");
    let markdown = get(&analyst, "/api/campaigns/demo-survey/codebook?format=md")
        .await
        .unwrap();
    assert!(
        markdown.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .ends_with(".md\"")
    );
    assert!(markdown.text().await.unwrap().contains("age"));

    // Bad input is a 422 naming the field; an empty result names none.
    for (path, field) in [
        ("/api/reports/weather", "report"),
        ("/api/reports/dialer?from=yesterday", "from"),
        ("/api/reports/dialer?to=2026-13-01", "to"),
        ("/api/reports/dialer?from=2026-11-30&to=2026-11-01", "to"),
        ("/api/reports/dialer?interval=minute", "interval"),
        ("/api/reports/dialer?format=pdf", "format"),
        ("/api/reports/quotas", "campaign"),
        ("/api/reports/dialer?campaign=nowhere", "campaign"),
        ("/api/reports/dialer/chart?image=gif", "image"),
        ("/api/campaigns/demo-survey/answers?format=spss", "format"),
        ("/api/reports/dialer?where=town%3DLeeds", "where"),
        ("/api/reports/dialer?where=respondent_id", "where"),
        ("/api/reports/agent-productivity?where=respondent_id%3DS1", "where"),
        ("/api/campaigns/demo-survey/answers?where=age%3Eold", "where"),
        ("/api/reports/dialer?time_zone=Mars%2FOlympus", "time_zone"),
        ("/api/campaigns/demo-survey/answers?interviews=some", "interviews"),
        ("/api/campaigns/demo-survey/answers?labels=maybe", "labels"),
        ("/api/campaigns/other/answers", "campaign"),
        ("/api/campaigns/demo-survey/codebook?format=pdf", "format"),
    ] {
        let refused = get(&analyst, path).await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["field"], field, "{path}: {body}");
        assert!(!body["error"].as_str().unwrap().is_empty());
    }
    let unknown: Value = get_json(&analyst, format!("{url}/api/reports/weather")).await;
    assert!(
        unknown["error"]
            .as_str()
            .unwrap()
            .starts_with("there is no report 'weather'"),
        "{unknown}"
    );
    let empty = get(&analyst, "/api/reports/dialer?campaign=other").await.unwrap();
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = empty.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().starts_with("nothing to report"),
        "{body}"
    );
    assert_eq!(body.get("field"), None);

    // A supervisor reads the reports of their teams' campaigns, and only those.
    let supervisor = browser();
    api_login(&supervisor, url, "supervisor", "demo-supervisor-pw").await;
    let all = get(&supervisor, "/api/reports/dialer").await.unwrap();
    assert_eq!(all.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(all.json::<Value>().await.unwrap()["field"], "campaign");
    let theirs = get(&supervisor, "/api/reports/dialer?campaign=demo-survey")
        .await
        .unwrap();
    assert_eq!(theirs.status(), StatusCode::OK);
    for path in [
        "/api/reports/dialer?campaign=other",
        "/api/reports/dialer/chart?campaign=other",
        "/api/campaigns/other/answers",
        "/api/campaigns/other/codebook",
    ] {
        let refused = get(&supervisor, path).await.unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{path}");
        assert_eq!(
            refused.json::<Value>().await.unwrap()["error"],
            "'supervisor' may not see campaign 'other'"
        );
    }
    let answers = get(&supervisor, "/api/campaigns/demo-survey/answers").await.unwrap();
    assert_eq!(answers.status(), StatusCode::OK);

    // An agent reads none of it, page or API.
    let agent = browser();
    api_login(&agent, url, "agent", "demo-agent-pw").await;
    for path in [
        "/reports",
        "/api/reports",
        "/api/reports/dialer?campaign=demo-survey",
        "/api/reports/dialer/chart?campaign=demo-survey",
        "/api/campaigns/demo-survey/answers",
        "/api/campaigns/demo-survey/codebook",
    ] {
        let refused = get(&agent, path).await.unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{path}");
    }
    // Nor does anyone signed out.
    let anonymous = reqwest::Client::new()
        .get(format!("{url}/api/reports/dialer"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    // The page, for the analyst, with its script.
    let page = get(&analyst, "/reports").await.unwrap().text().await.unwrap();
    assert!(
        page.contains("id=\"report-form\"") && page.contains("/static/reports.js"),
        "{page}"
    );
    let script = get(&analyst, "/static/reports.js").await.unwrap();
    assert_eq!(script.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_live_campaign_takes_the_admin_consoles_changes_at_once() {
    let test = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let server = demo_with(&test, dir.path(), 3);
    let url = &server.url;
    let admin = browser();
    let admin_csrf = api_login(&admin, url, "admin", "demo-admin-pw").await;
    let post = |path: &str, body: Value| {
        admin
            .post(format!("{url}{path}"))
            .header("X-CSRF-Token", &admin_csrf)
            .json(&body)
            .send()
    };
    let agent = browser();
    let csrf = api_login(&agent, url, "agent", "demo-agent-pw").await;
    let view: Value = agent_action(&agent, url, &csrf, "login", &json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed = |view: &Value| -> Vec<(String, bool)> {
        view["campaigns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["name"].as_str().unwrap().to_string(), c["chosen"] == true))
            .collect()
    };
    let both = vec![("demo-survey".to_string(), true), ("demo-wave-2".to_string(), true)];
    assert_eq!(listed(&view), both, "{view}");
    let desk = async || listed(&get_json(&agent, format!("{url}/api/agent")).await);

    // Agents taken off a running campaign, then given it back: the desk follows at once.
    let assign = |agents: Vec<&str>, teams: Vec<&str>| {
        post(
            "/api/campaigns/demo-wave-2/assignments",
            json!({ "agents": agents, "teams": teams }),
        )
    };
    assert_eq!(assign(vec![], vec![]).await.unwrap().status(), StatusCode::OK);
    assert_eq!(desk().await, [("demo-survey".to_string(), true)]);
    assert_eq!(
        assign(vec!["agent"], vec!["demo-team"]).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(desk().await, both);

    // Paused and resumed from the console, without restarting the server.
    let step = async |step: &str| -> Value {
        let answer = post(&format!("/api/campaigns/demo-wave-2/{step}"), json!({}))
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{step}");
        answer.json().await.unwrap()
    };
    assert_eq!(step("pause").await["status"], "paused");
    assert_eq!(desk().await, [("demo-survey".to_string(), true)]);
    assert_eq!(step("resume").await["status"], "running");
    assert_eq!(desk().await, both);
    let board: Value = get_json(&admin, format!("{url}/api/wallboard?campaign=demo-wave-2")).await;
    assert_eq!(board["status"], "running", "{board}");

    // A new abandon ceiling is the one the runtime counts against before the answer comes.
    let settings: Value = get_json(&admin, format!("{url}/api/campaigns/demo-survey/settings")).await;
    let mut abandon = settings["settings"]["abandon"].clone();
    assert_ne!(abandon["ceiling"], 0.015);
    abandon["ceiling"] = json!(0.015);
    let changed = post(
        "/api/campaigns/demo-survey/settings",
        json!({ "settings": { "abandon": abandon } }),
    )
    .await
    .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    let board: Value = get_json(&admin, format!("{url}/api/wallboard?campaign=demo-survey")).await;
    assert_eq!(board["window"]["ceiling"], 0.015, "{board}");
    // And the campaign still dials under it.
    let before = board["last_hour"]["dials"].as_u64().unwrap();
    let mut board = board;
    for _ in 0..240 {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        board = get_json(&admin, format!("{url}/api/wallboard?campaign=demo-survey")).await;
        if board["last_hour"]["dials"].as_u64().unwrap() > before {
            break;
        }
    }
    assert!(
        board["last_hour"]["dials"].as_u64().unwrap() > before,
        "no dial in two minutes after the change: {board}"
    );
}
