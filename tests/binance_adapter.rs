//! The Binance adapter (`BinanceClient`, `MarketStream`, `keel data fetch`) against a real
//! `keel sim-exchange` process on loopback, with the venue's faults injected through its
//! admin endpoint. Every order fault ends with the right order state and the client order id
//! submitted exactly once (checked in the venue's `/admin/submissions`).
//!
//! The venue's replay clock is stepped (`/admin/step`), so bars arrive when the test says.
//! Waits in these tests are for the venue's `Retry-After`/ban to pass (the rule under test),
//! never assertions on durations.

#[path = "common/process.rs"]
mod process;
#[path = "common/sim_venue.rs"]
mod sim_venue;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use keel_binance::client::{
    BinanceClient, ClientConfig, NewOco, NewOrder, NewOrderKind, Placement, Resolution,
    ResponseType, VenueError,
};
use keel_binance::stream::{MarketStream, StreamConfig};
use keel_binance::wire::{OrderSide, OrderState};
use keel_data::load_candles;
use keel_model::{Candle, Interval, Symbol, Timestamp};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::json;
use sim_venue::{SimVenue, SimVenueConfig, API_KEY, API_SECRET};
use tokio::runtime::Runtime;

const HOUR: i64 = 3_600_000;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn btc() -> Symbol {
    Symbol::parse("BTCUSDT").unwrap()
}

fn config(venue: &SimVenue) -> ClientConfig {
    ClientConfig {
        timeout: Duration::from_secs(2),
        // Short, so that resolving an unknown outcome waits little.
        recv_window_ms: 1_000,
        retry_min: Duration::from_millis(50),
        retry_max: Duration::from_millis(500),
        ..ClientConfig::new(venue.base_url())
    }
    .with_credentials(API_KEY.into(), API_SECRET.into())
}

fn connect(rt: &Runtime, venue: &SimVenue) -> BinanceClient {
    rt.block_on(BinanceClient::connect(config(venue), &[btc()]))
        .unwrap()
}

/// A BUY LIMIT far below the market (rests on the book).
fn resting_buy(id: &str) -> NewOrder {
    NewOrder {
        symbol: btc(),
        side: OrderSide::Buy,
        kind: NewOrderKind::Limit {
            price: dec!(1000.004),
        },
        quantity: dec!(0.0100009),
        client_order_id: id.into(),
        response: ResponseType::Result,
    }
}

/// A BUY at the market.
fn market_buy(id: &str) -> NewOrder {
    NewOrder {
        kind: NewOrderKind::Market,
        quantity: dec!(0.01),
        ..resting_buy(id)
    }
}

fn times_submitted(venue: &SimVenue, id: &str) -> usize {
    venue.submissions().iter().filter(|s| *s == id).count()
}

