//! The trailing stop level: a multiple of the ATR below the highest close since entry.

use rust_decimal::prelude::FromPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

/// `highest_close − atr_mult × atr`, rounded down to `price_scale` decimals (a sell stop is
/// never placed above the computed level), or `None` when the ATR is not a positive finite
/// number or the level would not be positive.
pub fn trailing_stop(
    highest_close: Decimal,
    atr: f64,
    atr_mult: f64,
    price_scale: u32,
) -> Option<Decimal> {
    let distance = atr * atr_mult;
    if !(distance.is_finite() && distance > 0.0) {
        return None;
    }
    let stop = (highest_close - Decimal::from_f64(distance)?)
        .round_dp_with_strategy(price_scale, RoundingStrategy::ToNegativeInfinity);
    (stop > Decimal::ZERO).then_some(stop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn stop_trails_below_the_high_rounded_down_to_the_price_scale() {
        assert_eq!(trailing_stop(dec!(105.00), 2.0, 3.0, 2), Some(dec!(99.00)));
        assert_eq!(
            trailing_stop(dec!(105.00), 0.123456, 3.0, 2),
            Some(dec!(104.62))
        );
    }

    #[test]
    fn no_stop_without_a_usable_atr_or_above_zero() {
        assert_eq!(trailing_stop(dec!(105), f64::NAN, 3.0, 2), None);
        assert_eq!(trailing_stop(dec!(105), 0.0, 3.0, 2), None);
        assert_eq!(trailing_stop(dec!(105), -1.0, 3.0, 2), None);
        assert_eq!(trailing_stop(dec!(5), 2.0, 3.0, 2), None);
    }
}
