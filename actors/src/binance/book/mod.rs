//! The venue book: keel's orders as a spot venue without linked orders carries them.
//!
//! keel's order manager sends an entry with its exits attached (one-triggers-other) and
//! pairs each tranche's stop-loss with its take-profit (one-cancels-other). Binance's plain
//! order endpoint links nothing, so the book does it on keel's side:
//!
//! - an entry is placed alone; its exits are **held** until the entry has filled, then
//!   placed: a stop with its take-profit as one OCO order list (the two share one locked
//!   balance and the venue cancels one when the other fills), a lone stop or take-profit as a
//!   single order;
//! - moving a stop cancels its order (list) and places it again, with the new trigger, under
//!   a new revision of its client id (`{id}.{revision}`): a client order id is never sent twice;
//! - cancelling one leg of a pair cancels the list and places the other leg again alone;
//! - an exit the venue refuses because the market already crossed its price (the stop would
//!   trigger, the take-profit would take) is what would have filled: that leg is sold at the
//!   market instead, and its partner cancelled. An exit refused for any other reason is
//!   reported cancelled, loudly: the position is then unprotected.
//!
//! Every venue call is an [`VenueAction`] taken from the book, which first moves the legs
//! concerned into `Sending` or `Cancelling`: the caller journals the book (flushed) **before**
//! the request leaves the process, and reports the outcome back. After a crash, a leg found
//! `Sending` is resolved by querying its client id, never by sending it again; a leg found
//! `Cancelling` is resolved by its status. The book is pure: no I/O, no clock.

mod observe;
mod view;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::{
    ClientOrderId, ExecutionReport, Fill, OrderKind, OrderRequest, OrderStatus, Symbol, Timestamp,
};
use crate::order_manager::OrderCommand;

pub use observe::TradesBehind;
pub use view::RemoteVenueView;

/// The reason given to the order manager for an order that never reached the venue.
pub const NEVER_REACHED: &str = crate::order_manager::NEVER_REACHED;

/// How many finished legs the book remembers (for reconciliation after a restart); the
/// oldest are forgotten first.
pub const FINISHED_LEGS_KEPT: usize = 1_000;

/// Where a leg is in its life at the venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "phase")]
pub enum Phase {
    /// An exit waiting for its entry to fill.
    Held,
    /// To be placed (its entry filled, or it is being placed again).
    Due,
    /// Its placement is journalled; whether it reached the venue is not known yet.
    Sending,
    /// Open at the venue.
    Working,
    /// Its cancel is journalled; `replace` places it again afterwards (a moved stop, or the
    /// partner of a cancelled leg).
    Cancelling {
        /// Place it again once the cancel is confirmed.
        replace: bool,
    },
    /// Finished: filled, cancelled, rejected or expired.
    Done {
        /// How it finished.
        status: OrderStatus,
    },
}

/// One of keel's orders as the book tracks it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Leg {
    /// The order (children not attached; a moved stop carries its current trigger).
    pub request: OrderRequest,
    /// The entry it is attached to.
    pub parent: Option<ClientOrderId>,
    /// Its one-cancels-other partner (same parent and group).
    pub partner: Option<ClientOrderId>,
    /// How many times it was (re)placed under a new client id.
    pub revision: u32,
    /// Where it is.
    pub phase: Phase,
    /// The venue's order id of the current revision, once known.
    pub venue_order_id: Option<u64>,
    /// The fills applied so far.
    pub fills: Vec<Fill>,
    /// When it finished.
    pub finished_at: Option<Timestamp>,
    /// Sold at the market instead: the market had already crossed its price.
    #[serde(default)]
    pub at_market: bool,
}

impl Leg {
    /// The client id the venue knows this revision by: the order's id, then `{id}_{n}`
    /// (keel's ids never end in `_` and digits).
    pub fn venue_id(&self) -> String {
        venue_id(&self.request.client_order_id, self.revision)
    }

    /// Quantity filled so far.
    pub fn executed(&self) -> Decimal {
        self.fills.iter().map(|f| f.qty).sum()
    }

    fn is_done(&self) -> bool {
        matches!(self.phase, Phase::Done { .. })
    }
}

/// The client id of revision `revision` of `id`.
pub fn venue_id(id: &ClientOrderId, revision: u32) -> String {
    if revision == 0 {
        id.as_str().to_string()
    } else {
        format!("{id}_{revision}")
    }
}

