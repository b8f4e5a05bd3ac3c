//! `/ws-api/v3` over a real loopback socket: the venue serves in-process on a port bound
//! here, a client subscribes (a bad signature first), places an order over REST, steps a
//! bar, and receives the order's NEW then TRADE reports, the trade as `myTrades` has it.
//! Nothing waits on wall time but the outer timeout.

use std::net::TcpListener;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use keel_binance::wire::user::{
    signature_payload, ExecutionType, UserEvent, UserEventFrame, WsApiResponse,
    SUBSCRIBE_SIGNATURE, UNSUBSCRIBE,
};
use keel_binance::wire::{MyTrade, OrderState};
use keel_binance::{Signer, SymbolFilters};
use keel_core::execution::FillConfig;
use keel_model::{Candle, Interval, Symbol, Timestamp};
use keel_sim_exchange::config::{Market, Secret, Settings, WeightsConfig, WsConfig};
use keel_sim_exchange::fees::FeePolicy;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

const KEY: &str = "keel-test-api-key";
const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
const HOUR: i64 = 3_600_000;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// BTCUSDT hourly: one bar of history at 100, then bars at 100 and 101; 10 000 USDT; the
/// clock stepped only.
fn settings(state: &std::path::Path) -> Settings {
    let bar = |hour: i64, price: Decimal| Candle {
        symbol: Symbol::parse("BTCUSDT").unwrap(),
        open_time: Timestamp(hour * HOUR),
        interval: Interval::HOUR,
        open: price,
        high: price,
        low: price,
        close: price,
        volume: dec!(5),
    };
    Settings {
        listen: "127.0.0.1:0".into(),
        state: state.to_path_buf(),
        api_key: KEY.into(),
        api_secret: Secret(SECRET.into()),
        markets: vec![Market {
            symbol: Symbol::parse("BTCUSDT").unwrap(),
            base: "BTC".into(),
            quote: "USDT".into(),
            interval: Interval::HOUR,
            interval_name: "1h".into(),
            filters: SymbolFilters {
                tick_size: dec!(0.01),
                step_size: dec!(0.001),
                min_qty: dec!(0.001),
                max_qty: dec!(1000),
                min_notional: dec!(1),
            },
            candles: vec![bar(0, dec!(100)), bar(1, dec!(100)), bar(2, dec!(101))],
        }],
        start: Some(Timestamp(HOUR)),
        bar_ms: 0,
        paused: false,
        fill: FillConfig::default(),
        fees: FeePolicy::default(),
        balances: [("USDT".to_string(), dec!(10000))].into_iter().collect(),
        weights: WeightsConfig::default(),
        websocket: WsConfig::default(),
        faults: Default::default(),
    }
}

/// The next text message, parsed.
async fn next_json(ws: &mut Ws) -> Value {
    loop {
        match ws.next().await.expect("the connection stays open").unwrap() {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Close(frame) => panic!("closed by the server: {frame:?}"),
            _ => {}
        }
    }
}

/// The next answer to a request (events before it are skipped).
async fn next_answer(ws: &mut Ws) -> WsApiResponse {
    loop {
        let msg = next_json(ws).await;
        if msg.get("status").is_some() {
            return serde_json::from_value(msg).unwrap();
        }
    }
}

/// The next event (answers before it are refused: none is expected).
async fn next_event(ws: &mut Ws) -> UserEventFrame {
    let msg = next_json(ws).await;
    serde_json::from_value(msg.clone()).unwrap_or_else(|e| panic!("not an event ({e}): {msg}"))
}

/// The next executionReport, skipping account positions.
async fn next_report(ws: &mut Ws) -> keel_binance::wire::user::ExecutionReportEvent {
    loop {
        let frame = next_event(ws).await;
        assert_eq!(frame.subscription_id, 0);
        match frame.event {
            UserEvent::ExecutionReport(r) => return *r,
            UserEvent::AccountPosition(_) => {}
            other => panic!("unexpected event {other:?}"),
        }
    }
}

