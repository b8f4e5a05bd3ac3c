//! Account endpoints: orders (placed once, never retried), OCO lists, queries, cancels,
//! open orders, trades, balances. Prices are rounded to the tick, quantities down to the
//! step, and the notional checked, before anything is sent.

use rust_decimal::Decimal;

use super::query::Query;
use super::transport::{
    lock, Endpoint, ACCOUNT, CANCEL_LIST, CANCEL_ORDER, MY_TRADES, NEW_OCO, NEW_ORDER, OPEN_ORDERS,
    QUERY_LIST, QUERY_ORDER,
};
use super::{BinanceClient, VenueError};
use crate::codes;
use crate::model::Symbol;
use crate::wire::{
    Account, MyTrade, OrderListResponse, OrderResponse, OrderSide, OrderType, QueriedOrder,
};
use crate::SymbolFilters;

/// The order types keel places, with their prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewOrderKind {
    /// At the market.
    Market,
    /// A limit order, good till cancelled.
    Limit {
        /// Limit price (rounded to the tick).
        price: Decimal,
    },
    /// A market order triggered at `stop_price`.
    StopLoss {
        /// Trigger price (rounded to the tick).
        stop_price: Decimal,
    },
    /// A limit order refused if it would trade at once (post-only).
    LimitMaker {
        /// Limit price (rounded to the tick).
        price: Decimal,
    },
}

/// How much the venue says in a placement answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResponseType {
    /// Ids and time only.
    Ack,
    /// Plus status and executed quantities.
    #[default]
    Result,
    /// Plus the fills.
    Full,
}

impl ResponseType {
    fn as_str(self) -> &'static str {
        match self {
            ResponseType::Ack => "ACK",
            ResponseType::Result => "RESULT",
            ResponseType::Full => "FULL",
        }
    }
}

/// An order to place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// The pair.
    pub symbol: Symbol,
    /// Buy or sell.
    pub side: OrderSide,
    /// Type and price.
    pub kind: NewOrderKind,
    /// Base quantity (rounded down to the step).
    pub quantity: Decimal,
    /// keel's deterministic id (`[A-Za-z0-9_-]{1,36}`): the key of every later query.
    pub client_order_id: String,
    /// The answer's detail.
    pub response: ResponseType,
}

/// A SELL OCO closing a long: a LIMIT_MAKER take-profit above and a STOP_LOSS below, sharing
/// one quantity (`POST /api/v3/orderList/oco`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOco {
    /// The pair.
    pub symbol: Symbol,
    /// Base quantity of both legs (rounded down to the step).
    pub quantity: Decimal,
    /// The list's client id.
    pub list_client_id: String,
    /// Take-profit limit price (LIMIT_MAKER).
    pub above_price: Decimal,
    /// The take-profit leg's client id.
    pub above_client_id: String,
    /// Stop trigger (STOP_LOSS).
    pub below_stop_price: Decimal,
    /// The stop leg's client id.
    pub below_client_id: String,
}

/// Binance's rule for client ids.
fn check_client_id(ep: Endpoint, id: &str) -> Result<(), VenueError> {
    let ok = (1..=36).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(VenueError::Local {
            endpoint: ep.name,
            reason: format!("client id `{id}` must be 1 to 36 of [A-Za-z0-9_-]"),
        })
    }
}

fn local(ep: Endpoint, symbol: &Symbol, e: impl std::fmt::Display) -> VenueError {
    VenueError::Local {
        endpoint: ep.name,
        reason: format!("{symbol}: {e}"),
    }
}

/// The query string of `order`, rounded and checked against `f`.
pub(super) fn order_query(order: &NewOrder, f: &SymbolFilters) -> Result<Query, VenueError> {
    let ep = NEW_ORDER;
    check_client_id(ep, &order.client_order_id)?;
    let sym = &order.symbol;
    let qty = f.quantity(order.quantity).map_err(|e| local(ep, sym, e))?;
    let mut q = Query::new();
    q.push("symbol", sym.as_str())
        .push("side", order.side.as_str());
    match order.kind {
        NewOrderKind::Market => {
            q.push("type", OrderType::Market.as_str());
        }
        NewOrderKind::Limit { price } => {
            let price = f.price(price).map_err(|e| local(ep, sym, e))?;
            f.notional(qty, price).map_err(|e| local(ep, sym, e))?;
            q.push("type", OrderType::Limit.as_str())
                .push("timeInForce", "GTC")
                .push("price", price);
        }
        NewOrderKind::StopLoss { stop_price } => {
            let stop = f.price(stop_price).map_err(|e| local(ep, sym, e))?;
            f.notional(qty, stop).map_err(|e| local(ep, sym, e))?;
            q.push("type", OrderType::StopLoss.as_str())
                .push("stopPrice", stop);
        }
        NewOrderKind::LimitMaker { price } => {
            let price = f.price(price).map_err(|e| local(ep, sym, e))?;
            f.notional(qty, price).map_err(|e| local(ep, sym, e))?;
            q.push("type", OrderType::LimitMaker.as_str())
                .push("price", price);
        }
    }
    q.push("quantity", qty)
        .push("newClientOrderId", &order.client_order_id)
        .push("newOrderRespType", order.response.as_str());
    Ok(q)
}

