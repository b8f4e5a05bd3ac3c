//! The board: what a running keel shows its operator. The actors write their part to it
//! (the order manager its account, risk its switches, the feed its progress) and the control
//! plane reads it from its own threads, so a status request or a metrics scrape never waits
//! in an actor's mailbox and never slows the pipeline. Writes are cheap and rare: an account
//! at most a few times a second of wall time (and at every shutdown flush), risk's switches
//! when they change, the feed's count as one atomic add per candle.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use keel_core::order_manager::OrderManager;
use keel_core::risk::KillSwitch;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::decisions::DecisionSummary;
use crate::model::{Order, Position, Timestamp};

mod curve;

use curve::EquityCurve;
pub use curve::{CurvePoint, CURVE_POINTS};

/// How often the order manager copies its account to the board while a replay runs fast
/// (a live run marks once a bar, far less often).
pub const ACCOUNT_EVERY: Duration = Duration::from_millis(200);

/// The account as the order manager last published it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountView {
    /// The bar close it was marked at (event time).
    pub ts: Option<Timestamp>,
    /// Quote-asset balance (cash held back for open buy orders included).
    pub cash: Decimal,
    /// Cash plus positions at their last price.
    pub equity: Decimal,
    /// The highest equity of the equity curve.
    pub peak_equity: Decimal,
    /// Gross exposure: the positions' market value.
    pub exposure: Decimal,
    /// Open positions.
    pub positions: Vec<Position>,
    /// Orders not in a terminal state.
    pub open_orders: Vec<Order>,
    /// Every order ever placed, counted by status (`filled`, `cancelled`, ...).
    pub orders_by_status: BTreeMap<String, u64>,
    /// Fills applied (each venue trade once).
    pub fills: u64,
}

impl AccountView {
    /// The account of `om` last marked at `ts` (none before the first mark) at `equity`,
    /// with the equity curve's `peak`.
    pub fn of(om: &OrderManager, ts: Option<Timestamp>, equity: Decimal, peak: Decimal) -> Self {
        let snapshot = om.snapshot(ts.unwrap_or_default());
        let mut orders_by_status: BTreeMap<String, u64> = BTreeMap::new();
        let mut open_orders = Vec::new();
        for order in om.orders() {
            *orders_by_status
                .entry(status_name(order.status))
                .or_default() += 1;
            if order.status.is_open() {
                open_orders.push(order.clone());
            }
        }
        Self {
            ts,
            cash: om.cash(),
            equity,
            peak_equity: peak.max(equity),
            exposure: snapshot.gross_exposure(),
            positions: snapshot.positions,
            open_orders,
            orders_by_status,
            fills: om.fills_applied() as u64,
        }
    }

    /// Drawdown from the peak, in percent (zero at a new peak or before any mark).
    pub fn drawdown_pct(&self) -> Decimal {
        if self.peak_equity <= Decimal::ZERO {
            return Decimal::ZERO;
        }
        ((self.peak_equity - self.equity) / self.peak_equity * Decimal::ONE_HUNDRED)
            .max(Decimal::ZERO)
    }
}

/// Risk's switches, as risk last published them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RiskView {
    /// An operator halted new entries (exits are still managed).
    pub halted: bool,
    /// An operator asked to close every position at the next bar close.
    pub flatten_requested: bool,
    /// The drawdown kill switch, if tripped.
    pub kill_switch: Option<KillSwitch>,
    /// Today's loss reached the daily limit (no new entries until UTC midnight).
    pub daily_limit_hit: bool,
    /// The venue's breaker is open: only risk-reducing intents pass.
    pub reduce_only: bool,
    /// Signals refused, by rule.
    pub refusals: BTreeMap<String, u64>,
}

/// The model analyst's work (a `record` session), as the sentiment actor last published it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlmView {
    /// Requests sent to the provider (each may take several HTTP attempts).
    pub calls: u64,
    /// HTTP requests, retries included.
    pub http_requests: u64,
    /// Requests answered from the cache.
    pub cache_hits: u64,
    /// Replies that were valid analyses.
    pub accepted: u64,
    /// Replies that broke the contract.
    pub rejected: u64,
    /// Calls that got no reply after the retries.
    pub failed: u64,
    /// Requests refused because the model's breaker was open.
    pub refused: u64,
    /// Tokens spent.
    pub tokens: u64,
}

#[derive(Debug, Default)]
struct Views {
    account: AccountView,
    curve: EquityCurve,
    risk: RiskView,
    llm: Option<LlmView>,
    decisions: Option<DecisionSummary>,
    stopped: Option<String>,
    quarantined: (u64, Option<String>),
    /// Per writer (`the order manager`, `execution`), why it cannot write the journal.
    journal_failures: BTreeMap<&'static str, String>,
    hangs: BTreeMap<String, u64>,
}

