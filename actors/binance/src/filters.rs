//! exchangeInfo's trading rules for one symbol, and orders rounded to them. Binance rejects an
//! order whose price is not a multiple of `tickSize`, whose quantity is not a multiple of
//! `stepSize` or outside `[minQty, maxQty]`, or whose notional is below `minNotional`.

use rust_decimal::{Decimal, RoundingStrategy};

use super::wire::{Filter, SymbolInfo};

/// The filters of one symbol that keel's orders must satisfy.
#[derive(Debug, Clone, PartialEq)]
pub struct SymbolFilters {
    /// Prices are multiples of this (`PRICE_FILTER`).
    pub tick_size: Decimal,
    /// Quantities are multiples of this (`LOT_SIZE`).
    pub step_size: Decimal,
    /// Smallest quantity.
    pub min_qty: Decimal,
    /// Largest quantity.
    pub max_qty: Decimal,
    /// Smallest price × quantity (`NOTIONAL`, or the older `MIN_NOTIONAL`).
    pub min_notional: Decimal,
}

/// Why an order cannot be placed within a symbol's filters.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FilterError {
    /// exchangeInfo lacks a filter keel needs.
    #[error("{symbol}: exchangeInfo has no {filter} filter")]
    Missing {
        /// The symbol.
        symbol: String,
        /// The filter's type.
        filter: &'static str,
    },
    /// The quantity, rounded down to the step, is outside the lot size.
    #[error("quantity {qty} is outside the lot size [{min}, {max}] (step {step})")]
    LotSize {
        /// The rounded quantity.
        qty: Decimal,
        /// `minQty`.
        min: Decimal,
        /// `maxQty`.
        max: Decimal,
        /// `stepSize`.
        step: Decimal,
    },
    /// Price × quantity is below the minimum notional.
    #[error("notional {notional} is below the minimum {min}")]
    Notional {
        /// Price × quantity.
        notional: Decimal,
        /// `minNotional`.
        min: Decimal,
    },
    /// The price rounds to zero or less.
    #[error("price {0} rounds to nothing at this tick size")]
    Price(Decimal),
    /// The value is more steps than a decimal counts (a step far finer than the value).
    #[error("{value} cannot be rounded to steps of {step}: too many steps")]
    TooManySteps {
        /// The price or quantity.
        value: Decimal,
        /// The tick or lot step.
        step: Decimal,
    },
}

impl SymbolFilters {
    /// The filters listed for `info`; every one of price, lot size and notional must be there.
    pub fn from_info(info: &SymbolInfo) -> Result<Self, FilterError> {
        let missing = |filter| FilterError::Missing {
            symbol: info.symbol.clone(),
            filter,
        };
        let mut tick = None;
        let mut lot = None;
        let mut notional = None;
        for filter in &info.filters {
            match filter {
                Filter::Price { tick_size, .. } => tick = Some(*tick_size),
                Filter::LotSize {
                    min_qty,
                    max_qty,
                    step_size,
                } => lot = Some((*min_qty, *max_qty, *step_size)),
                Filter::Notional { min_notional } | Filter::MinNotional { min_notional } => {
                    notional = Some(*min_notional)
                }
                Filter::Other => {}
            }
        }
        let tick_size = tick.ok_or_else(|| missing("PRICE_FILTER"))?;
        let (min_qty, max_qty, step_size) = lot.ok_or_else(|| missing("LOT_SIZE"))?;
        let min_notional = notional.ok_or_else(|| missing("NOTIONAL"))?;
        Ok(Self {
            tick_size,
            step_size,
            min_qty,
            max_qty,
            min_notional,
        })
    }

    /// `qty` rounded down to the step (never more than asked), checked against the lot size.
    pub fn quantity(&self, qty: Decimal) -> Result<Decimal, FilterError> {
        let rounded = round_to(qty, self.step_size, RoundingStrategy::ToZero)?;
        if rounded < self.min_qty || rounded > self.max_qty || rounded <= Decimal::ZERO {
            return Err(FilterError::LotSize {
                qty: rounded,
                min: self.min_qty,
                max: self.max_qty,
                step: self.step_size,
            });
        }
        Ok(rounded)
    }

    /// `price` rounded to the nearest tick (halves away from zero).
    pub fn price(&self, price: Decimal) -> Result<Decimal, FilterError> {
        let rounded = round_to(
            price,
            self.tick_size,
            RoundingStrategy::MidpointAwayFromZero,
        )?;
        if rounded <= Decimal::ZERO {
            return Err(FilterError::Price(price));
        }
        Ok(rounded)
    }

