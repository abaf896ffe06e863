//! What the browser tests share: chromedriver and a headless Chromium session, signing in
//! through the page, waiting for a text, and screenshots kept in `target/browser-artifacts/`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::common::Running;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// chromedriver on a free port, and a headless Chromium session through it.
pub async fn chromium() -> (Running, Client) {
    // Two TLS back ends are built in (the WebDriver client's and the reports' object store's);
    // rustls takes one only when told which.
    let _ = rustls::crypto::ring::default_provider().install_default();
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

/// Where screenshots are kept.
pub fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The page as it is now, kept as `name`.
pub async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    std::fs::write(artifacts().join(name), png).unwrap();
}

/// Signs in through the sign-in form.
pub async fn sign_in(client: &Client, url: &str, login: &str, password: &str) {
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

/// Waits until the element shows `want`; if it never does, fails with what it shows, the
/// page's error line, and a screenshot (`failed.png`).
pub async fn wait_for_text(client: &Client, css: &str, want: &str, seconds: u64) {
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
    let error = match client.find(Locator::Id("error")).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    screenshot(client, "failed.png").await;
    panic!("{css} never showed '{want}' (it shows '{seen}'; the page's error line: '{error}')");
}
