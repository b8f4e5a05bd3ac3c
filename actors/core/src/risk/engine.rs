//! The risk engine: turns a signal into a sized intent or a refusal naming its rule, and
//! tracks equity for the drawdown kill switch and the daily loss limit.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::sizing::{percent_of, show, size_entry, Exposure, SizeLimit, SizingInput};
use super::{KillSwitch, Refusal, RiskConfig, RiskRule, RiskState};
use crate::model::{
    ClosedTrade, Direction, ExitProposal, ExitReason, OrderIntent, PortfolioSnapshot, Position,
    Timestamp, TradingSignal,
};

/// What an operator can tell risk (through the control plane).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperatorCommand {
    /// No new entries, for every strategy; exits (stops, targets, closing signals) go on.
    Halt,
    /// Lifts a halt.
    Resume,
    /// Halts, and closes every position at market at the next bar close (the control plane
    /// also has the order manager close them at once: this is the net a restart keeps).
    Flatten,
    /// Clears a tripped drawdown kill switch.
    ResetKillSwitch,
}

/// What the engine needs to know about the world besides the signal.
#[derive(Debug, Clone, Copy)]
pub struct RiskContext<'a> {
    /// The account now.
    pub portfolio: &'a PortfolioSnapshot,
    /// The venue's circuit breaker is open: only risk-reducing intents pass.
    pub reduce_only: bool,
    /// An order on the signal's symbol has an unresolved outcome (DESIGN §5).
    pub unresolved_order: bool,
}

/// Something the driver must act on, raised once by [`RiskEngine::on_portfolio`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "alert", rename_all = "snake_case")]
pub enum RiskAlert {
    /// The drawdown kill switch tripped: flatten everything; no new positions until reset.
    KillSwitchTripped {
        /// Drawdown from the equity peak, in percent.
        drawdown_pct: Decimal,
    },
    /// Today's loss reached the daily limit: no new positions until UTC midnight.
    DailyLossLimitHit {
        /// Loss from the day's starting equity, in percent.
        loss_pct: Decimal,
    },
}

/// The risk manager's pure core.
///
/// A long signal passes these checks in this order, the first failure refusing it:
/// `kill_switch`, `reduce_only`, `daily_loss_limit`, `unresolved_order`, `position_open`,
/// `cooldown`, `min_confidence`, `max_open_positions`, `volatility`; then sizing refuses with
/// `per_trade_risk`, `asset_exposure`, `sector_exposure`, `total_exposure` or `min_notional`
/// (see [`size_entry`]). Any signal is first checked for `invalid_signal`. A short signal
/// closes an open long (always allowed: it reduces risk) or is refused `no_short_on_spot`.
///
/// The drawdown and daily-loss rules rest on [`RiskEngine::on_portfolio`]: the driver calls it
/// on every portfolio update (it does not allocate), and persists [`RiskEngine::state`].
#[derive(Debug, Clone)]
pub struct RiskEngine {
    cfg: RiskConfig,
    state: RiskState,
    last_size_limit: Option<SizeLimit>,
    last_exits: Option<String>,
}

fn is_open(position: &Position) -> bool {
    position.qty > Decimal::ZERO
}

impl RiskEngine {
    /// An engine with a validated config and a state (default, or loaded after a restart).
    pub fn new(cfg: RiskConfig, state: RiskState) -> Self {
        Self {
            cfg,
            state,
            last_size_limit: None,
            last_exits: None,
        }
    }

    /// The config.
    pub fn config(&self) -> &RiskConfig {
        &self.cfg
    }

    /// The state to persist.
    pub fn state(&self) -> &RiskState {
        &self.state
    }

    /// What bounded the size of the last approved entry (anything but `Risk` means it was
    /// cut down by a cap or the cash).
    pub fn last_size_limit(&self) -> Option<SizeLimit> {
        self.last_size_limit
    }

    /// Which of a proposal's exits the last approved entry used, and why (none without a
    /// proposal).
    pub fn last_exits(&self) -> Option<&str> {
        self.last_exits.as_deref()
    }

