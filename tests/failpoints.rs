//! Faults in the middle of work: each failpoint makes its handler panic halfway through (after
//! a state change, between the journal and the venue, inside the sled write, between the legs
//! of an OCO), and `keel chaos` shows the outcome unchanged: the same orders, fills, P&L and
//! equity as the calm run, the journal equal to the venue, no panic escaped.
//!
//! Built only with the `failpoints` feature (`cargo test --features failpoints --test
//! failpoints`, which `.ci/run` runs); a plain build carries no failpoints.

mod common;

use keel_actors::runtime::{asks_a_model, FAILPOINTS};

/// Two volatile months of 2018 on BTC and ETH, with headlines.
fn config_text() -> String {
    common::data_section("2018-01-01", Some("2018-03-01"), true)
}

/// `keel chaos` on [`config_text`] with `args`: its exit code and report.
fn chaos(args: &[&str]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("chaos.toml");
    std::fs::write(&config, config_text()).unwrap();
    chaos_on(&config, args)
}

/// `keel chaos` on `config` with `args`: its exit code and report.
fn chaos_on(config: &std::path::Path, args: &[&str]) -> (Option<i32>, String) {
    let mut command = common::process::keel(&["chaos", "--config", config.to_str().unwrap()]);
    command.args(args);
    let output = common::process::run(command, "keel chaos");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail: String = stderr.lines().rev().take(20).collect::<Vec<_>>().join("\n");
    (
        output.status.code(),
        format!("{stdout}\n--- stderr (last lines, reversed)\n{tail}"),
    )
}

/// `keel chaos` arguments arming `point` alone, with no monkey: it strikes often (some
/// points, the venue's, are passed only when orders move), from a fixed seed.
fn point_alone(point: &str) -> [&str; 8] {
    [
        "--kill-every",
        "1000000000",
        "--failpoints",
        point,
        "--failpoint-probability",
        "0.3",
        "--seed",
        "7",
    ]
}

/// How often the report says `point` fired.
fn fired(report: &str, point: &str) -> u64 {
    report
        .lines()
        .find_map(|line| {
            let rest = line.trim().strip_prefix(point)?;
            rest.trim().strip_prefix("fired")?.trim().parse().ok()
        })
        .unwrap_or_else(|| panic!("no `{point} fired` line in the report:\n{report}"))
}

#[test]
fn each_failpoint_alone_fires_and_leaves_the_outcome_unchanged() {
    // The model request's point needs a model: its own test below.
    for (point, _) in FAILPOINTS.iter().filter(|(p, _)| !asks_a_model(p)) {
        let (code, report) = chaos(&point_alone(point));
        assert_eq!(code, Some(0), "{point}:\n{report}");
        assert!(fired(&report, point) > 0, "{point} never fired:\n{report}");
        assert!(!report.contains("FAIL"), "{point}:\n{report}");
        assert!(
            report.contains("ok    orders identical to the calm run"),
            "{report}"
        );
    }
}

#[test]
fn every_failpoint_with_the_monkeys_kills_changes_nothing_and_the_report_names_them() {
    let (code, report) = chaos(&[
        "--kill-every",
        "40",
        "--failpoints",
        "all",
        "--failpoint-probability",
        "0.05",
    ]);
    assert_eq!(code, Some(0), "{report}");
    assert!(
        report.contains("each armed point fires with probability 0.05"),
        "{report}"
    );
    let total: u64 = FAILPOINTS.iter().map(|(p, _)| fired(&report, p)).sum();
    assert!(total > 0, "{report}");
    // Injected faults are neither real failures nor poison.
    assert!(report.contains("failures beyond kills 0"), "{report}");
    assert!(report.contains("dead letters          0"), "{report}");
}

/// The HTTP requests a report's `model calm` or `model chaos` line counts.
fn http_requests(report: &str, run: &str) -> u64 {
    report
        .lines()
        .find_map(|line| {
            let rest = line.trim().strip_prefix(run)?;
            let (_, requests) = rest.rsplit_once(';')?;
            requests
                .trim()
                .strip_suffix("HTTP requests")?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no `{run}` line counting HTTP requests in:\n{report}"))
}

/// The failpoint inside a model request, with keel chaos playing the model on loopback
/// (`config/llm-local.toml`, a short range): each attempt it strikes loses its reply after the
/// provider answered, the client asks again, and the trades are the calm run's. Each strike,
/// like each fault the model plays, costs exactly one more request.
#[test]
fn a_model_request_struck_before_its_reply_is_read_is_asked_again_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // The configured base URL is never asked: keel chaos plays the model.
    let config = common::llm_local_config(dir.path(), "http://127.0.0.1:9");
    let point = keel_news::llm::INSIDE_REQUEST;
    let (code, report) = chaos_on(&config, &point_alone(point));
    assert_eq!(code, Some(0), "{report}");
    let struck = fired(&report, point);
    assert!(struck > 0, "{point} never fired:\n{report}");
    assert!(!report.contains("FAIL"), "{report}");
    for invariant in [
        "orders identical to the calm run",
        "fills and P&L identical",
        "every retried model fault recovered",
    ] {
        assert!(report.contains(&format!("ok    {invariant}")), "{report}");
    }
    let model_faults = report
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("model faults")?
                .split_whitespace()
                .next()?
                .parse::<u64>()
                .ok()
        })
        .unwrap_or_else(|| panic!("no `model faults` line in:\n{report}"));
    assert_eq!(
        http_requests(&report, "model chaos"),
        http_requests(&report, "model calm") + struck + model_faults,
        "{report}"
    );
}

#[test]
fn an_unknown_failpoint_is_refused_before_anything_runs() {
    let (code, report) = chaos(&["--failpoints", "risk.after_decision,nowhere"]);
    assert_eq!(code, Some(2), "{report}");
    assert!(report.contains("unknown failpoint \"nowhere\""), "{report}");
    assert!(!report.contains("chaos report"), "{report}");
}

/// `keel chaos` at the sim venue with the journal refusing its writes for one bar in five
/// (`--venue-faults disk-full`). The order manager holds its orders through each and sends
/// them once a write succeeds; execution refuses new orders while it cannot journal the
/// venue's book and resumes in place once it can: every invariant holds, with no restart.
#[test]
fn a_full_disk_holds_the_orders_and_trading_on_the_venue_resumes_once_the_journal_takes_writes() {
    let output = common::keel_chaos_at_the_sim_venue(&[
        "--log-level",
        "info",
        "--bars",
        "150",
        "--venue-faults",
        "disk-full",
        "--fault-every",
        "5",
    ]);
    let report = String::from_utf8_lossy(&output.stdout);
    let log = String::from_utf8_lossy(&output.stderr);
    // Bars 5, 10, .., 145: the last bar gets no fault.
    assert!(
        report.contains("disk-full                               29"),
        "{report}"
    );
    assert!(
        log.contains("commands held back: the journal cannot record them")
            && log.contains("the journal records again: the commands held back leave now"),
        "the order manager held its orders and sent them later:\n{report}"
    );
    let halts = log
        .matches("the venue's state cannot be journalled: no order leaves until it is")
        .count();
    let resumes = log
        .matches("the venue's state is journalled again: trading on the venue resumes")
        .count();
    assert!(
        halts > 0 && resumes == halts,
        "execution halted {halts} times and resumed {resumes} times:\n{report}"
    );
    for invariant in [
        "every bar handled",
        "the run ended cleanly",
        "trading went on",
        "journal equal to the venue",
        "no panic escaped",
    ] {
        assert!(report.contains(&format!("ok    {invariant}")), "{report}");
    }
    assert_eq!(output.status.code(), Some(0), "{report}");
}
