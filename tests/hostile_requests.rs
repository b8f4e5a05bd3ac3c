//! The servers against hostile clients: the sim venue (`keel sim-exchange`) and `keel run`'s
//! control plane, driven with random requests (proptest; `PROPTEST_CASES` sets how many),
//! oversized ones and slow ones, as real processes over loopback.
//!
//! A Binance client reads a 5xx as "the outcome is unknown", so every refusal the venue gives
//! is a 4xx with Binance's `{"code", "msg"}` body and leaves the account as it was. The
//! control plane answers garbage with a 4xx saying why. Neither panics, and a client that
//! never finishes its request does not keep others from being served. Latencies are printed
//! (run with `--nocapture`), not asserted: each exchange is only bounded by
//! [`raw_http::TIMEOUT`].

mod common;
#[path = "hostile_requests/control.rs"]
mod control;
#[path = "hostile_requests/raw_http.rs"]
mod raw_http;
#[path = "common/sim_venue.rs"]
mod sim_venue;
#[path = "hostile_requests/venue.rs"]
mod venue;

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::time::Instant;

use common::process::{keel, wait_for, Process};
use raw_http::{exchange, request, Reply};
use reqwest::Method;
use serde_json::Value;
use sim_venue::{now_ms, ok, SimVenue, SimVenueConfig, API_KEY};

/// A venue with BTC to sell (OCO lists reach their checks), a weight limit no test reaches,
/// an open order (id 1) and an open OCO list (id 1, orders 2 and 3).
fn seeded_venue() -> SimVenue {
    let venue = SimVenue::start_with(SimVenueConfig {
        balances: "USDT = 10000\nBTC = 1".into(),
        weight_limit: 1_000_000_000,
        ..SimVenueConfig::default()
    });
    let _: Value = ok(venue.signed(
        Method::POST,
        "/api/v3/order",
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=9000.00&newClientOrderId=seed-order",
    ));
    let _: Value = ok(venue.signed(
        Method::POST,
        "/api/v3/orderList/oco",
        "symbol=BTCUSDT&side=SELL&quantity=0.001&aboveType=LIMIT_MAKER&abovePrice=25000.00\
         &belowType=STOP_LOSS&belowStopPrice=9000.00&listClientOrderId=seed-list",
    ));
    venue
}

fn addr(base: &str) -> String {
    base.trim_start_matches("http://").to_string()
}

/// The venue is still up and logged no panic.
fn assert_venue_sound(venue: &SimVenue) {
    let resp = venue.get("/api/v3/ping");
    assert_eq!(resp.status(), 200, "the venue stopped answering");
    let log = venue.stderr();
    assert!(
        !log.contains("panicked"),
        "the venue panicked:\n{}",
        venue::tail(&log)
    );
}

#[test]
fn the_venue_refuses_random_hostile_requests_with_binance_errors_and_an_unchanged_account() {
    let venue = seeded_venue();
    let seen = venue::fuzz(&venue, 3, 1);
    eprintln!(
        "sim venue: {} hostile requests, {} accepted, refusal codes {:?}, max latency {:?}",
        seen.cases, seen.accepted, seen.codes, seen.max_latency
    );
    if seen.cases >= 100 {
        let reached = [-1013, -1121, -2010, -2011, -2013];
        assert!(
            reached.iter().any(|c| seen.codes.contains_key(c)),
            "no request reached the order checks: {:?}",
            seen.codes
        );
    }
    assert_venue_sound(&venue);
}

/// Sends `bytes`; the answer must be a 4xx (and, with `binance`, carry Binance's body), and
/// the account must be as it was.
fn refused(venue: &SimVenue, what: &str, bytes: Vec<u8>, binance: bool) -> Reply {
    let before = venue::account(venue, 3, 1);
    let reply = exchange(&addr(venue.base_url()), bytes).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        (400..500).contains(&reply.status),
        "{what}: {}\n{}",
        reply.head,
        reply.text()
    );
    if binance {
        assert!(
            venue::binance_error(&reply).is_some(),
            "{what}: no Binance error body: {}\n{}",
            reply.head,
            reply.text()
        );
    }
    assert_eq!(
        before,
        venue::account(venue, 3, 1),
        "{what} changed the account"
    );
    eprintln!("{what}: {} in {:?}", reply.status, reply.took);
    reply
}

fn signed_target(venue: &SimVenue, path: &str, params: &str) -> String {
    let payload = format!("{params}&timestamp={}", now_ms());
    format!("{path}?{}", venue.signer().signed_query(&payload))
}

fn key() -> Vec<(&'static str, Vec<u8>)> {
    vec![("X-MBX-APIKEY", API_KEY.as_bytes().to_vec())]
}

