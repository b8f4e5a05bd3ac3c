//! The values that flow through the decision pipeline:
//! setup → (sentiment, events, regime) → signal → intent.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{ExitReason, Symbol, Timestamp};

/// Long or short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Expecting the price to rise.
    Long,
    /// Expecting the price to fall.
    Short,
}

/// The market regime, from BTC against its 200-period SMA and the SMA's slope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Regime {
    /// Above a rising SMA.
    Bull,
    /// Below a falling SMA.
    Bear,
    /// Anything else, including the warm-up.
    #[default]
    Range,
}

/// A technical setup found by a symbol's scanner on a closed candle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TechnicalSetup {
    /// The pair.
    pub symbol: Symbol,
    /// Close time of the candle it was found on.
    pub ts: Timestamp,
    /// Long or short.
    pub direction: Direction,
    /// Strength in [0, 1]: the share of confirming indicators.
    pub score: f64,
    /// The close it was found at.
    pub price: Decimal,
    /// ATR (Wilder, standard period) at that close, for stop distances.
    pub atr: f64,
    /// Names of the confirming conditions, for the log.
    #[serde(skip_deserializing)]
    pub reasons: Vec<&'static str>,
}

/// Sentiment about one symbol from the analyst.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentimentUpdate {
    /// The pair.
    pub symbol: Symbol,
    /// Event time (publication time of the newest headline used).
    pub ts: Timestamp,
    /// Score in [-1, 1].
    pub score: f64,
    /// Confidence in [0, 1].
    pub confidence: f64,
    /// How many headlines it rests on.
    pub headlines: u32,
}

/// The kind of a market event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventKind {
    /// An exchange or protocol hack or exploit.
    Hack,
    /// Regulation, bans, enforcement.
    Regulation,
    /// A token unlock.
    Unlock,
    /// A new listing.
    Listing,
    /// A delisting.
    Delisting,
    /// Macro news (rates, inflation).
    Macro,
    /// Anything else notable.
    Other,
}

/// How severe an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    /// Barely matters.
    Low,
    /// Worth weighing.
    Medium,
    /// Moves markets.
    High,
    /// Vetoes new longs when negative.
    Critical,
}

/// A discrete market event about one symbol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarketEvent {
    /// The pair.
    pub symbol: Symbol,
    /// Publication time.
    pub ts: Timestamp,
    /// What kind of event.
    pub kind: EventKind,
    /// How severe.
    pub severity: Severity,
    /// Direction of the impact: negative is bad for the price.
    pub impact: f64,
    /// The headline that raised it (logged with any veto).
    pub headline: String,
}

/// The fused decision about one symbol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradingSignal {
    /// The pair.
    pub symbol: Symbol,
    /// Long or short.
    pub direction: Direction,
    /// Confidence in [0, 1].
    pub confidence: f64,
    /// The setup's score.
    pub technical_score: f64,
    /// The sentiment score used (0 when stale or absent).
    pub sentiment_score: f64,
    /// Net impact of recent events.
    pub event_impact: f64,
    /// Event time.
    pub ts: Timestamp,
    /// The close the decision was made at.
    pub price: Decimal,
    /// ATR at that close.
    pub atr: f64,
}

/// One take-profit level: sell `fraction` of the entry quantity at `price`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TakeProfit {
    /// Limit price.
    pub price: Decimal,
    /// Share of the entry quantity, in (0, 1].
    pub fraction: Decimal,
}

/// What risk approved: open a sized position with its exits, or close one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "intent", rename_all = "snake_case")]
pub enum OrderIntent {
    /// Buy `qty` at market, protected by `stop`, with partial take-profits.
    Open {
        /// The pair.
        symbol: Symbol,
        /// Base quantity, already rounded and sized.
        qty: Decimal,
        /// Protective stop price (absent for the baselines).
        stop: Option<Decimal>,
        /// Take-profit levels (empty for the baselines).
        take_profits: Vec<TakeProfit>,
        /// Event time of the decision.
        ts: Timestamp,
    },
    /// Sell the whole position at market.
    Close {
        /// The pair.
        symbol: Symbol,
        /// Why.
        reason: ExitReason,
        /// Event time of the decision.
        ts: Timestamp,
    },
}

impl OrderIntent {
    /// The pair the intent is about.
    pub fn symbol(&self) -> &Symbol {
        match self {
            OrderIntent::Open { symbol, .. } | OrderIntent::Close { symbol, .. } => symbol,
        }
    }
}

/// A headline released about one symbol, as the `llm` strategy shows it to its model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewsItem {
    /// The pair it was tagged with.
    pub symbol: Symbol,
    /// When it was published.
    pub published: Timestamp,
    /// Where it came from.
    pub source: String,
    /// The headline, untrusted text.
    pub title: String,
}

/// What the sentiment stage emits (the news layer's output, fusion's input).
#[derive(Debug, Clone, PartialEq)]
pub enum SentimentOutput {
    /// A headline about a symbol became due (whatever its analysis).
    Headline(NewsItem),
    /// Fresh sentiment about a symbol.
    Update(SentimentUpdate),
    /// A discrete event seen in a newly released headline.
    Event(MarketEvent),
    /// The analyst became unavailable (`false`: fusion goes technical-only) or available
    /// again (`true`). Emitted only on a change.
    AnalystAvailable(bool),
}
