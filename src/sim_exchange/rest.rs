//! `/api/v3`: the REST endpoints, each behind the same gate (weights and bans, faults,
//! signature) and answering Binance's bodies (the shared `wire` types) and headers.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes, Data};
use actix_web::{HttpRequest, HttpResponse};
use keel_actors::binance::codes;
use keel_actors::binance::wire::{
    Account, Balance, CommissionRates, ExchangeInfo, Filter, KlineRow, ListMember, MyTrade,
    OrderFill, OrderListResponse, OrderResponse, OrderSide, OrderState, OrderType, QueriedOrder,
    RateLimit, ServerTime, SymbolInfo, TimeInForce,
};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;

use super::error::ApiErr;
use super::params::Params;
use super::state::{ListRecord, OrderRecord};
use super::venue::{NewOco, NewOrder, Venue};
use super::weights::Refusal;
use super::App;

/// The routes under `/api/v3`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v3")
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

/// Runs the gate, then `action` (with the parameters and the server time), and answers with
/// the weight headers, after the injected latency.
async fn respond(
    app: &App,
    req: &HttpRequest,
    body: &Bytes,
    gate: Gate,
    action: impl FnOnce(&App, &Params, i64) -> Answer,
) -> HttpResponse {
    let wall = App::wall_ms();
    let latency = app.faults.lock().expect("faults lock").latency_ms;
    let mut order_counts = None;
    let answer = gated(app, req, body, &gate, wall, &mut order_counts, action).await;
    if latency > 0 {
        actix_web::rt::time::sleep(Duration::from_millis(latency)).await;
    }
    let used = app.weights.lock().expect("weights lock").used(wall);
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

async fn gated(
    app: &App,
    req: &HttpRequest,
    body: &Bytes,
    gate: &Gate,
    wall: i64,
    order_counts: &mut Option<(u32, u32)>,
    action: impl FnOnce(&App, &Params, i64) -> Answer,
) -> Answer {
    {
        let mut weights = app.weights.lock().expect("weights lock");
        let injected = if weights.blocked(wall) {
            None
        } else {
            app.faults.lock().expect("faults lock").take_rate_limit()
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
        let timeout = app.faults.lock().expect("faults lock").take_timeout();
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
        let fault = app.faults.lock().expect("faults lock").take_5xx();
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

async fn ping(app: Data<App>, req: HttpRequest, body: Bytes) -> HttpResponse {
    respond(&app, &req, &body, READ, |_, _, _| Ok(serde_json::json!({}))).await
}

async fn time(app: Data<App>, req: HttpRequest, body: Bytes) -> HttpResponse {
    respond(&app, &req, &body, READ, |_, _, now| {
        json(ServerTime { server_time: now })
    })
    .await
}

async fn exchange_info(app: Data<App>, req: HttpRequest, body: Bytes) -> HttpResponse {
    let gate = Gate { weight: 20, ..READ };
    respond(&app, &req, &body, gate, |app, params, now| {
        let venue = app.venue.lock().expect("venue lock");
        let wanted = params.get("symbol");
        if let Some(s) = wanted {
            venue.market(s)?;
        }
        let symbols = venue
            .markets
            .iter()
            .filter(|m| wanted.is_none_or(|s| m.symbol.as_str().eq_ignore_ascii_case(s)))
            .map(|m| SymbolInfo {
                symbol: m.symbol.as_str().to_string(),
                status: "TRADING".into(),
                base_asset: m.base.clone(),
                quote_asset: m.quote.clone(),
                order_types: vec![
                    OrderType::Limit,
                    OrderType::LimitMaker,
                    OrderType::Market,
                    OrderType::StopLoss,
                ],
                oco_allowed: true,
                filters: vec![
                    Filter::Price {
                        min_price: m.filters.tick_size,
                        max_price: Decimal::from(1_000_000),
                        tick_size: m.filters.tick_size,
                    },
                    Filter::LotSize {
                        min_qty: m.filters.min_qty,
                        max_qty: m.filters.max_qty,
                        step_size: m.filters.step_size,
                    },
                    Filter::Notional {
                        min_notional: m.filters.min_notional,
                    },
                ],
            })
            .collect();
        let limit = |kind: &str, interval: &str, num, limit| RateLimit {
            rate_limit_type: kind.into(),
            interval: interval.into(),
            interval_num: num,
            limit,
        };
        json(ExchangeInfo {
            timezone: "UTC".into(),
            server_time: now,
            rate_limits: vec![
                limit(
                    "REQUEST_WEIGHT",
                    "MINUTE",
                    1,
                    app.settings.weights.limit_per_minute,
                ),
                limit("ORDERS", "SECOND", 10, 100),
                limit("ORDERS", "DAY", 1, 200_000),
            ],
            symbols,
        })
    })
    .await
}

async fn klines(app: Data<App>, req: HttpRequest, body: Bytes) -> HttpResponse {
    let limit_hint = Params::parse(req.query_string(), "")
        .ok()
        .and_then(|p| p.int::<u32>("limit").ok().flatten())
        .unwrap_or(500);
    let weight = match limit_hint {
        0..=100 => 2,
        101..=500 => 5,
        _ => 10,
    };
    let gate = Gate { weight, ..READ };
    respond(&app, &req, &body, gate, |app, params, _| {
        let venue = app.venue.lock().expect("venue lock");
        let (m, market) = venue.market(params.req("symbol")?)?;
        let interval = params.req("interval")?;
        if interval != market.interval_name {
            return Err(ApiErr::bad(
                -1120,
                format!(
                    "Invalid interval: this venue serves {} bars of {} only.",
                    market.interval_name, market.symbol
                ),
            ));
        }
        let limit: usize = params.int("limit")?.unwrap_or(500);
        if !(1..=1000).contains(&limit) {
            return Err(ApiErr::bad(codes::BAD_PARAM, "Invalid limit: 1..=1000."));
        }
        let start: Option<i64> = params.int("startTime")?;
        let end: Option<i64> = params.int("endTime")?;
        let bars = venue
            .closed_bars(m)
            .iter()
            .filter(|c| start.is_none_or(|s| c.open_time.0 >= s))
            .filter(|c| end.is_none_or(|e| c.open_time.0 <= e));
        let rows: Vec<KlineRow> = if start.is_some() {
            bars.take(limit).map(KlineRow::from_candle).collect()
        } else {
            let all: Vec<_> = bars.collect();
            let skip = all.len().saturating_sub(limit);
            all[skip..]
                .iter()
                .map(|c| KlineRow::from_candle(c))
                .collect()
        };
        json(rows)
    })
    .await
}

const SIGNED: Gate = Gate {
    weight: 1,
    signed: true,
    kind: Kind::Read,
};

fn order_type(text: &str) -> Result<OrderType, ApiErr> {
    serde_json::from_value(Value::String(text.to_string()))
        .map_err(|_| ApiErr::bad(-1116, "Invalid orderType."))
}

fn side(text: &str) -> Result<OrderSide, ApiErr> {
    match text {
        "BUY" => Ok(OrderSide::Buy),
        "SELL" => Ok(OrderSide::Sell),
        _ => Err(ApiErr::bad(-1117, "Invalid side.")),
    }
}

/// Generated when a request has no client id.
fn generated_id(prefix: &str, now: i64, seq: u64) -> String {
    format!("sim{prefix}{now}x{seq}")
}

fn client_id(
    params: &Params,
    key: &str,
    generated: impl FnOnce() -> String,
) -> Result<String, ApiErr> {
    match params.get(key) {
        Some(id) => keel_actors::model::ClientOrderId::new(id)
            .map(|_| id.to_string())
            .ok_or_else(|| ApiErr::illegal(key)),
        None => Ok(generated()),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum RespType {
    Ack,
    Result,
    Full,
}

async fn new_order(app: Data<App>, req: HttpRequest, body: Bytes) -> HttpResponse {
    let gate = Gate {
        kind: Kind::Create,
        ..SIGNED
    };
    respond(&app, &req, &body, gate, |app, params, now| {
        let order_type = order_type(params.req("type")?)?;
        if order_type == OrderType::Limit {
            match params.get("timeInForce") {
                Some("GTC") => {}
                Some(_) => {
                    return Err(ApiErr::bad(
                        codes::BAD_PARAM,
                        "The sim venue supports timeInForce GTC only.",
                    ))
                }
                None => return Err(ApiErr::missing("timeInForce")),
            }
        }
        let resp_type = match params.get("newOrderRespType") {
            None if matches!(order_type, OrderType::Market | OrderType::Limit) => RespType::Full,
            None | Some("ACK") => RespType::Ack,
            Some("RESULT") => RespType::Result,
            Some("FULL") => RespType::Full,
            Some(_) => return Err(ApiErr::illegal("newOrderRespType")),
        };
        let order = NewOrder {
            symbol: params.req("symbol")?.to_string(),
            side: side(params.req("side")?)?,
            order_type,
            qty: params.req_decimal("quantity")?,
            price: params.decimal("price")?,
            stop_price: params.decimal("stopPrice")?,
            client_order_id: String::new(),
        };
        app.with_venue(true, |v| {
            let seq = v.state.last_order_id + 1;
            let order = NewOrder {
                client_order_id: client_id(params, "newClientOrderId", || {
                    generated_id("", now, seq)
                })?,
                ..order
            };
            let id = v.place(order, now)?;
            let record = v.state.orders[&id].clone();
            json(order_response(v, &record, resp_type))
        })
    })
    .await
}

/// The POST order answer in the asked form.
fn order_response(venue: &Venue, o: &OrderRecord, form: RespType) -> OrderResponse {
    let mut r = OrderResponse {
        symbol: o.symbol.clone(),
        order_id: o.order_id,
        order_list_id: o.order_list_id,
        client_order_id: o.client_order_id.clone(),
        transact_time: o.update_time,
        price: None,
        orig_qty: None,
        executed_qty: None,
        cummulative_quote_qty: None,
        status: None,
        time_in_force: None,
        order_type: None,
        side: None,
        working_time: None,
        fills: None,
    };
    if form == RespType::Ack {
        return r;
    }
    r.price = Some(o.price);
    r.orig_qty = Some(o.orig_qty);
    r.executed_qty = Some(o.executed_qty);
    r.cummulative_quote_qty = Some(o.cummulative_quote_qty);
    r.status = Some(o.status);
    r.time_in_force = Some(TimeInForce::Gtc);
    r.order_type = Some(o.order_type);
    r.side = Some(o.side);
    r.working_time = Some(o.time);
    if form == RespType::Full {
        r.fills = Some(
            venue
                .state
                .trades
                .iter()
                .filter(|t| t.order_id == o.order_id)
                .map(|t| OrderFill {
                    price: t.price,
                    qty: t.qty,
                    commission: t.commission,
                    commission_asset: t.commission_asset.clone(),
                    trade_id: t.id,
                })
                .collect(),
        );
    }
    r
}

fn queried(o: &OrderRecord) -> QueriedOrder {
    QueriedOrder {
        symbol: o.symbol.clone(),
        order_id: o.order_id,
        order_list_id: o.order_list_id,
        client_order_id: o.client_order_id.clone(),
        price: o.price,
        orig_qty: o.orig_qty,
        executed_qty: o.executed_qty,
        cummulative_quote_qty: o.cummulative_quote_qty,
        status: o.status,
        time_in_force: TimeInForce::Gtc,
        order_type: o.order_type,
        side: o.side,
        stop_price: o.stop_price,
        time: o.time,
        update_time: o.update_time,
        is_working: o.status.is_open() && o.order_type != OrderType::StopLoss,
    }
}

/// The order named by `orderId` or `origClientOrderId` on `symbol`.
fn named_order(venue: &Venue, params: &Params) -> Result<Option<OrderRecord>, ApiErr> {
    let (_, market) = venue.market(params.req("symbol")?)?;
    let order_id: Option<u64> = params.int("orderId")?;
    let client = params.get("origClientOrderId");
    if order_id.is_none() && client.is_none() {
        return Err(ApiErr::missing("orderId"));
    }
    Ok(venue
        .find(market.symbol.as_str(), order_id, client)
        .cloned())
}

async fn query_order(app: Data<App>, req: HttpRequest, body: Bytes) -> HttpResponse {
    let gate = Gate {
        weight: 4,
        ..SIGNED
    };
    respond(&app, &req, &body, gate, |app, params, _| {
        let venue = app.venue.lock().expect("venue lock");
        let order = named_order(&venue, params)?
            .ok_or_else(|| ApiErr::bad(codes::NO_SUCH_ORDER, codes::NO_SUCH_ORDER_MSG))?;
        json(queried(&order))
    })
    .await
}

/// Binance's answer to `DELETE /api/v3/order`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Canceled {
    symbol: String,
    orig_client_order_id: String,
    order_id: u64,
    order_list_id: i64,
    client_order_id: String,
    transact_time: i64,
    price: Decimal,
    orig_qty: Decimal,
    executed_qty: Decimal,
    cummulative_quote_qty: Decimal,
    status: OrderState,
    time_in_force: TimeInForce,
    #[serde(rename = "type")]
    order_type: OrderType,
    side: OrderSide,
}

async fn cancel_order(app: Data<App>, req: HttpRequest, body: Bytes) -> HttpResponse {
    let gate = Gate {
        kind: Kind::Cancel,
        ..SIGNED
    };
    respond(&app, &req, &body, gate, |app, params, now| {
        app.with_venue(true, |v| {
            let unknown = || ApiErr::bad(codes::CANCEL_REJECTED, codes::UNKNOWN_ORDER_MSG);
            let order = named_order(v, params)?.ok_or_else(unknown)?;
            v.cancel(order.order_id, now)?;
            let o = v.state.orders[&order.order_id].clone();
            json(Canceled {
                symbol: o.symbol,
                orig_client_order_id: o.client_order_id.clone(),
                order_id: o.order_id,
                order_list_id: o.order_list_id,
                client_order_id: params
                    .get("newClientOrderId")
                    .unwrap_or(&o.client_order_id)
                    .to_string(),
                transact_time: now,
                price: o.price,
                orig_qty: o.orig_qty,
                executed_qty: o.executed_qty,
                cummulative_quote_qty: o.cummulative_quote_qty,
                status: o.status,
                time_in_force: TimeInForce::Gtc,
                order_type: o.order_type,
                side: o.side,
            })
        })
    })
    .await
}

async fn open_orders(app: Data<App>, req: HttpRequest, body: Bytes) -> HttpResponse {
    let weight = if req.query_string().contains("symbol=") {
        6
    } else {
        80
    };
    let gate = Gate { weight, ..SIGNED };
    respond(&app, &req, &body, gate, |app, params, _| {
        let venue = app.venue.lock().expect("venue lock");
        let symbol = match params.get("symbol") {
            Some(s) => Some(venue.market(s)?.1.symbol.as_str().to_string()),
            None => None,
        };
        let open: Vec<QueriedOrder> = venue
            .state
            .orders
            .values()
            .filter(|o| o.status.is_open())
            .filter(|o| symbol.as_ref().is_none_or(|s| &o.symbol == s))
            .map(queried)
            .collect();
        json(open)
    })
    .await
}

async fn my_trades(app: Data<App>, req: HttpRequest, body: Bytes) -> HttpResponse {
    let gate = Gate {
        weight: 20,
        ..SIGNED
    };
    respond(&app, &req, &body, gate, |app, params, _| {
        let venue = app.venue.lock().expect("venue lock");
        let symbol = venue
            .market(params.req("symbol")?)?
            .1
            .symbol
            .as_str()
            .to_string();
        let from_id: Option<u64> = params.int("fromId")?;
        let start: Option<i64> = params.int("startTime")?;
        let end: Option<i64> = params.int("endTime")?;
        let limit: usize = params.int("limit")?.unwrap_or(500);
        if !(1..=1000).contains(&limit) {
            return Err(ApiErr::bad(codes::BAD_PARAM, "Invalid limit: 1..=1000."));
        }
        let mut trades: Vec<&MyTrade> = venue
            .state
            .trades
            .iter()
            .filter(|t| t.symbol == symbol)
            .filter(|t| from_id.is_none_or(|f| t.id >= f))
            .filter(|t| start.is_none_or(|s| t.time >= s))
            .filter(|t| end.is_none_or(|e| t.time <= e))
            .collect();
        trades.sort_by_key(|t| t.id);
        trades.truncate(limit);
        json(trades)
    })
    .await
}

async fn account(app: Data<App>, req: HttpRequest, body: Bytes) -> HttpResponse {
    let gate = Gate {
        weight: 20,
        ..SIGNED
    };
    respond(&app, &req, &body, gate, |app, _, _| {
        let venue = app.venue.lock().expect("venue lock");
        let rate = app.settings.fill.fee_bps / Decimal::from(10_000);
        json(Account {
            can_trade: true,
            account_type: "SPOT".into(),
            update_time: venue.state.update_time,
            balances: venue
                .state
                .balances
                .iter()
                .map(|(asset, h)| Balance {
                    asset: asset.clone(),
                    free: h.free,
                    locked: h.locked,
                })
                .collect(),
            commission_rates: CommissionRates {
                maker: rate,
                taker: rate,
                buyer: Decimal::ZERO,
                seller: Decimal::ZERO,
            },
        })
    })
    .await
}

fn list_response(venue: &Venue, list: &ListRecord, reports: bool, now: i64) -> OrderListResponse {
    let legs: Vec<&OrderRecord> = list
        .orders
        .iter()
        .map(|id| &venue.state.orders[id])
        .collect();
    let done = legs.iter().all(|o| !o.status.is_open());
    OrderListResponse {
        order_list_id: list.order_list_id,
        contingency_type: "OCO".into(),
        list_status_type: if done { "ALL_DONE" } else { "EXEC_STARTED" }.into(),
        list_order_status: if done { "ALL_DONE" } else { "EXECUTING" }.into(),
        list_client_order_id: list.list_client_order_id.clone(),
        transaction_time: if reports { now } else { list.time },
        symbol: list.symbol.clone(),
        orders: legs
            .iter()
            .map(|o| ListMember {
                symbol: o.symbol.clone(),
                order_id: o.order_id,
                client_order_id: o.client_order_id.clone(),
            })
            .collect(),
        order_reports: if reports {
            legs.iter()
                .map(|o| order_response(venue, o, RespType::Result))
                .collect()
        } else {
            Vec::new()
        },
    }
}

async fn new_oco(app: Data<App>, req: HttpRequest, body: Bytes) -> HttpResponse {
    let gate = Gate {
        kind: Kind::Create,
        ..SIGNED
    };
    respond(&app, &req, &body, gate, |app, params, now| {
        if params.req("side")? != "SELL" {
            return Err(ApiErr::bad(
                codes::BAD_PARAM,
                "The sim venue takes SELL OCO lists only.",
            ));
        }
        if params.req("aboveType")? != "LIMIT_MAKER" || params.req("belowType")? != "STOP_LOSS" {
            return Err(ApiErr::bad(
                codes::BAD_PARAM,
                "The sim venue takes aboveType=LIMIT_MAKER with belowType=STOP_LOSS only.",
            ));
        }
        app.with_venue(true, |v| {
            let seq = v.state.last_order_id;
            let oco = NewOco {
                symbol: params.req("symbol")?.to_string(),
                qty: params.req_decimal("quantity")?,
                list_client_order_id: client_id(params, "listClientOrderId", || {
                    generated_id("L", now, seq + 1)
                })?,
                above_price: params.req_decimal("abovePrice")?,
                above_client_order_id: client_id(params, "aboveClientOrderId", || {
                    generated_id("A", now, seq + 1)
                })?,
                below_stop_price: params.req_decimal("belowStopPrice")?,
                below_client_order_id: client_id(params, "belowClientOrderId", || {
                    generated_id("B", now, seq + 2)
                })?,
            };
            let id = v.place_oco(oco, now)?;
            let list = v.state.lists[&id].clone();
            json(list_response(v, &list, true, now))
        })
    })
    .await
}

/// The list named by `orderListId` or `origClientOrderId`/`listClientOrderId`.
fn named_list(venue: &Venue, params: &Params) -> Result<Option<ListRecord>, ApiErr> {
    let id: Option<i64> = params.int("orderListId")?;
    let client = params
        .get("origClientOrderId")
        .or_else(|| params.get("listClientOrderId"));
    Ok(match (id, client) {
        (Some(id), _) => venue.state.lists.get(&id).cloned(),
        (None, Some(c)) => venue
            .state
            .lists
            .values()
            .rev()
            .find(|l| l.list_client_order_id == c)
            .cloned(),
        (None, None) => return Err(ApiErr::missing("orderListId")),
    })
}

async fn query_list(app: Data<App>, req: HttpRequest, body: Bytes) -> HttpResponse {
    let gate = Gate {
        weight: 4,
        ..SIGNED
    };
    respond(&app, &req, &body, gate, |app, params, now| {
        let venue = app.venue.lock().expect("venue lock");
        let list = named_list(&venue, params)?
            .ok_or_else(|| ApiErr::bad(codes::NO_SUCH_ORDER, "Order list does not exist."))?;
        json(list_response(&venue, &list, false, now))
    })
    .await
}

async fn cancel_list(app: Data<App>, req: HttpRequest, body: Bytes) -> HttpResponse {
    let gate = Gate {
        kind: Kind::Cancel,
        ..SIGNED
    };
    respond(&app, &req, &body, gate, |app, params, now| {
        app.with_venue(true, |v| {
            let (_, market) = v.market(params.req("symbol")?)?;
            let symbol = market.symbol.as_str().to_string();
            let unknown = || ApiErr::bad(codes::CANCEL_REJECTED, codes::UNKNOWN_ORDER_MSG);
            let list = named_list(v, params)?
                .filter(|l| l.symbol == symbol)
                .ok_or_else(unknown)?;
            let open = list
                .orders
                .iter()
                .find(|id| v.state.orders[id].status.is_open());
            let first = *open.ok_or_else(unknown)?;
            v.cancel(first, now)?;
            json(list_response(v, &list, true, now))
        })
    })
    .await
}
