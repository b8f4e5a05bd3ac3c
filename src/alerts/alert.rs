//! One alert.

use serde::Serialize;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// The root supervisor gave up: trading stopped and keel exits with code 70.
    TradingStopped,
    /// A circuit breaker opened: its dependency is unreachable.
    BreakerOpened,
    /// That breaker closed again.
    BreakerClosed,
    /// The drawdown kill switch tripped: every position is closed, no new entries.
    KillSwitchTripped,
    /// The kill switch was reset.
    KillSwitchReset,
    /// Today's loss reached the daily limit.
    DailyLossLimit,
    /// An operator halted new entries.
    Halted,
    /// The halt was lifted.
    Resumed,
    /// The last candle is older than `alerts.candle_lag_s`.
    CandleLag,
    /// Candles are current again.
    CandleLagOver,
    /// Reconciliation found what it cannot explain: keel refuses to trade.
    ReconciliationHalt,
    /// A message failed every delivery and was quarantined (a dead letter in the journal).
    Quarantined,
    /// The journal cannot be written: no order leaves until a write succeeds.
    JournalWriteFailed,
}

impl AlertKind {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TradingStopped => "trading_stopped",
            Self::BreakerOpened => "breaker_opened",
            Self::BreakerClosed => "breaker_closed",
            Self::KillSwitchTripped => "kill_switch_tripped",
            Self::KillSwitchReset => "kill_switch_reset",
            Self::DailyLossLimit => "daily_loss_limit",
            Self::Halted => "halted",
            Self::Resumed => "resumed",
            Self::CandleLag => "candle_lag",
            Self::CandleLagOver => "candle_lag_over",
            Self::ReconciliationHalt => "reconciliation_halt",
            Self::Quarantined => "quarantined",
            Self::JournalWriteFailed => "journal_write_failed",
        }
    }

    /// How urgent it is.
    pub fn severity(self) -> Severity {
        match self {
            Self::TradingStopped
            | Self::KillSwitchTripped
            | Self::ReconciliationHalt
            | Self::JournalWriteFailed => Severity::Critical,
            Self::BreakerOpened
            | Self::DailyLossLimit
            | Self::Halted
            | Self::CandleLag
            | Self::Quarantined => Severity::Warning,
            Self::BreakerClosed | Self::KillSwitchReset | Self::Resumed | Self::CandleLagOver => {
                Severity::Resolved
            }
        }
    }
}

/// How urgent an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Trading stopped or risk flattened: act now.
    Critical,
    /// Trading is limited: look soon.
    Warning,
    /// An earlier alert is over.
    Resolved,
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// What happened.
    pub kind: AlertKind,
    /// How urgent it is.
    pub severity: Severity,
    /// One line for a human.
    pub summary: String,
    /// When it was noticed, in Unix milliseconds.
    pub at_ms: u64,
}

impl Alert {
    /// An alert of `kind` noticed now.
    pub fn new(kind: AlertKind, summary: impl Into<String>) -> Self {
        Self {
            kind,
            severity: kind.severity(),
            summary: summary.into(),
            at_ms: crate::control::unix_ms(std::time::SystemTime::now()),
        }
    }
}
