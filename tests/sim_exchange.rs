//! `keel sim-exchange` as a REST client sees it: a real process on a loopback port, signed
//! requests, orders and their fills, injected faults, rate limits and a SIGKILL. The clock is
//! stepped through `/admin/step`, so nothing here waits on wall time. Its streams and timed
//! clock are in `sim_exchange_streams.rs`.

#[path = "common/process.rs"]
mod process;
#[path = "common/sim_venue.rs"]
mod sim_venue;

use keel_binance::wire::{
    Account, ApiError, ExchangeInfo, KlineRow, MyTrade, OrderListResponse, OrderResponse,
    OrderState, QueriedOrder, ServerTime,
};
use keel_binance::SymbolFilters;
use reqwest::Method;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::json;
use sim_venue::{bar_at, btc_bars, now_ms, ok, start, SimVenue, SimVenueConfig, API_KEY};

const HOUR: i64 = 3_600_000;

/// Status, code and message of an error answer.
fn error(resp: reqwest::blocking::Response) -> (u16, i64, String) {
    let status = resp.status().as_u16();
    let body: ApiError = resp.json().expect("an error body");
    (status, body.code, body.msg)
}

fn order(venue: &SimVenue, params: &str) -> reqwest::blocking::Response {
    venue.signed(Method::POST, "/api/v3/order", params)
}

fn account(venue: &SimVenue) -> Account {
    ok(venue.signed(Method::GET, "/api/v3/account", ""))
}

fn balance(account: &Account, asset: &str) -> (Decimal, Decimal) {
    account
        .balances
        .iter()
        .find(|b| b.asset == asset)
        .map(|b| (b.free, b.locked))
        .unwrap_or_default()
}

fn query(venue: &SimVenue, client_id: &str) -> reqwest::blocking::Response {
    venue.signed(
        Method::GET,
        "/api/v3/order",
        &format!("symbol=BTCUSDT&origClientOrderId={client_id}"),
    )
}

/// The open time of the last closed BTC bar.
fn btc_clock(venue: &SimVenue) -> i64 {
    venue.replay()["lastClosedOpenTime"]["BTCUSDT"]
        .as_i64()
        .unwrap()
}

#[test]
fn the_documented_signature_vector_verifies_and_bad_signatures_or_stale_timestamps_do_not() {
    let venue = SimVenue::start();
    // Binance's documented request, signed with the documented secret (the venue's secret).
    let documented = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1\
                      &recvWindow=5000&timestamp=1499827319559\
                      &signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71";
    let (status, code, msg) =
        error(venue.send_signed_query(Method::POST, "/api/v3/order", documented));
    assert_eq!((status, code), (400, -1021), "{msg}");
    assert!(msg.contains("recvWindow"), "{msg}");

    // With the server's clock skewed back to 2017, the same request passes the signature and
    // timestamp checks and is refused only for its symbol (this venue has no LTCBTC).
    let skew = 1_499_827_319_559 + 1_000 - now_ms();
    venue.set_faults(json!({ "clock_skew_ms": skew }));
    let time: ServerTime = ok(venue.get("/api/v3/time"));
    assert!((1_499_827_319_559..1_499_827_319_559 + 60_000).contains(&time.server_time));
    let resp = venue.send_signed_query(Method::POST, "/api/v3/order", documented);
    assert_eq!(error(resp), (400, -1121, "Invalid symbol.".into()));
    let tampered = documented.replace("signature=c8", "signature=c9");
    let (status, code, _) =
        error(venue.send_signed_query(Method::POST, "/api/v3/order", &tampered));
    assert_eq!((status, code), (400, -1022));
    venue.set_faults(json!({ "clock_skew_ms": 0 }));

    // Ahead of the server by more than a second, or without the key header.
    let ahead = venue
        .signer()
        .signed_query(&format!("timestamp={}", now_ms() + 5_000));
    let (_, code, msg) = error(venue.send_signed_query(Method::GET, "/api/v3/account", &ahead));
    assert_eq!(code, -1021, "{msg}");
    let fresh = venue
        .signer()
        .signed_query(&format!("timestamp={}", now_ms()));
    let resp = venue
        .http()
        .get(format!("{}/api/v3/account?{fresh}", venue.base_url()))
        .header("X-MBX-APIKEY", "someone-else")
        .send()
        .unwrap();
    assert_eq!(error(resp).0, 401);

    // Parameters split between the query string and a form body: the signature covers
    // query string then body, as Binance signs them.
    let query = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC";
    let body = format!("quantity=0.001&price=6000.00&timestamp={}", now_ms());
    let signature = venue.signer().sign(&format!("{query}{body}"));
    let resp = venue
        .http()
        .post(format!("{}/api/v3/order?{query}", venue.base_url()))
        .header("X-MBX-APIKEY", API_KEY)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("{body}&signature={signature}"))
        .send()
        .unwrap();
    let placed: OrderResponse = ok(resp);
    assert_eq!(placed.status, Some(OrderState::New));
    assert_eq!(placed.price, Some(dec!(6000.00)));
}

