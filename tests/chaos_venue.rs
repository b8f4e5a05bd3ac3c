//! `keel chaos` against a remote venue, as documented: `config/paper-sim.toml`, with keel
//! chaos starting its own sim venue child for each run, closing the bars one at a time in
//! lockstep with keel, killing actors and making the venue fail.

mod common;

use std::process::Output;

/// `keel chaos` at the sim venue with `args`, and its report.
fn chaos_at_the_sim_venue(args: &[&str]) -> (Output, String) {
    let output = common::keel_chaos_at_the_sim_venue(args);
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    (output, report)
}

/// The venue faults a run of `bars` bars makes with a fault every `every` bars: every such
/// bar but the last, which is left calm so that each fault has a bar to be recovered in.
fn faults_in(bars: u64, every: u64) -> u64 {
    (bars - 1) / every
}

/// The figure after `label` at the start of a report line.
fn figure(report: &str, label: &str) -> u64 {
    report
        .lines()
        .find_map(|l| {
            l.strip_prefix(label)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no `{label}` line in:\n{report}"))
}

#[test]
fn kills_dropped_streams_and_clock_skews_leave_the_trades_of_the_calm_run() {
    let (output, report) = chaos_at_the_sim_venue(&[
        "--bars",
        "150",
        "--venue-faults",
        "dropped-stream,clock-skew",
        "--fault-every",
        "5",
        "--kill-every",
        "30",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{report}\n{stderr}");
    assert_eq!(figure(&report, "bars closed"), 150, "{report}");
    assert_eq!(
        figure(&report, "venue faults"),
        faults_in(150, 5),
        "{report}"
    );
    assert!(figure(&report, "kills") > 20, "{report}");
    for invariant in [
        "every bar handled",
        "journal equal to the venue",
        "no panic escaped",
        "orders identical to the calm run",
        "fills and P&L identical",
        "equity curve identical",
    ] {
        assert!(report.contains(&format!("ok    {invariant}")), "{report}");
    }
    // The calm run traded: the comparison means something.
    let calm = report.lines().find(|l| l.starts_with("calm")).unwrap();
    assert!(!calm.contains(" 0 submissions"), "{report}");
}

#[test]
fn every_kind_of_venue_fault_loses_and_duplicates_nothing() {
    let (output, report) =
        chaos_at_the_sim_venue(&["--bars", "150", "--fault-every", "3", "--kill-every", "30"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{report}\n{stderr}");
    assert_eq!(
        figure(&report, "venue faults"),
        faults_in(150, 3),
        "{report}"
    );
    for invariant in [
        "every bar handled",
        "the run ended cleanly",
        "journal equal to the venue",
        "no panic escaped",
    ] {
        assert!(report.contains(&format!("ok    {invariant}")), "{report}");
    }
    // Faults that may change the trades make the calm comparison a figure, not an invariant.
    assert!(
        report.contains("against the calm run  not an invariant"),
        "{report}"
    );
}

#[test]
fn a_fill_applied_twice_disagrees_with_the_venue_and_fails_the_run() {
    let (output, report) = chaos_at_the_sim_venue(&[
        "--bars",
        "150",
        "--fault-every",
        "0",
        "--sabotage",
        "apply-fill-twice",
    ]);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains("FAIL  journal equal to the venue: journal and venue disagree"),
        "{report}"
    );
}

#[test]
fn without_a_bar_count_it_says_what_is_missing() {
    let (output, _) = chaos_at_the_sim_venue(&[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("needs --bars N"), "{stderr}");
}
