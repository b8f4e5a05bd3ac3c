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

mod command;
mod observe;
mod outcome;
mod resize;
mod view;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::{
    ClientOrderId, ExecutionReport, Fill, OrderKind, OrderRequest, OrderStatus, Symbol, Timestamp,
};

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
    pub(super) unmatched: Vec<crate::wire::MyTrade>,
    /// Each symbol's lot step: exits cut to what an entry left held are whole steps. The
    /// venue's rule, not state: set from its filters at every start, never journalled.
    #[serde(skip)]
    pub(super) lot_steps: BTreeMap<Symbol, Decimal>,
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

pub(super) fn new_leg(
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

pub(super) fn place(leg: &Leg) -> VenueAction {
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

pub(super) fn unknown_order(id: &ClientOrderId, ts: Timestamp) -> ExecutionReport {
    ExecutionReport::Rejected {
        id: id.clone(),
        reason: crate::execution::UNKNOWN_ORDER.to_string(),
        ts,
    }
}
