//! Which asset the venue takes its fee in. Binance takes it from what a fill receives: the
//! base asset of a buy, the quote asset of a sell; with "pay fees with BNB" on, from the BNB
//! balance at a discount, as long as it covers the fee.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::Deserialize;

/// The asset fees are charged in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeAsset {
    /// As Binance without BNB: the asset the fill receives.
    #[default]
    Received,
    /// Always the quote asset (as keel's in-process venue charges).
    Quote,
    /// BNB at `bnb_price`, `bnb_discount_pct` off, while the BNB balance covers it; else as
    /// `received`.
    Bnb,
}

/// How the venue charges fees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeePolicy {
    /// The asset.
    pub asset: FeeAsset,
    /// Quote asset per BNB (BNB mode).
    pub bnb_price: Decimal,
    /// Share of the fee waived when BNB pays it, in percent.
    pub bnb_discount_pct: Decimal,
}

impl Default for FeePolicy {
    fn default() -> Self {
        Self {
            asset: FeeAsset::Received,
            bnb_price: Decimal::ZERO,
            bnb_discount_pct: Decimal::new(25, 0),
        }
    }
}

/// One fill's fee: the asset and the amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    /// The asset it is paid in.
    pub asset: String,
    /// The amount of that asset.
    pub amount: Decimal,
}

/// The fee of a fill, given what the fill model charges in the quote asset (`quote_fee`),
/// the fee rate, the assets and the BNB balance free.
pub struct FillFee<'a> {
    /// A buy (else a sell).
    pub buy: bool,
    /// Base quantity filled.
    pub qty: Decimal,
    /// The fill model's fee in the quote asset.
    pub quote_fee: Decimal,
    /// Fee rate (bps / 10 000).
    pub rate: Decimal,
    /// The pair's base asset.
    pub base: &'a str,
    /// The pair's quote asset.
    pub quote: &'a str,
    /// BNB free on the account.
    pub bnb_free: Decimal,
}

impl FeePolicy {
    /// What `fill` is charged, and in which asset. Amounts in an asset other than the quote
    /// are rounded up to 8 decimals, as Binance's balances are kept.
    pub fn charge(&self, fill: &FillFee<'_>) -> Charge {
        let up = |d: Decimal| d.round_dp_with_strategy(8, RoundingStrategy::AwayFromZero);
        if self.asset == FeeAsset::Bnb && self.bnb_price > Decimal::ZERO {
            let value = fill.quote_fee * (Decimal::ONE_HUNDRED - self.bnb_discount_pct)
                / Decimal::ONE_HUNDRED;
            let amount = up(value / self.bnb_price);
            if amount <= fill.bnb_free {
                return Charge {
                    asset: "BNB".to_string(),
                    amount,
                };
            }
        }
        match (self.asset, fill.buy) {
            (FeeAsset::Received | FeeAsset::Bnb, true) => Charge {
                asset: fill.base.to_string(),
                amount: up(fill.qty * fill.rate),
            },
            _ => Charge {
                asset: fill.quote.to_string(),
                amount: fill.quote_fee,
            },
        }
    }

    /// What a buy pays in fees out of the quote asset, given the fill model's `fee` for it:
    /// all of it when the quote asset pays fees, else nothing (the base asset or BNB does).
    pub fn quote_fee_of_buy(&self, fee: Decimal) -> Decimal {
        match self.asset {
            FeeAsset::Quote => fee,
            FeeAsset::Received | FeeAsset::Bnb => Decimal::ZERO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn fill(buy: bool, bnb_free: Decimal) -> FillFee<'static> {
        FillFee {
            buy,
            qty: dec!(0.18436),
            quote_fee: dec!(7.9623),
            rate: dec!(0.001),
            base: "BTC",
            quote: "USDT",
            bnb_free,
        }
    }

    #[test]
    fn each_mode_charges_the_asset_binance_would() {
        let received = FeePolicy::default();
        assert_eq!(
            received.charge(&fill(true, dec!(0))),
            Charge {
                asset: "BTC".into(),
                amount: dec!(0.00018436)
            }
        );
        assert_eq!(received.charge(&fill(false, dec!(0))).asset, "USDT");
        let quote = FeePolicy {
            asset: FeeAsset::Quote,
            ..FeePolicy::default()
        };
        assert_eq!(
            quote.charge(&fill(true, dec!(0))),
            Charge {
                asset: "USDT".into(),
                amount: dec!(7.9623)
            }
        );
        let bnb = FeePolicy {
            asset: FeeAsset::Bnb,
            bnb_price: dec!(300),
            ..FeePolicy::default()
        };
        // 7.9623 × 0.75 / 300 = 0.01990575
        assert_eq!(
            bnb.charge(&fill(false, dec!(1))),
            Charge {
                asset: "BNB".into(),
                amount: dec!(0.01990575)
            }
        );
        assert_eq!(
            bnb.charge(&fill(true, dec!(0.01))).asset,
            "BTC",
            "too little BNB: the received asset pays"
        );
    }
}