/// A signed order whose body stops halfway: the venue does not wait for ever (nor act on half
/// an order) but answers 408 with Binance's body once the body is late.
#[test]
fn a_body_that_stalls_gets_a_408_and_leaves_the_account_alone() {
    let venue = seeded_venue();
    let before = venue::account(&venue, 3, 1);
    let order = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=10000.00";
    let signed = venue
        .signer()
        .signed_query(&format!("{order}&timestamp={}", now_ms()));
    let mut bytes = request("POST", "/api/v3/order", &key(), signed.as_bytes());
    bytes.truncate(bytes.len() - signed.len() / 2);
    let started = Instant::now();
    let mut stream = raw_http::connect(&addr(venue.base_url()));
    stream.write_all(&bytes).unwrap();
    let reply = raw_http::read_reply(stream, started)
        .unwrap_or_else(|e| panic!("a body that stalls got no answer: {e}"));
    assert_eq!(reply.status, 408, "{}\n{}", reply.head, reply.text());
    let (code, msg) = venue::binance_error(&reply)
        .unwrap_or_else(|| panic!("no Binance error body: {}", reply.text()));
    assert_eq!(code, -1100, "{msg}");
    assert!(msg.contains("did not arrive within"), "{msg}");
    assert_eq!(
        before,
        venue::account(&venue, 3, 1),
        "half an order changed the account"
    );
    eprintln!("a stalled body: {} after {:?}", reply.status, reply.took);
    assert_venue_sound(&venue);
}

#[test]
fn oversized_and_malformed_requests_get_a_4xx_and_leave_the_account_alone() {
    let venue = seeded_venue();
    let order = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=10000.00";

    let target = signed_target(&venue, "/api/v3/order", order);
    let big = vec![b'a'; 4 << 20];
    let bytes = request("POST", &target, &key(), &big);
    let reply = refused(&venue, "a 4 MiB body", bytes, true);
    assert_eq!(reply.status, 413);

    let mut headers = key();
    headers.push(("X-Junk", vec![b'j'; 64 << 10]));
    let bytes = request(
        "POST",
        &signed_target(&venue, "/api/v3/order", order),
        &headers,
        b"",
    );
    assert_eq!(refused(&venue, "a 64 KiB header", bytes, true).status, 431);

    let long = format!("{order}&junk={}", "q".repeat(32 << 10));
    let bytes = request(
        "POST",
        &signed_target(&venue, "/api/v3/order", &long),
        &key(),
        b"",
    );
    assert_eq!(
        refused(&venue, "a 32 KiB query string", bytes, true).status,
        414
    );

    // Beyond what actix reads at all: refused (with an empty body) before the venue sees it.
    let long = format!("{order}&junk={}", "q".repeat(100 << 10));
    let bytes = request(
        "POST",
        &signed_target(&venue, "/api/v3/order", &long),
        &key(),
        b"",
    );
    refused(&venue, "a 100 KiB query string", bytes, false);
    let mut headers = key();
    headers.push(("X-Junk", vec![b'j'; 256 << 10]));
    let bytes = request(
        "POST",
        &signed_target(&venue, "/api/v3/order", order),
        &headers,
        b"",
    );
    refused(&venue, "a 256 KiB header", bytes, false);

    let many: String = (0..3000).map(|i| format!("p{i}=1&")).collect();
    let body = format!("{many}quantity=1&timestamp={}", now_ms());
    let signature = venue.signer().sign(&format!("{order}{body}"));
    let bytes = request(
        "POST",
        &format!("/api/v3/order?{order}"),
        &key(),
        format!("{body}&signature={signature}").as_bytes(),
    );
    let reply = refused(&venue, "3000 parameters, one repeated", bytes, true);
    assert_eq!(venue::binance_error(&reply).unwrap().0, -1100);

    let target = signed_target(&venue, "/api/v3/order", order);
    let bytes = request("POST", &target, &key(), b"newClientOrderId=\xff\xfe\xfd");
    let reply = refused(&venue, "a body that is not UTF-8", bytes, true);
    assert_eq!(venue::binance_error(&reply).unwrap().0, -1100);

    let headers = vec![("X-MBX-APIKEY", b"\xff\xfe".to_vec())];
    let target = signed_target(&venue, "/api/v3/order", order);
    let reply = refused(
        &venue,
        "an API key that is not UTF-8",
        request("POST", &target, &headers, b""),
        true,
    );
    assert_eq!(reply.status, 401);

    let mut bytes = format!(
        "POST {} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-MBX-APIKEY: {API_KEY}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        signed_target(&venue, "/api/v3/order", order)
    )
    .into_bytes();
    refused(
        &venue,
        "a malformed chunked body",
        std::mem::take(&mut bytes),
        false,
    );

    let bytes = request("GET", "/api/v3/%FF%FE?symbol=%", &key(), b"");
    refused(&venue, "an unknown path", bytes, false);

    assert_venue_sound(&venue);
}

