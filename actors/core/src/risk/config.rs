//! The `[risk]` config section: every limit the engine enforces.
//!
//! Decimal fields are written as strings in TOML/JSON (`qty_step = "0.00001"`), as the
//! workspace's `rust_decimal` serde setting requires.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::config_check::{in_range, key, positive, ConfigError};

/// One take-profit level: sell `fraction` of the entry at `r_multiple` × the stop distance
/// above the entry.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TakeProfitLevel {
    /// Distance above the entry in multiples of the stop distance (R), > 0.
    pub r_multiple: Decimal,
    /// Share of the entry quantity sold there, in (0, 1].
    pub fraction: Decimal,
}

/// Risk limits and sizing parameters. Percentages are of current equity unless noted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskConfig {
    /// Signals below this confidence are refused, in [0, 1].
    pub min_confidence: f64,
    /// The stop sits this many ATRs below the entry price.
    pub stop_atr_mult: Decimal,
    /// Partial take-profit levels; fractions sum to at most 1 (the rest rides the stop).
    pub take_profits: Vec<TakeProfitLevel>,
    /// Equity lost if the stop is hit, at most this percentage.
    pub max_risk_per_trade_pct: Decimal,
    /// Market value held in one base asset (across its pairs), at most this percentage.
    pub max_asset_exposure_pct: Decimal,
    /// Market value held in one sector, at most this percentage.
    pub max_sector_exposure_pct: Decimal,
    /// Market value of all positions, at most this percentage (spot: at most 100).
    pub max_total_exposure_pct: Decimal,
    /// Base asset → sector. Assets not listed form a sector of their own, named after them.
    pub sectors: BTreeMap<String, String>,
    /// Signals whose ATR is above this percentage of the price are refused.
    pub max_volatility_pct: Decimal,
    /// At most this many open positions.
    pub max_open_positions: u32,
    /// No new positions once the day's loss reaches this percentage of the day's starting
    /// equity; resets at UTC midnight.
    pub daily_loss_limit_pct: Decimal,
    /// The kill switch trips when equity falls this percentage below its peak.
    pub max_drawdown_pct: Decimal,
    /// After a stop-out, the symbol takes no new position for this many hours (0: none).
    pub cooldown_after_stop_hours: u32,
    /// Order quantities are rounded down to a multiple of this step.
    pub qty_step: Decimal,
    /// Smallest order value accepted, in the quote asset.
    pub min_notional: Decimal,
    /// A new position is not opened on a bar that closed more than this many minutes before
    /// the newest bar the venue has closed (bars caught up after downtime); exits and stops
    /// still go on. 0: no limit. Only a run fed by a venue's market stream knows the newest
    /// bar; a backtest's bars are never stale.
    pub max_bar_age_minutes: u32,
    /// A stop a strategy proposes (the `llm` strategy's model) is used only when it lies at
    /// least this many ATRs below the entry, else risk's own stop is.
    pub proposed_stop_min_atr: Decimal,
    /// ... and at most this many ATRs below it.
    pub proposed_stop_max_atr: Decimal,
    /// A proposed take-profit is used only when it lies between 1 and this many times the
    /// stop's distance above the entry, else risk's own levels are.
    pub proposed_target_max_r: Decimal,
}

