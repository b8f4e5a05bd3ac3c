//! Supervision under fire: actors killed (panics and stops) while a replay runs come back
//! with their address and state, and the outcome equals a run without chaos.

mod common;

use std::collections::HashSet;
use std::path::Path;

use keel::backtest::load_inputs;
use keel::runtime::{check_journal, run_actors, ChaosOptions, RunOptions, RunReport};
use keel::settings::Settings;
use keel_actors::journal::{Journal, SledStore};
use keel_actors::runtime::{DeadLetter, PoisonPolicy, POISON_ATTEMPTS};

/// Two volatile months of 2018 on BTC and ETH, with headlines; restarts neither limited nor
/// delayed (the kills are deliberate).
fn config_text() -> String {
    common::data_section("2018-01-01", Some("2018-03-01"), true)
        + "[supervision.intensity]\nmax_restarts = 1000000\n[supervision.backoff]\nbase_ms = 0\ncap_ms = 0\n"
}

/// `keel chaos` as a process on [`config_text`] with `args`.
fn chaos_process(args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("chaos.toml");
    std::fs::write(&config, config_text()).unwrap();
    let mut command = common::process::keel(&["chaos", "--config", config.to_str().unwrap()]);
    command.args(args);
    common::process::run(command, "keel chaos")
}

fn settings() -> Settings {
    Settings::from_toml(&config_text(), "test").unwrap()
}

fn run(settings: &Settings, store: Option<&Path>, chaos: Option<ChaosOptions>) -> RunReport {
    let inputs = load_inputs(settings).unwrap();
    let options = RunOptions {
        store: store.map(Path::to_path_buf),
        chaos,
        ..RunOptions::default()
    };
    run_actors(settings, inputs, options).unwrap()
}

/// A strike every 40 messages the actors handle: by count, so the same run on any machine
/// (a two-month replay is some 10 000 messages, hence hundreds of strikes).
fn chaos(only: &[&str], stop_ratio: f64) -> ChaosOptions {
    ChaosOptions {
        kill_every: 40,
        stop_ratio,
        seed: 7,
        only: only.iter().map(|s| s.to_string()).collect(),
        poison: false,
        sabotage: None,
        count_kills: false,
        hang_share: 0.0,
    }
}

fn assert_unchanged(chaotic: &RunReport, calm: &RunReport, what: &str) {
    assert!(
        calm.result.trades.len() >= 5,
        "too few trades to prove anything"
    );
    assert!(
        chaotic.outcome.completed,
        "{what}: the replay stopped early"
    );
    assert_eq!(chaotic.record.orders, calm.record.orders, "{what}: orders");
    assert_eq!(
        chaotic.result.trades, calm.result.trades,
        "{what}: fills and P&L"
    );
    assert_eq!(
        chaotic.result.equity_curve, calm.result.equity_curve,
        "{what}: equity"
    );
    let ids: HashSet<_> = chaotic.record.orders.iter().map(|o| o.id()).collect();
    assert_eq!(
        ids.len(),
        chaotic.record.orders.len(),
        "{what}: a client order id used twice"
    );
}

#[test]
fn every_actor_kind_comes_back_from_panics_with_the_outcome_unchanged() {
    let settings = settings();
    let calm = run(&settings, None, None);
    for actor in [
        "sentiment",
        "symbol:BTCUSDT",
        "fusion",
        "risk",
        "order_manager",
        "execution",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("journal");
        let chaotic = run(&settings, Some(&store), Some(chaos(&[actor], 0.0)));
        let panics = chaotic.kills.panics.get(actor).copied().unwrap_or(0);
        assert!(panics > 0, "{actor}: the monkey never struck");
        // Each panic was contained and the actor restarted (its address kept working: the
        // replay went on through it to the end).
        assert!(
            chaotic.supervision.panics >= panics,
            "{actor}: a panic escaped"
        );
        assert!(
            chaotic
                .supervision
                .restarts
                .get(actor)
                .copied()
                .unwrap_or(0)
                >= panics,
            "{actor}: not restarted"
        );
        assert_unchanged(&chaotic, &calm, actor);
        check_journal(&settings, &store, chaotic.record.orders.len()).unwrap();
    }
}

#[test]
fn chaos_on_every_actor_with_panics_and_stops_changes_nothing() {
    let settings = settings();
    let calm = run(&settings, None, None);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("journal");
    let chaotic = run(&settings, Some(&store), Some(chaos(&[], 0.4)));
    // Strikes are scheduled by message count, so this holds on any machine: some 10 000
    // messages, a strike every 40, of which those set on an actor that had no message left
    // are never suffered.
    assert!(
        chaotic.kills.total() >= 100,
        "only {} kills",
        chaotic.kills.total()
    );
    assert!(!chaotic.kills.stops.is_empty() && !chaotic.kills.panics.is_empty());
    assert_unchanged(&chaotic, &calm, "all actors");
    check_journal(&settings, &store, chaotic.record.orders.len()).unwrap();
    // Every message counted into a mailbox was counted out, redeliveries included.
    for actor in &chaotic.health.actors {
        assert_eq!(
            actor.mailbox_depth,
            Some(0),
            "{}: mailbox not drained",
            actor.name
        );
    }
    assert_eq!(
        chaotic.health.actors.len(),
        7,
        "sentiment, 2 symbols, fusion, risk, om, execution"
    );
    // Rest-for-one: a failure of fusion restarts risk, the order manager and execution too.
    let restarts: u64 = chaotic.supervision.restarts.values().sum();
    assert!(
        restarts > chaotic.kills.total(),
        "siblings were never restarted by the strategy"
    );
}

