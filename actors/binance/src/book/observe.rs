//! What the venue says happened: its trades and its order statuses, applied to the book.

use std::collections::HashSet;

use rust_decimal::Decimal;
use tracing::warn;

use super::{Phase, VenueAction, VenueBook};
use crate::model::{
    ClientOrderId, ExecutionReport, FeeSource, Fill, OrderStatus, Symbol, Timestamp, TradeId,
};
use crate::wire::{MyTrade, OrderState, QueriedOrder};

/// How many trades of unknown orders the book keeps for later matching.
const UNMATCHED_KEPT: usize = 1_000;

/// The venue executed more of an order than the trades seen so far account for: fetch the
/// trades again before settling its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TradesBehind;

impl VenueBook {
    /// Applies `symbol`'s trades (ascending ids): a fill for each trade of a leg's order, once
    /// (trades at or before the last one seen are ignored). A leg filled completely finishes;
    /// its partner, which the venue cancelled with it, finishes as cancelled; an entry filled
    /// completely makes its exits due.
    pub fn on_trades(&mut self, symbol: &Symbol, trades: &[MyTrade]) -> Vec<ExecutionReport> {
        let mut reports = Vec::new();
        for trade in trades {
            let last = self.last_trade.entry(symbol.clone()).or_insert(0);
            if trade.id <= *last {
                continue;
            }
            *last = trade.id;
            reports.extend(self.apply_trade(symbol, trade));
        }
        reports
    }

    /// Applies the kept trades that now belong to a known order (its venue id was learnt).
    pub(super) fn rematch(&mut self, symbol: &Symbol) -> Vec<ExecutionReport> {
        let kept = std::mem::take(&mut self.unmatched);
        let mut reports = Vec::new();
        for trade in kept {
            if trade.symbol == symbol.as_str() {
                reports.extend(self.apply_trade(symbol, &trade));
            } else {
                self.unmatched.push(trade);
            }
        }
        reports
    }

    /// One trade as a fill of its leg; a trade of an order whose leg is not known yet is
    /// kept for later (an order placed whose answer was lost: a query will tell).
    fn apply_trade(&mut self, symbol: &Symbol, trade: &MyTrade) -> Vec<ExecutionReport> {
        let Some(id) = self.leg_of_order(symbol, trade.order_id) else {
            warn!(
                symbol = %symbol,
                trade_id = trade.id,
                order_id = trade.order_id,
                "a venue trade of an order not (yet) matched to keel's orders: kept"
            );
            if self.unmatched.len() >= UNMATCHED_KEPT {
                self.unmatched.remove(0);
            }
            self.unmatched.push(trade.clone());
            return Vec::new();
        };
        let ts = Timestamp(trade.time);
        let leg = self.legs.get_mut(&id).expect("found above");
        let fill = Fill {
            trade_id: TradeId(trade.id),
            client_order_id: id.clone(),
            symbol: symbol.clone(),
            side: leg.request.side,
            qty: trade.qty,
            price: trade.price,
            fee: fee_in_quote(trade, symbol),
            fee_source: fee_source(trade, symbol),
            ts,
        };
        leg.fills.push(fill.clone());
        let mut reports = vec![ExecutionReport::Fill(fill)];
        if leg.executed() >= leg.request.qty {
            self.filled(&id, ts, &mut reports);
        }
        reports
    }

    /// A leg filled completely: it finishes, its venue-cancelled partner too, and an entry's
    /// exits become due.
    fn filled(&mut self, id: &ClientOrderId, ts: Timestamp, reports: &mut Vec<ExecutionReport>) {
        self.finish(id, OrderStatus::Filled, ts);
        let leg = &self.legs[id];
        if let Some(partner) = leg.partner.clone() {
            let at_venue = self
                .legs
                .get(&partner)
                .is_some_and(|p| matches!(p.phase, Phase::Working | Phase::Cancelling { .. }));
            if at_venue {
                self.finish(&partner, OrderStatus::Cancelled, ts);
                reports.push(ExecutionReport::Cancelled { id: partner, ts });
            }
        }
        self.fit_exits(id, ts, reports);
        for child in self.children(id) {
            if let Some(leg) = self.legs.get_mut(&child) {
                if leg.phase == Phase::Held {
                    leg.phase = Phase::Due;
                }
            }
        }
    }

    /// The legs of `symbol` that should be open at the venue but are not among `open` (the
    /// venue client ids of its open orders), with their venue client ids: query each.
    pub fn not_open(&self, symbol: &Symbol, open: &HashSet<&str>) -> Vec<(ClientOrderId, String)> {
        self.legs
            .iter()
            .filter(|(_, l)| &l.request.symbol == symbol)
            .filter(|(_, l)| {
                matches!(
                    l.phase,
                    Phase::Working | Phase::Sending | Phase::Cancelling { .. }
                )
            })
            .map(|(id, l)| (id.clone(), l.venue_id()))
            .filter(|(_, venue_id)| !open.contains(venue_id.as_str()))
            .collect()
    }

