//! Hostile requests to the sim venue's `/api/v3`, signed correctly so that they reach the
//! handlers: a valid request per endpoint, then some of its parameters replaced by hostile
//! values, removed, repeated or joined by unknown ones, split between query string and body.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::Method;
use serde_json::Value;

use super::raw_http::{self, encode, Reply};
use super::sim_venue::{now_ms, SimVenue, API_KEY};

/// The endpoints, each with a request the venue accepts (or refuses only for the account's
/// state, e.g. an unknown order id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    NewOrder,
    QueryOrder,
    CancelOrder,
    OpenOrders,
    MyTrades,
    Account,
    NewOco,
    QueryList,
    CancelList,
    Klines,
    ExchangeInfo,
}

impl Endpoint {
    const ALL: [Endpoint; 11] = [
        Endpoint::NewOrder,
        Endpoint::QueryOrder,
        Endpoint::CancelOrder,
        Endpoint::OpenOrders,
        Endpoint::MyTrades,
        Endpoint::Account,
        Endpoint::NewOco,
        Endpoint::QueryList,
        Endpoint::CancelList,
        Endpoint::Klines,
        Endpoint::ExchangeInfo,
    ];

    fn route(self) -> (&'static str, &'static str) {
        match self {
            Endpoint::NewOrder => ("POST", "/api/v3/order"),
            Endpoint::QueryOrder => ("GET", "/api/v3/order"),
            Endpoint::CancelOrder => ("DELETE", "/api/v3/order"),
            Endpoint::OpenOrders => ("GET", "/api/v3/openOrders"),
            Endpoint::MyTrades => ("GET", "/api/v3/myTrades"),
            Endpoint::Account => ("GET", "/api/v3/account"),
            Endpoint::NewOco => ("POST", "/api/v3/orderList/oco"),
            Endpoint::QueryList => ("GET", "/api/v3/orderList"),
            Endpoint::CancelList => ("DELETE", "/api/v3/orderList"),
            Endpoint::Klines => ("GET", "/api/v3/klines"),
            Endpoint::ExchangeInfo => ("GET", "/api/v3/exchangeInfo"),
        }
    }

    fn signed(self) -> bool {
        !matches!(self, Endpoint::Klines | Endpoint::ExchangeInfo)
    }

    fn template(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Endpoint::NewOrder => &[
                ("symbol", "BTCUSDT"),
                ("side", "BUY"),
                ("type", "LIMIT"),
                ("timeInForce", "GTC"),
                ("quantity", "0.001"),
                ("price", "10000.00"),
                ("newClientOrderId", "hostile-new"),
            ],
            Endpoint::QueryOrder => &[("symbol", "BTCUSDT"), ("orderId", "1")],
            Endpoint::CancelOrder => &[("symbol", "BTCUSDT"), ("orderId", "999999")],
            Endpoint::OpenOrders => &[("symbol", "BTCUSDT")],
            Endpoint::MyTrades => &[("symbol", "BTCUSDT"), ("limit", "10")],
            Endpoint::Account => &[],
            Endpoint::NewOco => &[
                ("symbol", "BTCUSDT"),
                ("side", "SELL"),
                ("quantity", "0.001"),
                ("aboveType", "LIMIT_MAKER"),
                ("abovePrice", "20000.00"),
                ("belowType", "STOP_LOSS"),
                ("belowStopPrice", "10000.00"),
                ("listClientOrderId", "hostile-list"),
            ],
            Endpoint::QueryList => &[("orderListId", "1")],
            Endpoint::CancelList => &[("symbol", "BTCUSDT"), ("orderListId", "999999")],
            Endpoint::Klines => &[("symbol", "BTCUSDT"), ("interval", "1h"), ("limit", "5")],
            Endpoint::ExchangeInfo => &[("symbol", "BTCUSDT")],
        }
    }
}

/// A change to the template.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// The parameter's value, percent-encoded.
    Replace(Index, String),
    /// The parameter's value with `&`, `=`, `%` and `+` left raw (the rest encoded).
    HalfEncoded(Index, String),
    Remove(Index),
    Repeat(Index, String),
    Add(String, String),
}

/// One hostile request.
#[derive(Debug, Clone)]
pub struct Hostile {
    endpoint: Endpoint,
    mutations: Vec<Mutation>,
    /// `None`: the wall clock.
    timestamp: Option<String>,
    recv_window: Option<String>,
    /// How many parameters go into the query string (the rest into a form body).
    in_query: Index,
    signature_in_body: bool,
    content_type: Option<&'static str>,
}

