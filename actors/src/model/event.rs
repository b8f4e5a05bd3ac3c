//! One type for the record: every step of a decision, for logs, journals and replays.

use serde::{Deserialize, Serialize};

use super::{
    Candle, ExecutionReport, MarketEvent, OrderIntent, OrderRequest, Regime, SentimentUpdate,
    TechnicalSetup, Timestamp, TradingSignal,
};

/// Everything that happens in the decision pipeline, in event time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum DomainEvent {
    /// A closed candle entered the pipeline.
    Candle(Candle),
    /// The regime changed.
    RegimeChanged {
        /// Event time.
        ts: Timestamp,
        /// The new regime.
        regime: Regime,
    },
    /// A symbol's scanner found a setup.
    Setup(TechnicalSetup),
    /// The analyst scored a symbol.
    Sentiment(SentimentUpdate),
    /// The analyst raised an event.
    MarketEvent(MarketEvent),
    /// Fusion produced a signal.
    Signal(TradingSignal),
    /// Risk approved an intent.
    Intent(OrderIntent),
    /// Risk refused a signal.
    Refused {
        /// The signal.
        signal: TradingSignal,
        /// The rule that refused it.
        rule: String,
        /// Details.
        detail: String,
    },
    /// The order manager sent an order.
    OrderSubmitted(OrderRequest),
    /// A venue reported on an order.
    Execution(ExecutionReport),
}
