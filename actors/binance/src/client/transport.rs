//! One request to the venue: the weight gate, signing with the synced timestamp, sending,
//! reading the weight header, classifying the answer; and the retry wrapper used for
//! idempotent reads only.

use std::time::Duration;

use keel_supervision::{parse_retry_after, retry_idempotent};
use reqwest::Method;
use serde::de::DeserializeOwned;
use tracing::{debug, info, warn};

use super::error::{classify_status, VenueError};
use super::query::Query;
use super::weights::Admission;
use super::BinanceClient;
use crate::codes;
use crate::model::Timestamp;
use crate::wire::ServerTime;

/// A REST endpoint: method, path, request weight, whether it is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// HTTP method.
    pub method: Verb,
    /// Path under the base URL.
    pub path: &'static str,
    /// `METHOD path`, for messages.
    pub name: &'static str,
    /// Request weight (Binance's figures for the parameters keel sends; klines' depends on
    /// the page size and is set per request).
    pub weight: u32,
    /// Whether `timestamp`, `recvWindow` and `signature` are added.
    pub signed: bool,
}

/// The HTTP methods the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// GET.
    Get,
    /// POST.
    Post,
    /// DELETE.
    Delete,
}

macro_rules! endpoints {
    ($($id:ident: $verb:ident $vname:literal $path:literal weight $w:literal $signed:literal;)*) => {
        $(
            #[doc = concat!("`", $vname, " ", $path, "`.")]
            pub const $id: Endpoint = Endpoint {
                method: Verb::$verb,
                path: $path,
                name: concat!($vname, " ", $path),
                weight: $w,
                signed: $signed,
            };
        )*
    };
}

endpoints! {
    PING: Get "GET" "/api/v3/ping" weight 1 false;
    TIME: Get "GET" "/api/v3/time" weight 1 false;
    EXCHANGE_INFO: Get "GET" "/api/v3/exchangeInfo" weight 20 false;
    KLINES: Get "GET" "/api/v3/klines" weight 2 false;
    NEW_ORDER: Post "POST" "/api/v3/order" weight 1 true;
    QUERY_ORDER: Get "GET" "/api/v3/order" weight 4 true;
    CANCEL_ORDER: Delete "DELETE" "/api/v3/order" weight 1 true;
    NEW_OCO: Post "POST" "/api/v3/orderList/oco" weight 1 true;
    QUERY_LIST: Get "GET" "/api/v3/orderList" weight 4 true;
    CANCEL_LIST: Delete "DELETE" "/api/v3/orderList" weight 1 true;
    OPEN_ORDERS: Get "GET" "/api/v3/openOrders" weight 6 true;
    MY_TRADES: Get "GET" "/api/v3/myTrades" weight 20 true;
    ACCOUNT: Get "GET" "/api/v3/account" weight 20 true;
}