    /// Clears a tripped kill switch (operator action). The equity peak restarts from the next
    /// snapshot, so the old drawdown does not trip it again at once.
    pub fn reset_kill_switch(&mut self) {
        self.state.kill_switch = None;
        self.state.peak_equity = Decimal::ZERO;
    }

    /// Applies an operator's command to the persistent state (see [`OperatorCommand`]).
    pub fn operate(&mut self, command: OperatorCommand) {
        match command {
            OperatorCommand::Halt => self.state.halted = true,
            OperatorCommand::Resume => self.state.halted = false,
            OperatorCommand::Flatten => {
                self.state.halted = true;
                self.state.flatten_requested = true;
            }
            OperatorCommand::ResetKillSwitch => self.reset_kill_switch(),
        }
    }

    /// Takes an operator's flatten request: true once per request.
    pub fn take_flatten_request(&mut self) -> bool {
        std::mem::take(&mut self.state.flatten_requested)
    }

    /// Approves (`Open` sized with stop and take-profits, or `Close`) or refuses a signal.
    pub fn evaluate(
        &mut self,
        signal: &TradingSignal,
        ctx: &RiskContext<'_>,
    ) -> Result<OrderIntent, Refusal> {
        self.evaluate_with(signal, ctx, None)
    }

    /// [`Self::evaluate`], with the exits the strategy proposed: each is used only inside
    /// risk's bounds (`proposed_stop_min_atr`..`proposed_stop_max_atr` ATRs for the stop,
    /// 1..`proposed_target_max_r` R for the take-profit), else risk's own is, and
    /// [`Self::last_exits`] says which.
    pub fn evaluate_with(
        &mut self,
        signal: &TradingSignal,
        ctx: &RiskContext<'_>,
        proposal: Option<ExitProposal>,
    ) -> Result<OrderIntent, Refusal> {
        self.last_size_limit = None;
        self.last_exits = None;
        let atr = valid_atr(signal)?;
        let portfolio = ctx.portfolio;
        let held = portfolio.position(&signal.symbol).filter(|p| is_open(p));
        if signal.direction == Direction::Short {
            return match held {
                Some(_) => Ok(OrderIntent::Close {
                    symbol: signal.symbol.clone(),
                    reason: ExitReason::Signal,
                    ts: signal.ts,
                }),
                None => Err(Refusal::new(
                    RiskRule::NoShortOnSpot,
                    format!(
                        "short signal on {} with no long to close: spot cannot short",
                        signal.symbol
                    ),
                )),
            };
        }
        self.check_account(signal, ctx)?;
        if let Some(position) = held {
            return Err(Refusal::new(
                RiskRule::PositionOpen,
                format!(
                    "already long {} {} (no adding to positions)",
                    position.qty.normalize(),
                    signal.symbol
                ),
            ));
        }
        self.check_cooldown(signal)?;
        self.check_signal(signal, atr, portfolio)?;

        let asset = signal.symbol.base();
        let sector = self.cfg.sector_of(asset.as_str());
        let mut exposure = Exposure::default();
        for position in portfolio.positions.iter().filter(|p| is_open(p)) {
            let value = position.market_value();
            exposure.total += value;
            let other = position.symbol.base();
            if other == asset {
                exposure.asset += value;
            }
            if self.cfg.sector_of(other.as_str()) == sector {
                exposure.sector += value;
            }
        }
        let input = SizingInput {
            asset: asset.as_str(),
            sector,
            price: signal.price,
            atr,
            equity: portfolio.equity,
            cash: portfolio.cash,
            exposure,
            proposal,
        };
        let sizing = size_entry(&self.cfg, &input)?;
        self.last_size_limit = Some(sizing.limited_by);
        self.last_exits = sizing.exits;
        Ok(OrderIntent::Open {
            symbol: signal.symbol.clone(),
            qty: sizing.qty,
            stop: Some(sizing.stop),
            take_profits: sizing.take_profits,
            ts: signal.ts,
        })
    }