#[test]
fn orders_are_rounded_placed_queried_and_cancelled() {
    let venue = SimVenue::start();
    venue.step(2);
    let rt = runtime();
    let client = connect(&rt, &venue);
    rt.block_on(client.ping()).unwrap();
    let info = rt.block_on(client.exchange_info(&[btc()])).unwrap();
    assert_eq!(info.symbols[0].symbol, "BTCUSDT");
    assert_eq!(
        client.weight_usage().0,
        6000,
        "the limit comes from rateLimits"
    );

    let placed = rt
        .block_on(client.place_order(&resting_buy("t1-rest")))
        .unwrap();
    assert_eq!(placed.status, Some(OrderState::New));
    assert_eq!(placed.price, Some(dec!(1000)), "rounded to the 0.01 tick");
    assert_eq!(
        placed.orig_qty,
        Some(dec!(0.01)),
        "rounded down to the step"
    );

    let queried = rt
        .block_on(client.query_order(&btc(), "t1-rest"))
        .unwrap()
        .expect("the venue holds it");
    assert_eq!(queried.status, OrderState::New);
    let open = rt.block_on(client.open_orders(&btc())).unwrap();
    assert!(open.iter().any(|o| o.client_order_id == "t1-rest"));

    rt.block_on(client.cancel_order(&btc(), "t1-rest")).unwrap();
    let after = rt.block_on(client.query_order(&btc(), "t1-rest")).unwrap();
    assert_eq!(after.map(|o| o.status), Some(OrderState::Canceled));
    assert_eq!(
        rt.block_on(client.query_order(&btc(), "never-sent"))
            .unwrap(),
        None,
        "-2013 is Ok(None)"
    );
    let again = rt
        .block_on(client.cancel_order(&btc(), "t1-rest"))
        .unwrap_err();
    assert!(matches!(again, VenueError::Rejected { .. }), "{again}");

    // Below the minimum notional: refused before sending.
    let tiny = NewOrder {
        quantity: dec!(0.001),
        ..resting_buy("t1-tiny")
    };
    let err = rt.block_on(client.place_order(&tiny)).unwrap_err();
    assert!(matches!(err, VenueError::Local { .. }), "{err}");
    assert!(err.to_string().contains("notional"), "{err}");
    assert_eq!(times_submitted(&venue, "t1-tiny"), 0);

    let account = rt.block_on(client.account()).unwrap();
    assert!(account.balances.iter().any(|b| b.asset == "USDT"));
    assert_eq!(times_submitted(&venue, "t1-rest"), 1);
}

#[test]
fn a_5xx_after_execution_resolves_to_placed_without_a_resend() {
    let venue = SimVenue::start();
    venue.step(2);
    let rt = runtime();
    let client = connect(&rt, &venue);
    venue.set_faults(json!({"http_5xx": {"count": 1, "execute": true}}));
    let outcome = rt
        .block_on(client.place_order_resolved(&resting_buy("t2-exec")))
        .unwrap();
    let Placement::Resolved(Resolution::Placed(order)) = outcome else {
        panic!("expected a resolved placement, got {outcome:?}");
    };
    assert_eq!(order.client_order_id, "t2-exec");
    assert_eq!(order.status, OrderState::New);
    assert_eq!(times_submitted(&venue, "t2-exec"), 1, "never resent");
}

#[test]
fn a_5xx_without_execution_resolves_to_not_placed_without_a_resend() {
    let venue = SimVenue::start();
    venue.step(2);
    let rt = runtime();
    let client = connect(&rt, &venue);
    venue.set_faults(json!({"http_5xx": {"count": 1, "execute": false, "status": 503}}));
    let err = rt
        .block_on(client.place_order(&market_buy("t3-lost")))
        .unwrap_err();
    assert!(matches!(err, VenueError::OutcomeUnknown { .. }), "{err}");
    assert!(err.to_string().contains("POST /api/v3/order"), "{err}");
    let resolution = rt.block_on(client.resolve(&btc(), "t3-lost")).unwrap();
    assert_eq!(resolution, Resolution::NotPlaced);
    assert_eq!(times_submitted(&venue, "t3-lost"), 1, "never resent");
    assert!(rt.block_on(client.open_orders(&btc())).unwrap().is_empty());
}

#[test]
fn a_timeout_is_resolved_by_query_whether_or_not_the_order_executed() {
    let venue = SimVenue::start();
    venue.step(2);
    let rt = runtime();
    let client = connect(&rt, &venue);
    // Held longer than the client's 2 s timeout: the client gives up, outcome unknown.
    for (id, execute, expected_placed) in [("t4-exec", true, true), ("t4-lost", false, false)] {
        venue.set_faults(json!({"timeout": {"count": 1, "execute": execute, "hold_ms": 4000}}));
        let outcome = rt
            .block_on(client.place_order_resolved(&resting_buy(id)))
            .unwrap();
        match outcome {
            Placement::Resolved(Resolution::Placed(order)) => {
                assert!(expected_placed, "{id}: placed");
                assert_eq!(order.status, OrderState::New);
            }
            Placement::Resolved(Resolution::NotPlaced) => assert!(!expected_placed, "{id}"),
            other => panic!("{id}: expected a resolution, got {other:?}"),
        }
        assert_eq!(times_submitted(&venue, id), 1, "{id}: never resent");
    }
}

