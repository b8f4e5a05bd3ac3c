//! The strategy stage: what the fusion actor does with each symbol update. It holds fusion,
//! the regime detector and the baselines, takes the news released so far, and turns a
//! symbol's candle into a [`Decision`]. Pure: the backtest loop and the actor runtime call it
//! with the same inputs in the same order. Each decision of a traded candle is recorded in the
//! audit trail with its inputs (and a vetoed long as refused by `event_veto`); recovered
//! candles, decided before a restart, are not recorded again.

use std::collections::HashMap;

use super::llm::{Answer, Ask, Fallback, LlmStage, LlmStats};
use super::{BuyAndHold, CrossSignal, SmaCross, StrategyConfig, StrategyKind};
use crate::audit;
use crate::fusion::{FusionConfig, FusionCore, FusionDecision};
use crate::graph::Mode;
use crate::model::SentimentOutput;
use crate::model::{
    Candle, DecisionRecord, Direction, DomainEvent, ExitProposal, MarketEvent, Regime, SetupRecord,
    Symbol, TechnicalSetup, TradingSignal,
};
use crate::symbol::{RegimeConfig, RegimeDetector, SymbolUpdate};
use tracing::{debug, info, warn};

/// What the strategy concluded on one candle.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Decision {
    /// A signal for risk to size or refuse.
    pub signal: Option<TradingSignal>,
    /// Critical negative events received since the last decision, for held symbols to be
    /// flattened (only with `strategy.emergency_exit_on_critical_event`).
    pub emergencies: Vec<MarketEvent>,
    /// A long that fusion vetoed, with the event that vetoed it.
    pub vetoed: Option<MarketEvent>,
    /// Why fusion discarded a setup, if it did.
    pub discarded: Option<&'static str>,
    /// The regime, when this candle changed it.
    pub regime_changed: Option<Regime>,
    /// The `llm` strategy's question at a decision point: the driver asks the model (or
    /// its cache) and hands the answer to [`StrategyStage::on_answer`].
    pub ask: Option<Ask>,
    /// Exits the strategy proposed with its signal (for risk to bound).
    pub proposal: Option<ExitProposal>,
}

#[derive(Debug, Clone)]
enum Baseline {
    SmaCross(SmaCross),
    BuyAndHold(BuyAndHold),
}

/// Fusion, regime and baselines: one per trading account.
#[derive(Debug, Clone)]
pub struct StrategyStage {
    kind: StrategyKind,
    emergency_exit: bool,
    fusion: FusionCore,
    regime_symbol: Option<Symbol>,
    regime_detector: RegimeDetector,
    regime: Regime,
    baselines: HashMap<Symbol, Baseline>,
    fast: usize,
    slow: usize,
    pending_emergencies: Vec<MarketEvent>,
    llm: Option<LlmStage>,
}

impl StrategyStage {
    /// A stage for validated configs.
    pub fn new(strategy: &StrategyConfig, fusion: &FusionConfig, regime: &RegimeConfig) -> Self {
        Self {
            kind: strategy.kind,
            emergency_exit: strategy.emergency_exit_on_critical_event,
            fusion: FusionCore::new(fusion.clone()),
            regime_symbol: Symbol::parse(&regime.symbol).ok(),
            regime_detector: RegimeDetector::new(regime),
            regime: Regime::default(),
            baselines: HashMap::new(),
            fast: strategy.sma_fast,
            slow: strategy.sma_slow,
            pending_emergencies: Vec::new(),
            llm: (strategy.kind == StrategyKind::Llm).then(|| LlmStage::new(&strategy.llm)),
        }
    }

    /// The `llm` strategy's counts (none for the other strategies).
    pub fn llm_stats(&self) -> Option<&LlmStats> {
        self.llm.as_ref().map(LlmStage::stats)
    }

    /// The strategy being run.
    pub fn kind(&self) -> StrategyKind {
        self.kind
    }

