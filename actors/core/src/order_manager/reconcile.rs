//! Reconciliation after a restart (DESIGN §5): every order the journal left open is resolved
//! by asking the venue about its client order id, never by resubmitting it.

use std::collections::HashSet;
use std::fmt;

use super::{OmUpdate, OrderCommand, OrderManager};
use crate::execution::VenueView;
use crate::model::{
    ClientOrderId, ClosedTrade, Decimal, ExecutionReport, OrderKind, OrderStatus, Side, Symbol,
    Timestamp, TradeId,
};

/// The reason recorded on an order the venue never received.
pub const NEVER_REACHED: &str = "never reached the venue";

/// One difference between the journal and the venue, and what was done about it.
#[derive(Debug, Clone, PartialEq)]
pub enum Discrepancy {
    /// The venue does not know an order the journal had not seen acknowledged: it never left
    /// the process (or was refused). It is rejected with its attached children, not resent.
    NeverReachedVenue {
        /// The order.
        id: ClientOrderId,
        /// Its status in the journal.
        was: OrderStatus,
    },
    /// A fill the venue made that the journal had not applied; applied now (once).
    FillRecovered {
        /// The order.
        id: ClientOrderId,
        /// The venue's trade id.
        trade_id: TradeId,
        /// Quantity filled.
        qty: Decimal,
        /// Fill price.
        price: Decimal,
    },
    /// The venue's status replaced the journal's.
    StatusResolved {
        /// The order.
        id: ClientOrderId,
        /// Status in the journal.
        from: OrderStatus,
        /// Status now.
        to: OrderStatus,
    },
    /// The journal has a working order the venue does not know: left open (it keeps blocking
    /// its symbol) for an operator to resolve.
    MissingAtVenue {
        /// The order.
        id: ClientOrderId,
        /// Its status in the journal.
        status: OrderStatus,
    },
    /// The venue finished an order the journal still holds open even after the venue's fills
    /// were applied: left open for an operator to resolve.
    Disagreement {
        /// The order.
        id: ClientOrderId,
        /// Its status in the journal after reconciliation.
        journal: OrderStatus,
        /// Its status at the venue.
        venue: OrderStatus,
    },
    /// A stop move the journal recorded never reached the venue (the process died between
    /// the write-ahead and the venue): the journal's trigger is sent again. Moving a stop of
    /// an order both sides hold is idempotent, unlike submitting one.
    StopRestored {
        /// The stop order.
        id: ClientOrderId,
        /// The trigger the venue held.
        venue: Decimal,
        /// The trigger the journal holds, sent to the venue.
        journal: Decimal,
    },
    /// The venue holds (or recently finished) an order the journal does not know.
    UnknownToOrderManager {
        /// The order.
        id: ClientOrderId,
        /// Its pair.
        symbol: Symbol,
        /// Its status at the venue.
        status: OrderStatus,
    },
    /// The venue holds an exit cut to what its entry left held (the entry's fee was
    /// withheld from the base asset) and the journal had not recorded the cut: taken.
    ExitResized {
        /// The exit.
        id: ClientOrderId,
        /// Its quantity in the journal.
        journal: Decimal,
        /// Its quantity at the venue, now the journal's.
        venue: Decimal,
    },
}

impl Discrepancy {
    /// Whether this difference is still open after reconciliation (trading should stay halted
    /// until an operator looks at it).
    pub fn is_unresolved(&self) -> bool {
        matches!(
            self,
            Discrepancy::MissingAtVenue { .. }
                | Discrepancy::Disagreement { .. }
                | Discrepancy::UnknownToOrderManager { .. }
        )
    }
}

impl fmt::Display for Discrepancy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Discrepancy::ExitResized { id, journal, venue } => write!(
                f,
                "order {id}: {journal} in the journal, cut to {venue} at the venue to what its \
                 entry left held; taken"
            ),
            Discrepancy::NeverReachedVenue { id, was } => write!(
                f,
                "order {id} ({was:?} in the journal): {NEVER_REACHED}; rejected, not resubmitted"
            ),
            Discrepancy::FillRecovered {
                id,
                trade_id,
                qty,
                price,
            } => write!(
                f,
                "order {id}: fill {} of {qty} at {price} recovered from the venue and applied",
                trade_id.0
            ),
            Discrepancy::StatusResolved { id, from, to } => {
                write!(
                    f,
                    "order {id}: {from:?} in the journal, {to:?} at the venue"
                )
            }
            Discrepancy::MissingAtVenue { id, status } => write!(
                f,
                "order {id}: {status:?} in the journal but unknown to the venue; left open \
                 (UNRESOLVED)"
            ),
            Discrepancy::Disagreement { id, journal, venue } => write!(
                f,
                "order {id}: {journal:?} in the journal but {venue:?} at the venue; left open \
                 (UNRESOLVED)"
            ),
            Discrepancy::StopRestored { id, venue, journal } => write!(
                f,
                "order {id}: stop at {venue} at the venue, {journal} in the journal; moved to {journal}"
            ),
            Discrepancy::UnknownToOrderManager { id, symbol, status } => write!(
                f,
                "venue order {id} ({symbol}, {status:?}) is not in the journal (UNRESOLVED)"
            ),
        }
    }
}

