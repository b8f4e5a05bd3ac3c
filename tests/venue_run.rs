//! `keel run` against a sim venue process: what it refuses at start, and why. Trading and
//! crash recovery against the venue are in `tests/venue_crash.rs`.

#[path = "common/process.rs"]
mod process;
#[path = "common/sim_venue.rs"]
mod sim_venue;

use std::process::Output;

use sim_venue::{SimVenue, SimVenueConfig, API_SECRET};

/// Runs `keel run` with `settings` until it exits (these runs must refuse to start).
fn keel_run(dir: &std::path::Path, settings: &str, with_env: bool) -> Output {
    let config = dir.join("keel.toml");
    std::fs::write(&config, settings).unwrap();
    let mut command = process::keel(&["run", "--config"]);
    command.arg(&config);
    if with_env {
        command.envs(sim_venue::keel_env());
    }
    // Bounded: a run that wrongly starts trading would otherwise wait at its end forever.
    process::run(command, "keel run (expected to refuse to start)")
}

#[test]
fn a_balance_the_journal_does_not_know_halts_trading_with_both_figures() {
    let venue = SimVenue::start_with(SimVenueConfig {
        balances: "USDT = 10000\nBTC = 0.5".into(),
        ..SimVenueConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let out = keel_run(
        dir.path(),
        &venue.keel_settings(&dir.path().join("journal"), ""),
        true,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("trading halted: positions disagree with the venue's balances")
            && stderr.contains("BTCUSDT: the journal holds 0 BTC, the venue 0.5 BTC"),
        "{stderr}"
    );
    assert!(
        venue.submissions().is_empty(),
        "nothing may be sent while halted"
    );
}

#[test]
fn a_missing_key_variable_is_a_configuration_error_that_names_it() {
    let venue = SimVenue::start();
    let dir = tempfile::tempdir().unwrap();
    let out = keel_run(
        dir.path(),
        &venue.keel_settings(&dir.path().join("journal"), ""),
        false,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("KEEL_TEST_VENUE_KEY is not set"),
        "{stderr}"
    );
}

#[test]
fn a_quantity_step_the_venue_would_round_is_refused_before_trading() {
    let venue = SimVenue::start();
    let dir = tempfile::tempdir().unwrap();
    let settings = venue.keel_settings(
        &dir.path().join("journal"),
        "[risk]\nqty_step = \"0.000001\"\n",
    );
    let out = keel_run(dir.path(), &settings, true);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("risk.qty_step 0.000001 is not a multiple of BTCUSDT's lot step 0.00001"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(API_SECRET),
        "the secret must never be printed"
    );
}