/// The query string of `oco`, rounded and checked against `f`.
pub(super) fn oco_query(oco: &NewOco, f: &SymbolFilters) -> Result<Query, VenueError> {
    let ep = NEW_OCO;
    for id in [
        &oco.list_client_id,
        &oco.above_client_id,
        &oco.below_client_id,
    ] {
        check_client_id(ep, id)?;
    }
    let sym = &oco.symbol;
    let qty = f.quantity(oco.quantity).map_err(|e| local(ep, sym, e))?;
    let above = f.price(oco.above_price).map_err(|e| local(ep, sym, e))?;
    let below = f
        .price(oco.below_stop_price)
        .map_err(|e| local(ep, sym, e))?;
    if below >= above {
        return Err(local(
            ep,
            sym,
            format!("the stop {below} must be below the take-profit {above}"),
        ));
    }
    f.notional(qty, below).map_err(|e| local(ep, sym, e))?;
    let mut q = Query::new();
    q.push("symbol", sym.as_str())
        .push("side", OrderSide::Sell.as_str())
        .push("quantity", qty)
        .push("listClientOrderId", &oco.list_client_id)
        .push("aboveType", OrderType::LimitMaker.as_str())
        .push("abovePrice", above)
        .push("aboveClientOrderId", &oco.above_client_id)
        .push("belowType", OrderType::StopLoss.as_str())
        .push("belowStopPrice", below)
        .push("belowClientOrderId", &oco.below_client_id)
        .push("newOrderRespType", ResponseType::Result.as_str());
    Ok(q)
}

impl BinanceClient {
    /// `POST /api/v3/order`, sent **once**. Refused locally (nothing sent) when the rounded
    /// order breaks the symbol's filters. On [`VenueError::OutcomeUnknown`] resolve with
    /// [`resolve`](Self::resolve), never by resending (see the module docs).
    pub async fn place_order(&self, order: &NewOrder) -> Result<OrderResponse, VenueError> {
        let filters = self.filters(&order.symbol).await?;
        let q = order_query(order, &filters)?;
        let result = self.write(NEW_ORDER, &q).await;
        if matches!(result, Err(VenueError::OutcomeUnknown { .. })) {
            self.stamp(&order.client_order_id);
        }
        result
    }

    /// `POST /api/v3/orderList/oco`, sent **once**; an unknown outcome is resolved by
    /// querying the list ([`query_list`](Self::query_list)) or a leg's client id.
    pub async fn place_oco(&self, oco: &NewOco) -> Result<OrderListResponse, VenueError> {
        let filters = self.filters(&oco.symbol).await?;
        let q = oco_query(oco, &filters)?;
        for id in [
            &oco.list_client_id,
            &oco.above_client_id,
            &oco.below_client_id,
        ] {
            self.stamp(id);
        }
        self.write(NEW_OCO, &q).await
    }

    /// `GET /api/v3/order` by client id; `None` when the venue has no such order (`-2013`).
    pub async fn query_order(
        &self,
        symbol: &Symbol,
        client_id: &str,
    ) -> Result<Option<QueriedOrder>, VenueError> {
        let mut q = Query::new();
        q.push("symbol", symbol.as_str())
            .push("origClientOrderId", client_id);
        absent_is_none(self.read(QUERY_ORDER, q).await)
    }

    /// `DELETE /api/v3/order` by client id, sent once. `-2011`/`-2013` come back as
    /// [`VenueError::Rejected`] (nothing to cancel).
    pub async fn cancel_order(
        &self,
        symbol: &Symbol,
        client_id: &str,
    ) -> Result<OrderResponse, VenueError> {
        let mut q = Query::new();
        q.push("symbol", symbol.as_str())
            .push("origClientOrderId", client_id);
        self.write(CANCEL_ORDER, &q).await
    }

    /// `GET /api/v3/orderList` by list client id; `None` when there is no such list.
    pub async fn query_list(
        &self,
        symbol: &Symbol,
        list_client_id: &str,
    ) -> Result<Option<OrderListResponse>, VenueError> {
        let mut q = Query::new();
        q.push("symbol", symbol.as_str())
            .push("origClientOrderId", list_client_id);
        absent_is_none(self.read(QUERY_LIST, q).await)
    }

