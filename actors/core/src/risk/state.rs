//! What the risk engine remembers between decisions, persisted across restarts.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::{Symbol, Timestamp};

/// A tripped max-drawdown kill switch. It stays tripped until an operator resets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KillSwitch {
    /// Event time of the snapshot that tripped it.
    pub tripped_at: Timestamp,
    /// Drawdown from the equity peak at that moment, in percent.
    pub drawdown_pct: Decimal,
}

/// The risk engine's memory. Serialisable so that a restart (or a crash) cannot forget a
/// tripped kill switch, the day's starting equity or a cooldown.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RiskState {
    /// Set when the drawdown kill switch trips; blocks new positions until reset.
    pub kill_switch: Option<KillSwitch>,
    /// Highest equity seen since start (or since the last kill-switch reset).
    pub peak_equity: Decimal,
    /// The UTC day number (days since the epoch) the daily loss is measured in.
    pub day: Option<i64>,
    /// Equity at the first snapshot of `day`.
    pub day_start_equity: Decimal,
    /// Whether the daily loss limit was reached during `day` (latched until midnight).
    pub daily_limit_hit: bool,
    /// Symbols cooling down after a stop-out, and when their cooldown ends.
    pub cooldown_until: BTreeMap<Symbol, Timestamp>,
    /// An operator halted new entries (`keel ctl halt`); exits are still managed.
    pub halted: bool,
    /// An operator asked to close every position at the next bar close (`keel ctl flatten`).
    pub flatten_requested: bool,
}

impl RiskState {
    /// Whether `symbol` is still cooling down at `now` (the cooldown ends exactly at its
    /// end time).
    pub fn cooldown_end(&self, symbol: &Symbol, now: Timestamp) -> Option<Timestamp> {
        self.cooldown_until
            .get(symbol)
            .copied()
            .filter(|until| now < *until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json_and_tolerates_missing_fields() {
        let mut state = RiskState {
            kill_switch: Some(KillSwitch {
                tripped_at: Timestamp(1_000),
                drawdown_pct: Decimal::new(215, 1),
            }),
            peak_equity: Decimal::new(12_000, 0),
            day: Some(19_000),
            day_start_equity: Decimal::new(9_500, 0),
            daily_limit_hit: true,
            cooldown_until: BTreeMap::new(),
            halted: true,
            flatten_requested: true,
        };
        state
            .cooldown_until
            .insert(Symbol::parse("BTCUSDT").unwrap(), Timestamp(5_000));
        let json = serde_json::to_string(&state).unwrap();
        let back: RiskState = serde_json::from_str(&json).unwrap();
        assert_eq!(back, state);
        let empty: RiskState = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, RiskState::default());
    }
}
