//! keel's domain model (crate `keel-model`): pure data, no I/O, no dependency on any other
//! keel crate. Typed ids, `Decimal` money, candles, orders, fills, positions, the
//! signals that flow between the cores, the domain event enum, and the injectable clock.

#![warn(missing_docs)]

mod candle;
mod event;
mod model_decision;
mod order;
mod portfolio;
mod signal;
mod symbol;
mod time;
mod tranche;

pub use candle::{
    check_ohlcv, Candle, Interval, MAX_CANDLE_PRICE, MAX_CANDLE_VOLUME, MIN_CANDLE_PRICE,
};
pub use event::{DecisionRecord, DomainEvent, OrderRecord, SetupRecord};
pub use model_decision::{ExitProposal, ModelAction, ModelDecision};
pub use order::{
    ClientOrderId, ExecutionReport, FeeSource, Fill, Order, OrderKind, OrderPurpose, OrderRequest,
    OrderStatus, Side, TradeId, TransitionError,
};
pub use portfolio::{ClosedTrade, EquityPoint, ExitReason, PortfolioSnapshot, Position};
pub use signal::{
    Direction, EventKind, MarketEvent, NewsItem, OrderIntent, Regime, SentimentOutput,
    SentimentUpdate, Severity, TakeProfit, TechnicalSetup, TradingSignal,
};
pub use symbol::{Asset, Symbol, SymbolError};
pub use time::{
    Clock, EventInstants, ManualClock, MarketClock, SystemClock, Timestamp, MS_PER_DAY,
};
pub use tranche::{tranches, Tranche};

/// Money, prices and quantities.
pub use rust_decimal::Decimal;
