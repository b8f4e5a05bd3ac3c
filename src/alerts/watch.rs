//! What changed between two looks at the run: a pure function, so each alert is tested
//! without a running keel.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use keel_actors::board::Board;
use keel_supervision::{BreakerState, HealthRegistry};

use super::alert::{Alert, AlertKind};

/// The run as the watcher saw it once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observation {
    /// Why trading stopped, if it did.
    pub stopped: Option<String>,
    /// Breakers open.
    pub open_breakers: BTreeSet<String>,
    /// The kill switch's drawdown in percent, if tripped.
    pub kill_switch: Option<String>,
    /// The daily loss limit is hit.
    pub daily_limit_hit: bool,
    /// An operator halted new entries.
    pub halted: bool,
    /// How far the last candle lags, when past the limit.
    pub lagging: Option<Duration>,
    /// Messages quarantined so far, and what the last one was.
    pub quarantined: (u64, Option<String>),
    /// Why the journal cannot be written (and by whom), if it cannot.
    pub journal_failure: Option<String>,
}

impl Observation {
    /// Looks at `health` and `board` now; `lag_limit`: how old the last candle may be.
    pub fn of(health: &HealthRegistry, board: &Board, lag_limit: Option<Duration>) -> Self {
        let report = health.report(std::time::Instant::now());
        let risk = board.risk();
        let lagging = lag_limit.and_then(|limit| {
            let close = board.last_close()?;
            let now = crate::control::unix_ms(SystemTime::now()) as i64;
            let lag = Duration::from_millis(u64::try_from(now - close.0).ok()?);
            (lag > limit).then_some(lag)
        });
        Self {
            stopped: board.trading_stopped(),
            open_breakers: report
                .breakers
                .iter()
                .filter(|b| b.state == BreakerState::Open)
                .map(|b| b.name.clone())
                .collect(),
            kill_switch: risk.kill_switch.map(|k| k.drawdown_pct.to_string()),
            daily_limit_hit: risk.daily_limit_hit,
            halted: risk.halted,
            lagging,
            quarantined: board.quarantine(),
            journal_failure: board.journal_failure(),
        }
    }
}

