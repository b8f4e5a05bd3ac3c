//! The runtime as an operator runs it: a real `keel run` process, stopped by signals.

mod common;

use std::path::Path;

use common::process::{keel, Process};

/// The feed actor's start line: logged once the run's signal handlers are installed.
const FEED_STARTED: &str = "actor=\"feed\" event=\"started\"";

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

fn spawn_run(config: &Path, dir: &Path) -> Process {
    Process::start_in(
        keel(&["run", "--config", config.to_str().unwrap()]),
        "keel run",
        dir,
    )
}

#[test]
fn sigterm_stops_at_a_bar_close_and_exits_zero_with_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let config = paper_config(dir.path());
    let mut keel = spawn_run(&config, dir.path());
    // The feed starts after the signal handlers are installed: a SIGTERM from now on is a
    // request to stop, not a kill. The run has minutes of paced data left.
    keel.wait_for_stderr(FEED_STARTED);
    keel.signal("TERM");
    let output = keel.finish();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");
    assert!(stderr.contains("shutdown requested"), "{stderr}");
    assert!(stderr.contains("run interrupted"), "{stderr}");
    assert!(stdout.contains("Final equity"), "no summary: {stdout}");
    let names: Vec<String> = std::fs::read_dir(dir.path().join("log"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let logs = names.iter().filter(|n| n.starts_with("keel.")).count();
    let trails = names
        .iter()
        .filter(|n| n.starts_with("keel-audit."))
        .count();
    assert_eq!(
        (logs, trails),
        (1, 1),
        "one rotating log file and its audit trail: {names:?}"
    );
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
    let mut keel = spawn_run(&config, dir.path());
    // The short range ends quickly (however long the warm-up takes on this machine); the
    // paper run then waits for a signal.
    keel.wait_for_stderr("waiting for SIGINT");
    keel.signal("INT");
    let output = keel.finish();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("run complete"));
}