/// What reconciliation found and did: readable in a log through `Display`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReconciliationReport {
    /// When it ran (event time).
    pub ts: Timestamp,
    /// Open orders of the journal that were looked up at the venue.
    pub checked: usize,
    /// Every difference, in the order found.
    pub discrepancies: Vec<Discrepancy>,
    /// Commands the recovered fills produced (break-even stops, clean-up cancels): send them
    /// to the venue like any other.
    pub commands: Vec<OrderCommand>,
    /// Round trips the recovered fills completed (for risk's cooldowns and the report).
    pub closed: Vec<ClosedTrade>,
}

impl ReconciliationReport {
    /// The journal and the venue agreed: nothing was changed.
    pub fn is_clean(&self) -> bool {
        self.discrepancies.is_empty()
    }

    /// Nothing is left for an operator: every difference was resolved.
    pub fn is_resolved(&self) -> bool {
        !self.discrepancies.iter().any(Discrepancy::is_unresolved)
    }

    fn count(&self, pick: fn(&Discrepancy) -> bool) -> usize {
        self.discrepancies.iter().filter(|d| pick(d)).count()
    }
}

impl fmt::Display for ReconciliationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Discrepancy as D;
        write!(
            f,
            "reconciliation at {}: {} open order(s) checked; {} never reached the venue, {} \
             fill(s) recovered, {} status change(s), {} unresolved",
            self.ts,
            self.checked,
            self.count(|d| matches!(d, D::NeverReachedVenue { .. })),
            self.count(|d| matches!(d, D::FillRecovered { .. })),
            self.count(|d| matches!(d, D::StatusResolved { .. })),
            self.count(Discrepancy::is_unresolved),
        )?;
        if self.is_clean() {
            f.write_str(" (clean)")?;
        }
        for d in &self.discrepancies {
            write!(f, "\n  - {d}")?;
        }
        Ok(())
    }
}

/// Brings the order manager in line with what `venue` knows, at event time `ts`: each order
/// the journal holds open is queried by client order id. Unknown to the venue and never
/// acknowledged (`PendingSubmit`, `Submitted`, `Unknown`): rejected as never having reached it,
/// with its children, and never resubmitted, which unblocks its symbol. Known: its missing
/// fills are applied (exactly once, by trade id) and the venue's status is taken. Venue orders
/// the journal does not know are reported. Send the report's `commands` to the venue.
pub fn reconcile(
    om: &mut OrderManager,
    venue: &impl VenueView,
    ts: Timestamp,
) -> ReconciliationReport {
    reconcile_except(om, venue, ts, &HashSet::new())
}