/// The logical id and revision of a venue client id made by [`venue_id`].
pub fn parse_venue_id(venue_id: &str) -> (&str, u32) {
    match venue_id.rsplit_once('_') {
        Some((id, rev)) if !rev.is_empty() && rev.bytes().all(|b| b.is_ascii_digit()) => {
            (id, rev.parse().unwrap_or(0))
        }
        _ => (venue_id, 0),
    }
}

/// One request to the venue, taken from the book.
#[derive(Debug, Clone, PartialEq)]
pub enum VenueAction {
    /// Place one order under `venue_id`.
    Place {
        /// The leg.
        leg: ClientOrderId,
        /// Its client id at the venue.
        venue_id: String,
        /// What to place.
        request: OrderRequest,
    },
    /// Place a stop-loss and a take-profit of one tranche as an OCO sell list.
    PlaceOco {
        /// The list's client id.
        list_id: String,
        /// The symbol.
        symbol: Symbol,
        /// The tranche's quantity.
        qty: Decimal,
        /// The stop leg and its venue client id.
        stop: (ClientOrderId, String),
        /// Its trigger.
        trigger: Decimal,
        /// The take-profit leg and its venue client id.
        take_profit: (ClientOrderId, String),
        /// Its limit price.
        price: Decimal,
    },
    /// Cancel a leg's current order (its whole list when it has a partner at the venue).
    Cancel {
        /// The leg.
        leg: ClientOrderId,
        /// The symbol.
        symbol: Symbol,
        /// Its client id at the venue.
        venue_id: String,
        /// Its list's client id, when it is one of an OCO pair.
        list_id: Option<String>,
    },
}

impl VenueAction {
    /// The legs the action is about.
    pub fn legs(&self) -> Vec<&ClientOrderId> {
        match self {
            VenueAction::Place { leg, .. } | VenueAction::Cancel { leg, .. } => vec![leg],
            VenueAction::PlaceOco {
                stop, take_profit, ..
            } => vec![&stop.0, &take_profit.0],
        }
    }
}

/// How a placement ended.
#[derive(Debug, Clone, PartialEq)]
pub enum PlaceOutcome {
    /// The venue holds it: the venue order id of each venue client id placed.
    Placed(Vec<(String, u64)>),
    /// The venue refused it (a definitive 4xx): nothing was placed.
    Refused(String),
    /// The venue does not hold it: it never arrived (or was refused), as a query confirmed.
    NotPlaced,
    /// Refused because the market already crossed an exit's price; `last` is the market
    /// price then.
    Crossed {
        /// The venue's last price.
        last: Decimal,
    },
    /// Still unknown (the venue could not be asked): resolved later by query.
    Unresolved(String),
}

/// How a cancel ended.
#[derive(Debug, Clone, PartialEq)]
pub enum CancelOutcome {
    /// The venue cancelled it.
    Cancelled,
    /// The venue no longer holds it open (it filled or finished meanwhile), or the cancel's
    /// outcome is unknown: its status decides, at the next look.
    Unsettled,
}

/// keel's orders at one remote venue; see the module docs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VenueBook {
    /// Every leg not yet forgotten, by keel's client order id.
    pub(super) legs: BTreeMap<ClientOrderId, Leg>,
    /// Finished legs, oldest first (forgotten past [`FINISHED_LEGS_KEPT`]).
    pub(super) finished: Vec<ClientOrderId>,
    /// The last venue trade id seen, per symbol.
    pub(super) last_trade: BTreeMap<Symbol, u64>,
    /// Trades of orders whose venue id is not known yet (placed, then the answer was lost):
    /// applied once a query tells which leg they belong to.
    #[serde(default)]
    pub(super) unmatched: Vec<crate::binance::wire::MyTrade>,
}

impl VenueBook {
    /// An empty book.
    pub fn new() -> Self {
        Self::default()
    }

    /// A leg, by keel's client order id.
    pub fn leg(&self, id: &ClientOrderId) -> Option<&Leg> {
        self.legs.get(id)
    }

