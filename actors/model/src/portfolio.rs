//! Positions, closed round-trip trades and the portfolio snapshot risk decides on.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Symbol, Timestamp};

/// Why a position (or part of it) was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitReason {
    /// The protective stop (possibly trailed) was hit.
    StopLoss,
    /// A take-profit level was reached.
    TakeProfit,
    /// The strategy signalled the opposite direction.
    Signal,
    /// A critical negative market event for the symbol.
    Emergency,
    /// The drawdown kill switch tripped.
    KillSwitch,
    /// An operator asked to flatten.
    Flatten,
}

impl std::fmt::Display for ExitReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ExitReason::StopLoss => "stop_loss",
            ExitReason::TakeProfit => "take_profit",
            ExitReason::Signal => "signal",
            ExitReason::Emergency => "emergency",
            ExitReason::KillSwitch => "kill_switch",
            ExitReason::Flatten => "flatten",
        })
    }
}

/// A long spot position in one symbol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// The pair.
    pub symbol: Symbol,
    /// Base-asset quantity held (never negative on spot).
    pub qty: Decimal,
    /// Quantity-weighted average entry price.
    pub avg_entry: Decimal,
    /// Last known market price (the last close).
    pub last_price: Decimal,
    /// When the position was opened (event time of the first entry fill).
    pub opened_at: Timestamp,
}

impl Position {
    /// Quantity × last price, in the quote asset.
    pub fn market_value(&self) -> Decimal {
        self.qty * self.last_price
    }

    /// Unrealised profit at the last price, before exit fees.
    pub fn unrealized_pnl(&self) -> Decimal {
        (self.last_price - self.avg_entry) * self.qty
    }
}

/// A completed round trip: from the first entry fill until the position was flat again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClosedTrade {
    /// The pair.
    pub symbol: Symbol,
    /// First entry fill.
    pub entry_time: Timestamp,
    /// Last exit fill.
    pub exit_time: Timestamp,
    /// Total quantity bought.
    pub qty: Decimal,
    /// Average entry price.
    pub entry_price: Decimal,
    /// Quantity-weighted average exit price.
    pub exit_price: Decimal,
    /// Profit after all fees of the round trip, in the quote asset.
    pub pnl: Decimal,
    /// All fees of the round trip (entry and exits).
    pub fees: Decimal,
    /// Reason of the final exit fill.
    pub exit_reason: ExitReason,
}

impl ClosedTrade {
    /// Return on the entry notional, after fees.
    pub fn return_pct(&self) -> Decimal {
        let cost = self.entry_price * self.qty;
        if cost.is_zero() {
            Decimal::ZERO
        } else {
            self.pnl / cost * Decimal::ONE_HUNDRED
        }
    }
}

/// The account at one instant, as the risk engine sees it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PortfolioSnapshot {
    /// Event time of the snapshot.
    pub ts: Timestamp,
    /// Quote-asset cash a new order may commit at its decision price: not held back by open
    /// buys, less the margin for the order's own fee, slippage and gap (see the order
    /// manager's `reserve_margin`).
    pub cash: Decimal,
    /// Cash plus the market value of every position.
    pub equity: Decimal,
    /// Open positions.
    pub positions: Vec<Position>,
}

impl PortfolioSnapshot {
    /// The position in `symbol`, if any.
    pub fn position(&self, symbol: &Symbol) -> Option<&Position> {
        self.positions.iter().find(|p| &p.symbol == symbol)
    }

    /// Sum of the market values of all positions.
    pub fn gross_exposure(&self) -> Decimal {
        self.positions.iter().map(Position::market_value).sum()
    }

    /// The equity with all cash `cash_held`: that cash plus every position at its last price.
    /// The one formula of the order manager's snapshot and of risk's copy of it.
    pub fn equity_with(&self, cash_held: Decimal) -> Decimal {
        cash_held + self.gross_exposure()
    }
}

/// The account at the close of one bar (one row per distinct candle close time).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EquityPoint {
    /// Close time of the bar.
    pub ts: Timestamp,
    /// Cash plus positions at the closes known at `ts`.
    pub equity: Decimal,
    /// Market value of all open positions at `ts` (zero when flat).
    pub exposure: Decimal,
}