impl BinanceClient {
    /// The venue's clock as this client estimates it (local clock + measured offset).
    pub fn server_now(&self) -> Timestamp {
        self.0
            .clock
            .now()
            .plus_ms(self.0.offset_ms.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Measures the offset between the local clock and the venue's (`GET /api/v3/time`,
    /// halving the round trip) and uses it for every later `timestamp`.
    pub async fn sync_time(&self) -> Result<i64, VenueError> {
        let before = self.0.clock.now();
        let time: ServerTime = self.read(TIME, Query::new()).await?;
        let after = self.0.clock.now();
        let offset = time.server_time - (before.0 + after.0) / 2;
        self.0
            .offset_ms
            .store(offset, std::sync::atomic::Ordering::Relaxed);
        info!(offset_ms = offset, "binance: clock offset measured");
        Ok(offset)
    }

    /// An idempotent read, retried on transient failures (unknown outcome, unreachable, rate
    /// limited) with jittered exponential backoff, waiting at least any `Retry-After`.
    pub(super) async fn read<T: DeserializeOwned>(
        &self,
        ep: Endpoint,
        params: Query,
    ) -> Result<T, VenueError> {
        let attempt = || async {
            let answer = self.send(ep, &params).await?;
            decode(ep, &answer)
        };
        retry_idempotent(attempt, &self.0.cfg.read_retry_policy(), |e: &VenueError, wait| {
            warn!(error = %e, wait_ms = wait.as_millis() as u64, "binance: read failed, retrying");
        })
        .await
    }

    /// A request with an effect (order, cancel): sent once, never retried. A 2xx body that
    /// cannot be read leaves the outcome unknown (the venue accepted something).
    pub(super) async fn write<T: DeserializeOwned>(
        &self,
        ep: Endpoint,
        params: &Query,
    ) -> Result<T, VenueError> {
        let answer = self.send(ep, params).await?;
        decode(ep, &answer).map_err(|e| VenueError::OutcomeUnknown {
            endpoint: ep.name,
            reason: format!("the venue answered 2xx but {e}"),
        })
    }

    /// One request; a signed one refused with `-1021` (timestamp outside recvWindow: the
    /// venue did nothing) is re-signed once after resyncing the clock.
    pub(super) async fn send(&self, ep: Endpoint, params: &Query) -> Result<Vec<u8>, VenueError> {
        match self.send_once(ep, params).await {
            Err(e) if ep.signed && e.code() == Some(codes::INVALID_TIMESTAMP) => {
                warn!(
                    endpoint = ep.name,
                    "binance: -1021, resyncing the clock and resending once"
                );
                // Boxed: sync_time reads through `send` too.
                Box::pin(self.sync_time()).await?;
                self.send_once(ep, params).await
            }
            other => other,
        }
    }

    async fn send_once(&self, ep: Endpoint, params: &Query) -> Result<Vec<u8>, VenueError> {
        self.admit(ep).await?;
        let inner = &self.0;
        let mut url = String::with_capacity(inner.cfg.rest_url.len() + 256);
        url.push_str(&inner.cfg.rest_url);
        url.push_str(ep.path);
        let mut request;
        if ep.signed {
            let signer = inner.signer.as_ref().ok_or_else(|| VenueError::Local {
                endpoint: ep.name,
                reason: "a signed endpoint needs api_key and secret".into(),
            })?;
            let mut q = params.clone();
            q.push("recvWindow", inner.cfg.recv_window_ms)
                .push("timestamp", self.server_now().0);
            url.push('?');
            url.push_str(&signer.signed_query(q.as_str()));
            request = inner.http.request(method(ep.method), &url);
        } else {
            if !params.as_str().is_empty() {
                url.push('?');
                url.push_str(params.as_str());
            }
            request = inner.http.request(method(ep.method), &url);
        }
        if let Some(key) = &inner.api_key {
            request = request.header("X-MBX-APIKEY", key.clone());
        }
        inner
            .sent
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let response = request.send().await.map_err(|e| transport_error(ep, &e))?;
        let status = response.status().as_u16();
        let headers = response.headers();
        let now = inner.clock.now();
        if let Some(used) = headers
            .get("x-mbx-used-weight-1m")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u32>().ok())
        {
            lock(&inner.gate).observe_used(now, used);
        }
        let retry_after = headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = response
            .bytes()
            .await
            .map_err(|e| transport_error(ep, &e))?;
        if (200..300).contains(&status) {
            debug!(endpoint = ep.name, status, "binance: answer");
            return Ok(body.to_vec());
        }
        let err = classify_status(ep.name, status, &body, retry_after, now, DEFAULT_PAUSE);
        match &err {
            VenueError::RateLimited { retry_after, .. } => {
                lock(&inner.gate).rate_limited(now, *retry_after)
            }
            VenueError::Banned { until, .. } => lock(&inner.gate).banned(*until),
            _ => {}
        }
        warn!(error = %err, "binance: request failed");
        Err(err)
    }

    /// Waits until the weight budget admits `ep`; refuses locally while a pause is in force.
    async fn admit(&self, ep: Endpoint) -> Result<(), VenueError> {
        loop {
            let admission = lock(&self.0.gate).admit(self.0.clock.now(), ep.weight);
            match admission {
                Admission::Send => return Ok(()),
                Admission::WaitFor(wait) => {
                    info!(
                        endpoint = ep.name,
                        wait_ms = wait.as_millis() as u64,
                        "binance: weight budget spent for this minute, waiting"
                    );
                    tokio::time::sleep(wait).await;
                }
                Admission::RateLimited(retry_after) => {
                    return Err(VenueError::RateLimited {
                        endpoint: ep.name,
                        retry_after,
                    })
                }
                Admission::Banned(until) => {
                    return Err(VenueError::Banned {
                        endpoint: ep.name,
                        until,
                    })
                }
                Admission::TooHeavy { weight, budget } => {
                    return Err(VenueError::Local {
                        endpoint: ep.name,
                        reason: format!("weight {weight} exceeds the per-minute budget {budget}"),
                    })
                }
            }
        }
    }
}

/// A 429/418 without a `Retry-After` pauses this long.
const DEFAULT_PAUSE: Duration = Duration::from_secs(60);

fn method(verb: Verb) -> Method {
    match verb {
        Verb::Get => Method::GET,
        Verb::Post => Method::POST,
        Verb::Delete => Method::DELETE,
    }
}

pub(super) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A transport failure: a failed connect sent nothing; anything after that may have
/// reached the venue. The URL (which holds the signature) is never quoted.
fn transport_error(ep: Endpoint, e: &reqwest::Error) -> VenueError {
    let text = e.without_url_ref();
    if e.is_connect() {
        VenueError::Unreachable {
            endpoint: ep.name,
            reason: text,
        }
    } else if e.is_timeout() {
        VenueError::OutcomeUnknown {
            endpoint: ep.name,
            reason: format!("no answer within the timeout ({text})"),
        }
    } else {
        VenueError::OutcomeUnknown {
            endpoint: ep.name,
            reason: format!("connection failed after sending ({text})"),
        }
    }
}

trait WithoutUrl {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrl for reqwest::Error {
    fn without_url_ref(&self) -> String {
        // `reqwest::Error`'s Display includes the URL (and so the signature); walk the
        // sources instead, which describe the cause without it.
        let mut parts = Vec::new();
        let mut source = std::error::Error::source(self);
        while let Some(s) = source {
            parts.push(s.to_string());
            source = s.source();
        }
        if parts.is_empty() {
            if self.is_timeout() {
                "timed out".into()
            } else {
                "transport error".into()
            }
        } else {
            parts.join(": ")
        }
    }
}

fn decode<T: DeserializeOwned>(ep: Endpoint, body: &[u8]) -> Result<T, VenueError> {
    serde_json::from_slice(body).map_err(|e| VenueError::Decode {
        endpoint: ep.name,
        reason: format!(
            "{e} in `{}`",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        ),
    })
}

impl BinanceClient {
    /// The parameters of a signed WebSocket API request (`userDataStream.subscribe.signature`):
    /// `apiKey`, `recvWindow`, `timestamp` on the venue's clock, and `signature` over them
    /// sorted by name. The key and secret stay inside the client otherwise.
    pub fn signed_ws_params(
        &self,
    ) -> Result<serde_json::Map<String, serde_json::Value>, VenueError> {
        let inner = &self.0;
        let missing = || VenueError::Local {
            endpoint: "ws-api",
            reason: "the user data stream needs api_key and secret".into(),
        };
        let signer = inner.signer.as_ref().ok_or_else(missing)?;
        let key = inner
            .api_key
            .as_ref()
            .and_then(|k| k.to_str().ok())
            .ok_or_else(missing)?;
        let mut params = serde_json::Map::new();
        params.insert("apiKey".into(), key.into());
        params.insert("recvWindow".into(), inner.cfg.recv_window_ms.into());
        params.insert("timestamp".into(), self.server_now().0.into());
        let payload = crate::wire::user::signature_payload(&params);
        params.insert("signature".into(), signer.sign(&payload).into());
        Ok(params)
    }
}
