//! The risk stage: what the risk actor does with each decision and each account mark.
//! Fusion's signals go through every rule of the [`RiskEngine`]; the baselines are sized
//! all-in and bypass the rules (they are yardsticks). Emergencies always pass: reducing risk
//! is never refused. Every refusal (with its rule) and every approved intent is recorded in
//! the audit trail; only trading candles' decisions reach this stage.

use std::borrow::Borrow;
use std::collections::BTreeMap;

use rust_decimal::Decimal;
use tracing::{debug, info, warn};

use super::{
    OperatorCommand, Refusal, RiskAlert, RiskConfig, RiskContext, RiskEngine, RiskRule, RiskState,
};
use crate::audit;
use crate::model::{
    ClosedTrade, Direction, DomainEvent, EquityPoint, ExitReason, OrderIntent, PortfolioSnapshot,
    Symbol, Timestamp, TradingSignal,
};
use crate::strategy::llm::AccountFacts;
use crate::strategy::{Decision, StrategyConfig, StrategyKind};

/// The account as the order manager last reported it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PortfolioView {
    /// Cash, equity and positions.
    pub snapshot: PortfolioSnapshot,
    /// Symbols with an entry order whose outcome is not settled yet.
    pub open_entries: Vec<Symbol>,
    /// All the order manager's cash (the snapshot's `cash` is what a new order may commit),
    /// and the worth of its dust: what [`mark`](Self::mark) values the positions on top of.
    pub cash_held: Decimal,
    /// The exits protecting each held position (the `llm` strategy shows them to its model).
    pub protection: BTreeMap<Symbol, Protection>,
}

/// The open exits of a held position.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Protection {
    /// The highest trigger of its open stops (one per tranche), if any.
    pub stop: Option<Decimal>,
    /// The prices of its open take-profits, lowest first.
    pub take_profits: Vec<Decimal>,
}

impl PortfolioView {
    /// The view after the position in `symbol` was marked at `price` at `ts`, when nothing
    /// else changed: equal to the order manager's own view then, without sending all of it.
    /// False (and nothing changed) when the view holds no position in `symbol`.
    pub fn mark(&mut self, symbol: &Symbol, price: Decimal, ts: Timestamp) -> bool {
        let snapshot = &mut self.snapshot;
        let Some(position) = snapshot.positions.iter_mut().find(|p| &p.symbol == symbol) else {
            return false;
        };
        position.last_price = price;
        snapshot.ts = ts;
        snapshot.equity = snapshot.equity_with(self.cash_held);
        true
    }

    fn open_entry(&self, symbol: &Symbol) -> bool {
        self.open_entries.contains(symbol)
    }

    fn held(&self, symbol: &Symbol) -> bool {
        self.snapshot.position(symbol).is_some()
    }
}

/// What risk lets through for one decision.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Approval {
    /// The sized intent, if any.
    pub intent: Option<OrderIntent>,
    /// Why a signal was refused, if it was.
    pub refusal: Option<Refusal>,
    /// Positions to close at market, with why.
    pub flatten: Vec<(Symbol, ExitReason)>,
}

/// What the venue and the market say at a decision, besides the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Conditions {
    /// The venue's circuit breaker is open: only risk-reducing intents pass.
    pub reduce_only: bool,
    /// The close of the newest bar the venue has closed (a live feed's market clock; `None`
    /// in a backtest, whose bars are never stale).
    pub newest_close: Option<Timestamp>,
}

/// The risk engine plus the baselines' sizing.
#[derive(Debug, Clone)]
pub struct RiskStage {
    kind: StrategyKind,
    engine: RiskEngine,
    symbols: usize,
    cash_buffer: Decimal,
    qty_step: Decimal,
    max_bar_age_ms: Option<i64>,
    /// Signals refused (by risk's rules, or vetoed by fusion), by rule.
    refusals: BTreeMap<&'static str, u64>,
}

/// The account marked at a bar close.
#[derive(Debug, Clone, PartialEq)]
pub struct Marked {
    /// The equity point.
    pub point: EquityPoint,
    /// Positions to close at market (a tripped kill switch), with why.
    pub flatten: Vec<(Symbol, ExitReason)>,
}

