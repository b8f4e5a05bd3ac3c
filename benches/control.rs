//! The cost of a `/metrics` scrape of a run trading 100 symbols: every family encoded from
//! the supervision registry (106 actors, a breaker, 50 events) and the board (100 positions,
//! 200 open orders, refusals by rule, a handler latency histogram per actor), as a share of
//! one core at a 15 s scrape interval.
//! Printed beside its yardstick, measured in the same run: `serde_json` serialising the
//! same account (these machines drift 2-3x between days; the ratio holds).
//!
//! `cargo bench --bench control`. Prints figures; asserts nothing.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use keel::control::render_metrics;
use keel_actors::board::{AccountView, Board, RiskView};
use keel_model::{
    ClientOrderId, Order, OrderKind, OrderPurpose, OrderRequest, Position, Side, Symbol, Timestamp,
};
use keel_supervision::{BreakerState, ExitReason, HealthRegistry, SupervisionEvent};
use rust_decimal::Decimal;

const SYMBOLS: usize = 100;
const SCRAPE_INTERVAL: Duration = Duration::from_secs(15);

fn symbol(i: usize) -> Symbol {
    Symbol::parse(&format!("C{i:03}USDT")).expect("a pair")
}

fn order(i: usize) -> Order {
    Order::new(OrderRequest {
        client_order_id: ClientOrderId(format!("keel-{i}").into()),
        symbol: symbol(i % SYMBOLS),
        side: Side::Sell,
        qty: Decimal::new(125, 3),
        kind: OrderKind::Stop {
            trigger: Decimal::new(95, 0),
        },
        purpose: OrderPurpose::StopLoss,
        oco_group: Some(1),
        attached: Vec::new(),
        created: Timestamp(1_514_764_800_000),
    })
}

/// The registry and board of a run trading `SYMBOLS` symbols.
fn run() -> (HealthRegistry, Board) {
    let health = HealthRegistry::default();
    let now = Instant::now();
    let mut actors: Vec<String> = (0..SYMBOLS)
        .map(|i| format!("symbol:{}", symbol(i)))
        .collect();
    actors.extend(
        [
            "sentiment",
            "fusion",
            "risk",
            "order_manager",
            "execution",
            "news_poller",
        ]
        .map(String::from),
    );
    let board = Board::new();
    for actor in &actors {
        health.record(&SupervisionEvent::started(actor.as_str()), now);
        health.set_mailbox_depth(actor, 3);
        let latency = board.handler_latency(actor);
        for us in [1, 3, 8, 20, 60, 400] {
            latency.observe(Duration::from_micros(us));
        }
    }
    for i in 0..50 {
        let actor = actors[i % actors.len()].as_str();
        health.record(
            &SupervisionEvent::exited(actor, &ExitReason::Panic("boom".into())),
            now,
        );
        health.record(&SupervisionEvent::started(actor), now);
    }
    health.register_breaker("venue", BreakerState::Closed);
    let positions = (0..SYMBOLS)
        .map(|i| Position {
            symbol: symbol(i),
            qty: Decimal::new(125, 3),
            avg_entry: Decimal::new(100, 0),
            last_price: Decimal::new(101, 0),
            opened_at: Timestamp(1_514_764_800_000),
        })
        .collect();
    let mut by_status = BTreeMap::new();
    for (status, n) in [
        ("filled", 9_000u64),
        ("cancelled", 4_000),
        ("accepted", 200),
    ] {
        by_status.insert(status.to_string(), n);
    }
    board.publish_account(AccountView {
        ts: Some(Timestamp(1_514_764_800_000)),
        cash: Decimal::new(5_000, 0),
        equity: Decimal::new(10_100, 0),
        peak_equity: Decimal::new(10_500, 0),
        exposure: Decimal::new(5_100, 0),
        positions,
        open_orders: (0..2 * SYMBOLS).map(order).collect(),
        orders_by_status: by_status,
        fills: 9_000,
    });
    board.publish_risk(RiskView {
        refusals: keel_core::risk::RiskRule::ALL
            .iter()
            .map(|r| (r.name().to_string(), 17))
            .collect(),
        ..RiskView::default()
    });
    for i in 0..1_000 {
        board.candle_sent(Timestamp(1_514_764_800_000 + i * 3_600_000));
    }
    (health, board)
}

/// The median of `rounds` timings of `work`, in µs.
fn median_us(rounds: usize, mut work: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    times.sort_by(|a, b| a.total_cmp(b));
    times[times.len() / 2]
}

fn main() {
    let (health, board) = run();
    let started = Instant::now();
    let text = render_metrics(&health, &board, started).expect("metrics encode");
    for _ in 0..50 {
        black_box(render_metrics(&health, &board, started).unwrap());
        black_box(serde_json::to_string(&board.account()).unwrap());
    }
    let yardstick = median_us(401, || {
        black_box(serde_json::to_string(&board.account()).unwrap());
    });
    let scrape = median_us(401, || {
        black_box(render_metrics(&health, &board, started).unwrap());
    });
    let share = scrape / 1e6 / SCRAPE_INTERVAL.as_secs_f64();
    println!(
        "control: /metrics at {SYMBOLS} symbols ({} bytes, {} samples)",
        text.len(),
        text.lines().filter(|l| !l.starts_with('#')).count()
    );
    println!(
        "  scrape (encode every family)      {scrape:>9.1} us  = {:.2}x serde_json of the account ({yardstick:.1} us)",
        scrape / yardstick
    );
    println!(
        "  share of one core at a {} s scrape interval: {:.5} % ",
        SCRAPE_INTERVAL.as_secs(),
        share * 100.0
    );
}
