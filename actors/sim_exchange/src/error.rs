//! Binance error answers: an HTTP status and `{"code": <negative int>, "msg": "..."}`.

use keel_binance::codes;
use keel_binance::wire::ApiError;

/// A refused request, as Binance would answer it.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiErr {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: ApiError,
    /// `Retry-After` seconds, for 429 and 418.
    pub retry_after: Option<u64>,
}

impl ApiErr {
    /// HTTP 400 with `code` and `msg`.
    pub fn bad(code: i64, msg: impl Into<String>) -> Self {
        Self::with_status(400, code, msg)
    }

    /// Any status with `code` and `msg`.
    pub fn with_status(status: u16, code: i64, msg: impl Into<String>) -> Self {
        Self {
            status,
            body: ApiError {
                code,
                msg: msg.into(),
            },
            retry_after: None,
        }
    }

    /// `-1102`: a mandatory parameter is missing or empty.
    pub fn missing(name: &str) -> Self {
        Self::bad(
            codes::MANDATORY_PARAM,
            format!("Mandatory parameter '{name}' was not sent, was empty/null, or malformed."),
        )
    }

    /// `-1100`: a parameter is malformed.
    pub fn illegal(name: &str) -> Self {
        Self::bad(
            codes::BAD_PARAM,
            format!("Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}(\\.[0-9]{{1,20}})?$' or the documented values."),
        )
    }

    /// `-1121`: unknown symbol.
    pub fn bad_symbol() -> Self {
        Self::bad(codes::BAD_SYMBOL, "Invalid symbol.")
    }

    /// `-1013`: a filter failed.
    pub fn filter(name: &str) -> Self {
        Self::bad(codes::FILTER_FAILURE, format!("Filter failure: {name}"))
    }

    /// `-2010`: a new order was rejected.
    pub fn rejected(msg: impl Into<String>) -> Self {
        Self::bad(codes::NEW_ORDER_REJECTED, msg)
    }
}