/// [`reconcile`], leaving alone the orders in `unsent`: commands about them were journalled
/// and are known, in this very process, never to have been handed to the venue (an actor
/// restart between the write-ahead and the send). They are not in doubt, so the caller sends
/// those commands itself instead of having the orders rejected as never reached.
pub fn reconcile_except(
    om: &mut OrderManager,
    venue: &impl VenueView,
    ts: Timestamp,
    unsent: &HashSet<ClientOrderId>,
) -> ReconciliationReport {
    let mut report = ReconciliationReport {
        ts,
        checked: 0,
        discrepancies: Vec::new(),
        commands: Vec::new(),
        closed: Vec::new(),
    };
    let open: Vec<ClientOrderId> = om
        .all_open_orders()
        .map(|o| o.id().clone())
        .filter(|id| !unsent.contains(id))
        .collect();
    for id in open {
        // An order resolved together with its parent is not looked up again.
        let Some(was) = om.order(&id).map(|o| o.status).filter(|s| s.is_open()) else {
            continue;
        };
        report.checked += 1;
        match venue.order(&id) {
            None if matches!(
                was,
                OrderStatus::PendingSubmit | OrderStatus::Submitted | OrderStatus::Unknown
            ) =>
            {
                om.on_execution(&ExecutionReport::Rejected {
                    id: id.clone(),
                    reason: NEVER_REACHED.to_string(),
                    ts,
                });
                report
                    .discrepancies
                    .push(Discrepancy::NeverReachedVenue { id, was });
            }
            None => report
                .discrepancies
                .push(Discrepancy::MissingAtVenue { id, status: was }),
            Some(at_venue) => {
                let journal_qty = om
                    .order(&id)
                    .map_or(at_venue.request.qty, |o| o.request.qty);
                let cut_exit = at_venue.request.side == Side::Sell
                    && at_venue.request.qty < journal_qty
                    && at_venue.request.qty > Decimal::ZERO;
                if cut_exit {
                    om.on_execution(&ExecutionReport::Resized {
                        id: id.clone(),
                        qty: at_venue.request.qty,
                        ts,
                    });
                    report.discrepancies.push(Discrepancy::ExitResized {
                        id: id.clone(),
                        journal: journal_qty,
                        venue: at_venue.request.qty,
                    });
                }
                for fill in &at_venue.fills {
                    if om.has_applied(fill.trade_id) {
                        continue;
                    }
                    let update = om.on_execution(&ExecutionReport::Fill(fill.clone()));
                    report.absorb(update);
                    report.discrepancies.push(Discrepancy::FillRecovered {
                        id: id.clone(),
                        trade_id: fill.trade_id,
                        qty: fill.qty,
                        price: fill.price,
                    });
                }
                take_venue_status(om, &id, at_venue.status, at_venue.finished_at.unwrap_or(ts));
                let now = om.order(&id).map_or(was, |o| o.status);
                if now.is_open() && at_venue.status.is_terminal() {
                    report.discrepancies.push(Discrepancy::Disagreement {
                        id: id.clone(),
                        journal: now,
                        venue: at_venue.status,
                    });
                } else if now != was {
                    report.discrepancies.push(Discrepancy::StatusResolved {
                        id: id.clone(),
                        from: was,
                        to: now,
                    });
                }
                // A stop both sides still hold whose trigger the journal moved: move it again.
                if let (
                    true,
                    Some(OrderKind::Stop { trigger }),
                    OrderKind::Stop {
                        trigger: venue_trigger,
                    },
                ) = (
                    now.is_open() && at_venue.status.is_open(),
                    om.order(&id).map(|o| o.request.kind),
                    at_venue.request.kind,
                ) {
                    if trigger != venue_trigger {
                        report.commands.push(OrderCommand::ModifyStop {
                            id: id.clone(),
                            trigger,
                        });
                        report.discrepancies.push(Discrepancy::StopRestored {
                            id,
                            venue: venue_trigger,
                            journal: trigger,
                        });
                    }
                }
            }
        }
    }
    for id in venue.order_ids() {
        if om.order(&id).is_none() {
            if let Some(at_venue) = venue.order(&id) {
                report
                    .discrepancies
                    .push(Discrepancy::UnknownToOrderManager {
                        id: id.clone(),
                        symbol: at_venue.request.symbol,
                        status: at_venue.status,
                    });
            }
        }
    }
    // Commands about orders that reconciliation itself finished would only be refused.
    report
        .commands
        .retain(|c| om.order(c.order_id()).is_some_and(|o| o.status.is_open()));
    report
}

/// Feeds the venue's status for `id` to the manager as the report the venue would have sent.
fn take_venue_status(
    om: &mut OrderManager,
    id: &ClientOrderId,
    status: OrderStatus,
    ts: Timestamp,
) {
    let Some(now) = om.order(id).map(|o| o.status) else {
        return;
    };
    let id = id.clone();
    let report = match status {
        OrderStatus::Accepted
            if matches!(
                now,
                OrderStatus::PendingSubmit | OrderStatus::Submitted | OrderStatus::Unknown
            ) =>
        {
            ExecutionReport::Accepted { id, ts }
        }
        OrderStatus::Cancelled if now.is_open() => ExecutionReport::Cancelled { id, ts },
        OrderStatus::Expired if now.is_open() => ExecutionReport::Expired { id, ts },
        OrderStatus::Rejected if now.is_open() => ExecutionReport::Rejected {
            id,
            reason: "rejected by the venue".to_string(),
            ts,
        },
        _ => return,
    };
    om.on_execution(&report);
}

impl ReconciliationReport {
    fn absorb(&mut self, update: OmUpdate) {
        self.commands.extend(update.commands);
        self.closed.extend(update.closed);
    }
}
