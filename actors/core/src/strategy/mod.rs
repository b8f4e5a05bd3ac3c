//! Strategy selection and the baseline strategies users compare the fused pipeline against.
//!
//! `fusion` is the full pipeline (symbol cores → fusion → risk); the baselines decide on their
//! own and size all-in, so that their numbers show what the fused strategy adds.

mod baseline;
pub mod llm;
mod stage;

pub use baseline::{BuyAndHold, CrossSignal, SmaCross};
pub use stage::{Decision, StrategyStage};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::config_check::{in_range, ConfigError};

/// Which decision code drives the orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum StrategyKind {
    /// Setups, sentiment, events and regime fused, sized and checked by risk.
    #[default]
    Fusion,
    /// Fast/slow SMA crossover: all-in long on the golden cross, flat on the death cross.
    SmaCross,
    /// Buy every symbol at the first bar and hold.
    BuyAndHold,
    /// A model decides at each decision point (`[strategy.llm]`); risk sizes and bounds it.
    Llm,
}

impl StrategyKind {
    /// The name used in config files and reports.
    pub fn name(self) -> &'static str {
        match self {
            StrategyKind::Fusion => "fusion",
            StrategyKind::SmaCross => "sma_cross",
            StrategyKind::BuyAndHold => "buy_and_hold",
            StrategyKind::Llm => "llm",
        }
    }

    /// Whether risk's engine sizes and limits the strategy's signals (fusion and `llm`);
    /// the baselines are sized all-in and have no account-wide rules.
    pub fn uses_risk_engine(self) -> bool {
        matches!(self, StrategyKind::Fusion | StrategyKind::Llm)
    }
}

/// The `[strategy]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StrategyConfig {
    /// `fusion`, `sma_cross`, `buy_and_hold` or `llm`.
    pub kind: StrategyKind,
    /// Fast SMA period of `sma_cross`.
    pub sma_fast: usize,
    /// Slow SMA period of `sma_cross`.
    pub sma_slow: usize,
    /// Share of equity the baselines keep in cash as a buffer for fees, slippage and gaps
    /// between the decision close and the next open, in percent.
    pub cash_buffer_pct: Decimal,
    /// Close a position at market when a critical negative event hits its symbol.
    pub emergency_exit_on_critical_event: bool,
    /// The `llm` strategy's settings.
    pub llm: llm::LlmStrategyConfig,
}

impl Default for StrategyConfig {
    fn default() -> Self {
        Self {
            kind: StrategyKind::Fusion,
            sma_fast: 20,
            sma_slow: 50,
            cash_buffer_pct: Decimal::ONE,
            emergency_exit_on_critical_event: true,
            llm: llm::LlmStrategyConfig::default(),
        }
    }
}

impl StrategyConfig {
    /// Checks every field; errors name the key and the allowed range.
    pub fn validate(&self, section: &str) -> Result<(), ConfigError> {
        in_range(section, "sma_fast", self.sma_fast, 1, 10_000)?;
        in_range(section, "sma_slow", self.sma_slow, 2, 10_000)?;
        if self.sma_fast >= self.sma_slow {
            return Err(ConfigError::between(
                crate::config_check::key(section, "sma_fast"),
                crate::config_check::key(section, "sma_slow"),
                format!(
                    "{} must be smaller than sma_slow ({})",
                    self.sma_fast, self.sma_slow
                ),
            ));
        }
        in_range(
            section,
            "cash_buffer_pct",
            self.cash_buffer_pct,
            Decimal::ZERO,
            Decimal::from(50),
        )?;
        self.llm.validate(
            &crate::config_check::key(section, "llm"),
            self.kind == StrategyKind::Llm,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_rejects_inverted_periods_by_name() {
        let cfg = StrategyConfig {
            sma_fast: 50,
            sma_slow: 20,
            ..StrategyConfig::default()
        };
        let err = cfg.validate("strategy").unwrap_err();
        assert_eq!(err.key, "strategy.sma_fast");
        assert!(StrategyConfig::default().validate("strategy").is_ok());
    }

    #[test]
    fn kinds_parse_from_config_names() {
        #[derive(Deserialize)]
        struct Wrap {
            kind: StrategyKind,
        }
        let w: Wrap = toml_like("sma_cross");
        assert_eq!(w.kind, StrategyKind::SmaCross);
        assert_eq!(w.kind.name(), "sma_cross");

        fn toml_like(kind: &str) -> Wrap {
            serde_json::from_str(&format!("{{\"kind\":\"{kind}\"}}")).unwrap()
        }
    }
}
