//! What the venue answered to the book's actions: placements (placed, refused, crossed, not
//! placed, unknown), cancels, and the placements of the legs that became due.

use rust_decimal::Decimal;

use super::{
    list_id, place, CancelOutcome, Leg, Phase, PlaceOutcome, VenueAction, VenueBook, NEVER_REACHED,
};
use crate::model::{ClientOrderId, ExecutionReport, OrderKind, OrderStatus, Timestamp};

impl VenueBook {
    /// Records how a placement ended; returns the reports for the order manager.
    pub fn placed(
        &mut self,
        action: &VenueAction,
        outcome: &PlaceOutcome,
        now: Timestamp,
    ) -> Vec<ExecutionReport> {
        let mut reports = Vec::new();
        if let PlaceOutcome::Crossed { last } = outcome {
            self.crossed(action, *last, now, &mut reports);
            return reports;
        }
        for id in action.legs() {
            let Some(leg) = self.legs.get_mut(id) else {
                continue;
            };
            if leg.phase != Phase::Sending {
                continue;
            }
            let top_level = leg.parent.is_none();
            let venue_id = leg.venue_id();
            match outcome {
                PlaceOutcome::Placed(ids) => {
                    let order_id = ids.iter().find(|(v, _)| *v == venue_id).map(|(_, o)| *o);
                    reports.extend(self.adopt(id, order_id, now));
                }
                PlaceOutcome::Refused(reason) if top_level => {
                    self.finish(id, OrderStatus::Rejected, now);
                    reports.push(ExecutionReport::Rejected {
                        id: id.clone(),
                        reason: reason.clone(),
                        ts: now,
                    });
                }
                // The order manager took the exit as held by the venue: for it, the venue
                // cancelled it.
                PlaceOutcome::Refused(reason) => {
                    tracing::error!(order = %id, %reason, "the venue refused an exit: its tranche is unprotected");
                    self.finish(id, OrderStatus::Cancelled, now);
                    reports.push(ExecutionReport::Cancelled {
                        id: id.clone(),
                        ts: now,
                    });
                }
                PlaceOutcome::NotPlaced if top_level => {
                    self.finish(id, OrderStatus::Rejected, now);
                    reports.push(ExecutionReport::Rejected {
                        id: id.clone(),
                        reason: NEVER_REACHED.to_string(),
                        ts: now,
                    });
                }
                // An exit that did not arrive is placed again, under a new client id.
                PlaceOutcome::NotPlaced => {
                    leg.revision += 1;
                    leg.phase = Phase::Due;
                }
                PlaceOutcome::Crossed { .. } => {}
                PlaceOutcome::Unresolved(reason) => {
                    if top_level && leg.revision == 0 {
                        reports.push(ExecutionReport::Unknown {
                            id: id.clone(),
                            reason: reason.clone(),
                            ts: now,
                        });
                    }
                }
            }
        }
        reports
    }

    /// The venue holds `id`'s current order (venue id `order_id`, when known): it is working,
    /// an entry's first placement is reported accepted with its held exits, and trades kept
    /// for it are applied.
    pub(super) fn adopt(
        &mut self,
        id: &ClientOrderId,
        order_id: Option<u64>,
        now: Timestamp,
    ) -> Vec<ExecutionReport> {
        let mut reports = Vec::new();
        let Some(leg) = self.legs.get_mut(id) else {
            return reports;
        };
        leg.venue_order_id = order_id;
        leg.phase = Phase::Working;
        let symbol = leg.request.symbol.clone();
        if leg.parent.is_none() && leg.revision == 0 {
            reports.push(ExecutionReport::Accepted {
                id: id.clone(),
                ts: now,
            });
            for child in self.children(id) {
                reports.push(ExecutionReport::Accepted { id: child, ts: now });
            }
        }
        reports.extend(self.rematch(&symbol));
        reports
    }

