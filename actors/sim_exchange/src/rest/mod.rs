//! `/api/v3`: the REST endpoints, each behind the same gate (weights and bans, faults,
//! signature) and answering Binance's bodies (the shared `wire` types) and headers.

use crate::unpoisoned;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes, Data};
use actix_web::{HttpRequest, HttpResponse};
use keel_binance::codes;
use keel_binance::wire::{
    Account, Balance, CommissionRates, ExchangeInfo, Filter, KlineRow, ListMember, MyTrade,
    OrderFill, OrderListResponse, OrderResponse, OrderSide, OrderState, OrderType, QueriedOrder,
    RateLimit, ServerTime, SymbolInfo, TimeInForce,
};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;

use super::body_deadline::{is_body_timeout, with_body_deadline};
use super::error::ApiErr;
use super::params::Params;
use super::state::{ListRecord, OrderRecord};
use super::venue::{NewOco, NewOrder, Venue};
use super::weights::Refusal;
use super::App;

mod lists;
mod market;
mod orders;

use lists::{cancel_list, new_oco, query_list};
use market::{exchange_info, klines, ping, time};
use orders::{account, cancel_order, my_trades, new_order, open_orders, query_order};

/// The routes under `/api/v3`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v3")
            .wrap_fn(with_body_deadline)
            .route("/ping", web::get().to(ping))
            .route("/time", web::get().to(time))
            .route("/exchangeInfo", web::get().to(exchange_info))
            .route("/klines", web::get().to(klines))
            .route("/order", web::post().to(new_order))
            .route("/order", web::get().to(query_order))
            .route("/order", web::delete().to(cancel_order))
            .route("/openOrders", web::get().to(open_orders))
            .route("/myTrades", web::get().to(my_trades))
            .route("/account", web::get().to(account))
            .route("/orderList/oco", web::post().to(new_oco))
            .route("/orderList", web::get().to(query_list))
            .route("/orderList", web::delete().to(cancel_list)),
    );
}

/// What a request does, for the faults that apply to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Reads only.
    Read,
    /// Creates orders (timeouts, 5xx, order counts, the submission log).
    Create,
    /// Cancels orders (5xx).
    Cancel,
}

/// One endpoint's gate settings.
struct Gate {
    weight: u32,
    signed: bool,
    kind: Kind,
}

type Answer = Result<Value, ApiErr>;

/// A request's body, or why actix would not read it (over the payload limit, cut short): the
/// handler still answers, so that the refusal carries Binance's body.
pub(super) type Body = Result<Bytes, actix_web::Error>;

/// The refusal for a body actix would not read: its 4xx (413 when too large, 408 when it
/// did not arrive in time), with Binance's body rather than actix's plain text.
fn unreadable(e: &actix_web::Error) -> ApiErr {
    let status = e.as_response_error().status_code().as_u16();
    let status = if is_body_timeout(e) {
        408
    } else if (400..500).contains(&status) {
        status
    } else {
        400
    };
    ApiErr::with_status(
        status,
        codes::BAD_PARAM,
        format!("The request body was refused: {e}"),
    )
}

/// Runs the gate, then `action` (with the parameters and the server time), and answers with
/// the weight headers, after the injected latency.
async fn respond(
    app: &App,
    req: &HttpRequest,
    body: &Body,
    gate: Gate,
    action: impl FnOnce(&App, &Params, i64) -> Answer,
) -> HttpResponse {
    let wall = App::wall_ms();
    let latency = unpoisoned(&app.faults).latency_ms;
    let mut order_counts = None;
    let answer = gated(app, req, body, &gate, wall, &mut order_counts, action).await;
    if latency > 0 {
        actix_web::rt::time::sleep(Duration::from_millis(latency)).await;
    }
    let used = unpoisoned(&app.weights).used(wall);
    let mut reply = match &answer {
        Ok(_) => HttpResponse::Ok(),
        Err(e) => {
            HttpResponse::build(StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST))
        }
    };
    reply.insert_header(("X-MBX-USED-WEIGHT-1M", used.to_string()));
    if let Some((ten_s, day)) = order_counts {
        reply.insert_header(("X-MBX-ORDER-COUNT-10S", ten_s.to_string()));
        reply.insert_header(("X-MBX-ORDER-COUNT-1D", day.to_string()));
    }
    match answer {
        Ok(value) => reply.json(value),
        Err(e) => {
            tracing::info!(method = %req.method(), path = req.path(), status = e.status, code = e.body.code, msg = %e.body.msg, "request refused");
            if let Some(secs) = e.retry_after {
                reply.insert_header(("Retry-After", secs.to_string()));
            }
            reply.json(e.body)
        }
    }
}

