//! Orders, their forward-only state machine, fills and execution reports.

use std::fmt;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{ExitReason, Symbol, Timestamp};

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Side {
    /// Buy the base asset with the quote asset.
    Buy,
    /// Sell the base asset for the quote asset.
    Sell,
}

impl Side {
    /// The other side.
    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }

    /// `+1` for a buy, `-1` for a sell.
    pub fn sign(self) -> Decimal {
        match self {
            Side::Buy => Decimal::ONE,
            Side::Sell => Decimal::NEGATIVE_ONE,
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Buy => "BUY",
            Side::Sell => "SELL",
        })
    }
}

/// A client order id: deterministic (`{run}-{symbol}-{seq}`), never random, at most 36
/// characters of `[A-Za-z0-9._:/-]` as Binance requires.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientOrderId(pub Arc<str>);

impl ClientOrderId {
    /// Wraps an id, checking Binance's length and alphabet.
    pub fn new(id: impl Into<Arc<str>>) -> Option<Self> {
        let id: Arc<str> = id.into();
        let ok = !id.is_empty()
            && id.len() <= 36
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '/' | '-'));
        ok.then_some(Self(id))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A venue trade id: a fill is applied at most once per trade id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TradeId(pub u64);

/// How an order executes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OrderKind {
    /// At the next available price (the next bar's open, adjusted by slippage).
    Market,
    /// At `price` or better, once the market trades through it.
    Limit {
        /// The limit price.
        price: Decimal,
    },
    /// A market order triggered when the price reaches `trigger` (stop-loss).
    Stop {
        /// The trigger price.
        trigger: Decimal,
    },
}

/// Why an order exists: lets the order manager and the reports tell entries from exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "purpose", rename_all = "snake_case")]
pub enum OrderPurpose {
    /// Opens or adds to a position.
    Entry,
    /// The protective stop of a position.
    StopLoss,
    /// A take-profit level (1-based).
    TakeProfit {
        /// Which level.
        level: u8,
    },
    /// Closes a position for the given reason.
    Exit {
        /// Why the position is closed.
        reason: ExitReason,
    },
}

/// What the order manager asks a venue to do. Attached children become active when this
/// order is completely filled (one-triggers-other); children sharing an `oco_group` cancel
/// each other when one of them fills (one-cancels-other), and a stop is checked before a
/// take-profit inside one bar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRequest {
    /// Deterministic client id.
    pub client_order_id: ClientOrderId,
    /// The pair.
    pub symbol: Symbol,
    /// Buy or sell.
    pub side: Side,
    /// Quantity in the base asset.
    pub qty: Decimal,
    /// Market, limit or stop.
    pub kind: OrderKind,
    /// Why the order exists.
    pub purpose: OrderPurpose,
    /// One-cancels-other group among the siblings attached to the same parent.
    pub oco_group: Option<u8>,
    /// Orders activated when this one fills completely.
    pub attached: Vec<OrderRequest>,
    /// When the decision that created it was made (event time).
    pub created: Timestamp,
}

/// An order's lifecycle state. Transitions only move forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Journalled, not yet sent.
    PendingSubmit,
    /// Sent, no answer yet.
    Submitted,
    /// Acknowledged by the venue and working.
    Accepted,
    /// Some quantity filled.
    PartiallyFilled,
    /// Completely filled (terminal).
    Filled,
    /// Cancelled (terminal).
    Cancelled,
    /// Refused by the venue (terminal).
    Rejected,
    /// Expired at the venue (terminal).
    Expired,
    /// The outcome is not known (timeout, 5xx, crash): resolve by querying, never resend.
    Unknown,
}

/// A transition the state machine refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("order {id}: illegal transition {from:?} -> {to:?}")]
pub struct TransitionError {
    /// The order.
    pub id: ClientOrderId,
    /// Its state.
    pub from: OrderStatus,
    /// The refused target.
    pub to: OrderStatus,
}

impl OrderStatus {
    /// Filled, cancelled, rejected or expired: nothing more can happen.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            OrderStatus::Filled
                | OrderStatus::Cancelled
                | OrderStatus::Rejected
                | OrderStatus::Expired
        )
    }

    /// Working at the venue or possibly so: blocks new risk and must be reconciled.
    pub fn is_open(self) -> bool {
        !self.is_terminal()
    }

    fn rank(self) -> u8 {
        match self {
            OrderStatus::PendingSubmit => 0,
            OrderStatus::Submitted => 1,
            OrderStatus::Unknown => 1,
            OrderStatus::Accepted => 2,
            OrderStatus::PartiallyFilled => 3,
            _ => 4,
        }
    }

    /// Whether moving from `self` to `to` is a forward move. Staying in `PartiallyFilled`
    /// (another partial fill) is allowed; everything else must advance.
    pub fn can_move_to(self, to: OrderStatus) -> bool {
        if self.is_terminal() {
            return false;
        }
        match (self, to) {
            (OrderStatus::PartiallyFilled, OrderStatus::PartiallyFilled) => true,
            // An unknown outcome may resolve to anything the venue reports.
            (OrderStatus::Unknown, to) => {
                to != OrderStatus::PendingSubmit && to != OrderStatus::Unknown
            }
            // Anything in flight may become unknown.
            (_, OrderStatus::Unknown) => true,
            (from, to) => to.rank() > from.rank(),
        }
    }
}

