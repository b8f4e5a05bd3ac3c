//! The order manager restarted again and again (by the chaos monkey) while keel trades at a
//! real sim venue server over loopback: each restart reloads the order manager from its
//! journal and reconciles it with what the venue journalled, and the execution stage (started
//! after it, so restarted with it) rebuilds its venue book from the journal. At the end nothing
//! was lost or sent twice and the journal agrees with the venue's balances to the last decimal.

#[path = "common/process.rs"]
mod process;
#[path = "common/sim_venue.rs"]
mod sim_venue;

use keel::backtest::live_inputs;
use keel::runtime::{run_actors, ChaosOptions, RunOptions};
use keel::settings::Settings;
use sim_venue::{SimVenue, SimVenueConfig};

/// Candles of the warm-up history the venue serves (BTCUSDT and ETHUSDT, 1h, December 2017).
const HISTORY: u64 = 2 * 31 * 24;
/// Live bars of each symbol the run trades through.
const LIVE_BARS: u64 = 400;

#[test]
fn order_manager_restarts_against_the_venue_server_lose_and_duplicate_nothing() {
    let venue = SimVenue::start_with(SimVenueConfig {
        bar_ms: 40,
        weight_limit: 1_000_000,
        ..SimVenueConfig::default()
    });
    for (key, value) in sim_venue::keel_env() {
        std::env::set_var(key, value);
    }
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("journal");
    let mut settings = Settings::from_toml(&venue.keel_settings(&store, ""), "test").unwrap();
    settings.run.at_end = keel::settings::AtEnd::Exit;
    // The kills are deliberate: they do not count against the restart intensity, and
    // restarts are not delayed (as in `keel chaos`).
    settings.supervision.intensity.max_restarts = u32::MAX;
    settings.supervision.backoff.base_ms = 0;
    settings.supervision.backoff.cap_ms = 0;
    let inputs = live_inputs(&settings).unwrap();
    let options = RunOptions {
        store: Some(store.clone()),
        stop_after: Some(HISTORY + 2 * LIVE_BARS),
        chaos: Some(ChaosOptions {
            kill_every: 25,
            stop_ratio: 0.5,
            seed: 11,
            only: vec!["order_manager".into()],
            poison: false,
            sabotage: None,
            count_kills: false,
            hang_share: 0.0,
        }),
        ..RunOptions::default()
    };
    let report = run_actors(&settings, inputs, options).unwrap();

    let suffered = |kills: &std::collections::BTreeMap<String, u64>| {
        kills.get("order_manager").copied().unwrap_or(0)
    };
    let om_kills = suffered(&report.kills.panics) + suffered(&report.kills.stops);
    assert!(
        om_kills >= 5,
        "too few restarts to mean anything: {:?}",
        report.kills
    );
    let restarts = &report.supervision.restarts;
    assert!(
        restarts.get("execution").copied().unwrap_or(0) > 0,
        "the execution stage is restarted with the order manager (rest_for_one): {restarts:?}"
    );
    let agreed = venue.assert_agrees_with_journal(&store, 3);
    println!(
        "order manager restarts: {om_kills} ({:?}); {agreed}",
        report.kills
    );
}
