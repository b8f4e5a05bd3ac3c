//! The fusion core: one technical setup in, one decision out.
//!
//! # How confidence is made
//! With `t` the setup's score, `d` +1 for a long and -1 for a short:
//! - sentiment counts when fresh (at most `sentiment_max_age_hours` before the setup):
//!   `s = score × confidence × d`, else `s = 0` (stale sentiment weighs nothing);
//! - events count when recent (at most `event_max_age_hours` before the setup):
//!   `e = clamp(Σ impact, -1, 1)`;
//! - `view = clamp(t + s + e × d, 0, 1)`, the technical score as revised by the news, and
//!   `confidence = technical_weight × t + sentiment_weight × view`. So aligned news raises the
//!   confidence, opposed news lowers it, and no news leaves it at `t`;
//! - with the analyst unavailable, `confidence = t × technical_only_factor` (news is ignored,
//!   and the confidence is lower than with an analyst that simply found nothing);
//! - a bear regime subtracts `bear_long_penalty` from longs, a bull regime
//!   `bull_short_penalty` from shorts; the result is clamped to [0, 1].
//!
//! A recent negative event at least `veto_severity` severe vetoes a long, whatever the
//! confidence and whether or not the analyst is available. HACK and DELISTING events count as
//! negative whatever their impact says: no analyst output can lift a veto.

use std::collections::HashMap;

use super::config::FusionConfig;
use crate::model::{
    Direction, EventKind, MarketEvent, Regime, SentimentUpdate, Symbol, TechnicalSetup,
    TradingSignal,
};

/// What fusion made of a setup.
#[derive(Debug, Clone, PartialEq)]
pub enum FusionDecision {
    /// A signal with its confidence, for risk to size (or refuse).
    Signal(TradingSignal),
    /// A long blocked by a recent critical negative event (log the event's headline).
    Vetoed {
        /// The pair.
        symbol: Symbol,
        /// The event that vetoed it.
        event: MarketEvent,
    },
    /// The setup itself was unusable.
    Discarded {
        /// Why.
        reason: &'static str,
    },
}

/// Combines setups with the latest sentiment, recent events and the regime. Pure.
#[derive(Debug, Clone)]
pub struct FusionCore {
    cfg: FusionConfig,
    sentiment: HashMap<Symbol, SentimentUpdate>,
    events: HashMap<Symbol, Vec<MarketEvent>>,
    regime: Regime,
    analyst_available: bool,
}

impl FusionCore {
    /// A core with no sentiment, no events, a range regime and the analyst available.
    /// `cfg` is expected to have been validated.
    pub fn new(cfg: FusionConfig) -> Self {
        Self {
            cfg,
            sentiment: HashMap::new(),
            events: HashMap::new(),
            regime: Regime::Range,
            analyst_available: true,
        }
    }

    /// Keeps the newest sentiment per symbol (an older one arriving late is ignored, and so
    /// is one with a non-finite score or confidence). Ranges are clamped.
    pub fn on_sentiment(&mut self, update: &SentimentUpdate) {
        if !update.score.is_finite() || !update.confidence.is_finite() {
            return;
        }
        if let Some(known) = self.sentiment.get(&update.symbol) {
            if known.ts > update.ts {
                return;
            }
        }
        let mut update = update.clone();
        update.score = update.score.clamp(-1.0, 1.0);
        update.confidence = update.confidence.clamp(0.0, 1.0);
        self.sentiment.insert(update.symbol.clone(), update);
    }

    /// Records an event; returns it when it is one that vetoes longs (negative and at least
    /// `veto_severity`), so the driver can consider an emergency exit.
    pub fn on_event(&mut self, event: &MarketEvent) -> Option<MarketEvent> {
        let mut event = event.clone();
        event.impact = if event.impact.is_finite() {
            event.impact.clamp(-1.0, 1.0)
        } else {
            0.0
        };
        let max_age = self.cfg.event_max_age_ms();
        let list = self.events.entry(event.symbol.clone()).or_default();
        let newest = list
            .iter()
            .map(|e| e.ts)
            .max()
            .unwrap_or(event.ts)
            .max(event.ts);
        list.retain(|e| newest.millis() - e.ts.millis() <= max_age);
        list.push(event.clone());
        self.vetoes(&event).then_some(event)
    }