    /// The current regime.
    pub fn regime(&self) -> Regime {
        self.regime
    }

    /// Tells fusion whether the analyst is available (technical-only when not).
    pub fn set_analyst_available(&mut self, available: bool) {
        self.fusion.set_analyst_available(available);
    }

    /// Takes the sentiment and events released up to now. Critical negative events are kept
    /// for the next decision, which carries them to risk and the order manager; a change of
    /// the analyst's availability switches fusion's technical-only mode.
    pub fn on_news(&mut self, outputs: &[SentimentOutput]) {
        for output in outputs {
            match output {
                SentimentOutput::Headline(item) => {
                    if let Some(llm) = self.llm.as_mut() {
                        llm.on_headline(item);
                    }
                }
                SentimentOutput::Update(update) => {
                    self.fusion.on_sentiment(update);
                    if let Some(llm) = self.llm.as_mut() {
                        llm.on_sentiment(update);
                    }
                }
                SentimentOutput::AnalystAvailable(available) => {
                    self.set_analyst_available(*available)
                }
                SentimentOutput::Event(event) => {
                    if let Some(critical) = self.fusion.on_event(event) {
                        if self.emergency_exit {
                            self.pending_emergencies.push(critical);
                        }
                    }
                }
            }
        }
    }

    /// Decides on one symbol's closed candle. In warm-up (before the configured start) the
    /// regime and the crossover averages still advance, but nothing is decided; buy-and-hold
    /// waits for the first trading bar. A recovered candle is decided exactly as it was before
    /// the restart, but only a trading candle's decision is recorded in the audit trail.
    pub fn on_update(&mut self, candle: &Candle, update: &SymbolUpdate, mode: Mode) -> Decision {
        // Recovered candles are decided as they were; only warm-up decides nothing.
        let trading = mode != Mode::Warmup;
        let mut decision = Decision {
            emergencies: if trading {
                std::mem::take(&mut self.pending_emergencies)
            } else {
                Vec::new()
            },
            ..Decision::default()
        };
        if self.regime_symbol.as_ref() == Some(&candle.symbol) {
            let regime = self
                .regime_detector
                .on_values(update.close, update.values.sma_long);
            if regime != self.regime {
                if mode == Mode::Trading {
                    record_regime(candle, self.regime, regime);
                }
                self.regime = regime;
                self.fusion.on_regime(regime);
                decision.regime_changed = Some(regime);
            }
        }
        match self.kind {
            StrategyKind::Fusion => {
                if let (true, Some(setup)) = (trading, &update.setup) {
                    match self.fusion.on_setup(setup) {
                        FusionDecision::Signal(signal) => decision.signal = Some(signal),
                        FusionDecision::Vetoed { event, .. } => decision.vetoed = Some(event),
                        FusionDecision::Discarded { reason } => decision.discarded = Some(reason),
                    }
                }
            }
            StrategyKind::SmaCross | StrategyKind::BuyAndHold => {
                let direction = self.baseline(candle, update.close, trading);
                decision.signal =
                    direction.map(|direction| baseline_signal(candle, update, direction));
            }
            StrategyKind::Llm => {
                let fusion = self.fusion_fallback(update, mode == Mode::Trading);
                if let Some(llm) = self.llm.as_mut() {
                    decision.ask = llm.ask(candle, update, self.regime, mode, fusion);
                }
            }
        }
        if mode == Mode::Trading {
            log(&decision, candle);
            self.record(&decision, update.setup.as_ref());
        }
        decision
    }

    /// What fusion decides on the bar, when the `llm` strategy falls back to it (its state
    /// advances on every setup, so that the fallback is fusion as it would have been).
    fn fusion_fallback(&mut self, update: &SymbolUpdate, asking: bool) -> Option<TradingSignal> {
        let falls_back = self
            .llm
            .as_ref()
            .is_some_and(|llm| llm.fallback() == Fallback::Fusion);
        match (falls_back && asking, &update.setup) {
            (true, Some(setup)) => match self.fusion.on_setup(setup) {
                FusionDecision::Signal(signal) => Some(signal),
                FusionDecision::Vetoed { .. } | FusionDecision::Discarded { .. } => None,
            },
            _ => None,
        }
    }

