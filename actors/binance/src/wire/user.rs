//! The user data stream on Binance's WebSocket API (`/ws-api/v3`): the requests and answers
//! of one connection, and the events a subscription pushes on it (PROTOCOLS.md, "User data
//! stream"). keel reads them; the sim venue writes them with the same types.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{decimal, OrderSide, OrderState, OrderType};

/// The method that subscribes a connection to the account's events with an HMAC key.
pub const SUBSCRIBE_SIGNATURE: &str = "userDataStream.subscribe.signature";

/// The method that ends a subscription.
pub const UNSUBSCRIBE: &str = "userDataStream.unsubscribe";

/// One request: `{"id": …, "method": …, "params": {…}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WsApiRequest {
    /// Chosen by the client and echoed in the answer (a string or a number).
    pub id: serde_json::Value,
    /// E.g. [`SUBSCRIBE_SIGNATURE`].
    pub method: String,
    /// The parameters (absent: none).
    #[serde(default)]
    pub params: serde_json::Map<String, serde_json::Value>,
}

/// The answer to one request: `result` on success, `error` otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WsApiResponse {
    /// The request's id (`null` when the request could not be read).
    pub id: serde_json::Value,
    /// HTTP-like status: 200 on success.
    pub status: u16,
    /// What the method returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<WsApiError>,
}

/// A failed request's code and message, as in REST error bodies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WsApiError {
    /// Binance's error code (negative).
    pub code: i64,
    /// Its message.
    pub msg: String,
}

/// The `result` of a subscription: the id its events carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscribed {
    /// Carried by every event of the subscription.
    pub subscription_id: u64,
}

/// One pushed event: `{"subscriptionId": N, "event": {…}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserEventFrame {
    /// The subscription it belongs to.
    pub subscription_id: u64,
    /// The event.
    pub event: UserEvent,
}

/// The account's events, by their `e` field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "e")]
pub enum UserEvent {
    /// An order changed: placed, traded, cancelled, expired or rejected.
    #[serde(rename = "executionReport")]
    ExecutionReport(Box<ExecutionReportEvent>),
    /// Balances after a change.
    #[serde(rename = "outboundAccountPosition")]
    AccountPosition(AccountPositionEvent),
    /// A deposit, withdrawal or transfer.
    #[serde(rename = "balanceUpdate")]
    BalanceUpdate(BalanceUpdateEvent),
    /// The subscription ended (unsubscribed, or the session logged out).
    #[serde(rename = "eventStreamTerminated")]
    Terminated {
        /// Event time.
        #[serde(rename = "E")]
        event_time: i64,
    },
}

/// What happened to an order (`x`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionType {
    /// Accepted.
    New,
    /// Cancelled by the user (or by the venue for the other leg of an OCO).
    Canceled,
    /// Amended.
    Replaced,
    /// Refused.
    Rejected,
    /// Part or all of it executed: `t`, `l`, `L`, `n`, `N` describe the trade.
    Trade,
    /// Expired (time in force, or a market order the book could not fill).
    Expired,
    /// Expired by self-trade prevention.
    TradePrevention,
}

/// `executionReport`: one update of one order, with the trade when there was one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionReportEvent {
    /// Event time (ms).
    #[serde(rename = "E")]
    pub event_time: i64,
    /// The symbol.
    #[serde(rename = "s")]
    pub symbol: String,
    /// The client order id (for a cancel: the cancel request's id; see `C`).
    #[serde(rename = "c")]
    pub client_order_id: String,
    /// Buy or sell.
    #[serde(rename = "S")]
    pub side: OrderSide,
    /// Order type.
    #[serde(rename = "o")]
    pub order_type: OrderType,
    /// Quantity ordered.
    #[serde(rename = "q", deserialize_with = "decimal::exact")]
    pub orig_qty: Decimal,
    /// Limit price (`0` when none).
    #[serde(rename = "p", deserialize_with = "decimal::exact")]
    pub price: Decimal,
    /// Trigger price (`0` when none).
    #[serde(rename = "P", deserialize_with = "decimal::exact")]
    pub stop_price: Decimal,
    /// The order list, `-1` if none.
    #[serde(rename = "g")]
    pub order_list_id: i64,
    /// The original client order id of a cancelled order (empty otherwise).
    #[serde(rename = "C")]
    pub orig_client_order_id: String,
    /// What happened.
    #[serde(rename = "x")]
    pub execution_type: ExecutionType,
    /// The order's status after it.
    #[serde(rename = "X")]
    pub status: OrderState,
    /// Why it was rejected (`NONE` otherwise).
    #[serde(rename = "r")]
    pub reject_reason: String,
    /// The venue's order id.
    #[serde(rename = "i")]
    pub order_id: u64,
    /// Quantity of this trade (`0` unless a trade).
    #[serde(rename = "l", deserialize_with = "decimal::exact")]
    pub last_qty: Decimal,
    /// Quantity executed so far.
    #[serde(rename = "z", deserialize_with = "decimal::exact")]
    pub cum_qty: Decimal,
    /// Price of this trade.
    #[serde(rename = "L", deserialize_with = "decimal::exact")]
    pub last_price: Decimal,
    /// Fee of this trade.
    #[serde(rename = "n", deserialize_with = "decimal::exact")]
    pub commission: Decimal,
    /// The asset the fee was charged in (`null` without a trade).
    #[serde(rename = "N")]
    pub commission_asset: Option<String>,
    /// When it happened (ms).
    #[serde(rename = "T")]
    pub transaction_time: i64,
    /// The trade id, `-1` unless a trade.
    #[serde(rename = "t")]
    pub trade_id: i64,
    /// Whether the trade was the maker side.
    #[serde(rename = "m")]
    pub is_maker: bool,
    /// Quote spent or received so far.
    #[serde(rename = "Z", deserialize_with = "decimal::exact")]
    pub cum_quote_qty: Decimal,
}

