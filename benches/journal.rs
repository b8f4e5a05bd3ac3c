//! Latency of the order manager's write-ahead: `Journal::save_order_state` (encode the whole
//! state, write it to sled, flush to disk) for a realistic state of about 200 orders and 100
//! closed trades, and of a bar-close `mark` (not flushed). The save is printed first as a
//! ratio to its yardstick, measured in the same run on the same disk: one raw write of the
//! state's bytes to a file and `fsync` (these machines drift 2-3x between days; the ratio
//! holds).
//!
//! `cargo bench --bench journal` — the store lives in a temporary directory under the target
//! directory (a real disk, not tmpfs). Prints the figures; asserts nothing.

#[path = "common/yardstick.rs"]
mod yardstick;

use std::time::{Duration, Instant};

use keel_actors::journal::{Journal, SledStore};
use keel_core::execution::{FillConfig, SimExchange};
use keel_core::order_manager::{OrderCommand, OrderManager, OrderManagerConfig};
use keel_core::risk::RiskState;
use keel_model::{
    Candle, Decimal, EquityPoint, ExitReason, Interval, OrderIntent, Symbol, TakeProfit, Timestamp,
};

const H: i64 = 3_600_000;
const ROUND_TRIPS: i64 = 100;
const ITERATIONS: usize = 500;

/// Sends commands to the venue and its reports back to the manager, until quiet.
fn route(om: &mut OrderManager, ex: &mut SimExchange, mut commands: Vec<OrderCommand>, now: i64) {
    while !commands.is_empty() {
        let mut next = Vec::new();
        for command in &commands {
            for report in ex.apply(command, Timestamp(now)) {
                next.extend(om.on_execution(&report).commands);
            }
        }
        commands = next;
    }
}

/// One bar of `symbol` at hour `hour`, around `price`; the venue's reports go to the manager.
fn bar(om: &mut OrderManager, ex: &mut SimExchange, symbol: &Symbol, hour: i64, price: i64) {
    let price = Decimal::from(price);
    let candle = Candle {
        symbol: symbol.clone(),
        open_time: Timestamp(hour * H),
        interval: Interval::HOUR,
        open: price,
        high: price + Decimal::ONE,
        low: price - Decimal::ONE,
        close: price,
        volume: Decimal::TEN,
    };
    let mut commands = Vec::new();
    for report in ex.on_candle(&candle) {
        commands.extend(om.on_execution(&report).commands);
    }
    route(om, ex, commands, (hour + 1) * H);
}

/// 100 round trips (entry and exit: 200 orders, 100 closed trades) over four symbols, then
/// one open bracket per symbol with its working stop and take-profits.
fn realistic_manager() -> OrderManager {
    let cfg = OrderManagerConfig {
        run_id: "bench".into(),
        ..OrderManagerConfig::default()
    };
    let mut om = OrderManager::new(cfg, Decimal::from(1_000_000));
    let mut ex = SimExchange::new(FillConfig::default());
    let symbols: Vec<Symbol> = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "LINKUSDT"]
        .iter()
        .map(|s| Symbol::parse(s).expect("valid symbol"))
        .collect();
    let mut hour = 1;
    for trip in 0..ROUND_TRIPS {
        let symbol = &symbols[(trip % 4) as usize];
        let open = OrderIntent::Open {
            symbol: symbol.clone(),
            qty: Decimal::new(125, 2),
            stop: None,
            take_profits: Vec::new(),
            ts: Timestamp(hour * H),
        };
        let commands = om.on_intent(&open);
        route(&mut om, &mut ex, commands, hour * H);
        bar(&mut om, &mut ex, symbol, hour, 100 + trip % 7);
        hour += 1;
        let commands = om.flatten(symbol, ExitReason::Signal, Timestamp(hour * H));
        route(&mut om, &mut ex, commands, hour * H);
        bar(&mut om, &mut ex, symbol, hour, 101 + trip % 5);
        hour += 1;
    }
    for symbol in &symbols {
        let open = OrderIntent::Open {
            symbol: symbol.clone(),
            qty: Decimal::new(300, 2),
            stop: Some(Decimal::from(90)),
            take_profits: vec![
                TakeProfit {
                    price: Decimal::from(110),
                    fraction: Decimal::new(5, 1),
                },
                TakeProfit {
                    price: Decimal::from(120),
                    fraction: Decimal::new(5, 1),
                },
            ],
            ts: Timestamp(hour * H),
        };
        let commands = om.on_intent(&open);
        route(&mut om, &mut ex, commands, hour * H);
    }
    om
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// p50, p99 and max of `samples`, in µs.
fn summary(samples: &mut [Duration]) -> String {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    format!(
        "p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs",
        micros(at(0.5)),
        micros(at(0.99)),
        micros(samples[samples.len() - 1])
    )
}

fn main() {
    let om = realistic_manager();
    let state = om.to_state();
    let bytes = serde_json::to_vec(&state).expect("state encodes");
    println!(
        "journal bench: order manager state of {} orders, {} closed trades: {} bytes of JSON",
        state.orders.len(),
        state.closed_trades.len(),
        bytes.len()
    );

    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir");
    let fsync_dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir");
    let store = SledStore::open(dir.path()).expect("store opens");
    let mut journal = Journal::open(store).expect("journal opens");

    let mut encode = Vec::with_capacity(ITERATIONS);
    for _ in 0..ITERATIONS {
        let started = Instant::now();
        let encoded = serde_json::to_vec(&om.to_state()).expect("state encodes");
        encode.push(started.elapsed());
        std::hint::black_box(encoded);
    }
    let mut save = Vec::with_capacity(ITERATIONS);
    for _ in 0..ITERATIONS {
        let started = Instant::now();
        journal.save_order_state(&om).expect("write-ahead succeeds");
        save.push(started.elapsed());
    }
    let risk = RiskState::default();
    let mut mark = Vec::with_capacity(ITERATIONS);
    for i in 0..ITERATIONS {
        let point = EquityPoint {
            ts: Timestamp(i as i64 * H),
            equity: Decimal::from(1_000_000),
            exposure: Decimal::ZERO,
        };
        let started = Instant::now();
        journal.mark(&point, &risk, &[]).expect("mark succeeds");
        mark.push(started.elapsed());
    }
    let mut fsync = yardstick::raw_fsync(fsync_dir.path(), &bytes, ITERATIONS);
    fsync.sort();
    save.sort();
    let p50 = |samples: &[Duration]| micros(samples[(samples.len() - 1) / 2]);
    println!(
        "save_order_state / raw write + fsync of the same bytes: {:.2} (p50s)",
        p50(&save) / p50(&fsync)
    );
    println!(
        "raw write + fsync of {} bytes ({ITERATIONS}x): {}",
        bytes.len(),
        summary(&mut fsync)
    );
    println!(
        "to_state + JSON encode alone ({ITERATIONS}x): {}",
        summary(&mut encode)
    );
    println!(
        "save_order_state = encode + sled write + flush ({ITERATIONS}x): {}",
        summary(&mut save)
    );
    println!(
        "mark = equity point + risk + cursor, one batch, no flush ({ITERATIONS}x): {}",
        summary(&mut mark)
    );
}
