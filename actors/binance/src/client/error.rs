//! The one error type of the Binance client, and how an HTTP answer is classified into it.
//!
//! The classes say what the caller may conclude about the venue's state:
//! - [`VenueError::Rejected`]: a definitive 4xx: the venue refused and nothing happened.
//! - [`VenueError::OutcomeUnknown`]: 5xx, `-1007`, a timeout, or a connection lost after the
//!   request left: it may have executed. An order in this state is resolved by querying its
//!   client id ([`BinanceClient::resolve`](super::BinanceClient::resolve)), never by resending.
//! - [`VenueError::RateLimited`] / [`VenueError::Banned`]: 429 / 418 with `Retry-After`, or
//!   refused locally (nothing sent) while such a pause is in force.
//! - [`VenueError::Unreachable`]: the connection could not be made: nothing was sent.
//!
//! Messages name the endpoint, the HTTP status and the venue's code and message; they never
//! contain the API key, the secret or a signature (the query string is not quoted).

use std::time::Duration;

use keel_supervision::Transient;

use crate::codes;
use crate::model::Timestamp;
use crate::wire::ApiError;

/// Why a request to the venue did not produce its answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VenueError {
    /// A definitive refusal (HTTP 4xx): the request had no effect.
    #[error("{endpoint}: rejected (HTTP {status}, code {code}): {msg}")]
    Rejected {
        /// E.g. `POST /api/v3/order`.
        endpoint: &'static str,
        /// The HTTP status.
        status: u16,
        /// Binance's error code (`0` when the body had none, e.g. a 403 from the WAF).
        code: i64,
        /// Binance's message (or the start of the body).
        msg: String,
    },
    /// The request may or may not have taken effect.
    #[error("{endpoint}: outcome unknown: {reason}")]
    OutcomeUnknown {
        /// E.g. `POST /api/v3/order`.
        endpoint: &'static str,
        /// What happened (status and body, timeout, dropped connection).
        reason: String,
    },
    /// HTTP 429, or refused locally while a 429's `Retry-After` is in force.
    #[error("{endpoint}: rate limited, retry after {:.1}s", retry_after.as_secs_f64())]
    RateLimited {
        /// E.g. `GET /api/v3/klines`.
        endpoint: &'static str,
        /// How long to send nothing.
        retry_after: Duration,
    },
    /// HTTP 418 (IP banned), or refused locally while the ban lasts.
    #[error("{endpoint}: IP banned until {until}")]
    Banned {
        /// E.g. `GET /api/v3/klines`.
        endpoint: &'static str,
        /// When the ban ends (local clock).
        until: Timestamp,
    },
    /// The connection could not be made: nothing was sent.
    #[error("{endpoint}: venue unreachable: {reason}")]
    Unreachable {
        /// E.g. `GET /api/v3/ping`.
        endpoint: &'static str,
        /// The connection error.
        reason: String,
    },
    /// A 2xx answer whose body is not the expected shape.
    #[error("{endpoint}: cannot read the answer: {reason}")]
    Decode {
        /// E.g. `GET /api/v3/klines`.
        endpoint: &'static str,
        /// The parse error.
        reason: String,
    },
    /// Refused before sending: configuration, filters, or the weight budget.
    #[error("{endpoint}: {reason}")]
    Local {
        /// E.g. `POST /api/v3/order`.
        endpoint: &'static str,
        /// What is wrong.
        reason: String,
    },
}

