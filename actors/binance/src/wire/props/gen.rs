//! Generated bodies of every wire type: the value a body must read as, beside the body as a
//! [`Node`] tree (with fields the wire types ignore, and optional ones absent or `null`).

use rust_decimal::Decimal;

use super::body::{leaf, Kind, Node};
use super::values::*;
use crate::wire::*;
use keel_core::testing::json::Json;
use keel_core::testing::{candle_ohlc, candle_price, Rng};

/// Every REST body keel reads, and the stream payloads read through serde.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Body {
    ServerTime(ServerTime),
    ApiError(ApiError),
    ExchangeInfo(ExchangeInfo),
    Klines(Vec<KlineRow>),
    Order(OrderResponse),
    Queried(QueriedOrder),
    OpenOrders(Vec<QueriedOrder>),
    MyTrades(Vec<MyTrade>),
    Account(Account),
    OrderList(OrderListResponse),
    Trade(Combined<TradeEvent>),
    BookTicker(Combined<BookTickerEvent>),
}

impl Body {
    /// `text` read as the wire type of this body.
    pub fn parse_like(&self, text: &str) -> Result<Body, serde_json::Error> {
        use serde_json::from_str;
        Ok(match self {
            Body::ServerTime(_) => Body::ServerTime(from_str(text)?),
            Body::ApiError(_) => Body::ApiError(from_str(text)?),
            Body::ExchangeInfo(_) => Body::ExchangeInfo(from_str(text)?),
            Body::Klines(_) => Body::Klines(from_str(text)?),
            Body::Order(_) => Body::Order(from_str(text)?),
            Body::Queried(_) => Body::Queried(from_str(text)?),
            Body::OpenOrders(_) => Body::OpenOrders(from_str(text)?),
            Body::MyTrades(_) => Body::MyTrades(from_str(text)?),
            Body::Account(_) => Body::Account(from_str(text)?),
            Body::OrderList(_) => Body::OrderList(from_str(text)?),
            Body::Trade(_) => Body::Trade(from_str(text)?),
            Body::BookTicker(_) => Body::BookTicker(from_str(text)?),
        })
    }
}

/// A body of a type picked at random.
pub(super) fn body(rng: &mut Rng) -> (Body, Node) {
    match rng.below(12) {
        0 => {
            let (t, n) = int64(rng);
            (
                Body::ServerTime(ServerTime { server_time: t }),
                obj(rng, vec![("serverTime", n, true)]),
            )
        }
        1 => {
            let (code, c) = int64(rng);
            let (msg, m) = string(rng);
            (
                Body::ApiError(ApiError { code, msg }),
                obj(rng, vec![("code", c, true), ("msg", m, true)]),
            )
        }
        2 => exchange_info(rng),
        3 => {
            let (rows, nodes) = list(rng, kline_row);
            (Body::Klines(rows), Node::List(nodes))
        }
        4 => {
            let (o, n) = order_response(rng);
            (Body::Order(o), n)
        }
        5 => {
            let (o, n) = queried_order(rng);
            (Body::Queried(o), n)
        }
        6 => {
            let (os, ns) = list(rng, queried_order);
            (Body::OpenOrders(os), Node::List(ns))
        }
        7 => {
            let (ts, ns) = list(rng, my_trade);
            (Body::MyTrades(ts), Node::List(ns))
        }
        8 => account(rng),
        9 => {
            let (l, n) = order_list(rng);
            (Body::OrderList(l), n)
        }
        10 => trade_event(rng),
        _ => book_ticker(rng),
    }
}

pub(super) fn kline_row(rng: &mut Rng) -> (KlineRow, Node) {
    let (open_time, a) = int64(rng);
    let (close_time, b) = int64(rng);
    let (trades, c) = uint64(rng);
    let d: Vec<(Decimal, Node)> = (0..8).map(|_| dec(rng)).collect();
    let (ignore, e) = string(rng);
    let row = KlineRow(
        open_time, d[0].0, d[1].0, d[2].0, d[3].0, d[4].0, close_time, d[5].0, trades, d[6].0,
        d[7].0, ignore,
    );
    let mut nodes: Vec<Node> = d.into_iter().map(|(_, n)| n).collect();
    let rest = nodes.split_off(5);
    let mut row_nodes = vec![a];
    row_nodes.extend(nodes);
    row_nodes.push(b);
    let mut rest = rest.into_iter();
    row_nodes.push(rest.next().unwrap());
    row_nodes.push(c);
    row_nodes.extend(rest);
    row_nodes.push(e);
    (row, Node::Row(row_nodes))
}