#[test]
fn exchange_info_lists_the_filters_and_klines_end_at_the_replay_clock() {
    let venue = SimVenue::start();
    let resp = venue.get("/api/v3/exchangeInfo?symbol=BTCUSDT");
    let weight: u32 = resp.headers()["X-MBX-USED-WEIGHT-1M"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(weight >= 20, "exchangeInfo weighs 20, used {weight}");
    let info: ExchangeInfo = ok(resp);
    assert_eq!(info.symbols.len(), 1);
    let filters = SymbolFilters::from_info(&info.symbols[0]).unwrap();
    assert_eq!(
        filters,
        SymbolFilters {
            tick_size: dec!(0.01),
            step_size: dec!(0.00001),
            min_qty: dec!(0.00001),
            max_qty: dec!(9000),
            min_notional: dec!(5),
        }
    );
    assert!(info.symbols[0].oco_allowed);
    assert!(info
        .rate_limits
        .iter()
        .any(|r| r.rate_limit_type == "REQUEST_WEIGHT" && r.limit == 6000));
    assert_eq!(
        error(venue.get("/api/v3/exchangeInfo?symbol=DOGEUSDT")).1,
        -1121
    );

    // Before any step: history up to the bar before `start`, 500 rows by default.
    let rows: Vec<KlineRow> = ok(venue.get("/api/v3/klines?symbol=BTCUSDT&interval=1h"));
    assert_eq!(rows.len(), 500);
    assert_eq!(rows.last().unwrap().0, start() - HOUR);
    let ahead = format!(
        "/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime={}",
        start()
    );
    assert!(ok::<Vec<KlineRow>>(venue.get(&ahead)).is_empty());

    // Two steps close the BTC then the ETH bar of 00:00.
    assert_eq!(venue.step(2)["stepped"], 2);
    let rows: Vec<KlineRow> = ok(venue.get(&ahead));
    assert_eq!(rows.len(), 1);
    let bars = btc_bars();
    assert_eq!(rows[0], KlineRow::from_candle(bar_at(&bars, start())));
    let eth: Vec<KlineRow> = ok(venue.get(&ahead.replace("BTCUSDT", "ETHUSDT")));
    assert_eq!(eth.len(), 1);

    let (_, code, _) = error(venue.get("/api/v3/klines?symbol=BTCUSDT&interval=4h"));
    assert_eq!(code, -1120);
    let (_, code, _) = error(venue.get("/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=1001"));
    assert_eq!(code, -1100);
    let one: Vec<KlineRow> = ok(venue.get("/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=1"));
    assert_eq!(one[0].0, start());
}

#[test]
fn a_market_buy_fills_at_the_next_open_with_slippage_and_the_fee_in_quote() {
    let venue = quote_fee_venue();
    let bars = btc_bars();
    let last_close = bar_at(&bars, start() - HOUR).close;
    let placed: OrderResponse = ok(order(
        &venue,
        "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.01&newClientOrderId=buy-1",
    ));
    // Market orders wait for the next bar: NEW, no fills yet; the quote is locked with 2 %
    // headroom over the last close.
    assert_eq!(placed.status, Some(OrderState::New));
    assert_eq!(placed.fills, Some(vec![]));
    let before = account(&venue);
    let lock = (dec!(0.01) * last_close * dec!(1.02)).round_dp(8);
    assert_eq!(balance(&before, "USDT"), (dec!(10000) - lock, lock));

    venue.step(1);
    let next = bar_at(&bars, start());
    let price = next.open * dec!(1.0005);
    let cost = price * dec!(0.01);
    let fee = cost * dec!(0.001);
    let filled: QueriedOrder = ok(query(&venue, "buy-1"));
    assert_eq!(filled.status, OrderState::Filled);
    assert_eq!(filled.executed_qty, dec!(0.01));
    assert_eq!(filled.cummulative_quote_qty, cost);
    let trades: Vec<MyTrade> = ok(venue.signed(Method::GET, "/api/v3/myTrades", "symbol=BTCUSDT"));
    assert_eq!(trades.len(), 1);
    assert_eq!(
        (trades[0].id, trades[0].price, trades[0].qty),
        (1, price, dec!(0.01))
    );
    assert_eq!(
        (trades[0].commission, trades[0].commission_asset.as_str()),
        (fee, "USDT")
    );
    assert!(trades[0].is_buyer);
    let after = account(&venue);
    assert_eq!(
        balance(&after, "USDT"),
        (dec!(10000) - cost - fee, Decimal::ZERO)
    );
    assert_eq!(balance(&after, "BTC"), (dec!(0.01), Decimal::ZERO));
    assert_eq!(after.commission_rates.taker, dec!(0.001));

    // Selling it back: the base is locked at once, the proceeds less the fee arrive at the
    // next bar's open less slippage, under the next trade id.
    ok::<OrderResponse>(order(
        &venue,
        "symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.01&newClientOrderId=sell-1",
    ));
    assert_eq!(
        balance(&account(&venue), "BTC"),
        (Decimal::ZERO, dec!(0.01))
    );
    venue.step(2);
    let sold_at = bar_at(&bars, start() + HOUR).open * dec!(0.9995);
    let trades: Vec<MyTrade> =
        ok(venue.signed(Method::GET, "/api/v3/myTrades", "symbol=BTCUSDT&fromId=2"));
    assert_eq!(trades.len(), 1);
    assert_eq!((trades[0].id, trades[0].price), (2, sold_at));
    let proceeds = sold_at * dec!(0.01);
    let end = account(&venue);
    assert_eq!(
        balance(&end, "USDT").0,
        dec!(10000) - cost - fee + proceeds - proceeds * dec!(0.001)
    );
    assert_eq!(balance(&end, "BTC"), (Decimal::ZERO, Decimal::ZERO));
}

/// A venue charging every fee in the quote asset (the figures below follow the fill model's
/// fee directly; the Binance rule of the default is in the venue's own tests).
fn quote_fee_venue() -> SimVenue {
    SimVenue::start_with(SimVenueConfig {
        fee_asset: "quote",
        ..SimVenueConfig::default()
    })
}

/// Rounds to the 0.01 tick.
fn tick(x: Decimal) -> Decimal {
    x.round_dp(2)
}

#[test]
fn an_oco_pair_locks_once_the_stop_wins_inside_one_bar_and_cancelling_a_leg_cancels_the_list() {
    let venue = quote_fee_venue();
    let bars = btc_bars();
    ok::<OrderResponse>(order(
        &venue,
        "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.02",
    ));
    venue.step(2);
    assert_eq!(balance(&account(&venue), "BTC").0, dec!(0.02));

    // Find a coming bar whose range straddles the previous close on both sides, and step up
    // to just before it.
    let mut clock = btc_clock(&venue);
    loop {
        let (prev, next) = (bar_at(&bars, clock), bar_at(&bars, clock + HOUR));
        if next.high > prev.close + dec!(1) && next.low < prev.close - dec!(1) {
            break;
        }
        venue.step(2);
        clock = btc_clock(&venue);
    }
    let (prev, next) = (bar_at(&bars, clock), bar_at(&bars, clock + HOUR));
    let above = tick((prev.close + next.high) / dec!(2));
    let below = tick((prev.close + next.low) / dec!(2));
    let params = format!(
        "symbol=BTCUSDT&side=SELL&quantity=0.02&listClientOrderId=oco-1&aboveType=LIMIT_MAKER\
         &abovePrice={above}&aboveClientOrderId=oco-1-tp&belowType=STOP_LOSS\
         &belowStopPrice={below}&belowClientOrderId=oco-1-sl"
    );
    let list: OrderListResponse = ok(venue.signed(Method::POST, "/api/v3/orderList/oco", &params));
    assert_eq!(list.list_order_status, "EXECUTING");
    assert_eq!(list.orders.len(), 2);
    assert_eq!(
        balance(&account(&venue), "BTC"),
        (Decimal::ZERO, dec!(0.02)),
        "one lock"
    );
    let open: Vec<QueriedOrder> =
        ok(venue.signed(Method::GET, "/api/v3/openOrders", "symbol=BTCUSDT"));
    assert_eq!(open.len(), 2);
    assert!(open.iter().all(|o| o.order_list_id == list.order_list_id));
    // Nothing is left to sell while both legs hold the one lock.
    let (_, code, msg) = error(order(
        &venue,
        &format!(
            "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=0.001&price={}",
            tick(above * dec!(2))
        ),
    ));
    assert_eq!(
        (code, msg.as_str()),
        (
            -2010,
            "Account has insufficient balance for requested action."
        )
    );

    venue.step(2);
    let stop: QueriedOrder = ok(query(&venue, "oco-1-sl"));
    let take: QueriedOrder = ok(query(&venue, "oco-1-tp"));
    assert_eq!(
        (stop.status, take.status),
        (OrderState::Filled, OrderState::Canceled)
    );
    let stop_price = next.open.min(below) * dec!(0.9995);
    assert_eq!(stop.cummulative_quote_qty, stop_price * dec!(0.02));
    let done: OrderListResponse =
        ok(venue.signed(Method::GET, "/api/v3/orderList", "origClientOrderId=oco-1"));
    assert_eq!(done.list_order_status, "ALL_DONE");
    assert_eq!(
        balance(&account(&venue), "BTC"),
        (Decimal::ZERO, Decimal::ZERO)
    );

    // A second list far from the market; cancelling one leg cancels both and frees the lock.
    ok::<OrderResponse>(order(
        &venue,
        "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.01",
    ));
    venue.step(2);
    let close = bar_at(&bars, btc_clock(&venue)).close;
    let params = format!(
        "symbol=BTCUSDT&side=SELL&quantity=0.01&listClientOrderId=oco-2&aboveType=LIMIT_MAKER\
         &abovePrice={}&aboveClientOrderId=oco-2-tp&belowType=STOP_LOSS\
         &belowStopPrice={}&belowClientOrderId=oco-2-sl",
        tick(close * dec!(1.5)),
        tick(close * dec!(0.5)),
    );
    ok::<OrderListResponse>(venue.signed(Method::POST, "/api/v3/orderList/oco", &params));
    venue.signed(
        Method::DELETE,
        "/api/v3/order",
        "symbol=BTCUSDT&origClientOrderId=oco-2-tp",
    );
    let sl: QueriedOrder = ok(query(&venue, "oco-2-sl"));
    assert_eq!(sl.status, OrderState::Canceled);
    assert_eq!(
        balance(&account(&venue), "BTC"),
        (dec!(0.01), Decimal::ZERO)
    );
    let again = venue.signed(
        Method::DELETE,
        "/api/v3/orderList",
        "symbol=BTCUSDT&listClientOrderId=oco-2",
    );
    assert_eq!(error(again).1, -2011);
}

#[test]
fn duplicate_open_ids_unknown_orders_and_filters_get_binances_errors() {
    let venue = SimVenue::start();
    let limit = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=5000.00";
    ok::<OrderResponse>(order(&venue, &format!("{limit}&newClientOrderId=dup-1")));
    let (status, code, msg) = error(order(&venue, &format!("{limit}&newClientOrderId=dup-1")));
    assert_eq!(
        (status, code, msg.as_str()),
        (400, -2010, "Duplicate order sent.")
    );
    assert_eq!(venue.submissions(), ["dup-1", "dup-1"]);

    let (status, code, msg) = error(query(&venue, "never-sent"));
    assert_eq!(
        (status, code, msg.as_str()),
        (400, -2013, "Order does not exist.")
    );
    let cancel = |id: &str| {
        venue.signed(
            Method::DELETE,
            "/api/v3/order",
            &format!("symbol=BTCUSDT&origClientOrderId={id}"),
        )
    };
    assert_eq!(error(cancel("never-sent")).1, -2011);
    let cancelled: serde_json::Value = ok(cancel("dup-1"));
    assert_eq!(cancelled["status"], "CANCELED");
    assert_eq!(
        error(cancel("dup-1")).1,
        -2011,
        "a finished order cannot be cancelled"
    );
    // A finished order's id may be used again, as on Binance.
    ok::<OrderResponse>(order(&venue, &format!("{limit}&newClientOrderId=dup-1")));

    let refused = |params: &str| error(order(&venue, params));
    let base = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC";
    assert_eq!(
        refused(&format!("{base}&quantity=0.000015&price=5000")).2,
        "Filter failure: LOT_SIZE"
    );
    assert_eq!(
        refused(&format!("{base}&quantity=0.001&price=5000.001")).2,
        "Filter failure: PRICE_FILTER"
    );
    assert_eq!(
        refused(&format!("{base}&quantity=0.00001&price=5000")).2,
        "Filter failure: NOTIONAL"
    );
    assert_eq!(refused(&format!("{base}&quantity=NaN&price=5000")).1, -1100);
    assert_eq!(refused(&format!("{base}&price=5000")).1, -1102);
    assert_eq!(
        refused("symbol=DOGEUSDT&side=BUY&type=MARKET&quantity=1").1,
        -1121
    );
    let (_, code, msg) = refused(&format!("{base}&quantity=10&price=5000"));
    assert_eq!(
        (code, msg.as_str()),
        (
            -2010,
            "Account has insufficient balance for requested action."
        )
    );
    let open: Vec<QueriedOrder> = ok(venue.signed(Method::GET, "/api/v3/openOrders", ""));
    assert_eq!(open.len(), 1);
}

#[test]
fn a_price_that_would_overflow_the_venue_is_a_filter_failure_and_the_venue_carries_on() {
    let venue = SimVenue::start();
    let before = account(&venue);
    let base = "symbol=BTCUSDT&side=BUY&timeInForce=GTC";
    // Decimal's largest value, and prices past exchangeInfo's maxPrice: refused before any
    // arithmetic (a huge price times the quantity used to overflow, panic and poison the
    // venue's lock, after which every request failed).
    for price in [
        "79228162514264337593543950335",
        "1000000000000000000",
        "1000000.01",
    ] {
        for kind in ["type=LIMIT", "type=LIMIT_MAKER"] {
            let (status, code, msg) = error(order(
                &venue,
                &format!("{base}&{kind}&quantity=2&price={price}"),
            ));
            assert_eq!(
                (status, code, msg.as_str()),
                (400, -1013, "Filter failure: PRICE_FILTER"),
                "{kind} at {price}"
            );
        }
        let (status, _, msg) = error(order(
            &venue,
            &format!("symbol=BTCUSDT&side=BUY&type=STOP_LOSS&quantity=0.001&stopPrice={price}"),
        ));
        assert_eq!(
            (status, msg.as_str()),
            (400, "Filter failure: PRICE_FILTER")
        );
    }
    let oco = "symbol=BTCUSDT&side=SELL&quantity=0.001&aboveType=LIMIT_MAKER\
               &abovePrice=79228162514264337593543950335&belowType=STOP_LOSS&belowStopPrice=1000";
    let (status, code, msg) = error(venue.signed(Method::POST, "/api/v3/orderList/oco", oco));
    assert_eq!(
        (status, code, msg.as_str()),
        (400, -1013, "Filter failure: PRICE_FILTER")
    );
    // The venue still answers, nothing changed, and an ordinary order goes through.
    assert_eq!(account(&venue).balances, before.balances);
    let open: Vec<QueriedOrder> = ok(venue.signed(Method::GET, "/api/v3/openOrders", ""));
    assert!(open.is_empty());
    ok::<OrderResponse>(order(
        &venue,
        &format!("{base}&type=LIMIT&quantity=0.001&price=5000.00"),
    ));
}

#[test]
fn http_5xx_and_timeouts_leave_the_outcome_to_a_query() {
    let venue = SimVenue::start();
    let limit = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=5000.00";
    let place = |id: &str| order(&venue, &format!("{limit}&newClientOrderId={id}"));

    venue.set_faults(json!({ "http_5xx": { "count": 1, "execute": false } }));
    assert_eq!(
        error(place("lost")),
        (
            500,
            -1000,
            "An unknown error occurred while processing the request.".into()
        )
    );
    assert_eq!(error(query(&venue, "lost")).1, -2013, "not executed");

    venue.set_faults(json!({ "http_5xx": { "count": 1, "execute": true, "status": 503 } }));
    assert_eq!(error(place("kept")).0, 503);
    assert_eq!(
        ok::<QueriedOrder>(query(&venue, "kept")).status,
        OrderState::New
    );

    venue.set_faults(json!({ "timeout": { "count": 1, "execute": true, "hold_ms": 200 } }));
    let (status, code, msg) = error(place("slow-kept"));
    assert_eq!((status, code), (503, -1007));
    assert!(msg.contains("execution status unknown"), "{msg}");
    assert_eq!(
        ok::<QueriedOrder>(query(&venue, "slow-kept")).status,
        OrderState::New
    );
    venue.set_faults(json!({ "timeout": { "count": 1, "execute": false, "hold_ms": 50 } }));
    assert_eq!(error(place("slow-lost")).1, -1007);
    assert_eq!(error(query(&venue, "slow-lost")).1, -2013);

    // A 5xx on a cancel that was carried out.
    venue.set_faults(json!({ "http_5xx": { "count": 1, "execute": true } }));
    let resp = venue.signed(
        Method::DELETE,
        "/api/v3/order",
        "symbol=BTCUSDT&origClientOrderId=kept",
    );
    assert_eq!(resp.status().as_u16(), 500);
    assert_eq!(
        ok::<QueriedOrder>(query(&venue, "kept")).status,
        OrderState::Canceled
    );
    // Every id that reached the venue is logged, executed or not.
    assert_eq!(
        venue.submissions(),
        ["lost", "kept", "slow-kept", "slow-lost"]
    );
    let faults = venue.set_faults(json!({}));
    assert_eq!(faults["http_5xx"]["count"], 0);
}

#[test]
fn a_429_says_when_to_retry_and_ignoring_it_gets_a_418_ban() {
    let venue = SimVenue::start();
    venue.set_faults(json!({ "rate_limit": { "count": 1, "retry_after_s": 7 } }));
    let resp = venue.get("/api/v3/ping");
    assert_eq!(resp.headers()["Retry-After"], "7");
    let (status, code, _) = error(resp);
    assert_eq!((status, code), (429, -1003));
    // Sending again before the 7 s are up: banned for ban_s (120 s), 418 until then.
    for _ in 0..2 {
        let resp = venue.get("/api/v3/ping");
        let retry: u64 = resp.headers()["Retry-After"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(retry > 100, "the ban's Retry-After, not the 429's: {retry}");
        let (status, code, _) = error(resp);
        assert_eq!((status, code), (418, -1003));
    }
    let resp = venue.signed(Method::GET, "/api/v3/account", "");
    assert_eq!(error(resp).0, 418, "signed endpoints are banned too");
    venue.set_faults(json!({ "ban_s": 0 }));
    assert!(venue.get("/api/v3/ping").status().is_success());
}

#[test]
fn going_over_the_weight_limit_is_a_429_until_the_next_minute() {
    let venue = SimVenue::start_with(SimVenueConfig {
        weight_limit: 50,
        ..SimVenueConfig::default()
    });
    // exchangeInfo weighs 20: the third in one minute is over 50. (Should the minute roll
    // over between requests, the count restarts, hence the loop.)
    let mut used = Vec::new();
    let refusal = (0..10).find_map(|_| {
        let resp = venue.get("/api/v3/exchangeInfo");
        used.push(
            resp.headers()["X-MBX-USED-WEIGHT-1M"]
                .to_str()
                .unwrap()
                .to_string(),
        );
        (resp.status().as_u16() == 429).then_some(resp)
    });
    let resp = refusal.unwrap_or_else(|| panic!("no 429; weights used {used:?}"));
    let retry: u64 = resp.headers()["Retry-After"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(error(resp).1, -1003);
    assert!(used.iter().any(|u| u == "40"), "{used:?}");
}

#[test]
fn orders_balances_trade_ids_and_the_clock_survive_a_sigkill() {
    let mut venue = SimVenue::start();
    ok::<OrderResponse>(order(
        &venue,
        "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.01&newClientOrderId=k-1",
    ));
    venue.step(2);
    ok::<OrderResponse>(order(
        &venue,
        "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=0.004&price=99999.00&newClientOrderId=k-2",
    ));
    ok::<OrderResponse>(order(
        &venue,
        "symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.003&newClientOrderId=k-3",
    ));
    let account_before = account(&venue);
    let open_before: Vec<QueriedOrder> = ok(venue.signed(Method::GET, "/api/v3/openOrders", ""));
    let trades_before: Vec<MyTrade> =
        ok(venue.signed(Method::GET, "/api/v3/myTrades", "symbol=BTCUSDT"));
    let clock_before = venue.replay();
    let pending: QueriedOrder = ok(query(&venue, "k-3"));
    assert_eq!(
        pending.status,
        OrderState::New,
        "a market order waits for the next bar"
    );
    assert_eq!(open_before.len(), 2);

    venue.kill9();
    venue.restart();
    assert_eq!(account(&venue).balances, account_before.balances);
    assert_eq!(
        ok::<Vec<QueriedOrder>>(venue.signed(Method::GET, "/api/v3/openOrders", "")),
        open_before
    );
    assert_eq!(
        ok::<Vec<MyTrade>>(venue.signed(Method::GET, "/api/v3/myTrades", "symbol=BTCUSDT")),
        trades_before
    );
    assert_eq!(venue.replay()["cursor"], clock_before["cursor"]);
    assert_eq!(venue.submissions(), ["k-1", "k-2", "k-3"]);

    // The clock continues with the next bar, and the pending market sell fills on it under
    // the next trade id.
    venue.step(1);
    let next = clock_before["lastClosedOpenTime"]["BTCUSDT"]
        .as_i64()
        .unwrap()
        + HOUR;
    assert_eq!(btc_clock(&venue), next);
    let trades: Vec<MyTrade> = ok(venue.signed(Method::GET, "/api/v3/myTrades", "symbol=BTCUSDT"));
    assert_eq!(trades.len(), trades_before.len() + 1);
    assert_eq!(
        trades.last().unwrap().id,
        trades_before.last().unwrap().id + 1
    );
    assert_eq!(
        trades.last().unwrap().price,
        bar_at(&btc_bars(), next).open * dec!(0.9995)
    );

    // A graceful stop flushes and exits 0.
    assert!(venue.terminate().success());
}

#[test]
fn a_foreign_state_directory_is_a_startup_error_not_a_reset() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    std::fs::write(state.join("precious.txt"), "not a sim venue").unwrap();
    let config = dir.path().join("sim.toml");
    std::fs::write(&config, SimVenueConfig::default().to_toml(&state)).unwrap();
    let mut command = process::keel(&["sim-exchange", "--config"]);
    command
        .arg(&config)
        .env("KEEL_SIM_TEST_KEY", API_KEY)
        .env("KEEL_SIM_TEST_SECRET", sim_venue::API_SECRET);
    let out = process::run(command, "sim-exchange on a foreign state directory");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a sled database"), "{stderr}");
    assert!(state.join("precious.txt").exists());
    assert!(!stderr.contains(sim_venue::API_SECRET));

    // A config naming a missing secret variable names the key, not a value.
    let mut command = process::keel(&["sim-exchange", "--config"]);
    command
        .arg(&config)
        .env_remove("KEEL_SIM_TEST_SECRET")
        .env("KEEL_SIM_TEST_KEY", API_KEY);
    let out = process::run(command, "sim-exchange without its secret");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("api_secret_env"), "{stderr}");
    assert_eq!(out.status.code(), Some(2), "a configuration error");
}
