//! What the end-to-end tests of the web application share: the demo started as a person
//! starts it, on a free port, stopped when dropped.

// Each test crate uses some of these.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use paceline_dialer::store::testing::TestDb;

/// A child process killed when dropped.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `paceline` on the test's store, in `dir`.
pub fn paceline(test: &TestDb, dir: &Path) -> Command {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("paceline"));
    command
        .current_dir(dir)
        .arg("--database")
        .arg(&test.url)
        .env_remove("DATABASE_URL");
    command
}

/// Starts `command` (a `paceline` that serves) and waits for the address it prints.
pub fn serving(mut command: Command) -> (Running, String) {
    let mut child = command.stdout(Stdio::piped()).spawn().unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let url = loop {
        let mut line = String::new();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "paceline stopped before serving"
        );
        if let Some(url) = line.trim().strip_prefix("Paceline is listening on ") {
            break url.trim_end_matches('/').to_string();
        }
    };
    // Keep reading, so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in reader.lines() {});
    (Running(child), url)
}

/// The demo with its live campaign and `interviewers` simulated interviewers, on a free port.
pub fn demo(test: &TestDb, dir: &Path, interviewers: usize) -> (Running, String) {
    let mut command = paceline(test, dir);
    command.args([
        "demo",
        "--records",
        "300",
        "--interviewers",
        &interviewers.to_string(),
        "--port",
        "0",
    ]);
    serving(command)
}

/// The demo's users and campaigns set up (`records` records, no simulated interviewers, no
/// live runtime), then `paceline serve` on a free port.
pub fn served_demo_with(test: &TestDb, dir: &Path, records: u32) -> (Running, String) {
    let status = paceline(test, dir)
        .args([
            "demo",
            "--records",
            &records.to_string(),
            "--interviewers",
            "0",
            "--setup-only",
        ])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "the demo's set-up failed");
    let mut command = paceline(test, dir);
    command.args(["serve", "--port", "0"]);
    serving(command)
}

/// `served_demo_with` 20 records.
pub fn served_demo(test: &TestDb, dir: &Path) -> (Running, String) {
    served_demo_with(test, dir, 20)
}
