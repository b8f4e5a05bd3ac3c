//! The venue's user data stream (issue 16): keel subscribes on the sim venue's WebSocket API
//! (`/ws-api/v3`) and learns a fill when the venue pushes it, not at the next bar's close;
//! the bar's own read of the venue's trades then finds it already applied.

#[path = "common/process.rs"]
mod process;
#[path = "common/sim_venue.rs"]
mod sim_venue;

use serde_json::Value;
use sim_venue::{SimVenue, SimVenueConfig};

const SYMBOLS: [&str; 2] = ["BTCUSDT", "ETHUSDT"];

fn status(addr: &str) -> Value {
    process::control_get(addr, "/status")
        .and_then(|(_, body)| serde_json::from_str(&body).ok())
        .unwrap_or_default()
}

/// An exit fills at the venue while no bar reaches keel (the venue holds its market streams
/// back): keel learns it from the user data stream alone and journals it. When the bars come
/// again, their reads of the venue's trades find it applied, and at the end keel's journal
/// agrees with the venue's balances to the last decimal: the fill counted once.
#[test]
fn a_fill_pushed_between_bars_is_journalled_at_once_and_the_bars_after_it_apply_it_no_second_time()
{
    let venue = SimVenue::start_with(SimVenueConfig {
        weight_limit: 1_000_000,
        ..SimVenueConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("journal");
    let config = venue.write_keel_config(dir.path(), "");
    let (mut keel, addr) =
        process::keel_run_with_control(&config, dir.path(), sim_venue::keel_env());
    keel.wait_for_stderr("user data stream subscribed");
    let candles = || status(&addr)["feed"]["candles"].as_u64().unwrap_or(0);
    let next_bar = |keel: &mut process::Process| {
        let before = candles();
        venue.step(SYMBOLS.len());
        process::wait_for("keel taking in the bar", || {
            assert!(keel.exited().is_none(), "keel exited: {}", keel.stderr());
            candles() > before
        });
    };
    process::wait_for(
        "a position of keel's with its exits resting at the venue",
        || {
            next_bar(&mut keel);
            let account = status(&addr)["account"].clone();
            let held = account["positions"]
                .as_array()
                .is_some_and(|p| !p.is_empty());
            let resting = account["open_orders"]
                .as_array()
                .is_some_and(|o| !o.is_empty());
            held && resting
        },
    );

    // The venue stops telling keel of bars; its clock goes on until an exit fills.
    venue.set_faults(serde_json::json!({ "hold_market_streams": true }));
    let traded_before = venue.trades();
    let candles_before = candles();
    process::wait_for("an exit filling at the venue", || {
        assert!(keel.exited().is_none(), "keel exited: {}", keel.stderr());
        venue.step(SYMBOLS.len());
        venue.trades().len() > traded_before.len()
    });
    let new_trades: Vec<(String, u64)> = venue
        .trades()
        .into_iter()
        .filter(|t| !traded_before.contains(t))
        .collect();
    process::wait_for("keel journalling the pushed fills", || {
        assert!(keel.exited().is_none(), "keel exited: {}", keel.stderr());
        let pushed = sim_venue::pushed_fills(&keel.stderr());
        new_trades
            .iter()
            .all(|(s, id)| pushed.iter().any(|(ps, pid, ..)| ps == s && pid == id))
    });
    assert_eq!(
        candles(),
        candles_before,
        "a bar reached keel while the venue held its streams: the fill may have come from it"
    );

    // The bars come again: keel back-fills those it missed and reads the trades at each.
    venue.set_faults(serde_json::json!({ "hold_market_streams": false }));
    for _ in 0..3 {
        next_bar(&mut keel);
    }
    for (symbol, open_ms) in venue.pause_at_a_closed_bar() {
        keel.wait_for_stderr(&format!("symbol={symbol} open_ms={open_ms}"));
    }
    keel.signal("TERM");
    let output = keel.finish();
    let log = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "keel failed: {log}");

    // Applied once: a fill applied twice would leave keel holding more (or less) than the
    // venue's balances, and each pushed trade is journalled from the stream once.
    let agreed = venue.assert_agrees_with_journal(&store, 1);
    let pushed = sim_venue::pushed_fills(&log);
    for trade in &new_trades {
        let times = pushed
            .iter()
            .filter(|(s, id, ..)| (s, id) == (&trade.0, &trade.1))
            .count();
        assert_eq!(
            times, 1,
            "trade {trade:?} journalled {times} times from the stream"
        );
    }
    println!(
        "user data stream: {} fills journalled on its word; {agreed}",
        pushed.len()
    );
}
