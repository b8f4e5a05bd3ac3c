//! Signed endpoints: the API key header, the HMAC signature of the exact query string then
//! body, and the timestamp against the server's clock and `recvWindow`. The secret never
//! appears in logs or answers.

use actix_web::HttpRequest;
use keel_binance::codes;
use keel_binance::sign::{split_signature, Signer};
use rust_decimal::Decimal;

use super::error::ApiErr;
use super::params::Params;

/// Binance's code for a `recvWindow` over 60 000.
const BAD_RECV_WINDOW: i64 = -1131;

/// Checks a signed request: `X-MBX-APIKEY` must be `api_key` (else `-2015`, HTTP 401), the
/// signature of query string + body must verify (`-1022`), and `timestamp` must be within
/// `recvWindow` (default 5000, max 60000) of `server_now` and not over 1000 ms ahead of it
/// (`-1021`).
pub fn check(
    req: &HttpRequest,
    query: &str,
    body: &str,
    params: &Params,
    api_key: &str,
    signer: &Signer,
    server_now: i64,
) -> Result<(), ApiErr> {
    let key = req
        .headers()
        .get("X-MBX-APIKEY")
        .and_then(|v| v.to_str().ok());
    if key != Some(api_key) {
        return Err(ApiErr::with_status(
            401,
            codes::BAD_API_KEY,
            "Invalid API-key, IP, or permissions for action.",
        ));
    }
    // Binance signs `queryString + requestBody`; the signature is the last parameter of
    // whichever part carries it.
    let (payload, signature) = if body.contains("signature=") {
        let (p, s) = split_signature(body).ok_or_else(|| ApiErr::missing("signature"))?;
        (format!("{query}{p}"), s)
    } else {
        let (p, s) = split_signature(query).ok_or_else(|| ApiErr::missing("signature"))?;
        (format!("{p}{body}"), s)
    };
    if !signer.verify(&payload, signature) {
        return Err(ApiErr::bad(
            codes::INVALID_SIGNATURE,
            "Signature for this request is not valid.",
        ));
    }
    let timestamp: i64 = params
        .int("timestamp")?
        .ok_or_else(|| ApiErr::missing("timestamp"))?;
    let window: i64 = params.int("recvWindow")?.unwrap_or(5000);
    check_time(timestamp, Decimal::from(window), server_now)
}

/// Checks a signed request's `timestamp` against the server's clock: `recvWindow` (`window`,
/// ms; the WebSocket API takes fractions) must be within 0..=60000 (`-1131`), and `timestamp`
/// within `window` of `server_now` and not over 1000 ms ahead of it (`-1021`).
pub fn check_time(timestamp: i64, window: Decimal, server_now: i64) -> Result<(), ApiErr> {
    if window < Decimal::ZERO || window > Decimal::from(60_000) {
        return Err(ApiErr::bad(
            BAD_RECV_WINDOW,
            "recvWindow must be less than 60000",
        ));
    }
    // Saturating: a timestamp of i64::MIN must be stale, not overflow into a fresh one.
    if timestamp > server_now.saturating_add(1000) {
        return Err(ApiErr::bad(
            codes::INVALID_TIMESTAMP,
            "Timestamp for this request was 1000ms ahead of the server's time.",
        ));
    }
    if Decimal::from(server_now.saturating_sub(timestamp)) > window {
        return Err(ApiErr::bad(
            codes::INVALID_TIMESTAMP,
            "Timestamp for this request is outside of the recvWindow.",
        ));
    }
    Ok(())
}