    /// Cancels of `symbol` whose order is still open at the venue (`open`: its open orders'
    /// venue client ids): send them again. A cancel is safe to repeat.
    pub fn cancels_to_repeat(&self, symbol: &Symbol, open: &HashSet<&str>) -> Vec<VenueAction> {
        let mut actions: Vec<VenueAction> = Vec::new();
        for (id, leg) in &self.legs {
            if &leg.request.symbol != symbol
                || !matches!(leg.phase, Phase::Cancelling { .. })
                || !open.contains(leg.venue_id().as_str())
            {
                continue;
            }
            let list_id = leg.partner.as_ref().and_then(|p| {
                let partner = &self.legs.get(p)?;
                let together = matches!(partner.phase, Phase::Cancelling { .. })
                    && open.contains(partner.venue_id().as_str());
                together.then(|| self.list_id_of(id))
            });
            if list_id.is_some() && actions.iter().any(|a| same_list(a, &list_id)) {
                continue;
            }
            actions.push(VenueAction::Cancel {
                leg: id.clone(),
                symbol: symbol.clone(),
                venue_id: leg.venue_id(),
                list_id,
            });
        }
        actions
    }

    /// Applies the venue's answer to a query of `id`'s current client id (`None`: the venue
    /// does not know it). A placement in doubt is resolved (placed, or not: an entry is then
    /// rejected as never having reached the venue, an exit placed again under a new id); a
    /// finished order finishes its leg; a confirmed cancel finishes it or makes it due again.
    /// `Err(TradesBehind)` when the venue executed more than the trades seen: fetch them first.
    pub fn on_status(
        &mut self,
        id: &ClientOrderId,
        queried: Option<&QueriedOrder>,
        now: Timestamp,
    ) -> Result<Vec<ExecutionReport>, TradesBehind> {
        let Some(leg) = self.legs.get(id) else {
            return Ok(Vec::new());
        };
        let phase = leg.phase;
        let Some(q) = queried else {
            return Ok(match phase {
                Phase::Sending => {
                    let action = super::place(leg);
                    self.placed(&action, &super::PlaceOutcome::NotPlaced, now)
                }
                _ => {
                    warn!(order = %id, venue_id = %leg.venue_id(), "the venue does not know a working order");
                    Vec::new()
                }
            });
        };
        let mut reports = Vec::new();
        if phase == Phase::Sending {
            reports.extend(self.adopt(id, Some(q.order_id), now));
        }
        if q.executed_qty > self.legs[id].executed() {
            // The adoption above stands; the caller fetches the trades and asks again.
            return if reports.is_empty() {
                Err(TradesBehind)
            } else {
                Ok(reports)
            };
        }
        let ts = Timestamp(q.update_time);
        match q.status {
            OrderState::New | OrderState::PartiallyFilled | OrderState::PendingCancel => {}
            OrderState::Filled => {
                if !self.legs[id].is_done() {
                    self.filled(id, ts, &mut reports);
                }
            }
            OrderState::Canceled => {
                if matches!(self.legs[id].phase, Phase::Cancelling { .. }) {
                    reports.extend(self.settle_cancel(id, ts));
                } else if !self.legs[id].is_done() {
                    self.finish(id, OrderStatus::Cancelled, ts);
                    reports.push(ExecutionReport::Cancelled { id: id.clone(), ts });
                }
            }
            OrderState::Expired | OrderState::ExpiredInMatch | OrderState::Rejected => {
                if !self.legs[id].is_done() {
                    let status = if q.status == OrderState::Rejected {
                        OrderStatus::Rejected
                    } else {
                        OrderStatus::Expired
                    };
                    self.finish(id, status, ts);
                    reports.push(match status {
                        OrderStatus::Rejected => ExecutionReport::Rejected {
                            id: id.clone(),
                            reason: "rejected by the venue".to_string(),
                            ts,
                        },
                        _ => ExecutionReport::Expired { id: id.clone(), ts },
                    });
                }
            }
        }
        Ok(reports)
    }

    fn leg_of_order(&self, symbol: &Symbol, order_id: u64) -> Option<ClientOrderId> {
        self.legs
            .iter()
            .find(|(_, l)| &l.request.symbol == symbol && l.venue_order_id == Some(order_id))
            .map(|(id, _)| id.clone())
    }
}

fn same_list(action: &VenueAction, list_id: &Option<String>) -> bool {
    matches!(action, VenueAction::Cancel { list_id: l, .. } if l == list_id)
}

/// Which balance paid the trade's fee: the quote asset, the base asset (Binance's rule for a
/// buy without BNB: the fee is taken from what is received), or another one (BNB).
fn fee_source(trade: &MyTrade, symbol: &Symbol) -> FeeSource {
    if trade.commission_asset == symbol.base().as_str() && !trade.commission.is_zero() {
        FeeSource::Base {
            qty: trade.commission,
        }
    } else if trade.commission_asset == symbol.quote().as_str() || trade.commission.is_zero() {
        FeeSource::Quote
    } else {
        FeeSource::Other
    }
}

/// The trade's fee in the quote asset: as charged when charged in the quote asset, converted
/// at the trade's price when charged in the base asset. Any other asset (e.g. BNB) cannot be
/// valued here: counted as zero, with a warning.
fn fee_in_quote(trade: &MyTrade, symbol: &Symbol) -> Decimal {
    if trade.commission_asset == symbol.quote().as_str() {
        trade.commission
    } else if trade.commission_asset == symbol.base().as_str() {
        trade.commission * trade.price
    } else {
        if !trade.commission.is_zero() {
            warn!(
                symbol = %symbol,
                trade_id = trade.id,
                asset = %trade.commission_asset,
                "a fee charged in an asset keel does not value: not counted"
            );
        }
        Decimal::ZERO
    }
}
