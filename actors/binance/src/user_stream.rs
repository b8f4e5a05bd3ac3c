//! `UserStream`: the account's order updates, pushed by the venue's WebSocket API
//! (`/ws-api/v3`, `userDataStream.subscribe.signature`; the REST listenKey flow is gone on
//! spot), through a tokio mpsc channel.
//!
//! - Connects, subscribes with the client's key and an HMAC signature, and waits for the
//!   answer; a refusal (bad key, bad signature, clock) is logged with the venue's code and
//!   retried after the backoff.
//! - Every successful subscription is told to the consumer as [`UserNews::Resync`] before
//!   any event: what happened while keel was not subscribed is only in the venue's REST
//!   answers, so the consumer reads them again (back-fill from the last trade it applied).
//! - Every `executionReport` becomes a [`UserNews::Order`]. A frame keel cannot read is
//!   logged with an excerpt and told as [`UserNews::Resync`] too: it may have been a fill.
//! - Answers pings with pongs; a connection silent for longer than `silence` is dead.
//!   Reconnects with jittered exponential backoff after a drop, a close, an error, silence or
//!   the subscription's end; the backoff restarts after a subscription that worked.
//!
//! The stream only says *that* an order changed. The consumer learns *what* changed from
//! the venue's trades and order status, deduplicated by trade id, so an event missed in a
//! disconnect can never skip a fill and an event seen twice can never apply one twice.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tracing::{debug, info, warn};

use crate::client::BinanceClient;
use crate::wire::user::{
    ExecutionType, Subscribed, UserEvent, UserEventFrame, WsApiRequest, WsApiResponse,
    SUBSCRIBE_SIGNATURE,
};
use crate::wire::OrderState;

/// Where the WebSocket API is and how patiently to keep it.
#[derive(Debug, Clone)]
pub struct UserStreamConfig {
    /// The WebSocket API's URL, e.g. `wss://ws-api.binance.com:443/ws-api/v3` or
    /// `ws://127.0.0.1:9100/ws-api/v3`.
    pub url: String,
    /// A connection with no message (data or ping) for this long is dead (Binance pings every
    /// 20 s).
    pub silence: Duration,
    /// First reconnect delay (doubling, jittered).
    pub reconnect_min: Duration,
    /// Largest reconnect delay.
    pub reconnect_max: Duration,
    /// Capacity of the news channel.
    pub capacity: usize,
}

impl UserStreamConfig {
    /// The stream of `url`, with the defaults otherwise.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            silence: Duration::from_secs(60),
            reconnect_min: Duration::from_millis(200),
            reconnect_max: Duration::from_secs(30),
            capacity: 1024,
        }
    }
}

/// What the stream tells its consumer.
#[derive(Debug, Clone, PartialEq)]
pub enum UserNews {
    /// Read every symbol's trades and orders again: a subscription (re)started, or a frame
    /// could not be read. Says why.
    Resync(&'static str),
    /// An order changed.
    Order(OrderUpdate),
}

/// One `executionReport`, as much of it as the consumer needs to know where to look.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderUpdate {
    /// The symbol, as the venue writes it.
    pub symbol: String,
    /// The venue's order id.
    pub order_id: u64,
    /// What happened.
    pub execution_type: ExecutionType,
    /// The order's status after it.
    pub status: OrderState,
    /// The trade, when it executed.
    pub trade_id: Option<u64>,
    /// The venue's event time (ms, its clock).
    pub event_time: i64,
    /// When keel read it.
    pub received: Instant,
}

/// Counters of a running user stream.
#[derive(Debug, Default)]
pub struct UserStreamStats {
    /// Subscriptions that succeeded.
    pub subscribed: AtomicU64,
    /// Subscriptions the venue refused.
    pub refused: AtomicU64,
    /// `executionReport`s delivered.
    pub order_updates: AtomicU64,
    /// Frames that could not be read.
    pub malformed: AtomicU64,
}

/// A running user stream; the task stops when this is dropped or the receiver is.
#[derive(Debug)]
pub struct UserStream {
    task: JoinHandle<()>,
    stats: Arc<UserStreamStats>,
}

impl Drop for UserStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl UserStream {
    /// Starts the stream on the current tokio runtime; `client` signs the subscription (it
    /// must hold the key and secret, and know the venue's clock).
    pub fn spawn(cfg: UserStreamConfig, client: BinanceClient) -> (Self, mpsc::Receiver<UserNews>) {
        let (tx, rx) = mpsc::channel(cfg.capacity.max(1));
        let stats = Arc::new(UserStreamStats::default());
        let task = tokio::spawn(run(cfg, client, tx, stats.clone()));
        (Self { task, stats }, rx)
    }

    /// The stream's counters.
    pub fn stats(&self) -> &UserStreamStats {
        &self.stats
    }
}

