//! The fill model of DESIGN §6, as pure functions over one bar.
//!
//! The backtest, the in-process [`SimExchange`](super::SimExchange) and the sim exchange
//! server all use these rules, so that their numbers agree:
//!
//! - Decisions are made on a candle's close; orders placed then can fill from the next bar on.
//! - **Market** orders fill at the next bar's open, moved against the taker by the slippage:
//!   a buy pays `open × (1 + slippage)`, a sell gets `open × (1 − slippage)`.
//! - **Stop** orders become market orders when triggered: a sell stop triggers when the bar's
//!   low reaches the trigger (`low <= trigger`) and fills at the trigger, or at the open when
//!   the bar opened beyond it (a gap), then slippage applies. A buy stop is the mirror image
//!   with the high.
//! - **Limit** orders fill only when the price trades *through* the limit (strictly: a sell
//!   needs `high > price`, a buy `low < price`), at the limit price, without slippage. This is
//!   conservative: touching the limit is not enough, and a gap past it earns no improvement.
//! - When a stop and a take-profit are both inside one bar, the stop wins (the venue checks
//!   stops first).
//! - **Fees** are basis points of the notional: `price × qty × fee_bps / 10 000`.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::config_check::{in_range, ConfigError};
use crate::model::{Candle, Side};

/// Basis points per unit: 1 bp = 1 / 10 000.
const BPS_PER_UNIT: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);

/// Costs of trading at a venue: fees and slippage, both in basis points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FillConfig {
    /// Fee charged on every fill, in bps of the notional (10 = 0.1 %, Binance's base rate).
    #[serde(deserialize_with = "decimal_number_or_string")]
    pub fee_bps: Decimal,
    /// Price slippage of market and triggered stop orders, in bps of the price.
    #[serde(deserialize_with = "decimal_number_or_string")]
    pub slippage_bps: Decimal,
}

impl Default for FillConfig {
    fn default() -> Self {
        Self {
            fee_bps: Decimal::TEN,
            slippage_bps: Decimal::from(5),
        }
    }
}

impl FillConfig {
    /// Checks that both costs lie in `0..=1000` bps, naming the offending key.
    pub fn validate(&self, section: &str) -> Result<(), ConfigError> {
        let max = Decimal::from(1000);
        in_range(section, "fee_bps", self.fee_bps, Decimal::ZERO, max)?;
        in_range(
            section,
            "slippage_bps",
            self.slippage_bps,
            Decimal::ZERO,
            max,
        )?;
        Ok(())
    }
}

/// Reads a decimal written either as a number (`fee_bps = 7.5` in TOML) or as a string
/// (`"7.5"`, the form `Decimal` serialises to), so a config round-trips either way.
fn decimal_number_or_string<'de, D>(deserializer: D) -> Result<Decimal, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct DecimalVisitor;

    impl serde::de::Visitor<'_> for DecimalVisitor {
        type Value = Decimal;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a number or a decimal string")
        }

        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }

        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }

        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Decimal, E> {
            // `Display` of an f64 is its shortest round-trip form: 7.5 stays 7.5.
            self.visit_str(&v.to_string())
        }

        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Decimal, E> {
            v.trim()
                .parse()
                .map_err(|_| E::custom(format!("`{v}` is not a decimal number")))
        }
    }

    deserializer.deserialize_any(DecimalVisitor)
}

/// `price` moved against a taker on `side` by `slippage_bps`: a buy pays more, a sell gets less.
pub fn slipped(price: Decimal, side: Side, slippage_bps: Decimal) -> Decimal {
    let slip = price * slippage_bps / BPS_PER_UNIT;
    match side {
        Side::Buy => price + slip,
        Side::Sell => price - slip,
    }
}

/// The fill price of a market order on the bar that opens at `open`: the open plus slippage.
pub fn market_fill_price(open: Decimal, side: Side, slippage_bps: Decimal) -> Decimal {
    slipped(open, side, slippage_bps)
}

/// The fill price of a stop order with `trigger` on `bar`, or `None` if the bar does not reach
/// it. A sell stop triggers when `low <= trigger` and fills at `min(open, trigger)` (the open
/// when the bar gapped below the stop); a buy stop triggers when `high >= trigger` and fills at
/// `max(open, trigger)`. A triggered stop is a market order, so slippage applies.
pub fn stop_fill_price(
    side: Side,
    trigger: Decimal,
    bar: &Candle,
    slippage_bps: Decimal,
) -> Option<Decimal> {
    let base = match side {
        Side::Sell if bar.low <= trigger => bar.open.min(trigger),
        Side::Buy if bar.high >= trigger => bar.open.max(trigger),
        _ => return None,
    };
    Some(slipped(base, side, slippage_bps))
}

/// The fill price of a limit order at `price` on `bar`, or `None` if the bar does not trade
/// through it. A sell fills when `high > price`, a buy when `low < price`; both at the limit
/// price exactly (no slippage, no gap improvement).
pub fn limit_fill_price(side: Side, price: Decimal, bar: &Candle) -> Option<Decimal> {
    let through = match side {
        Side::Sell => bar.high > price,
        Side::Buy => bar.low < price,
    };
    through.then_some(price)
}

