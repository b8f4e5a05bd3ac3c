//! The decision pipeline in one plain struct: every pure core, stepped candle by candle in the
//! order the actor runtime follows (venue fills → news → indicators and regime → position
//! management → decision → orders). No actors, no I/O, no wall clock.

use std::collections::{BTreeMap, HashMap};

use keel_actors::execution::SimExchange;
use keel_actors::fusion::{FusionCore, FusionDecision};
use keel_actors::model::{
    Candle, Decimal, ExecutionReport, ExitReason, OrderIntent, PortfolioSnapshot, Regime, Symbol,
    Timestamp,
};
use keel_actors::order_manager::{OrderCommand, OrderManager};
use keel_actors::risk::{RiskAlert, RiskContext, RiskEngine, RiskState};
use keel_actors::sentiment::{Headline, LexiconAnalyst, SentimentCore, SentimentOutput};
use keel_actors::strategy::{BuyAndHold, CrossSignal, SmaCross, StrategyKind};
use keel_actors::symbol::{RegimeDetector, SymbolCore};
use tracing::{debug, info, warn};

use super::EquityPoint;
use crate::settings::Settings;

/// The per-symbol decision state of a baseline strategy.
#[derive(Debug, Clone)]
enum Baseline {
    None,
    SmaCross(SmaCross),
    BuyAndHold(BuyAndHold),
}

/// Counters a run reports.
#[derive(Debug, Clone, Default)]
pub struct PipelineStats {
    /// Candles stepped.
    pub candles: u64,
    /// Orders sent to the venue (children attached to an entry count with it).
    pub orders_submitted: u64,
    /// Signals refused by risk or vetoed by fusion, by rule.
    pub refusals: BTreeMap<&'static str, u64>,
}

/// Every core of one trading account, driven by closed candles.
pub struct Pipeline {
    kind: StrategyKind,
    symbols: Vec<Symbol>,
    index: HashMap<Symbol, usize>,
    cores: Vec<SymbolCore>,
    baselines: Vec<Baseline>,
    regime_index: Option<usize>,
    regime_detector: RegimeDetector,
    regime: Regime,
    sentiment: SentimentCore<LexiconAnalyst>,
    fusion: FusionCore,
    risk: RiskEngine,
    orders: OrderManager,
    venue: SimExchange,
    emergency_exit: bool,
    cash_buffer: Decimal,
    qty_step: Decimal,
    stats: PipelineStats,
}

impl Pipeline {
    /// Builds the cores from validated settings for `symbols`, replaying `headlines`.
    pub fn new(settings: &Settings, symbols: Vec<Symbol>, headlines: Vec<Headline>) -> Self {
        let index = symbols
            .iter()
            .enumerate()
            .map(|(i, s)| (s.clone(), i))
            .collect();
        let cores = symbols
            .iter()
            .map(|s| SymbolCore::new(s.clone(), &settings.indicators, &settings.setup))
            .collect();
        let strategy = &settings.strategy;
        let baselines = symbols
            .iter()
            .map(|_| match strategy.kind {
                StrategyKind::Fusion => Baseline::None,
                StrategyKind::SmaCross => {
                    Baseline::SmaCross(SmaCross::new(strategy.sma_fast, strategy.sma_slow))
                }
                StrategyKind::BuyAndHold => Baseline::BuyAndHold(BuyAndHold::default()),
            })
            .collect();
        let regime_index = Symbol::parse(&settings.regime.symbol)
            .ok()
            .and_then(|s| symbols.iter().position(|x| *x == s));
        let cash_buffer = strategy.cash_buffer_pct / Decimal::ONE_HUNDRED;
        Self {
            kind: strategy.kind,
            index,
            cores,
            baselines,
            regime_index,
            regime_detector: RegimeDetector::new(&settings.regime),
            regime: Regime::default(),
            sentiment: SentimentCore::new(
                settings.sentiment.clone(),
                LexiconAnalyst::default(),
                headlines,
            ),
            fusion: FusionCore::new(settings.fusion.clone()),
            risk: RiskEngine::new(settings.risk.clone(), RiskState::default()),
            orders: OrderManager::new(settings.orders.clone(), settings.account.initial_capital),
            venue: SimExchange::new(settings.venue.clone()),
            emergency_exit: strategy.emergency_exit_on_critical_event,
            cash_buffer,
            qty_step: settings.risk.qty_step,
            symbols,
            stats: PipelineStats::default(),
        }
    }