const NAMES: &[&str] = &[
    "symbol",
    "side",
    "type",
    "timeInForce",
    "quantity",
    "quoteOrderQty",
    "price",
    "stopPrice",
    "newClientOrderId",
    "newOrderRespType",
    "orderId",
    "origClientOrderId",
    "orderListId",
    "listClientOrderId",
    "aboveType",
    "abovePrice",
    "belowType",
    "belowStopPrice",
    "aboveClientOrderId",
    "belowClientOrderId",
    "interval",
    "limit",
    "startTime",
    "endTime",
    "fromId",
    "timestamp",
    "recvWindow",
    "signature",
    "",
    "sïgnature",
    "symbol[]",
];

/// Values a careless or malicious client sends.
pub fn hostile_value() -> BoxedStrategy<String> {
    let fixed: Vec<&str> = vec![
        "",
        "0",
        "-0",
        "-1",
        "-0.001",
        "0.0",
        "1e3",
        "1E-2",
        "1e400",
        "NaN",
        "inf",
        "-inf",
        "0x1A",
        "+5",
        " 1",
        "1 ",
        ".",
        "1.",
        ".5",
        "1.2.3",
        "00000.001",
        "1_000",
        "١٢٣",
        "１２３",
        "79228162514264337593543950335",
        "79228162514264337593543950336",
        "7922816251426433759354395033.5",
        "999999999999999999999999999999999999999999",
        "0.0000000000000000000000000000001",
        "0.00000000000000000000000000000000000000000000001",
        "1000000.01",
        "1000000",
        "999999.99",
        "9000",
        "9000.00001",
        "0.00001",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "9223372036854775807",
        "4294967296",
        "BUY",
        "SELL",
        "buy",
        "LIMIT",
        "MARKET",
        "STOP_LOSS",
        "LIMIT_MAKER",
        "STOP_LOSS_LIMIT",
        "TAKE_PROFIT",
        "TAKE_PROFIT_LIMIT",
        "OCO",
        "GTC",
        "IOC",
        "FOK",
        "GTX",
        "ACK",
        "RESULT",
        "FULL",
        "1h",
        "1m",
        "0h",
        "BTCUSDT",
        "ETHUSDT",
        "ethusdt",
        "LTCBTC",
        "BTC💥USDT",
        "ＢＴＣＵＳＤＴ",
        "BTCUSDT\u{0}",
        "BTCUSDT ",
        "İ",
        "null",
        "true",
        "[]",
        "{}",
        "%",
        "%zz",
        "&",
        "=",
        "signature=00",
    ];
    prop_oneof![
        4 => select(fixed).prop_map(str::to_string),
        2 => "[0-9]{1,40}(\\.[0-9]{1,40})?",
        2 => "-?[0-9]{0,6}(\\.[0-9]{0,30})?([eE][+-]?[0-9]{1,4})?",
        1 => "\\PC{0,40}",
        1 => ".{0,20}",
        1 => "[a-zA-Z0-9_-]{30,80}",
        1 => "[A-Z]{300,3000}",
    ]
    .boxed()
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let name = prop_oneof![
        3 => select(NAMES).prop_map(str::to_string),
        1 => "\\PC{0,12}",
    ];
    prop_oneof![
        4 => (any::<Index>(), hostile_value()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        1 => (any::<Index>(), hostile_value()).prop_map(|(i, v)| Mutation::HalfEncoded(i, v)),
        1 => any::<Index>().prop_map(Mutation::Remove),
        1 => (any::<Index>(), hostile_value()).prop_map(|(i, v)| Mutation::Repeat(i, v)),
        1 => (name, hostile_value()).prop_map(|(n, v)| Mutation::Add(n, v)),
    ]
}

fn hostile_timestamp() -> impl Strategy<Value = Option<String>> {
    let odd = select(vec![
        "-9223372036854775808",
        "9223372036854775807",
        "-1",
        "0",
        "",
        "1e12",
        "1499827319559.0",
        "abc",
        "stale",
        "ahead",
    ]);
    prop_oneof![
        8 => Just(None),
        1 => odd.prop_map(|s| Some(s.to_string())),
    ]
}

fn hostile_window() -> impl Strategy<Value = Option<String>> {
    let odd = select(vec![
        "-1",
        "0",
        "60000",
        "60001",
        "99999999999999999999",
        "1.5",
        "-9223372036854775808",
        "",
    ]);
    prop_oneof![6 => Just(None), 1 => odd.prop_map(|s| Some(s.to_string()))]
}

/// A hostile request to any endpoint.
pub fn hostile() -> impl Strategy<Value = Hostile> {
    (
        select(Endpoint::ALL.to_vec()),
        proptest::collection::vec(mutation(), 0..4),
        hostile_timestamp(),
        hostile_window(),
        any::<Index>(),
        any::<bool>(),
        select(vec![
            Some("application/x-www-form-urlencoded"),
            Some("application/x-www-form-urlencoded"),
            Some("application/json"),
            Some("text/plain; charset=\u{fffd}"),
            None,
        ]),
    )
        .prop_map(
            |(endpoint, mutations, timestamp, recv_window, in_query, sig, content_type)| Hostile {
                endpoint,
                mutations,
                timestamp,
                recv_window,
                in_query,
                signature_in_body: sig,
                content_type,
            },
        )
}

impl Hostile {
    /// The query string and body, signed, with the timestamp of `now`.
    fn encode(&self, venue: &SimVenue, now: i64) -> (String, String) {
        let mut params: Vec<(String, String)> = self
            .endpoint
            .template()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        for m in &self.mutations {
            let pick = |i: &Index, len: usize| (len > 0).then(|| i.index(len));
            match m {
                Mutation::Replace(i, v) => {
                    if let Some(at) = pick(i, params.len()) {
                        params[at].1 = encode(v);
                    }
                }
                Mutation::HalfEncoded(i, v) => {
                    if let Some(at) = pick(i, params.len()) {
                        params[at].1 = half_encode(v);
                    }
                }
                Mutation::Remove(i) => {
                    if let Some(at) = pick(i, params.len()) {
                        params.remove(at);
                    }
                }
                Mutation::Repeat(i, v) => {
                    if let Some(at) = pick(i, params.len()) {
                        params.push((params[at].0.clone(), encode(v)));
                    }
                }
                Mutation::Add(n, v) => params.push((encode(n), encode(v))),
            }
        }
        if self.endpoint.signed() {
            if let Some(w) = &self.recv_window {
                params.push(("recvWindow".into(), encode(w)));
            }
            let ts = match self.timestamp.as_deref() {
                None => now.to_string(),
                Some("stale") => (now - 70_000).to_string(),
                Some("ahead") => (now + 5_000).to_string(),
                Some(other) => encode(other),
            };
            params.push(("timestamp".into(), ts));
        }
        let split = self.in_query.index(params.len() + 1);
        let join = |ps: &[(String, String)]| {
            ps.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&")
        };
        let mut query = join(&params[..split]);
        let mut body = join(&params[split..]);
        if self.endpoint.signed() {
            let signature = venue.signer().sign(&format!("{query}{body}"));
            let part = if self.signature_in_body || query.is_empty() && !body.is_empty() {
                &mut body
            } else {
                &mut query
            };
            if !part.is_empty() {
                part.push('&');
            }
            part.push_str(&format!("signature={signature}"));
        }
        (query, body)
    }

    fn bytes(&self, venue: &SimVenue) -> Vec<u8> {
        let (query, body) = self.encode(venue, now_ms());
        let (method, path) = self.endpoint.route();
        let target = if query.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{query}")
        };
        let mut headers = vec![("X-MBX-APIKEY", API_KEY.as_bytes().to_vec())];
        if let Some(ct) = self.content_type {
            headers.push(("Content-Type", ct.as_bytes().to_vec()));
        }
        raw_http::request(method, &target, &headers, body.as_bytes())
    }
}

