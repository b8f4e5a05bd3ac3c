//! The order manager's commands, taken by the book: reports it can answer at once (an exit
//! held on keel's side is cancelled without the venue) and the venue actions to carry out.

use rust_decimal::Decimal;

use super::{new_leg, place, unknown_order, Phase, VenueAction, VenueBook};
use crate::model::{
    ClientOrderId, ExecutionReport, OrderKind, OrderRequest, OrderStatus, Timestamp,
};
use crate::order_manager::OrderCommand;

impl VenueBook {
    /// Takes the order manager's commands: returns the reports it can answer at once and the
    /// venue actions to journal, then carry out. `now` is the event time.
    pub fn command(
        &mut self,
        commands: &[OrderCommand],
        now: Timestamp,
    ) -> (Vec<ExecutionReport>, Vec<VenueAction>) {
        let mut reports = Vec::new();
        let mut actions = Vec::new();
        let cancelled: Vec<&ClientOrderId> = commands
            .iter()
            .filter_map(|c| match c {
                OrderCommand::Cancel { id } => Some(id),
                _ => None,
            })
            .collect();
        for command in commands {
            match command {
                OrderCommand::Submit(request) => {
                    self.submit(request, now, &mut reports, &mut actions)
                }
                OrderCommand::Cancel { id } => {
                    self.cancel(id, &cancelled, now, &mut reports, &mut actions)
                }
                OrderCommand::ModifyStop { id, trigger } => {
                    self.modify_stop(id, *trigger, now, &mut reports, &mut actions)
                }
            }
        }
        actions.extend(self.due_actions());
        (reports, actions)
    }

    fn submit(
        &mut self,
        request: &OrderRequest,
        now: Timestamp,
        reports: &mut Vec<ExecutionReport>,
        actions: &mut Vec<VenueAction>,
    ) {
        let id = request.client_order_id.clone();
        if self.legs.contains_key(&id) {
            reports.push(ExecutionReport::Rejected {
                id,
                reason: crate::execution::DUPLICATE_ORDER.to_string(),
                ts: now,
            });
            return;
        }
        let mut parent = request.clone();
        let children = std::mem::take(&mut parent.attached);
        let leg = new_leg(parent, None, None, Phase::Sending);
        actions.push(place(&leg));
        self.legs.insert(id.clone(), leg);
        for child in &children {
            let partner = children
                .iter()
                .find(|c| {
                    c.client_order_id != child.client_order_id
                        && c.oco_group.is_some()
                        && c.oco_group == child.oco_group
                })
                .map(|c| c.client_order_id.clone());
            let leg = new_leg(child.clone(), Some(id.clone()), partner, Phase::Held);
            self.legs.insert(child.client_order_id.clone(), leg);
        }
    }

    fn cancel(
        &mut self,
        id: &ClientOrderId,
        cancelled: &[&ClientOrderId],
        now: Timestamp,
        reports: &mut Vec<ExecutionReport>,
        actions: &mut Vec<VenueAction>,
    ) {
        let Some(leg) = self.legs.get(id) else {
            reports.push(unknown_order(id, now));
            return;
        };
        match leg.phase {
            Phase::Held | Phase::Due => {
                self.finish(id, OrderStatus::Cancelled, now);
                reports.push(ExecutionReport::Cancelled {
                    id: id.clone(),
                    ts: now,
                });
                // An entry cancelled before it filled takes its held exits with it.
                for child in self.children(id) {
                    if matches!(self.legs[&child].phase, Phase::Held | Phase::Due) {
                        self.finish(&child, OrderStatus::Cancelled, now);
                        reports.push(ExecutionReport::Cancelled { id: child, ts: now });
                    }
                }
            }
            Phase::Working | Phase::Sending => {
                let partner = self.working_partner(id);
                let list_id = partner.as_ref().map(|_| self.list_id_of(id));
                actions.push(VenueAction::Cancel {
                    leg: id.clone(),
                    symbol: leg.request.symbol.clone(),
                    venue_id: leg.venue_id(),
                    list_id,
                });
                self.set_phase(id, Phase::Cancelling { replace: false });
                if let Some(partner) = partner {
                    // The list goes as a whole: the partner is placed again alone, unless it
                    // is being cancelled too.
                    let replace = !cancelled.contains(&&partner);
                    self.set_phase(&partner, Phase::Cancelling { replace });
                }
                for child in self.children(id) {
                    if matches!(self.legs[&child].phase, Phase::Held | Phase::Due) {
                        self.finish(&child, OrderStatus::Cancelled, now);
                        reports.push(ExecutionReport::Cancelled { id: child, ts: now });
                    }
                }
            }
            // Already on its way out, or finished: the venue's answer will tell.
            Phase::Cancelling { .. } => self.set_phase(id, Phase::Cancelling { replace: false }),
            Phase::Done { .. } => {}
        }
    }

    fn modify_stop(
        &mut self,
        id: &ClientOrderId,
        trigger: Decimal,
        now: Timestamp,
        reports: &mut Vec<ExecutionReport>,
        actions: &mut Vec<VenueAction>,
    ) {
        let Some(leg) = self.legs.get_mut(id).filter(|l| !l.is_done()) else {
            reports.push(unknown_order(id, now));
            return;
        };
        let OrderKind::Stop { trigger: current } = &mut leg.request.kind else {
            reports.push(ExecutionReport::Rejected {
                id: id.clone(),
                reason: "not a stop order".to_string(),
                ts: now,
            });
            return;
        };
        if *current == trigger {
            return;
        }
        *current = trigger;
        // Not at the venue yet, or being placed again: it goes out with the new trigger.
        if !matches!(leg.phase, Phase::Working | Phase::Sending) {
            return;
        }
        let partner = self.working_partner(id);
        let list_id = partner.as_ref().map(|_| self.list_id_of(id));
        let leg = &self.legs[id];
        actions.push(VenueAction::Cancel {
            leg: id.clone(),
            symbol: leg.request.symbol.clone(),
            venue_id: leg.venue_id(),
            list_id,
        });
        self.set_phase(id, Phase::Cancelling { replace: true });
        if let Some(partner) = partner {
            self.set_phase(&partner, Phase::Cancelling { replace: true });
        }
    }
}
