//! `MarketStream`: closed klines of several symbols from a combined market stream, each
//! delivered exactly once and in order per symbol, through a tokio mpsc channel.
//!
//! - Connects to `{ws_url}/stream?streams=btcusdt@kline_1h/ethusdt@kline_1h`.
//! - Answers pings with pongs; a connection silent for longer than `silence` is dead.
//! - Reconnects with jittered exponential backoff after a drop, a close, an error, silence
//!   or a `serverShutdown` event; the backoff restarts after a connection that worked.
//! - On every (re)connect, before reading the socket, back-fills over REST klines the bars
//!   closed since the last one delivered per symbol (symbols with nothing delivered yet and
//!   no [`StreamConfig::resume_after`] are not back-filled: the stream starts with the first
//!   closed bar it sees). A live bar that skips ahead triggers the same back-fill of the
//!   gap. Duplicates (same open time) are dropped quietly, older bars dropped and logged.
//! - Only closed bars (`x == true`) are delivered. Malformed messages are logged with an
//!   excerpt and skipped.
//!
//! The delivery decisions are the pure [`Sequencer`]; the hot-path parser is
//! [`parse_kline`].

mod decimal;
mod digits;
mod fast;
mod json;
mod parse;
#[cfg(test)]
mod parse_props;
mod sequencer;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tracing::{debug, info, warn};

pub use parse::{is_server_shutdown, parse_kline, ClosedKline, KlineError, KlineErrorKind};
pub use sequencer::{Sequencer, Verdict};

use super::client::{BinanceClient, VenueError};
use crate::model::{Candle, Interval, MarketClock, Symbol, Timestamp};

/// What to stream and how patiently.
#[derive(Debug, Clone)]
pub struct StreamConfig {
    /// WebSocket base, e.g. `wss://stream.binance.com:9443` or `ws://127.0.0.1:9101`.
    pub ws_url: String,
    /// The symbols.
    pub symbols: Vec<Symbol>,
    /// The bar interval.
    pub interval: Interval,
    /// A connection with no message (data or ping) for this long is dead (Binance pings
    /// every 20 s).
    pub silence: Duration,
    /// First reconnect delay (doubling, jittered).
    pub reconnect_min: Duration,
    /// Largest reconnect delay.
    pub reconnect_max: Duration,
    /// Open time of the last bar the consumer already has, per symbol: the first connect
    /// back-fills from the bar after it.
    pub resume_after: HashMap<Symbol, Timestamp>,
    /// Capacity of the candle channel.
    pub capacity: usize,
    /// Moved to the close of every bar the venue is seen to have closed, before any older
    /// bar is delivered: how old a delivered bar is, in the market's own time.
    pub market_clock: Arc<MarketClock>,
}

impl StreamConfig {
    /// A stream of `symbols` at `interval` from `ws_url`, with the defaults otherwise.
    pub fn new(ws_url: impl Into<String>, symbols: Vec<Symbol>, interval: Interval) -> Self {
        Self {
            ws_url: ws_url.into(),
            symbols,
            interval,
            silence: Duration::from_secs(60),
            reconnect_min: Duration::from_millis(200),
            reconnect_max: Duration::from_secs(30),
            resume_after: HashMap::new(),
            capacity: 1024,
            market_clock: Arc::default(),
        }
    }

    /// The combined-stream URL.
    pub fn url(&self) -> String {
        let streams: Vec<String> = self
            .symbols
            .iter()
            .map(|s| {
                format!(
                    "{}@kline_{}",
                    s.as_str().to_ascii_lowercase(),
                    self.interval
                )
            })
            .collect();
        format!(
            "{}/stream?streams={}",
            self.ws_url.trim_end_matches('/'),
            streams.join("/")
        )
    }
}

/// Counters of a running stream.
#[derive(Debug, Default)]
pub struct StreamStats {
    /// Connections established.
    pub connects: AtomicU64,
    /// Bars delivered (live and back-filled).
    pub delivered: AtomicU64,
    /// Bars delivered from REST back-fill.
    pub backfilled: AtomicU64,
    /// Messages skipped as malformed.
    pub malformed: AtomicU64,
}

/// A running market stream; the task stops when this is dropped or the receiver is.
#[derive(Debug)]
pub struct MarketStream {
    task: JoinHandle<()>,
    stats: Arc<StreamStats>,
}

