//! Startup reconciliation against a real sim venue with a long journal: how long `keel run`
//! takes from "connect" to "ready to trade" (connect, trading rules, journal restore, doubts
//! resolved with the venue, reconciliation through the venue book, positions compared with
//! balances) when the journal holds 10 000 orders.
//!
//! `cargo bench --bench reconcile` — `BENCH_ORDERS` sets the number of journalled orders.
//! Setup: a `keel sim-exchange` process on loopback (stepped clock) and the real order
//! manager, venue book and Binance client placing orders at it, round trip after round trip
//! (an entry, its two OCO exit pairs, a flatten: 6 orders each), the last one left open.
//! Then startup is timed 7 times. Prints the figures; asserts only that startup succeeded.

#[path = "../tests/common/process.rs"]
mod process;
#[path = "../tests/common/sim_venue.rs"]
mod sim_venue;

use std::time::{Duration, Instant};

use keel::runtime::{fingerprint, open_remote};
use keel::settings::Settings;
use keel_actors::execution::bridge::Bridge;
use keel_actors::execution::remote::persist_to;
use keel_actors::journal::{Journal, RunInfo, SledStore};
use keel_binance::book::VenueBook;
use keel_binance::client::BinanceClient;
use keel_binance::venue::BinanceVenue;
use keel_core::order_manager::{stage, OrderCommand, OrderManager};
use keel_model::{Decimal, ExitReason, Interval, OrderIntent, Symbol, TakeProfit, Timestamp};
use sim_venue::{SimVenue, SimVenueConfig};

const RUNS: usize = 7;

fn orders_wanted() -> usize {
    std::env::var("BENCH_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

/// Carries `commands` out and settles every report into `om`, journalling `om` first.
async fn route(
    om: &mut OrderManager,
    bridge: &mut Bridge<BinanceVenue>,
    journal: &mut Journal<SledStore>,
    mut commands: Vec<OrderCommand>,
    now: Timestamp,
) {
    while !commands.is_empty() {
        journal.save_order_state(om).unwrap();
        let reports = bridge.execute(&commands, now).await.unwrap();
        commands = stage::settle(om, &reports).commands;
    }
}

/// Closes one bar at the venue and takes in what it filled.
async fn bar(
    om: &mut OrderManager,
    bridge: &mut Bridge<BinanceVenue>,
    journal: &mut Journal<SledStore>,
    admin: &reqwest::Client,
    base: &str,
    symbol: &Symbol,
    now: Timestamp,
) {
    admin
        .post(format!("{base}/admin/step"))
        .json(&serde_json::json!({ "bars": 1 }))
        .send()
        .await
        .unwrap();
    let reports = bridge.sync(symbol, now).await.unwrap();
    let commands = stage::settle(om, &reports).commands;
    route(om, bridge, journal, commands, now).await;
    journal.save_order_state(om).unwrap();
}

fn main() {
    let wanted = orders_wanted();
    let venue = SimVenue::start_with(SimVenueConfig {
        balances: "USDT = 100000000".into(),
        weight_limit: 100_000_000,
        markets: vec![("BTCUSDT".into(), "BTC_USDT-1h.json".into())],
        ..SimVenueConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("journal");
    let config = dir.path().join("keel.toml");
    let text = venue
        .keel_settings(&store, "[regime]\nsymbol = \"BTCUSDT\"\n")
        .replace(
            "symbols = [\"BTCUSDT\", \"ETHUSDT\"]",
            "symbols = [\"BTCUSDT\"]",
        );
    std::fs::write(&config, text).unwrap();
    for (name, value) in sim_venue::keel_env() {
        std::env::set_var(name, value);
    }
    let settings = Settings::load(&config).unwrap();
    let binance = settings.binance.clone().unwrap();
    let symbol = Symbol::parse("BTCUSDT").unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    let setup = Instant::now();
    let placed = runtime.block_on(async {
        let client = BinanceClient::new(binance.client_config().unwrap()).unwrap();
        client
            .exchange_info(std::slice::from_ref(&symbol))
            .await
            .unwrap();
        client.sync_time().await.unwrap();
        let mut journal = Journal::open(SledStore::open(&store).unwrap()).unwrap();
        journal
            .set_run(&RunInfo {
                run_id: settings.orders.run_id.clone(),
                config_fingerprint: fingerprint(&settings),
            })
            .unwrap();
        let venue_side = BinanceVenue::new(client.clone(), Interval::HOUR);
        let mut bridge = Bridge::new(
            venue_side,
            VenueBook::new(),
            persist_to(Some(journal.clone())),
        );
        let mut om = OrderManager::new(settings.orders.clone(), settings.account.initial_capital);
        let admin = reqwest::Client::new();
        let base = venue.base_url().to_string();
        let mut hour = 0i64;
        while om.orders().count() + 5 < wanted {
            hour += 1;
            let now = Timestamp(1_514_764_800_000 + hour * 3_600_000);
            let last = client
                .klines(&symbol, Interval::HOUR, None, None, 1)
                .await
                .unwrap()[0]
                .close;
            let intent = OrderIntent::Open {
                symbol: symbol.clone(),
                // Tranches of 0.002 keep even the stops (at half the price) above the minimum notional.
                qty: Decimal::new(4, 3),
                stop: Some((last / Decimal::from(2)).round_dp(2)),
                take_profits: vec![
                    TakeProfit {
                        price: (last * Decimal::from(2)).round_dp(2),
                        fraction: Decimal::new(5, 1),
                    },
                    TakeProfit {
                        price: (last * Decimal::from(3)).round_dp(2),
                        fraction: Decimal::new(5, 1),
                    },
                ],
                ts: now,
            };
            let commands = om.on_intent(&intent);
            route(&mut om, &mut bridge, &mut journal, commands, now).await;
            bar(
                &mut om,
                &mut bridge,
                &mut journal,
                &admin,
                &base,
                &symbol,
                now,
            )
            .await;
            if om.orders().count() + 5 >= wanted {
                break; // the last position stays open, its exits working
            }
            let commands = om.flatten(&symbol, ExitReason::Flatten, now);
            route(&mut om, &mut bridge, &mut journal, commands, now).await;
            bar(
                &mut om,
                &mut bridge,
                &mut journal,
                &admin,
                &base,
                &symbol,
                now,
            )
            .await;
        }
        journal.save_order_state(&om).unwrap();
        om.orders().count()
    });
    println!(
        "setup: {placed} journalled orders placed at the sim venue in {:.1} s ({} venue submissions)",
        setup.elapsed().as_secs_f64(),
        venue.submissions().len()
    );

    let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = Instant::now();
        let remote = runtime
            .block_on(open_remote(&settings, &binance, Some(&store)))
            .unwrap_or_else(|e| panic!("startup failed: {e:#}"));
        times.push(started.elapsed());
        let open = remote
            .start
            .orders
            .orders()
            .filter(|o| o.status.is_open())
            .count();
        assert!(open > 0, "the last position's exits are open");
        drop(remote);
    }
    times.sort();
    println!(
        "startup reconciliation with {placed} journalled orders: median {:.1} ms, best {:.1} ms, worst {:.1} ms ({RUNS} runs; goal < 1000 ms)",
        times[RUNS / 2].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[RUNS - 1].as_secs_f64() * 1e3,
    );
}
