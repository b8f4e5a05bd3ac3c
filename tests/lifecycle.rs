//! The runtime as an operator runs it: a real `keel run` process, stopped by signals.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A paced paper run over the shipped data that would take minutes, waiting at the end.
fn paper_config(dir: &Path) -> std::path::PathBuf {
    let text = common::data_section("2018-01-01", None, false)
        + &format!(
            "[run]\nfeed = \"paced\"\nspeedup = 360000\nstore = \"{}\"\nat_end = \"wait\"\n[log]\ndir = \"{}\"\n",
            dir.join("store").display(),
            dir.join("log").display()
        );
    let path = dir.join("paper.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn spawn_run(config: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_keel"))
        .args(["run", "--config", config.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("keel runs")
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn wait_with_deadline(mut child: Child, limit: Duration) -> std::process::Output {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            child.kill().unwrap();
            panic!("keel did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn sigterm_stops_at_a_bar_close_and_exits_zero_with_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let config = paper_config(dir.path());
    let child = spawn_run(&config);
    std::thread::sleep(Duration::from_millis(1500));
    signal(&child, "TERM");
    let output = wait_with_deadline(child, Duration::from_secs(20));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");
    assert!(stderr.contains("shutdown requested"), "{stderr}");
    assert!(stderr.contains("run interrupted"), "{stderr}");
    assert!(stdout.contains("Final equity"), "no summary: {stdout}");
    let logs: Vec<_> = std::fs::read_dir(dir.path().join("log")).unwrap().collect();
    assert_eq!(logs.len(), 1, "one rotating log file");
}

#[test]
fn sigint_at_the_end_of_a_paper_run_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let config = paper_config(dir.path());
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("start = \"2018-01-01\"", "start = \"2018-12-30\"")
        .replace("speedup = 360000", "speedup = 100000000");
    std::fs::write(&config, text).unwrap();
    let child = spawn_run(&config);
    // The short range ends quickly; the paper run then waits for a signal.
    let started = Instant::now();
    let log_dir = dir.path().join("log");
    loop {
        let waiting = std::fs::read_dir(&log_dir)
            .ok()
            .into_iter()
            .flatten()
            .flatten()
            .any(|f| {
                std::fs::read_to_string(f.path())
                    .unwrap_or_default()
                    .contains("waiting for SIGINT")
            });
        if waiting {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never reached the end of the data"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    signal(&child, "INT");
    let output = wait_with_deadline(child, Duration::from_secs(20));
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("run complete"));
}
