//! One type for the record: the audit trail's events, each a step of a decision or of an
//! order, in event time. The stages emit them (see `keel_actors::audit`); the executors add
//! nothing, so the backtest loop and the actor runtime write the same trail.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{
    ClientOrderId, Direction, ExitReason, OrderIntent, OrderKind, OrderPurpose, OrderStatus,
    Regime, Side, Symbol, Timestamp, TradeId,
};

/// What the operator reads after a bad day: every decision with its inputs, every refusal
/// with its rule, every order transition, fill and closed trade. Each carries its event time
/// `ts` and its `symbol`. Serialized as one JSON object tagged by `event`; money is a
/// decimal string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum DomainEvent {
    /// The strategy decided on a traded candle (before risk).
    Decision(DecisionRecord),
    /// A decision was refused: by a risk rule, or a long vetoed by a critical event
    /// (`event_veto`).
    Refused {
        /// Event time (the decision's candle close).
        ts: Timestamp,
        /// The pair.
        symbol: Symbol,
        /// The refused direction.
        direction: Direction,
        /// The rule's name, as in the report's refusal counts.
        rule: String,
        /// Why, in words.
        detail: String,
    },
    /// Risk approved a decision as a sized intent.
    Approved {
        /// Event time (the decision's candle close).
        ts: Timestamp,
        /// The pair.
        symbol: Symbol,
        /// What the order manager is asked to do.
        intent: OrderIntent,
        /// Which of the exits a strategy proposed were used, and why (absent without a
        /// proposal).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exits: Option<String>,
    },
    /// An order changed state (submitted, accepted, partially filled, filled, cancelled,
    /// rejected, expired, unknown).
    Order(OrderRecord),
    /// A protective stop was raised (break-even after a take-profit, or trailing).
    StopMoved {
        /// Event time.
        ts: Timestamp,
        /// The pair.
        symbol: Symbol,
        /// The stop order.
        id: ClientOrderId,
        /// The new trigger price.
        trigger: Decimal,
    },
    /// A fill, applied once.
    Fill {
        /// Event time (the venue's).
        ts: Timestamp,
        /// The pair.
        symbol: Symbol,
        /// The order filled.
        id: ClientOrderId,
        /// The venue's trade id.
        trade_id: TradeId,
        /// Buy or sell.
        side: Side,
        /// Base quantity.
        qty: Decimal,
        /// Price.
        price: Decimal,
        /// Fee in the quote asset.
        fee: Decimal,
    },
    /// A round trip closed: the position is flat again.
    TradeClosed {
        /// Event time (the last exit fill).
        ts: Timestamp,
        /// The pair.
        symbol: Symbol,
        /// First entry fill.
        entry_time: Timestamp,
        /// Quantity bought.
        qty: Decimal,
        /// Average entry price.
        entry_price: Decimal,
        /// Quantity-weighted average exit price.
        exit_price: Decimal,
        /// Profit after all fees of the round trip.
        pnl: Decimal,
        /// All fees of the round trip.
        fees: Decimal,
        /// The reason of the last exit fill.
        reason: ExitReason,
    },
    /// The market regime changed, on a close of the regime symbol.
    RegimeChanged {
        /// Event time (the close that changed it).
        ts: Timestamp,
        /// The regime symbol.
        symbol: Symbol,
        /// The regime before.
        from: Regime,
        /// The regime now.
        to: Regime,
    },
    /// Risk raised an account-wide alert at a bar's mark: the drawdown kill switch tripped
    /// (every held position is flattened, no new entries until reset), or the day's loss
    /// reached the daily limit (no new entries until UTC midnight).
    RiskAlert {
        /// Event time (the mark).
        ts: Timestamp,
        /// `kill_switch` or `daily_loss_limit`, as in the report's refusal counts.
        rule: String,
        /// The drawdown from the equity peak, or the loss from the day's start, in percent.
        pct: Decimal,
        /// The equity at the mark.
        equity: Decimal,
        /// The pairs flattened because of it (only for the kill switch).
        flatten: Vec<Symbol>,
    },
}