/// The fee on a fill of `notional` (price × qty) at `fee_bps`.
pub fn fee(notional: Decimal, fee_bps: Decimal) -> Decimal {
    notional * fee_bps / BPS_PER_UNIT
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Interval, Symbol, Timestamp};
    use rust_decimal_macros::dec;

    fn bar(open: Decimal, high: Decimal, low: Decimal, close: Decimal) -> Candle {
        Candle {
            symbol: Symbol::parse("BTCUSDT").unwrap(),
            open_time: Timestamp(0),
            interval: Interval::HOUR,
            open,
            high,
            low,
            close,
            volume: dec!(1),
        }
    }

    #[test]
    fn market_orders_pay_slippage_against_the_taker() {
        assert_eq!(
            market_fill_price(dec!(100), Side::Buy, dec!(5)),
            dec!(100.05)
        );
        assert_eq!(
            market_fill_price(dec!(100), Side::Sell, dec!(5)),
            dec!(99.95)
        );
        assert_eq!(market_fill_price(dec!(100), Side::Buy, dec!(0)), dec!(100));
    }

    #[test]
    fn sell_stop_fills_at_trigger_or_at_the_open_after_a_gap() {
        let inside = bar(dec!(100), dec!(101), dec!(94), dec!(97));
        assert_eq!(
            stop_fill_price(Side::Sell, dec!(95), &inside, dec!(0)),
            Some(dec!(95))
        );
        assert_eq!(
            stop_fill_price(Side::Sell, dec!(95), &inside, dec!(10)),
            Some(dec!(94.905))
        );
        let touch = bar(dec!(100), dec!(101), dec!(95), dec!(97));
        assert_eq!(
            stop_fill_price(Side::Sell, dec!(95), &touch, dec!(0)),
            Some(dec!(95))
        );
        let above = bar(dec!(100), dec!(101), dec!(95.01), dec!(97));
        assert_eq!(stop_fill_price(Side::Sell, dec!(95), &above, dec!(0)), None);
        let gap = bar(dec!(90), dec!(92), dec!(88), dec!(91));
        assert_eq!(
            stop_fill_price(Side::Sell, dec!(95), &gap, dec!(0)),
            Some(dec!(90))
        );
    }

    #[test]
    fn buy_stop_mirrors_the_sell_stop_with_the_high() {
        let inside = bar(dec!(100), dec!(106), dec!(99), dec!(101));
        assert_eq!(
            stop_fill_price(Side::Buy, dec!(105), &inside, dec!(0)),
            Some(dec!(105))
        );
        let gap = bar(dec!(110), dec!(112), dec!(108), dec!(111));
        assert_eq!(
            stop_fill_price(Side::Buy, dec!(105), &gap, dec!(0)),
            Some(dec!(110))
        );
        let below = bar(dec!(100), dec!(104), dec!(99), dec!(101));
        assert_eq!(stop_fill_price(Side::Buy, dec!(105), &below, dec!(0)), None);
    }

    #[test]
    fn limits_fill_only_when_the_price_trades_through() {
        let b = bar(dec!(100), dec!(110), dec!(90), dec!(105));
        assert_eq!(limit_fill_price(Side::Sell, dec!(109), &b), Some(dec!(109)));
        assert_eq!(
            limit_fill_price(Side::Sell, dec!(110), &b),
            None,
            "a touch is not enough"
        );
        assert_eq!(limit_fill_price(Side::Buy, dec!(91), &b), Some(dec!(91)));
        assert_eq!(limit_fill_price(Side::Buy, dec!(90), &b), None);
        // A gap above a sell limit still fills at the limit price (conservative).
        let gap = bar(dec!(120), dec!(121), dec!(119), dec!(120));
        assert_eq!(
            limit_fill_price(Side::Sell, dec!(110), &gap),
            Some(dec!(110))
        );
    }

    #[test]
    fn fees_are_bps_of_notional() {
        assert_eq!(fee(dec!(1000), dec!(10)), dec!(1));
        assert_eq!(fee(dec!(250.5), dec!(7.5)), dec!(0.1878750));
        assert_eq!(fee(dec!(1000), dec!(0)), dec!(0));
    }

    #[test]
    fn config_defaults_and_validation_name_the_key() {
        let cfg = FillConfig::default();
        assert_eq!((cfg.fee_bps, cfg.slippage_bps), (dec!(10), dec!(5)));
        assert!(cfg.validate("execution").is_ok());
        let bad = FillConfig {
            slippage_bps: dec!(1001),
            ..FillConfig::default()
        };
        let err = bad.validate("execution").unwrap_err();
        assert_eq!(err.key, "execution.slippage_bps");
        assert!(err.message.contains("0..=1000"), "{}", err.message);
        let negative = FillConfig {
            fee_bps: dec!(-1),
            ..FillConfig::default()
        };
        assert_eq!(
            negative.validate("execution").unwrap_err().key,
            "execution.fee_bps"
        );
    }

    #[test]
    fn config_rejects_unknown_keys() {
        let ok: FillConfig = serde_json::from_str(r#"{"fee_bps": "7.5"}"#).unwrap();
        assert_eq!(ok.fee_bps, dec!(7.5));
        assert_eq!(ok.slippage_bps, dec!(5));
        let numbers: FillConfig =
            serde_json::from_str(r#"{"fee_bps": 7.5, "slippage_bps": 2}"#).unwrap();
        assert_eq!(
            (numbers.fee_bps, numbers.slippage_bps),
            (dec!(7.5), dec!(2))
        );
        let back: FillConfig = serde_json::from_str(&serde_json::to_string(&ok).unwrap()).unwrap();
        assert_eq!(back, ok);
        assert!(serde_json::from_str::<FillConfig>(r#"{"fee_bps": "ten"}"#).is_err());
        assert!(serde_json::from_str::<FillConfig>(r#"{"fees": 1}"#).is_err());
    }
}