/// Upper bounds of the journal write latency buckets, in seconds (the last is +Inf).
pub const WRITE_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

/// Upper bounds of the handler latency buckets, in seconds (the last is +Inf).
pub const HANDLER_BUCKETS: &[f64] = &[
    0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001,
    0.0025, 0.01, 0.1,
];

/// A latency histogram written lock-free from any thread: a count per bucket (and one
/// above the last bound), and the sum.
#[derive(Debug)]
pub struct LatencyHistogram {
    bounds: &'static [f64],
    buckets: Vec<AtomicU64>,
    sum_ns: AtomicU64,
}

impl LatencyHistogram {
    /// An empty histogram over `bounds` (seconds, ascending).
    pub fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_ns: AtomicU64::new(0),
        }
    }

    /// Counts one observation.
    pub fn observe(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        let bucket = self
            .bounds
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(self.bounds.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_ns.fetch_add(
            u64::try_from(took.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// The figures so far.
    pub fn view(&self) -> HistogramView {
        let buckets: Vec<(f64, u64)> = self
            .bounds
            .iter()
            .copied()
            .chain([f64::INFINITY])
            .zip(self.buckets.iter().map(|b| b.load(Ordering::Relaxed)))
            .collect();
        HistogramView {
            sum: self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9,
            count: buckets.iter().map(|(_, n)| n).sum(),
            buckets,
        }
    }
}

/// A histogram's figures: the sum in seconds, the count, and each bucket's upper bound with
/// the observations that fell in it (not cumulative; the last bound is +Inf).
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramView {
    /// Sum of the observations, in seconds.
    pub sum: f64,
    /// Observations.
    pub count: u64,
    /// `(upper bound, observations in this bucket)`.
    pub buckets: Vec<(f64, u64)>,
}

/// Reads a venue's request weight: `(limit per minute, used this minute)`.
type WeightProbe = Arc<dyn Fn() -> (u32, u32) + Send + Sync>;

/// The venue's weight probe, if the run trades at a remote venue.
#[derive(Default)]
struct VenueWeight(Mutex<Option<WeightProbe>>);

impl std::fmt::Debug for VenueWeight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VenueWeight")
    }
}

#[derive(Debug)]
struct Shared {
    views: Mutex<Views>,
    venue_weight: VenueWeight,
    journal_writes: LatencyHistogram,
    handlers: Mutex<BTreeMap<String, Arc<LatencyHistogram>>>,
    candles: AtomicU64,
    last_close_ms: AtomicU64,
    live_bars: AtomicU64,
}

impl Default for Shared {
    fn default() -> Self {
        Self {
            views: Mutex::default(),
            venue_weight: VenueWeight::default(),
            journal_writes: LatencyHistogram::new(WRITE_BUCKETS),
            handlers: Mutex::default(),
            candles: AtomicU64::default(),
            last_close_ms: AtomicU64::default(),
            live_bars: AtomicU64::default(),
        }
    }
}

/// The board of one run; clones share it.
#[derive(Debug, Clone, Default)]
pub struct Board {
    shared: Arc<Shared>,
}

impl Board {
    /// A fresh board.
    pub fn new() -> Self {
        Self::default()
    }

    /// The account now.
    pub fn account(&self) -> AccountView {
        self.lock().account.clone()
    }

    /// Risk's switches now.
    pub fn risk(&self) -> RiskView {
        self.lock().risk.clone()
    }

    /// Candles the feed has sent into the pipeline.
    pub fn candles(&self) -> u64 {
        self.shared.candles.load(Ordering::Relaxed)
    }

    /// The close time of the last candle the feed sent (event time), if any.
    pub fn last_close(&self) -> Option<Timestamp> {
        match self.shared.last_close_ms.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(Timestamp(ms as i64)),
        }
    }

    /// Why trading stopped (the root supervisor gave up), if it did.
    pub fn trading_stopped(&self) -> Option<String> {
        self.lock().stopped.clone()
    }

    /// Trading stopped safely because of `reason` (the first reason is kept).
    pub fn set_trading_stopped(&self, reason: &str) {
        self.lock()
            .stopped
            .get_or_insert_with(|| reason.to_string());
    }

    /// Why the journal cannot be written, by whom (`the order manager: …; execution: …`), if
    /// a writer cannot: no order leaves until its write succeeds.
    pub fn journal_failure(&self) -> Option<String> {
        let views = self.lock();
        let failures: Vec<String> = views
            .journal_failures
            .iter()
            .map(|(writer, why)| format!("{writer}: {why}"))
            .collect();
        (!failures.is_empty()).then(|| failures.join("; "))
    }

    /// `writer`'s journal write failed with `why` (`None`: it writes again).
    pub fn set_journal_failure(&self, writer: &'static str, why: Option<String>) {
        let mut views = self.lock();
        match why {
            Some(why) => views.journal_failures.insert(writer, why),
            None => views.journal_failures.remove(writer),
        };
    }

    /// A poison message was quarantined; `what` says whose and what was done with it.
    pub fn quarantined(&self, what: String) {
        let mut views = self.lock();
        views.quarantined.0 += 1;
        views.quarantined.1 = Some(what);
    }

    /// An instance of `actor` was declared hung (a message past its deadline).
    pub fn actor_hung(&self, actor: &str) {
        *self.lock().hangs.entry(actor.to_string()).or_default() += 1;
    }

    /// Hangs declared so far, by actor (actors that never hung are absent).
    pub fn hangs(&self) -> BTreeMap<String, u64> {
        self.lock().hangs.clone()
    }

    /// Messages quarantined so far, and what the last one was.
    pub fn quarantine(&self) -> (u64, Option<String>) {
        self.lock().quarantined.clone()
    }

    /// The feed sent a candle closing at `close`.
    pub fn candle_sent(&self, close: Timestamp) {
        self.shared.candles.fetch_add(1, Ordering::Relaxed);
        self.shared
            .last_close_ms
            .fetch_max(close.0.max(0) as u64, Ordering::Relaxed);
    }

    /// The feed has handled one more bar from a live venue: the bar and everything it caused
    /// (decisions, orders, the venue's answers) are done.
    pub fn live_bar_handled(&self) {
        self.shared.live_bars.fetch_add(1, Ordering::Release);
    }

    /// Bars from a live venue handled so far (a caller stepping the venue's clock waits on
    /// this before closing the next bar).
    pub fn live_bars_handled(&self) -> u64 {
        self.shared.live_bars.load(Ordering::Acquire)
    }

    /// Publishes the account, and adds its mark to the equity curve.
    pub fn publish_account(&self, account: AccountView) {
        let mut views = self.lock();
        if let Some(ts) = account.ts {
            views.curve.record(CurvePoint {
                ts,
                equity: account.equity,
                peak: account.peak_equity,
            });
        }
        views.account = account;
    }

    /// The equity curve of the accounts published so far, oldest first: at most
    /// [`CURVE_POINTS`], evenly thinned over the whole run.
    pub fn equity_curve(&self) -> Vec<CurvePoint> {
        self.lock().curve.points()
    }

    /// The model analyst's work, if a model analyses the news in this run.
    pub fn llm(&self) -> Option<LlmView> {
        self.lock().llm.clone()
    }

    /// Publishes the model analyst's work.
    pub fn publish_llm(&self, llm: LlmView) {
        self.lock().llm = Some(llm);
    }

    /// What the `llm` strategy has decided so far, as the fusion actor last published it.
    pub fn decisions(&self) -> Option<DecisionSummary> {
        self.lock().decisions.clone()
    }

    /// Publishes what the `llm` strategy has decided so far.
    pub fn publish_decisions(&self, decisions: DecisionSummary) {
        self.lock().decisions = Some(decisions);
    }

    /// Reads the remote venue's request weight with `probe` from now on.
    pub fn watch_venue_weight(&self, probe: impl Fn() -> (u32, u32) + Send + Sync + 'static) {
        *self
            .shared
            .venue_weight
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(probe));
    }

    /// The remote venue's `(limit per minute, weight used this minute)`, if there is one.
    pub fn venue_weight(&self) -> Option<(u32, u32)> {
        let probe = self
            .shared
            .venue_weight
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        probe.map(|read| read())
    }

    /// A journal write (the order manager's state or a mark) took `took`.
    pub fn journal_write(&self, took: Duration) {
        self.shared.journal_writes.observe(took);
    }

    /// The journal write latencies so far.
    pub fn journal_writes(&self) -> HistogramView {
        self.shared.journal_writes.view()
    }

    /// The handler latency histogram of `actor` (made on first use; kept across its
    /// restarts).
    pub fn handler_latency(&self, actor: &str) -> Arc<LatencyHistogram> {
        self.shared
            .handlers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(actor.to_string())
            .or_insert_with(|| Arc::new(LatencyHistogram::new(HANDLER_BUCKETS)))
            .clone()
    }

    /// Every actor's handler latencies so far, by name.
    pub fn handler_latencies(&self) -> Vec<(String, HistogramView)> {
        self.shared
            .handlers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(name, h)| (name.clone(), h.view()))
            .collect()
    }

    /// Publishes risk's switches.
    pub fn publish_risk(&self, risk: RiskView) {
        self.lock().risk = risk;
    }

    fn lock(&self) -> MutexGuard<'_, Views> {
        // Every update is a few assignments: a poisoned lock holds consistent views.
        self.shared
            .views
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

fn status_name(status: crate::model::OrderStatus) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{status:?}"))
}
