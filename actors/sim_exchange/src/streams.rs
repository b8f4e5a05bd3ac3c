//! WebSocket market streams: raw `/ws/<stream>` and combined `/stream?streams=a/b/c`, with
//! `SUBSCRIBE` / `UNSUBSCRIBE` / `LIST_SUBSCRIPTIONS`, server pings and pong timeouts. Each
//! replayed bar sends `<symbol>@kline_<interval>` (in progress, then closed),
//! `<symbol>@bookTicker` and one synthetic `<symbol>@trade`.

use crate::unpoisoned;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::web::{self, Data, Payload};
use actix_web::{HttpRequest, HttpResponse};
use actix_ws::Message;
use keel_binance::wire::{BookTickerEvent, KlineBody, KlineEvent, TradeEvent};
use keel_model::Candle;
use rust_decimal::Decimal;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use super::config::Market;
use super::App;

/// One message of one stream.
#[derive(Debug, Clone)]
pub struct StreamMsg {
    /// The stream's name, lowercase (`btcusdt@bookticker`), for matching.
    pub key: String,
    /// The stream's name as Binance writes it (`btcusdt@bookTicker`).
    pub name: String,
    /// The JSON payload.
    pub payload: String,
}

/// What every connection hears.
#[derive(Debug, Clone)]
pub enum WsEvent {
    /// The messages of one closed bar, in order.
    Bar(Arc<Vec<StreamMsg>>),
    /// Close every connection (the `drop_ws` fault).
    Drop,
}

/// The routes `/ws`, `/ws/<streams>` and `/stream`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/ws", web::get().to(raw_none))
        .route("/ws/{streams:.*}", web::get().to(raw))
        .route("/stream", web::get().to(combined));
}

/// The stream messages of `candle`, the `index`-th bar of `market`, at event time `now`.
pub fn bar_events(market: &Market, candle: &Candle, index: u64, now: i64) -> Vec<StreamMsg> {
    let symbol = market.symbol.as_str();
    let lower = symbol.to_ascii_lowercase();
    let msg = |name: String, payload: String| StreamMsg {
        key: name.to_ascii_lowercase(),
        name,
        payload,
    };
    let kline_name = format!("{lower}@kline_{}", market.interval_name);
    let close_time = candle.close_time().0 - 1;
    let kline = |closed: bool| KlineEvent {
        event_type: "kline",
        event_time: now,
        symbol,
        kline: KlineBody {
            open_time: candle.open_time.0,
            close_time,
            symbol,
            interval: &market.interval_name,
            first_trade: index as i64,
            last_trade: index as i64,
            open: candle.open,
            close: candle.close,
            high: candle.high,
            low: candle.low,
            volume: candle.volume,
            trades: 1,
            closed,
            quote_volume: (candle.volume * candle.close).round_dp(8),
            taker_base: Decimal::ZERO,
            taker_quote: Decimal::ZERO,
            ignore: "0",
        },
    };
    let to_json = |v: &dyn erased::Json| v.json();
    vec![
        msg(kline_name.clone(), to_json(&kline(false))),
        msg(
            format!("{lower}@trade"),
            to_json(&TradeEvent {
                event_type: "trade".into(),
                event_time: now,
                symbol: symbol.to_string(),
                trade_id: index,
                price: candle.close,
                qty: candle.volume,
                trade_time: close_time,
                buyer_is_maker: false,
            }),
        ),
        msg(
            format!("{lower}@bookTicker"),
            to_json(&BookTickerEvent {
                update_id: index,
                symbol: symbol.to_string(),
                bid: candle.close,
                bid_qty: Decimal::ONE,
                ask: candle.close + market.filters.tick_size,
                ask_qty: Decimal::ONE,
            }),
        ),
        msg(kline_name, to_json(&kline(true))),
    ]
}

mod erased {
    /// Serialises any wire payload to JSON text.
    pub trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).expect("stream payloads serialise")
        }
    }
}

async fn raw_none(
    app: Data<App>,
    req: HttpRequest,
    body: Payload,
) -> actix_web::Result<HttpResponse> {
    connect(app, &req, body, Vec::new(), false)
}

async fn raw(
    app: Data<App>,
    req: HttpRequest,
    body: Payload,
    path: web::Path<String>,
) -> actix_web::Result<HttpResponse> {
    let streams = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    connect(app, &req, body, streams, false)
}

#[derive(Deserialize)]
struct CombinedQuery {
    #[serde(default)]
    streams: String,
}

async fn combined(
    app: Data<App>,
    req: HttpRequest,
    body: Payload,
    query: web::Query<CombinedQuery>,
) -> actix_web::Result<HttpResponse> {
    let streams = query
        .streams
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    connect(app, &req, body, streams, true)
}