    /// Sets the market regime.
    pub fn on_regime(&mut self, regime: Regime) {
        self.regime = regime;
    }

    /// Switches technical-only mode off (`true`) or on (`false`).
    pub fn set_analyst_available(&mut self, available: bool) {
        self.analyst_available = available;
    }

    /// Whether the analyst is available (fusion is technical-only when not).
    pub fn analyst_available(&self) -> bool {
        self.analyst_available
    }

    /// The current regime.
    pub fn regime(&self) -> Regime {
        self.regime
    }

    /// Fuses a setup into a decision (see the module doc).
    pub fn on_setup(&mut self, setup: &TechnicalSetup) -> FusionDecision {
        if !(0.0..=1.0).contains(&setup.score) {
            return FusionDecision::Discarded {
                reason: "setup score is not a number in [0, 1]",
            };
        }
        if !setup.atr.is_finite() || setup.atr < 0.0 {
            return FusionDecision::Discarded {
                reason: "setup ATR is not a finite non-negative number",
            };
        }
        let event_max_age = self.cfg.event_max_age_ms();
        let recent =
            |ts: crate::model::Timestamp, max_age: i64| setup.ts.millis() - ts.millis() <= max_age;
        let events = self
            .events
            .get(&setup.symbol)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let recent_events = || events.iter().filter(|e| recent(e.ts, event_max_age));

        if setup.direction == Direction::Long {
            let veto = recent_events()
                .filter(|e| self.vetoes(e))
                .max_by_key(|e| e.ts);
            if let Some(event) = veto {
                return FusionDecision::Vetoed {
                    symbol: setup.symbol.clone(),
                    event: event.clone(),
                };
            }
        }

        let technical = setup.score;
        let sign = match setup.direction {
            Direction::Long => 1.0,
            Direction::Short => -1.0,
        };
        let (base, sentiment_score, event_impact) = if self.analyst_available {
            let fresh = self
                .sentiment
                .get(&setup.symbol)
                .filter(|u| recent(u.ts, self.cfg.sentiment_max_age_ms()));
            let (score, weight) = fresh.map_or((0.0, 0.0), |u| (u.score, u.confidence));
            let impact = recent_events()
                .map(|e| e.impact)
                .sum::<f64>()
                .clamp(-1.0, 1.0);
            let view = (technical + score * weight * sign + impact * sign).clamp(0.0, 1.0);
            let base = self.cfg.technical_weight * technical + self.cfg.sentiment_weight * view;
            (base, score, impact)
        } else {
            (technical * self.cfg.technical_only_factor, 0.0, 0.0)
        };
        let penalty = match (self.regime, setup.direction) {
            (Regime::Bear, Direction::Long) => self.cfg.bear_long_penalty,
            (Regime::Bull, Direction::Short) => self.cfg.bull_short_penalty,
            _ => 0.0,
        };
        FusionDecision::Signal(TradingSignal {
            symbol: setup.symbol.clone(),
            direction: setup.direction,
            confidence: (base - penalty).clamp(0.0, 1.0),
            technical_score: technical,
            sentiment_score,
            event_impact,
            ts: setup.ts,
            price: setup.price,
            atr: setup.atr,
        })
    }

    /// Whether `event` vetoes new longs: at least `veto_severity` and negative (a HACK or a
    /// DELISTING is negative whatever its impact says).
    fn vetoes(&self, event: &MarketEvent) -> bool {
        let negative =
            event.impact < 0.0 || matches!(event.kind, EventKind::Hack | EventKind::Delisting);
        negative && event.severity >= self.cfg.veto_severity
    }
}

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;
