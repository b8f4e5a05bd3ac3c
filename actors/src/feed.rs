//! The feed actor: replays candles into the actor pipeline, the actor runtime's executor of
//! the schedule in [`crate::graph`].
//!
//! Per candle it sends the declared steps — the bar to the venue, the event time to the
//! analyst, the candle to its symbol actor — and, when the close time moves on, a mark to
//! risk. In **lockstep** it waits for the pipeline to drain after each step, so the actors see
//! exactly the order the backtest loop uses; **paced** does the same and sleeps between bar closes at
//! a speed-up of real time; **rate** releases candles on a fixed wall-clock schedule, capping
//! the messages in flight, and reports how far behind it fell (for the latency benchmark; its
//! interleaving is not deterministic).

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use tokio::sync::oneshot;
use tracing::info;

use crate::model::{Candle, Symbol, Timestamp};

use crate::runtime::{Inbox, Inflight};

use crate::messages::{CandleClosed, Mark, NewsTick, Progress, VenueBar};
use keel_core::graph::{CandleWork, Mode, Schedule, Step};

/// How fast the feed replays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// As fast as the pipeline drains, one step at a time.
    Lockstep,
    /// Lockstep, sleeping between bar closes: `speedup` event-time seconds per real second.
    Paced {
        /// Event time / real time.
        speedup: f64,
    },
    /// Candle `i` is released `i / candles_per_sec` seconds after the start, never waiting for
    /// a drain; at most `max_inflight` messages in flight. A candle whose time has passed is
    /// sent at once and counted in [`FeedOutcome::late`]. A rate that is not a positive finite
    /// number releases every candle at once.
    Rate {
        /// The input rate to sustain.
        candles_per_sec: f64,
        /// Backpressure limit (waiting for it makes the feed fall behind schedule).
        max_inflight: usize,
    },
}

/// Where the feed's steps go.
pub struct FeedTargets {
    /// One symbol actor per symbol.
    pub symbols: HashMap<Symbol, Inbox<CandleClosed>>,
    /// The sentiment actor.
    pub news: Inbox<NewsTick>,
    /// The risk actor (marks).
    pub risk: Inbox<Mark>,
    /// The execution actor (venue bars).
    pub venue: Inbox<VenueBar>,
    /// Told how many candles are done, never before the mark of their bar close (the
    /// journal's resume point); none when nothing is journalled.
    pub progress: Option<Inbox<Progress>>,
    /// The operator's board: told of every candle sent (none: nobody watches).
    pub board: Option<crate::board::Board>,
}

/// Where the feed's candles come from.
pub enum CandleSource {
    /// History, in timestamp order.
    Replay(Vec<Candle>),
    /// A live venue: closed candles in timestamp order, each bar complete (every symbol's
    /// candle of a bar before any of the next); the feed ends when the channel closes.
    Live(tokio::sync::mpsc::Receiver<Candle>),
}

impl CandleSource {
    /// How many candles are known up front (a live source: none).
    pub fn len(&self) -> usize {
        match self {
            CandleSource::Replay(candles) => candles.len(),
            CandleSource::Live(_) => 0,
        }
    }

    /// Whether no candle is known up front.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How often a live feed waiting for its next candle checks for a shutdown request.
const LIVE_SHUTDOWN_POLL: Duration = Duration::from_millis(50);

/// The next candle of `source` (`index` counts those taken); `None` at the end of a replay,
/// when a live source closes, or when `shutdown` is set while a live feed waits between bars.
async fn next_candle(
    source: &mut CandleSource,
    index: usize,
    shutdown: &Cell<bool>,
) -> Option<Candle> {
    match source {
        CandleSource::Replay(candles) => candles.get(index).cloned(),
        CandleSource::Live(rx) => loop {
            if let Ok(candle) = rx.try_recv() {
                return Some(candle);
            }
            if shutdown.get() {
                return None;
            }
            match tokio::time::timeout(LIVE_SHUTDOWN_POLL, rx.recv()).await {
                Ok(candle) => return candle,
                Err(_) => continue,
            }
        },
    }
}

/// What to replay.
pub struct FeedPlan {
    /// The candles, in timestamp order.
    pub candles: CandleSource,
    /// Bars before this only warm up the indicators.
    pub start: Option<Timestamp>,
    /// How many candles (from the first) were fully processed before a restart: they are
    /// replayed in recovery mode.
    pub recovered: u64,
    /// How fast.
    pub pace: Pace,
    /// Stop (gracefully, at a bar close) after this many candles.
    pub stop_after: Option<u64>,
    /// Test only: send each candle's steps in reverse order (the parity test shows that it
    /// notices an executor that breaks the declared order).
    pub reverse_steps: bool,
}

/// How a replay ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedOutcome {
    /// Candles sent.
    pub candles: u64,
    /// True when every candle was replayed; false when stopped early.
    pub completed: bool,
    /// The most messages in flight at once.
    pub high_water: usize,
    /// [`Pace::Rate`]: candles the feed reached only after their scheduled time (0 otherwise).
    pub late: u64,
    /// [`Pace::Rate`]: the most any candle was sent after its scheduled time (zero otherwise).
    pub max_lag: Duration,
}

