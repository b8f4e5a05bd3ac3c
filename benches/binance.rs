//! The Binance adapter's hot paths: a kline stream message to a checked `Candle` (what
//! `MarketStream` does per message: parse, symbol lookup, checks) and signing a typical
//! order request (query string + HMAC-SHA256).
//!
//! `cargo bench --bench binance` — prints ns per operation (median, best and worst of 7
//! rounds of 200 000 operations); asserts only that every message parsed.
//!
//! TODO: order round-trip p50/p99 against the `keel sim-exchange` server on loopback, once
//! the sim server and its `SimVenue` test helper are on this branch.

use std::hint::black_box;
use std::time::Instant;

use keel_actors::binance::client::Query;
use keel_actors::binance::stream::parse_kline;
use keel_actors::binance::Signer;
use keel_actors::model::Symbol;

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

fn measure(name: &str, mut op: impl FnMut(usize)) {
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
    println!(
        "{name}: median {:.0} ns, best {:.0} ns, worst {:.0} ns ({ROUNDS} rounds of {n})",
        ns[ROUNDS / 2],
        ns[0],
        ns[ROUNDS - 1]
    );
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
    measure("kline message -> Candle", |i| {
        let text = &messages[i % messages.len()];
        let bar = parse_kline(black_box(text)).unwrap().unwrap();
        let symbol = symbols.iter().find(|s| s.as_str() == bar.symbol).unwrap();
        let candle = bar.to_candle(symbol).unwrap();
        parsed += 1;
        black_box(candle);
    });
    assert_eq!(parsed, ROUNDS * ops());

    let signer = Signer::new("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j");
    measure("sign a LIMIT order query", |i| {
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
            .push("timestamp", 1_700_000_000_000i64 + i as i64);
        black_box(signer.signed_query(black_box(q.as_str())));
    });
}