impl Default for RiskConfig {
    fn default() -> Self {
        let sectors = [
            ("BTC", "store_of_value"),
            ("LTC", "store_of_value"),
            ("ETH", "smart_contract"),
            ("SOL", "smart_contract"),
            ("ADA", "smart_contract"),
            ("AVAX", "smart_contract"),
            ("DOT", "smart_contract"),
            ("TRX", "smart_contract"),
            ("BNB", "exchange"),
            ("XRP", "payments"),
            ("XLM", "payments"),
            ("LINK", "oracle"),
            ("DOGE", "meme"),
            ("SHIB", "meme"),
        ];
        Self {
            min_confidence: 0.55,
            stop_atr_mult: Decimal::TWO,
            take_profits: vec![
                TakeProfitLevel {
                    r_multiple: Decimal::new(15, 1),
                    fraction: Decimal::new(5, 1),
                },
                TakeProfitLevel {
                    r_multiple: Decimal::new(3, 0),
                    fraction: Decimal::new(5, 1),
                },
            ],
            max_risk_per_trade_pct: Decimal::ONE,
            max_asset_exposure_pct: Decimal::new(25, 0),
            max_sector_exposure_pct: Decimal::new(50, 0),
            max_total_exposure_pct: Decimal::ONE_HUNDRED,
            sectors: sectors
                .iter()
                .map(|(asset, sector)| (asset.to_string(), sector.to_string()))
                .collect(),
            max_volatility_pct: Decimal::new(5, 0),
            max_open_positions: 4,
            daily_loss_limit_pct: Decimal::new(3, 0),
            max_drawdown_pct: Decimal::new(20, 0),
            cooldown_after_stop_hours: 24,
            qty_step: Decimal::new(1, 5),
            min_notional: Decimal::TEN,
            max_bar_age_minutes: 60,
            proposed_stop_min_atr: Decimal::ONE,
            proposed_stop_max_atr: Decimal::new(4, 0),
            proposed_target_max_r: Decimal::TEN,
        }
    }
}

impl RiskConfig {
    /// The sector of a base asset (`"BTC"`): as configured, else the asset itself.
    pub fn sector_of<'a>(&'a self, asset: &'a str) -> &'a str {
        self.sectors.get(asset).map_or(asset, String::as_str)
    }

    /// The oldest a bar may be to open a position on, in milliseconds (`None`: no limit).
    pub fn max_bar_age_ms(&self) -> Option<i64> {
        (self.max_bar_age_minutes > 0).then(|| i64::from(self.max_bar_age_minutes) * 60_000)
    }

    /// Cooldown after a stop-out, in milliseconds.
    pub fn cooldown_ms(&self) -> i64 {
        i64::from(self.cooldown_after_stop_hours) * 3_600_000
    }