impl Drop for MarketStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MarketStream {
    /// Starts streaming on the current tokio runtime; closed candles arrive on the receiver.
    /// `client` serves the REST back-fill.
    pub fn spawn(cfg: StreamConfig, client: BinanceClient) -> (Self, mpsc::Receiver<Candle>) {
        let (tx, rx) = mpsc::channel(cfg.capacity.max(1));
        let stats = Arc::new(StreamStats::default());
        let task = tokio::spawn(run(cfg, client, tx, stats.clone()));
        (Self { task, stats }, rx)
    }

    /// The stream's counters.
    pub fn stats(&self) -> &StreamStats {
        &self.stats
    }
}

/// Why a connection ended.
#[derive(Debug)]
enum Ended {
    Dropped(String),
    ConsumerGone,
}

struct Worker {
    client: BinanceClient,
    seq: Sequencer,
    /// The subscribed symbols (few: a linear scan beats hashing).
    symbols: Vec<Symbol>,
    tx: mpsc::Sender<Candle>,
    stats: Arc<StreamStats>,
    market_clock: Arc<MarketClock>,
}

async fn run(
    cfg: StreamConfig,
    client: BinanceClient,
    tx: mpsc::Sender<Candle>,
    stats: Arc<StreamStats>,
) {
    let mut seq = Sequencer::new(cfg.interval);
    for (symbol, t) in &cfg.resume_after {
        seq.resume_after(symbol.clone(), *t);
    }
    let mut w = Worker {
        client,
        seq,
        symbols: cfg.symbols.clone(),
        tx,
        stats,
        market_clock: cfg.market_clock.clone(),
    };
    let url = cfg.url();
    let backoff = || {
        ExponentialBuilder::default()
            .with_min_delay(cfg.reconnect_min)
            .with_max_delay(cfg.reconnect_max)
            .without_max_times()
            .with_jitter()
            .build()
    };
    let mut delays = backoff();
    loop {
        match tokio_tungstenite::connect_async(url.as_str()).await {
            Ok((ws, _)) => {
                w.stats.connects.fetch_add(1, Ordering::Relaxed);
                info!(url, "market stream connected");
                match w.connection(ws, &cfg).await {
                    Ended::ConsumerGone => return,
                    Ended::Dropped(why) => {
                        if w.tx.is_closed() {
                            return;
                        }
                        warn!(url, reason = why, "market stream dropped; reconnecting");
                        delays = backoff();
                    }
                }
            }
            Err(e) => warn!(url, error = %e, "market stream: cannot connect"),
        }
        let delay = delays.next().unwrap_or(cfg.reconnect_max);
        tokio::time::sleep(delay).await;
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl Worker {
    /// Back-fills, then reads the connection until it ends.
    async fn connection(&mut self, mut ws: Socket, cfg: &StreamConfig) -> Ended {
        let symbols = cfg.symbols.clone();
        for symbol in &symbols {
            if let Some(from) = self.seq.backfill_from(symbol) {
                match self.backfill(symbol, from, None).await {
                    Ok(()) => {}
                    Err(BackfillError::ConsumerGone) => return Ended::ConsumerGone,
                    Err(BackfillError::Venue(e)) => {
                        return Ended::Dropped(format!("back-fill failed: {e}"))
                    }
                }
            }
        }
        loop {
            let next = match tokio::time::timeout(cfg.silence, ws.next()).await {
                Err(_) => return Ended::Dropped(format!("silent for {:?}", cfg.silence)),
                Ok(None) => return Ended::Dropped("connection closed".into()),
                Ok(Some(Err(e))) => return Ended::Dropped(e.to_string()),
                Ok(Some(Ok(msg))) => msg,
            };
            match next {
                Message::Text(text) => {
                    if is_server_shutdown(&text) {
                        return Ended::Dropped("serverShutdown".into());
                    }
                    if let Err(gone) = self.on_text(&text).await {
                        return gone;
                    }
                }
                Message::Ping(payload) => {
                    if let Err(e) = ws.send(Message::Pong(payload)).await {
                        return Ended::Dropped(format!("cannot pong: {e}"));
                    }
                }
                Message::Close(frame) => return Ended::Dropped(format!("closed: {frame:?}")),
                _ => {}
            }
        }
    }

    async fn on_text(&mut self, text: &str) -> Result<(), Ended> {
        let excerpt = || text.chars().take(160).collect::<String>();
        let bar = match parse_kline(text) {
            Ok(Some(bar)) => bar,
            Ok(None) => return Ok(()),
            Err(e) => {
                self.stats.malformed.fetch_add(1, Ordering::Relaxed);
                warn!(
                    error = %e,
                    message = excerpt(),
                    "market stream: malformed message skipped"
                );
                return Ok(());
            }
        };
        let Some(symbol) = self.symbols.iter().find(|s| s.as_str() == bar.symbol) else {
            self.stats.malformed.fetch_add(1, Ordering::Relaxed);
            warn!(
                symbol = bar.symbol,
                "market stream: bar of an unsubscribed symbol skipped"
            );
            return Ok(());
        };
        let candle = match bar.to_candle(symbol) {
            Ok(c) => c,
            Err(e) => {
                self.stats.malformed.fetch_add(1, Ordering::Relaxed);
                warn!(
                    error = e,
                    message = excerpt(),
                    "market stream: bad bar skipped"
                );
                return Ok(());
            }
        };
        let verdict = self.seq.check(&candle);
        if verdict != Verdict::Foreign {
            self.market_clock.observe(candle.close_time());
        }
        match verdict {
            Verdict::Deliver => {}
            Verdict::Duplicate => {
                debug!(%candle.symbol, open = candle.open_time.0, "duplicate bar dropped");
                return Ok(());
            }
            Verdict::Stale => {
                warn!(%candle.symbol, open = candle.open_time.0, "bar older than the last delivered dropped");
                return Ok(());
            }
            Verdict::Foreign => {
                warn!(%candle.symbol, open = candle.open_time.0, interval = %candle.interval, "bar of another interval dropped");
                return Ok(());
            }
            Verdict::Gap { from, to } => {
                info!(%candle.symbol, from = from.0, to = to.0, "gap in the live stream; back-filling");
                match self.backfill(&candle.symbol, from, Some(to)).await {
                    Ok(()) => {}
                    Err(BackfillError::ConsumerGone) => return Err(Ended::ConsumerGone),
                    Err(BackfillError::Venue(e)) => {
                        // Not delivering this bar: the reconnect's back-fill will.
                        return Err(Ended::Dropped(format!("gap back-fill failed: {e}")));
                    }
                }
                if let Verdict::Gap { from, to } = self.seq.check(&candle) {
                    warn!(%candle.symbol, from = from.0, to = to.0, "the venue has no bars in this gap");
                }
            }
        }
        self.deliver(candle, false)
            .await
            .map_err(|_| Ended::ConsumerGone)
    }

    /// Delivers the closed bars of `symbol` from `from` (to `to`) over REST, page by page.
    /// Without `to` (a reconnect's back-fill), the market clock first learns the venue's
    /// newest closed bar, so that every back-filled bar is known to be as old as it is.
    async fn backfill(
        &mut self,
        symbol: &Symbol,
        mut from: Timestamp,
        to: Option<Timestamp>,
    ) -> Result<(), BackfillError> {
        let now = self.client.server_time().await?;
        if to.is_none() {
            let newest = self
                .client
                .klines(symbol, self.seq.interval(), None, None, 2)
                .await?;
            if let Some(close) = newest
                .iter()
                .map(Candle::close_time)
                .filter(|close| *close <= now)
                .max()
            {
                self.market_clock.observe(close);
            }
        }
        loop {
            let page = self
                .client
                .klines(symbol, self.seq.interval(), Some(from), to, 1000)
                .await?;
            let full = page.len() == 1000;
            let mut open_bar_seen = false;
            for candle in page {
                if candle.close_time() > now {
                    open_bar_seen = true;
                    break;
                }
                match self.seq.check(&candle) {
                    Verdict::Deliver | Verdict::Gap { .. } => {
                        from = candle.open_time.plus_ms(self.seq.interval().millis());
                        self.deliver(candle, true)
                            .await
                            .map_err(|_| BackfillError::ConsumerGone)?;
                    }
                    _ => {}
                }
            }
            if !full || open_bar_seen {
                return Ok(());
            }
        }
    }

    async fn deliver(&mut self, candle: Candle, backfilled: bool) -> Result<(), ()> {
        self.seq.commit(&candle);
        self.stats.delivered.fetch_add(1, Ordering::Relaxed);
        if backfilled {
            self.stats.backfilled.fetch_add(1, Ordering::Relaxed);
        }
        self.tx.send(candle).await.map_err(|_| ())
    }
}

enum BackfillError {
    Venue(VenueError),
    ConsumerGone,
}

impl From<VenueError> for BackfillError {
    fn from(e: VenueError) -> Self {
        BackfillError::Venue(e)
    }
}