    /// Takes the answer to the question `decision` carries (see [`Decision::ask`]): the
    /// decision then holds the model's signal and proposed exits, or the fallback's, and a
    /// signal is recorded in the audit trail with the model's reasons.
    pub fn on_answer(&mut self, decision: &mut Decision, answer: Answer) {
        let (Some(ask), Some(llm)) = (decision.ask.take(), self.llm.as_mut()) else {
            return;
        };
        let setup = ask.context.setup.clone();
        let concluded = llm.on_answer(ask, answer);
        decision.signal = concluded.signal;
        decision.proposal = concluded.proposal;
        if let Some(signal) = &decision.signal {
            let regime = self.regime;
            audit::record(|| {
                DomainEvent::Decision(DecisionRecord {
                    ts: signal.ts,
                    symbol: signal.symbol.clone(),
                    strategy: StrategyKind::Llm.name().to_string(),
                    direction: signal.direction,
                    price: signal.price,
                    atr: signal.atr,
                    regime,
                    setup: setup.map(|s| SetupRecord {
                        score: s.score,
                        reasons: s.reasons.iter().map(|r| r.to_string()).collect(),
                    }),
                    sentiment: Some(signal.sentiment_score),
                    event_impact: None,
                    technical_only: false,
                    confidence: Some(signal.confidence),
                    reasons: concluded.reasons.clone(),
                })
            });
        }
    }

    /// Writes the decision (and a veto) to the audit trail.
    fn record(&self, decision: &Decision, setup: Option<&TechnicalSetup>) {
        let setup_record = |setup: &TechnicalSetup| SetupRecord {
            score: setup.score,
            reasons: setup.reasons.iter().map(|r| r.to_string()).collect(),
        };
        if let Some(signal) = &decision.signal {
            let fused = self.kind == StrategyKind::Fusion;
            audit::record(|| {
                DomainEvent::Decision(DecisionRecord {
                    ts: signal.ts,
                    symbol: signal.symbol.clone(),
                    strategy: self.kind.name().to_string(),
                    direction: signal.direction,
                    price: signal.price,
                    atr: signal.atr,
                    regime: self.regime,
                    setup: setup.filter(|_| fused).map(setup_record),
                    sentiment: fused.then_some(signal.sentiment_score),
                    event_impact: fused.then_some(signal.event_impact),
                    technical_only: fused && !self.fusion.analyst_available(),
                    confidence: Some(signal.confidence),
                    reasons: Vec::new(),
                })
            });
        }
        if let (Some(event), Some(setup)) = (&decision.vetoed, setup) {
            audit::record_all(|| {
                vec![
                    DomainEvent::Decision(DecisionRecord {
                        ts: setup.ts,
                        symbol: setup.symbol.clone(),
                        strategy: self.kind.name().to_string(),
                        direction: setup.direction,
                        price: setup.price,
                        atr: setup.atr,
                        regime: self.regime,
                        setup: Some(setup_record(setup)),
                        sentiment: None,
                        event_impact: None,
                        technical_only: !self.fusion.analyst_available(),
                        confidence: None,
                        reasons: Vec::new(),
                    }),
                    DomainEvent::Refused {
                        ts: setup.ts,
                        symbol: setup.symbol.clone(),
                        direction: setup.direction,
                        rule: "event_veto".to_string(),
                        detail: format!(
                            "{:?} {:?} event at {}: {}",
                            event.severity, event.kind, event.ts, event.headline
                        ),
                    },
                ]
            });
        }
    }