#[test]
fn nothing_is_sent_while_a_429_retry_after_is_in_force() {
    let venue = SimVenue::start();
    venue.step(2);
    let rt = runtime();
    let client = connect(&rt, &venue);
    rt.block_on(client.exchange_info(&[btc()])).unwrap();
    venue.set_faults(json!({"rate_limit": {"count": 1, "retry_after_s": 2}}));
    // An order is never retried: the 429 comes back as is.
    let err = rt
        .block_on(client.place_order(&resting_buy("t5-429")))
        .unwrap_err();
    assert!(matches!(err, VenueError::RateLimited { .. }), "{err}");
    let sent = client.requests_sent();
    // While the pause lasts, calls fail locally without touching the network.
    let err = rt
        .block_on(client.place_order(&resting_buy("t5-paused")))
        .unwrap_err();
    assert!(matches!(err, VenueError::RateLimited { .. }), "{err}");
    assert_eq!(client.requests_sent(), sent, "nothing was sent");
    // A read waits out the Retry-After and then succeeds; the venue never saw a request
    // inside the pause, else it would have banned us (418).
    rt.block_on(client.ping()).unwrap();
    rt.block_on(client.account()).unwrap();
    assert_eq!(
        times_submitted(&venue, "t5-429"),
        0,
        "the 429 came before the order"
    );
    assert_eq!(times_submitted(&venue, "t5-paused"), 0);
}

#[test]
fn a_418_ban_sends_nothing_until_it_ends() {
    let venue = SimVenue::start();
    let rt = runtime();
    let client = connect(&rt, &venue);
    venue.set_faults(json!({"ban_s": 2}));
    let err = rt.block_on(client.ping()).unwrap_err();
    let VenueError::Banned { until, .. } = err else {
        panic!("expected a ban, got {err}");
    };
    let sent = client.requests_sent();
    let err = rt.block_on(client.server_time()).unwrap_err();
    assert!(matches!(err, VenueError::Banned { .. }), "{err}");
    let err = rt
        .block_on(client.place_order(&resting_buy("t6-banned")))
        .unwrap_err();
    assert!(matches!(err, VenueError::Banned { .. }), "{err}");
    assert_eq!(
        client.requests_sent(),
        sent,
        "nothing was sent during the ban"
    );
    // Wait the ban out (the venue's Retry-After), then the client talks again.
    let left = until.0 - Timestamp(now_ms()).0;
    std::thread::sleep(Duration::from_millis(left.max(0) as u64 + 50));
    rt.block_on(client.ping()).unwrap();
    assert_eq!(times_submitted(&venue, "t6-banned"), 0);
}

fn now_ms() -> i64 {
    sim_venue::now_ms()
}

#[test]
fn a_skewed_server_clock_is_resynced_once_and_the_request_succeeds() {
    let venue = SimVenue::start();
    venue.step(2);
    let rt = runtime();
    let client = connect(&rt, &venue);
    assert!(client.clock_offset_ms().abs() < 1_000);
    // The venue's clock jumps 30 s ahead: our timestamps fall outside the recvWindow (-1021).
    venue.set_faults(json!({"clock_skew_ms": 30_000}));
    rt.block_on(client.account()).unwrap();
    assert!(
        (client.clock_offset_ms() - 30_000).abs() < 1_000,
        "offset {}",
        client.clock_offset_ms()
    );
    // And backwards, on an order: refused unexecuted (-1021), re-signed once, placed once.
    venue.set_faults(json!({"clock_skew_ms": -30_000}));
    let placed = rt
        .block_on(client.place_order(&resting_buy("t7-skew")))
        .unwrap();
    assert_eq!(placed.client_order_id, "t7-skew");
    assert_eq!(times_submitted(&venue, "t7-skew"), 1);
}

/// The venue's candles of `file` (data/binance), as the sim serves them.
fn venue_candles(file: &str, symbol: &str) -> Vec<Candle> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/binance")
        .join(file);
    load_candles(&path, Symbol::parse(symbol).unwrap(), Some(Interval::HOUR))
        .unwrap()
        .candles
}

