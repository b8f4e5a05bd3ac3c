//! Per-symbol state of the order manager: the position, the round trip being built, and the
//! orders still open.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::{ClosedTrade, ExitReason, OrderPurpose, Position, Symbol, Timestamp};

/// Everything the order manager knows about one symbol.
#[derive(Debug, Clone, Default)]
pub struct SymbolBook {
    /// The long position, if any.
    pub position: Option<Position>,
    /// Figures of the round trip in progress (reset when the position is flat again).
    pub trip: RoundTrip,
    /// Indices (into the manager's order list) of the orders not yet terminal, oldest first.
    pub open_orders: Vec<usize>,
    /// The symbol's last close (what a new entry reserves cash at).
    pub last_close: Option<Decimal>,
    /// Dust: what round trips left below the smallest sell (see `OrderManagerConfig::lot`),
    /// held at the venue but in no position.
    pub dust: Dust,
}

/// Base asset left over by round trips, too little to sell.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Dust {
    /// The quantity.
    pub qty: Decimal,
    /// Its value at the exit prices of the round trips that left it (counted in equity).
    pub value: Decimal,
}

/// The running figures of one round trip, from the first entry fill to flat.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RoundTrip {
    /// Quantity bought.
    pub bought: Decimal,
    /// Σ price × qty of the buys.
    pub buy_notional: Decimal,
    /// Quantity sold.
    pub sold: Decimal,
    /// Σ price × qty of the sells.
    pub sell_notional: Decimal,
    /// Fees of every fill of the round trip, valued in the quote asset.
    pub fees: Decimal,
    /// The part of `fees` withheld from the base asset: paid by receiving less (or giving
    /// more) of it, so already in the quantities and not paid again out of the P&L.
    pub fees_withheld: Decimal,
    /// First entry fill.
    pub entry_time: Timestamp,
    /// Highest close since the entry (zero before the first candle).
    pub highest_close: Decimal,
    /// Whether the stop trails (after the configured take-profit level filled).
    pub trailing_active: bool,
    /// Why the last exit fill happened.
    pub last_exit: Option<ExitReason>,
}

impl RoundTrip {
    /// The closed trade once the position is flat (`dust` left over, valued at `dust_value`),
    /// with the P&L after all fees.
    pub fn close(&self, symbol: &Symbol, exit_time: Timestamp, dust_value: Decimal) -> ClosedTrade {
        let average = |notional: Decimal, qty: Decimal| {
            if qty.is_zero() {
                Decimal::ZERO
            } else {
                notional / qty
            }
        };
        ClosedTrade {
            symbol: symbol.clone(),
            entry_time: self.entry_time,
            exit_time,
            qty: self.bought,
            entry_price: average(self.buy_notional, self.bought),
            exit_price: average(self.sell_notional, self.sold),
            pnl: self.sell_notional + dust_value
                - self.buy_notional
                - (self.fees - self.fees_withheld),
            fees: self.fees,
            exit_reason: self.last_exit.unwrap_or(ExitReason::Signal),
        }
    }
}

/// Why a sell with this purpose closed (part of) a position. An entry-purpose sell should not
/// exist on spot; it counts as a signal exit.
pub fn exit_reason(purpose: OrderPurpose) -> ExitReason {
    match purpose {
        OrderPurpose::StopLoss => ExitReason::StopLoss,
        OrderPurpose::TakeProfit { .. } => ExitReason::TakeProfit,
        OrderPurpose::Exit { reason } => reason,
        OrderPurpose::Entry => ExitReason::Signal,
    }
}
