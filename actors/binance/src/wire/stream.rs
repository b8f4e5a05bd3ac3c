//! Market-stream payloads (`/ws/<stream>` and combined `/stream?streams=`), as PROTOCOLS.md
//! describes them.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::bar;
use crate::model::{Candle, Interval, Symbol};

/// A combined-stream message: `{"stream": "<name>", "data": <payload>}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Combined<T> {
    /// The stream's name, e.g. `btcusdt@kline_1h`.
    pub stream: String,
    /// The payload.
    pub data: T,
}

/// A kline stream event (`<symbol>@kline_<interval>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KlineEvent<'a> {
    /// `kline`.
    #[serde(rename = "e", borrow)]
    pub event_type: &'a str,
    /// Event time.
    #[serde(rename = "E")]
    pub event_time: i64,
    /// The symbol.
    #[serde(rename = "s", borrow)]
    pub symbol: &'a str,
    /// The bar so far.
    #[serde(rename = "k", borrow)]
    pub kline: KlineBody<'a>,
}

/// The bar inside a [`KlineEvent`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KlineBody<'a> {
    /// Open time.
    #[serde(rename = "t")]
    pub open_time: i64,
    /// Close time (the last millisecond of the bar).
    #[serde(rename = "T")]
    pub close_time: i64,
    /// The symbol.
    #[serde(rename = "s", borrow)]
    pub symbol: &'a str,
    /// The interval, e.g. `1h`.
    #[serde(rename = "i", borrow)]
    pub interval: &'a str,
    /// First trade id.
    #[serde(rename = "f")]
    pub first_trade: i64,
    /// Last trade id.
    #[serde(rename = "L")]
    pub last_trade: i64,
    /// Open.
    #[serde(rename = "o")]
    #[serde(deserialize_with = "super::decimal::exact")]
    pub open: Decimal,
    /// Close (the last price while the bar is open).
    #[serde(rename = "c")]
    #[serde(deserialize_with = "super::decimal::exact")]
    pub close: Decimal,
    /// High.
    #[serde(rename = "h")]
    #[serde(deserialize_with = "super::decimal::exact")]
    pub high: Decimal,
    /// Low.
    #[serde(rename = "l")]
    #[serde(deserialize_with = "super::decimal::exact")]
    pub low: Decimal,
    /// Base volume.
    #[serde(rename = "v")]
    #[serde(deserialize_with = "super::decimal::exact")]
    pub volume: Decimal,
    /// Number of trades.
    #[serde(rename = "n")]
    pub trades: u64,
    /// Whether the bar is closed: decisions act only on closed bars.
    #[serde(rename = "x")]
    pub closed: bool,
    /// Quote volume.
    #[serde(rename = "q")]
    #[serde(deserialize_with = "super::decimal::exact")]
    pub quote_volume: Decimal,
    /// Taker buy base volume.
    #[serde(rename = "V")]
    #[serde(deserialize_with = "super::decimal::exact")]
    pub taker_base: Decimal,
    /// Taker buy quote volume.
    #[serde(rename = "Q")]
    #[serde(deserialize_with = "super::decimal::exact")]
    pub taker_quote: Decimal,
    /// Ignored.
    #[serde(rename = "B", borrow)]
    pub ignore: &'a str,
}

impl KlineBody<'_> {
    /// The bar as a candle of `symbol`, checked like a row of a candle file.
    pub fn to_candle(&self, symbol: &Symbol) -> Result<Candle, String> {
        let interval = Interval::parse(self.interval)
            .ok_or_else(|| format!("unknown interval `{}`", self.interval))?;
        let values = [self.open, self.high, self.low, self.close, self.volume];
        bar(symbol, interval, self.open_time, self.close_time, values)
    }
}

/// A book ticker event (`<symbol>@bookTicker`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookTickerEvent {
    /// Order book update id.
    #[serde(rename = "u")]
    pub update_id: u64,
    /// The symbol.
    #[serde(rename = "s")]
    pub symbol: String,
    /// Best bid.
    #[serde(rename = "b")]
    #[serde(deserialize_with = "super::decimal::exact")]
    pub bid: Decimal,
    /// Its quantity.
    #[serde(rename = "B")]
    #[serde(deserialize_with = "super::decimal::exact")]
    pub bid_qty: Decimal,
    /// Best ask.
    #[serde(rename = "a")]
    #[serde(deserialize_with = "super::decimal::exact")]
    pub ask: Decimal,
    /// Its quantity.
    #[serde(rename = "A")]
    #[serde(deserialize_with = "super::decimal::exact")]
    pub ask_qty: Decimal,
}

/// A trade event (`<symbol>@trade`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeEvent {
    /// `trade`.
    #[serde(rename = "e")]
    pub event_type: String,
    /// Event time.
    #[serde(rename = "E")]
    pub event_time: i64,
    /// The symbol.
    #[serde(rename = "s")]
    pub symbol: String,
    /// Trade id.
    #[serde(rename = "t")]
    pub trade_id: u64,
    /// Price.
    #[serde(rename = "p")]
    #[serde(deserialize_with = "super::decimal::exact")]
    pub price: Decimal,
    /// Quantity.
    #[serde(rename = "q")]
    #[serde(deserialize_with = "super::decimal::exact")]
    pub qty: Decimal,
    /// Trade time.
    #[serde(rename = "T")]
    pub trade_time: i64,
    /// Whether the buyer was the maker.
    #[serde(rename = "m")]
    pub buyer_is_maker: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    const KLINE: &str = r#"{"stream":"bnbbtc@kline_1m","data":{"e":"kline","E":1672515782136,
        "s":"BNBBTC","k":{"t":1672515780000,"T":1672515839999,"s":"BNBBTC","i":"1m","f":100,
        "L":200,"o":"0.0010","c":"0.0020","h":"0.0025","l":"0.0015","v":"1000","n":100,
        "x":false,"q":"1.0000","V":"500","Q":"0.500","B":"123456"}}}"#;

    #[test]
    fn the_documented_kline_event_parses_and_checks_its_prices() {
        let msg: Combined<KlineEvent> = serde_json::from_str(KLINE).unwrap();
        assert_eq!(msg.stream, "bnbbtc@kline_1m");
        assert_eq!(msg.data.kline.open, dec!(0.0010));
        assert!(!msg.data.kline.closed);
        // The documented example's open (0.0010) is below its low (0.0015): refused, named.
        let symbol = Symbol::parse("BNBBTC").unwrap();
        let err = msg.data.kline.to_candle(&symbol).unwrap_err();
        assert_eq!(err, "open 0.0010 is outside [low 0.0015, high 0.0025]");
    }
}