impl VenueError {
    /// The endpoint the error is about.
    pub fn endpoint(&self) -> &'static str {
        match self {
            VenueError::Rejected { endpoint, .. }
            | VenueError::OutcomeUnknown { endpoint, .. }
            | VenueError::RateLimited { endpoint, .. }
            | VenueError::Banned { endpoint, .. }
            | VenueError::Unreachable { endpoint, .. }
            | VenueError::Decode { endpoint, .. }
            | VenueError::Local { endpoint, .. } => endpoint,
        }
    }

    /// The venue's error code of a rejection.
    pub fn code(&self) -> Option<i64> {
        match self {
            VenueError::Rejected { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// For **idempotent reads** only (never consulted for orders: their unknown outcome is
/// resolved by a query, not by sending them again).
impl Transient for VenueError {
    /// Whether repeating the read may succeed: unknown outcomes, unreachable venues, and
    /// rate limits (after their `Retry-After`).
    fn transient(&self) -> bool {
        matches!(
            self,
            VenueError::OutcomeUnknown { .. }
                | VenueError::Unreachable { .. }
                | VenueError::RateLimited { .. }
        )
    }

    /// How long the venue asked to wait, for a rate limit.
    fn retry_after(&self) -> Option<Duration> {
        match self {
            VenueError::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }
}

/// Classifies a non-2xx answer. `now` (local clock) dates a ban's end; a 429/418 without a
/// usable `Retry-After` waits `default_pause`.
pub fn classify_status(
    endpoint: &'static str,
    status: u16,
    body: &[u8],
    retry_after: Option<Duration>,
    now: Timestamp,
    default_pause: Duration,
) -> VenueError {
    let api: Option<ApiError> = serde_json::from_slice(body).ok();
    let excerpt = || {
        let text = String::from_utf8_lossy(body);
        text.chars().take(200).collect::<String>()
    };
    let described = match &api {
        Some(e) => format!("HTTP {status}, code {}: {}", e.code, e.msg),
        None => format!("HTTP {status}: {}", excerpt()),
    };
    match status {
        429 => VenueError::RateLimited {
            endpoint,
            retry_after: retry_after.unwrap_or(default_pause),
        },
        418 => VenueError::Banned {
            endpoint,
            until: now.plus_ms(retry_after.unwrap_or(default_pause).as_millis() as i64),
        },
        500.. => VenueError::OutcomeUnknown {
            endpoint,
            reason: described,
        },
        _ => match api {
            Some(ref e) if e.code == codes::TIMEOUT => VenueError::OutcomeUnknown {
                endpoint,
                reason: described,
            },
            Some(e) => VenueError::Rejected {
                endpoint,
                status,
                code: e.code,
                msg: e.msg,
            },
            None => VenueError::Rejected {
                endpoint,
                status,
                code: 0,
                msg: excerpt(),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EP: &str = "POST /api/v3/order";
    const PAUSE: Duration = Duration::from_secs(60);

    fn classify(status: u16, body: &str, retry_after: Option<u64>) -> VenueError {
        classify_status(
            EP,
            status,
            body.as_bytes(),
            retry_after.map(Duration::from_secs),
            Timestamp(1_000),
            PAUSE,
        )
    }

    #[test]
    fn a_4xx_with_a_code_is_a_definitive_rejection_naming_endpoint_code_and_msg() {
        let err = classify(400, r#"{"code":-2010,"msg":"Duplicate order sent."}"#, None);
        assert_eq!(err.code(), Some(-2010));
        assert_eq!(
            err.to_string(),
            "POST /api/v3/order: rejected (HTTP 400, code -2010): Duplicate order sent."
        );
        assert!(!err.transient());
        let waf = classify(403, "<html>blocked</html>", None);
        assert!(matches!(
            waf,
            VenueError::Rejected {
                code: 0,
                status: 403,
                ..
            }
        ));
    }

    #[test]
    fn a_5xx_or_minus_1007_leaves_the_outcome_unknown() {
        for (status, body) in [
            (500, r#"{"code":-1000,"msg":"An unknown error occurred."}"#),
            (503, "Service Unavailable"),
            (
                400,
                r#"{"code":-1007,"msg":"Timeout waiting for response from backend server."}"#,
            ),
        ] {
            let err = classify(status, body, None);
            assert!(
                matches!(err, VenueError::OutcomeUnknown { .. }),
                "{status}: {err}"
            );
            assert!(err.transient());
        }
    }

    #[test]
    fn rate_limits_and_bans_carry_their_pause() {
        let err = classify(429, r#"{"code":-1003,"msg":"Too many requests."}"#, Some(7));
        assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
        assert!(err.transient());
        let err = classify(418, r#"{"code":-1003,"msg":"banned"}"#, Some(120));
        assert_eq!(
            err,
            VenueError::Banned {
                endpoint: EP,
                until: Timestamp(121_000)
            }
        );
        assert!(!err.transient());
        assert_eq!(classify(429, "", None).retry_after(), Some(PAUSE));
    }
}
