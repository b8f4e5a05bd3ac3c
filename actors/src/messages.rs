//! The messages between the actors: the edges of the stage graph, each typed by what it
//! carries. Every shell imports its inputs and outputs from here and sends through an
//! [`Inbox`](crate::runtime::Inbox) of the message type, so no shell names another.

use std::collections::BTreeMap;
use std::time::Instant;

use actix::prelude::*;
use keel_core::graph::Mode;
use keel_core::order_manager::{OrderCommand, RunRecord};
use keel_core::risk::{Approval, OperatorCommand, PortfolioView, RiskState};
use keel_core::strategy::Decision;
use keel_core::symbol::SymbolUpdate;
use keel_news::llm::SessionStats;
use keel_news::Headline;

use crate::board::RiskView;
use crate::model::{
    Candle, ClosedTrade, Decimal, EquityPoint, ExecutionReport, ExitReason, SentimentOutput,
    Symbol, Timestamp,
};
use crate::runtime::Ticket;

// The symbol actor's inputs.

/// A closed candle for this symbol.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct CandleClosed {
    /// The candle.
    pub candle: Candle,
    /// How the pipeline treats it.
    pub mode: Mode,
    /// When the candle entered the feed (latency measurement).
    pub born: Instant,
    /// Keeps the step in flight.
    pub ticket: Ticket,
}

// The fusion actor's inputs.

/// Sentiment and events released by the analyst.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct News {
    /// What the analyst produced.
    pub outputs: Vec<SentimentOutput>,
    /// Keeps the step in flight.
    pub ticket: Ticket,
}

/// A symbol actor's indicators (and setup, if any) for one closed candle.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct SymbolUpdated {
    /// The candle.
    pub candle: Candle,
    /// Indicators and setup.
    pub update: SymbolUpdate,
    /// How the pipeline treats it.
    pub mode: Mode,
    /// When the candle entered the feed (latency measurement).
    pub born: Instant,
    /// Keeps the step in flight.
    pub ticket: Ticket,
}

// The risk actor's inputs.

/// A decision from fusion for one candle.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct Decide {
    /// The candle decided on.
    pub candle: Candle,
    /// ATR at its close.
    pub atr: Option<f64>,
    /// What fusion concluded.
    pub decision: Decision,
    /// When the candle entered the feed (latency measurement).
    pub born: Instant,
    /// Keeps the step in flight.
    pub ticket: Ticket,
}

/// The order manager's account after a change, and the round trips that closed.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct PortfolioUpdated {
    /// What changed.
    pub change: AccountChange,
    /// Round trips closed since the last update.
    pub closed: Vec<ClosedTrade>,
}

/// How the account changed, for risk's copy of it.
#[derive(Debug, Clone)]
pub enum AccountChange {
    /// Orders, cash or positions changed: the whole account (shared: the route keeps a copy
    /// of every message until it is handled).
    Whole(std::sync::Arc<PortfolioView>),
    /// Only the position in `symbol` was marked at a new close: risk marks its copy
    /// ([`PortfolioView::mark`]) instead of being sent every position again at every candle
    /// of a held symbol.
    Marked {
        /// The position's symbol.
        symbol: Symbol,
        /// Its new last price.
        price: Decimal,
        /// The close it was marked at.
        ts: Timestamp,
    },
}

/// Every candle of the close `ts` has been processed: mark the account.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct Mark {
    /// The bar close.
    pub ts: Timestamp,
    /// Keeps the step in flight.
    pub ticket: Ticket,
}

/// The venue's circuit breaker opened (`reduce_only`) or closed again: while open, only
/// risk-reducing intents pass.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct VenueHealth {
    /// True while the venue's breaker is open.
    pub reduce_only: bool,
}

/// An operator's command for risk, from the control plane. Every command is idempotent
/// (halting twice is halting), so a delivery repeated after a failure changes nothing more.
/// Answers risk's switches after it (`None`: risk could not answer).
#[derive(Debug, Clone, Message)]
#[rtype(result = "Option<RiskView>")]
pub struct Operate(pub OperatorCommand);

/// Refusals counted by rule, for the run summary (`None`: risk could not answer).
#[derive(Debug, Clone, Message)]
#[rtype(result = "Option<BTreeMap<&'static str, u64>>")]
pub struct RefusalCounts;