/// A kline row Binance would send for one `interval` bar at `open_time`: prices consistent.
pub(super) fn good_kline_row(rng: &mut Rng, open_time: i64, interval_ms: i64) -> KlineRow {
    let [open, high, low, close] = candle_ohlc(rng);
    KlineRow(
        open_time,
        open,
        high,
        low,
        close,
        candle_price(rng),
        open_time + interval_ms - 1,
        candle_price(rng),
        rng.below(1000) as u64,
        candle_price(rng),
        candle_price(rng),
        "0".into(),
    )
}

/// A row's body as Binance writes it.
pub(super) fn kline_row_node(row: &KlineRow) -> Node {
    Node::Row(vec![
        leaf(Kind::I64, Json::Num(row.0.to_string())),
        price_node(row.1),
        price_node(row.2),
        price_node(row.3),
        price_node(row.4),
        price_node(row.5),
        leaf(Kind::I64, Json::Num(row.6.to_string())),
        price_node(row.7),
        leaf(Kind::U64, Json::Num(row.8.to_string())),
        price_node(row.9),
        price_node(row.10),
        leaf(Kind::Str, Json::Str(row.11.clone())),
    ])
}

fn filter(rng: &mut Rng) -> (Filter, Node) {
    let tag = |t: &str| ("filterType", leaf(Kind::Str, Json::Str(t.into())), true);
    match rng.below(5) {
        0 => {
            let ((a, an), (b, bn), (c, cn)) = (dec(rng), dec(rng), dec(rng));
            let f = Filter::Price {
                min_price: a,
                max_price: b,
                tick_size: c,
            };
            let fields = vec![
                tag("PRICE_FILTER"),
                ("minPrice", an, true),
                ("maxPrice", bn, true),
                ("tickSize", cn, true),
            ];
            (f, obj(rng, fields))
        }
        1 => {
            let ((a, an), (b, bn), (c, cn)) = (dec(rng), dec(rng), dec(rng));
            let f = Filter::LotSize {
                min_qty: a,
                max_qty: b,
                step_size: c,
            };
            let fields = vec![
                tag("LOT_SIZE"),
                ("minQty", an, true),
                ("maxQty", bn, true),
                ("stepSize", cn, true),
            ];
            (f, obj(rng, fields))
        }
        2 => {
            let (a, an) = dec(rng);
            let fields = vec![tag("NOTIONAL"), ("minNotional", an, true)];
            (Filter::Notional { min_notional: a }, obj(rng, fields))
        }
        3 => {
            let (a, an) = dec(rng);
            let fields = vec![tag("MIN_NOTIONAL"), ("minNotional", an, true)];
            (Filter::MinNotional { min_notional: a }, obj(rng, fields))
        }
        _ => {
            let t = rng.pick(&["ICEBERG_PARTS", "MAX_NUM_ORDERS", "PERCENT_PRICE_BY_SIDE"]);
            (Filter::Other, obj(rng, vec![tag(t)]))
        }
    }
}

fn symbol_info(rng: &mut Rng) -> (SymbolInfo, Node) {
    let (symbol, a) = string(rng);
    let (status, b) = string(rng);
    let (base_asset, c) = string(rng);
    let (quote_asset, d) = string(rng);
    let (order_types, e) = list(rng, order_type);
    let (filters, f) = list(rng, filter);
    let mut fields = vec![
        ("symbol", a, true),
        ("status", b, true),
        ("baseAsset", c, true),
        ("quoteAsset", d, true),
        ("orderTypes", Node::List(e), true),
        ("filters", Node::List(f), true),
    ];
    // Absent, `ocoAllowed` is false: keel then places no OCO.
    let oco_allowed = if rng.one_in(4) {
        false
    } else {
        let (b, n) = boolean(rng);
        fields.push(("ocoAllowed", n, false));
        b
    };
    let info = SymbolInfo {
        symbol,
        status,
        base_asset,
        quote_asset,
        order_types,
        oco_allowed,
        filters,
    };
    (info, obj(rng, fields))
}