/// `text` percent-encoded except for `&`, `=`, `%` and `+`.
fn half_encode(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' | '=' | '%' | '+' => c.to_string(),
            _ => encode(&c.to_string()),
        })
        .collect()
}

/// What a refused request must leave as it was: balances, open orders, and the next order
/// and list ids (still unknown to the venue).
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    balances: Value,
    open_orders: Value,
    next_ids: Vec<(u16, Value)>,
}

/// The venue's account as its REST API shows it; `last_order` and `last_list` are the highest
/// ids the test has seen accepted.
pub fn account(venue: &SimVenue, last_order: u64, last_list: u64) -> Account {
    let json = |resp: reqwest::blocking::Response| -> (u16, Value) {
        let status = resp.status().as_u16();
        (status, resp.json().unwrap_or(Value::Null))
    };
    let (status, acct) = json(venue.signed(Method::GET, "/api/v3/account", ""));
    assert_eq!(status, 200, "account: {acct}");
    let (status, open) = json(venue.signed(Method::GET, "/api/v3/openOrders", ""));
    assert_eq!(status, 200, "openOrders: {open}");
    let mut next_ids = Vec::new();
    for symbol in ["BTCUSDT", "ETHUSDT"] {
        let params = format!("symbol={symbol}&orderId={}", last_order + 1);
        next_ids.push(json(venue.signed(Method::GET, "/api/v3/order", &params)));
    }
    let params = format!("orderListId={}", last_list + 1);
    next_ids.push(json(venue.signed(
        Method::GET,
        "/api/v3/orderList",
        &params,
    )));
    Account {
        balances: acct["balances"].clone(),
        open_orders: open,
        next_ids,
    }
}