/// An order as the order manager tracks it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// What was asked for.
    pub request: OrderRequest,
    /// Where it is in its lifecycle.
    pub status: OrderStatus,
    /// Quantity filled so far.
    pub filled_qty: Decimal,
    /// Quantity-weighted average fill price (zero before the first fill).
    pub avg_fill_price: Decimal,
    /// Fees paid, in the quote asset.
    pub fees: Decimal,
    /// Event time of the last change.
    pub updated: Timestamp,
}

impl Order {
    /// A new order in `PendingSubmit`.
    pub fn new(request: OrderRequest) -> Self {
        let updated = request.created;
        Self {
            request,
            status: OrderStatus::PendingSubmit,
            filled_qty: Decimal::ZERO,
            avg_fill_price: Decimal::ZERO,
            fees: Decimal::ZERO,
            updated,
        }
    }

    /// The order's client id.
    pub fn id(&self) -> &ClientOrderId {
        &self.request.client_order_id
    }

    /// Quantity not yet filled.
    pub fn remaining(&self) -> Decimal {
        self.request.qty - self.filled_qty
    }

    /// Moves the state machine forward, refusing any backward or terminal-leaving move.
    pub fn transition(&mut self, to: OrderStatus, at: Timestamp) -> Result<(), TransitionError> {
        if !self.status.can_move_to(to) {
            return Err(TransitionError {
                id: self.id().clone(),
                from: self.status,
                to,
            });
        }
        self.status = to;
        self.updated = at;
        Ok(())
    }

    /// Applies a fill: updates quantity, average price, fees and status. The caller
    /// deduplicates by trade id; this refuses a fill that would overfill the order.
    pub fn apply_fill(&mut self, fill: &Fill) -> Result<(), TransitionError> {
        let new_filled = self.filled_qty + fill.qty;
        let to = if new_filled >= self.request.qty {
            OrderStatus::Filled
        } else {
            OrderStatus::PartiallyFilled
        };
        if new_filled > self.request.qty || fill.qty <= Decimal::ZERO {
            return Err(TransitionError {
                id: self.id().clone(),
                from: self.status,
                to,
            });
        }
        self.transition(to, fill.ts)?;
        self.avg_fill_price =
            (self.avg_fill_price * self.filled_qty + fill.price * fill.qty) / new_filled;
        self.filled_qty = new_filled;
        self.fees += fill.fee;
        Ok(())
    }
}

/// One execution at the venue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fill {
    /// The venue's trade id (dedup key).
    pub trade_id: TradeId,
    /// The order it belongs to.
    pub client_order_id: ClientOrderId,
    /// The pair.
    pub symbol: Symbol,
    /// Buy or sell.
    pub side: Side,
    /// Quantity in the base asset.
    pub qty: Decimal,
    /// Execution price.
    pub price: Decimal,
    /// The fee, valued in the quote asset (one charged in the base asset at the fill's price).
    pub fee: Decimal,
    /// Which balance paid the fee.
    #[serde(default)]
    pub fee_source: FeeSource,
    /// Event time of the execution.
    pub ts: Timestamp,
}

impl Fill {
    /// Price × quantity, in the quote asset.
    pub fn notional(&self) -> Decimal {
        self.price * self.qty
    }

    /// What the fill costs the cash in fees: the fee when paid in the quote asset, else 0.
    pub fn quote_fee(&self) -> Decimal {
        match self.fee_source {
            FeeSource::Quote => self.fee,
            FeeSource::Base { .. } | FeeSource::Other => Decimal::ZERO,
        }
    }

    /// The base asset withheld as the fee (0 unless it was paid in the base asset).
    pub fn base_fee(&self) -> Decimal {
        match self.fee_source {
            FeeSource::Base { qty } => qty,
            FeeSource::Quote | FeeSource::Other => Decimal::ZERO,
        }
    }
}

/// Which balance a fill's fee came out of. Binance takes it from the asset a fill
/// receives (the base asset for a buy, the quote asset for a sell) unless BNB pays it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "paid_in", rename_all = "snake_case")]
pub enum FeeSource {
    /// The quote asset: the cash pays it.
    #[default]
    Quote,
    /// The base asset the fill moved: `qty` of it withheld (a buy receives that much less,
    /// a sell gives that much more).
    Base {
        /// The base asset withheld.
        qty: Decimal,
    },
    /// A balance keel does not trade (BNB): neither the cash nor the position pays it.
    Other,
}