/// The alerts that take the run from `before` to `now`, most urgent first.
pub fn changes(before: &Observation, now: &Observation) -> Vec<Alert> {
    let mut alerts = Vec::new();
    if let (None, Some(why)) = (&before.stopped, &now.stopped) {
        alerts.push(Alert::new(
            AlertKind::TradingStopped,
            format!("trading stopped safely, keel exits with code 70: {why}"),
        ));
    }
    if let (None, Some(why)) = (&before.journal_failure, &now.journal_failure) {
        alerts.push(Alert::new(
            AlertKind::JournalWriteFailed,
            format!(
                "the journal cannot be written ({why}): no order leaves until a write succeeds"
            ),
        ));
    }
    match (&before.kill_switch, &now.kill_switch) {
        (None, Some(drawdown)) => alerts.push(Alert::new(
            AlertKind::KillSwitchTripped,
            format!("the drawdown kill switch tripped at {drawdown}% drawdown: every position is being closed; keel ctl reset-kill-switch to trade again"),
        )),
        (Some(_), None) => alerts.push(Alert::new(
            AlertKind::KillSwitchReset,
            "the drawdown kill switch was reset: new entries allowed",
        )),
        _ => {}
    }
    for breaker in now.open_breakers.difference(&before.open_breakers) {
        alerts.push(Alert::new(
            AlertKind::BreakerOpened,
            format!("the {breaker} breaker opened: {breaker} is unreachable, risk is reduce-only"),
        ));
    }
    for breaker in before.open_breakers.difference(&now.open_breakers) {
        alerts.push(Alert::new(
            AlertKind::BreakerClosed,
            format!("the {breaker} breaker closed: {breaker} answers again"),
        ));
    }
    if !before.daily_limit_hit && now.daily_limit_hit {
        alerts.push(Alert::new(
            AlertKind::DailyLossLimit,
            "today's loss reached the daily limit: no new entries until UTC midnight",
        ));
    }
    match (before.halted, now.halted) {
        (false, true) => alerts.push(Alert::new(
            AlertKind::Halted,
            "an operator halted new entries (exits are still managed)",
        )),
        (true, false) => alerts.push(Alert::new(
            AlertKind::Resumed,
            "an operator lifted the halt: new entries allowed",
        )),
        _ => {}
    }
    if now.quarantined.0 > before.quarantined.0 {
        let new = now.quarantined.0 - before.quarantined.0;
        let last = now.quarantined.1.as_deref().unwrap_or_default();
        alerts.push(Alert::new(
            AlertKind::Quarantined,
            if new == 1 {
                format!("{last}; see the journal's dead letters")
            } else {
                format!(
                    "{new} messages quarantined, the last: {last}; see the journal's dead letters"
                )
            },
        ));
    }
    match (before.lagging, now.lagging) {
        (None, Some(lag)) => alerts.push(Alert::new(
            AlertKind::CandleLag,
            format!(
                "the last candle closed {} s ago: market data is not arriving",
                lag.as_secs()
            ),
        )),
        (Some(_), None) => alerts.push(Alert::new(
            AlertKind::CandleLagOver,
            "candles are current again",
        )),
        _ => {}
    }
    alerts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::Severity;

    fn kinds(before: &Observation, now: &Observation) -> Vec<AlertKind> {
        changes(before, now).iter().map(|a| a.kind).collect()
    }

    #[test]
    fn each_change_is_told_once_and_its_end_too() {
        let calm = Observation::default();
        assert!(changes(&calm, &calm).is_empty(), "nothing changed");

        let stopped = Observation {
            stopped: Some("risk failed 11 times".into()),
            ..calm.clone()
        };
        let alerts = changes(&calm, &stopped);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].kind, AlertKind::TradingStopped);
        assert_eq!(alerts[0].severity, Severity::Critical);
        assert!(alerts[0].summary.contains("risk failed 11 times"));
        assert!(changes(&stopped, &stopped).is_empty(), "told once");

        let disk_full = Observation {
            journal_failure: Some("flush: No space left on device".into()),
            ..calm.clone()
        };
        let alerts = changes(&calm, &disk_full);
        assert_eq!(kinds(&calm, &disk_full), [AlertKind::JournalWriteFailed]);
        assert_eq!(alerts[0].severity, Severity::Critical);
        assert!(alerts[0].summary.contains("No space left on device"));
        assert!(changes(&disk_full, &disk_full).is_empty(), "told once");

        let venue_down = Observation {
            open_breakers: ["venue".to_string()].into(),
            ..calm.clone()
        };
        assert_eq!(kinds(&calm, &venue_down), [AlertKind::BreakerOpened]);
        assert_eq!(kinds(&venue_down, &calm), [AlertKind::BreakerClosed]);

        let tripped = Observation {
            kill_switch: Some("20.5".into()),
            daily_limit_hit: true,
            ..calm.clone()
        };
        assert_eq!(
            kinds(&calm, &tripped),
            [AlertKind::KillSwitchTripped, AlertKind::DailyLossLimit]
        );
        assert_eq!(kinds(&tripped, &calm), [AlertKind::KillSwitchReset]);

        let halted = Observation {
            halted: true,
            ..calm.clone()
        };
        assert_eq!(kinds(&calm, &halted), [AlertKind::Halted]);
        assert_eq!(kinds(&halted, &calm), [AlertKind::Resumed]);

        let lagging = Observation {
            lagging: Some(Duration::from_secs(900)),
            ..calm.clone()
        };
        let alerts = changes(&calm, &lagging);
        assert_eq!(alerts[0].kind, AlertKind::CandleLag);
        assert!(alerts[0].summary.contains("900 s"), "{}", alerts[0].summary);
        assert_eq!(kinds(&lagging, &calm), [AlertKind::CandleLagOver]);

        let poisoned = Observation {
            quarantined: (
                2,
                Some("a message to symbol:BTCUSDT failed 3 deliveries".into()),
            ),
            ..calm.clone()
        };
        let alerts = changes(&calm, &poisoned);
        assert_eq!(alerts[0].kind, AlertKind::Quarantined);
        assert!(
            alerts[0]
                .summary
                .starts_with("2 messages quarantined, the last: a message to symbol:BTCUSDT"),
            "{}",
            alerts[0].summary
        );
        assert!(changes(&poisoned, &poisoned).is_empty());
    }
}
