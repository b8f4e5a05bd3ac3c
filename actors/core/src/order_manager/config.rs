//! The order manager's config section: the run id of client order ids, and trailing stops.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::config_check::{in_range, key, ConfigError};

/// When and how far behind the price the protective stop trails.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrailingConfig {
    /// Whether stops are moved at all (to break-even after a take-profit, then trailed).
    pub enabled: bool,
    /// Distance of the trailing stop below the highest close since entry, in ATRs.
    pub atr_mult: f64,
    /// The take-profit level whose fill activates trailing (0: trail from the entry on).
    pub activate_after_level: u8,
}

impl Default for TrailingConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            atr_mult: 3.0,
            activate_after_level: 1,
        }
    }
}

impl TrailingConfig {
    /// Checks `atr_mult` in `0.1..=20` and `activate_after_level` in `0..=10`.
    pub fn validate(&self, section: &str) -> Result<(), ConfigError> {
        in_range(section, "atr_mult", self.atr_mult, 0.1, 20.0)?;
        in_range(
            section,
            "activate_after_level",
            self.activate_after_level,
            0,
            10,
        )?;
        Ok(())
    }
}

/// The order manager's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OrderManagerConfig {
    /// Prefix of every client order id (`{run_id}-{symbol}-{seq}`): 1 to 8 ASCII letters or
    /// digits, so that ids stay within Binance's 36 characters.
    pub run_id: String,
    /// Break-even and trailing stops.
    pub trailing: TrailingConfig,
    /// Cash held back for an open market buy beyond its cost at the decision's close, as a
    /// fraction (0.02 = 2 %): covers the fee, slippage and a gap to the next open, so that
    /// signals on several symbols at once cannot commit more cash than the account holds.
    pub reserve_margin: Decimal,
    /// The smallest quantity a sell can carry (the settings' `risk.qty_step`, not a key of
    /// `[orders]`): what a round trip leaves below it once its exits are done is dust (a fee
    /// withheld from the base asset leaves some), kept apart from positions. Zero: a round
    /// trip ends only when nothing is left.
    #[serde(skip)]
    pub lot: Decimal,
}

impl Default for OrderManagerConfig {
    fn default() -> Self {
        Self {
            run_id: "bt".to_string(),
            trailing: TrailingConfig::default(),
            reserve_margin: Decimal::new(2, 2),
            lot: Decimal::ZERO,
        }
    }
}

impl OrderManagerConfig {
    /// Checks the run id (1..=8 characters of `[A-Za-z0-9]`) and the trailing section.
    pub fn validate(&self, section: &str) -> Result<(), ConfigError> {
        let run_id = &self.run_id;
        let valid =
            (1..=8).contains(&run_id.len()) && run_id.chars().all(|c| c.is_ascii_alphanumeric());
        if !valid {
            return Err(ConfigError::new(
                key(section, "run_id"),
                format!("`{run_id}` must be 1 to 8 characters of [A-Za-z0-9]"),
            ));
        }
        in_range(
            section,
            "reserve_margin",
            self.reserve_margin,
            Decimal::ZERO,
            Decimal::ONE,
        )?;
        self.trailing.validate(&key(section, "trailing"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let cfg = OrderManagerConfig::default();
        assert_eq!(cfg.run_id, "bt");
        assert!(cfg.trailing.enabled);
        assert_eq!(cfg.trailing.atr_mult, 3.0);
        assert_eq!(cfg.trailing.activate_after_level, 1);
        assert!(cfg.validate("order_manager").is_ok());
    }

    #[test]
    fn run_id_must_be_short_and_alphanumeric() {
        for bad in ["", "toolongid", "a-b", "bt 1"] {
            let cfg = OrderManagerConfig {
                run_id: bad.to_string(),
                ..OrderManagerConfig::default()
            };
            let err = cfg.validate("order_manager").unwrap_err();
            assert_eq!(err.key, "order_manager.run_id", "{bad}");
            assert!(err.message.contains("[A-Za-z0-9]"), "{}", err.message);
        }
    }

    #[test]
    fn trailing_errors_name_the_nested_key() {
        let mut cfg = OrderManagerConfig::default();
        cfg.trailing.atr_mult = f64::NAN;
        let err = cfg.validate("order_manager").unwrap_err();
        assert_eq!(err.key, "order_manager.trailing.atr_mult");
        cfg.trailing.atr_mult = 2.0;
        cfg.trailing.activate_after_level = 11;
        let err = cfg.validate("order_manager").unwrap_err();
        assert_eq!(err.key, "order_manager.trailing.activate_after_level");
        assert!(err.message.contains("0..=10"));
    }

    #[test]
    fn unknown_keys_are_rejected() {
        assert!(serde_json::from_str::<OrderManagerConfig>(r#"{"run": "x"}"#).is_err());
        let cfg: OrderManagerConfig =
            serde_json::from_str(r#"{"run_id": "live1", "trailing": {"atr_mult": 2.5}}"#).unwrap();
        assert_eq!(cfg.run_id, "live1");
        assert_eq!(cfg.trailing.atr_mult, 2.5);
        assert!(cfg.trailing.enabled);
    }
}
