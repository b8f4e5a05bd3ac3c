//! `keel run` against a sim venue process: what it refuses at start, and why; the venue
//! breaker; bars caught up after downtime. Trading and crash recovery against the venue are
//! in `tests/venue_crash.rs`.

#[path = "common/process.rs"]
mod process;
#[path = "common/sim_venue.rs"]
mod sim_venue;
#[path = "common/webhook.rs"]
mod webhook;

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

#[test]
fn a_reconciliation_halt_is_told_to_the_webhooks() {
    let receiver = webhook::Receiver::start();
    let venue = SimVenue::start_with(SimVenueConfig {
        balances: "USDT = 10000\nBTC = 0.5".into(),
        ..SimVenueConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let alerts = format!("[[alerts.webhooks]]\nurl = \"{}\"\n", receiver.url);
    let out = keel_run(
        dir.path(),
        &venue.keel_settings(&dir.path().join("journal"), &alerts),
        true,
    );
    assert_eq!(out.status.code(), Some(1));
    let bodies = receiver.bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert_eq!(bodies[0]["kind"], "reconciliation_halt");
    assert_eq!(bodies[0]["severity"], "critical");
    assert!(
        bodies[0]["summary"]
            .as_str()
            .unwrap()
            .contains("BTCUSDT: the journal holds 0 BTC, the venue 0.5 BTC"),
        "{bodies:?}"
    );
}

#[test]
fn the_control_plane_is_alive_but_not_ready_until_the_journal_is_reconciled() {
    let venue = SimVenue::start();
    // Every REST answer takes 1.5 s: the startup's reconciliation (account, open orders,
    // trades, history) takes several of them, during which keel is starting.
    venue.set_faults(serde_json::json!({ "latency_ms": 1500 }));
    let dir = tempfile::tempdir().unwrap();
    let config = venue.write_keel_config(dir.path(), "");
    let (mut keel, addr) =
        process::keel_run_with_control(&config, dir.path(), sim_venue::keel_env());
    let get = |path: &str| process::control_get(&addr, path);
    let mut first = None;
    process::wait_for("the control plane answering /readyz", || {
        assert!(keel.exited().is_none(), "keel exited: {}", keel.stderr());
        first = get("/readyz");
        first.is_some()
    });
    let (code, body) = first.unwrap();
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("not yet reconciled"), "{body}");
    assert_eq!(get("/healthz").unwrap().0, 200, "alive while starting");
    assert!(
        !dir.path().join("journal/control.addr").exists(),
        "the address is written once the store is this process's"
    );
    venue.set_faults(serde_json::json!({ "latency_ms": 0 }));
    process::wait_for("/readyz answering 200 once reconciled", || {
        get("/readyz").is_some_and(|(code, _)| code == 200)
    });
    assert!(dir.path().join("journal/control.addr").exists());
    let (_, metrics) = get("/metrics").unwrap();
    let sample = |name: &str| -> f64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} missing:\n{metrics}"))
    };
    assert!(sample("keel_venue_weight_limit ") > 0.0);
    assert!(sample("keel_venue_weight_used ") >= 0.0);
    keel.kill9();
}

/// The venue breaker against a real venue process: while the venue bans keel (418 on every
/// request), the calls of each bar fail, the breaker opens, `/readyz` says the venue is
/// unreachable and the webhooks hear of it; once the ban is over, a trial call succeeds at
/// a later bar and the breaker closes again, and they hear of that too.
#[test]
fn the_venue_breaker_opens_while_the_venue_bans_keel_and_closes_once_it_answers() {
    let receiver = webhook::Receiver::start();
    let venue = SimVenue::start();
    let dir = tempfile::tempdir().unwrap();
    // Opens at half of the last four calls failing; tries again one bar (an hour of event
    // time) later, one trial call.
    let extra = format!(
        "[venue_breaker]\nwindow_size = 4\nminimum_calls = 4\nfailure_rate_threshold = 0.5\n\
         open_cooldown_ms = 3600000\nhalf_open_trial_calls = 1\n\n\
         [[alerts.webhooks]]\nurl = \"{}\"\n",
        receiver.url
    );
    let config = venue.write_keel_config(dir.path(), &extra);
    let (mut keel, addr) =
        process::keel_run_with_control(&config, dir.path(), sim_venue::keel_env());
    let get = |path: &str| process::control_get(&addr, path);
    let status = || -> serde_json::Value {
        get("/status")
            .and_then(|(_, body)| serde_json::from_str(&body).ok())
            .unwrap_or_default()
    };
    let breaker = || {
        status()["breakers"][0]["state"]
            .as_str()
            .map(str::to_string)
    };
    let candles = || status()["feed"]["candles"].as_u64().unwrap_or(0);
    process::wait_for("/readyz answering 200 once reconciled", || {
        assert!(keel.exited().is_none(), "keel exited: {}", keel.stderr());
        get("/readyz").is_some_and(|(code, _)| code == 200)
    });
    assert_eq!(breaker().as_deref(), Some("closed"));

    let mut next_bar = |ban_s: u64| {
        venue.set_faults(serde_json::json!({ "ban_s": ban_s }));
        let before = candles();
        // One bar: a candle of each of the two symbols.
        venue.step(2);
        process::wait_for("keel taking in the bar", || {
            assert!(keel.exited().is_none(), "keel exited: {}", keel.stderr());
            candles() > before
        });
    };
    // keel calls the venue at a bar close while it has orders there: trade until it has.
    process::wait_for("an order of keel's resting at the venue", || {
        next_bar(0);
        status()["account"]["open_orders"]
            .as_array()
            .is_some_and(|orders| !orders.is_empty())
    });
    // Bar after bar under a ban (renewed before each, so that it holds however slowly keel
    // takes the bar in), until the breaker opens.
    process::wait_for("the venue breaker opening under the ban", || {
        next_bar(5);
        breaker().as_deref() == Some("open")
    });
    let (code, body) = get("/readyz").unwrap();
    assert_eq!(code, 503, "{body}");
    assert!(
        body.contains("venue is unreachable: its breaker is open"),
        "{body}"
    );

    // The ban lifted (keel waits out the one it was told of, a few seconds), later bars' trial
    // calls reach the venue and close the breaker.
    process::wait_for("the venue breaker closing once the venue answers", || {
        next_bar(0);
        breaker().as_deref() == Some("closed")
    });
    process::wait_for("/readyz answering 200 again", || {
        get("/readyz").is_some_and(|(code, _)| code == 200)
    });
    process::wait_for("both alerts at the webhook", || {
        let kinds: Vec<String> = receiver
            .bodies
            .lock()
            .unwrap()
            .iter()
            .filter_map(|b| b["kind"].as_str().map(str::to_string))
            .collect();
        kinds.contains(&"breaker_opened".to_string())
            && kinds.contains(&"breaker_closed".to_string())
    });
    keel.kill9();
}