#[test]
fn hangs_on_every_actor_are_fenced_and_replaced_with_the_outcome_unchanged() {
    let mut settings = settings();
    // Each hang holds the replay for its deadline: short ones keep the test quick.
    settings.hangs.deadline_ms = 20;
    settings.hangs.actors.clear();
    let calm = run(&settings, None, None);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("journal");
    let mut options = chaos(&[], 0.3);
    options.hang_share = 0.3;
    let chaotic = run(&settings, Some(&store), Some(options));
    let hangs = &chaotic.supervision.hangs;
    for actor in [
        "symbol:BTCUSDT",
        "fusion",
        "risk",
        "order_manager",
        "execution",
    ] {
        assert!(
            hangs.get(actor).copied().unwrap_or(0) > 0,
            "{actor} never hung: {hangs:?}"
        );
    }
    let total: u64 = hangs.values().sum();
    assert_eq!(
        chaotic.kills.hangs.values().sum::<u64>(),
        total,
        "every hang was an injected one"
    );
    assert_eq!(
        chaotic.supervision.hang_replacements.len() as u64,
        total,
        "every hung instance got a successor"
    );
    assert_unchanged(&chaotic, &calm, "hangs");
    check_journal(&settings, &store, chaotic.record.orders.len()).unwrap();
}

#[test]
fn keel_chaos_with_hangs_reports_them_and_exits_0() {
    let output = chaos_process(&[
        "--kill-every",
        "40",
        "--hangs",
        "0.2",
        "--hang-deadline-ms",
        "20",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("hangs "))
        .unwrap_or_else(|| panic!("no hangs line:\n{stdout}"));
    let hangs: u64 = line["hangs".len()..]
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no figure in {line:?}"));
    assert!(hangs > 0, "{stdout}");
    assert!(stdout.contains("hang to successor     p50"), "{stdout}");
    assert!(stderr.contains("actor hung"), "each hang is logged");
}

#[test]
fn the_monkeys_kills_never_use_up_the_configured_restart_intensity() {
    // The default intensity: 10 restarts in 60 s. Hundreds of kills in a few seconds would
    // exceed it many times over if they counted.
    let text = common::data_section("2018-01-01", Some("2018-03-01"), true);
    let settings = Settings::from_toml(&text, "test").unwrap();
    assert_eq!(settings.supervision.intensity.max_restarts, 10);
    let calm = run(&settings, None, None);
    let dir = tempfile::tempdir().unwrap();
    let chaotic = run(
        &settings,
        Some(&dir.path().join("journal")),
        Some(chaos(&[], 0.4)),
    );
    assert!(
        chaotic.kills.total() >= 100,
        "only {} kills",
        chaotic.kills.total()
    );
    assert!(chaotic.outcome.completed, "the supervisors gave up");
    assert_unchanged(&chaotic, &calm, "default intensity");
}

#[test]
fn past_the_restart_intensity_trading_stops_safely_and_keel_exits_70() {
    let output = chaos_process(&["--kill-every", "1", "--max-restarts", "3", "--only", "risk"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(70), "stderr: {stderr}");
    assert!(stderr.contains("event=escalated"), "{stderr}");
    assert!(stderr.contains("trading stopped safely"), "{stderr}");
}

#[test]
fn a_poisoned_message_is_neither_lost_nor_looped_on_it_stops_trading_with_exit_70() {
    let output = chaos_process(&["--kill-every", "2", "--poison", "--only", "fusion"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(70), "stderr: {stderr}");
    assert!(stderr.contains("poison message"), "{stderr}");
}

#[test]
fn a_candle_that_fails_every_delivery_is_quarantined_in_the_journal_and_the_replay_goes_on() {
    let settings = settings();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("journal");
    let mut options = chaos(&["symbol:BTCUSDT"], 0.0);
    options.poison = true;
    let report = run(&settings, Some(&store), Some(options));
    assert!(report.outcome.completed, "the replay stopped at the poison");
    let letters = &report.supervision.dead_letters;
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0].actor, "symbol:BTCUSDT");
    assert_eq!(letters[0].policy, PoisonPolicy::Skip);
    assert!(
        letters[0].message.starts_with("CandleClosed") && letters[0].message.contains("BTCUSDT"),
        "the dead letter holds the candle: {}",
        letters[0].message
    );
    assert_eq!(letters[0].failures.len() as u32, POISON_ATTEMPTS);
    assert_eq!(report.supervision.real_failures, u64::from(POISON_ATTEMPTS));
    let journal = Journal::open(SledStore::open(&store).unwrap()).unwrap();
    let journalled: Vec<DeadLetter> = journal.dead_letters().unwrap();
    assert_eq!(&journalled, letters, "the dead letter is in the journal");
}

/// `keel chaos` with supervision broken on purpose exits 1 and names the invariant that
/// caught it.
fn assert_sabotage_caught(sabotage: &str, invariant: &str) {
    let output = chaos_process(&["--kill-every", "40", "--sabotage", sabotage]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("FAIL  {invariant}")),
        "{sabotage}: expected {invariant:?} to fail:\n{stdout}"
    );
}