impl RiskStage {
    /// A stage for `symbols` traded symbols, resuming from `state` (the journal's, or default).
    pub fn new(
        strategy: &StrategyConfig,
        risk: &RiskConfig,
        state: RiskState,
        symbols: usize,
    ) -> Self {
        Self {
            kind: strategy.kind,
            engine: RiskEngine::new(risk.clone(), state),
            symbols: symbols.max(1),
            cash_buffer: strategy.cash_buffer_pct / Decimal::ONE_HUNDRED,
            qty_step: risk.qty_step,
            max_bar_age_ms: risk.max_bar_age_ms(),
            refusals: BTreeMap::new(),
        }
    }

    /// The account as the `llm` strategy shows it to its model: `view` with risk's day.
    pub fn account_facts(&self, view: &PortfolioView) -> AccountFacts {
        AccountFacts {
            snapshot: view.snapshot.clone(),
            protection: view.protection.clone(),
            day_start_equity: self.engine.state().day_start_equity,
            daily_loss_limit_pct: self.engine.config().daily_loss_limit_pct,
        }
    }

    /// Signals refused so far, by rule (`event_veto` for longs fusion vetoed).
    pub fn refusals(&self) -> &BTreeMap<&'static str, u64> {
        &self.refusals
    }

    /// Carries the refusal counts of a stage this one replaces (a restarted risk actor).
    pub fn keep_refusals(&mut self, refusals: BTreeMap<&'static str, u64>) {
        self.refusals = refusals;
    }

    /// The persistent state (kill switch, peaks, cooldowns).
    pub fn state(&self) -> &RiskState {
        self.engine.state()
    }

    /// Round trips that closed since the last call: a stop-out starts a cooldown.
    pub fn on_trades_closed(&mut self, trades: &[ClosedTrade]) {
        for trade in trades {
            self.engine.on_trade_closed(trade);
        }
    }

    /// Sizes or refuses the decision's signal and passes its emergencies on; counts, logs and
    /// records the verdict. `view` (the account as the order manager last reported it) is
    /// only asked for when there is something to decide; `conditions` are the venue's breaker
    /// and the market's clock.
    pub fn on_decision<V: Borrow<PortfolioView>>(
        &mut self,
        decision: &Decision,
        view: impl FnOnce() -> V,
        conditions: Conditions,
    ) -> Approval {
        if decision.vetoed.is_some() {
            *self.refusals.entry("event_veto").or_default() += 1;
        }
        let mut approval = Approval {
            flatten: decision
                .emergencies
                .iter()
                .map(|e| (e.symbol.clone(), ExitReason::Emergency))
                .collect(),
            ..Approval::default()
        };
        let Some(signal) = &decision.signal else {
            return approval;
        };
        let view = view();
        let view = view.borrow();
        if self.engine.state().halted && signal.direction == Direction::Long {
            approval.refusal = Some(Refusal::new(
                RiskRule::Halted,
                format!(
                    "long signal on {}: an operator halted new entries (keel ctl resume lifts it)",
                    signal.symbol
                ),
            ));
        } else if let Some(refusal) = self.stale(signal, conditions.newest_close) {
            warn!(symbol = %signal.symbol, bar_close = %signal.ts, detail = %refusal.detail, "a caught-up bar opens no position");
            approval.refusal = Some(refusal);
        } else {
            match self.kind {
                StrategyKind::Fusion | StrategyKind::Llm => {
                    let context = RiskContext {
                        portfolio: &view.snapshot,
                        reduce_only: conditions.reduce_only,
                        unresolved_order: view.open_entry(&signal.symbol),
                    };
                    match self
                        .engine
                        .evaluate_with(signal, &context, decision.proposal)
                    {
                        Ok(intent) => approval.intent = Some(intent),
                        Err(refusal) => approval.refusal = Some(refusal),
                    }
                }
                StrategyKind::SmaCross | StrategyKind::BuyAndHold => {
                    approval.intent = self.size_baseline(signal, view);
                }
            }
        }
        if let Some(refusal) = &approval.refusal {
            debug!(symbol = %signal.symbol, rule = refusal.rule.name(), detail = %refusal.detail, "signal refused");
            *self.refusals.entry(refusal.rule.name()).or_default() += 1;
        }
        let exits = approval
            .intent
            .as_ref()
            .and(self.engine.last_exits())
            .map(str::to_string);
        if let Some(intent) = &approval.intent {
            log_approved(intent, exits.as_deref());
        }
        record(signal, &approval, exits);
        approval
    }

    /// A long signal on a bar that closed more than `max_bar_age_minutes` before the newest
    /// bar the venue has closed is refused: opening a position at a price long gone. Exits
    /// are never refused for age (they only reduce risk).
    fn stale(&self, signal: &TradingSignal, newest_close: Option<Timestamp>) -> Option<Refusal> {
        let max_age = self.max_bar_age_ms?;
        let age = newest_close?.millis() - signal.ts.millis();
        (signal.direction == Direction::Long && age > max_age).then(|| {
            Refusal::new(
                RiskRule::StaleBar,
                format!(
                    "long signal on {}: its bar closed at {}, {} min before the newest bar closed at {}, more than the {} min allowed",
                    signal.symbol,
                    signal.ts,
                    age / 60_000,
                    Timestamp(signal.ts.millis() + age),
                    max_age / 60_000
                ),
            )
        })
    }

    /// Applies an operator's command (kept in risk's persistent state, journalled at the
    /// next bar close).
    pub fn operate(&mut self, command: OperatorCommand) {
        self.engine.operate(command);
        let state = self.engine.state();
        warn!(
            ?command,
            halted = state.halted,
            flatten_requested = state.flatten_requested,
            kill_switch = state.kill_switch.is_some(),
            "operator command applied by risk"
        );
    }

    /// Marks the account at `ts`: its equity point, every position to close when an
    /// operator asked to flatten, and for fusion risk's daily loss, peak equity and drawdown
    /// kill switch (an alert is logged; a tripped kill switch flattens every position). The
    /// baselines' risk is not marked.
    pub fn on_mark(&mut self, snapshot: &PortfolioSnapshot, ts: Timestamp) -> Marked {
        let point = EquityPoint {
            ts,
            equity: snapshot.equity,
            exposure: snapshot.gross_exposure(),
        };
        let mut marked = self.mark_risk(snapshot, point);
        if self.engine.take_flatten_request() && marked.flatten.is_empty() {
            marked.flatten = snapshot
                .positions
                .iter()
                .map(|p| (p.symbol.clone(), ExitReason::Flatten))
                .collect();
            warn!(%ts, positions = marked.flatten.len(), "flattening every position: an operator asked");
        }
        marked
    }

    /// The mark when risk needs nothing of the account but its equity `point`: a baseline's,
    /// with no operator flatten pending. `None` otherwise: then [`on_mark`](Self::on_mark)
    /// with the whole account. Saves building the account at every bar close of a backtest.
    pub fn on_mark_point(&mut self, point: EquityPoint) -> Option<Marked> {
        let needs_account = self.kind.uses_risk_engine() || self.engine.state().flatten_requested;
        (!needs_account).then(|| Marked {
            point,
            flatten: Vec::new(),
        })
    }

    /// Fusion's account-wide rules at a mark (the baselines have none).
    fn mark_risk(&mut self, snapshot: &PortfolioSnapshot, point: EquityPoint) -> Marked {
        let ts = point.ts;
        if !self.kind.uses_risk_engine() {
            return Marked {
                point,
                flatten: Vec::new(),
            };
        }
        let alert = self.engine.on_equity(snapshot.equity, ts);
        if let Some(alert) = &alert {
            let (rule, pct) = alert_rule(*alert);
            warn!(rule = rule.name(), pct = %pct, %ts, "risk alert");
        }
        let flatten: Vec<_> = match alert {
            Some(RiskAlert::KillSwitchTripped { .. }) => snapshot
                .positions
                .iter()
                .map(|p| (p.symbol.clone(), ExitReason::KillSwitch))
                .collect(),
            _ => Vec::new(),
        };
        if let Some(alert) = alert {
            record_alert(alert, &point, &flatten);
        }
        Marked { point, flatten }
    }

    /// All-in, split evenly: each symbol gets an equal share of equity, within the cash,
    /// less the configured buffer for fees, slippage and the gap to the next open.
    fn size_baseline(&self, signal: &TradingSignal, view: &PortfolioView) -> Option<OrderIntent> {
        let symbol = &signal.symbol;
        match signal.direction {
            Direction::Short => view.held(symbol).then(|| OrderIntent::Close {
                symbol: symbol.clone(),
                reason: ExitReason::Signal,
                ts: signal.ts,
            }),
            Direction::Long => {
                if view.held(symbol) || view.open_entry(symbol) || signal.price <= Decimal::ZERO {
                    return None;
                }
                let snapshot = &view.snapshot;
                let share = snapshot.equity / Decimal::from(self.symbols as u64);
                let budget = share.min(snapshot.cash) * (Decimal::ONE - self.cash_buffer);
                let qty = round_down(budget / signal.price, self.qty_step);
                (qty > Decimal::ZERO).then(|| OrderIntent::Open {
                    symbol: symbol.clone(),
                    qty,
                    stop: None,
                    take_profits: Vec::new(),
                    ts: signal.ts,
                })
            }
        }
    }
}

