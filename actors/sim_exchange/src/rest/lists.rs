//! OCO order lists: place, query, cancel (signed).

use super::orders::{client_id, generated_id, order_response, RespType};
use super::*;
use crate::unpoisoned;

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

pub(super) async fn new_oco(app: Data<App>, req: HttpRequest, body: Body) -> HttpResponse {
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

pub(super) async fn query_list(app: Data<App>, req: HttpRequest, body: Body) -> HttpResponse {
    let gate = Gate {
        weight: 4,
        ..SIGNED
    };
    respond(&app, &req, &body, gate, |app, params, now| {
        let venue = unpoisoned(&app.venue);
        let list = named_list(&venue, params)?
            .ok_or_else(|| ApiErr::bad(codes::NO_SUCH_ORDER, "Order list does not exist."))?;
        json(list_response(&venue, &list, false, now))
    })
    .await
}

pub(super) async fn cancel_list(app: Data<App>, req: HttpRequest, body: Body) -> HttpResponse {
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
