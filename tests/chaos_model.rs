//! `keel chaos` with a model analyst, as documented: `config/llm-local.toml` (a short range),
//! keel chaos playing the model on loopback, killing actors while the model answers 429s,
//! 503s, late answers and prose.

mod common;

use std::path::Path;

/// `keel chaos` on `config` with `args`: its exit code, report and log.
fn chaos(config: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut command = common::process::keel(&["chaos", "--config", config.to_str().unwrap()]);
    command.args(args);
    let output = common::process::run(command, "keel chaos with a model");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The count after `label` at the start of a report line.
fn figure(report: &str, label: &str) -> u64 {
    report
        .lines()
        .find_map(|l| {
            l.trim_start()
                .strip_prefix(label)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no `{label}` line in:\n{report}"))
}

fn assert_ok(report: &str, invariants: &[&str]) {
    for invariant in invariants {
        assert!(report.contains(&format!("ok    {invariant}")), "{report}");
    }
    assert!(!report.contains("FAIL"), "{report}");
}

#[test]
fn faults_the_client_retries_leave_the_trades_of_the_calm_run() {
    let dir = tempfile::tempdir().unwrap();
    // The configured base URL is never asked: keel chaos plays the model.
    let config = common::llm_local_config(dir.path(), "http://127.0.0.1:9");
    let (code, report, log) = chaos(
        &config,
        &[
            "--kill-every",
            "40",
            "--model-faults",
            "rate-limited,server-error,timeout",
            "--model-fault-every",
            "2",
        ],
    );
    assert_eq!(code, Some(0), "{report}\n{log}");
    assert!(figure(&report, "model faults") > 0, "{report}");
    assert!(figure(&report, "kills") > 0, "{report}");
    assert_ok(
        &report,
        &[
            "orders identical to the calm run",
            "fills and P&L identical",
            "equity curve identical",
            "garbage from the model never became a signal",
            "every retried model fault recovered",
        ],
    );
    // Both runs asked the model for every window: each had its own fresh cache.
    let calm_calls = figure(&report, "model calm");
    assert!(calm_calls > 0, "{report}");
    assert_eq!(figure(&report, "model chaos"), calm_calls, "{report}");
}

#[test]
fn prose_from_the_model_is_rejected_and_never_becomes_a_signal() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::llm_local_config(dir.path(), "http://127.0.0.1:9");
    let (code, report, log) = chaos(
        &config,
        &[
            "--only",
            "risk,order_manager",
            "--model-faults",
            "prose",
            "--model-fault-every",
            "3",
        ],
    );
    assert_eq!(code, Some(0), "{report}\n{log}");
    let prose = report
        .lines()
        .find_map(|l| {
            l.trim_start()
                .strip_prefix("prose")?
                .trim()
                .parse::<u64>()
                .ok()
        })
        .unwrap_or_else(|| panic!("no prose line:\n{report}"));
    assert!(prose > 0, "{report}");
    // With the sentiment actor left alive, every prose reply reaches the session, which
    // rejects each one.
    assert!(
        report.contains(&format!("{prose} rejected, 0 failed")),
        "{report}"
    );
    assert!(
        report.contains("against the calm run  not an invariant"),
        "{report}"
    );
    assert_ok(
        &report,
        &[
            "garbage from the model never became a signal",
            "no order lost",
        ],
    );
}

#[test]
fn a_fault_on_every_request_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::llm_local_config(dir.path(), "http://127.0.0.1:9");
    let (code, _, log) = chaos(&config, &["--model-fault-every", "1"]);
    assert!(code.is_some_and(|c| c != 0), "{log}");
    assert!(log.contains("--model-fault-every 1"), "{log}");
}
