//! How an entry's quantity splits over its take-profit levels: one tranche per level, each
//! with its own exits. Shared by risk (every tranche must clear the venue's filters) and the
//! order manager (which places them).

use rust_decimal::{Decimal, RoundingStrategy};

use crate::TakeProfit;

/// One slice of the position with its own exits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tranche {
    /// Base quantity of the slice.
    pub qty: Decimal,
    /// The take-profit level (1-based) and limit price, or `None` for the remainder that only
    /// the stop protects.
    pub take_profit: Option<(u8, Decimal)>,
}

/// Fractions summing to at least `1 − FULL_TOLERANCE` cover the whole quantity, so that
/// thirds written as `0.3333` leave no dust tranche behind.
const FULL_TOLERANCE: Decimal = Decimal::from_parts(1, 0, 0, false, 4);

/// Splits `qty` over the take-profit levels: each level gets `qty × fraction`, rounded down to
/// the scale of `qty`; when the fractions sum to 1 (within 0.0001) or more the last level takes the remainder,
/// so the tranches sum exactly to `qty`; otherwise the remainder is a final tranche without a
/// take-profit. A level too small for the quantity's precision is skipped. Levels past 255
/// are ignored.
pub fn tranches(qty: Decimal, take_profits: &[TakeProfit]) -> Vec<Tranche> {
    let scale = qty.scale();
    let total: Decimal = take_profits.iter().map(|tp| tp.fraction).sum();
    let covers_all = total >= Decimal::ONE - FULL_TOLERANCE;
    let mut remaining = qty;
    let mut out = Vec::with_capacity(take_profits.len() + 1);
    for (i, tp) in take_profits.iter().enumerate().take(usize::from(u8::MAX)) {
        let last = i + 1 == take_profits.len();
        let share = if last && covers_all {
            remaining
        } else {
            (qty * tp.fraction)
                .round_dp_with_strategy(scale, RoundingStrategy::ToZero)
                .min(remaining)
        };
        if share <= Decimal::ZERO {
            continue;
        }
        let level = u8::try_from(i + 1).unwrap_or(u8::MAX);
        out.push(Tranche {
            qty: share,
            take_profit: Some((level, tp.price)),
        });
        remaining -= share;
    }
    if remaining > Decimal::ZERO {
        out.push(Tranche {
            qty: remaining,
            take_profit: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn tp(price: Decimal, fraction: Decimal) -> TakeProfit {
        TakeProfit { price, fraction }
    }

    fn quantities(t: &[Tranche]) -> Vec<Decimal> {
        t.iter().map(|t| t.qty).collect()
    }

    #[test]
    fn thirds_round_down_and_the_last_takes_the_remainder() {
        let third = dec!(0.3333);
        let t = tranches(
            dec!(1.000),
            &[
                tp(dec!(110), third),
                tp(dec!(120), third),
                tp(dec!(130), third),
            ],
        );
        assert_eq!(quantities(&t), [dec!(0.333), dec!(0.333), dec!(0.334)]);
        assert_eq!(t[2].take_profit, Some((3, dec!(130))));
        let exact_thirds = Decimal::ONE / Decimal::from(3);
        let t = tranches(dec!(0.30), &[tp(dec!(110), exact_thirds); 3]);
        assert_eq!(quantities(&t), [dec!(0.10), dec!(0.10), dec!(0.10)]);
    }

    #[test]
    fn fractions_below_one_leave_a_stop_only_tranche() {
        let t = tranches(
            dec!(1.000),
            &[tp(dec!(110), dec!(0.5)), tp(dec!(120), dec!(0.25))],
        );
        assert_eq!(quantities(&t), [dec!(0.500), dec!(0.250), dec!(0.250)]);
        assert_eq!(t[2].take_profit, None);
        assert_eq!(quantities(&tranches(dec!(2), &[])), [dec!(2)]);
    }
}