fn rate_limit(rng: &mut Rng) -> (RateLimit, Node) {
    let (rate_limit_type, a) = string(rng);
    let (interval, b) = string(rng);
    let (interval_num, c) = uint32(rng);
    let (limit, d) = uint32(rng);
    let fields = vec![
        ("rateLimitType", a, true),
        ("interval", b, true),
        ("intervalNum", c, true),
        ("limit", d, true),
    ];
    let r = RateLimit {
        rate_limit_type,
        interval,
        interval_num,
        limit,
    };
    (r, obj(rng, fields))
}

fn exchange_info(rng: &mut Rng) -> (Body, Node) {
    let (timezone, a) = string(rng);
    let (server_time, b) = int64(rng);
    let (rate_limits, c) = list(rng, rate_limit);
    let (symbols, d) = list(rng, symbol_info);
    let fields = vec![
        ("timezone", a, true),
        ("serverTime", b, true),
        ("rateLimits", Node::List(c), true),
        ("symbols", Node::List(d), true),
    ];
    let info = ExchangeInfo {
        timezone,
        server_time,
        rate_limits,
        symbols,
    };
    (Body::ExchangeInfo(info), obj(rng, fields))
}

fn fill(rng: &mut Rng) -> (OrderFill, Node) {
    let (price, a) = dec(rng);
    let (qty, b) = dec(rng);
    let (commission, c) = dec(rng);
    let (commission_asset, d) = string(rng);
    let (trade_id, e) = uint64(rng);
    let fields = vec![
        ("price", a, true),
        ("qty", b, true),
        ("commission", c, true),
        ("commissionAsset", d, true),
        ("tradeId", e, true),
    ];
    let f = OrderFill {
        price,
        qty,
        commission,
        commission_asset,
        trade_id,
    };
    (f, obj(rng, fields))
}

