//! `BinanceVenue`: the [`RemoteVenue`] the bridge trades at, over a [`BinanceClient`].
//! It translates the book's actions into Binance orders and the client's errors into what
//! the book needs to know: placed, refused, not placed, or still unknown.

use tracing::warn;

use super::book::{CancelOutcome, PlaceOutcome, VenueAction};
use super::client::{
    BinanceClient, NewOco, NewOrder, NewOrderKind, Placement, Resolution, ResponseType, VenueError,
};
use super::wire::{Balance, MyTrade, OrderSide, QueriedOrder};
use super::RemoteVenue;
use crate::model::{Interval, OrderKind, OrderRequest, Side, Symbol};

/// How many trades one `myTrades` page holds.
const TRADES_PAGE: usize = 1000;

/// Binance's refusals of an exit whose price the market has already crossed.
const CROSSED: [&str; 3] = [
    "would trigger immediately",
    "would immediately match",
    "relationship of the prices",
];

/// keel's orders at a Binance-compatible venue.
#[derive(Debug, Clone)]
pub struct BinanceVenue {
    client: BinanceClient,
    interval: Interval,
}

impl BinanceVenue {
    /// A venue over `client` (connected: its clock offset measured), trading bars of
    /// `interval`.
    pub fn new(client: BinanceClient, interval: Interval) -> Self {
        Self { client, interval }
    }

    /// A refusal because the market crossed the exit's price becomes
    /// [`PlaceOutcome::Crossed`] with the last price (the latest bar's close); any other
    /// error keeps its meaning.
    async fn refused(&self, symbol: &Symbol, error: VenueError) -> PlaceOutcome {
        let crossed = matches!(&error, VenueError::Rejected { msg, .. } if CROSSED.iter().any(|c| msg.contains(c)));
        if crossed {
            match self
                .client
                .klines(symbol, self.interval, None, None, 1)
                .await
            {
                Ok(bars) if !bars.is_empty() => {
                    return PlaceOutcome::Crossed {
                        last: bars[bars.len() - 1].close,
                    }
                }
                Ok(_) => warn!(%symbol, "no bar to price a crossed exit"),
                Err(e) => warn!(%symbol, error = %e, "cannot price a crossed exit"),
            }
        }
        failed_placement(error)
    }

    /// The client.
    pub fn client(&self) -> &BinanceClient {
        &self.client
    }

    /// Resolves a placement whose outcome is unknown by querying `venue_id`.
    async fn resolve(&self, symbol: &Symbol, venue_id: &str) -> PlaceOutcome {
        match self.client.resolve(symbol, venue_id).await {
            Ok(Resolution::Placed(order)) => {
                PlaceOutcome::Placed(vec![(venue_id.to_string(), order.order_id)])
            }
            Ok(Resolution::NotPlaced) => PlaceOutcome::NotPlaced,
            Err(error) => PlaceOutcome::Unresolved(error.to_string()),
        }
    }
}

/// The book's order as a Binance order under `venue_id`.
fn new_order(request: &OrderRequest, venue_id: &str) -> NewOrder {
    NewOrder {
        symbol: request.symbol.clone(),
        side: match request.side {
            Side::Buy => OrderSide::Buy,
            Side::Sell => OrderSide::Sell,
        },
        kind: match request.kind {
            OrderKind::Market => NewOrderKind::Market,
            OrderKind::Limit { price } => NewOrderKind::Limit { price },
            OrderKind::Stop { trigger } => NewOrderKind::StopLoss {
                stop_price: trigger,
            },
        },
        quantity: request.qty,
        client_order_id: venue_id.to_string(),
        response: ResponseType::Result,
    }
}

/// What an error before or instead of the venue's answer means for a placement.
fn failed_placement(error: VenueError) -> PlaceOutcome {
    match error {
        VenueError::Rejected { msg, code, .. } => PlaceOutcome::Refused(format!("{msg} ({code})")),
        // Refused before sending, or never sent: nothing can be at the venue.
        VenueError::Local { reason, .. } => PlaceOutcome::Refused(reason),
        VenueError::RateLimited { .. }
        | VenueError::Banned { .. }
        | VenueError::Unreachable { .. } => PlaceOutcome::NotPlaced,
        VenueError::OutcomeUnknown { reason, .. } | VenueError::Decode { reason, .. } => {
            PlaceOutcome::Unresolved(reason)
        }
    }
}