    fn baseline(&mut self, candle: &Candle, close: f64, trading: bool) -> Option<Direction> {
        let (kind, fast, slow) = (self.kind, self.fast, self.slow);
        let baseline = self
            .baselines
            .entry(candle.symbol.clone())
            .or_insert_with(|| match kind {
                StrategyKind::SmaCross => Baseline::SmaCross(SmaCross::new(fast, slow)),
                _ => Baseline::BuyAndHold(BuyAndHold::default()),
            });
        match baseline {
            Baseline::SmaCross(cross) => match cross.on_close(close) {
                Some(CrossSignal::GoldenCross) if trading => Some(Direction::Long),
                Some(CrossSignal::DeathCross) if trading => Some(Direction::Short),
                _ => None,
            },
            Baseline::BuyAndHold(hold) => (trading && hold.on_close()).then_some(Direction::Long),
        }
    }
}

/// Writes a change of the market regime, on `candle` of the regime symbol, to the audit trail.
fn record_regime(candle: &Candle, from: Regime, to: Regime) {
    audit::record(|| DomainEvent::RegimeChanged {
        ts: candle.close_time(),
        symbol: candle.symbol.clone(),
        from,
        to,
    });
}

/// A baseline's signal: full confidence, no sentiment.
fn baseline_signal(candle: &Candle, update: &SymbolUpdate, direction: Direction) -> TradingSignal {
    TradingSignal {
        symbol: candle.symbol.clone(),
        direction,
        confidence: 1.0,
        technical_score: 1.0,
        sentiment_score: 0.0,
        event_impact: 0.0,
        ts: candle.close_time(),
        price: candle.close,
        atr: update.values.atr.unwrap_or(0.0),
    }
}

/// Logs what an operator should see of a traded candle's decision.
fn log(decision: &Decision, candle: &Candle) {
    let ts = candle.close_time();
    if let Some(regime) = decision.regime_changed {
        debug!(?regime, %ts, "regime changed");
    }
    if let Some(event) = &decision.vetoed {
        info!(symbol = %candle.symbol, %ts, headline = %event.headline, kind = ?event.kind, "long vetoed by a critical event");
    }
    for event in &decision.emergencies {
        warn!(symbol = %event.symbol, %ts, headline = %event.headline, "critical negative event: emergency exit");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Interval, TechnicalSetup, Timestamp};
    use crate::symbol::IndicatorValues;
    use rust_decimal_macros::dec;

    fn long_on(stage: &mut StrategyStage) -> f64 {
        let symbol = Symbol::parse("ETHUSDT").unwrap();
        let candle = Candle {
            symbol: symbol.clone(),
            open_time: Timestamp(0),
            interval: Interval::parse("1h").unwrap(),
            open: dec!(100),
            high: dec!(101),
            low: dec!(99),
            close: dec!(100),
            volume: dec!(1),
        };
        let update = SymbolUpdate {
            values: IndicatorValues::default(),
            close: 100.0,
            setup: Some(TechnicalSetup {
                symbol,
                ts: candle.close_time(),
                direction: Direction::Long,
                score: 0.7,
                price: dec!(100),
                atr: 2.0,
                reasons: vec![],
            }),
        };
        let decision = stage.on_update(&candle, &update, Mode::Trading);
        decision.signal.expect("a signal").confidence
    }

    #[test]
    fn an_unavailable_analyst_makes_fusion_technical_only() {
        let fusion = FusionConfig::default();
        let mut stage = StrategyStage::new(
            &StrategyConfig::default(),
            &fusion,
            &RegimeConfig::default(),
        );
        let with_analyst = long_on(&mut stage);
        stage.on_news(&[SentimentOutput::AnalystAvailable(false)]);
        let technical_only = long_on(&mut stage);
        assert!((technical_only - 0.7 * fusion.technical_only_factor).abs() < 1e-12);
        assert!(technical_only < with_analyst);
        stage.on_news(&[SentimentOutput::AnalystAvailable(true)]);
        assert_eq!(long_on(&mut stage), with_analyst);
    }
}
