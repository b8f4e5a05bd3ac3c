//! A remote venue behind the exchange port: the [`Bridge`] carries the order manager's
//! commands out through the venue book and asks the venue what happened as bars close.
//!
//! The bridge journals the book before every request leaves; a journal that cannot be written
//! halts trading on the venue (the execution actor refuses every later command unsent) until
//! the book can be journalled again.

use crate::execution::bridge::{Bridge, PersistError};
use crate::journal::{Journal, SledStore};
use crate::model::{
    Candle, ClientOrderId, ExecutionReport, OrderKind, OrderPurpose, OrderRequest, OrderStatus,
    Side, Symbol, Timestamp,
};
use crate::runtime::RehydrateError;
use keel_binance::book::{parse_venue_id, RemoteVenueView, VenueBook};
use keel_binance::wire::{OrderSide, OrderType, QueriedOrder};
use keel_binance::RemoteVenue;
use keel_core::order_manager::OrderCommand;

use super::{Venue, VenueAnswer, VenueFuture, VenueHalt};
use crate::execution::bridge::Persist;
use keel_core::execution::{VenueOrder, VenueSnapshot};

/// Journals the book in `journal` (flushed); without a journal nothing is kept.
pub fn persist_to(journal: Option<Journal<SledStore>>) -> Persist {
    match journal {
        Some(mut journal) => Box::new(move |book: &VenueBook| journal.save_venue_book(book)),
        None => Box::new(|_: &VenueBook| Ok(())),
    }
}

/// The halt a failed write of the book means, with what the call learnt before it.
fn halt(failed: PersistError) -> VenueHalt {
    VenueHalt {
        reason: failed.to_string(),
        reports: failed.reports,
    }
}

/// A remote venue, its book, and the journal the book is kept in.
pub struct BridgedVenue<V> {
    bridge: Bridge<V>,
    journal: Option<Journal<SledStore>>,
}

impl<V: RemoteVenue + Clone> BridgedVenue<V> {
    /// Trades at `venue` from `book` (the journalled one after a restart), journalling it.
    pub fn new(venue: V, book: VenueBook, journal: Option<Journal<SledStore>>) -> Self {
        Self {
            bridge: Bridge::new(venue, book, persist_to(journal.clone())),
            journal,
        }
    }

    /// The bridge (its book and venue).
    pub fn bridge(&mut self) -> &mut Bridge<V> {
        &mut self.bridge
    }

    /// The call's reports with the failures the bridge counted during it.
    fn answer(
        &mut self,
        result: Result<Vec<ExecutionReport>, PersistError>,
    ) -> Result<VenueAnswer, VenueHalt> {
        let failures = self.bridge.take_failures();
        let reports = result.map_err(halt)?;
        Ok(VenueAnswer {
            reports,
            failures,
            fills_journalled_at: self.bridge.take_fills_journalled_at(),
        })
    }

    /// Open orders at the venue that no leg of the book accounts for.
    async fn foreign_orders(&self, symbols: &[Symbol]) -> Result<Vec<VenueOrder>, String> {
        let mut foreign = Vec::new();
        for symbol in symbols {
            let open = self
                .bridge
                .venue()
                .open_orders(symbol)
                .await
                .map_err(|e| format!("listing the open orders of {symbol}: {e}"))?;
            for order in open {
                let (logical, revision) = parse_venue_id(&order.client_order_id);
                let known = ClientOrderId::new(logical)
                    .and_then(|id| self.bridge.book().leg(&id).map(|l| l.revision == revision))
                    .unwrap_or(false);
                if !known {
                    foreign.push(as_venue_order(symbol, &order));
                }
            }
        }
        Ok(foreign)
    }
}

