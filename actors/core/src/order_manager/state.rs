//! The order manager's persistent state: everything but its config, so that a restart (or a
//! crash) continues with the same orders, positions, cash, id sequence and applied fills.

use serde::{Deserialize, Serialize};

use super::book::{Dust, RoundTrip};
use crate::model::{ClosedTrade, Decimal, Order, Position, Symbol, TradeId};

/// One order and the index (into [`OrderManagerState::orders`]) of the order it is attached
/// to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackedOrder {
    /// The order and where it is in its lifecycle.
    pub order: Order,
    /// Index of its parent, always lower than its own.
    pub parent: Option<usize>,
    /// Cash it holds back while open (entry buys only).
    #[serde(default)]
    pub reserve: Decimal,
}

/// What the order manager holds about one symbol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SymbolState {
    /// The pair.
    pub symbol: Symbol,
    /// The long position, if any.
    pub position: Option<Position>,
    /// The round trip in progress (its highest close and trailing flag drive the stop).
    pub trip: RoundTrip,
    /// Base asset left over by earlier round trips, too little to sell.
    #[serde(default)]
    pub dust: Dust,
}

/// Everything an [`OrderManager`](super::OrderManager) holds except its config (which comes
/// from the settings at restore). The open orders of each symbol are not stored: they are the
/// orders not in a terminal state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderManagerState {
    /// The last client order id sequence number handed out.
    pub last_seq: u64,
    /// Free quote-asset balance.
    pub cash: Decimal,
    /// All fees paid so far.
    pub fees_paid: Decimal,
    /// Every order ever placed, in creation order (children after their parent).
    pub orders: Vec<TrackedOrder>,
    /// Per-symbol positions and round trips, in symbol order.
    pub symbols: Vec<SymbolState>,
    /// Trade ids already applied, ascending (a fill delivered again is ignored).
    pub applied_trades: Vec<TradeId>,
    /// Round trips completed, in the order they closed.
    pub closed_trades: Vec<ClosedTrade>,
    /// Anomalies recorded so far, oldest first.
    pub anomalies: Vec<String>,
}

/// A saved order-manager state that cannot be restored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("order manager state cannot be restored: {0}")]
pub struct OrderStateError(pub String);