/// `outboundAccountPosition`: the balances of the assets that changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountPositionEvent {
    /// Event time (ms).
    #[serde(rename = "E")]
    pub event_time: i64,
    /// When the account last changed (ms).
    #[serde(rename = "u")]
    pub last_update: i64,
    /// The balances.
    #[serde(rename = "B")]
    pub balances: Vec<PositionBalance>,
}

/// One asset in an [`AccountPositionEvent`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PositionBalance {
    /// The asset.
    #[serde(rename = "a")]
    pub asset: String,
    /// Available.
    #[serde(rename = "f", deserialize_with = "decimal::exact")]
    pub free: Decimal,
    /// Held by open orders.
    #[serde(rename = "l", deserialize_with = "decimal::exact")]
    pub locked: Decimal,
}

/// `balanceUpdate`: a deposit, withdrawal or transfer of one asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BalanceUpdateEvent {
    /// Event time (ms).
    #[serde(rename = "E")]
    pub event_time: i64,
    /// The asset.
    #[serde(rename = "a")]
    pub asset: String,
    /// The change (negative for a withdrawal).
    #[serde(rename = "d", deserialize_with = "decimal::exact")]
    pub delta: Decimal,
    /// When it cleared (ms).
    #[serde(rename = "T")]
    pub clear_time: i64,
}

/// The payload an HMAC subscription signs: its parameters but `signature`, sorted by name,
/// as `name=value` joined with `&` (string values unquoted).
pub fn signature_payload(params: &serde_json::Map<String, serde_json::Value>) -> String {
    let mut pairs: Vec<(&String, String)> = params
        .iter()
        .filter(|(name, _)| name.as_str() != "signature")
        .map(|(name, value)| {
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (name, text)
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    /// Binance's documented example of an `executionReport` of a trade, in its envelope.
    const TRADE: &str = r#"{"subscriptionId":0,"event":{"e":"executionReport","E":1499405658658,"s":"ETHBTC","c":"mUvoqJxFIILMdfAW5iGSOW","S":"BUY","o":"LIMIT","f":"GTC","q":"1.00000000","p":"0.10264410","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"TRADE","X":"PARTIALLY_FILLED","r":"NONE","i":4293153,"l":"0.40000000","z":"0.40000000","L":"0.10264410","n":"0.00040000","N":"ETH","T":1499405658657,"t":718,"I":8641984,"w":false,"m":true,"M":false,"O":1499405658657,"Z":"0.04105764","Y":"0.04105764","Q":"0.00000000","W":1499405658657,"V":"NONE"}}"#;

    #[test]
    fn a_trade_report_reads_with_its_trade() {
        let frame: UserEventFrame = serde_json::from_str(TRADE).unwrap();
        let UserEvent::ExecutionReport(report) = frame.event else {
            panic!("not an execution report: {frame:?}");
        };
        assert_eq!(report.symbol, "ETHBTC");
        assert_eq!(report.execution_type, ExecutionType::Trade);
        assert_eq!(report.status, OrderState::PartiallyFilled);
        assert_eq!(report.trade_id, 718);
        assert_eq!(report.order_id, 4293153);
        assert_eq!(report.last_qty, dec!(0.40000000));
        assert_eq!(report.commission_asset.as_deref(), Some("ETH"));
    }

    #[test]
    fn what_the_sim_venue_writes_reads_back_the_same() {
        let frame: UserEventFrame = serde_json::from_str(TRADE).unwrap();
        let written = serde_json::to_string(&frame).unwrap();
        let read: UserEventFrame = serde_json::from_str(&written).unwrap();
        assert_eq!(read, frame);
    }

    #[test]
    fn the_other_events_read_by_their_type() {
        let position = r#"{"subscriptionId":0,"event":{"e":"outboundAccountPosition","E":1564034571105,"u":1564034571073,"B":[{"a":"ETH","f":"10000.000000","l":"0.000000"}]}}"#;
        let frame: UserEventFrame = serde_json::from_str(position).unwrap();
        assert!(
            matches!(frame.event, UserEvent::AccountPosition(ref p) if p.balances[0].free == dec!(10000))
        );
        let ended =
            r#"{"subscriptionId":0,"event":{"e":"eventStreamTerminated","E":1728973001334}}"#;
        let frame: UserEventFrame = serde_json::from_str(ended).unwrap();
        assert!(matches!(frame.event, UserEvent::Terminated { .. }));
    }

    #[test]
    fn a_subscription_signs_its_sorted_parameters_without_the_signature() {
        let params =
            serde_json::json!({"timestamp": 1649729878532_i64, "apiKey": "k", "signature": "x"});
        let payload = signature_payload(params.as_object().unwrap());
        assert_eq!(payload, "apiKey=k&timestamp=1649729878532");
    }
}