    /// Checks that `qty` at `price` is worth at least the minimum notional.
    pub fn notional(&self, qty: Decimal, price: Decimal) -> Result<(), FilterError> {
        // Past a decimal's range, the notional is above any minimum.
        let Some(notional) = qty.checked_mul(price) else {
            return Ok(());
        };
        if notional < self.min_notional {
            return Err(FilterError::Notional {
                notional,
                min: self.min_notional,
            });
        }
        Ok(())
    }

    /// Whether every multiple of `step` is a multiple of the lot step (so rounding a quantity
    /// keel sized with `step` never changes it).
    pub fn accepts_qty_step(&self, step: Decimal) -> bool {
        is_multiple(step, self.step_size)
    }

    /// Whether prices quoted with `scale` decimals are always whole ticks.
    pub fn accepts_price_scale(&self, scale: u32) -> bool {
        is_multiple(Decimal::new(1, scale), self.tick_size)
    }
}

/// `value` rounded to a multiple of `step` (unchanged if the step is not positive); an error
/// if `value / step` is beyond a decimal's range, as a step of `1e-28` makes it for any value
/// from 8e0 up (exchangeInfo may send such a step; a plain `/` panics on it).
fn round_to(
    value: Decimal,
    step: Decimal,
    strategy: RoundingStrategy,
) -> Result<Decimal, FilterError> {
    if step <= Decimal::ZERO {
        return Ok(value);
    }
    value
        .checked_div(step)
        .and_then(|steps| steps.round_dp_with_strategy(0, strategy).checked_mul(step))
        .map(|rounded| rounded.normalize())
        .ok_or(FilterError::TooManySteps { value, step })
}

fn is_multiple(value: Decimal, step: Decimal) -> bool {
    step > Decimal::ZERO && (value % step).is_zero()
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

    #[test]
    fn quantities_round_down_to_the_step_and_respect_the_lot() {
        let f = btc();
        assert_eq!(f.quantity(dec!(0.123456789)).unwrap(), dec!(0.12345));
        assert_eq!(f.quantity(dec!(0.5)).unwrap(), dec!(0.5));
        assert!(matches!(
            f.quantity(dec!(0.000009)),
            Err(FilterError::LotSize { .. })
        ));
        assert!(f.quantity(dec!(9000.1)).is_err());
    }

    /// exchangeInfo may send any step its decimals hold; `value / step` past a decimal's
    /// range panicked (`Division overflowed`) while rounding an order.
    #[test]
    fn a_step_far_finer_than_the_value_is_an_error_not_a_panic() {
        let fine = SymbolFilters {
            tick_size: dec!(0.0000000000000000000000000001),
            step_size: dec!(0.0000000000000000000000000001),
            max_qty: Decimal::MAX,
            ..btc()
        };
        let err = fine.quantity(dec!(10)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "10 cannot be rounded to steps of 0.0000000000000000000000000001: too many steps"
        );
        assert!(matches!(
            fine.price(dec!(16432.57)),
            Err(FilterError::TooManySteps { .. })
        ));
        assert_eq!(fine.price(dec!(0.5)), Ok(dec!(0.5)));
        assert_eq!(fine.notional(Decimal::MAX, dec!(2)), Ok(()));
    }

    #[test]
    fn prices_round_to_the_nearest_tick() {
        let f = btc();
        assert_eq!(f.price(dec!(16432.575)).unwrap(), dec!(16432.58));
        assert_eq!(f.price(dec!(16432.574)).unwrap(), dec!(16432.57));
        assert!(f.price(dec!(0.004)).is_err());
    }

    #[test]
    fn notional_below_the_minimum_is_refused_with_the_figures() {
        let err = btc().notional(dec!(0.0001), dec!(20000)).unwrap_err();
        assert_eq!(err.to_string(), "notional 2.0000 is below the minimum 5");
        assert!(btc().notional(dec!(0.001), dec!(20000)).is_ok());
    }

    #[test]
    fn compatibility_of_keels_steps_with_the_venues() {
        let f = btc();
        assert!(f.accepts_qty_step(dec!(0.00001)));
        assert!(f.accepts_qty_step(dec!(0.001)));
        assert!(!f.accepts_qty_step(dec!(0.000001)));
        assert!(f.accepts_price_scale(2));
        assert!(!f.accepts_price_scale(3));
    }
}