fn subscribe(id: u64, secret: &str) -> Message {
    let mut params = json!({"apiKey": KEY, "timestamp": now_ms()})
        .as_object()
        .unwrap()
        .clone();
    let signature = Signer::new(secret).sign(&signature_payload(&params));
    params.insert("signature".into(), Value::String(signature));
    let request = json!({"id": id, "method": SUBSCRIBE_SIGNATURE, "params": params});
    Message::text(request.to_string())
}

/// A signed REST call; panics unless it answers 200.
async fn signed(
    http: &reqwest::Client,
    base: &str,
    method: reqwest::Method,
    path: &str,
    params: &str,
) -> Value {
    let query = Signer::new(SECRET).signed_query(&format!("{params}&timestamp={}", now_ms()));
    let resp = http
        .request(method, format!("{base}{path}?{query}"))
        .header("X-MBX-APIKEY", KEY)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{path}: {body}");
    body
}

#[test]
fn a_subscriber_receives_new_then_the_trade_my_trades_records() {
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let settings = settings(&dir.path().join("state"));
    // Serves until the test process ends.
    std::thread::spawn(move || keel_sim_exchange::run_on(settings, listener));
    let base = format!("http://{addr}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(180), async {
            let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws-api/v3"))
                .await
                .unwrap();
            ws.send(subscribe(1, "not-the-secret")).await.unwrap();
            let refused = next_answer(&mut ws).await;
            assert_eq!((refused.id.clone(), refused.status), (json!(1), 400));
            assert_eq!(refused.error.unwrap().code, -1022);

            ws.send(subscribe(2, SECRET)).await.unwrap();
            let subscribed = next_answer(&mut ws).await;
            assert_eq!(subscribed.status, 200, "{subscribed:?}");
            assert_eq!(subscribed.result, Some(json!({"subscriptionId": 0})));

            let http = reqwest::Client::new();
            let placed = signed(
                &http,
                &base,
                reqwest::Method::POST,
                "/api/v3/order",
                "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.5&newClientOrderId=buy-1",
            )
            .await;
            let order_id = placed["orderId"].as_u64().unwrap();
            let new = next_report(&mut ws).await;
            assert_eq!(
                (
                    new.execution_type,
                    new.status,
                    new.order_id,
                    new.client_order_id.as_str()
                ),
                (ExecutionType::New, OrderState::New, order_id, "buy-1")
            );

            let stepped = http
                .post(format!("{base}/admin/step"))
                .json(&json!({"bars": 1}))
                .send()
                .await
                .unwrap();
            assert_eq!(stepped.status(), 200);
            let trade = next_report(&mut ws).await;
            assert_eq!(
                (trade.execution_type, trade.status, trade.order_id),
                (ExecutionType::Trade, OrderState::Filled, order_id)
            );
            let trades = signed(
                &http,
                &base,
                reqwest::Method::GET,
                "/api/v3/myTrades",
                "symbol=BTCUSDT",
            )
            .await;
            let trades: Vec<MyTrade> = serde_json::from_value(trades).unwrap();
            assert_eq!(trades.len(), 1);
            let recorded = &trades[0];
            assert_eq!(trade.trade_id, recorded.id as i64);
            assert_eq!(
                (trade.last_qty, trade.last_price),
                (recorded.qty, recorded.price)
            );
            assert_eq!(trade.commission, recorded.commission);
            assert_eq!(
                trade.commission_asset.as_deref(),
                Some(recorded.commission_asset.as_str())
            );
            assert_eq!(
                (trade.cum_qty, trade.cum_quote_qty),
                (dec!(0.5), recorded.quote_qty)
            );

            ws.send(Message::text(
                json!({"id": 3, "method": UNSUBSCRIBE}).to_string(),
            ))
            .await
            .unwrap();
            let answer = next_answer(&mut ws).await;
            assert_eq!((answer.status, answer.result), (200, Some(json!({}))));
            let ended = next_event(&mut ws).await;
            assert_eq!(ended.subscription_id, 0);
            assert!(matches!(ended.event, UserEvent::Terminated { .. }));
            ws.send(Message::text(r#"{"id":4,"method":"ping"}"#))
                .await
                .unwrap();
            assert_eq!(next_answer(&mut ws).await.id, json!(4));
        })
        .await
        .expect("the exchange completes within the outer timeout");
    });
}
