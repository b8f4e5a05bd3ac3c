//! Binance spot's wire format: REST bodies and market-stream payloads, as PROTOCOLS.md
//! describes them. Decimals travel as strings (`"0.00100000"`) and parse exactly.
//!
//! The market-stream payloads are in [`stream`] (re-exported here).
//!
//! Optional response fields are `None` when absent, so one [`OrderResponse`] reads the ACK,
//! RESULT and FULL forms; serialising skips them, so the sim venue writes each form exactly.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::check_ohlcv;
use crate::model::{Candle, Interval, Symbol, Timestamp};

mod decimal;
#[cfg(test)]
mod props;
mod stream;
pub mod user;
pub use decimal::parse_exact;
pub use stream::{BookTickerEvent, Combined, KlineBody, KlineEvent, TradeEvent};

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderSide {
    /// Buy the base asset.
    Buy,
    /// Sell the base asset.
    Sell,
}

/// Order types of the spot API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderType {
    /// At a price or better, resting until filled.
    Limit,
    /// At the market.
    Market,
    /// A market order triggered at `stopPrice`.
    StopLoss,
    /// A limit order triggered at `stopPrice`.
    StopLossLimit,
    /// A market order triggered at `stopPrice` (profit side).
    TakeProfit,
    /// A limit order triggered at `stopPrice` (profit side).
    TakeProfitLimit,
    /// A limit order rejected if it would trade at once.
    LimitMaker,
}

/// How long an order works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TimeInForce {
    /// Good till cancelled.
    Gtc,
    /// Immediate or cancel.
    Ioc,
    /// Fill or kill.
    Fok,
}

/// An order's status at the venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderState {
    /// Accepted and working.
    New,
    /// Partly executed.
    PartiallyFilled,
    /// Completely executed.
    Filled,
    /// Cancelled by the user (or its OCO sibling).
    Canceled,
    /// Being cancelled.
    PendingCancel,
    /// Refused.
    Rejected,
    /// Expired (time in force, or by the venue).
    Expired,
    /// Expired by self-trade prevention.
    ExpiredInMatch,
}

impl OrderState {
    /// Whether the order can still execute.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            OrderState::New | OrderState::PartiallyFilled | OrderState::PendingCancel
        )
    }
}

macro_rules! wire_names {
    ($ty:ty { $($variant:ident => $name:literal),* $(,)? }) => {
        impl $ty {
            /// The name on the wire (`BUY`, `STOP_LOSS`, `GTC`, ...), for query strings.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name),*
                }
            }
        }
    };
}
wire_names!(OrderSide { Buy => "BUY", Sell => "SELL" });
wire_names!(OrderType {
    Limit => "LIMIT",
    Market => "MARKET",
    StopLoss => "STOP_LOSS",
    StopLossLimit => "STOP_LOSS_LIMIT",
    TakeProfit => "TAKE_PROFIT",
    TakeProfitLimit => "TAKE_PROFIT_LIMIT",
    LimitMaker => "LIMIT_MAKER",
});
wire_names!(TimeInForce { Gtc => "GTC", Ioc => "IOC", Fok => "FOK" });
wire_names!(OrderState {
    New => "NEW",
    PartiallyFilled => "PARTIALLY_FILLED",
    Filled => "FILLED",
    Canceled => "CANCELED",
    PendingCancel => "PENDING_CANCEL",
    Rejected => "REJECTED",
    Expired => "EXPIRED",
    ExpiredInMatch => "EXPIRED_IN_MATCH",
});

/// `GET /api/v3/time`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerTime {
    /// The server's clock, ms since the epoch.
    pub server_time: i64,
}

/// The body of every 4xx/5xx answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    /// Negative error code (see [`codes`](super::codes)).
    pub code: i64,
    /// Human-readable message.
    pub msg: String,
}

/// One rate limit of exchangeInfo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    /// `REQUEST_WEIGHT`, `ORDERS` or `RAW_REQUESTS`.
    pub rate_limit_type: String,
    /// `SECOND`, `MINUTE` or `DAY`.
    pub interval: String,
    /// How many intervals the window spans.
    pub interval_num: u32,
    /// The limit in that window.
    pub limit: u32,
}