/// A decision and what it rested on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRecord {
    /// Event time (the candle's close).
    pub ts: Timestamp,
    /// The pair.
    pub symbol: Symbol,
    /// The strategy that decided (`fusion`, `sma_cross`, `buy_and_hold`).
    pub strategy: String,
    /// Long or short.
    pub direction: Direction,
    /// The close decided at.
    pub price: Decimal,
    /// ATR at that close.
    pub atr: f64,
    /// The market regime at the time.
    pub regime: Regime,
    /// The technical setup (fusion only).
    pub setup: Option<SetupRecord>,
    /// The sentiment score fusion used (0 when stale or absent); absent for the baselines
    /// and for a vetoed long.
    pub sentiment: Option<f64>,
    /// Net impact of recent events; absent for the baselines and for a vetoed long.
    pub event_impact: Option<f64>,
    /// Whether fusion ran technical-only (the analyst unavailable).
    pub technical_only: bool,
    /// The fused confidence; absent for a vetoed long (it never got one).
    pub confidence: Option<f64>,
    /// Why the model decided as it did (the `llm` strategy only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

/// The technical side of a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetupRecord {
    /// The setup's score in [0, 1].
    pub score: f64,
    /// The confirming conditions.
    pub reasons: Vec<String>,
}

/// One order's state change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRecord {
    /// Event time.
    pub ts: Timestamp,
    /// The pair.
    pub symbol: Symbol,
    /// Client order id.
    pub id: ClientOrderId,
    /// The state reached.
    pub status: OrderStatus,
    /// Buy or sell.
    pub side: Side,
    /// Base quantity ordered.
    pub qty: Decimal,
    /// Market, limit or stop, with its price.
    pub kind: OrderKind,
    /// What the order is for (entry, stop loss, take-profit level, exit with its reason).
    pub purpose: OrderPurpose,
    /// Why, for a rejection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl DomainEvent {
    /// Event time.
    pub fn ts(&self) -> Timestamp {
        match self {
            DomainEvent::Decision(d) => d.ts,
            DomainEvent::Order(o) => o.ts,
            DomainEvent::Refused { ts, .. }
            | DomainEvent::Approved { ts, .. }
            | DomainEvent::StopMoved { ts, .. }
            | DomainEvent::Fill { ts, .. }
            | DomainEvent::TradeClosed { ts, .. }
            | DomainEvent::RegimeChanged { ts, .. }
            | DomainEvent::RiskAlert { ts, .. } => *ts,
        }
    }

    /// The pair it is about; `None` for an account-wide event (a risk alert).
    pub fn symbol(&self) -> Option<&Symbol> {
        match self {
            DomainEvent::Decision(d) => Some(&d.symbol),
            DomainEvent::Order(o) => Some(&o.symbol),
            DomainEvent::Refused { symbol, .. }
            | DomainEvent::Approved { symbol, .. }
            | DomainEvent::StopMoved { symbol, .. }
            | DomainEvent::Fill { symbol, .. }
            | DomainEvent::TradeClosed { symbol, .. }
            | DomainEvent::RegimeChanged { symbol, .. } => Some(symbol),
            DomainEvent::RiskAlert { .. } => None,
        }
    }

    /// The `event` tag it is written with (`decision`, `refused`, `order`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            DomainEvent::Decision(_) => "decision",
            DomainEvent::Refused { .. } => "refused",
            DomainEvent::Approved { .. } => "approved",
            DomainEvent::Order(_) => "order",
            DomainEvent::StopMoved { .. } => "stop_moved",
            DomainEvent::Fill { .. } => "fill",
            DomainEvent::TradeClosed { .. } => "trade_closed",
            DomainEvent::RegimeChanged { .. } => "regime_changed",
            DomainEvent::RiskAlert { .. } => "risk_alert",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn events_round_trip_as_tagged_json_with_decimal_strings() {
        let event = DomainEvent::TradeClosed {
            ts: Timestamp(7_200_000),
            symbol: Symbol::parse("BTCUSDT").unwrap(),
            entry_time: Timestamp(3_600_000),
            qty: dec!(0.5),
            entry_price: dec!(100),
            exit_price: dec!(110),
            pnl: dec!(4.9),
            fees: dec!(0.1),
            reason: ExitReason::TakeProfit,
        };
        let json = serde_json::to_string(&event).unwrap();
        assert!(json.starts_with(r#"{"event":"trade_closed","ts":7200000,"symbol":"BTC/USDT""#));
        assert!(json.contains(r#""pnl":"4.9""#), "{json}");
        assert_eq!(serde_json::from_str::<DomainEvent>(&json).unwrap(), event);
        assert_eq!(event.name(), "trade_closed");
    }
}