/// Replays a [`FeedPlan`]; reports its [`FeedOutcome`] on `done` and stops.
pub struct FeedActor {
    plan: Option<FeedPlan>,
    targets: Rc<FeedTargets>,
    inflight: Inflight,
    shutdown: Rc<Cell<bool>>,
    done: Option<oneshot::Sender<FeedOutcome>>,
}

impl FeedActor {
    /// A feed for `plan`; setting `shutdown` stops it at the next bar close.
    pub fn new(
        plan: FeedPlan,
        targets: FeedTargets,
        inflight: Inflight,
        shutdown: Rc<Cell<bool>>,
        done: oneshot::Sender<FeedOutcome>,
    ) -> Self {
        Self {
            plan: Some(plan),
            targets: Rc::new(targets),
            inflight,
            shutdown,
            done: Some(done),
        }
    }
}

impl Actor for FeedActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let Some(plan) = self.plan.take() else { return };
        info!(actor = "feed", event = "started", candles = plan.candles.len(), pace = ?plan.pace, "actor started");
        let (targets, inflight, shutdown) = (
            self.targets.clone(),
            self.inflight.clone(),
            self.shutdown.clone(),
        );
        let replay = async move {
            match plan.pace {
                Pace::Rate {
                    candles_per_sec,
                    max_inflight,
                } => {
                    let clock = RateClock {
                        start: Instant::now(),
                        candles_per_sec,
                    };
                    replay_at_rate(plan, targets, inflight, shutdown, clock, max_inflight).await
                }
                _ => replay(plan, targets, inflight, shutdown).await,
            }
        };
        ctx.spawn(replay.into_actor(self).map(|outcome, act, ctx| {
            info!(
                actor = "feed",
                event = "stopped",
                candles = outcome.candles,
                completed = outcome.completed,
                high_water = outcome.high_water,
                late = outcome.late,
                max_lag_us = outcome.max_lag.as_micros() as u64,
                "replay finished"
            );
            if let Some(done) = act.done.take() {
                let _ = done.send(outcome);
            }
            ctx.stop();
        }));
    }
}

/// Sends one step of `candle` to the actor that takes it.
fn send_step(
    step: Step,
    candle: &Candle,
    mode: Mode,
    symbol: &Inbox<CandleClosed>,
    targets: &FeedTargets,
    inflight: &Inflight,
    born: Instant,
) {
    match step {
        Step::Venue => targets.venue.send(VenueBar {
            candle: candle.clone(),
            ticket: inflight.ticket(),
        }),
        Step::News => targets.news.send(NewsTick {
            now: candle.close_time(),
            ticket: inflight.ticket(),
        }),
        Step::Decide => {
            if let Some(board) = &targets.board {
                board.candle_sent(candle.close_time());
            }
            symbol.send(CandleClosed {
                candle: candle.clone(),
                mode,
                born,
                ticket: inflight.ticket(),
            })
        }
    }
}

/// The steps of one candle in the order they are sent (declared, unless a test breaks it).
fn ordered(work: &CandleWork, plan: &FeedPlan) -> impl Iterator<Item = Step> {
    let (steps, reverse) = (work.steps, plan.reverse_steps);
    let last = steps.len().saturating_sub(1);
    (0..steps.len()).map(move |k| steps[if reverse { last - k } else { k }])
}