/// `GET /api/v3/exchangeInfo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeInfo {
    /// Always `UTC`.
    pub timezone: String,
    /// The server's clock.
    pub server_time: i64,
    /// The limits in force (authoritative over any documented figure).
    pub rate_limits: Vec<RateLimit>,
    /// The symbols asked for.
    pub symbols: Vec<SymbolInfo>,
}

/// One symbol of exchangeInfo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SymbolInfo {
    /// E.g. `BTCUSDT`.
    pub symbol: String,
    /// `TRADING` when orders are accepted.
    pub status: String,
    /// E.g. `BTC`.
    pub base_asset: String,
    /// E.g. `USDT`.
    pub quote_asset: String,
    /// Order types accepted.
    pub order_types: Vec<OrderType>,
    /// Whether OCO order lists are accepted.
    #[serde(default)]
    pub oco_allowed: bool,
    /// Trading rules.
    pub filters: Vec<Filter>,
}

/// A trading rule of a symbol; the kinds keel does not use are read as `Other`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "filterType")]
pub enum Filter {
    /// Price bounds and tick.
    #[serde(rename = "PRICE_FILTER", rename_all = "camelCase")]
    Price {
        /// Lowest price.
        #[serde(deserialize_with = "decimal::exact")]
        min_price: Decimal,
        /// Highest price.
        #[serde(deserialize_with = "decimal::exact")]
        max_price: Decimal,
        /// Prices are multiples of this.
        #[serde(deserialize_with = "decimal::exact")]
        tick_size: Decimal,
    },
    /// Quantity bounds and step.
    #[serde(rename = "LOT_SIZE", rename_all = "camelCase")]
    LotSize {
        /// Smallest quantity.
        #[serde(deserialize_with = "decimal::exact")]
        min_qty: Decimal,
        /// Largest quantity.
        #[serde(deserialize_with = "decimal::exact")]
        max_qty: Decimal,
        /// Quantities are multiples of this.
        #[serde(deserialize_with = "decimal::exact")]
        step_size: Decimal,
    },
    /// Smallest notional.
    #[serde(rename = "NOTIONAL", rename_all = "camelCase")]
    Notional {
        /// Price × quantity at least this.
        #[serde(deserialize_with = "decimal::exact")]
        min_notional: Decimal,
    },
    /// Smallest notional (the older filter).
    #[serde(rename = "MIN_NOTIONAL", rename_all = "camelCase")]
    MinNotional {
        /// Price × quantity at least this.
        #[serde(deserialize_with = "decimal::exact")]
        min_notional: Decimal,
    },
    /// A filter keel does not check.
    #[serde(other)]
    Other,
}

/// One row of `GET /api/v3/klines`: `[openTime, "open", "high", "low", "close", "volume",
/// closeTime, "quoteVolume", trades, "takerBuyBase", "takerBuyQuote", "0"]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KlineRow(
    pub i64,
    #[serde(deserialize_with = "decimal::exact")] pub Decimal,
    #[serde(deserialize_with = "decimal::exact")] pub Decimal,
    #[serde(deserialize_with = "decimal::exact")] pub Decimal,
    #[serde(deserialize_with = "decimal::exact")] pub Decimal,
    #[serde(deserialize_with = "decimal::exact")] pub Decimal,
    pub i64,
    #[serde(deserialize_with = "decimal::exact")] pub Decimal,
    pub u64,
    #[serde(deserialize_with = "decimal::exact")] pub Decimal,
    #[serde(deserialize_with = "decimal::exact")] pub Decimal,
    pub String,
);

impl KlineRow {
    /// The row as a candle of `symbol`, checked: its span must be `interval` and its prices
    /// consistent (see [`check_ohlcv`]).
    pub fn to_candle(&self, symbol: &Symbol, interval: Interval) -> Result<Candle, String> {
        bar(
            symbol,
            interval,
            self.0,
            self.6,
            [self.1, self.2, self.3, self.4, self.5],
        )
    }