    /// Account-level gates: kill switch, reduce-only, daily loss, unresolved order.
    fn check_account(&self, signal: &TradingSignal, ctx: &RiskContext<'_>) -> Result<(), Refusal> {
        let cfg = &self.cfg;
        let equity = ctx.portfolio.equity;
        if let Some(KillSwitch {
            tripped_at,
            drawdown_pct,
        }) = self.state.kill_switch
        {
            return Err(Refusal::new(
                RiskRule::KillSwitch,
                format!(
                    "kill switch tripped at {tripped_at} by drawdown {}% >= {}%; needs an operator reset",
                    show(drawdown_pct),
                    cfg.max_drawdown_pct
                ),
            ));
        }
        let peak = self.state.peak_equity.max(equity);
        let drawdown = percent_of(peak - equity, peak);
        if drawdown >= cfg.max_drawdown_pct {
            return Err(Refusal::new(
                RiskRule::KillSwitch,
                format!(
                    "drawdown {}% from peak {} >= {}%",
                    show(drawdown),
                    show(peak),
                    cfg.max_drawdown_pct
                ),
            ));
        }
        if ctx.reduce_only {
            return Err(Refusal::new(
                RiskRule::ReduceOnly,
                format!(
                    "venue breaker open: reduce-only, no new long in {}",
                    signal.symbol
                ),
            ));
        }
        if self.state.day == Some(signal.ts.utc_day()) {
            let start = self.state.day_start_equity;
            let loss = percent_of(start - equity, start);
            if self.state.daily_limit_hit || loss >= cfg.daily_loss_limit_pct {
                return Err(Refusal::new(
                    RiskRule::DailyLossLimit,
                    format!(
                        "daily loss {}% of day-start equity {} reached the {}% limit today{}",
                        show(loss),
                        show(start),
                        cfg.daily_loss_limit_pct,
                        if loss >= cfg.daily_loss_limit_pct {
                            ""
                        } else {
                            " (latched until UTC midnight)"
                        }
                    ),
                ));
            }
        }
        if ctx.unresolved_order {
            return Err(Refusal::new(
                RiskRule::UnresolvedOrder,
                format!(
                    "an order on {} has an unresolved outcome; no new risk until it is resolved",
                    signal.symbol
                ),
            ));
        }
        Ok(())
    }

    /// The per-symbol cooldown after a stop-out; forgets cooldowns that have ended.
    fn check_cooldown(&mut self, signal: &TradingSignal) -> Result<(), Refusal> {
        let Some(until) = self.state.cooldown_until.get(&signal.symbol).copied() else {
            return Ok(());
        };
        if signal.ts >= until {
            self.state.cooldown_until.remove(&signal.symbol);
            return Ok(());
        }
        let left_min = (until.millis() - signal.ts.millis()) / 60_000;
        Err(Refusal::new(
            RiskRule::Cooldown,
            format!(
                "{} is cooling down after a stop-out until {until} ({}h{:02}m left of {}h)",
                signal.symbol,
                left_min / 60,
                left_min % 60,
                self.cfg.cooldown_after_stop_hours
            ),
        ))
    }

    /// Signal-level gates: confidence, open positions, volatility.
    fn check_signal(
        &self,
        signal: &TradingSignal,
        atr: Decimal,
        portfolio: &PortfolioSnapshot,
    ) -> Result<(), Refusal> {
        let cfg = &self.cfg;
        if signal.confidence < cfg.min_confidence {
            return Err(Refusal::new(
                RiskRule::MinConfidence,
                format!("confidence {} < {}", signal.confidence, cfg.min_confidence),
            ));
        }
        let open = portfolio.positions.iter().filter(|p| is_open(p)).count();
        if open >= cfg.max_open_positions as usize {
            return Err(Refusal::new(
                RiskRule::MaxOpenPositions,
                format!("{open} positions open, max {}", cfg.max_open_positions),
            ));
        }
        let volatility = percent_of(atr, signal.price);
        if volatility > cfg.max_volatility_pct {
            return Err(Refusal::new(
                RiskRule::Volatility,
                format!(
                    "ATR {} is {}% of price {} > {}%",
                    show(atr),
                    show(volatility),
                    signal.price,
                    cfg.max_volatility_pct
                ),
            ));
        }
        Ok(())
    }

