//! How far a paper run against the sim venue process is from `keel backtest` over the same
//! bars. The decisions are the same code on the same candles; what differs is the venue's
//! timing: at a venue the exits go out when the entry's fill is learnt, so a stop cannot
//! trigger inside the entry's own bar as it can in the backtest.
//!
//! A measurement, not a check run by `cargo test`: the venue is stepped bar by bar in lockstep
//! with keel over 2018 (about 8 700 bars, some 14 minutes in a release build on 2 cores;
//! `KEEL_VENUE_VS_BACKTEST_BARS` takes fewer). It runs with
//! `cargo test --release --test venue_vs_backtest -- --ignored --nocapture`; its figures are
//! in docs/architecture.md ("Backtest and venue").

#[path = "common/process.rs"]
mod process;
#[path = "common/sim_venue.rs"]
mod sim_venue;

use keel::backtest::{load_inputs, run_backtest};
use keel::settings::Settings;
use sim_venue::{SimVenue, SimVenueConfig};

/// The bars to compare, from 2018-01-01 (the month before warms the indicators up).
fn bars() -> usize {
    std::env::var("KEEL_VENUE_VS_BACKTEST_BARS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8_700)
}

#[test]
#[ignore = "a measurement of about 14 minutes, run by hand: cargo test --release --test venue_vs_backtest -- --ignored --nocapture"]
fn a_paper_run_at_the_sim_venue_beside_the_backtest_of_the_same_bars() {
    let bars = bars();
    // Fees in the quote asset, as the backtest charges them: the gap measured is the venue's
    // timing, not where its fees come from.
    let venue = SimVenue::start_with(SimVenueConfig {
        fee_asset: "quote",
        ..SimVenueConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let config = venue.write_keel_config(dir.path(), "");
    let (mut keel, addr) =
        process::keel_run_with_control(&config, dir.path(), sim_venue::keel_env());
    let status = || -> serde_json::Value {
        process::control_get(&addr, "/status")
            .and_then(|(_, body)| serde_json::from_str(&body).ok())
            .unwrap_or_default()
    };
    process::wait_for("keel ready", || {
        assert!(keel.exited().is_none(), "keel exited: {}", keel.stderr());
        status()["ready"] == true
    });
    for bar in 0..bars {
        let before = status()["feed"]["candles"].as_u64().unwrap_or(0);
        let stepped = venue.step(2);
        if stepped["exhausted"] == true {
            break;
        }
        process::wait_for("keel taking in the bar", || {
            assert!(keel.exited().is_none(), "keel exited: {}", keel.stderr());
            status()["feed"]["candles"].as_u64().unwrap_or(0) > before
        });
        if bar % 1000 == 0 {
            println!("bar {bar}: {}", status()["account"]);
        }
    }
    let last = status();
    let account = &last["account"];
    let last_close = last["feed"]["last_close"].as_i64().unwrap();
    println!("paper: {account}");

    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = format!(
        "[data]\ncandles = [\n  {{ symbol = \"BTCUSDT\", path = \"{btc}\", interval = \"1h\" }},\n  \
         {{ symbol = \"ETHUSDT\", path = \"{eth}\", interval = \"1h\" }},\n]\nstart = \"2018-01-01\"\n\
         end = \"{end}\"\n[strategy]\nkind = \"fusion\"\n",
        btc = repo.join("data/binance/BTC_USDT-1h.json").display(),
        eth = repo.join("data/binance/ETH_USDT-1h.json").display(),
        end = keel_model::Timestamp(last_close),
    );
    let settings = Settings::from_toml(&text, "backtest").unwrap();
    let result = run_backtest(&settings, load_inputs(&settings).unwrap(), &mut |_| {});
    let equity = result.equity_curve.last().unwrap().equity;
    println!(
        "backtest: equity {equity} trades {} open {} fees {} orders {}",
        result.trades.len(),
        result.open_positions.len(),
        result.fees_paid,
        result.orders_submitted
    );
    let paper: f64 = account["equity"].as_str().unwrap().parse().unwrap();
    let backtest: f64 = equity.to_string().parse().unwrap();
    println!(
        "paper equity {paper:.2} vs backtest {backtest:.2}: {:+.2} ({:+.3} %)",
        paper - backtest,
        (paper - backtest) / backtest * 100.0
    );
    assert!(
        account["fills"].as_u64().unwrap() > 0,
        "the paper run traded"
    );
    keel.kill9();
}