impl<V: RemoteVenue + Clone + 'static> Venue for BridgedVenue<V> {
    fn name(&self) -> &'static str {
        "remote"
    }

    fn execute<'a>(
        &'a mut self,
        commands: &'a [OrderCommand],
        now: Timestamp,
    ) -> VenueFuture<'a, VenueAnswer> {
        Box::pin(async move {
            let result = self.bridge.execute(commands, now).await;
            self.answer(result)
        })
    }

    fn bar_closed<'a>(&'a mut self, candle: &'a Candle) -> VenueFuture<'a, VenueAnswer> {
        Box::pin(async move {
            let result = self.bridge.sync(&candle.symbol, candle.close_time()).await;
            self.answer(result)
        })
    }

    fn bar_is_call(&self, symbol: &Symbol) -> bool {
        self.bridge.book().is_live(symbol)
    }

    fn news_is_call(&self, symbol: Option<&Symbol>) -> bool {
        let book = self.bridge.book();
        match symbol {
            Some(symbol) => book.is_live(symbol),
            None => !book.live_symbols().is_empty(),
        }
    }

    /// Reads the symbol's trades and orders as at a bar's close: a trade already applied (by
    /// an earlier read, or the bar's) is skipped by its id, one missed by the stream is read.
    fn news<'a>(
        &'a mut self,
        symbol: Option<&'a Symbol>,
        now: Timestamp,
    ) -> VenueFuture<'a, VenueAnswer> {
        Box::pin(async move {
            let result = match symbol {
                Some(symbol) => self.bridge.sync(symbol, now).await,
                None => self.bridge.sync_all(now).await,
            };
            self.answer(result)
        })
    }

    fn probe<'a>(&'a mut self, symbol: &'a Symbol) -> VenueFuture<'a, VenueAnswer> {
        Box::pin(async move {
            let failures = match self.bridge.venue().open_orders(symbol).await {
                Ok(_) => 0,
                Err(error) => {
                    tracing::warn!(symbol = %symbol, %error, "the venue's trial call failed");
                    1
                }
            };
            Ok(VenueAnswer {
                failures,
                ..VenueAnswer::default()
            })
        })
    }

    /// Resolves every doubt the book holds (fills not fetched, placements without an
    /// answer), then answers from the book, plus the venue's open orders the book does not
    /// account for (so that they are reported instead of ignored).
    fn snapshot<'a>(
        &'a mut self,
        symbols: &'a [Symbol],
        now: Timestamp,
    ) -> VenueFuture<'a, VenueSnapshot> {
        Box::pin(async move {
            self.bridge.sync_all(now).await.map_err(halt)?;
            let foreign = self.foreign_orders(symbols).await.map_err(VenueHalt::new)?;
            Ok(VenueSnapshot::of(&RemoteVenueView {
                book: self.bridge.book(),
                foreign: &foreign,
            }))
        })
    }

    /// Rebuilds the bridge from the journalled book.
    fn reload(&mut self) -> Result<(), RehydrateError> {
        let journal = self
            .journal
            .as_ref()
            .ok_or(RehydrateError::NoJournal("the venue book"))?;
        let mut book = journal.venue_book()?.unwrap_or_default();
        book.keep_lot_steps_of(self.bridge.book());
        self.bridge = Bridge::new(
            self.bridge.venue().clone(),
            book,
            persist_to(self.journal.clone()),
        );
        Ok(())
    }

    fn resume(&mut self) -> VenueFuture<'_, ()> {
        Box::pin(async move { self.bridge.persist().map_err(halt) })
    }
}

/// A venue order keel does not know, in the shape reconciliation reports.
fn as_venue_order(symbol: &Symbol, order: &QueriedOrder) -> VenueOrder {
    let kind = match order.order_type {
        OrderType::Market => OrderKind::Market,
        OrderType::StopLoss | OrderType::StopLossLimit => OrderKind::Stop {
            trigger: order.stop_price,
        },
        _ => OrderKind::Limit { price: order.price },
    };
    let id = ClientOrderId::new(order.client_order_id.as_str())
        .or_else(|| ClientOrderId::new(format!("venue-{}", order.order_id)))
        .expect("a non-empty id");
    VenueOrder {
        request: OrderRequest {
            client_order_id: id,
            symbol: symbol.clone(),
            side: match order.side {
                OrderSide::Buy => Side::Buy,
                OrderSide::Sell => Side::Sell,
            },
            qty: order.orig_qty,
            kind,
            purpose: OrderPurpose::Entry,
            oco_group: None,
            attached: Vec::new(),
            created: Timestamp(order.time),
        },
        parent: None,
        status: OrderStatus::Accepted,
        fills: Vec::new(),
        finished_at: None,
    }
}