/// What a venue reports back about an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "report", rename_all = "snake_case")]
pub enum ExecutionReport {
    /// The venue took the order.
    Accepted {
        /// The order.
        id: ClientOrderId,
        /// When.
        ts: Timestamp,
    },
    /// An execution (partial or complete).
    Fill(Fill),
    /// The venue refused the order.
    Rejected {
        /// The order.
        id: ClientOrderId,
        /// The venue's reason.
        reason: String,
        /// When.
        ts: Timestamp,
    },
    /// Cancelled (by request, or by its one-cancels-other sibling).
    Cancelled {
        /// The order.
        id: ClientOrderId,
        /// When.
        ts: Timestamp,
    },
    /// Expired at the venue.
    Expired {
        /// The order.
        id: ClientOrderId,
        /// When.
        ts: Timestamp,
    },
    /// An exit not yet at the venue now sells `qty`: its entry's fee was withheld from the
    /// base asset, and the exits were cut to what is held, in whole lot steps.
    Resized {
        /// The order.
        id: ClientOrderId,
        /// Its quantity now.
        qty: Decimal,
        /// When.
        ts: Timestamp,
    },
    /// The outcome is not known; the order manager must query, not resend.
    Unknown {
        /// The order.
        id: ClientOrderId,
        /// What happened.
        reason: String,
        /// When.
        ts: Timestamp,
    },
}

impl ExecutionReport {
    /// The order the report is about.
    pub fn order_id(&self) -> &ClientOrderId {
        match self {
            Self::Fill(fill) => &fill.client_order_id,
            Self::Accepted { id, .. }
            | Self::Rejected { id, .. }
            | Self::Cancelled { id, .. }
            | Self::Expired { id, .. }
            | Self::Resized { id, .. }
            | Self::Unknown { id, .. } => id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn request(qty: Decimal) -> OrderRequest {
        OrderRequest {
            client_order_id: ClientOrderId::new("bt-BTCUSDT-1").unwrap(),
            symbol: Symbol::parse("BTCUSDT").unwrap(),
            side: Side::Buy,
            qty,
            kind: OrderKind::Market,
            purpose: OrderPurpose::Entry,
            oco_group: None,
            attached: vec![],
            created: Timestamp(0),
        }
    }

    fn fill(trade: u64, qty: Decimal, price: Decimal) -> Fill {
        Fill {
            trade_id: TradeId(trade),
            client_order_id: ClientOrderId::new("bt-BTCUSDT-1").unwrap(),
            symbol: Symbol::parse("BTCUSDT").unwrap(),
            side: Side::Buy,
            qty,
            price,
            fee: dec!(0.1),
            fee_source: FeeSource::Quote,
            ts: Timestamp(10),
        }
    }

    #[test]
    fn state_machine_only_moves_forward() {
        use OrderStatus::*;
        assert!(PendingSubmit.can_move_to(Submitted));
        assert!(Submitted.can_move_to(Accepted));
        assert!(Accepted.can_move_to(Filled));
        assert!(PartiallyFilled.can_move_to(PartiallyFilled));
        assert!(!Accepted.can_move_to(Submitted));
        assert!(!Filled.can_move_to(Cancelled));
        assert!(!Cancelled.can_move_to(Accepted));
        assert!(Submitted.can_move_to(Unknown));
        assert!(Unknown.can_move_to(Filled));
        assert!(!Unknown.can_move_to(PendingSubmit));
    }

    #[test]
    fn fills_average_and_complete_and_refuse_overfill() {
        let mut order = Order::new(request(dec!(2)));
        order
            .transition(OrderStatus::Submitted, Timestamp(1))
            .unwrap();
        order.apply_fill(&fill(1, dec!(1), dec!(100))).unwrap();
        assert_eq!(order.status, OrderStatus::PartiallyFilled);
        order.apply_fill(&fill(2, dec!(1), dec!(110))).unwrap();
        assert_eq!(order.status, OrderStatus::Filled);
        assert_eq!(order.avg_fill_price, dec!(105));
        assert_eq!(order.fees, dec!(0.2));
        assert!(order.apply_fill(&fill(3, dec!(1), dec!(100))).is_err());
    }

    #[test]
    fn client_order_ids_follow_binance_rules() {
        assert!(ClientOrderId::new("keel-BTCUSDT-000001").is_some());
        assert!(ClientOrderId::new("a".repeat(37)).is_none());
        assert!(ClientOrderId::new("has space").is_none());
        assert!(ClientOrderId::new("").is_none());
    }
}