// The order manager actor's inputs.

/// Reports from the venue.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct Settle {
    /// The reports, in the venue's order.
    pub reports: Vec<ExecutionReport>,
    /// Event time.
    pub now: Timestamp,
    /// Keeps the step in flight.
    pub ticket: Ticket,
}

/// Risk's verdict on one candle's decision.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct Approved {
    /// The candle decided on.
    pub candle: Candle,
    /// ATR at its close (for trailing stops).
    pub atr: Option<f64>,
    /// What risk let through.
    pub approval: Approval,
    /// When the candle entered the feed (latency measurement).
    pub born: Instant,
    /// Keeps the step in flight.
    pub ticket: Ticket,
}

/// The account marked at a bar close, with risk's state and anything to flatten.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct Checkpoint {
    /// The equity point.
    pub point: EquityPoint,
    /// Risk's persistent state at this mark.
    pub risk: RiskState,
    /// Positions to close (kill switch).
    pub flatten: Vec<(Symbol, ExitReason)>,
    /// Keeps the step in flight.
    pub ticket: Ticket,
}

/// Asks for the [`RunRecord`] (`None`: the order manager could not answer).
#[derive(Debug, Clone, Message)]
#[rtype(result = "Option<RunRecord>")]
pub struct Record;

/// Every candle before this many is fully processed: the journal's resume point.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct Progress {
    /// Candles done, from the first.
    pub done: u64,
    /// Keeps the step in flight.
    pub ticket: Ticket,
}

/// An operator asked to flatten: close every position at market now (and cancel what is
/// open), through the journal like any exit.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct FlattenAll {
    /// Keeps the step in flight.
    pub ticket: Ticket,
}

/// Makes every journal write durable (at shutdown).
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct Flush;

// The execution actor's inputs.

/// A bar closed at the venue: fill what rested on it.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct VenueBar {
    /// The bar.
    pub candle: Candle,
    /// Keeps the step in flight.
    pub ticket: Ticket,
}

/// The venue pushed word that orders changed (its user data stream): read what it did now,
/// not at the next bar.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct VenueNews {
    /// The symbol whose orders changed; `None`: every symbol (the stream subscribed again, or
    /// a frame could not be read).
    pub symbol: Option<Symbol>,
    /// The venue's time of the change (ms on its clock), for the fill-to-journal latency.
    pub event_time: Option<i64>,
    /// Keeps the news in flight until it is read.
    pub ticket: Ticket,
}

/// Commands from the order manager.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct Execute {
    /// Submit, cancel, modify.
    pub commands: Vec<OrderCommand>,
    /// Event time.
    pub now: Timestamp,
    /// When the candle that caused them entered the feed, if a candle did.
    pub born: Option<Instant>,
    /// Keeps the step in flight.
    pub ticket: Ticket,
}

// The sentiment actor's inputs.

/// Event time has reached `now`: release and analyse the headlines published until then.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct NewsTick {
    /// The current event time.
    pub now: Timestamp,
    /// Keeps the step in flight.
    pub ticket: Ticket,
}

/// Headlines that arrived while running (a polled feed); released at their publication time.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct NewHeadlines(pub Vec<Headline>);

/// Asks for the actor's counters (`None`: the actor could not answer).
#[derive(Debug, Clone, Message)]
#[rtype(result = "Option<SentimentSummary>")]
pub struct Summarize;

/// Asks the fusion actor what the `llm` strategy did (`None`: it could not answer).
#[derive(Debug, Clone, Message)]
#[rtype(result = "Option<crate::decisions::DecisionSummary>")]
pub struct SummarizeDecisions;

/// What the sentiment actor did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SentimentSummary {
    /// The analyst's name.
    pub analyst: String,
    /// Failed analyses (counted, never signals).
    pub failures: u64,
    /// The synchronous analyst's own counters (replay hits, fallbacks, ...).
    pub counters: Vec<(&'static str, u64)>,
    /// The `record` session's counters, if recording.
    pub session: Option<SessionStats>,
    /// HTTP requests sent by the session (retries included).
    pub http_requests: u64,
}
