//! The rules the risk engine enforces, and the refusal that names one of them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One risk rule. Every refusal carries the rule that made it, so operators can grep logs
/// and journals for [`RiskRule::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskRule {
    /// The signal's confidence is below `min_confidence`.
    MinConfidence,
    /// The max-drawdown kill switch is tripped (or the drawdown already reaches it).
    KillSwitch,
    /// Today's loss reached `daily_loss_limit_pct` (resets at UTC midnight).
    DailyLossLimit,
    /// The venue's circuit breaker is open: only orders that reduce risk pass.
    ReduceOnly,
    /// An order on the symbol has an unresolved outcome: no new risk on it until resolved.
    UnresolvedOrder,
    /// A position in the symbol is already open (no pyramiding).
    PositionOpen,
    /// `max_open_positions` positions are already open.
    MaxOpenPositions,
    /// ATR as a share of the price is above `max_volatility_pct`.
    Volatility,
    /// Even the smallest order would risk more than `max_risk_per_trade_pct` of equity.
    PerTradeRisk,
    /// No room left under `max_asset_exposure_pct`.
    AssetExposure,
    /// No room left under `max_sector_exposure_pct`.
    SectorExposure,
    /// No room left under `max_total_exposure_pct`.
    TotalExposure,
    /// The sized order (or the cash available) is below `min_notional`.
    MinNotional,
    /// The symbol is cooling down after a stop-out.
    Cooldown,
    /// A short signal with no long to close: spot cannot short.
    NoShortOnSpot,
    /// The signal itself is malformed (NaN, non-positive price or ATR).
    InvalidSignal,
    /// An operator halted new entries (`keel ctl halt`; `keel ctl resume` lifts it).
    Halted,
    /// The signal's bar closed more than `max_bar_age_minutes` before the newest bar the
    /// venue has closed: a catch-up bar, too old to open a position on.
    StaleBar,
}

impl RiskRule {
    /// Every rule, in declaration order.
    pub const ALL: [RiskRule; 18] = [
        RiskRule::MinConfidence,
        RiskRule::KillSwitch,
        RiskRule::DailyLossLimit,
        RiskRule::ReduceOnly,
        RiskRule::UnresolvedOrder,
        RiskRule::PositionOpen,
        RiskRule::MaxOpenPositions,
        RiskRule::Volatility,
        RiskRule::PerTradeRisk,
        RiskRule::AssetExposure,
        RiskRule::SectorExposure,
        RiskRule::TotalExposure,
        RiskRule::MinNotional,
        RiskRule::Cooldown,
        RiskRule::NoShortOnSpot,
        RiskRule::InvalidSignal,
        RiskRule::Halted,
        RiskRule::StaleBar,
    ];

    /// The rule's stable snake_case name, as logged (`"daily_loss_limit"`).
    pub fn name(&self) -> &'static str {
        match self {
            RiskRule::MinConfidence => "min_confidence",
            RiskRule::KillSwitch => "kill_switch",
            RiskRule::DailyLossLimit => "daily_loss_limit",
            RiskRule::ReduceOnly => "reduce_only",
            RiskRule::UnresolvedOrder => "unresolved_order",
            RiskRule::PositionOpen => "position_open",
            RiskRule::MaxOpenPositions => "max_open_positions",
            RiskRule::Volatility => "volatility",
            RiskRule::PerTradeRisk => "per_trade_risk",
            RiskRule::AssetExposure => "asset_exposure",
            RiskRule::SectorExposure => "sector_exposure",
            RiskRule::TotalExposure => "total_exposure",
            RiskRule::MinNotional => "min_notional",
            RiskRule::Cooldown => "cooldown",
            RiskRule::NoShortOnSpot => "no_short_on_spot",
            RiskRule::InvalidSignal => "invalid_signal",
            RiskRule::Halted => "halted",
            RiskRule::StaleBar => "stale_bar",
        }
    }
}

impl fmt::Display for RiskRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A signal the risk engine refused: the rule, and the numbers that broke it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refused by {rule}: {detail}")]
pub struct Refusal {
    /// The rule that refused.
    pub rule: RiskRule,
    /// What was asked and what the limit is, e.g. `exposure to BTC would be 31.2% > 25%`.
    pub detail: String,
}

impl Refusal {
    /// A refusal by `rule`.
    pub fn new(rule: RiskRule, detail: impl Into<String>) -> Self {
        Self {
            rule,
            detail: detail.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_snake_case_unique_and_match_serde() {
        let mut seen = std::collections::BTreeSet::new();
        for rule in RiskRule::ALL {
            let name = rule.name();
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{name}"
            );
            assert!(seen.insert(name), "duplicate name {name}");
            assert_eq!(serde_json::to_string(&rule).unwrap(), format!("\"{name}\""));
            assert_eq!(rule.to_string(), name);
        }
    }

    #[test]
    fn refusal_message_names_the_rule_and_the_numbers() {
        let refusal = Refusal::new(
            RiskRule::AssetExposure,
            "exposure to BTC would be 31.2% > 25%",
        );
        assert_eq!(
            refusal.to_string(),
            "refused by asset_exposure: exposure to BTC would be 31.2% > 25%"
        );
    }
}