/// Reports progress past the recovered candles (never backwards: the journal's resume point
/// must not regress while a restart replays what it already has).
async fn report_progress(plan: &FeedPlan, targets: &FeedTargets, inflight: &Inflight, done: u64) {
    if done > plan.recovered {
        if let Some(progress) = &targets.progress {
            progress.send(Progress {
                done,
                ticket: inflight.ticket(),
            });
            inflight.idle().await;
        }
    }
}

/// Marks the bar that closed at `ts` (if one is pending): risk values the portfolio at it.
fn send_mark(targets: &FeedTargets, inflight: &Inflight, ts: Option<Timestamp>) {
    if let Some(ts) = ts {
        targets.risk.send(Mark {
            ts,
            ticket: inflight.ticket(),
        });
    }
}

/// [`send_mark`], then waits until the mark and all it caused are done.
async fn mark(targets: &FeedTargets, inflight: &Inflight, ts: Option<Timestamp>) {
    if ts.is_some() {
        send_mark(targets, inflight, ts);
        inflight.idle().await;
    }
}

async fn replay(
    mut plan: FeedPlan,
    targets: Rc<FeedTargets>,
    inflight: Inflight,
    shutdown: Rc<Cell<bool>>,
) -> FeedOutcome {
    let mut candles = std::mem::replace(&mut plan.candles, CandleSource::Replay(Vec::new()));
    let live = matches!(candles, CandleSource::Live(_));
    let mut schedule = Schedule::new(plan.start, plan.recovered);
    let mut last_close: Option<Timestamp> = None;
    let mut completed = true;
    while let Some(candle) = next_candle(&mut candles, schedule.taken() as usize, &shutdown).await {
        let candle = &candle;
        let index = schedule.taken();
        let work = schedule.next(candle);
        mark(&targets, &inflight, work.mark).await;
        // Every candle before this one is done, its bar's mark included.
        report_progress(&plan, &targets, &inflight, index).await;
        if work.new_bar {
            // Stop only at a bar close, after its mark: nothing is left half-done.
            if shutdown.get() || plan.stop_after.is_some_and(|n| index >= n) {
                completed = false;
                break;
            }
            let close = candle.close_time();
            if let (Pace::Paced { speedup }, Some(last)) = (plan.pace, last_close) {
                let event_ms = (close.millis() - last.millis()).max(0) as f64;
                tokio::time::sleep(Duration::from_secs_f64(event_ms / 1000.0 / speedup)).await;
            }
        }
        last_close = Some(candle.close_time());
        let Some(symbol) = targets.symbols.get(&candle.symbol) else {
            continue;
        };
        let born = Instant::now();
        for step in ordered(&work, &plan) {
            send_step(step, candle, work.mode, symbol, &targets, &inflight, born);
            inflight.idle().await;
        }
        if live && work.mode.trades() {
            // One line per symbol and bar: an operator sees the market arrive and be
            // handled (and a test can wait for exactly this bar).
            info!(actor = "feed", symbol = %candle.symbol, open_ms = candle.open_time.0, "live bar handled");
            if let Some(board) = &targets.board {
                board.live_bar_handled();
            }
        }
    }
    let sent = if completed {
        schedule.taken()
    } else {
        schedule.taken() - 1
    };
    // A live feed stopped between bars has its last bar complete: mark it like an end.
    if live && shutdown.get() && completed {
        completed = false;
        mark(&targets, &inflight, schedule.finish()).await;
        report_progress(&plan, &targets, &inflight, sent).await;
    }
    if completed {
        mark(&targets, &inflight, schedule.finish()).await;
        report_progress(&plan, &targets, &inflight, sent).await;
    }
    inflight.idle().await;
    FeedOutcome {
        candles: sent,
        completed,
        high_water: inflight.high_water(),
        late: 0,
        max_lag: Duration::ZERO,
    }
}

/// The wall-clock schedule of a [`Pace::Rate`] replay.
struct RateClock {
    start: Instant,
    candles_per_sec: f64,
}

