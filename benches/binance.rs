//! The Binance adapter's hot paths: a kline stream message to a checked `Candle` (what
//! `MarketStream` does per message: parse, symbol lookup, checks) beside the same through
//! serde_json into serde types as a yardstick (the scanner's figure is also printed as a
//! ratio to it, which holds across machines better than nanoseconds), signing a typical order
//! request (query string + HMAC-SHA256) beside one raw HMAC-SHA256 of the same bytes (the
//! signature's yardstick), and an order's round trip through `BinanceClient` to a real
//! `keel sim-exchange` process on loopback. Each ratio is printed before its figures.
//!
//! `cargo bench --bench binance` — prints ns per operation (median, best and worst of 7
//! rounds of 200 000 operations; `BENCH_OPS` sets the count), then the p50/p99/max of 1000
//! LIMIT placements (RESULT answers; each cancelled afterwards, untimed). Asserts only that
//! every message parsed and every order was placed. `BENCH_NO_VENUE=1` skips the round
//! trips (e.g. under valgrind).

#[path = "../tests/common/process.rs"]
mod process;
#[path = "../tests/common/sim_venue.rs"]
mod sim_venue;

use std::hint::black_box;
use std::time::{Duration, Instant};

use keel_binance::client::{
    BinanceClient, ClientConfig, NewOrder, NewOrderKind, Query, ResponseType,
};
use keel_binance::stream::{parse_kline, ClosedKline};
use keel_binance::wire::OrderSide;
use keel_binance::Signer;
use keel_model::Symbol;
use rust_decimal::Decimal;
use serde::Deserialize;

const ROUNDS: usize = 7;
/// Operations per round; `BENCH_OPS` overrides (e.g. small under valgrind).
fn ops() -> usize {
    std::env::var("BENCH_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000)
}

fn message(open_ms: i64) -> String {
    format!(
        r#"{{"stream":"btcusdt@kline_1h","data":{{"e":"kline","E":{e},"s":"BTCUSDT","k":{{"t":{open_ms},"T":{t},"s":"BTCUSDT","i":"1h","f":3344520011,"L":3344587402,"o":"43127.01000000","c":"43210.55000000","h":"43302.00000000","l":"43088.12000000","v":"1234.56789000","n":67392,"x":true,"q":"53271983.12345678","V":"612.33210000","Q":"26421112.98765432","B":"0"}}}}}}"#,
        e = open_ms + 3_600_000,
        t = open_ms + 3_599_999,
    )
}

/// The serde yardstick: the fields the scanner reads, as serde types (prices through
/// `rust_decimal`'s serde, which parses their strings).
#[derive(Deserialize)]
struct Frame<'a> {
    #[serde(borrow)]
    data: Event<'a>,
}

#[derive(Deserialize)]
struct Event<'a> {
    e: &'a str,
    s: &'a str,
    #[serde(borrow)]
    k: Kline<'a>,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct Kline<'a> {
    t: i64,
    T: i64,
    s: &'a str,
    i: &'a str,
    o: Decimal,
    h: Decimal,
    l: Decimal,
    c: Decimal,
    v: Decimal,
    x: bool,
}

/// Median, best and worst ns per operation of one measured operation.
struct Figure {
    name: &'static str,
    ns: Vec<f64>,
}

impl Figure {
    fn median(&self) -> f64 {
        self.ns[ROUNDS / 2]
    }

    fn print(&self) {
        println!(
            "{}: median {:.0} ns, best {:.0} ns, worst {:.0} ns ({ROUNDS} rounds of {})",
            self.name,
            self.median(),
            self.ns[0],
            self.ns[ROUNDS - 1],
            ops()
        );
    }
}

/// `figure` as a ratio to its `yardstick` (medians), then both figures.
fn print_ratio(what: &str, figure: &Figure, yardstick: &Figure) {
    println!(
        "{what} ratio: {:.3} (medians)",
        figure.median() / yardstick.median()
    );
    figure.print();
    yardstick.print();
}

/// Times `op` over `ROUNDS` rounds (ns per operation, sorted).
fn measure(name: &'static str, mut op: impl FnMut(usize)) -> Figure {
    let n = ops();
    let mut ns = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let started = Instant::now();
        for i in 0..n {
            op(i);
        }
        ns.push(started.elapsed().as_nanos() as f64 / n as f64);
    }
    ns.sort_by(f64::total_cmp);
    Figure { name, ns }
}

