//! The exchange port (DESIGN §6): the one interface the execution stage trades through. The
//! in-process [`SimVenue`](super::SimVenue) and a remote venue behind the bridge
//! ([`BridgedVenue`](super::remote::BridgedVenue)) implement it; the execution actor, the
//! reconciliation at process start and the breaker know nothing else of a venue.
//!
//! Calls are futures so that a remote venue can answer later; the in-process venue answers at
//! once (its futures are ready when made, and the execution actor then settles them
//! synchronously, without a trip through the event loop).

use futures_util::future::LocalBoxFuture;

use crate::model::{Candle, ExecutionReport, Symbol, Timestamp};
use crate::runtime::RehydrateError;
use keel_core::execution::VenueSnapshot;
use keel_core::order_manager::OrderCommand;

/// What one venue call produced.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VenueAnswer {
    /// Reports for the order manager, in the venue's order.
    pub reports: Vec<ExecutionReport>,
    /// Requests inside the call that got no answer (the circuit breaker counts the call as
    /// failed when any did).
    pub failures: u32,
    /// When the venue's state holding the call's first new fills was journalled (a remote
    /// venue; the fill-to-journal latency of fills the venue pushed word of).
    pub fills_journalled_at: Option<std::time::SystemTime>,
}

impl VenueAnswer {
    /// An answer without failures.
    pub fn of(reports: Vec<ExecutionReport>) -> Self {
        Self {
            reports,
            ..Self::default()
        }
    }
}

/// Trading on the venue must stop: its state can no longer be journalled, so a request sent
/// now could not be recovered after a crash. It resumes once [`Venue::resume`] journals the
/// state again.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("trading on the venue halted: {reason}")]
pub struct VenueHalt {
    /// Why.
    pub reason: String,
    /// What the call learnt before it stopped: the order manager must still be told.
    pub reports: Vec<ExecutionReport>,
}

impl VenueHalt {
    /// A halt with nothing learnt before it.
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            reports: Vec::new(),
        }
    }
}

/// A venue call in progress.
pub type VenueFuture<'a, T> = LocalBoxFuture<'a, Result<T, VenueHalt>>;

/// A venue keel trades at: place, cancel and modify through the order manager's commands,
/// what happened on a bar (fills of resting orders), and every order it can answer for.
pub trait Venue {
    /// A short name for logs (`sim`, `binance`).
    fn name(&self) -> &'static str;

    /// Carries out the order manager's commands at `now`, in order.
    fn execute<'a>(
        &'a mut self,
        commands: &'a [OrderCommand],
        now: Timestamp,
    ) -> VenueFuture<'a, VenueAnswer>;

    /// A bar of `candle.symbol` closed: what the venue did on that symbol since the last one.
    fn bar_closed<'a>(&'a mut self, candle: &'a Candle) -> VenueFuture<'a, VenueAnswer>;

    /// Whether handling a bar of `symbol` is a request to the venue (and so subject to its
    /// circuit breaker). The in-process venue's matching runs whether keel can reach it or
    /// not: never. A remote venue: while it holds orders of `symbol`.
    fn bar_is_call(&self, symbol: &Symbol) -> bool;

    /// Whether reading the venue's news of `symbol` (`None`: of every symbol) is a request to
    /// it: only while it holds orders there. The in-process venue has no news: never.
    fn news_is_call(&self, _symbol: Option<&Symbol>) -> bool {
        false
    }

    /// The venue pushed word that orders of `symbol` (`None`: of any symbol) changed: what it
    /// did there since it was last asked, at `now` (the last bar's close). The in-process
    /// venue pushes nothing: nothing.
    fn news<'a>(
        &'a mut self,
        _symbol: Option<&'a Symbol>,
        _now: Timestamp,
    ) -> VenueFuture<'a, VenueAnswer> {
        Box::pin(std::future::ready(Ok(VenueAnswer::default())))
    }

    /// A harmless read, the breaker's trial call when there is no order to try with.
    fn probe<'a>(&'a mut self, symbol: &'a Symbol) -> VenueFuture<'a, VenueAnswer>;

    /// Every order the venue can answer for, once whatever was in doubt (placements without
    /// an answer, fills not fetched yet) has been resolved with it: what the order manager's
    /// journal is reconciled against when a process starts.
    fn snapshot<'a>(
        &'a mut self,
        symbols: &'a [Symbol],
        now: Timestamp,
    ) -> VenueFuture<'a, VenueSnapshot>;

    /// Rebuilds the venue's side from what it journalled (a restart of the execution actor).
    fn reload(&mut self) -> Result<(), RehydrateError>;

    /// After a [`VenueHalt`]: journals the venue's state as it stands, `Ok` once it is
    /// recorded again (trading may then resume). A venue that never halts: `Ok`.
    fn resume(&mut self) -> VenueFuture<'_, ()>;
}
