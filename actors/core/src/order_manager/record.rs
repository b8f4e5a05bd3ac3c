//! What a finished (or stopped) run knows, read off the order manager: the one record both
//! drivers (the backtest loop and the actor runtime) build their result from.

use super::OrderManager;
use crate::model::{ClosedTrade, Decimal, EquityPoint, Order, PortfolioSnapshot, Timestamp};

/// Everything a finished (or stopped) run knows, for its summary.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// Every order, in creation order.
    pub orders: Vec<Order>,
    /// Completed round trips.
    pub trades: Vec<ClosedTrade>,
    /// One point per bar close.
    pub equity: Vec<EquityPoint>,
    /// The account at the last mark.
    pub snapshot: PortfolioSnapshot,
    /// All fees paid.
    pub fees_paid: Decimal,
    /// Orders sent to the venue by this process.
    pub orders_submitted: u64,
}

impl RunRecord {
    /// The record of `om` with its equity curve (one point per bar close) and the number of
    /// orders this process sent; the snapshot is taken at the last point of the curve.
    pub fn of(om: &OrderManager, equity: Vec<EquityPoint>, orders_submitted: u64) -> Self {
        let last = equity.last().map_or(Timestamp(0), |p| p.ts);
        Self {
            orders: om.orders().cloned().collect(),
            trades: om.closed_trades().to_vec(),
            snapshot: om.snapshot(last),
            fees_paid: om.fees_paid(),
            equity,
            orders_submitted,
        }
    }
}
