//! Injected faults: what `[faults]` sets at start and `POST /admin/faults` changes at run time
//! (the same JSON/TOML shape; absent keys are left as they are). Test and ops use only.

use serde::{Deserialize, Serialize};

/// `http_5xx`: the next `count` order-creating or cancelling requests answer HTTP 5xx with
/// `{"code":-1000}`. With `execute` the action was carried out first (the outcome is unknown
/// to the client, as with Binance's 5xx).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http5xx {
    /// How many requests still fail.
    pub count: u32,
    /// Whether the action is carried out before the error.
    #[serde(default)]
    pub execute: bool,
    /// The status answered: 500 (default) or 503.
    #[serde(default = "default_5xx")]
    pub status: u16,
}

fn default_5xx() -> u16 {
    500
}

/// `rate_limit`: the next `count` REST requests answer 429 `-1003` with `Retry-After:
/// retry_after_s`; a request sent before that time is up gets the client banned (418).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitFault {
    /// How many requests still get 429.
    pub count: u32,
    /// The `Retry-After` given, in seconds.
    #[serde(default = "default_retry_after")]
    pub retry_after_s: u64,
}

fn default_retry_after() -> u64 {
    1
}

/// `timeout`: the next `count` order-creating requests are held `hold_ms`, then answer 503
/// `-1007` ("Send status unknown; execution status unknown."), executed or not per `execute`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeoutFault {
    /// How many requests still time out.
    pub count: u32,
    /// Whether the order is placed anyway.
    #[serde(default)]
    pub execute: bool,
    /// How long each is held before the answer.
    #[serde(default)]
    pub hold_ms: u64,
}

/// The faults in force (`GET /admin/faults`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Faults {
    /// Added to every REST response (not the admin endpoints).
    pub latency_ms: u64,
    /// See [`Http5xx`].
    pub http_5xx: Http5xx,
    /// See [`RateLimitFault`].
    pub rate_limit: RateLimitFault,
    /// See [`TimeoutFault`].
    pub timeout: TimeoutFault,
    /// Close every WebSocket connection this often (none: never).
    pub drop_ws_every_ms: Option<u64>,
    /// Offset of the server's clock from the wall clock (`GET /api/v3/time`, timestamps).
    pub clock_skew_ms: i64,
    /// Bars close without a word on the market streams (lost, as in a network outage the
    /// connections survive); the user data stream and REST go on.
    #[serde(default)]
    pub hold_market_streams: bool,
}

/// A change to the faults: `[faults]` and the body of `POST /admin/faults`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultPatch {
    /// Sets [`Faults::latency_ms`].
    pub latency_ms: Option<u64>,
    /// Replaces [`Faults::http_5xx`].
    pub http_5xx: Option<Http5xx>,
    /// Replaces [`Faults::rate_limit`].
    pub rate_limit: Option<RateLimitFault>,
    /// Bans the client now for this many seconds (418 until then); `0` lifts a ban.
    pub ban_s: Option<u64>,
    /// Replaces [`Faults::timeout`].
    pub timeout: Option<TimeoutFault>,
    /// `true` closes every WebSocket connection now.
    pub drop_ws: Option<bool>,
    /// Sets [`Faults::drop_ws_every_ms`]; `0` stops it.
    pub drop_ws_every_ms: Option<u64>,
    /// Sets [`Faults::clock_skew_ms`].
    pub clock_skew_ms: Option<i64>,
    /// Sets [`Faults::hold_market_streams`].
    pub hold_market_streams: Option<bool>,
}

impl Faults {
    /// Applies the lasting parts of `patch` (the one-shot `ban_s` and `drop_ws` are the
    /// caller's). Refuses a 5xx status other than 500 or 503.
    pub fn apply(&mut self, patch: &FaultPatch) -> Result<(), String> {
        if let Some(h) = &patch.http_5xx {
            if !matches!(h.status, 500 | 503) {
                return Err(format!("http_5xx.status: 500 or 503, not {}", h.status));
            }
            self.http_5xx = h.clone();
        }
        if let Some(v) = patch.latency_ms {
            self.latency_ms = v;
        }
        if let Some(v) = &patch.rate_limit {
            self.rate_limit = v.clone();
        }
        if let Some(v) = &patch.timeout {
            self.timeout = v.clone();
        }
        if let Some(v) = patch.drop_ws_every_ms {
            self.drop_ws_every_ms = (v > 0).then_some(v);
        }
        if let Some(v) = patch.clock_skew_ms {
            self.clock_skew_ms = v;
        }
        if let Some(v) = patch.hold_market_streams {
            self.hold_market_streams = v;
        }
        Ok(())
    }

    /// Takes one 5xx from the budget: `Some((status, execute))` if this request fails.
    pub fn take_5xx(&mut self) -> Option<(u16, bool)> {
        (self.http_5xx.count > 0).then(|| {
            self.http_5xx.count -= 1;
            (self.http_5xx.status, self.http_5xx.execute)
        })
    }

    /// Takes one timeout from the budget: `Some((hold_ms, execute))`.
    pub fn take_timeout(&mut self) -> Option<(u64, bool)> {
        (self.timeout.count > 0).then(|| {
            self.timeout.count -= 1;
            (self.timeout.hold_ms, self.timeout.execute)
        })
    }

    /// Takes one injected 429 from the budget: `Some(retry_after_s)`.
    pub fn take_rate_limit(&mut self) -> Option<u64> {
        (self.rate_limit.count > 0).then(|| {
            self.rate_limit.count -= 1;
            self.rate_limit.retry_after_s
        })
    }
}