    /// The market crossed an exit's price before it could be placed: the leg whose price was
    /// crossed (the stop first: when both are, the stop wins) goes out at the market instead,
    /// under a new client id; its partner is cancelled. Legs not crossed are placed again.
    fn crossed(
        &mut self,
        action: &VenueAction,
        last: Decimal,
        now: Timestamp,
        reports: &mut Vec<ExecutionReport>,
    ) {
        let legs: Vec<ClientOrderId> = action.legs().into_iter().cloned().collect();
        let hit = |leg: &Leg| match leg.request.kind {
            OrderKind::Stop { trigger } => last <= trigger,
            OrderKind::Limit { price } => last >= price,
            OrderKind::Market => false,
        };
        let mut ordered = legs.clone();
        ordered.sort_by_key(|id| {
            !matches!(
                self.legs.get(id).map(|l| l.request.kind),
                Some(OrderKind::Stop { .. })
            )
        });
        let sold = ordered.into_iter().find(|id| {
            self.legs
                .get(id)
                .is_some_and(|l| l.phase == Phase::Sending && hit(l))
        });
        for id in legs {
            let Some(leg) = self.legs.get_mut(&id) else {
                continue;
            };
            if leg.phase != Phase::Sending {
                continue;
            }
            leg.revision += 1;
            match &sold {
                Some(s) if *s == id => {
                    tracing::warn!(order = %id, %last, "the market crossed the exit's price: selling at the market");
                    leg.at_market = true;
                    leg.phase = Phase::Due;
                }
                Some(_) => {
                    self.finish(&id, OrderStatus::Cancelled, now);
                    reports.push(ExecutionReport::Cancelled { id, ts: now });
                }
                None => leg.phase = Phase::Due,
            }
        }
    }

    /// Records how a cancel ended; returns the reports for the order manager (the legs to
    /// place again come from [`due_actions`](Self::due_actions)).
    pub fn cancelled(
        &mut self,
        action: &VenueAction,
        outcome: &CancelOutcome,
        now: Timestamp,
    ) -> Vec<ExecutionReport> {
        let VenueAction::Cancel { leg, list_id, .. } = action else {
            return Vec::new();
        };
        if *outcome != CancelOutcome::Cancelled {
            return Vec::new();
        }
        let mut ids = vec![leg.clone()];
        if list_id.is_some() {
            ids.extend(self.legs.get(leg).and_then(|l| l.partner.clone()));
        }
        let mut reports = Vec::new();
        for id in ids {
            reports.extend(self.settle_cancel(&id, now));
        }
        reports
    }

    /// The venue confirmed that `id`'s order is cancelled: finish it or place it again.
    pub(super) fn settle_cancel(
        &mut self,
        id: &ClientOrderId,
        now: Timestamp,
    ) -> Option<ExecutionReport> {
        let leg = self.legs.get_mut(id)?;
        match leg.phase {
            Phase::Cancelling { replace: true } => {
                leg.revision += 1;
                leg.phase = Phase::Due;
                None
            }
            Phase::Cancelling { replace: false } | Phase::Working => {
                self.finish(id, OrderStatus::Cancelled, now);
                Some(ExecutionReport::Cancelled {
                    id: id.clone(),
                    ts: now,
                })
            }
            _ => None,
        }
    }

    /// The placements of every due leg, each moved to `Sending`: journal the book, then send.
    /// A stop and its take-profit due together go as one OCO list.
    pub fn due_actions(&mut self) -> Vec<VenueAction> {
        let due: Vec<ClientOrderId> = self
            .legs
            .iter()
            .filter(|(_, l)| l.phase == Phase::Due)
            .map(|(id, _)| id.clone())
            .collect();
        let mut actions = Vec::new();
        for id in due {
            if self.legs[&id].phase != Phase::Due {
                continue; // placed with its partner
            }
            let leg = &self.legs[&id];
            let partner = leg.partner.clone().filter(|_| !leg.at_market).filter(|p| {
                self.legs
                    .get(p)
                    .is_some_and(|p| p.phase == Phase::Due && !p.at_market)
            });
            let action = match partner {
                Some(partner) => self.oco(&id, &partner),
                None => place(leg),
            };
            for leg in action.legs() {
                if let Some(l) = self.legs.get_mut(leg) {
                    l.phase = Phase::Sending;
                }
            }
            // Re-borrow: `legs()` borrows the action.
            actions.push(action);
        }
        actions
    }

    fn oco(&self, a: &ClientOrderId, b: &ClientOrderId) -> VenueAction {
        let (stop, tp) = match self.legs[a].request.kind {
            OrderKind::Stop { .. } => (&self.legs[a], &self.legs[b]),
            _ => (&self.legs[b], &self.legs[a]),
        };
        let trigger = match stop.request.kind {
            OrderKind::Stop { trigger } => trigger,
            _ => Decimal::ZERO,
        };
        let price = match tp.request.kind {
            OrderKind::Limit { price } => price,
            _ => Decimal::ZERO,
        };
        VenueAction::PlaceOco {
            list_id: list_id(&stop.venue_id()),
            symbol: stop.request.symbol.clone(),
            qty: stop.request.qty,
            stop: (stop.request.client_order_id.clone(), stop.venue_id()),
            trigger,
            take_profit: (tp.request.client_order_id.clone(), tp.venue_id()),
            price,
        }
    }
}