/// Why a connection ended.
#[derive(Debug)]
enum Ended {
    /// Reconnect; `subscribed` says whether the subscription had worked (the backoff starts
    /// over).
    Dropped {
        why: String,
        subscribed: bool,
    },
    ConsumerGone,
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn run(
    cfg: UserStreamConfig,
    client: BinanceClient,
    tx: mpsc::Sender<UserNews>,
    stats: Arc<UserStreamStats>,
) {
    let backoff = || {
        ExponentialBuilder::default()
            .with_min_delay(cfg.reconnect_min)
            .with_max_delay(cfg.reconnect_max)
            .without_max_times()
            .with_jitter()
            .build()
    };
    let mut delays = backoff();
    let mut attempt = 0u64;
    loop {
        attempt += 1;
        let url = cfg.url.as_str();
        match tokio_tungstenite::connect_async(url).await {
            Ok((ws, _)) => {
                debug!(url, "user data stream connected");
                let mut conn = Connection {
                    ws,
                    cfg: &cfg,
                    tx: &tx,
                    stats: &stats,
                };
                match conn.serve(&client, attempt).await {
                    Ended::ConsumerGone => return,
                    Ended::Dropped { why, subscribed } => {
                        if tx.is_closed() {
                            return;
                        }
                        warn!(url, reason = why, "user data stream dropped; reconnecting (orders are read over REST meanwhile)");
                        if subscribed {
                            delays = backoff();
                        }
                    }
                }
            }
            Err(e) => warn!(url, error = %e, "user data stream: cannot connect"),
        }
        let delay = delays.next().unwrap_or(cfg.reconnect_max);
        tokio::time::sleep(delay).await;
    }
}

struct Connection<'a> {
    ws: Socket,
    cfg: &'a UserStreamConfig,
    tx: &'a mpsc::Sender<UserNews>,
    stats: &'a UserStreamStats,
}

impl Connection<'_> {
    /// Subscribes, then reads events until the connection ends.
    async fn serve(&mut self, client: &BinanceClient, attempt: u64) -> Ended {
        let dropped = |why: String, subscribed: bool| Ended::Dropped { why, subscribed };
        let id = format!("keel-subscribe-{attempt}");
        let params = match client.signed_ws_params() {
            Ok(p) => p,
            Err(e) => return dropped(e.to_string(), false),
        };
        let request = WsApiRequest {
            id: id.clone().into(),
            method: SUBSCRIBE_SIGNATURE.into(),
            params,
        };
        let text = serde_json::to_string(&request).expect("a request serialises");
        if let Err(e) = self.ws.send(Message::text(text)).await {
            return dropped(format!("cannot subscribe: {e}"), false);
        }
        let subscription = loop {
            let text = match self.next_text().await {
                Ok(text) => text,
                Err(why) => return dropped(why, false),
            };
            let Ok(answer) = serde_json::from_str::<WsApiResponse>(&text) else {
                debug!(
                    frame = excerpt(&text),
                    "user data stream: frame before the subscription's answer ignored"
                );
                continue;
            };
            if answer.id.as_str() != Some(id.as_str()) {
                continue;
            }
            match (answer.status, answer.result, answer.error) {
                (200, Some(result), _) => match serde_json::from_value::<Subscribed>(result) {
                    Ok(s) => break s.subscription_id,
                    Err(e) => {
                        return dropped(format!("unreadable subscription answer: {e}"), false)
                    }
                },
                (status, _, error) => {
                    self.stats.refused.fetch_add(1, Ordering::Relaxed);
                    let (code, msg) = error.map_or((0, String::new()), |e| (e.code, e.msg));
                    warn!(
                        status,
                        code, msg, "the venue refused the user data stream subscription"
                    );
                    return dropped(
                        format!("subscription refused: {status} {code} {msg}"),
                        false,
                    );
                }
            }
        };
        self.stats.subscribed.fetch_add(1, Ordering::Relaxed);
        info!(
            url = self.cfg.url,
            subscription, "user data stream subscribed"
        );
        if self.tx.send(UserNews::Resync("subscribed")).await.is_err() {
            return Ended::ConsumerGone;
        }
        loop {
            let text = match self.next_text().await {
                Ok(text) => text,
                Err(why) => return dropped(why, true),
            };
            match read_frame(&text) {
                Frame::Order(update) => {
                    self.stats.order_updates.fetch_add(1, Ordering::Relaxed);
                    debug!(symbol = update.symbol, order_id = update.order_id, execution = ?update.execution_type, trade_id = ?update.trade_id, "order update");
                    if self.tx.send(UserNews::Order(update)).await.is_err() {
                        return Ended::ConsumerGone;
                    }
                }
                Frame::Terminated => {
                    return dropped("the venue ended the subscription".into(), true)
                }
                Frame::Other => {}
                Frame::Unreadable(error) => {
                    self.stats.malformed.fetch_add(1, Ordering::Relaxed);
                    warn!(%error, frame = excerpt(&text), "user data stream: unreadable frame; reading the orders over REST instead");
                    if self
                        .tx
                        .send(UserNews::Resync("unreadable frame"))
                        .await
                        .is_err()
                    {
                        return Ended::ConsumerGone;
                    }
                }
            }
        }
    }

    /// The next text frame; pings are answered on the way. `Err` says why the connection
    /// is over.
    async fn next_text(&mut self) -> Result<String, String> {
        loop {
            let next = match tokio::time::timeout(self.cfg.silence, self.ws.next()).await {
                Err(_) => return Err(format!("silent for {:?}", self.cfg.silence)),
                Ok(None) => return Err("connection closed".into()),
                Ok(Some(Err(e))) => return Err(e.to_string()),
                Ok(Some(Ok(msg))) => msg,
            };
            match next {
                Message::Text(text) => return Ok(text.to_string()),
                Message::Ping(payload) => {
                    if let Err(e) = self.ws.send(Message::Pong(payload)).await {
                        return Err(format!("cannot pong: {e}"));
                    }
                }
                Message::Close(frame) => return Err(format!("closed: {frame:?}")),
                _ => {}
            }
        }
    }
}