    /// Tracks the equity peak and the UTC day. Trips the kill switch when the drawdown from
    /// the peak reaches `max_drawdown_pct`, and latches the daily loss limit; each alert is
    /// returned once (the kill switch wins if both happen on the same snapshot).
    pub fn on_portfolio(&mut self, snapshot: &PortfolioSnapshot) -> Option<RiskAlert> {
        self.on_equity(snapshot.equity, snapshot.ts)
    }

    /// [`Self::on_portfolio`] for the equity `equity` at `ts`.
    pub fn on_equity(&mut self, equity: Decimal, ts: Timestamp) -> Option<RiskAlert> {
        let state = &mut self.state;
        let day = ts.utc_day();
        if state.day.is_none_or(|current| day > current) {
            state.day = Some(day);
            state.day_start_equity = equity;
            state.daily_limit_hit = false;
        }
        state.peak_equity = state.peak_equity.max(equity);

        let mut alert = None;
        if state.day == Some(day) && !state.daily_limit_hit {
            let loss = percent_of(state.day_start_equity - equity, state.day_start_equity);
            if loss >= self.cfg.daily_loss_limit_pct {
                state.daily_limit_hit = true;
                alert = Some(RiskAlert::DailyLossLimitHit {
                    loss_pct: show(loss),
                });
            }
        }
        if state.kill_switch.is_none() {
            let drawdown = percent_of(state.peak_equity - equity, state.peak_equity);
            if drawdown >= self.cfg.max_drawdown_pct {
                state.kill_switch = Some(KillSwitch {
                    tripped_at: ts,
                    drawdown_pct: show(drawdown),
                });
                alert = Some(RiskAlert::KillSwitchTripped {
                    drawdown_pct: show(drawdown),
                });
            }
        }
        alert
    }

    /// Starts the symbol's cooldown when a trade was stopped out.
    pub fn on_trade_closed(&mut self, trade: &ClosedTrade) {
        if trade.exit_reason != ExitReason::StopLoss || self.cfg.cooldown_after_stop_hours == 0 {
            return;
        }
        let until = trade.exit_time.plus_ms(self.cfg.cooldown_ms());
        let entry = self
            .state
            .cooldown_until
            .entry(trade.symbol.clone())
            .or_insert(Timestamp(i64::MIN));
        *entry = (*entry).max(until);
    }
}

/// Prices and ATRs above this are treated as garbage (and keep Decimal arithmetic far from
/// overflow).
const MAX_PRICE: Decimal = Decimal::from_parts(0xA4C6_8000, 0x0003_8D7E, 0, false, 0); // 1e15

/// Refuses malformed signals; returns the ATR as a Decimal.
fn valid_atr(signal: &TradingSignal) -> Result<Decimal, Refusal> {
    let invalid = |what: String| Err(Refusal::new(RiskRule::InvalidSignal, what));
    if !signal.confidence.is_finite() || !(0.0..=1.0).contains(&signal.confidence) {
        return invalid(format!("confidence {} is not in [0, 1]", signal.confidence));
    }
    if signal.price <= Decimal::ZERO || signal.price > MAX_PRICE {
        return invalid(format!("price {} is not in (0, {MAX_PRICE}]", signal.price));
    }
    if !signal.atr.is_finite() || signal.atr <= 0.0 {
        return invalid(format!("ATR {} is not a positive number", signal.atr));
    }
    match Decimal::try_from(signal.atr) {
        Ok(atr) if atr > Decimal::ZERO && atr <= MAX_PRICE => Ok(atr),
        _ => invalid(format!("ATR {} is out of range", signal.atr)),
    }
}
