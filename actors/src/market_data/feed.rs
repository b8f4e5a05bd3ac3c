//! The feed actor: replays candles into the actor pipeline.
//!
//! Per candle it sends three steps — the bar to the venue, the event time to the analyst,
//! the candle to its symbol actor — and, when the close time moves on, a mark to risk. In
//! **lockstep** it waits for the pipeline to drain after each step, so the actors see exactly
//! the order the backtest loop uses; **paced** does the same and sleeps between bar closes at
//! a speed-up of real time; **free-running** only caps the messages in flight (for the latency
//! benchmark; its interleaving is not deterministic).

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use tokio::sync::oneshot;
use tracing::info;

use crate::execution::actor::VenueBar;
use crate::model::{Candle, Symbol, Timestamp};
use crate::risk::actor::Mark;
use crate::runtime::{Inflight, Mode};
use crate::sentiment::actor::NewsTick;
use crate::symbol::actor::CandleClosed;

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
    /// Never waits for a drain; at most `max_inflight` messages in flight.
    FreeRunning {
        /// Backpressure limit.
        max_inflight: usize,
    },
}

/// Where the feed's steps go.
pub struct FeedTargets {
    /// One symbol actor per symbol.
    pub symbols: HashMap<Symbol, Recipient<CandleClosed>>,
    /// The sentiment actor.
    pub news: Recipient<NewsTick>,
    /// The risk actor (marks).
    pub risk: Recipient<Mark>,
    /// The execution actor (venue bars).
    pub venue: Recipient<VenueBar>,
}

/// What to replay.
pub struct FeedPlan {
    /// Candles in timestamp order.
    pub candles: Vec<Candle>,
    /// Bars before this only warm up the indicators.
    pub start: Option<Timestamp>,
    /// Bars closing at or before this were processed before a restart (recovery).
    pub recovered_until: Option<Timestamp>,
    /// How fast.
    pub pace: Pace,
    /// Stop (gracefully, at a bar close) after this many candles.
    pub stop_after: Option<u64>,
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
        let replay = replay(
            plan,
            self.targets.clone(),
            self.inflight.clone(),
            self.shutdown.clone(),
        );
        ctx.spawn(replay.into_actor(self).map(|outcome, act, ctx| {
            info!(
                actor = "feed",
                event = "stopped",
                candles = outcome.candles,
                completed = outcome.completed,
                high_water = outcome.high_water,
                "replay finished"
            );
            if let Some(done) = act.done.take() {
                let _ = done.send(outcome);
            }
            ctx.stop();
        }));
    }
}

fn mode_of(candle: &Candle, plan: &FeedPlan) -> Mode {
    if plan.start.is_some_and(|s| candle.open_time < s) {
        Mode::Warmup
    } else if plan
        .recovered_until
        .is_some_and(|r| candle.close_time() <= r)
    {
        Mode::Recovery
    } else {
        Mode::Trading
    }
}

async fn replay(
    plan: FeedPlan,
    targets: Rc<FeedTargets>,
    inflight: Inflight,
    shutdown: Rc<Cell<bool>>,
) -> FeedOutcome {
    let wait = !matches!(plan.pace, Pace::FreeRunning { .. });
    let drain = |inflight: Inflight| async move {
        match plan.pace {
            Pace::FreeRunning { max_inflight } => inflight.below(max_inflight).await,
            _ => inflight.idle().await,
        }
    };
    let mut pending_mark: Option<Timestamp> = None;
    let mut last_close: Option<Timestamp> = None;
    let mut sent = 0u64;
    let mut completed = true;
    for candle in &plan.candles {
        let close = candle.close_time();
        if last_close.is_some_and(|last| last != close) {
            if let Some(ts) = pending_mark.take() {
                let _ = targets.risk.try_send(Mark {
                    ts,
                    ticket: inflight.ticket(),
                });
                drain(inflight.clone()).await;
            }
            // Stop only at a bar close, after its mark: nothing is left half-done.
            if shutdown.get() || plan.stop_after.is_some_and(|n| sent >= n) {
                completed = false;
                break;
            }
            if let (Pace::Paced { speedup }, Some(last)) = (plan.pace, last_close) {
                let event_ms = (close.millis() - last.millis()).max(0) as f64;
                tokio::time::sleep(Duration::from_secs_f64(event_ms / 1000.0 / speedup)).await;
            }
        }
        last_close = Some(close);
        let mode = mode_of(candle, &plan);
        let Some(symbol) = targets.symbols.get(&candle.symbol) else {
            continue;
        };
        let born = Instant::now();
        if mode != Mode::Recovery {
            let _ = targets.venue.try_send(VenueBar {
                candle: candle.clone(),
                ticket: inflight.ticket(),
            });
            if wait {
                drain(inflight.clone()).await;
            }
        }
        let _ = targets.news.try_send(NewsTick {
            now: close,
            ticket: inflight.ticket(),
        });
        if wait {
            drain(inflight.clone()).await;
        }
        let _ = symbol.try_send(CandleClosed {
            candle: candle.clone(),
            mode,
            born,
            ticket: inflight.ticket(),
        });
        drain(inflight.clone()).await;
        sent += 1;
        if mode == Mode::Trading {
            pending_mark = Some(close);
        }
    }
    if let Some(ts) = pending_mark.take() {
        if completed {
            let _ = targets.risk.try_send(Mark {
                ts,
                ticket: inflight.ticket(),
            });
        }
    }
    inflight.idle().await;
    FeedOutcome {
        candles: sent,
        completed,
        high_water: inflight.high_water(),
    }
}
