//! `BinanceClient`: Binance spot REST for keel (and the `keel sim-exchange` server, which
//! speaks the same protocol).
//!
//! - **Signing**: signed endpoints carry their parameters in the query string, then
//!   `recvWindow`, `timestamp` and `&signature=` (HMAC-SHA256 of exactly that text, see
//!   [`Signer`](crate::Signer)); the key goes in `X-MBX-APIKEY`.
//! - **Time sync**: `timestamp` is the local clock plus an offset measured from
//!   `GET /api/v3/time` ([`BinanceClient::sync_time`], called by [`BinanceClient::connect`]
//!   after exchangeInfo has given the weight limit).
//!   A `-1021` refusal (nothing executed) resyncs once and re-signs.
//! - **Weights**: every answer's `X-MBX-USED-WEIGHT-1M` updates the minute's usage; a request
//!   that would take it over `weight_safety × limit` waits for the next minute (never more
//!   than 60 s); the limit comes from exchangeInfo's `REQUEST_WEIGHT`. While a 429's
//!   `Retry-After` or a 418 ban lasts, nothing is sent: calls fail locally with
//!   [`VenueError::RateLimited`] / [`VenueError::Banned`].
//! - **Retries**: only idempotent reads (ping, time, exchangeInfo, klines, query, open
//!   orders, trades, account) are retried, with jittered exponential backoff honouring
//!   `Retry-After`. Orders and cancels are sent exactly once.
//!
//! # The unknown-outcome rule
//!
//! [`place_order`](BinanceClient::place_order) and [`place_oco`](BinanceClient::place_oco)
//! may end in [`VenueError::OutcomeUnknown`] (5xx, `-1007`, a timeout, a connection dropped
//! after sending). The order may exist. It must be resolved by **querying its client order
//! id, never by resending** (a client id is unique among *open* orders only, so a resend of a
//! filled order would be accepted and double the position). [`BinanceClient::resolve`] does
//! this: it waits until the request's `timestamp + recvWindow` has passed on the venue's
//! clock (after that the venue refuses the request if it is still in flight, so the answer
//! is final), then queries, retrying the query, and answers [`Resolution::Placed`] or
//! [`Resolution::NotPlaced`]. [`BinanceClient::place_order_resolved`] is place → (on
//! unknown) resolve.

mod config;
mod error;
mod market;
mod orders;
mod query;
mod resolve;
mod transport;
mod weights;

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use reqwest::header::HeaderValue;

pub use config::ClientConfig;
pub use error::{classify_status, VenueError};
#[cfg(test)]
pub(crate) use market::candles_of_page;
pub use orders::{NewOco, NewOrder, NewOrderKind, ResponseType};
pub use query::Query;
pub use resolve::{Placement, Resolution};
pub use transport::{Endpoint, Verb};
pub use weights::{Admission, WeightGate};

use crate::model::{Clock, Symbol, SystemClock, Timestamp};
use crate::{Signer, SymbolFilters};

struct Inner {
    http: reqwest::Client,
    /// The configuration, with the secret removed (it lives in `signer` only).
    cfg: ClientConfig,
    signer: Option<Signer>,
    api_key: Option<HeaderValue>,
    clock: Arc<dyn Clock>,
    offset_ms: AtomicI64,
    gate: Mutex<WeightGate>,
    filters: Mutex<HashMap<String, SymbolFilters>>,
    /// Venue-clock time at which an order request per client id ended unknown, so that
    /// [`BinanceClient::resolve`] knows when its outcome becomes final.
    order_stamps: Mutex<HashMap<String, Timestamp>>,
    sent: AtomicU64,
}

/// A Binance spot REST client. Cheap to clone (shared state: clock offset, weight budget,
/// cached filters); safe to use from many tasks.
#[derive(Clone)]
pub struct BinanceClient(Arc<Inner>);

impl fmt::Debug for BinanceClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BinanceClient")
            .field("cfg", &self.0.cfg)
            .field("signed", &self.0.signer.is_some())
            .finish_non_exhaustive()
    }
}

impl BinanceClient {
    /// A client on the system clock. Sends nothing (see [`connect`](Self::connect)).
    pub fn new(cfg: ClientConfig) -> Result<Self, VenueError> {
        Self::with_clock(cfg, Arc::new(SystemClock))
    }

    /// A client reading time from `clock` (tests).
    pub fn with_clock(mut cfg: ClientConfig, clock: Arc<dyn Clock>) -> Result<Self, VenueError> {
        let local = |reason: String| VenueError::Local {
            endpoint: "config",
            reason,
        };
        cfg.validate().map_err(local)?;
        cfg.rest_url = cfg.rest_url.trim_end_matches('/').to_string();
        let signer = cfg.signer();
        cfg.secret = None;
        let api_key = match cfg.api_key.take() {
            Some(key) => {
                let mut value = HeaderValue::from_str(&key)
                    .map_err(|_| local("api_key is not a valid header value".into()))?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .build()
            .map_err(|e| local(format!("cannot build the HTTP client: {e}")))?;
        let gate = WeightGate::new(cfg.default_weight_limit, cfg.weight_safety);
        Ok(Self(Arc::new(Inner {
            http,
            cfg,
            signer,
            api_key,
            clock,
            offset_ms: AtomicI64::new(0),
            gate: Mutex::new(gate),
            filters: Mutex::new(HashMap::new()),
            order_stamps: Mutex::new(HashMap::new()),
            sent: AtomicU64::new(0),
        })))
    }

    /// A client ready to trade `symbols`: it reads exchangeInfo for them first (the trading
    /// rules, and the venue's real weight limit — before an earlier process's usage of the
    /// minute, reported in the first answer's header, could make it wait on the default
    /// limit), then measures the clock offset (`GET /api/v3/time`).
    pub async fn connect(cfg: ClientConfig, symbols: &[Symbol]) -> Result<Self, VenueError> {
        let client = Self::new(cfg)?;
        client.exchange_info(symbols).await?;
        client.sync_time().await?;
        Ok(client)
    }

    /// The configuration (without the secret).
    pub fn config(&self) -> &ClientConfig {
        &self.0.cfg
    }

    /// The measured offset: venue clock minus local clock, ms.
    pub fn clock_offset_ms(&self) -> i64 {
        self.0.offset_ms.load(Ordering::Relaxed)
    }

    /// HTTP requests sent so far (requests refused locally are not counted).
    pub fn requests_sent(&self) -> u64 {
        self.0.sent.load(Ordering::Relaxed)
    }

    /// The per-minute weight limit in use, and the weight counted in the current minute.
    pub fn weight_usage(&self) -> (u32, u32) {
        let gate = transport::lock(&self.0.gate);
        (gate.limit(), gate.used(self.0.clock.now()))
    }
}
