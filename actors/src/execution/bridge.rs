//! The bridge: the [`VenueBook`]'s actions carried out at a remote venue, and the venue's
//! news brought back as execution reports.
//!
//! Every request leaves only after the book (with the legs it concerns moved to `Sending` or
//! `Cancelling`) was journalled and flushed; its outcome is journalled as soon as it is known.
//! A placement whose outcome is unknown is resolved by querying its client id (inside
//! [`RemoteVenue::place`]), never by sending it again. When the book cannot be journalled,
//! nothing more is sent, but what was learnt before the failure still reaches the order
//! manager: a [`PersistError`] carries those reports.

use std::collections::HashSet;

use keel_binance::book::{CancelOutcome, PlaceOutcome, TradesBehind, VenueAction, VenueBook};
use keel_binance::RemoteVenue;
use keel_core::order_manager::OrderCommand;
use tracing::{info, warn};

use crate::journal::JournalError;
use crate::model::{ExecutionReport, Symbol, Timestamp};

/// Journals the book; `Err` stops the bridge before anything is sent.
pub type Persist = Box<dyn FnMut(&VenueBook) -> Result<(), JournalError>>;

/// The book and the venue it trades at.
pub struct Bridge<V> {
    venue: V,
    book: VenueBook,
    persist: Persist,
    /// Venue calls that failed since [`take_failures`](Bridge::take_failures) was last
    /// called: reads that got no answer, placements whose outcome stayed unknown.
    failures: u32,
    /// Reports of the call in progress, not yet handed back.
    unreported: Vec<ExecutionReport>,
    /// When the book first journalled new trades since it was last asked.
    fills_journalled_at: Option<std::time::SystemTime>,
}

/// The bridge could not journal its book: nothing more is sent until it can.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("journalling the venue book failed: {error}")]
pub struct PersistError {
    /// Why the write failed.
    pub error: JournalError,
    /// What the call learnt before it stopped (fills, confirmations): the order manager must
    /// still be told.
    pub reports: Vec<ExecutionReport>,
}

impl<V: RemoteVenue> Bridge<V> {
    /// A bridge over `venue`, starting from `book` (the journalled one after a restart).
    pub fn new(venue: V, book: VenueBook, persist: Persist) -> Self {
        Self {
            venue,
            book,
            persist,
            failures: 0,
            unreported: Vec::new(),
            fills_journalled_at: None,
        }
    }

    /// How many venue calls failed since the last call (for the venue's circuit breaker).
    pub fn take_failures(&mut self) -> u32 {
        std::mem::take(&mut self.failures)
    }

    /// When the book holding new trades was first journalled since the last call (for the
    /// fill-to-journal latency).
    pub fn take_fills_journalled_at(&mut self) -> Option<std::time::SystemTime> {
        self.fills_journalled_at.take()
    }

    /// The book.
    pub fn book(&self) -> &VenueBook {
        &self.book
    }

    /// The venue.
    pub fn venue(&self) -> &V {
        &self.venue
    }

    /// Carries out the order manager's commands; returns the reports for it.
    pub async fn execute(
        &mut self,
        commands: &[OrderCommand],
        now: Timestamp,
    ) -> Result<Vec<ExecutionReport>, PersistError> {
        let (reports, actions) = self.book.command(commands, now);
        self.unreported.extend(reports);
        self.save()?;
        self.carry_out(actions, now).await?;
        Ok(self.take_reports())
    }

    /// Journals the book as it stands (after a failed write): `Ok` once it is recorded again.
    pub fn persist(&mut self) -> Result<(), PersistError> {
        self.save()
    }

    /// Brings `symbol` in line with the venue: new trades become fills, orders that left the
    /// venue's open list are looked up, doubts are resolved, lost cancels repeated, and due
    /// exits placed. Does nothing (no request) when the symbol has nothing at the venue.
    pub async fn sync(
        &mut self,
        symbol: &Symbol,
        now: Timestamp,
    ) -> Result<Vec<ExecutionReport>, PersistError> {
        if !self.book.is_live(symbol) {
            return Ok(Vec::new());
        }
        self.fetch_trades(symbol).await?;
        let open = match self.venue.open_orders(symbol).await {
            Ok(open) => open,
            Err(error) => {
                self.failures += 1;
                warn!(symbol = %symbol, %error, "open orders unavailable: the venue is asked again at the next bar");
                return Ok(self.take_reports());
            }
        };
        let open_ids: HashSet<&str> = open.iter().map(|o| o.client_order_id.as_str()).collect();
        for (id, venue_id) in self.book.not_open(symbol, &open_ids) {
            let queried = match self.venue.query(symbol, &venue_id).await {
                Ok(q) => q,
                Err(error) => {
                    self.failures += 1;
                    warn!(order = %id, %error, "order status unavailable: asked again at the next bar");
                    continue;
                }
            };
            let mut settled = self.book.on_status(&id, queried.as_ref(), now);
            if settled == Err(TradesBehind) {
                self.fetch_trades(symbol).await?;
                settled = self.book.on_status(&id, queried.as_ref(), now);
            }
            match settled {
                Ok(r) => self.unreported.extend(r),
                Err(TradesBehind) => {
                    warn!(order = %id, "the venue's trades lag its order status: asked again at the next bar")
                }
            }
        }
        // Placements in doubt that the venue lists as open are adopted.
        for order in &open {
            let (logical, _) = keel_binance::book::parse_venue_id(&order.client_order_id);
            if let Some(id) = crate::model::ClientOrderId::new(logical) {
                let sending = self.book.leg(&id).is_some_and(|l| {
                    l.phase == keel_binance::book::Phase::Sending
                        && l.venue_id() == order.client_order_id
                });
                if sending {
                    let adopted = self.book.on_status(&id, Some(order), now);
                    self.unreported.extend(adopted.unwrap_or_default());
                }
            }
        }
        let mut actions = self.book.cancels_to_repeat(symbol, &open_ids);
        actions.extend(self.book.due_actions());
        self.save()?;
        self.carry_out(actions, now).await?;
        Ok(self.take_reports())
    }