#[test]
fn a_soak_loops_the_chaos_run_until_its_duration_is_over_and_prints_the_totals() {
    let output = chaos_process(&["--kill-every", "40", "--duration", "1s"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let figure = |label: &str| -> u64 {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no {label} line:\n{stdout}"));
        line[label.len()..]
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no figure in {line:?}"))
    };
    // A loop that starts in time is finished: at least one, each compared with the calm run.
    assert!(figure("loops") >= 1, "{stdout}");
    assert!(figure("kills") > 0, "{stdout}");
    assert!(
        stdout.contains("each compared with the calm run"),
        "{stdout}"
    );
}

#[cfg(not(feature = "failpoints"))]
#[test]
fn a_build_without_failpoints_refuses_to_arm_them_and_says_how_to_build() {
    let output = chaos_process(&["--failpoints", "all"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--features failpoints"), "{stderr}");
    assert!(output.stdout.is_empty(), "nothing ran");
}

#[test]
fn a_panic_outside_the_supervisors_fails_the_no_panic_escaped_invariant() {
    assert_sabotage_caught("escape-panic", "no panic escaped");
}

#[test]
fn a_message_not_delivered_again_after_a_restart_fails_the_no_order_lost_invariant() {
    assert_sabotage_caught("skip-redelivery", "no order lost");
}

#[test]
fn a_fill_booked_twice_fails_the_pnl_and_the_journal_against_the_venue_invariants() {
    let output = chaos_process(&["--kill-every", "40", "--sabotage", "apply-fill-twice"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL  fills and P&L identical"), "{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.contains("FAIL  journal equal to the venue"))
        .unwrap_or_else(|| panic!("the journal invariant did not fail:\n{stdout}"));
    assert!(
        line.contains("in cash, the venue's fills leave"),
        "the failure names the cash: {line}"
    );
}

#[test]
fn order_manager_writes_missing_from_the_journal_fail_the_journal_invariant() {
    assert_sabotage_caught("drop-journal", "journal equal to the venue");
}

#[test]
fn an_unreachable_venue_opens_its_breaker_puts_risk_in_reduce_only_and_recovers() {
    let text = format!(
        "{}\n[venue_breaker]\nwindow_size = 10\nfailure_rate_threshold = 0.5\nminimum_calls = 3\nopen_cooldown_ms = 86400000\nhalf_open_trial_calls = 1\n",
        config_text()
    );
    let settings = Settings::from_toml(&text, "test").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("journal");
    let inputs = load_inputs(&settings).unwrap();
    let options = RunOptions {
        store: Some(store.clone()),
        // Venue calls 4 to 9 fail: the breaker opens after the third failure in a row.
        venue_faults: Some(4..10),
        ..RunOptions::default()
    };
    let report = run_actors(&settings, inputs, options).unwrap();
    assert!(report.outcome.completed);
    let refused = report
        .result
        .refusals
        .iter()
        .find(|(rule, _)| rule == "reduce_only")
        .map_or(0, |(_, n)| *n);
    assert!(
        refused > 0,
        "no long was refused while the venue was down: {:?}",
        report.result.refusals
    );
    let venue = report
        .health
        .breakers
        .iter()
        .find(|b| b.name == "venue")
        .unwrap();
    assert_eq!(
        venue.state,
        keel_supervision::BreakerState::Closed,
        "the breaker never closed again"
    );
    let rejected = report
        .record
        .orders
        .iter()
        .filter(|o| o.status == keel_model::OrderStatus::Rejected)
        .count();
    assert!(
        rejected > 0,
        "the failed calls' orders must be rejected (they never reached the venue)"
    );
    let ids: HashSet<_> = report.record.orders.iter().map(|o| o.id()).collect();
    assert_eq!(
        ids.len(),
        report.record.orders.len(),
        "a client order id used twice"
    );
    check_journal(&settings, &store, report.record.orders.len()).unwrap();
    assert!(
        report.result.trades.len() >= 3,
        "trading resumed after the outage"
    );
}