#[test]
fn a_websocket_drop_mid_stream_loses_and_duplicates_no_candle() {
    let venue = SimVenue::start();
    let rt = runtime();
    let client = connect(&rt, &venue);
    let start = Timestamp::parse_utc("2018-01-01T00:00:00Z").unwrap();
    let symbols = vec![btc(), Symbol::parse("ETHUSDT").unwrap()];
    let mut cfg = StreamConfig::new(venue.ws_url(), symbols.clone(), Interval::HOUR);
    // The consumer has everything before the first replayed bar: nothing can be missed, even
    // bars closed before the first connection is up.
    cfg.resume_after = symbols
        .iter()
        .map(|s| (s.clone(), start.plus_ms(-HOUR)))
        .collect();
    // Reconnecting takes at least 5 s: bars stepped right after a drop (two admin calls,
    // far quicker than that even on a busy machine) reach the client only through the REST
    // back-fill.
    cfg.reconnect_min = Duration::from_secs(5);
    cfg.reconnect_max = Duration::from_secs(5);
    let (stream, mut rx) = {
        let _guard = rt.enter();
        MarketStream::spawn(cfg, client)
    };
    let mut got: Vec<Candle> = Vec::new();
    let mut take = |n: usize, got: &mut Vec<Candle>| {
        for _ in 0..n {
            let candle = rt
                .block_on(async { tokio::time::timeout(process::PATIENCE, rx.recv()).await })
                .unwrap_or_else(|_| panic!("no candle arrived; venue log:\n{}", venue.stderr()))
                .expect("the stream runs");
            got.push(candle);
        }
    };
    // One step closes one bar, in open-time order across the two markets.
    venue.step(6);
    take(6, &mut got);
    venue.set_faults(json!({"drop_ws": true}));
    venue.step(8);
    venue.step(6);
    take(14, &mut got);

    let mut by_symbol: HashMap<Symbol, Vec<Candle>> = HashMap::new();
    for c in got {
        by_symbol.entry(c.symbol.clone()).or_default().push(c);
    }
    for (symbol, file) in [
        ("BTCUSDT", "BTC_USDT-1h.json"),
        ("ETHUSDT", "ETH_USDT-1h.json"),
    ] {
        let expected: Vec<Candle> = venue_candles(file, symbol)
            .into_iter()
            .filter(|c| c.open_time >= start)
            .take(10)
            .collect();
        let received = &by_symbol[&Symbol::parse(symbol).unwrap()];
        assert_eq!(received, &expected, "{symbol}: every bar once, in order");
    }
    let stats = stream.stats();
    use std::sync::atomic::Ordering::Relaxed;
    assert!(stats.connects.load(Relaxed) >= 2, "it reconnected");
    assert!(
        stats.backfilled.load(Relaxed) >= 1,
        "bars closed while disconnected came over REST"
    );
    // Nothing else is pending: the next two candles are the next bars, not late duplicates.
    venue.step(2);
    let mut next = Vec::new();
    take(2, &mut next);
    for c in next {
        assert_eq!(c.open_time, start.plus_ms(10 * HOUR), "{c:?}");
    }
}

fn keel(args: &[&str]) -> std::process::Output {
    process::run(
        process::keel(args),
        &format!("keel {}", args[..2].join(" ")),
    )
}