    /// The row Binance would send for `candle` (trade counts and taker volumes are not kept
    /// in candle files: zero).
    pub fn from_candle(candle: &Candle) -> Self {
        KlineRow(
            candle.open_time.0,
            candle.open,
            candle.high,
            candle.low,
            candle.close,
            candle.volume,
            candle.close_time().0 - 1,
            (candle.volume * candle.close).round_dp(8),
            0,
            Decimal::ZERO,
            Decimal::ZERO,
            "0".to_string(),
        )
    }
}

/// A fill inside a FULL order response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderFill {
    /// Execution price.
    #[serde(deserialize_with = "decimal::exact")]
    pub price: Decimal,
    /// Quantity.
    #[serde(deserialize_with = "decimal::exact")]
    pub qty: Decimal,
    /// Fee charged.
    #[serde(deserialize_with = "decimal::exact")]
    pub commission: Decimal,
    /// The asset the fee was charged in.
    pub commission_asset: String,
    /// The venue's trade id.
    pub trade_id: u64,
}

/// `POST /api/v3/order` in its ACK, RESULT or FULL form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderResponse {
    /// The symbol.
    pub symbol: String,
    /// The venue's id.
    pub order_id: u64,
    /// `-1` unless the order belongs to a list.
    pub order_list_id: i64,
    /// The client's id.
    pub client_order_id: String,
    /// When the venue took it.
    pub transact_time: i64,
    /// Limit price (`0` for market orders). RESULT and FULL.
    #[serde(
        default,
        deserialize_with = "decimal::exact_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub price: Option<Decimal>,
    /// Quantity ordered. RESULT and FULL.
    #[serde(
        default,
        deserialize_with = "decimal::exact_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub orig_qty: Option<Decimal>,
    /// Quantity executed. RESULT and FULL.
    #[serde(
        default,
        deserialize_with = "decimal::exact_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub executed_qty: Option<Decimal>,
    /// Quote spent or received. RESULT and FULL.
    #[serde(
        default,
        deserialize_with = "decimal::exact_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub cummulative_quote_qty: Option<Decimal>,
    /// Status. RESULT and FULL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<OrderState>,
    /// Time in force. RESULT and FULL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_in_force: Option<TimeInForce>,
    /// Type. RESULT and FULL.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub order_type: Option<OrderType>,
    /// Side. RESULT and FULL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side: Option<OrderSide>,
    /// When it started working. RESULT and FULL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_time: Option<i64>,
    /// Executions so far. FULL only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fills: Option<Vec<OrderFill>>,
}

/// An order as `GET /api/v3/order` and `GET /api/v3/openOrders` return it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueriedOrder {
    /// The symbol.
    pub symbol: String,
    /// The venue's id.
    pub order_id: u64,
    /// `-1` unless the order belongs to a list.
    pub order_list_id: i64,
    /// The client's id.
    pub client_order_id: String,
    /// Limit price (`0` for market and stop-loss orders).
    #[serde(deserialize_with = "decimal::exact")]
    pub price: Decimal,
    /// Quantity ordered.
    #[serde(deserialize_with = "decimal::exact")]
    pub orig_qty: Decimal,
    /// Quantity executed.
    #[serde(deserialize_with = "decimal::exact")]
    pub executed_qty: Decimal,
    /// Quote spent or received.
    #[serde(deserialize_with = "decimal::exact")]
    pub cummulative_quote_qty: Decimal,
    /// Status.
    pub status: OrderState,
    /// Time in force.
    pub time_in_force: TimeInForce,
    /// Type.
    #[serde(rename = "type")]
    pub order_type: OrderType,
    /// Side.
    pub side: OrderSide,
    /// Trigger price (`0` when none).
    #[serde(deserialize_with = "decimal::exact")]
    pub stop_price: Decimal,
    /// When it was placed.
    pub time: i64,
    /// When it last changed.
    pub update_time: i64,
    /// Whether it is on the book (a stop not yet triggered is not).
    pub is_working: bool,
}

