//! The unknown-outcome rule: an order whose placement ended in
//! [`VenueError::OutcomeUnknown`] is resolved by querying its client id, never by resending.

use std::time::Duration;

use tracing::{info, warn};

use super::orders::NewOrder;
use super::transport::lock;
use super::{BinanceClient, VenueError};
use crate::model::Symbol;
use crate::wire::{OrderResponse, QueriedOrder};

/// What the venue says about an order whose placement outcome was unknown.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    /// The venue holds the order (in whatever state it is now).
    Placed(QueriedOrder),
    /// The venue has no such order, asked after the request could no longer be accepted.
    NotPlaced,
}

/// Slack added to `timestamp + recvWindow` before the venue's "no such order" is final
/// (clock-offset error and processing time).
const SETTLE_MARGIN_MS: i64 = 250;

impl BinanceClient {
    /// Resolves an order by client id: if this client's placement of it ended unknown, waits
    /// until that request can no longer be accepted (its `timestamp + recvWindow` has passed
    /// on the venue's clock); then queries it (the query is retried like any read). Ids
    /// from elsewhere (a journal after a restart) are queried at once. Never resends.
    pub async fn resolve(
        &self,
        symbol: &Symbol,
        client_id: &str,
    ) -> Result<Resolution, VenueError> {
        let stamp = lock(&self.0.order_stamps).get(client_id).copied();
        if let Some(sent) = stamp {
            let final_at = sent.0 + self.0.cfg.recv_window_ms as i64 + SETTLE_MARGIN_MS;
            let wait = final_at - self.server_now().0;
            if wait > 0 {
                info!(
                    %symbol, client_id, wait_ms = wait,
                    "binance: waiting for the recvWindow to pass before resolving"
                );
                tokio::time::sleep(Duration::from_millis(wait as u64)).await;
            }
        }
        let resolution = match self.query_order(symbol, client_id).await? {
            Some(order) => Resolution::Placed(order),
            None => Resolution::NotPlaced,
        };
        info!(%symbol, client_id, ?resolution, "binance: unknown outcome resolved");
        Ok(resolution)
    }

    /// Places `order`; if the outcome is unknown, resolves it by query (never resends).
    /// Rejections and local refusals are returned as errors (nothing was placed).
    pub async fn place_order_resolved(&self, order: &NewOrder) -> Result<Placement, VenueError> {
        match self.place_order(order).await {
            Ok(answer) => Ok(Placement::Answered(answer)),
            Err(VenueError::OutcomeUnknown { endpoint, reason }) => {
                warn!(
                    endpoint, reason, client_id = %order.client_order_id,
                    "binance: order outcome unknown, resolving by query"
                );
                Ok(Placement::Resolved(
                    self.resolve(&order.symbol, &order.client_order_id).await?,
                ))
            }
            Err(e) => Err(e),
        }
    }
}

/// The outcome of [`BinanceClient::place_order_resolved`].
#[derive(Debug, Clone, PartialEq)]
pub enum Placement {
    /// The venue answered the placement.
    Answered(OrderResponse),
    /// The placement's outcome was unknown; the query says this.
    Resolved(Resolution),
}