    /// The legs of `symbol`, by client order id.
    pub fn legs_of<'a>(
        &'a self,
        symbol: &'a Symbol,
    ) -> impl Iterator<Item = (&'a ClientOrderId, &'a Leg)> {
        self.legs
            .iter()
            .filter(move |(_, l)| &l.request.symbol == symbol)
    }

    /// The last venue trade id seen for `symbol` (0 before any).
    pub fn last_trade(&self, symbol: &Symbol) -> u64 {
        self.last_trade.get(symbol).copied().unwrap_or(0)
    }

    /// Whether `symbol` has legs the venue may change (working, being placed or cancelled):
    /// only then is it worth asking the venue.
    pub fn is_live(&self, symbol: &Symbol) -> bool {
        self.legs.values().any(|l| {
            &l.request.symbol == symbol
                && matches!(
                    l.phase,
                    Phase::Working | Phase::Sending | Phase::Cancelling { .. } | Phase::Due
                )
        })
    }

    /// The symbols with live legs.
    pub fn live_symbols(&self) -> Vec<Symbol> {
        let mut symbols: Vec<Symbol> = self
            .legs
            .values()
            .map(|l| l.request.symbol.clone())
            .collect();
        symbols.sort();
        symbols.dedup();
        symbols.retain(|s| self.is_live(s));
        symbols
    }

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
    fn settle_cancel(&mut self, id: &ClientOrderId, now: Timestamp) -> Option<ExecutionReport> {
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

    /// Legs whose placement or cancel is still unresolved (after a crash, or when the venue
    /// could not be asked): placements to query by client id, cancels to settle by status.
    pub fn unresolved(&self) -> Vec<&Leg> {
        self.legs
            .values()
            .filter(|l| matches!(l.phase, Phase::Sending | Phase::Cancelling { .. }))
            .collect()
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

    /// The partner of `id` when it is at the venue in the same list.
    fn working_partner(&self, id: &ClientOrderId) -> Option<ClientOrderId> {
        let partner = self.legs.get(id)?.partner.clone()?;
        let p = self.legs.get(&partner)?;
        matches!(p.phase, Phase::Working | Phase::Sending).then_some(partner)
    }

    /// The list id of the OCO pair `id` belongs to (named after the pair's stop).
    fn list_id_of(&self, id: &ClientOrderId) -> String {
        let leg = &self.legs[id];
        let stop = match (leg.request.kind, &leg.partner) {
            (OrderKind::Stop { .. }, _) | (_, None) => leg,
            (_, Some(partner)) => &self.legs[partner],
        };
        list_id(&stop.venue_id())
    }

    fn children(&self, parent: &ClientOrderId) -> Vec<ClientOrderId> {
        self.legs
            .iter()
            .filter(|(_, l)| l.parent.as_ref() == Some(parent))
            .map(|(id, _)| id.clone())
            .collect()
    }

    fn set_phase(&mut self, id: &ClientOrderId, phase: Phase) {
        if let Some(leg) = self.legs.get_mut(id) {
            if !leg.is_done() {
                leg.phase = phase;
            }
        }
    }

    /// Finishes a leg, forgetting the oldest finished families past the bound.
    fn finish(&mut self, id: &ClientOrderId, status: OrderStatus, at: Timestamp) {
        let Some(leg) = self.legs.get_mut(id) else {
            return;
        };
        if leg.is_done() {
            return;
        }
        leg.phase = Phase::Done { status };
        leg.finished_at = Some(at);
        self.finished.push(id.clone());
        if self.finished.len() > 2 * FINISHED_LEGS_KEPT {
            let forget: Vec<ClientOrderId> = self
                .finished
                .drain(..self.finished.len() - FINISHED_LEGS_KEPT)
                .collect();
            for id in forget {
                // A leg whose family still has live members stays (it may be asked about).
                let family_live = self.legs.get(&id).is_some_and(|l| {
                    let root = l.parent.clone().unwrap_or_else(|| id.clone());
                    self.legs
                        .values()
                        .any(|o| (o.parent.as_ref() == Some(&root)) && !o.is_done())
                });
                if !family_live {
                    self.legs.remove(&id);
                }
            }
        }
    }
}

/// The list client id of an OCO pair whose stop has venue client id `stop_venue_id`.
pub fn list_id(stop_venue_id: &str) -> String {
    format!("{stop_venue_id}L")
}

fn new_leg(
    request: OrderRequest,
    parent: Option<ClientOrderId>,
    partner: Option<ClientOrderId>,
    phase: Phase,
) -> Leg {
    Leg {
        request,
        parent,
        partner,
        revision: 0,
        phase,
        venue_order_id: None,
        fills: Vec::new(),
        finished_at: None,
        at_market: false,
    }
}

fn place(leg: &Leg) -> VenueAction {
    let mut request = leg.request.clone();
    if leg.at_market {
        request.kind = OrderKind::Market;
    }
    VenueAction::Place {
        leg: leg.request.client_order_id.clone(),
        venue_id: leg.venue_id(),
        request,
    }
}

fn unknown_order(id: &ClientOrderId, ts: Timestamp) -> ExecutionReport {
    ExecutionReport::Rejected {
        id: id.clone(),
        reason: crate::execution::UNKNOWN_ORDER.to_string(),
        ts,
    }
}