/// A client's request on an open connection.
#[derive(Deserialize)]
struct Request {
    method: String,
    #[serde(default)]
    params: Vec<String>,
    id: serde_json::Value,
}

fn connect(
    app: Data<App>,
    req: &HttpRequest,
    body: Payload,
    streams: Vec<String>,
    combined: bool,
) -> actix_web::Result<HttpResponse> {
    let (response, mut session, mut incoming) = actix_ws::handle(req, body)?;
    let mut events = app.events.subscribe();
    let mut subscribed: BTreeSet<String> = streams.iter().map(|s| s.to_ascii_lowercase()).collect();
    let ping_every = Duration::from_millis(app.settings.websocket.ping_interval_ms);
    let pong_timeout = Duration::from_millis(app.settings.websocket.pong_timeout_ms);
    tracing::info!(?streams, combined, "websocket connected");
    actix_web::rt::spawn(async move {
        let mut ping = actix_web::rt::time::interval(ping_every);
        ping.tick().await;
        let mut last_pong = Instant::now();
        let reason = loop {
            tokio::select! {
                _ = ping.tick() => {
                    if last_pong.elapsed() > pong_timeout {
                        let _ = session.clone().close(None).await;
                        break "no pong within the timeout";
                    }
                    if session.ping(b"keel-sim").await.is_err() {
                        break "closed";
                    }
                }
                event = events.recv() => match event {
                    Ok(WsEvent::Bar(msgs)) => {
                        let mut failed = false;
                        for m in msgs.iter().filter(|m| subscribed.contains(&m.key)) {
                            let text = if combined {
                                format!("{{\"stream\":\"{}\",\"data\":{}}}", m.name, m.payload)
                            } else {
                                m.payload.clone()
                            };
                            if session.text(text).await.is_err() {
                                failed = true;
                                break;
                            }
                        }
                        if failed {
                            break "closed";
                        }
                    }
                    Ok(WsEvent::Drop) => {
                        let _ = session.clone().close(None).await;
                        break "dropped by the drop_ws fault";
                    }
                    Err(RecvError::Lagged(n)) => tracing::warn!(missed = n, "a websocket client lags: bars skipped"),
                    Err(RecvError::Closed) => break "server stopping",
                },
                msg = incoming.recv() => match msg {
                    Some(Ok(Message::Ping(bytes))) => {
                        if session.pong(&bytes).await.is_err() {
                            break "closed";
                        }
                    }
                    Some(Ok(Message::Pong(_))) => last_pong = Instant::now(),
                    Some(Ok(Message::Text(text))) => {
                        let reply = answer(&text, &mut subscribed);
                        if session.text(reply).await.is_err() {
                            break "closed";
                        }
                    }
                    Some(Ok(Message::Close(_))) | None => break "closed by the client",
                    Some(Err(e)) => {
                        tracing::info!(error = %e, "websocket protocol error");
                        break "protocol error";
                    }
                    Some(Ok(_)) => {}
                },
            }
        };
        tracing::info!(reason, "websocket closed");
    });
    Ok(response)
}

/// The reply to a `SUBSCRIBE`, `UNSUBSCRIBE` or `LIST_SUBSCRIPTIONS` request.
fn answer(text: &str, subscribed: &mut BTreeSet<String>) -> String {
    let Ok(req) = serde_json::from_str::<Request>(text) else {
        return r#"{"error":{"code":2,"msg":"Invalid request: not a JSON request with method, params and id"},"id":null}"#.into();
    };
    let result = match req.method.as_str() {
        "SUBSCRIBE" => {
            subscribed.extend(req.params.iter().map(|s| s.to_ascii_lowercase()));
            serde_json::Value::Null
        }
        "UNSUBSCRIBE" => {
            for p in &req.params {
                subscribed.remove(&p.to_ascii_lowercase());
            }
            serde_json::Value::Null
        }
        "LIST_SUBSCRIPTIONS" => serde_json::json!(subscribed.iter().collect::<Vec<_>>()),
        other => {
            return serde_json::json!({"error": {"code": 2, "msg": format!("Invalid request: unknown method {other}")}, "id": req.id}).to_string();
        }
    };
    serde_json::json!({"result": result, "id": req.id}).to_string()
}

/// Closes every connection every `drop_ws_every_ms` while that fault is set.
pub async fn drop_timer(app: Data<App>) {
    loop {
        let every = unpoisoned(&app.faults).drop_ws_every_ms;
        match every {
            None => actix_web::rt::time::sleep(Duration::from_millis(100)).await,
            Some(ms) => {
                actix_web::rt::time::sleep(Duration::from_millis(ms)).await;
                if unpoisoned(&app.faults).drop_ws_every_ms.is_some() {
                    let _ = app.events.send(WsEvent::Drop);
                }
            }
        }
    }
}