    /// Steps one closed candle through every core. With `trading` false (the warm-up before
    /// `data.start`) indicators and news advance but no decision is taken.
    pub fn on_candle(&mut self, candle: &Candle, trading: bool) {
        let Some(&i) = self.index.get(&candle.symbol) else {
            warn!(symbol = %candle.symbol, "candle for an unconfigured symbol dropped");
            return;
        };
        self.stats.candles += 1;
        let now = candle.close_time();

        // 1. The venue executes what rested on this bar (market orders at its open, stops
        //    and take-profits inside its range).
        let reports = self.venue.on_candle(candle);
        self.handle_reports(reports, now);

        // 2. News published up to this close reaches fusion.
        for output in self.sentiment.advance_to(now) {
            self.on_sentiment(output, now, trading);
        }

        // 3. Indicators, setups and the regime.
        let Some(update) = self.cores[i].on_candle(candle) else {
            return;
        };
        if self.regime_index == Some(i) {
            let regime = self
                .regime_detector
                .on_values(update.close, update.values.sma_long);
            if regime != self.regime {
                debug!(from = ?self.regime, to = ?regime, ts = %now, "regime changed");
                self.regime = regime;
                self.fusion.on_regime(regime);
            }
        }

        // 4. Open positions are managed on every candle (trailing stops).
        let commands = self.orders.on_candle(candle, update.values.atr);
        self.execute(commands, now);

        if !trading {
            return;
        }

        // 5. The decision.
        match self.kind {
            StrategyKind::Fusion => {
                if let Some(setup) = update.setup {
                    self.decide_fused(&setup, now);
                }
            }
            StrategyKind::SmaCross | StrategyKind::BuyAndHold => {
                self.decide_baseline(i, candle, update.close, now)
            }
        }
    }

    /// Marks the account at the close `ts` (after every candle of that close), lets risk see
    /// it (daily loss, drawdown kill switch), and returns the equity point.
    pub fn mark(&mut self, ts: Timestamp) -> EquityPoint {
        let snapshot = self.orders.snapshot(ts);
        // The baselines are yardsticks: all-in, without the risk engine's limits.
        let alert = match self.kind {
            StrategyKind::Fusion => self.risk.on_portfolio(&snapshot),
            StrategyKind::SmaCross | StrategyKind::BuyAndHold => None,
        };
        if let Some(alert) = alert {
            match alert {
                RiskAlert::KillSwitchTripped { .. } => {
                    warn!(?alert, ts = %ts, "kill switch tripped: flattening every position");
                    let held: Vec<Symbol> = snapshot
                        .positions
                        .iter()
                        .map(|p| p.symbol.clone())
                        .collect();
                    for symbol in held {
                        let commands = self.orders.flatten(&symbol, ExitReason::KillSwitch, ts);
                        self.execute(commands, ts);
                    }
                }
                other => info!(alert = ?other, ts = %ts, "risk alert"),
            }
        }
        EquityPoint {
            ts,
            equity: snapshot.equity,
            exposure: snapshot.gross_exposure(),
        }
    }

    /// The account now.
    pub fn snapshot(&self, ts: Timestamp) -> PortfolioSnapshot {
        self.orders.snapshot(ts)
    }

    /// The order manager (orders, positions, closed trades, fees).
    pub fn orders(&self) -> &OrderManager {
        &self.orders
    }

    /// The symbols traded, in configuration order.
    pub fn symbols(&self) -> &[Symbol] {
        &self.symbols
    }

    /// Run counters.
    pub fn stats(&self) -> &PipelineStats {
        &self.stats
    }

    fn on_sentiment(&mut self, output: SentimentOutput, now: Timestamp, trading: bool) {
        match output {
            SentimentOutput::Update(update) => {
                debug!(symbol = %update.symbol, score = update.score, confidence = update.confidence, "sentiment");
                self.fusion.on_sentiment(&update);
            }
            SentimentOutput::Event(event) => {
                info!(symbol = %event.symbol, kind = ?event.kind, severity = ?event.severity, headline = %event.headline, "market event");
                let critical = self.fusion.on_event(&event);
                if let Some(event) = critical {
                    let held = self.orders.position(&event.symbol).is_some();
                    if trading && held && self.emergency_exit {
                        warn!(symbol = %event.symbol, headline = %event.headline, "critical negative event: emergency exit");
                        let commands =
                            self.orders
                                .flatten(&event.symbol, ExitReason::Emergency, now);
                        self.execute(commands, now);
                    }
                }
            }
        }
    }