/// An order response in its ACK, RESULT or FULL form, optional fields now and then absent or
/// `null`.
fn order_response(rng: &mut Rng) -> (OrderResponse, Node) {
    let (symbol, a) = string(rng);
    let (order_id, b) = uint64(rng);
    let (order_list_id, c) = int64(rng);
    let (client_order_id, d) = string(rng);
    let (transact_time, e) = int64(rng);
    let mut fields = vec![
        ("symbol", a, true),
        ("orderId", b, true),
        ("orderListId", c, true),
        ("clientOrderId", d, true),
        ("transactTime", e, true),
    ];
    let form = rng.below(3);
    let mut o = OrderResponse {
        symbol,
        order_id,
        order_list_id,
        client_order_id,
        transact_time,
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
    if form >= 1 {
        let f = &mut fields;
        let v = dec(rng);
        o.price = optional(rng, f, "price", v);
        let v = dec(rng);
        o.orig_qty = optional(rng, f, "origQty", v);
        let v = dec(rng);
        o.executed_qty = optional(rng, f, "executedQty", v);
        let v = dec(rng);
        o.cummulative_quote_qty = optional(rng, f, "cummulativeQuoteQty", v);
        let v = state(rng);
        o.status = optional(rng, f, "status", v);
        let v = tif(rng);
        o.time_in_force = optional(rng, f, "timeInForce", v);
        let v = order_type(rng);
        o.order_type = optional(rng, f, "type", v);
        let v = side(rng);
        o.side = optional(rng, f, "side", v);
        let v = int64(rng);
        o.working_time = optional(rng, f, "workingTime", v);
    }
    if form == 2 {
        let (fills, nodes) = list(rng, fill);
        let v = (fills, Node::List(nodes));
        o.fills = optional(rng, &mut fields, "fills", v);
    }
    (o, obj(rng, fields))
}

fn queried_order(rng: &mut Rng) -> (QueriedOrder, Node) {
    let (symbol, a) = string(rng);
    let (order_id, b) = uint64(rng);
    let (order_list_id, c) = int64(rng);
    let (client_order_id, d) = string(rng);
    let (price, e) = dec(rng);
    let (orig_qty, f) = dec(rng);
    let (executed_qty, g) = dec(rng);
    let (cummulative_quote_qty, h) = dec(rng);
    let (status, i) = state(rng);
    let (time_in_force, j) = tif(rng);
    let (order_type, k) = order_type(rng);
    let (side, l) = side(rng);
    let (stop_price, m) = dec(rng);
    let (time, n) = int64(rng);
    let (update_time, o) = int64(rng);
    let (is_working, p) = boolean(rng);
    let fields = vec![
        ("symbol", a, true),
        ("orderId", b, true),
        ("orderListId", c, true),
        ("clientOrderId", d, true),
        ("price", e, true),
        ("origQty", f, true),
        ("executedQty", g, true),
        ("cummulativeQuoteQty", h, true),
        ("status", i, true),
        ("timeInForce", j, true),
        ("type", k, true),
        ("side", l, true),
        ("stopPrice", m, true),
        ("time", n, true),
        ("updateTime", o, true),
        ("isWorking", p, true),
    ];
    let q = QueriedOrder {
        symbol,
        order_id,
        order_list_id,
        client_order_id,
        price,
        orig_qty,
        executed_qty,
        cummulative_quote_qty,
        status,
        time_in_force,
        order_type,
        side,
        stop_price,
        time,
        update_time,
        is_working,
    };
    (q, obj(rng, fields))
}

fn my_trade(rng: &mut Rng) -> (MyTrade, Node) {
    let (symbol, a) = string(rng);
    let (id, b) = uint64(rng);
    let (order_id, c) = uint64(rng);
    let (order_list_id, d) = int64(rng);
    let (price, e) = dec(rng);
    let (qty, f) = dec(rng);
    let (quote_qty, g) = dec(rng);
    let (commission, h) = dec(rng);
    let (commission_asset, i) = string(rng);
    let (time, j) = int64(rng);
    let (is_buyer, k) = boolean(rng);
    let (is_maker, l) = boolean(rng);
    let (is_best_match, m) = boolean(rng);
    let fields = vec![
        ("symbol", a, true),
        ("id", b, true),
        ("orderId", c, true),
        ("orderListId", d, true),
        ("price", e, true),
        ("qty", f, true),
        ("quoteQty", g, true),
        ("commission", h, true),
        ("commissionAsset", i, true),
        ("time", j, true),
        ("isBuyer", k, true),
        ("isMaker", l, true),
        ("isBestMatch", m, true),
    ];
    let t = MyTrade {
        symbol,
        id,
        order_id,
        order_list_id,
        price,
        qty,
        quote_qty,
        commission,
        commission_asset,
        time,
        is_buyer,
        is_maker,
        is_best_match,
    };
    (t, obj(rng, fields))
}

fn balance(rng: &mut Rng) -> (Balance, Node) {
    let (asset, a) = string(rng);
    let (free, b) = dec(rng);
    let (locked, c) = dec(rng);
    let fields = vec![("asset", a, true), ("free", b, true), ("locked", c, true)];
    (
        Balance {
            asset,
            free,
            locked,
        },
        obj(rng, fields),
    )
}

fn account(rng: &mut Rng) -> (Body, Node) {
    let (can_trade, a) = boolean(rng);
    let (account_type, b) = string(rng);
    let (update_time, c) = int64(rng);
    let (balances, d) = list(rng, balance);
    let ((maker, m), (taker, t), (buyer, bu), (seller, s)) =
        (dec(rng), dec(rng), dec(rng), dec(rng));
    let rates = obj(
        rng,
        vec![
            ("maker", m, true),
            ("taker", t, true),
            ("buyer", bu, true),
            ("seller", s, true),
        ],
    );
    let fields = vec![
        ("canTrade", a, true),
        ("accountType", b, true),
        ("updateTime", c, true),
        ("balances", Node::List(d), true),
        ("commissionRates", rates, true),
    ];
    let account = Account {
        can_trade,
        account_type,
        update_time,
        balances,
        commission_rates: CommissionRates {
            maker,
            taker,
            buyer,
            seller,
        },
    };
    (Body::Account(account), obj(rng, fields))
}

fn list_member(rng: &mut Rng) -> (ListMember, Node) {
    let (symbol, a) = string(rng);
    let (order_id, b) = uint64(rng);
    let (client_order_id, c) = string(rng);
    let fields = vec![
        ("symbol", a, true),
        ("orderId", b, true),
        ("clientOrderId", c, true),
    ];
    let m = ListMember {
        symbol,
        order_id,
        client_order_id,
    };
    (m, obj(rng, fields))
}

fn order_list(rng: &mut Rng) -> (OrderListResponse, Node) {
    let (order_list_id, a) = int64(rng);
    let (contingency_type, b) = string(rng);
    let (list_status_type, c) = string(rng);
    let (list_order_status, d) = string(rng);
    let (list_client_order_id, e) = string(rng);
    let (transaction_time, f) = int64(rng);
    let (symbol, g) = string(rng);
    let (orders, h) = list(rng, list_member);
    let mut fields = vec![
        ("orderListId", a, true),
        ("contingencyType", b, true),
        ("listStatusType", c, true),
        ("listOrderStatus", d, true),
        ("listClientOrderId", e, true),
        ("transactionTime", f, true),
        ("symbol", g, true),
        ("orders", Node::List(h), true),
    ];
    // Absent on a query: no reports.
    let order_reports = if rng.one_in(3) {
        Vec::new()
    } else {
        let (reports, nodes) = list(rng, order_response);
        fields.push(("orderReports", Node::List(nodes), false));
        reports
    };
    let l = OrderListResponse {
        order_list_id,
        contingency_type,
        list_status_type,
        list_order_status,
        list_client_order_id,
        transaction_time,
        symbol,
        orders,
        order_reports,
    };
    (l, obj(rng, fields))
}

fn combined(rng: &mut Rng, data: Node) -> (String, Node) {
    let (stream, s) = string(rng);
    (
        stream,
        obj(rng, vec![("stream", s, true), ("data", data, true)]),
    )
}

fn trade_event(rng: &mut Rng) -> (Body, Node) {
    let (event_type, a) = string(rng);
    let (event_time, b) = int64(rng);
    let (symbol, c) = string(rng);
    let (trade_id, d) = uint64(rng);
    let (price, e) = dec(rng);
    let (qty, f) = dec(rng);
    let (trade_time, g) = int64(rng);
    let (buyer_is_maker, h) = boolean(rng);
    let fields = vec![
        ("e", a, true),
        ("E", b, true),
        ("s", c, true),
        ("t", d, true),
        ("p", e, true),
        ("q", f, true),
        ("T", g, true),
        ("m", h, true),
    ];
    let data = obj(rng, fields);
    let (stream, node) = combined(rng, data);
    let event = TradeEvent {
        event_type,
        event_time,
        symbol,
        trade_id,
        price,
        qty,
        trade_time,
        buyer_is_maker,
    };
    (
        Body::Trade(Combined {
            stream,
            data: event,
        }),
        node,
    )
}

fn book_ticker(rng: &mut Rng) -> (Body, Node) {
    let (update_id, a) = uint64(rng);
    let (symbol, b) = string(rng);
    let (bid, c) = dec(rng);
    let (bid_qty, d) = dec(rng);
    let (ask, e) = dec(rng);
    let (ask_qty, f) = dec(rng);
    let fields = vec![
        ("u", a, true),
        ("s", b, true),
        ("b", c, true),
        ("B", d, true),
        ("a", e, true),
        ("A", f, true),
    ];
    let data = obj(rng, fields);
    let (stream, node) = combined(rng, data);
    let event = BookTickerEvent {
        update_id,
        symbol,
        bid,
        bid_qty,
        ask,
        ask_qty,
    };
    (
        Body::BookTicker(Combined {
            stream,
            data: event,
        }),
        node,
    )
}
