//! The market clock's side of the venue: closing a bar works the shared fill model on it,
//! and its executions settle the account (balances, locks, trades, order statuses).

use super::*;
use crate::fees::FillFee;

impl Venue {
    /// Closes the next bar of the replay: expires market buys the account cannot pay, works
    /// the fill model on the bar and settles its fills. Returns the market and bar, or `None`
    /// when the data has run out. The caller persists before publishing the bar.
    pub fn step(&mut self, now: i64) -> Option<(usize, Candle)> {
        let &(m, i) = self.merged.get(self.state.cursor)?;
        let candle = self.markets[m].candles[i].clone();
        self.expire_unaffordable_buys(m, &candle, now);
        let reports = self.exchange.on_candle(&candle);
        for report in reports {
            self.settle(m, report, now);
        }
        self.state.cursor += 1;
        self.closed[m] += 1;
        Some((m, candle))
    }

    /// Market buys whose cost at this bar's open (with slippage, and the fee when the quote
    /// asset pays it) exceeds their lock plus the free quote expire instead of filling.
    pub(super) fn expire_unaffordable_buys(&mut self, m: usize, candle: &Candle, now: i64) {
        let symbol = self.markets[m].symbol.as_str().to_string();
        let quote = self.markets[m].quote.clone();
        let cfg = self.exchange.config().clone();
        let mut free = self.holding(&quote).free;
        let buys: Vec<(u64, Decimal, Decimal)> = self
            .state
            .orders
            .values()
            .filter(|o| o.symbol == symbol && o.status.is_open())
            .filter(|o| o.order_type == OrderType::Market && o.side == OrderSide::Buy)
            .map(|o| (o.order_id, o.orig_qty, self.lock_amount(&o.lock)))
            .collect();
        for (id, qty, locked) in buys {
            let notional = qty * market_fill_price(candle.open, Side::Buy, cfg.slippage_bps);
            let need = notional + self.fees.quote_fee_of_buy(fee(notional, cfg.fee_bps));
            if need > locked + free {
                tracing::info!(order_id = id, %need, %locked, %free, "market buy expires: the balance does not cover it at the open");
                self.finish_open(id, OrderState::Expired, now);
            } else {
                free -= (need - locked).max(Decimal::ZERO);
            }
        }
    }

    /// Applies one execution report of the fill model.
    pub(super) fn settle(&mut self, m: usize, report: ExecutionReport, now: i64) {
        let market = self.markets[m].clone();
        match report {
            ExecutionReport::Fill(fill) => {
                let Some(id) = self.open_order_id(fill.client_order_id.as_str()) else {
                    tracing::error!(client_order_id = %fill.client_order_id, "a fill for an order the registry does not hold");
                    return;
                };
                let notional = fill.price * fill.qty;
                let record = self.state.orders.get_mut(&id).expect("found above");
                record.executed_qty = fill.qty;
                record.cummulative_quote_qty = notional;
                record.status = OrderState::Filled;
                record.update_time = now;
                let record = record.clone();
                let locked = self.take_lock(&record.lock);
                let (base, quote) = (market.base.clone(), market.quote.clone());
                let charge = self.fees.charge(&FillFee {
                    buy: record.side == OrderSide::Buy,
                    qty: fill.qty,
                    quote_fee: fill.fee,
                    rate: self.exchange.config().fee_bps / Decimal::from(10_000),
                    base: &base,
                    quote: &quote,
                    bnb_free: self.holding("BNB").free,
                });
                match record.side {
                    OrderSide::Buy => {
                        let q = self.holding_mut(&quote);
                        q.locked -= locked;
                        q.free += locked - notional;
                        self.holding_mut(&base).free += fill.qty;
                    }
                    OrderSide::Sell => {
                        let b = self.holding_mut(&base);
                        b.locked -= locked;
                        b.free += locked - fill.qty;
                        self.holding_mut(&quote).free += notional;
                    }
                }
                self.holding_mut(&charge.asset).free -= charge.amount;
                let trade = MyTrade {
                    symbol: record.symbol.clone(),
                    id: fill.trade_id.0,
                    order_id: id,
                    order_list_id: record.order_list_id,
                    price: fill.price,
                    qty: fill.qty,
                    quote_qty: notional,
                    commission: charge.amount,
                    commission_asset: charge.asset,
                    time: fill.ts.0,
                    is_buyer: record.side == OrderSide::Buy,
                    is_maker: matches!(record.order_type, OrderType::Limit | OrderType::LimitMaker),
                    is_best_match: true,
                };
                self.report(id, Change::Traded(&trade), now);
                self.state.trades.push(trade);
                self.state.update_time = now;
            }
            ExecutionReport::Cancelled { id, .. } | ExecutionReport::Expired { id, .. } => {
                if let Some(order_id) = self.open_order_id(id.as_str()) {
                    let record = self.state.orders.get_mut(&order_id).expect("found above");
                    record.status = OrderState::Canceled;
                    record.update_time = now;
                    let lock = record.lock.clone();
                    self.release(&lock);
                    self.report(order_id, Change::VenueCanceled, now);
                }
            }
            other => tracing::warn!(?other, "unexpected report from the fill model"),
        }
    }
}
