//! `keel sim-exchange`'s streams and clock as a client sees them: combined and raw
//! WebSocket streams over loopback, subscriptions, dropped connections, pings, and the timed
//! replay clock.

#[path = "common/process.rs"]
mod process;
#[path = "common/sim_venue.rs"]
mod sim_venue;

use std::str::FromStr;

use keel_binance::wire::KlineRow;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::json;
use sim_venue::{bar_at, btc_bars, ok, start, SimVenue, SimVenueConfig};

const HOUR: i64 = 3_600_000;

#[test]
fn streams_deliver_every_closed_bar_in_order_answer_subscribe_and_are_dropped_on_demand() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let venue = SimVenue::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let url = format!(
            "{}/stream?streams=btcusdt@kline_1h/ethusdt@kline_1h",
            venue.ws_url()
        );
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        ws.send(Message::text(
            r#"{"method":"SUBSCRIBE","params":["btcusdt@bookTicker"],"id":7}"#,
        ))
        .await
        .unwrap();
        let mut reply = None;
        while reply.is_none() {
            if let Some(Ok(Message::Text(t))) = ws.next().await {
                reply = Some(t.to_string());
            }
        }
        // Compared as JSON: key order is not part of the protocol (Binance itself writes
        // `result` first).
        let reply: serde_json::Value = serde_json::from_str(&reply.unwrap()).unwrap();
        assert_eq!(reply, serde_json::json!({ "id": 7, "result": null }));

        let stepped = tokio::task::spawn_blocking({
            let base = venue.base_url().to_string();
            move || {
                reqwest::blocking::Client::new()
                    .post(format!("{base}/admin/step"))
                    .json(&json!({ "bars": 6 }))
                    .send()
                    .unwrap()
                    .status()
            }
        });
        let mut closed: Vec<(String, i64)> = Vec::new();
        let mut open_seen = 0;
        let mut book_tickers = 0;
        while closed.len() < 6 {
            let Some(Ok(Message::Text(text))) = ws.next().await else {
                continue;
            };
            let msg: serde_json::Value = serde_json::from_str(&text).unwrap();
            let stream = msg["stream"].as_str().unwrap().to_string();
            if stream == "btcusdt@bookTicker" {
                book_tickers += 1;
                let bid = Decimal::from_str(msg["data"]["b"].as_str().unwrap()).unwrap();
                let ask = Decimal::from_str(msg["data"]["a"].as_str().unwrap()).unwrap();
                assert_eq!(ask - bid, dec!(0.01));
                continue;
            }
            let k = &msg["data"]["k"];
            if k["x"] == true {
                closed.push((stream, k["t"].as_i64().unwrap()));
            } else {
                open_seen += 1;
            }
        }
        assert!(stepped.await.unwrap().is_success());
        let t = start();
        let expected: Vec<(String, i64)> = (0..3)
            .flat_map(|h| {
                [
                    ("btcusdt@kline_1h".to_string(), t + h * HOUR),
                    ("ethusdt@kline_1h".to_string(), t + h * HOUR),
                ]
            })
            .collect();
        assert_eq!(closed, expected);
        assert_eq!(
            open_seen, 6,
            "each closed kline is preceded by an in-progress one"
        );
        assert_eq!(book_tickers, 3);

        // The drop_ws fault closes the connection.
        let base = venue.base_url().to_string();
        tokio::task::spawn_blocking(move || {
            reqwest::blocking::Client::new()
                .post(format!("{base}/admin/faults"))
                .json(&json!({ "drop_ws": true }))
                .send()
                .unwrap()
        })
        .await
        .unwrap();
        loop {
            match ws.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(_)) => {}
            }
        }
    });
}

#[test]
fn a_raw_stream_sends_bare_payloads_and_latency_delays_every_answer() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;

    let venue = SimVenue::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let trade: serde_json::Value = rt.block_on(async {
        let url = format!("{}/ws/btcusdt@trade", venue.ws_url());
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let base = venue.base_url().to_string();
        tokio::task::spawn_blocking(move || {
            reqwest::blocking::Client::new()
                .post(format!("{base}/admin/step"))
                .json(&json!({ "bars": 2 }))
                .send()
                .unwrap()
        })
        .await
        .unwrap();
        loop {
            if let Some(Ok(Message::Text(text))) = ws.next().await {
                break serde_json::from_str(&text).unwrap();
            }
        }
    });
    assert_eq!(trade["e"], "trade");
    assert_eq!(trade["s"], "BTCUSDT");
    let close = bar_at(&btc_bars(), start()).close;
    assert_eq!(
        Decimal::from_str(trade["p"].as_str().unwrap()).unwrap(),
        close
    );

    // The latency fault holds every REST answer at least that long (a lower bound only).
    venue.set_faults(json!({ "latency_ms": 300 }));
    let began = std::time::Instant::now();
    assert!(venue.get("/api/v3/ping").status().is_success());
    assert!(began.elapsed() >= std::time::Duration::from_millis(300));
}

#[test]
fn the_timed_clock_closes_bars_by_itself_until_paused() {
    let venue = SimVenue::start_with(SimVenueConfig {
        bar_ms: 20,
        ..SimVenueConfig::default()
    });
    // Wait until the clock has closed a few bars on its own.
    let cursor = |v: &SimVenue| v.replay()["cursor"].as_u64().unwrap();
    let first = cursor(&venue);
    process::wait_for("the timed clock closing three bars by itself", || {
        cursor(&venue) >= first + 3
    });
    let paused = venue.set_paused(true);
    let held = venue.step(0)["cursor"].as_u64().unwrap();
    assert_eq!(paused["paused"], true);
    let rows: Vec<KlineRow> = ok(venue.get("/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=1"));
    assert!(rows[0].0 >= start(), "klines follow the clock");
    assert_eq!(
        venue.step(1)["cursor"].as_u64().unwrap(),
        held + 1,
        "stepping works while paused"
    );
}

#[test]
fn a_client_that_does_not_answer_pings_is_disconnected() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;

    let venue = SimVenue::start_with(SimVenueConfig {
        ping_interval_ms: 50,
        pong_timeout_ms: 200,
        ..SimVenueConfig::default()
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let url = format!("{}/ws/btcusdt@kline_1h", venue.ws_url());
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        // Not reading means not answering the server's pings (tungstenite pongs on read):
        // ten pong timeouts without reading, so that even a busy venue has given up.
        tokio::time::sleep(std::time::Duration::from_millis(2_000)).await;
        let mut pings = 0;
        let closed = tokio::time::timeout(process::PATIENCE, async {
            loop {
                match ws.next().await {
                    Some(Ok(Message::Ping(_))) => pings += 1,
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                    Some(Ok(_)) => {}
                }
            }
        })
        .await;
        assert!(closed.is_ok(), "the venue never dropped the silent client");
        assert!(pings >= 1, "the server pinged before giving up");
    });
}