impl RemoteVenue for BinanceVenue {
    async fn place(&self, action: &VenueAction) -> PlaceOutcome {
        match action {
            VenueAction::Place {
                venue_id, request, ..
            } => match self
                .client
                .place_order_resolved(&new_order(request, venue_id))
                .await
            {
                Ok(Placement::Answered(answer)) => {
                    PlaceOutcome::Placed(vec![(venue_id.clone(), answer.order_id)])
                }
                Ok(Placement::Resolved(Resolution::Placed(order))) => {
                    PlaceOutcome::Placed(vec![(venue_id.clone(), order.order_id)])
                }
                Ok(Placement::Resolved(Resolution::NotPlaced)) => PlaceOutcome::NotPlaced,
                Err(error) => self.refused(&request.symbol, error).await,
            },
            VenueAction::PlaceOco {
                list_id,
                symbol,
                qty,
                stop,
                trigger,
                take_profit,
                price,
            } => {
                let oco = NewOco {
                    symbol: symbol.clone(),
                    quantity: *qty,
                    list_client_id: list_id.clone(),
                    above_price: *price,
                    above_client_id: take_profit.1.clone(),
                    below_stop_price: *trigger,
                    below_client_id: stop.1.clone(),
                };
                match self.client.place_oco(&oco).await {
                    Ok(list) => PlaceOutcome::Placed(
                        list.orders
                            .iter()
                            .map(|o| (o.client_order_id.clone(), o.order_id))
                            .collect(),
                    ),
                    Err(VenueError::OutcomeUnknown { reason, .. }) => {
                        warn!(list = %list_id, %reason, "OCO outcome unknown: resolving by query");
                        // Both legs are placed together or not at all: one query decides.
                        match self.resolve(symbol, &stop.1).await {
                            PlaceOutcome::Placed(_) => {
                                let mut ids = Vec::new();
                                for venue_id in [&stop.1, &take_profit.1] {
                                    if let PlaceOutcome::Placed(found) =
                                        self.resolve(symbol, venue_id).await
                                    {
                                        ids.extend(found);
                                    }
                                }
                                PlaceOutcome::Placed(ids)
                            }
                            other => other,
                        }
                    }
                    Err(error) => self.refused(symbol, error).await,
                }
            }
            VenueAction::Cancel { .. } => PlaceOutcome::Refused("not a placement".into()),
        }
    }

    async fn cancel(&self, action: &VenueAction) -> CancelOutcome {
        let VenueAction::Cancel {
            symbol,
            venue_id,
            list_id,
            ..
        } = action
        else {
            return CancelOutcome::Unsettled;
        };
        let result = match list_id {
            Some(list_id) => self.client.cancel_list(symbol, list_id).await.map(|_| ()),
            None => self.client.cancel_order(symbol, venue_id).await.map(|_| ()),
        };
        match result {
            Ok(()) => CancelOutcome::Cancelled,
            Err(error) => {
                warn!(order = %venue_id, %error, "cancel not confirmed: its status decides");
                CancelOutcome::Unsettled
            }
        }
    }

    async fn trades(&self, symbol: &Symbol, after: u64) -> Result<Vec<MyTrade>, VenueError> {
        let mut all: Vec<MyTrade> = Vec::new();
        loop {
            let from = all.last().map_or(after, |t| t.id) + 1;
            let page = self.client.my_trades(symbol, Some(from)).await?;
            let full = page.len() >= TRADES_PAGE;
            all.extend(page);
            if !full {
                return Ok(all);
            }
        }
    }

    async fn open_orders(&self, symbol: &Symbol) -> Result<Vec<QueriedOrder>, VenueError> {
        self.client.open_orders(symbol).await
    }

    async fn query(
        &self,
        symbol: &Symbol,
        venue_id: &str,
    ) -> Result<Option<QueriedOrder>, VenueError> {
        self.client.query_order(symbol, venue_id).await
    }

    async fn balances(&self) -> Result<Vec<Balance>, VenueError> {
        self.client.account().await.map(|a| a.balances)
    }
}
