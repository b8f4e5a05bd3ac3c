//! The order manager's side of each pipeline step, shared by the backtest loop and the order
//! manager actor so that both issue the same commands in the same order.

use tracing::{debug, info};

use super::{OrderCommand, OrderManager};
use crate::model::{
    Candle, ClosedTrade, ExecutionReport, ExitReason, OrderKind, OrderPurpose, Symbol, Timestamp,
};
use crate::risk::{Approval, PortfolioView, Protection};

/// What applying a batch of venue reports led to.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Settled {
    /// Follow-up commands for the venue (e.g. stops moved to break-even).
    pub commands: Vec<OrderCommand>,
    /// Round trips that closed.
    pub closed: Vec<ClosedTrade>,
}

/// Applies venue reports in order; logs every fill and every round trip it closed.
pub fn settle(om: &mut OrderManager, reports: &[ExecutionReport]) -> Settled {
    let mut settled = Settled::default();
    for report in reports {
        if let ExecutionReport::Fill(fill) = report {
            info!(id = %fill.client_order_id, symbol = %fill.symbol, side = %fill.side, qty = %fill.qty, price = %fill.price, fee = %fill.fee, "fill");
        }
        let update = om.on_execution(report);
        settled.commands.extend(update.commands);
        settled.closed.extend(update.closed);
    }
    for trade in &settled.closed {
        info!(symbol = %trade.symbol, pnl = %trade.pnl, reason = %trade.exit_reason, "trade closed");
    }
    settled
}

/// Logs commands on their way to the venue at `now`; returns how many submit an order (the
/// run's count of orders sent: children attached to an entry count with it).
pub fn sent(commands: &[OrderCommand], now: Timestamp) -> u64 {
    let mut submitted = 0;
    for command in commands {
        match command {
            OrderCommand::Submit(request) => {
                submitted += 1;
                let (kind, price) = match request.kind {
                    OrderKind::Market => ("market", None),
                    OrderKind::Limit { price } => ("limit", Some(price)),
                    OrderKind::Stop { trigger } => ("stop", Some(trigger)),
                };
                info!(id = %request.client_order_id, symbol = %request.symbol, side = %request.side, qty = %request.qty, kind, price = %price.map_or("market".to_string(), |p| p.to_string()), "order submitted");
            }
            OrderCommand::ModifyStop { id, trigger } => {
                debug!(%id, %trigger, ts = %now, "stop moved")
            }
            OrderCommand::Cancel { id } => debug!(%id, ts = %now, "cancel requested"),
        }
    }
    submitted
}

/// The commands for one approved decision on `candle`: first mark the candle's position and
/// trail its stop, then close what must be closed, then act on the intent.
pub fn on_approval(
    om: &mut OrderManager,
    candle: &Candle,
    atr: Option<f64>,
    approval: &Approval,
) -> Vec<OrderCommand> {
    let mut commands = om.on_candle(candle, atr);
    let now = candle.close_time();
    commands.extend(flatten(om, &approval.flatten, now));
    if let Some(intent) = &approval.intent {
        commands.extend(om.on_intent(intent));
    }
    commands
}

/// Closes each listed position at market.
pub fn flatten(
    om: &mut OrderManager,
    list: &[(Symbol, ExitReason)],
    now: Timestamp,
) -> Vec<OrderCommand> {
    let mut commands = Vec::new();
    for (symbol, reason) in list {
        commands.extend(om.flatten(symbol, *reason, now));
    }
    commands
}

/// The account as risk sees it: the snapshot plus the symbols with an unsettled entry.
pub fn view(om: &OrderManager, ts: Timestamp) -> PortfolioView {
    let snapshot = om.snapshot(ts);
    let protection = snapshot
        .positions
        .iter()
        .map(|p| (p.symbol.clone(), protection(om, &p.symbol)))
        .collect();
    PortfolioView {
        snapshot,
        open_entries: om.symbols_with_open_entry().cloned().collect(),
        cash_held: om.cash_held() + om.dust_value(),
        protection,
    }
}

/// The open stops and take-profits of `symbol`'s position.
fn protection(om: &OrderManager, symbol: &Symbol) -> Protection {
    let mut protection = Protection::default();
    for order in om.open_orders(symbol) {
        match (order.request.purpose, order.request.kind) {
            (OrderPurpose::StopLoss, OrderKind::Stop { trigger }) => {
                protection.stop = protection.stop.max(Some(trigger));
            }
            (OrderPurpose::TakeProfit { .. }, OrderKind::Limit { price }) => {
                protection.take_profits.push(price);
            }
            _ => {}
        }
    }
    protection.take_profits.sort();
    protection.take_profits.dedup();
    protection
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Decimal;
    use crate::testing::{btc, candles, Driver, HOUR_MS};

    /// Risk's copy of the account, marked at each candle that moved only a held position's
    /// price, is the order manager's own view: what lets the actor send a mark instead of
    /// the whole view.
    #[test]
    fn a_view_marked_at_a_close_equals_the_order_managers_view_at_that_close() {
        let mut driver = Driver::new();
        let mut marks = 0;
        for candle in candles(400) {
            let before = view(&driver.om, driver.now);
            let mut commands = Vec::new();
            for report in driver.ex.on_candle(&candle) {
                commands.extend(driver.deliver(report));
            }
            driver.now = candle.close_time();
            driver.route(commands);
            let venue_moved = view(&driver.om, before.snapshot.ts) != before;
            let commands = driver.om.on_candle(&candle, Some(1.5));
            if let (true, false, Some(position)) =
                (commands.is_empty(), venue_moved, driver.om.position(&btc()))
            {
                let mut marked = before.clone();
                assert!(marked.mark(&btc(), position.last_price, driver.now));
                assert_eq!(marked, view(&driver.om, driver.now), "at {}", driver.now);
                marks += 1;
            }
            driver.route(commands);
            if (candle.open_time.0 / HOUR_MS) % 5 == 0 && driver.om.position(&btc()).is_none() {
                let commands = driver.open_commands(candle.close);
                driver.route(commands);
            }
        }
        assert!(marks > 50, "only {marks} candles moved just a price");
    }

    #[test]
    fn a_view_without_the_position_is_not_marked() {
        let driver = Driver::new();
        let mut flat = view(&driver.om, driver.now);
        let unchanged = flat.clone();
        assert!(!flat.mark(&btc(), Decimal::ONE, Timestamp(1)));
        assert_eq!(flat, unchanged);
    }
}