    /// [`sync`](Self::sync) for every symbol with something at the venue (start-up).
    pub async fn sync_all(&mut self, now: Timestamp) -> Result<Vec<ExecutionReport>, PersistError> {
        let mut reports = Vec::new();
        for symbol in self.book.live_symbols() {
            match self.sync(&symbol, now).await {
                Ok(more) => reports.extend(more),
                Err(mut failed) => {
                    reports.append(&mut failed.reports);
                    failed.reports = reports;
                    return Err(failed);
                }
            }
        }
        Ok(reports)
    }

    /// The symbol's new trades at the venue, as fills of the book's legs.
    async fn fetch_trades(&mut self, symbol: &Symbol) -> Result<(), PersistError> {
        let after = self.book.last_trade(symbol);
        match self.venue.trades(symbol, after).await {
            Ok(trades) => {
                let reports = self.book.on_trades(symbol, &trades);
                if !trades.is_empty() {
                    info!(symbol = %symbol, trades = trades.len(), fills = reports.len(), "venue trades");
                }
                self.unreported.extend(reports);
                if !trades.is_empty() {
                    self.save()?;
                    self.fills_journalled_at
                        .get_or_insert_with(std::time::SystemTime::now);
                }
            }
            Err(error) => {
                self.failures += 1;
                warn!(symbol = %symbol, %error, "trades unavailable: asked again at the next bar");
            }
        }
        Ok(())
    }

    /// Sends each action (the book was journalled with it), journalling each outcome.
    async fn carry_out(
        &mut self,
        mut actions: Vec<VenueAction>,
        now: Timestamp,
    ) -> Result<(), PersistError> {
        // Exits that did not arrive become due again under a new id; a venue that keeps
        // failing gets them at the next sync rather than in a loop here.
        let mut rounds = 0;
        while !actions.is_empty() && rounds < 3 {
            rounds += 1;
            for action in std::mem::take(&mut actions) {
                match &action {
                    VenueAction::Cancel { .. } => {
                        let outcome = self.venue.cancel(&action).await;
                        let outcome_name = match &outcome {
                            CancelOutcome::Cancelled => "cancelled",
                            CancelOutcome::Unsettled => "unsettled",
                        };
                        info!(legs = %legs_of(&action), outcome = outcome_name, "venue cancel");
                        let reports = self.book.cancelled(&action, &outcome, now);
                        self.unreported.extend(reports);
                    }
                    _ => {
                        let outcome = self.venue.place(&action).await;
                        let (outcome_name, detail) = describe(&outcome);
                        info!(legs = %legs_of(&action), outcome = outcome_name, %detail, "venue placement");
                        if let PlaceOutcome::Refused(reason) | PlaceOutcome::Unresolved(reason) =
                            &outcome
                        {
                            warn!(legs = %legs_of(&action), %reason, "placement not confirmed");
                        }
                        if matches!(outcome, PlaceOutcome::Unresolved(_)) {
                            self.failures += 1;
                        }
                        let reports = self.book.placed(&action, &outcome, now);
                        self.unreported.extend(reports);
                    }
                }
                self.save()?;
            }
            // Confirmed cancels of moved stops make them due again: place them now.
            actions = self.book.due_actions();
            if !actions.is_empty() {
                self.save()?;
                info!(count = actions.len(), "placing exits");
            }
        }
        Ok(())
    }

    /// The reports gathered since the last call.
    fn take_reports(&mut self) -> Vec<ExecutionReport> {
        std::mem::take(&mut self.unreported)
    }

    /// Journals the book; on failure, the reports gathered so far go with the error.
    fn save(&mut self) -> Result<(), PersistError> {
        (self.persist)(&self.book).map_err(|error| PersistError {
            error,
            reports: self.take_reports(),
        })
    }
}

/// The client ids of an action's legs, for a log line (`a,b`).
fn legs_of(action: &VenueAction) -> String {
    let legs: Vec<String> = action.legs().iter().map(|l| l.to_string()).collect();
    legs.join(",")
}

/// A placement's outcome as a name and its detail, for a log line.
fn describe(outcome: &PlaceOutcome) -> (&'static str, String) {
    match outcome {
        PlaceOutcome::Placed(ids) => {
            let ids: Vec<String> = ids.iter().map(|(leg, id)| format!("{leg}={id}")).collect();
            ("placed", ids.join(","))
        }
        PlaceOutcome::Refused(reason) => ("refused", reason.clone()),
        PlaceOutcome::NotPlaced => ("not_placed", String::new()),
        PlaceOutcome::Crossed { last } => ("crossed", format!("last price {last}")),
        PlaceOutcome::Unresolved(reason) => ("unresolved", reason.clone()),
    }
}