/// The most a request's query string, or its headers together, may take; actix itself lets
/// through about 128 KiB of either. Binance's own front end refuses far smaller heads.
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// A 414 for a query string, or a 431 for headers, over [`MAX_HEAD_BYTES`].
fn oversized_head(req: &HttpRequest) -> Result<(), ApiErr> {
    if req.query_string().len() > MAX_HEAD_BYTES {
        return Err(ApiErr::with_status(
            414,
            codes::BAD_PARAM,
            format!("The query string is over {MAX_HEAD_BYTES} bytes."),
        ));
    }
    let headers: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if headers > MAX_HEAD_BYTES {
        return Err(ApiErr::with_status(
            431,
            codes::BAD_PARAM,
            format!("The request's headers are over {MAX_HEAD_BYTES} bytes."),
        ));
    }
    Ok(())
}

async fn gated(
    app: &App,
    req: &HttpRequest,
    body: &Body,
    gate: &Gate,
    wall: i64,
    order_counts: &mut Option<(u32, u32)>,
    action: impl FnOnce(&App, &Params, i64) -> Answer,
) -> Answer {
    oversized_head(req)?;
    {
        let mut weights = unpoisoned(&app.weights);
        let injected = if weights.blocked(wall) {
            None
        } else {
            unpoisoned(&app.faults).take_rate_limit()
        };
        weights.admit(wall, gate.weight, injected).map_err(|r| {
            let (status, secs, msg) = match r {
                Refusal::TooMany(s) => (
                    429,
                    s,
                    "Too many requests; please use the Retry-After header to back off.",
                ),
                Refusal::Banned(s) => (
                    418,
                    s,
                    "Way too many requests; IP banned until the Retry-After time.",
                ),
            };
            ApiErr {
                retry_after: Some(secs),
                ..ApiErr::with_status(status, codes::TOO_MANY_REQUESTS, msg)
            }
        })?;
        if gate.kind == Kind::Create {
            *order_counts = Some(weights.count_order(wall));
        }
    }
    let query = req.query_string();
    let body = body.as_ref().map_err(unreadable)?;
    let body = std::str::from_utf8(body).map_err(|_| ApiErr::illegal("body"))?;
    let params = Params::parse(query, body)?;
    let now = app.server_ms();
    if gate.signed {
        super::auth::check(
            req,
            query,
            body,
            &params,
            &app.settings.api_key,
            &app.signer,
            now,
        )?;
    }
    if gate.kind == Kind::Create {
        let ids: Vec<String> = [
            "newClientOrderId",
            "aboveClientOrderId",
            "belowClientOrderId",
        ]
        .iter()
        .filter_map(|k| params.get(k).map(str::to_string))
        .collect();
        if !ids.is_empty() {
            app.with_venue(true, |v| {
                v.state.submissions.extend(ids);
                Ok(())
            })?;
        }
        let timeout = unpoisoned(&app.faults).take_timeout();
        if let Some((hold_ms, execute)) = timeout {
            if execute {
                let outcome = action(app, &params, now);
                tracing::info!(
                    ok = outcome.is_ok(),
                    "timeout fault: the order was executed"
                );
            }
            actix_web::rt::time::sleep(Duration::from_millis(hold_ms)).await;
            return Err(ApiErr::with_status(
                503,
                codes::TIMEOUT,
                "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
            ));
        }
    }
    if gate.kind != Kind::Read {
        let fault = unpoisoned(&app.faults).take_5xx();
        if let Some((status, execute)) = fault {
            if execute {
                let outcome = action(app, &params, now);
                tracing::info!(
                    ok = outcome.is_ok(),
                    status,
                    "5xx fault: the action was carried out"
                );
            }
            return Err(ApiErr::with_status(
                status,
                codes::UNKNOWN,
                "An unknown error occurred while processing the request.",
            ));
        }
    }
    action(app, &params, now)
}

fn json<T: Serialize>(value: T) -> Answer {
    Ok(serde_json::to_value(value).expect("wire types serialise"))
}

const READ: Gate = Gate {
    weight: 1,
    signed: false,
    kind: Kind::Read,
};

const SIGNED: Gate = Gate {
    weight: 1,
    signed: true,
    kind: Kind::Read,
};