/// A Binance error body: `{"code": <negative int>, "msg": "..."}`.
pub fn binance_error(reply: &Reply) -> Option<(i64, String)> {
    let body = reply.json()?;
    let code = body.get("code")?.as_i64().filter(|c| *c < 0)?;
    let msg = body.get("msg")?.as_str()?.to_string();
    Some((code, msg))
}

/// What the fuzzing saw.
#[derive(Debug, Default)]
pub struct Seen {
    pub cases: u32,
    pub accepted: u32,
    pub max_latency: Duration,
    pub codes: std::collections::BTreeMap<i64, u32>,
}

/// Runs proptest's cases of [`hostile`] against `venue` (whose order 1 is open and whose
/// list 1 exists): every answer is a 2xx or a 4xx with Binance's error body, and a refused
/// request changes nothing in the account.
pub fn fuzz(venue: &SimVenue, last_order: u64, last_list: u64) -> Seen {
    let addr = venue.base_url().trim_start_matches("http://").to_string();
    let seen = RefCell::new(Seen::default());
    let ids = Cell::new((last_order, last_list));
    let before = RefCell::new(account(venue, last_order, last_list));
    let mut runner = TestRunner::new(Config {
        failure_persistence: None,
        ..Config::default()
    });
    let outcome = runner.run(&hostile(), |case| {
        let bytes = case.bytes(venue);
        let reply = raw_http::exchange(&addr, bytes).map_err(TestCaseError::fail)?;
        let mut seen = seen.borrow_mut();
        seen.cases += 1;
        seen.max_latency = seen.max_latency.max(reply.took);
        prop_assert!(
            reply.status < 500,
            "a 5xx tells a Binance client the outcome is unknown: {} {}",
            reply.status,
            reply.text()
        );
        let (mut last_order, mut last_list) = ids.get();
        if (200..300).contains(&reply.status) {
            seen.accepted += 1;
            let body = reply.json().unwrap_or(Value::Null);
            tidy_up(venue, case.endpoint, &body, &mut last_order, &mut last_list)?;
            ids.set((last_order, last_list));
            *before.borrow_mut() = account(venue, last_order, last_list);
            return Ok(());
        }
        prop_assert!(
            (400..500).contains(&reply.status),
            "neither accepted nor refused: {} {}",
            reply.status,
            reply.text()
        );
        let error = binance_error(&reply);
        prop_assert!(
            error.is_some(),
            "a refusal without Binance's error body: {}\n{}",
            reply.head,
            reply.text()
        );
        *seen.codes.entry(error.unwrap().0).or_default() += 1;
        let after = account(venue, last_order, last_list);
        prop_assert_eq!(
            &*before.borrow(),
            &after,
            "a refused request changed the account"
        );
        Ok(())
    });
    if let Err(e) = outcome {
        panic!("{e}\nvenue log:\n{}", tail(&venue.stderr()));
    }
    seen.into_inner()
}

/// Cancels what an accepted request opened, so that the next cases find the same account;
/// records the ids it was given.
fn tidy_up(
    venue: &SimVenue,
    endpoint: Endpoint,
    body: &Value,
    last_order: &mut u64,
    last_list: &mut u64,
) -> Result<(), TestCaseError> {
    match endpoint {
        Endpoint::NewOrder => {
            let id = body["orderId"].as_u64().unwrap_or(0);
            *last_order = (*last_order).max(id);
            let params = format!(
                "symbol={}&orderId={id}",
                body["symbol"].as_str().unwrap_or("")
            );
            let resp = venue.signed(Method::DELETE, "/api/v3/order", &params);
            prop_assert!(
                resp.status().is_success(),
                "cancel the accepted order {body}"
            );
        }
        Endpoint::NewOco => {
            let list = body["orderListId"].as_u64().unwrap_or(0);
            *last_list = (*last_list).max(list);
            for o in body["orders"].as_array().into_iter().flatten() {
                *last_order = (*last_order).max(o["orderId"].as_u64().unwrap_or(0));
            }
            let params = format!(
                "symbol={}&orderListId={list}",
                body["symbol"].as_str().unwrap_or("")
            );
            let resp = venue.signed(Method::DELETE, "/api/v3/orderList", &params);
            prop_assert!(
                resp.status().is_success(),
                "cancel the accepted list {body}"
            );
        }
        _ => {}
    }
    Ok(())
}

/// The last lines of a log.
pub fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}