/// Logs an approved intent, one field per value (`exits`: which proposed exits were used).
fn log_approved(intent: &OrderIntent, exits: Option<&str>) {
    match intent {
        OrderIntent::Open {
            symbol,
            qty,
            stop,
            take_profits,
            ..
        } => {
            let targets: Vec<String> = take_profits
                .iter()
                .map(|tp| format!("{}x{}", tp.price, tp.fraction))
                .collect();
            info!(%symbol, intent = "open", %qty, stop = %stop.map_or("none".to_string(), |s| s.to_string()), take_profits = %targets.join(","), exits = exits.unwrap_or("risk's own"), "intent approved");
        }
        OrderIntent::Close { symbol, reason, .. } => {
            info!(%symbol, intent = "close", %reason, "intent approved");
        }
    }
}

/// The rule behind an account-wide alert, and its percentage.
fn alert_rule(alert: RiskAlert) -> (RiskRule, rust_decimal::Decimal) {
    match alert {
        RiskAlert::KillSwitchTripped { drawdown_pct } => (RiskRule::KillSwitch, drawdown_pct),
        RiskAlert::DailyLossLimitHit { loss_pct } => (RiskRule::DailyLossLimit, loss_pct),
    }
}

/// Writes risk's verdict on `signal` to the audit trail (`exits`: which proposed exits an
/// approved entry used).
fn record(signal: &TradingSignal, approval: &Approval, exits: Option<String>) {
    if let Some(refusal) = &approval.refusal {
        audit::record(|| DomainEvent::Refused {
            ts: signal.ts,
            symbol: signal.symbol.clone(),
            direction: signal.direction,
            rule: refusal.rule.name().to_string(),
            detail: refusal.detail.clone(),
        });
    }
    if let Some(intent) = &approval.intent {
        audit::record(|| DomainEvent::Approved {
            ts: signal.ts,
            symbol: signal.symbol.clone(),
            intent: intent.clone(),
            exits,
        });
    }
}

/// Writes risk's account-wide `alert` at the mark `point` to the audit trail.
fn record_alert(alert: RiskAlert, point: &EquityPoint, flatten: &[(Symbol, ExitReason)]) {
    let (rule, pct) = alert_rule(alert);
    audit::record(|| DomainEvent::RiskAlert {
        ts: point.ts,
        rule: rule.name().to_string(),
        pct,
        equity: point.equity,
        flatten: flatten.iter().map(|(symbol, _)| symbol.clone()).collect(),
    });
}

/// Rounds `value` down to a multiple of `step` (unchanged when `step` is not positive).
fn round_down(value: Decimal, step: Decimal) -> Decimal {
    if step <= Decimal::ZERO || value <= Decimal::ZERO {
        return value.max(Decimal::ZERO);
    }
    (value / step).floor() * step
}
