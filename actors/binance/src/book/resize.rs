//! Exits cut to what their entry left held. Binance takes a buy's fee out of the base asset it
//! receives (unless BNB pays it), so an entry of 0.2 BTC leaves 0.1998 BTC held, and exits
//! sized for 0.2 would be refused for want of balance, leaving the position unprotected.
//! When an entry has filled, its exits not yet placed are cut, the last tranche first, to the
//! whole lot steps held; what is left below one step is dust. The order manager is told each
//! new quantity (`Resized`), or that a tranche cut to nothing is cancelled.

use rust_decimal::Decimal;
use tracing::info;

use super::{Phase, VenueBook};
use crate::model::{ClientOrderId, ExecutionReport, Fill, OrderStatus, Symbol, Timestamp};

impl VenueBook {
    /// Records `symbol`'s lot step (its `LOT_SIZE` filter): exits are cut in whole steps.
    pub fn set_lot_step(&mut self, symbol: Symbol, step: Decimal) {
        self.lot_steps.insert(symbol, step);
    }

    /// Takes the lot steps `other` was given (a book reloaded from the journal, which does
    /// not keep them, in place of the running one).
    pub fn keep_lot_steps_of(&mut self, other: &VenueBook) {
        self.lot_steps.clone_from(&other.lot_steps);
    }

    /// Cuts the held exits of the filled entry `entry` to what it left held; see the module
    /// docs. Nothing when no fee was withheld from the base asset.
    pub(super) fn fit_exits(
        &mut self,
        entry: &ClientOrderId,
        ts: Timestamp,
        reports: &mut Vec<ExecutionReport>,
    ) {
        let Some(leg) = self.legs.get(entry) else {
            return;
        };
        let withheld: Decimal = leg.fills.iter().map(Fill::base_fee).sum();
        if withheld.is_zero() {
            return;
        }
        let held = leg.executed() - withheld;
        let step = self
            .lot_steps
            .get(&leg.request.symbol)
            .copied()
            .unwrap_or_default();
        let sellable = if step > Decimal::ZERO {
            (held / step).floor() * step
        } else {
            held
        };
        let tranches = self.held_tranches(entry);
        let total: Decimal = tranches.iter().map(|(_, qty)| *qty).sum();
        let mut excess = total - sellable;
        if excess <= Decimal::ZERO {
            return;
        }
        info!(order = %entry, %held, %withheld, exits = %total, to = %sellable, "the entry's fee was withheld from the base asset: its exits are cut to what is held");
        for (legs, qty) in tranches.into_iter().rev() {
            let cut = excess.min(qty);
            excess -= cut;
            let left = qty - cut;
            for id in legs {
                if left.is_zero() {
                    self.finish(&id, OrderStatus::Cancelled, ts);
                    reports.push(ExecutionReport::Cancelled { id, ts });
                } else {
                    if let Some(leg) = self.legs.get_mut(&id) {
                        leg.request.qty = left;
                    }
                    reports.push(ExecutionReport::Resized { id, qty: left, ts });
                }
            }
            if excess.is_zero() {
                break;
            }
        }
    }

    /// The held exits of `entry` by tranche, in tranche order: the legs of one
    /// one-cancels-other group share a quantity; an exit without a group is a tranche alone.
    fn held_tranches(&self, entry: &ClientOrderId) -> Vec<(Vec<ClientOrderId>, Decimal)> {
        let mut tranches: Vec<(Option<u8>, Vec<ClientOrderId>, Decimal)> = Vec::new();
        for id in self.children(entry) {
            let leg = &self.legs[&id];
            if leg.phase != Phase::Held {
                continue;
            }
            let group = leg.request.oco_group;
            match tranches
                .iter_mut()
                .find(|(g, _, _)| group.is_some() && *g == group)
            {
                Some((_, legs, _)) => legs.push(id),
                None => tranches.push((group, vec![id], leg.request.qty)),
            }
        }
        tranches.sort_by_key(|(group, _, _)| *group);
        tranches
            .into_iter()
            .map(|(_, legs, qty)| (legs, qty))
            .collect()
    }
}
