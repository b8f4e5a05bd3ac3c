//! The decision pipeline in one plain struct: every stage, stepped candle by candle in the
//! order [`keel_core::graph`] declares (the actor runtime's feed walks the same schedule,
//! message by message): venue, news, decision; the account is marked after every candle of a
//! bar close. No actors, no I/O, no wall clock.

use std::collections::BTreeMap;

use keel_actors::decisions::replayed;
use keel_core::execution::SimExchange;
pub use keel_core::graph::Mode;
use keel_core::graph::{CandleWork, Step};
use keel_core::order_manager::{stage, OrderCommand, OrderManager};
use keel_core::risk::{Conditions, RiskStage, RiskState};
use keel_core::strategy::llm::Answer;
use keel_core::strategy::StrategyStage;
use keel_model::{Candle, EquityPoint, ExecutionReport, PortfolioSnapshot, Symbol, Timestamp};
use keel_news::llm::{DecisionReplay, ReplayChoice};
use keel_news::{log_outputs, Headline, SentimentCore};
use std::collections::HashMap;
use tracing::warn;

use super::symbol_stage::{SharedSymbolUpdates, SymbolStage};
use super::LlmReport;
use crate::settings::Settings;

/// Counters a run reports.
#[derive(Debug, Clone, Default)]
pub struct PipelineStats {
    /// Candles stepped.
    pub candles: u64,
    /// Orders sent to the venue (children attached to an entry count with it).
    pub orders_submitted: u64,
}

/// Every stage of one trading account, driven by closed candles.
pub struct Pipeline {
    symbols: Vec<Symbol>,
    index: HashMap<Symbol, usize>,
    cores: Vec<SymbolStage>,
    sentiment: SentimentCore<ReplayChoice>,
    strategy: StrategyStage,
    risk: RiskStage,
    orders: OrderManager,
    venue: SimExchange,
    decisions: Option<DecisionReplay>,
    stats: PipelineStats,
}

impl Pipeline {
    /// Builds the stages from validated settings for `symbols`, replaying `headlines` through
    /// `analyst` (see [`crate::backtest::replay_analyst`]).
    pub fn new(
        settings: &Settings,
        symbols: Vec<Symbol>,
        headlines: Vec<Headline>,
        analyst: ReplayChoice,
    ) -> Self {
        Self::sharing(
            settings,
            symbols,
            headlines,
            analyst,
            &SharedSymbolUpdates::new(),
        )
    }

    /// [`new`](Self::new), replaying the symbol updates `shared` holds (computed once for
    /// these candles and settings) instead of computing them.
    pub fn sharing(
        settings: &Settings,
        symbols: Vec<Symbol>,
        headlines: Vec<Headline>,
        analyst: ReplayChoice,
        shared: &SharedSymbolUpdates,
    ) -> Self {
        let orders = OrderManager::new(settings.order_manager(), settings.account.initial_capital);
        let venue = settings.sim_exchange();
        let stages = (orders, venue, RiskState::default());
        Self::build(settings, symbols, headlines, analyst, stages, shared)
    }

    /// Builds the stages around a recovered order manager, venue and risk state.
    #[allow(clippy::too_many_arguments)]
    pub fn resume(
        settings: &Settings,
        symbols: Vec<Symbol>,
        headlines: Vec<Headline>,
        analyst: ReplayChoice,
        orders: OrderManager,
        venue: SimExchange,
        risk: RiskState,
    ) -> Self {
        let stages = (orders, venue, risk);
        Self::build(
            settings,
            symbols,
            headlines,
            analyst,
            stages,
            &SharedSymbolUpdates::new(),
        )
    }

    fn build(
        settings: &Settings,
        symbols: Vec<Symbol>,
        headlines: Vec<Headline>,
        analyst: ReplayChoice,
        (orders, venue, risk): (OrderManager, SimExchange, RiskState),
        shared: &SharedSymbolUpdates,
    ) -> Self {
        let index = symbols
            .iter()
            .enumerate()
            .map(|(i, s)| (s.clone(), i))
            .collect();
        let cores = symbols
            .iter()
            .map(|s| SymbolStage::new(s, &settings.indicators, &settings.setup, shared))
            .collect();
        Self {
            index,
            cores,
            sentiment: settings.sentiment_core(analyst, headlines),
            strategy: StrategyStage::new(&settings.strategy, &settings.fusion, &settings.regime),
            risk: RiskStage::new(&settings.strategy, &settings.risk, risk, symbols.len()),
            orders,
            venue,
            symbols,
            decisions: None,
            stats: PipelineStats::default(),
        }
    }

    /// Answers the `llm` strategy's decision points from `replay` (without one, every
    /// decision point is missing).
    pub fn with_decisions(mut self, replay: Option<DecisionReplay>) -> Self {
        self.decisions = replay;
        self
    }