    /// `DELETE /api/v3/orderList` by list client id, sent once.
    pub async fn cancel_list(
        &self,
        symbol: &Symbol,
        list_client_id: &str,
    ) -> Result<OrderListResponse, VenueError> {
        let mut q = Query::new();
        q.push("symbol", symbol.as_str())
            .push("listClientOrderId", list_client_id);
        self.write(CANCEL_LIST, &q).await
    }

    /// `GET /api/v3/openOrders` of `symbol`.
    pub async fn open_orders(&self, symbol: &Symbol) -> Result<Vec<QueriedOrder>, VenueError> {
        let mut q = Query::new();
        q.push("symbol", symbol.as_str());
        self.read(OPEN_ORDERS, q).await
    }

    /// `GET /api/v3/myTrades` of `symbol`, from trade id `from_id` on (up to 1000).
    pub async fn my_trades(
        &self,
        symbol: &Symbol,
        from_id: Option<u64>,
    ) -> Result<Vec<MyTrade>, VenueError> {
        let mut q = Query::new();
        q.push("symbol", symbol.as_str())
            .push_opt("fromId", from_id)
            .push("limit", 1000);
        self.read(MY_TRADES, q).await
    }

    /// `GET /api/v3/account`: balances and fee rates.
    pub async fn account(&self) -> Result<Account, VenueError> {
        self.read(ACCOUNT, Query::new()).await
    }

    /// Remembers when an order request for `client_id` ended with an unknown outcome (venue
    /// clock): its `timestamp` was no later, so its recvWindow closes no later than this plus
    /// the window.
    fn stamp(&self, client_id: &str) {
        let now = self.server_now();
        let mut stamps = lock(&self.0.order_stamps);
        if stamps.len() > 10_000 {
            stamps.clear();
        }
        stamps.insert(client_id.to_string(), now);
    }
}

fn absent_is_none<T>(result: Result<T, VenueError>) -> Result<Option<T>, VenueError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.code() == Some(codes::NO_SUCH_ORDER) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn btc() -> SymbolFilters {
        SymbolFilters {
            tick_size: dec!(0.01),
            step_size: dec!(0.00001),
            min_qty: dec!(0.00001),
            max_qty: dec!(9000),
            min_notional: dec!(5),
        }
    }

    fn order(kind: NewOrderKind, quantity: Decimal) -> NewOrder {
        NewOrder {
            symbol: Symbol::parse("BTCUSDT").unwrap(),
            side: OrderSide::Buy,
            kind,
            quantity,
            client_order_id: "run1-BTCUSDT-7".into(),
            response: ResponseType::Full,
        }
    }

    #[test]
    fn a_limit_order_is_rounded_to_tick_and_step_in_binances_parameter_order() {
        let q = order_query(
            &order(
                NewOrderKind::Limit {
                    price: dec!(20000.005),
                },
                dec!(0.0012345678),
            ),
            &btc(),
        )
        .unwrap();
        assert_eq!(
            q.as_str(),
            "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&price=20000.01\
             &quantity=0.00123&newClientOrderId=run1-BTCUSDT-7&newOrderRespType=FULL"
        );
    }

    #[test]
    fn orders_breaking_the_filters_are_refused_before_sending_with_the_reason() {
        let err = order_query(
            &order(NewOrderKind::Limit { price: dec!(20000) }, dec!(0.0002)),
            &btc(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "POST /api/v3/order: BTCUSDT: notional 4.0000 is below the minimum 5"
        );
        let err = order_query(&order(NewOrderKind::Market, dec!(0.000001)), &btc()).unwrap_err();
        assert!(err.to_string().contains("lot size"), "{err}");
        let mut bad_id = order(NewOrderKind::Market, dec!(1));
        bad_id.client_order_id = "has space".into();
        assert!(order_query(&bad_id, &btc())
            .unwrap_err()
            .to_string()
            .contains("client id"));
    }

    #[test]
    fn an_oco_names_both_legs_and_checks_their_order() {
        let oco = NewOco {
            symbol: Symbol::parse("BTCUSDT").unwrap(),
            quantity: dec!(0.01),
            list_client_id: "L1".into(),
            above_price: dec!(22000.004),
            above_client_id: "L1-tp".into(),
            below_stop_price: dec!(19000),
            below_client_id: "L1-sl".into(),
        };
        assert_eq!(
            oco_query(&oco, &btc()).unwrap().as_str(),
            "symbol=BTCUSDT&side=SELL&quantity=0.01&listClientOrderId=L1&aboveType=LIMIT_MAKER\
             &abovePrice=22000&aboveClientOrderId=L1-tp&belowType=STOP_LOSS\
             &belowStopPrice=19000&belowClientOrderId=L1-sl&newOrderRespType=RESULT"
        );
        let inverted = NewOco {
            below_stop_price: dec!(23000),
            ..oco
        };
        assert!(oco_query(&inverted, &btc()).is_err());
    }
}
