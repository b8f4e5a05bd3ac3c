//! The answers to the WebSocket API requests `/ws-api/v3` takes: `ping`,
//! `userDataStream.subscribe.signature` (HMAC-signed, checked as REST's `auth` checks signed
//! endpoints) and `userDataStream.unsubscribe`. Pure: the connection acts on the answer's
//! [`Action`]. Nothing here logs or echoes the parameters (the signature is in them).

use std::str::FromStr;

use keel_binance::codes;
use keel_binance::sign::Signer;
use keel_binance::wire::user::{
    signature_payload, Subscribed, WsApiError, WsApiRequest, WsApiResponse, SUBSCRIBE_SIGNATURE,
    UNSUBSCRIBE,
};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use crate::error::ApiErr;

/// `-1020`: the method is not one this venue serves.
pub const UNSUPPORTED_OPERATION: i64 = -1020;
/// `-1135`: the request is not JSON.
pub const INVALID_JSON: i64 = -1135;
/// `-2035`: the account already has a subscription on this connection.
pub const SUBSCRIPTION_ACTIVE: i64 = -2035;
/// `-2036`: no such subscription on this connection.
pub const SUBSCRIPTION_INACTIVE: i64 = -2036;

/// What a request is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The accepted API key.
    pub api_key: &'a str,
    /// Verifies signatures with the secret.
    pub signer: &'a Signer,
    /// The server's clock, ms.
    pub server_now: i64,
    /// The connection's active subscription, if any.
    pub active: Option<u64>,
    /// The id the next subscription gets.
    pub next_id: u64,
}

/// What the connection does once the answer is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing.
    None,
    /// Start forwarding events as subscription `id` (before the answer goes out).
    Subscribe(u64),
    /// Stop forwarding subscription `id` and send its `eventStreamTerminated`.
    Unsubscribe(u64),
}

/// The answer to one text message, and what the connection must do.
pub fn answer(ctx: &Context<'_>, text: &str) -> (WsApiResponse, Action) {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) => {
            let err = ApiErr::bad(INVALID_JSON, "Invalid JSON Request");
            return (failure(Value::Null, err), Action::None);
        }
    };
    let id = value.get("id").cloned().unwrap_or(Value::Null);
    let request: WsApiRequest = match serde_json::from_value(value) {
        Ok(r) => r,
        Err(_) => {
            let err = ApiErr::bad(
                codes::MANDATORY_PARAM,
                "Not a request: it needs an `id`, a string `method` and an object `params`.",
            );
            return (failure(id, err), Action::None);
        }
    };
    let id = request.id.clone();
    match dispatch(ctx, &request) {
        Ok((result, action)) => (success(id, result), action),
        Err(err) => (failure(id, err), Action::None),
    }
}

fn dispatch(ctx: &Context<'_>, request: &WsApiRequest) -> Result<(Value, Action), ApiErr> {
    match request.method.as_str() {
        "ping" => Ok((json!({}), Action::None)),
        SUBSCRIBE_SIGNATURE => {
            if ctx.active.is_some() {
                return Err(ApiErr::bad(
                    SUBSCRIPTION_ACTIVE,
                    "User Data Stream subscription already active.",
                ));
            }
            check_signed(ctx, &request.params)?;
            let result = Subscribed {
                subscription_id: ctx.next_id,
            };
            let result = serde_json::to_value(result).map_err(|_| internal())?;
            Ok((result, Action::Subscribe(ctx.next_id)))
        }
        UNSUBSCRIBE => {
            let asked = match request.params.get("subscriptionId") {
                None | Some(Value::Null) => None,
                Some(v) => Some(
                    v.as_u64()
                        .ok_or_else(|| ApiErr::illegal("subscriptionId"))?,
                ),
            };
            match (asked, ctx.active) {
                (Some(asked), active) if active != Some(asked) => Err(ApiErr::bad(
                    SUBSCRIPTION_INACTIVE,
                    "User Data Stream subscription not active.",
                )),
                (_, Some(active)) => Ok((json!({}), Action::Unsubscribe(active))),
                // Closing all of none.
                (_, None) => Ok((json!({}), Action::None)),
            }
        }
        _ => Err(ApiErr::bad(
            UNSUPPORTED_OPERATION,
            "This operation is not supported.",
        )),
    }
}

/// `apiKey` must be the venue's (`-2015`, status 401), `signature` the HMAC of the other
/// parameters sorted by name (`-1022`), `timestamp` within `recvWindow` (`-1021`).
fn check_signed(ctx: &Context<'_>, params: &Map<String, Value>) -> Result<(), ApiErr> {
    let key = params
        .get("apiKey")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiErr::missing("apiKey"))?;
    if key != ctx.api_key {
        return Err(ApiErr::with_status(
            401,
            codes::BAD_API_KEY,
            "Invalid API-key, IP, or permissions for action.",
        ));
    }
    let signature = params
        .get("signature")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiErr::missing("signature"))?;
    if !ctx.signer.verify(&signature_payload(params), signature) {
        return Err(ApiErr::bad(
            codes::INVALID_SIGNATURE,
            "Signature for this request is not valid.",
        ));
    }
    let timestamp = match params.get("timestamp") {
        None | Some(Value::Null) => return Err(ApiErr::missing("timestamp")),
        Some(v) => integer(v).ok_or_else(|| ApiErr::illegal("timestamp"))?,
    };
    let window = match params.get("recvWindow") {
        None | Some(Value::Null) => Decimal::from(5000),
        Some(v) => decimal(v).ok_or_else(|| ApiErr::illegal("recvWindow"))?,
    };
    crate::auth::check_time(timestamp, window, ctx.server_now)
}

/// A JSON integer, or a string of one.
fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A JSON number, or a string of one, as a plain decimal.
fn decimal(value: &Value) -> Option<Decimal> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return None,
    };
    Decimal::from_str(&text).ok()
}

fn internal() -> ApiErr {
    ApiErr::with_status(
        500,
        codes::UNKNOWN,
        "An unknown error occurred while processing the request.",
    )
}

fn success(id: Value, result: Value) -> WsApiResponse {
    WsApiResponse {
        id,
        status: 200,
        result: Some(result),
        error: None,
    }
}

fn failure(id: Value, err: ApiErr) -> WsApiResponse {
    WsApiResponse {
        id,
        status: err.status,
        result: None,
        error: Some(WsApiError {
            code: err.body.code,
            msg: err.body.msg,
        }),
    }
}

#[cfg(test)]
#[path = "requests_tests.rs"]
mod tests;