    /// Takes one closed candle's work, as the schedule of [`keel_core::graph`] declares it:
    /// its steps in order. The mark the work calls for is the caller's (see [`Self::mark`]).
    pub fn on_candle(&mut self, candle: &Candle, work: &CandleWork) {
        let Some(&i) = self.index.get(&candle.symbol) else {
            warn!(symbol = %candle.symbol, "candle for an unconfigured symbol dropped");
            return;
        };
        self.stats.candles += 1;
        for step in work.steps {
            match step {
                Step::Venue => self.venue_bar(candle),
                Step::News => self.news(candle.close_time()),
                Step::Decide => self.decide(i, candle, work.mode),
            }
        }
    }

    /// The venue executes what rested on the bar.
    fn venue_bar(&mut self, candle: &Candle) {
        let reports = self.venue.on_candle(candle);
        self.settle(reports, candle.close_time());
    }

    /// News published up to `now` reaches fusion.
    fn news(&mut self, now: Timestamp) {
        let news = self.sentiment.advance_to(now);
        if !news.is_empty() {
            log_outputs(&news);
            self.strategy.on_news(&news);
        }
    }

    /// Indicators → strategy → risk → order manager → venue.
    fn decide(&mut self, i: usize, candle: &Candle, mode: Mode) {
        let now = candle.close_time();
        let Some(update) = self.cores[i].on_candle(candle) else {
            return;
        };
        let mut decision = self.strategy.on_update(candle, &update, mode);
        let atr = update.values.atr;
        drop(update);
        if !mode.trades() {
            return;
        }
        if let Some(ask) = decision.ask.as_mut() {
            ask.see_account(&self.risk.account_facts(&stage::view(&self.orders, now)));
            if let Some((query, day)) = ask.search() {
                let hits = self.decisions.as_ref().and_then(|r| r.searched(query, day));
                ask.see_search(hits);
            }
            let answer = match self.decisions.as_mut() {
                Some(replay) => replayed(replay.replay(&ask.context.to_json())),
                None => Answer::Missing,
            };
            self.strategy.on_answer(&mut decision, answer);
        }
        let orders = &self.orders;
        let approval = self.risk.on_decision(
            &decision,
            || stage::view(orders, now),
            Conditions::default(),
        );
        let commands = stage::on_approval(&mut self.orders, candle, atr, &approval);
        self.execute(commands, now);
    }

    /// Marks the account at the close `ts` (after every candle of that close): risk sees it
    /// (daily loss, drawdown kill switch) and the equity point is returned.
    pub fn mark(&mut self, ts: Timestamp) -> EquityPoint {
        let marked = match self.risk.on_mark_point(self.orders.equity_point(ts)) {
            Some(marked) => marked,
            None => self.risk.on_mark(&self.orders.snapshot(ts), ts),
        };
        if !marked.flatten.is_empty() {
            let commands = stage::flatten(&mut self.orders, &marked.flatten, ts);
            self.execute(commands, ts);
        }
        marked.point
    }

    /// The account now.
    pub fn snapshot(&self, ts: Timestamp) -> PortfolioSnapshot {
        self.orders.snapshot(ts)
    }

    /// The order manager (orders, positions, closed trades, fees).
    pub fn orders(&self) -> &OrderManager {
        &self.orders
    }

    /// The simulated venue.
    pub fn venue(&self) -> &SimExchange {
        &self.venue
    }

    /// Signals refused by risk or vetoed by fusion, by rule.
    pub fn refusals(&self) -> &BTreeMap<&'static str, u64> {
        self.risk.refusals()
    }

    /// The risk state (kill switch, peaks, cooldowns).
    pub fn risk_state(&self) -> &RiskState {
        self.risk.state()
    }

    /// The symbols traded, in configuration order.
    pub fn symbols(&self) -> &[Symbol] {
        &self.symbols
    }

    /// The sentiment core (its analyst's counters, failures).
    pub fn sentiment(&self) -> &SentimentCore<ReplayChoice> {
        &self.sentiment
    }

    /// Run counters.
    pub fn stats(&self) -> &PipelineStats {
        &self.stats
    }

    /// What the `llm` strategy did (none for the other strategies).
    pub fn llm_report(&self) -> Option<LlmReport> {
        let stats = self.strategy.llm_stats()?;
        Some(LlmReport {
            stats: stats.clone(),
            cache_hits: self.decisions.as_ref().map_or(0, |r| r.stats().hits),
            http_requests: 0,
            tokens: 0,
        })
    }

    /// Sends commands to the venue and settles every report, until nothing is left.
    fn execute(&mut self, mut commands: Vec<OrderCommand>, now: Timestamp) {
        while !commands.is_empty() {
            self.stats.orders_submitted += stage::sent(&commands, now);
            let reports: Vec<_> = commands
                .iter()
                .flat_map(|c| self.venue.apply(c, now))
                .collect();
            commands = self.settle_reports(&reports);
        }
    }

    fn settle(&mut self, reports: Vec<ExecutionReport>, now: Timestamp) {
        let commands = self.settle_reports(&reports);
        self.execute(commands, now);
    }

    fn settle_reports(&mut self, reports: &[ExecutionReport]) -> Vec<OrderCommand> {
        let settled = stage::settle(&mut self.orders, reports);
        self.risk.on_trades_closed(&settled.closed);
        settled.commands
    }
}