    fn decide_fused(&mut self, setup: &keel_actors::model::TechnicalSetup, now: Timestamp) {
        let signal = match self.fusion.on_setup(setup) {
            FusionDecision::Signal(signal) => signal,
            FusionDecision::Vetoed { symbol, event } => {
                info!(%symbol, headline = %event.headline, kind = ?event.kind, "long vetoed by a critical event");
                *self.stats.refusals.entry("event_veto").or_default() += 1;
                return;
            }
            FusionDecision::Discarded { reason } => {
                debug!(symbol = %setup.symbol, reason, "setup discarded by fusion");
                return;
            }
        };
        let snapshot = self.orders.snapshot(now);
        let context = RiskContext {
            portfolio: &snapshot,
            reduce_only: false,
            unresolved_order: self.orders.has_open_entry(&signal.symbol),
        };
        match self.risk.evaluate(&signal, &context) {
            Ok(intent) => {
                info!(symbol = %signal.symbol, direction = ?signal.direction, confidence = signal.confidence, ?intent, "signal approved");
                let commands = self.orders.on_intent(&intent);
                self.execute(commands, now);
            }
            Err(refusal) => {
                debug!(symbol = %signal.symbol, rule = refusal.rule.name(), detail = %refusal.detail, "signal refused");
                *self.stats.refusals.entry(refusal.rule.name()).or_default() += 1;
            }
        }
    }

    fn decide_baseline(&mut self, i: usize, candle: &Candle, close: f64, now: Timestamp) {
        let symbol = self.symbols[i].clone();
        let symbol = &symbol;
        let held = self.orders.position(symbol).is_some();
        let go_long = match &mut self.baselines[i] {
            Baseline::None => return,
            Baseline::BuyAndHold(b) => b.on_close(),
            Baseline::SmaCross(c) => match c.on_close(close) {
                Some(CrossSignal::GoldenCross) => !held,
                Some(CrossSignal::DeathCross) => {
                    if held {
                        let intent = OrderIntent::Close {
                            symbol: symbol.clone(),
                            reason: ExitReason::Signal,
                            ts: now,
                        };
                        let commands = self.orders.on_intent(&intent);
                        self.execute(commands, now);
                    }
                    false
                }
                None => false,
            },
        };
        if !go_long || self.orders.has_open_entry(symbol) {
            return;
        }
        // All-in, split evenly: each symbol gets an equal share of equity, within the cash.
        let snapshot = self.orders.snapshot(now);
        let share = snapshot.equity / Decimal::from(self.symbols.len() as u64);
        let budget = share.min(snapshot.cash) * (Decimal::ONE - self.cash_buffer);
        if candle.close <= Decimal::ZERO || budget <= Decimal::ZERO {
            return;
        }
        let qty = round_down(budget / candle.close, self.qty_step);
        if qty <= Decimal::ZERO {
            return;
        }
        let intent = OrderIntent::Open {
            symbol: symbol.clone(),
            qty,
            stop: None,
            take_profits: Vec::new(),
            ts: now,
        };
        let commands = self.orders.on_intent(&intent);
        self.execute(commands, now);
    }

    /// Sends commands to the venue and feeds every report back, until nothing is left.
    fn execute(&mut self, commands: Vec<OrderCommand>, now: Timestamp) {
        for command in commands {
            if let OrderCommand::Submit(request) = &command {
                self.stats.orders_submitted += 1;
                info!(id = %request.client_order_id, symbol = %request.symbol, side = %request.side, qty = %request.qty, kind = ?request.kind, "order submitted");
            }
            let reports = self.venue.apply(&command, now);
            self.handle_reports(reports, now);
        }
    }

    fn handle_reports(&mut self, reports: Vec<ExecutionReport>, now: Timestamp) {
        for report in reports {
            if let ExecutionReport::Fill(fill) = &report {
                info!(id = %fill.client_order_id, symbol = %fill.symbol, side = %fill.side, qty = %fill.qty, price = %fill.price, fee = %fill.fee, "fill");
            }
            let update = self.orders.on_execution(&report);
            if let Some(trade) = &update.closed {
                info!(symbol = %trade.symbol, pnl = %trade.pnl, reason = %trade.exit_reason, "trade closed");
                self.risk.on_trade_closed(trade);
            }
            self.execute(update.commands, now);
        }
    }
}

/// Rounds `value` down to a multiple of `step` (no rounding when `step` is zero).
fn round_down(value: Decimal, step: Decimal) -> Decimal {
    if step <= Decimal::ZERO {
        return value;
    }
    (value / step).floor() * step
}