    /// Checks every field's range and the fields' consistency, naming the key that fails.
    pub fn validate(&self, section: &str) -> Result<(), ConfigError> {
        let zero = Decimal::ZERO;
        let hundred = Decimal::ONE_HUNDRED;
        in_range(section, "min_confidence", self.min_confidence, 0.0, 1.0)?;
        in_range(
            section,
            "stop_atr_mult",
            self.stop_atr_mult,
            Decimal::new(1, 2),
            Decimal::new(20, 0),
        )?;
        let mut fraction_sum = zero;
        for (i, level) in self.take_profits.iter().enumerate() {
            let name = format!("take_profits[{i}]");
            in_range(
                section,
                &format!("{name}.r_multiple"),
                level.r_multiple,
                Decimal::new(1, 2),
                hundred,
            )?;
            positive(section, &format!("{name}.fraction"), level.fraction, zero)?;
            in_range(
                section,
                &format!("{name}.fraction"),
                level.fraction,
                zero,
                Decimal::ONE,
            )?;
            fraction_sum += level.fraction;
        }
        if fraction_sum > Decimal::ONE {
            return Err(ConfigError::new(
                key(section, "take_profits"),
                format!("fractions sum to {fraction_sum}, at most 1 allowed"),
            ));
        }
        let pct = |name: &str, value: Decimal| {
            positive(section, name, value, zero)?;
            in_range(section, name, value, zero, hundred)
        };
        pct("max_risk_per_trade_pct", self.max_risk_per_trade_pct)?;
        pct("max_asset_exposure_pct", self.max_asset_exposure_pct)?;
        pct("max_sector_exposure_pct", self.max_sector_exposure_pct)?;
        pct("max_total_exposure_pct", self.max_total_exposure_pct)?;
        pct("max_volatility_pct", self.max_volatility_pct)?;
        pct("daily_loss_limit_pct", self.daily_loss_limit_pct)?;
        pct("max_drawdown_pct", self.max_drawdown_pct)?;
        if self.max_asset_exposure_pct > self.max_sector_exposure_pct {
            return Err(ConfigError::between(
                key(section, "max_asset_exposure_pct"),
                key(section, "max_sector_exposure_pct"),
                format!(
                    "{} exceeds max_sector_exposure_pct {}: an asset is part of its sector",
                    self.max_asset_exposure_pct, self.max_sector_exposure_pct
                ),
            ));
        }
        if self.max_sector_exposure_pct > self.max_total_exposure_pct {
            return Err(ConfigError::between(
                key(section, "max_sector_exposure_pct"),
                key(section, "max_total_exposure_pct"),
                format!(
                    "{} exceeds max_total_exposure_pct {}: a sector is part of the total",
                    self.max_sector_exposure_pct, self.max_total_exposure_pct
                ),
            ));
        }
        if self.stop_atr_mult * self.max_volatility_pct >= hundred {
            return Err(ConfigError::between(
                key(section, "max_volatility_pct"),
                key(section, "stop_atr_mult"),
                format!(
                    "{} × stop_atr_mult {} must stay below 100, or stops could fall to zero",
                    self.max_volatility_pct, self.stop_atr_mult
                ),
            ));
        }
        in_range(
            section,
            "max_open_positions",
            self.max_open_positions,
            1,
            1000,
        )?;
        in_range(
            section,
            "cooldown_after_stop_hours",
            self.cooldown_after_stop_hours,
            0,
            8760,
        )?;
        in_range(
            section,
            "max_bar_age_minutes",
            self.max_bar_age_minutes,
            0,
            525_600,
        )?;
        in_range(
            section,
            "proposed_stop_min_atr",
            self.proposed_stop_min_atr,
            Decimal::new(1, 1),
            Decimal::from(20),
        )?;
        in_range(
            section,
            "proposed_stop_max_atr",
            self.proposed_stop_max_atr,
            self.proposed_stop_min_atr,
            Decimal::from(50),
        )?;
        in_range(
            section,
            "proposed_target_max_r",
            self.proposed_target_max_r,
            Decimal::ONE,
            Decimal::ONE_HUNDRED,
        )?;
        positive(section, "qty_step", self.qty_step, zero)?;
        in_range(
            section,
            "min_notional",
            self.min_notional,
            zero,
            Decimal::new(1_000_000, 0),
        )?;
        for (asset, sector) in &self.sectors {
            let name = format!("sectors.{asset}");
            let valid_asset = !asset.is_empty()
                && asset
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
            if !valid_asset {
                return Err(ConfigError::new(
                    key(section, &name),
                    "asset codes must be upper-case letters and digits, e.g. BTC",
                ));
            }
            if sector.trim().is_empty() {
                return Err(ConfigError::new(
                    key(section, &name),
                    "sector name must not be empty",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn key_of(cfg: &RiskConfig) -> String {
        cfg.validate("risk").unwrap_err().key
    }

    #[test]
    fn defaults_are_valid() {
        RiskConfig::default().validate("risk").unwrap();
        let cfg = RiskConfig::default();
        assert_eq!(cfg.sector_of("ETH"), "smart_contract");
        assert_eq!(cfg.sector_of("PEPE"), "PEPE");
        assert_eq!(cfg.cooldown_ms(), 24 * 3_600_000);
    }

    #[test]
    fn validation_names_the_key() {
        let base = RiskConfig::default();
        let cases: Vec<(&str, RiskConfig)> = vec![
            (
                "risk.min_confidence",
                RiskConfig {
                    min_confidence: f64::NAN,
                    ..base.clone()
                },
            ),
            (
                "risk.min_confidence",
                RiskConfig {
                    min_confidence: 1.5,
                    ..base.clone()
                },
            ),
            (
                "risk.stop_atr_mult",
                RiskConfig {
                    stop_atr_mult: dec!(0),
                    ..base.clone()
                },
            ),
            (
                "risk.max_risk_per_trade_pct",
                RiskConfig {
                    max_risk_per_trade_pct: dec!(0),
                    ..base.clone()
                },
            ),
            (
                "risk.max_asset_exposure_pct",
                RiskConfig {
                    max_asset_exposure_pct: dec!(101),
                    ..base.clone()
                },
            ),
            (
                "risk.max_asset_exposure_pct",
                RiskConfig {
                    max_asset_exposure_pct: dec!(60),
                    ..base.clone()
                },
            ),
            (
                "risk.max_sector_exposure_pct",
                RiskConfig {
                    max_total_exposure_pct: dec!(40),
                    ..base.clone()
                },
            ),
            (
                "risk.max_total_exposure_pct",
                RiskConfig {
                    max_total_exposure_pct: dec!(150),
                    ..base.clone()
                },
            ),
            (
                "risk.max_volatility_pct",
                RiskConfig {
                    max_volatility_pct: dec!(-1),
                    ..base.clone()
                },
            ),
            (
                "risk.max_volatility_pct",
                RiskConfig {
                    max_volatility_pct: dec!(50),
                    ..base.clone()
                },
            ),
            (
                "risk.max_open_positions",
                RiskConfig {
                    max_open_positions: 0,
                    ..base.clone()
                },
            ),
            (
                "risk.daily_loss_limit_pct",
                RiskConfig {
                    daily_loss_limit_pct: dec!(0),
                    ..base.clone()
                },
            ),
            (
                "risk.max_drawdown_pct",
                RiskConfig {
                    max_drawdown_pct: dec!(100.5),
                    ..base.clone()
                },
            ),
            (
                "risk.cooldown_after_stop_hours",
                RiskConfig {
                    cooldown_after_stop_hours: 9000,
                    ..base.clone()
                },
            ),
            (
                "risk.qty_step",
                RiskConfig {
                    qty_step: dec!(0),
                    ..base.clone()
                },
            ),
            (
                "risk.min_notional",
                RiskConfig {
                    min_notional: dec!(-1),
                    ..base.clone()
                },
            ),
        ];
        for (expected, cfg) in cases {
            assert_eq!(key_of(&cfg), expected);
        }
    }

    #[test]
    fn take_profit_levels_are_checked_one_by_one_and_in_sum() {
        let level = |r, f| TakeProfitLevel {
            r_multiple: r,
            fraction: f,
        };
        let with = |levels| RiskConfig {
            take_profits: levels,
            ..RiskConfig::default()
        };
        assert_eq!(
            key_of(&with(vec![level(dec!(0), dec!(0.5))])),
            "risk.take_profits[0].r_multiple"
        );
        assert_eq!(
            key_of(&with(vec![
                level(dec!(1), dec!(0.5)),
                level(dec!(2), dec!(0))
            ])),
            "risk.take_profits[1].fraction"
        );
        assert_eq!(
            key_of(&with(vec![level(dec!(1), dec!(1.2))])),
            "risk.take_profits[0].fraction"
        );
        let err = with(vec![level(dec!(1), dec!(0.6)), level(dec!(2), dec!(0.5))])
            .validate("risk")
            .unwrap_err();
        assert_eq!(err.key, "risk.take_profits");
        assert!(err.message.contains("1.1"), "{}", err.message);
        with(vec![]).validate("risk").unwrap();
        with(vec![level(dec!(1), dec!(0.4)), level(dec!(2), dec!(0.6))])
            .validate("risk")
            .unwrap();
    }

    #[test]
    fn sectors_are_checked() {
        let mut cfg = RiskConfig::default();
        cfg.sectors.insert("btc".into(), "x".into());
        assert_eq!(key_of(&cfg), "risk.sectors.btc");
        let mut cfg = RiskConfig::default();
        cfg.sectors.insert("PEPE".into(), " ".into());
        assert_eq!(key_of(&cfg), "risk.sectors.PEPE");
    }

    #[test]
    fn parses_from_json_with_defaults_and_rejects_unknown_keys() {
        let cfg: RiskConfig =
            serde_json::from_str(r#"{"max_open_positions": 2, "qty_step": "0.001"}"#).unwrap();
        assert_eq!(cfg.max_open_positions, 2);
        assert_eq!(cfg.qty_step, dec!(0.001));
        assert_eq!(cfg.min_notional, dec!(10));
        let err = serde_json::from_str::<RiskConfig>(r#"{"max_positions": 2}"#).unwrap_err();
        assert!(err.to_string().contains("max_positions"), "{err}");
    }
}