/// tokio's timer fires on millisecond ticks, so a sleep can end up to a tick late; the feed
/// sleeps until this long before a candle is due and yields to the actors for the rest.
const TIMER_SLACK: Duration = Duration::from_millis(2);

impl RateClock {
    /// When candle `index` is due (at the start when the rate is not a positive finite number).
    fn due(&self, index: u64) -> Instant {
        Duration::try_from_secs_f64(index as f64 / self.candles_per_sec)
            .ok()
            .and_then(|offset| self.start.checked_add(offset))
            .unwrap_or(self.start)
    }

    /// Waits until `due`; false when it had already passed (the feed is behind schedule).
    async fn wait_until(due: Instant) -> bool {
        let now = Instant::now();
        if now >= due {
            return false;
        }
        if due - now > TIMER_SLACK {
            tokio::time::sleep_until((due - TIMER_SLACK).into()).await;
        }
        // Sub-millisecond remainder: let the actors run until the candle is due.
        while Instant::now() < due {
            tokio::task::yield_now().await;
        }
        true
    }
}

/// [`Pace::Rate`]: the same steps as [`replay`], released on `clock` without waiting for
/// drains. Messages go with `do_send`, so a full mailbox never drops a step; `max_inflight`
/// bounds the queues instead.
async fn replay_at_rate(
    plan: FeedPlan,
    targets: Rc<FeedTargets>,
    inflight: Inflight,
    shutdown: Rc<Cell<bool>>,
    clock: RateClock,
    max_inflight: usize,
) -> FeedOutcome {
    let mut schedule = Schedule::new(plan.start, plan.recovered);
    let mut late = 0u64;
    let mut max_lag = Duration::ZERO;
    let mut completed = true;
    let candles = match &plan.candles {
        CandleSource::Replay(candles) => candles.as_slice(),
        CandleSource::Live(_) => &[],
    };
    for candle in candles {
        let index = schedule.taken();
        let work = schedule.next(candle);
        send_mark(&targets, &inflight, work.mark);
        // Stop only at a bar close, after its mark: nothing is left half-done.
        if work.new_bar && (shutdown.get() || plan.stop_after.is_some_and(|n| index >= n)) {
            completed = false;
            break;
        }
        let Some(symbol) = targets.symbols.get(&candle.symbol) else {
            continue;
        };
        let due = clock.due(index);
        if !RateClock::wait_until(due).await {
            late += 1;
        }
        inflight.below(max_inflight).await;
        let born = Instant::now();
        max_lag = max_lag.max(born.saturating_duration_since(due));
        for step in ordered(&work, &plan) {
            send_step(step, candle, work.mode, symbol, &targets, &inflight, born);
        }
    }
    let sent = if completed {
        schedule.taken()
    } else {
        schedule.taken() - 1
    };
    if completed {
        send_mark(&targets, &inflight, schedule.finish());
    }
    inflight.idle().await;
    FeedOutcome {
        candles: sent,
        completed,
        high_water: inflight.high_water(),
        late,
        max_lag,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inbox<M: Message + Send + Clone + 'static>(recipient: Recipient<M>) -> Inbox<M>
    where
        M::Result: Send,
    {
        Inbox::new(recipient, keel_supervision::MailboxGauge::default())
    }
    use crate::model::{Decimal, Interval};

    /// Counts what the feed delivers, per message type.
    #[derive(Default)]
    struct Sink {
        candles: Rc<Cell<usize>>,
        news: Rc<Cell<usize>>,
        marks: Rc<Cell<usize>>,
        bars: Rc<Cell<usize>>,
    }

    impl Actor for Sink {
        type Context = Context<Self>;
    }

    impl Handler<CandleClosed> for Sink {
        type Result = ();
        fn handle(&mut self, _: CandleClosed, _: &mut Self::Context) {
            self.candles.set(self.candles.get() + 1);
        }
    }

    impl Handler<NewsTick> for Sink {
        type Result = ();
        fn handle(&mut self, _: NewsTick, _: &mut Self::Context) {
            self.news.set(self.news.get() + 1);
        }
    }

    impl Handler<Mark> for Sink {
        type Result = ();
        fn handle(&mut self, _: Mark, _: &mut Self::Context) {
            self.marks.set(self.marks.get() + 1);
        }
    }

    impl Handler<VenueBar> for Sink {
        type Result = ();
        fn handle(&mut self, _: VenueBar, _: &mut Self::Context) {
            self.bars.set(self.bars.get() + 1);
        }
    }

    /// `bars` hourly bars of each symbol, merged in time order.
    fn candles(symbols: &[Symbol], bars: i64) -> Vec<Candle> {
        let price = Decimal::from(100);
        (0..bars)
            .flat_map(|bar| {
                symbols.iter().map(move |symbol| Candle {
                    symbol: symbol.clone(),
                    open_time: Timestamp(bar * Interval::HOUR.millis()),
                    interval: Interval::HOUR,
                    open: price,
                    high: price,
                    low: price,
                    close: price,
                    volume: Decimal::ONE,
                })
            })
            .collect()
    }

    #[actix_rt::test]
    async fn rate_feed_delivers_every_candle_on_schedule() {
        let symbols = [
            Symbol::parse("BTCUSDT").unwrap(),
            Symbol::parse("ETHUSDT").unwrap(),
        ];
        let plan = FeedPlan {
            candles: CandleSource::Replay(candles(&symbols, 8)),
            start: None,
            recovered: 0,
            // 2.5 ms apart: the feed sleeps on the timer, then yields for the remainder.
            pace: Pace::Rate {
                candles_per_sec: 400.0,
                max_inflight: 4,
            },
            stop_after: None,
            reverse_steps: false,
        };
        let sink = Sink::default();
        let (delivered, news, marks, bars) = (
            sink.candles.clone(),
            sink.news.clone(),
            sink.marks.clone(),
            sink.bars.clone(),
        );
        let sink = sink.start();
        let targets = FeedTargets {
            symbols: symbols
                .iter()
                .map(|s| (s.clone(), inbox(sink.clone().recipient())))
                .collect(),
            news: inbox(sink.clone().recipient()),
            risk: inbox(sink.clone().recipient()),
            venue: inbox(sink.recipient()),
            progress: None,
            board: None,
        };
        let inflight = Inflight::new();
        let (done, finished) = oneshot::channel();
        let started = Instant::now();
        FeedActor::new(plan, targets, inflight.clone(), Rc::default(), done).start();
        let outcome = finished.await.unwrap();

        assert_eq!(outcome.candles, 16);
        assert!(outcome.completed);
        assert_eq!(delivered.get(), 16, "every candle reached its symbol actor");
        assert_eq!(news.get(), 8, "news with the first candle of each close");
        assert_eq!(bars.get(), 16);
        assert_eq!(marks.get(), 8, "one mark per bar close");
        assert_eq!(inflight.count(), 0);
        assert!(outcome.high_water <= 4 + 3, "backpressure bounds the queue");
        // Candle 15 is due 15 / 400 s after the start: the schedule is kept, not rushed.
        assert!(started.elapsed() >= Duration::from_micros(37_500));
    }

    #[actix_rt::test]
    async fn rate_feed_past_its_schedule_counts_late_candles() {
        let symbol = Symbol::parse("BTCUSDT").unwrap();
        let plan = FeedPlan {
            candles: CandleSource::Replay(candles(std::slice::from_ref(&symbol), 10)),
            start: None,
            recovered: 0,
            // No schedule to keep: every candle after the first is due at the start.
            pace: Pace::Rate {
                candles_per_sec: f64::INFINITY,
                max_inflight: 100,
            },
            stop_after: None,
            reverse_steps: false,
        };
        let sink = Sink::default().start();
        let targets = FeedTargets {
            symbols: [(symbol, inbox(sink.clone().recipient()))]
                .into_iter()
                .collect(),
            news: inbox(sink.clone().recipient()),
            risk: inbox(sink.clone().recipient()),
            venue: inbox(sink.recipient()),
            progress: None,
            board: None,
        };
        let (done, finished) = oneshot::channel();
        FeedActor::new(plan, targets, Inflight::new(), Rc::default(), done).start();
        let outcome = finished.await.unwrap();
        assert_eq!(outcome.candles, 10);
        assert_eq!(outcome.late, 10);
    }
}