/// keel started against a venue that has already closed `bars` bars of 2018 (a restart after
/// downtime, or a first start with a past `data.start`), with `[risk] max_bar_age_minutes`
/// set to `max_age`: returns the process, its control-plane address and the orders keel had
/// submitted once it had caught up to the venue's newest bar.
fn caught_up(
    venue: &SimVenue,
    dir: &std::path::Path,
    max_age: u32,
) -> (process::Process, String, usize) {
    venue.step(2 * 200);
    let newest_close = venue.replay()["lastClosedOpenTime"]["BTCUSDT"]
        .as_i64()
        .unwrap()
        + 3_600_000;
    let config =
        venue.write_keel_config(dir, &format!("[risk]\nmax_bar_age_minutes = {max_age}\n"));
    let (mut keel, addr) = process::keel_run_with_control(&config, dir, sim_venue::keel_env());
    process::wait_for("keel catching up to the venue's newest bar", || {
        assert!(keel.exited().is_none(), "keel exited: {}", keel.stderr());
        status(&addr)["feed"]["last_close"].as_i64() == Some(newest_close)
    });
    // The feed is in lockstep: once it has taken the newest bar in, every older one has been
    // through the pipeline. The newest is current (age 0) and opens nothing in this data, so
    // what was submitted by then is the catch-up's.
    let submitted = venue.submissions().len();
    (keel, addr, submitted)
}

fn status(addr: &str) -> serde_json::Value {
    process::control_get(addr, "/status")
        .and_then(|(_, body)| serde_json::from_str(&body).ok())
        .unwrap_or_default()
}

/// The staleness guard (issue 16): bars that closed while keel was away are caught up, their
/// indicators computed, but none opens a position; the refusals are counted by rule and
/// logged; once keel is current, new bars trade. Without the guard the same catch-up trades,
/// so the guard is what kept it from doing so.
#[test]
fn bars_caught_up_after_downtime_open_no_position_and_current_bars_do() {
    // Trading bar after bar spends the request weight fast: a limit high enough that the
    // catch-up never waits for the next minute.
    let unguarded_venue = SimVenue::start_with(SimVenueConfig {
        weight_limit: 1_000_000,
        ..SimVenueConfig::default()
    });
    let unguarded_dir = tempfile::tempdir().unwrap();
    let (mut unguarded, _, submitted) = caught_up(&unguarded_venue, unguarded_dir.path(), 0);
    unguarded.kill9();
    assert!(
        submitted > 0,
        "without the guard the catch-up of 200 bars trades (else this test shows nothing)"
    );

    let venue = SimVenue::start();
    let dir = tempfile::tempdir().unwrap();
    let (mut keel, addr, submitted) = caught_up(&venue, dir.path(), 60);
    assert_eq!(
        submitted,
        0,
        "no order for a bar older than an hour: {:?}",
        venue.submissions()
    );
    // Current bars trade; the refusals reach the operator's view with the next marks.
    process::wait_for("an order for a current bar", || {
        assert!(keel.exited().is_none(), "keel exited: {}", keel.stderr());
        let before = status(&addr)["feed"]["candles"].as_u64().unwrap_or(0);
        venue.step(2);
        process::wait_for("keel taking in the bar", || {
            status(&addr)["feed"]["candles"].as_u64().unwrap_or(0) > before
        });
        !venue.submissions().is_empty()
    });
    process::wait_for("the stale refusals counted in /status", || {
        status(&addr)["risk"]["refusals"]["stale_bar"]
            .as_u64()
            .unwrap_or(0)
            > 0
    });
    assert!(process::log_contains(
        &dir.path().join("journal.log"),
        "a caught-up bar opens no position"
    ));
    keel.kill9();
}