#[test]
fn data_fetch_resumes_after_an_interruption_and_matches_the_venues_data() {
    // Bars before the replay's start are history the venue serves at once: 1800 of them.
    let venue = SimVenue::start_with(SimVenueConfig {
        start: "2018-02-15T00:00:00Z".into(),
        ..SimVenueConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("BTC_USDT-1h.json");
    let out_s = out.to_str().unwrap();
    let args = [
        "data",
        "fetch",
        "--rest-url",
        venue.base_url(),
        "--symbol",
        "BTCUSDT",
        "--interval",
        "1h",
        "--start",
        "2017-12-01",
        "--out",
        out_s,
    ];
    // Interrupted after one page.
    let first = keel(&[&args[..], &["--max-pages", "1"]].concat());
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let partial = load_candles(&out, btc(), Some(Interval::HOUR)).unwrap();
    assert_eq!(partial.candles.len(), 1000);
    // Resumed to the end.
    let second = keel(&args);
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(stdout.contains("resuming"), "{stdout}");
    let fetched = load_candles(&out, btc(), Some(Interval::HOUR)).unwrap();
    let start = Timestamp::parse_utc("2018-02-15T00:00:00Z").unwrap();
    let expected: Vec<Candle> = venue_candles("BTC_USDT-1h.json", "BTCUSDT")
        .into_iter()
        .filter(|c| c.open_time < start)
        .collect();
    // (The venue's history has holes of its own: they are reported, not invented.)
    assert_eq!(fetched.quality.duplicates, 0);
    assert_eq!(fetched.candles.len(), expected.len());
    assert_eq!(
        fetched.candles, expected,
        "the file equals the venue's data"
    );
    // Exact prices: the decimal text the venue sent.
    assert_eq!(fetched.candles[0].open, Decimal::new(98370, 1));
    // A third run adds nothing and keeps the file intact.
    let third = keel(&args);
    assert!(third.status.success());
    let again = load_candles(&out, btc(), Some(Interval::HOUR)).unwrap();
    assert_eq!(again.candles, expected);
}

#[test]
fn a_filled_buy_is_protected_by_an_oco_that_can_be_queried_and_cancelled() {
    let venue = SimVenue::start();
    venue.step(2);
    let rt = runtime();
    let client = connect(&rt, &venue);
    rt.block_on(client.place_order(&market_buy("t8-entry")))
        .unwrap();
    // Market orders fill at the next bar's open.
    venue.step(2);
    let entry = rt
        .block_on(client.query_order(&btc(), "t8-entry"))
        .unwrap()
        .unwrap();
    assert_eq!(entry.status, OrderState::Filled);
    let fill_price = entry.cummulative_quote_qty / entry.executed_qty;
    let trades = rt.block_on(client.my_trades(&btc(), None)).unwrap();
    assert_eq!(trades.len(), 1);
    assert_eq!(trades[0].order_id, entry.order_id);
    assert!(rt
        .block_on(client.my_trades(&btc(), Some(trades[0].id + 1)))
        .unwrap()
        .is_empty());

    let held = rt
        .block_on(client.account())
        .unwrap()
        .balances
        .into_iter()
        .find(|b| b.asset == "BTC")
        .map(|b| b.free)
        .unwrap_or_default();
    let oco = NewOco {
        symbol: btc(),
        quantity: held,
        list_client_id: "t8-oco".into(),
        above_price: fill_price * dec!(1.5),
        above_client_id: "t8-tp".into(),
        below_stop_price: fill_price * dec!(0.5),
        below_client_id: "t8-sl".into(),
    };
    let list = rt.block_on(client.place_oco(&oco)).unwrap();
    assert_eq!(list.list_client_order_id, "t8-oco");
    assert_eq!(list.orders.len(), 2);
    let queried = rt
        .block_on(client.query_list(&btc(), "t8-oco"))
        .unwrap()
        .expect("the venue holds the list");
    assert_eq!(queried.orders.len(), 2);
    let open = rt.block_on(client.open_orders(&btc())).unwrap();
    assert_eq!(open.len(), 2, "both legs work");
    rt.block_on(client.cancel_list(&btc(), "t8-oco")).unwrap();
    assert!(rt.block_on(client.open_orders(&btc())).unwrap().is_empty());
    assert_eq!(
        rt.block_on(client.query_list(&btc(), "no-such-list"))
            .unwrap(),
        None
    );
    for id in ["t8-entry", "t8-oco", "t8-tp", "t8-sl"] {
        assert!(times_submitted(&venue, id) <= 1, "{id}");
    }
}

#[test]
fn the_stream_answers_pings_so_the_venue_keeps_the_connection() {
    // The venue pings every 100 ms and drops a connection that has not ponged for 1.5 s (a
    // margin a busy machine needs: the pong is answered by a task on a loaded runtime).
    let venue = SimVenue::start_with(SimVenueConfig {
        ping_interval_ms: 100,
        pong_timeout_ms: 1_500,
        ..SimVenueConfig::default()
    });
    let rt = runtime();
    let client = connect(&rt, &venue);
    let cfg = StreamConfig::new(venue.ws_url(), vec![btc()], Interval::HOUR);
    let (stream, mut rx) = {
        let _guard = rt.enter();
        MarketStream::spawn(cfg, client)
    };
    let connected = |stream: &MarketStream| {
        stream
            .stats()
            .connects
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    process::wait_for("the stream connecting", || connected(&stream) > 0);
    // Forty pings and more than two pong timeouts: a client that did not pong would have
    // been dropped.
    std::thread::sleep(Duration::from_millis(4_000));
    venue.step(2);
    let candle = rt
        .block_on(async { tokio::time::timeout(process::PATIENCE, rx.recv()).await })
        .expect("no candle arrived (gave up after process::PATIENCE)")
        .expect("the stream runs");
    assert_eq!(candle.symbol, btc());
    assert_eq!(connected(&stream), 1, "never dropped, never reconnected");
}

#[test]
fn a_silent_connection_is_treated_as_dead_and_replaced() {
    // The venue neither pings (for a minute) nor sends bars: the connection is silent.
    let venue = SimVenue::start_with(SimVenueConfig {
        ping_interval_ms: 60_000,
        pong_timeout_ms: 120_000,
        ..SimVenueConfig::default()
    });
    let rt = runtime();
    let client = connect(&rt, &venue);
    let start = Timestamp::parse_utc("2018-01-01T00:00:00Z").unwrap();
    let mut cfg = StreamConfig::new(venue.ws_url(), vec![btc()], Interval::HOUR);
    cfg.silence = Duration::from_millis(300);
    cfg.reconnect_min = Duration::from_millis(50);
    cfg.resume_after = [(btc(), start.plus_ms(-HOUR))].into_iter().collect();
    let (stream, mut rx) = {
        let _guard = rt.enter();
        MarketStream::spawn(cfg, client)
    };
    let connects = || {
        stream
            .stats()
            .connects
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    process::wait_for("the silent connection replaced twice", || connects() >= 3);
    // Still delivering, each bar once, across the replaced connections.
    venue.step(4);
    for hour in 0..2 {
        let candle = rt
            .block_on(async { tokio::time::timeout(process::PATIENCE, rx.recv()).await })
            .expect("no candle arrived (gave up after process::PATIENCE)")
            .expect("the stream runs");
        assert_eq!(candle.open_time, start.plus_ms(hour * HOUR));
    }
}

/// The staleness guard's clock: before the first back-filled bar is delivered, the stream
/// has learnt the venue's newest closed bar, so a consumer judging each bar's age finds the
/// caught-up bars as old as they are; live bars move the clock on.
#[test]
fn the_market_clock_knows_the_newest_bar_before_the_back_fill_delivers_older_ones() {
    let venue = SimVenue::start();
    venue.step(2 * 48);
    let newest_open = venue.replay()["lastClosedOpenTime"]["BTCUSDT"]
        .as_i64()
        .unwrap();
    let rt = runtime();
    let client = connect(&rt, &venue);
    let start = Timestamp::parse_utc("2018-01-01T00:00:00Z").unwrap();
    let mut cfg = StreamConfig::new(venue.ws_url(), vec![btc()], Interval::HOUR);
    cfg.resume_after = [(btc(), start.plus_ms(-HOUR))].into_iter().collect();
    let clock = cfg.market_clock.clone();
    let (_stream, mut rx) = {
        let _guard = rt.enter();
        MarketStream::spawn(cfg, client)
    };
    let mut next = || {
        rt.block_on(async { tokio::time::timeout(process::PATIENCE, rx.recv()).await })
            .expect("no candle arrived (gave up after process::PATIENCE)")
            .expect("the stream runs")
    };
    let first = next();
    assert_eq!(
        first.open_time, start,
        "the back-fill starts at the first bar"
    );
    assert_eq!(
        clock.newest_close(),
        Some(Timestamp(newest_open + HOUR)),
        "the first back-filled bar is known to be {} hours old",
        (newest_open + HOUR - first.close_time().0) / HOUR
    );
    while next().open_time.0 < newest_open {}
    venue.step(2);
    let live = next();
    assert_eq!(live.open_time.0, newest_open + HOUR);
    assert_eq!(clock.newest_close(), Some(live.close_time()));
}

/// A venue that answers `/api/v3/time` with `now` and `/api/v3/klines` with `pages` in turn
/// (the last one again once they run out), one connection per request.
fn page_server(now: i64, pages: Vec<String>) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut served = 0;
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && matches!(stream.read(&mut byte), Ok(1)) {
                head.push(byte[0]);
            }
            let body = if head.starts_with(b"GET /api/v3/klines") {
                served += 1;
                pages[(served - 1).min(pages.len() - 1)].clone()
            } else {
                format!("{{\"serverTime\":{now}}}")
            };
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

/// A page of `n` hourly rows from `from`, each `[open, high, low, close]` from `prices`.
fn kline_page(from: i64, n: usize, prices: impl Fn(usize) -> [&'static str; 4]) -> String {
    let rows: Vec<String> = (0..n)
        .map(|i| {
            let t = from + i as i64 * HOUR;
            let [o, h, l, c] = prices(i);
            format!(
                r#"[{t},"{o}","{h}","{l}","{c}","10",{},"0",0,"0","0","0"]"#,
                t + HOUR - 1
            )
        })
        .collect();
    format!("[{}]", rows.join(","))
}

#[test]
fn data_fetch_refuses_a_damaged_page_naming_the_page_and_the_bar_and_writes_none_of_it() {
    let start = Timestamp::parse_utc("2018-01-01").unwrap().0;
    let good = |_| ["1", "2", "0.5", "1.5"];
    let second = start + 1000 * HOUR;
    let bad_bar = second + 500 * HOUR;
    let pages = vec![
        kline_page(start, 1000, good),
        kline_page(second, 1000, |i| {
            if i == 500 {
                ["1", "0.5", "0.9", "0.7"]
            } else {
                ["1", "2", "0.5", "1.5"]
            }
        }),
    ];
    let url = page_server(start + 10_000 * HOUR, pages);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("BTC_USDT-1h.json");
    let run = |url: &str| {
        keel(&[
            "data",
            "fetch",
            "--rest-url",
            url,
            "--symbol",
            "BTCUSDT",
            "--interval",
            "1h",
            "--start",
            "2018-01-01",
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let fetched = run(&url);
    let stderr = String::from_utf8_lossy(&fetched.stderr);
    assert!(!fetched.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("page 2 (bars from {})", Timestamp(second))),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("BTCUSDT bar {bad_bar}: high 0.5 is below low 0.9")),
        "{stderr}"
    );
    // Page 1 is in the file, nothing of page 2: no bar skipped, none defaulted.
    let written = load_candles(&out, btc(), Some(Interval::HOUR)).unwrap();
    assert_eq!(written.candles.len(), 1000);
    assert_eq!(written.candles[999].open_time, Timestamp(second - HOUR));

    // A page that is not even JSON: named too, and the file is left as it was.
    let broken = kline_page(second, 2, good).replace("\"2\"", "\"2\"\"");
    let url = page_server(start + 10_000 * HOUR, vec![broken]);
    let resumed = run(&url);
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(!resumed.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "page 1 (bars from {}): GET /api/v3/klines: cannot read the answer",
            Timestamp(second)
        )),
        "{stderr}"
    );
    let kept = load_candles(&out, btc(), Some(Interval::HOUR)).unwrap();
    assert_eq!(kept.candles, written.candles);
}