/// One of the account's trades, from `GET /api/v3/myTrades`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MyTrade {
    /// The symbol.
    pub symbol: String,
    /// The venue's trade id.
    pub id: u64,
    /// The order it executed.
    pub order_id: u64,
    /// `-1` unless that order belongs to a list.
    pub order_list_id: i64,
    /// Price.
    #[serde(deserialize_with = "decimal::exact")]
    pub price: Decimal,
    /// Quantity.
    #[serde(deserialize_with = "decimal::exact")]
    pub qty: Decimal,
    /// Price × quantity.
    #[serde(deserialize_with = "decimal::exact")]
    pub quote_qty: Decimal,
    /// Fee charged.
    #[serde(deserialize_with = "decimal::exact")]
    pub commission: Decimal,
    /// The asset the fee was charged in.
    pub commission_asset: String,
    /// When it executed.
    pub time: i64,
    /// Whether the account bought.
    pub is_buyer: bool,
    /// Whether the account's order was resting.
    pub is_maker: bool,
    /// Always true on spot.
    pub is_best_match: bool,
}

/// One asset's balance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Balance {
    /// E.g. `BTC`.
    pub asset: String,
    /// Available.
    #[serde(deserialize_with = "decimal::exact")]
    pub free: Decimal,
    /// Held by open orders.
    #[serde(deserialize_with = "decimal::exact")]
    pub locked: Decimal,
}

/// The account's fee rates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommissionRates {
    /// Maker fee, as a fraction.
    #[serde(deserialize_with = "decimal::exact")]
    pub maker: Decimal,
    /// Taker fee, as a fraction.
    #[serde(deserialize_with = "decimal::exact")]
    pub taker: Decimal,
    /// Buyer fee, as a fraction.
    #[serde(deserialize_with = "decimal::exact")]
    pub buyer: Decimal,
    /// Seller fee, as a fraction.
    #[serde(deserialize_with = "decimal::exact")]
    pub seller: Decimal,
}

/// `GET /api/v3/account`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// Whether the account may trade.
    pub can_trade: bool,
    /// `SPOT`.
    pub account_type: String,
    /// When the account last changed.
    pub update_time: i64,
    /// Balances, one per asset held.
    pub balances: Vec<Balance>,
    /// Fee rates.
    pub commission_rates: CommissionRates,
}

/// A member order of an order list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListMember {
    /// The symbol.
    pub symbol: String,
    /// The venue's id.
    pub order_id: u64,
    /// The client's id.
    pub client_order_id: String,
}

/// `POST /api/v3/orderList/oco`, `GET` and `DELETE /api/v3/orderList`: an OCO pair whose two
/// orders share one balance, so that a stop-loss and a take-profit can both cover a position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderListResponse {
    /// The venue's id.
    pub order_list_id: i64,
    /// `OCO`.
    pub contingency_type: String,
    /// `EXEC_STARTED`, `ALL_DONE` or `RESPONSE`.
    pub list_status_type: String,
    /// `EXECUTING`, `ALL_DONE` or `REJECT`.
    pub list_order_status: String,
    /// The client's id for the list.
    pub list_client_order_id: String,
    /// When the venue took it.
    pub transaction_time: i64,
    /// The symbol.
    pub symbol: String,
    /// The two orders.
    pub orders: Vec<ListMember>,
    /// Their states (on placement and cancel; absent on a query).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order_reports: Vec<OrderResponse>,
}