/// Opens connections that stall: some mid-headers, some with the headers sent and the body
/// never finished, one that sends its headers a byte at a time. Another client is served
/// between every byte.
fn slow_clients_do_not_block_others(
    addr: &str,
    slow_request: Vec<u8>,
    served: impl Fn() -> u16,
) -> Reply {
    let head_end = slow_request
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let mut stalled = Vec::new();
    for _ in 0..4 {
        let mut s = raw_http::connect(addr);
        s.write_all(&slow_request[..head_end / 2]).unwrap();
        stalled.push(s);
        let mut s = raw_http::connect(addr);
        let mut head = slow_request[..head_end].to_vec();
        head.extend_from_slice(b"\r\nContent-Length: 100000\r\n\r\nsymbol=");
        s.write_all(&head).unwrap();
        stalled.push(s);
    }
    assert_eq!(served(), 200, "served while others stall");
    let started = Instant::now();
    let mut slow: TcpStream = raw_http::connect(addr);
    for byte in &slow_request {
        slow.write_all(std::slice::from_ref(byte)).unwrap();
        assert_eq!(
            served(),
            200,
            "served while one client sends a byte at a time"
        );
    }
    let reply = raw_http::read_reply(slow, started)
        .unwrap_or_else(|e| panic!("the slow client got no answer: {e}"));
    drop(stalled);
    reply
}

#[test]
fn slow_clients_do_not_keep_the_venue_from_serving_others() {
    let venue = seeded_venue();
    let target = signed_target(&venue, "/api/v3/order", "symbol=BTCUSDT&orderId=1");
    let slow = request("GET", &target, &key(), b"");
    let reply = slow_clients_do_not_block_others(&addr(venue.base_url()), slow, || {
        venue.get("/api/v3/ping").status().as_u16()
    });
    // Its request was sent slowly, not late: it is answered (the timestamp is checked
    // against a window of seconds, and actix gives a client 5 s to send its headers).
    assert!(reply.status < 500, "{}\n{}", reply.head, reply.text());
    eprintln!("slow venue client: {} after {:?}", reply.status, reply.took);
    assert_venue_sound(&venue);
}

/// A paced paper run of `sma_cross` that waits at the end, with the control token set.
fn start_keel(dir: &Path) -> (Process, String) {
    let text = common::data_section("2018-01-01", None, false)
        + &format!(
            "[strategy]\nkind = \"sma_cross\"\n[run]\nfeed = \"paced\"\nspeedup = 360000\nstore = \"{}\"\nat_end = \"wait\"\n[log]\ndir = \"{}\"\n",
            dir.join("store").display(),
            dir.join("log").display()
        );
    let config = dir.join("paper.toml");
    std::fs::write(&config, text).unwrap();
    let mut command = keel(&["run", "--config", config.to_str().unwrap()]);
    command.env("KEEL_CONTROL_TOKEN", control::TOKEN);
    let mut process = Process::start_in(command, "keel run", dir);
    let addr = process.control_addr(&dir.join("store")).trim().to_string();
    (process, addr)
}

fn get(addr: &str, path: &str) -> Reply {
    exchange(addr, request("GET", path, &[], b"")).unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// What garbage must not change: the risk switches and every actor's restarts.
fn run_state(addr: &str) -> Value {
    let status = get(addr, "/status").json().expect("a JSON status");
    let restarts: Vec<(Value, Value)> = status["actors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["name"].clone(), a["restarts"].clone()))
        .collect();
    serde_json::json!({
        "halted": status["risk"]["halted"],
        "flatten": status["risk"]["flatten_requested"],
        "kill_switch": status["risk"]["kill_switch"],
        "restarts": restarts,
    })
}

#[test]
fn the_control_plane_answers_garbage_with_a_4xx_that_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let (mut keel, addr) = start_keel(dir.path());
    wait_for("/readyz answering 200", || {
        get(&addr, "/readyz").status == 200
    });
    let before = run_state(&addr);

    let seen = control::fuzz(&addr);
    eprintln!(
        "control plane: {} hostile requests, statuses {:?}, max latency {:?}",
        seen.cases, seen.statuses, seen.max_latency
    );

    let mut headers = vec![("Authorization", b"Bearer wrong".to_vec())];
    let reply = exchange(
        &addr,
        request("POST", "/halt", &headers, &vec![b'x'; 4 << 20]),
    )
    .unwrap();
    assert_eq!(reply.status, 401, "a 4 MiB body with a wrong token");
    headers.push(("X-Junk", vec![b'j'; 64 << 10]));
    let reply = exchange(&addr, request("POST", "/halt", &headers, b"")).unwrap();
    assert!(
        (400..500).contains(&reply.status),
        "a 64 KiB header: {}",
        reply.head
    );

    let reply =
        slow_clients_do_not_block_others(&addr, request("GET", "/status", &[], b""), || {
            get(&addr, "/status").status
        });
    assert_eq!(reply.status, 200, "the slow client's own answer");

    assert_eq!(before, run_state(&addr), "garbage changed the run");
    assert!(keel.exited().is_none(), "keel exited:\n{}", keel.stderr());
    let stderr = keel.stderr();
    assert!(!stderr.contains("panicked"), "keel panicked:\n{stderr}");
    keel.signal("TERM");
    let output = keel.finish();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
