//! Orders and the account: place, query, cancel, open orders, trades, balances (signed).

use super::*;
use crate::unpoisoned;

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
pub(super) fn generated_id(prefix: &str, now: i64, seq: u64) -> String {
    format!("sim{prefix}{now}x{seq}")
}

pub(super) fn client_id(
    params: &Params,
    key: &str,
    generated: impl FnOnce() -> String,
) -> Result<String, ApiErr> {
    match params.get(key) {
        Some(id) => keel_model::ClientOrderId::new(id)
            .map(|_| id.to_string())
            .ok_or_else(|| ApiErr::illegal(key)),
        None => Ok(generated()),
    }
}

#[derive(Clone, Copy, PartialEq)]
pub(super) enum RespType {
    Ack,
    Result,
    Full,
}

pub(super) async fn new_order(app: Data<App>, req: HttpRequest, body: Body) -> HttpResponse {
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
pub(super) fn order_response(venue: &Venue, o: &OrderRecord, form: RespType) -> OrderResponse {
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

pub(super) async fn query_order(app: Data<App>, req: HttpRequest, body: Body) -> HttpResponse {
    let gate = Gate {
        weight: 4,
        ..SIGNED
    };
    respond(&app, &req, &body, gate, |app, params, _| {
        let venue = unpoisoned(&app.venue);
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

pub(super) async fn cancel_order(app: Data<App>, req: HttpRequest, body: Body) -> HttpResponse {
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

pub(super) async fn open_orders(app: Data<App>, req: HttpRequest, body: Body) -> HttpResponse {
    let weight = if req.query_string().contains("symbol=") {
        6
    } else {
        80
    };
    let gate = Gate { weight, ..SIGNED };
    respond(&app, &req, &body, gate, |app, params, _| {
        let venue = unpoisoned(&app.venue);
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

pub(super) async fn my_trades(app: Data<App>, req: HttpRequest, body: Body) -> HttpResponse {
    let gate = Gate {
        weight: 20,
        ..SIGNED
    };
    respond(&app, &req, &body, gate, |app, params, _| {
        let venue = unpoisoned(&app.venue);
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

pub(super) async fn account(app: Data<App>, req: HttpRequest, body: Body) -> HttpResponse {
    let gate = Gate {
        weight: 20,
        ..SIGNED
    };
    respond(&app, &req, &body, gate, |app, _, _| {
        let venue = unpoisoned(&app.venue);
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