/// A checked candle from a bar's times and values.
fn bar(
    symbol: &Symbol,
    interval: Interval,
    open_time: i64,
    close_time: i64,
    values: [Decimal; 5],
) -> Result<Candle, String> {
    // Checked: times near the ends of i64 are garbage, not a reason to overflow.
    let span = close_time
        .checked_add(1)
        .and_then(|end| end.checked_sub(open_time));
    if span != Some(interval.millis()) {
        return Err(format!(
            "bar {open_time}..{close_time} does not span one {interval} interval"
        ));
    }
    check_ohlcv(values)?;
    let [open, high, low, close, volume] = values;
    Ok(Candle {
        symbol: symbol.clone(),
        open_time: Timestamp(open_time),
        interval,
        open,
        high,
        low,
        close,
        volume,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn a_kline_row_with_times_at_the_ends_of_i64_is_an_error_not_an_overflow() {
        let symbol = Symbol::parse("BTCUSDT").unwrap();
        let hour = Interval::parse("1h").unwrap();
        let row = |open: i64, close: i64| {
            KlineRow(
                open,
                dec!(1),
                dec!(2),
                dec!(1),
                dec!(2),
                dec!(5),
                close,
                dec!(0),
                0,
                dec!(0),
                dec!(0),
                "0".into(),
            )
        };
        for (open, close) in [
            (0, i64::MAX),
            (i64::MIN, 3_599_999),
            (i64::MAX - 3_599_999, i64::MAX),
        ] {
            let err = row(open, close).to_candle(&symbol, hour).unwrap_err();
            assert!(err.contains("does not span one 1h interval"), "{err}");
        }
        // An hour at the very start of time spans one hour: the span check passes it.
        assert!(row(i64::MIN, i64::MIN + 3_599_999)
            .to_candle(&symbol, hour)
            .is_ok());
        assert!(row(0, 3_599_999).to_candle(&symbol, hour).is_ok());
    }

    #[test]
    fn a_kline_row_round_trips_through_a_candle() {
        let json = r#"[1499040000000,"0.01634790","0.80000000","0.01575800","0.01577100",
            "148976.11427815",1499644799999,"2434.19055334",308,"1756.87402397",
            "28.46694368","0"]"#;
        let row: KlineRow = serde_json::from_str(json).unwrap();
        let symbol = Symbol::parse("LTCBTC").unwrap();
        let week = Interval::parse("1w").unwrap();
        let candle = row.to_candle(&symbol, week).unwrap();
        assert_eq!(candle.close, dec!(0.01577100));
        assert_eq!(
            KlineRow::from_candle(&candle).to_candle(&symbol, week),
            Ok(candle)
        );
        let hour = Interval::HOUR;
        assert!(row.to_candle(&symbol, hour).unwrap_err().contains("1h"));
    }

    #[test]
    fn filters_parse_by_type_and_unknown_ones_are_kept_as_other() {
        let json = r#"[{"filterType":"PRICE_FILTER","minPrice":"0.01","maxPrice":"1000000",
            "tickSize":"0.01"},{"filterType":"LOT_SIZE","minQty":"0.00001","maxQty":"9000",
            "stepSize":"0.00001"},{"filterType":"ICEBERG_PARTS","limit":10},
            {"filterType":"NOTIONAL","minNotional":"5.0","applyMinToMarket":true,
            "maxNotional":"9000000","applyMaxToMarket":false,"avgPriceMins":5}]"#;
        let filters: Vec<Filter> = serde_json::from_str(json).unwrap();
        assert_eq!(filters[2], Filter::Other);
        assert_eq!(
            filters[3],
            Filter::Notional {
                min_notional: dec!(5.0)
            }
        );
    }

    #[test]
    fn an_ack_response_reads_and_writes_without_the_result_fields() {
        let json = r#"{"symbol":"BTCUSDT","orderId":28,"orderListId":-1,
            "clientOrderId":"6gCrw2kRUAF9CvJDGP16IP","transactTime":1507725176595}"#;
        let ack: OrderResponse = serde_json::from_str(json).unwrap();
        assert_eq!(ack.status, None);
        let written = serde_json::to_string(&ack).unwrap();
        assert!(!written.contains("status"), "{written}");
        for t in [
            OrderType::StopLoss,
            OrderType::LimitMaker,
            OrderType::TakeProfitLimit,
        ] {
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        for s in [OrderState::PartiallyFilled, OrderState::ExpiredInMatch] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(serde_json::to_value(TimeInForce::Gtc).unwrap(), "GTC");
    }

    #[test]
    fn an_error_body_parses() {
        let err: ApiError =
            serde_json::from_str(r#"{"code":-2013,"msg":"Order does not exist."}"#).unwrap();
        assert_eq!(err.code, super::super::codes::NO_SUCH_ORDER);
    }
}