fn main() {
    let messages: Vec<String> = (0..64)
        .map(|i| message(1_700_002_800_000 + i * 3_600_000))
        .collect();
    // As MarketStream looks symbols up: a linear scan of the few subscribed.
    let symbols: Vec<Symbol> = ["ETHUSDT", "BTCUSDT"]
        .iter()
        .map(|s| Symbol::parse(s).unwrap())
        .collect();
    let mut parsed = 0usize;
    let scanner = measure("kline message -> Candle", |i| {
        let text = &messages[i % messages.len()];
        let bar = parse_kline(black_box(text)).unwrap().unwrap();
        let symbol = symbols.iter().find(|s| s.as_str() == bar.symbol).unwrap();
        let candle = bar.to_candle(symbol).unwrap();
        parsed += 1;
        black_box(candle);
    });
    assert_eq!(parsed, ROUNDS * ops());
    // The same messages to the same candles, parsed by serde_json instead.
    let mut parsed = 0usize;
    let serde = measure("kline message -> Candle via serde_json", |i| {
        let text = &messages[i % messages.len()];
        let frame: Frame = serde_json::from_str(black_box(text)).unwrap();
        let event = frame.data;
        let k = &event.k;
        assert!(event.e == "kline" && k.s == event.s && k.x);
        let bar = ClosedKline {
            symbol: k.s,
            interval: k.i,
            open_time: k.t,
            close_time: k.T,
            values: [k.o, k.h, k.l, k.c, k.v],
        };
        let symbol = symbols.iter().find(|s| s.as_str() == bar.symbol).unwrap();
        let candle = bar.to_candle(symbol).unwrap();
        parsed += 1;
        black_box(candle);
    });
    assert_eq!(parsed, ROUNDS * ops());
    print_ratio(
        "kline message -> Candle, scanner / serde_json",
        &scanner,
        &serde,
    );

    const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
    let signer = Signer::new(SECRET);
    let signed = measure("sign a LIMIT order query", |i| {
        let q = limit_query(1_700_000_000_000i64 + i as i64);
        black_box(signer.signed_query(black_box(q.as_str())));
    });
    // The signature alone (HMAC-SHA256 and hex) of the same query, built once.
    let q = limit_query(1_700_000_000_000);
    let signature = measure("signature of that query", |_| {
        black_box(signer.sign(black_box(q.as_str())));
    });
    // The yardstick: one raw HMAC-SHA256 of the same bytes under the same key, no hex.
    let raw = measure("raw HMAC-SHA256 of that query", |_| {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes())
            .expect("HMAC takes a key of any length");
        mac.update(black_box(q.as_str().as_bytes()));
        black_box(mac.finalize().into_bytes());
    });
    print_ratio("signature / raw HMAC-SHA256", &signature, &raw);
    print_ratio("signed LIMIT query / raw HMAC-SHA256", &signed, &raw);

    if std::env::var_os("BENCH_NO_VENUE").is_none() {
        round_trips();
    }
}

/// A typical LIMIT order's query string, signed at `timestamp`.
fn limit_query(timestamp: i64) -> Query {
    let mut q = Query::new();
    q.push("symbol", "BTCUSDT")
        .push("side", "BUY")
        .push("type", "LIMIT")
        .push("timeInForce", "GTC")
        .push("price", "43127.01")
        .push("quantity", "0.00123")
        .push("newClientOrderId", "run1-BTCUSDT-000042")
        .push("newOrderRespType", "RESULT")
        .push("recvWindow", 5000)
        .push("timestamp", timestamp);
    q
}

const ROUND_TRIPS: usize = 1000;

/// LIMIT placements through the client to the sim venue on loopback.
fn round_trips() {
    let venue = sim_venue::SimVenue::start();
    venue.step(2);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let symbol = Symbol::parse("BTCUSDT").unwrap();
    let cfg = ClientConfig {
        timeout: Duration::from_secs(5),
        ..ClientConfig::new(venue.base_url())
    }
    .with_credentials(sim_venue::API_KEY.into(), sim_venue::API_SECRET.into());
    let client = rt
        .block_on(BinanceClient::connect(cfg, std::slice::from_ref(&symbol)))
        .unwrap();
    let mut micros = Vec::with_capacity(ROUND_TRIPS);
    for i in 0..ROUND_TRIPS {
        let order = NewOrder {
            symbol: symbol.clone(),
            side: OrderSide::Buy,
            kind: NewOrderKind::Limit {
                price: Decimal::new(1000, 0),
            },
            quantity: Decimal::new(1, 2),
            client_order_id: format!("bench-{i}"),
            response: ResponseType::Result,
        };
        let started = Instant::now();
        rt.block_on(client.place_order(&order)).unwrap();
        micros.push(started.elapsed().as_secs_f64() * 1e6);
        rt.block_on(client.cancel_order(&symbol, &order.client_order_id))
            .unwrap();
    }
    micros.sort_by(f64::total_cmp);
    let at = |q: f64| micros[((ROUND_TRIPS as f64 * q) as usize).min(ROUND_TRIPS - 1)];
    println!(
        "order round trip to the sim venue (loopback, LIMIT, RESULT): p50 {:.0} us, p99 {:.0} us, max {:.0} us ({ROUND_TRIPS} orders)",
        at(0.5),
        at(0.99),
        micros[ROUND_TRIPS - 1]
    );
}
