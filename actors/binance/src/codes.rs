//! Binance error codes and messages that keel produces (as the sim venue) or acts on (as the
//! adapter). Bodies are `{"code": <negative int>, "msg": "..."}`.

/// An unknown error occurred while processing the request (HTTP 5xx bodies).
pub const UNKNOWN: i64 = -1000;
/// Too many requests: the request weight limit was exceeded (HTTP 429, 418 once banned).
pub const TOO_MANY_REQUESTS: i64 = -1003;
/// Timeout waiting for the backend; the execution status is unknown.
pub const TIMEOUT: i64 = -1007;
/// Too many new orders.
pub const TOO_MANY_ORDERS: i64 = -1015;
/// Timestamp outside the recvWindow, or more than 1000 ms ahead of the server's time.
pub const INVALID_TIMESTAMP: i64 = -1021;
/// The signature is not valid.
pub const INVALID_SIGNATURE: i64 = -1022;
/// A mandatory parameter was missing or malformed.
pub const MANDATORY_PARAM: i64 = -1102;
/// A parameter was malformed or out of range.
pub const BAD_PARAM: i64 = -1100;
/// Invalid symbol.
pub const BAD_SYMBOL: i64 = -1121;
/// An order failed a filter (price, lot size, notional).
pub const FILTER_FAILURE: i64 = -1013;
/// The API key is missing or not valid.
pub const BAD_API_KEY: i64 = -2015;
/// A new order was rejected (duplicate client id, insufficient balance).
pub const NEW_ORDER_REJECTED: i64 = -2010;
/// A cancel was rejected.
pub const CANCEL_REJECTED: i64 = -2011;
/// The order does not exist.
pub const NO_SUCH_ORDER: i64 = -2013;

/// `-2010`'s message for a client order id already in use by an open order.
pub const DUPLICATE_ORDER_MSG: &str = "Duplicate order sent.";
/// `-2010`'s message when the balance does not cover the order.
pub const INSUFFICIENT_BALANCE_MSG: &str = "Account has insufficient balance for requested action.";
/// `-2013`'s message.
pub const NO_SUCH_ORDER_MSG: &str = "Order does not exist.";
/// `-2011`'s message for an order the venue does not hold.
pub const UNKNOWN_ORDER_MSG: &str = "Unknown order sent.";