/// What one text frame after the subscription is.
#[derive(Debug)]
enum Frame {
    Order(OrderUpdate),
    Terminated,
    /// An answer, a balance event: nothing to act on.
    Other,
    Unreadable(String),
}

fn read_frame(text: &str) -> Frame {
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return Frame::Unreadable(e.to_string()),
    };
    if value.get("event").is_none() {
        // An answer to a request (none is sent after the subscription): nothing to do.
        return Frame::Other;
    }
    let frame: UserEventFrame = match serde_json::from_value(value) {
        Ok(f) => f,
        // An event type keel does not know is not an order's: Binance adds event types.
        Err(e) if !text.contains("\"executionReport\"") => {
            debug!(error = %e, "user data stream: event of another kind ignored");
            return Frame::Other;
        }
        Err(e) => return Frame::Unreadable(e.to_string()),
    };
    match frame.event {
        UserEvent::ExecutionReport(report) => Frame::Order(OrderUpdate {
            symbol: report.symbol,
            order_id: report.order_id,
            execution_type: report.execution_type,
            status: report.status,
            trade_id: u64::try_from(report.trade_id).ok(),
            event_time: report.event_time,
            received: Instant::now(),
        }),
        UserEvent::Terminated { .. } => Frame::Terminated,
        UserEvent::AccountPosition(_) | UserEvent::BalanceUpdate(_) => Frame::Other,
    }
}

fn excerpt(text: &str) -> String {
    text.chars().take(160).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRADE: &str = r#"{"subscriptionId":0,"event":{"e":"executionReport","E":1499405658658,"s":"ETHBTC","c":"mUvoqJxFIILMdfAW5iGSOW","S":"BUY","o":"LIMIT","f":"GTC","q":"1.00000000","p":"0.10264410","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"TRADE","X":"PARTIALLY_FILLED","r":"NONE","i":4293153,"l":"0.40000000","z":"0.40000000","L":"0.10264410","n":"0.00040000","N":"ETH","T":1499405658657,"t":718,"I":8641984,"w":false,"m":true,"M":false,"O":1499405658657,"Z":"0.04105764","Y":"0.04105764","Q":"0.00000000","W":1499405658657,"V":"NONE"}}"#;

    #[test]
    fn an_execution_report_says_which_order_and_trade() {
        let Frame::Order(update) = read_frame(TRADE) else {
            panic!("not an order update");
        };
        assert_eq!(update.symbol, "ETHBTC");
        assert_eq!(update.order_id, 4293153);
        assert_eq!(update.trade_id, Some(718));
        assert_eq!(update.execution_type, ExecutionType::Trade);
    }

    #[test]
    fn an_update_without_a_trade_has_no_trade_id() {
        let new = TRADE
            .replace(r#""x":"TRADE""#, r#""x":"NEW""#)
            .replace(r#""t":718"#, r#""t":-1"#);
        let Frame::Order(update) = read_frame(&new) else {
            panic!("not an order update");
        };
        assert_eq!(update.trade_id, None);
    }

    #[test]
    fn a_damaged_execution_report_is_unreadable_not_ignored() {
        // A fill keel cannot read must make it look at the venue, not pass unnoticed.
        let damaged = TRADE.replace(r#""l":"0.40000000""#, r#""l":"NaN""#);
        assert!(matches!(read_frame(&damaged), Frame::Unreadable(_)));
        assert!(matches!(read_frame("{not json"), Frame::Unreadable(_)));
    }

    #[test]
    fn balance_events_answers_and_unknown_events_need_nothing() {
        let position =
            r#"{"subscriptionId":0,"event":{"e":"outboundAccountPosition","E":1,"u":1,"B":[]}}"#;
        assert!(matches!(read_frame(position), Frame::Other));
        let answer = r#"{"id":"x","status":200,"result":{}}"#;
        assert!(matches!(read_frame(answer), Frame::Other));
        let unknown = r#"{"subscriptionId":0,"event":{"e":"listStatus","E":1}}"#;
        assert!(matches!(read_frame(unknown), Frame::Other));
        let ended = r#"{"subscriptionId":0,"event":{"e":"eventStreamTerminated","E":1}}"#;
        assert!(matches!(read_frame(ended), Frame::Terminated));
    }
}
