//! The execution actor: the execution stage over one venue behind the exchange port. It
//! carries out the order manager's commands and tells the venue about each closed bar, one
//! call at a time so that its messages keep their order and each step stays in flight (its
//! ticket held) until the venue has answered. Every call goes through the venue's circuit
//! breaker. News the venue pushes (an order changed) is read at once, between bars, as a
//! bar's close would read it.

use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use actix::prelude::*;
use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;
use tracing::{error, info};

use super::{Venue, VenueAnswer, VenueGuard, VenueHalt};
use crate::messages::{Execute, Settle, VenueBar, VenueHealth, VenueNews};
use crate::model::{Candle, ExecutionReport, Timestamp};
use crate::runtime::{
    contained_future, delivery_history, hold, supervise, supervise_failed, ActorHandle, Inbox,
    OnHang, Rehydrate, RehydrateError, Respawn, Ticket,
};
use keel_core::order_manager::OrderCommand;
use keel_supervision::{BreakerState, Permit, Transition};

/// Who the board names when this actor cannot write the journal.
const JOURNAL_WRITER: &str = "execution";

/// Feed-to-venue latencies of the commands that carried an order, for the benchmark.
pub type LatencyLog = Rc<RefCell<Vec<Duration>>>;

/// The venue's circuit breaker and whom it tells.
pub struct VenueBreaker {
    /// The breaker (and any faults to inject).
    pub guard: VenueGuard,
    /// Risk, which goes reduce-only while the breaker is open.
    pub risk: Inbox<VenueHealth>,
}

/// The execution stage over one venue.
pub struct ExecutionActor {
    /// `None` while a call is in flight.
    venue: Option<Box<dyn Venue>>,
    /// Why trading on the venue is halted (its state cannot be journalled), if it is.
    halted: Option<String>,
    om: Inbox<Settle>,
    latencies: Option<LatencyLog>,
    supervision: ActorHandle,
    guard: VenueGuard,
    risk: Inbox<VenueHealth>,
    /// The close of the newest bar seen: the time news between bars is read at.
    market_now: Timestamp,
}

/// One call to make.
#[derive(Debug, Clone)]
enum Work {
    Bar(VenueBar),
    Commands(Execute),
    News(VenueNews),
}

/// How the breaker sees a call: refused, let through (to be ended with its outcome), or not a
/// call at all.
enum Gate {
    Refused(String),
    Permitted(Permit),
    Free,
}

/// What a call came back with: the venue, and its answer, or why the venue failed, or the
/// panic it raised.
type Finished = (
    Box<dyn Venue>,
    Result<Result<VenueAnswer, VenueHalt>, Box<dyn Any + Send>>,
);

impl ExecutionActor {
    /// The stage over `venue`, reporting to `om`; `latencies` records how long each
    /// order-carrying command batch took from the feed.
    pub fn new(
        venue: Box<dyn Venue>,
        om: Inbox<Settle>,
        latencies: Option<LatencyLog>,
        supervision: ActorHandle,
        breaker: VenueBreaker,
    ) -> Self {
        Self {
            venue: Some(venue),
            halted: None,
            om,
            latencies,
            supervision,
            guard: breaker.guard,
            risk: breaker.risk,
            market_now: Timestamp(0),
        }
    }

    /// Logs breaker changes and tells risk when the venue becomes (un)usable.
    fn breaker_changed(&self, transitions: &[Transition]) {
        for transition in transitions {
            self.supervision.breaker_changed("venue", transition);
            match transition.to {
                BreakerState::Open => self.risk.send(VenueHealth { reduce_only: true }),
                BreakerState::Closed => self.risk.send(VenueHealth { reduce_only: false }),
                BreakerState::HalfOpen => {}
            }
        }
    }

    /// Asks the breaker whether a call may go out now.
    fn gate(&mut self, now: Timestamp) -> Gate {
        let (permit, transitions) = self.guard.begin(now);
        self.breaker_changed(&transitions);
        match permit {
            Ok(permit) => Gate::Permitted(permit),
            Err(why) => Gate::Refused(why.to_string()),
        }
    }

    /// Works one message (under [`supervise`]): the call to the venue goes out now and its
    /// answer is settled when it comes back, this actor's mailbox held meanwhile. The venue
    /// leaves `self` only with the call, which hands it back whatever happens.
    fn run(&mut self, work: &Work, ctx: &mut Context<Self>) {
        let Some(venue) = self.venue.as_ref() else {
            // Never while the mailbox is held for a call; a bug if it happens.
            error!(
                actor = "execution",
                ?work,
                "no venue to work with: a call is in flight"
            );
            return;
        };
        let (now, ticket) = match work {
            Work::Bar(bar) => (bar.candle.close_time(), bar.ticket.clone()),
            Work::Commands(exec) => (exec.now, exec.ticket.clone()),
            Work::News(news) => (self.market_now, news.ticket.clone()),
        };
        self.market_now = self.market_now.max(now);
        let (gate, request) = match work {
            Work::Commands(exec) => {
                if exec.commands.is_empty() {
                    return;
                }
                self.record_latency(exec);
                let gate = self.gate(now);
                if let Gate::Refused(why) = &gate {
                    let reports = refused(&exec.commands, why, now);
                    return self.settle(reports, now, ticket);
                }
                (gate, Request::Execute(exec.commands.clone(), now))
            }
            Work::Bar(bar) => {
                if venue.bar_is_call(&bar.candle.symbol) {
                    // A remote venue is asked what it did; while its breaker is open the bar
                    // is skipped (its fills are learnt at the first bar after it closes).
                    let gate = self.gate(now);
                    if matches!(gate, Gate::Refused(_)) {
                        return;
                    }
                    (gate, Request::Bar(bar.candle.clone()))
                } else if self.guard.state() != BreakerState::Closed {
                    // No order to try the venue with: a harmless read is the trial call, then
                    // the bar is worked as usual.
                    let gate = self.gate(now);
                    let candle = bar.candle.clone();
                    let request = match gate {
                        Gate::Permitted(_) => Request::ProbeThenBar(candle),
                        _ => Request::Bar(candle),
                    };
                    (gate, request)
                } else {
                    (Gate::Free, Request::Bar(bar.candle.clone()))
                }
            }
            Work::News(news) => {
                // Before the first bar the start-up has just read everything; with nothing at
                // the venue there is nothing to read. While the breaker is open the news waits
                // for the first bar after it closes, as a bar's fills do.
                if now == Timestamp(0) || !venue.news_is_call(news.symbol.as_ref()) {
                    return;
                }
                let gate = self.gate(now);
                if matches!(gate, Gate::Refused(_)) {
                    return;
                }
                let request = Request::News {
                    symbol: news.symbol.clone(),
                    now,
                    event_time: news.event_time,
                };
                (gate, request)
            }
        };
        // While halted, the venue's state is journalled first; the work goes out only then.
        let request = match self.halted {
            Some(_) => Request::Resume(Box::new(request)),
            None => request,
        };
        let Some(venue) = self.venue.take() else {
            return;
        };
        let job = call(venue, request);
        // The in-process venue answers at once: settle now, without a trip through the loop;
        // a panic inside it is this handler's and goes on unwinding to the supervisor. A
        // remote venue's call is awaited with the actor's mailbox paused (polling it again
        // there re-registers the real waker: only the latest poll's waker is ever woken); a
        // panic inside it goes to the supervisor from there, with the work to deliver again.
        // The message is acknowledged when the call is settled.
        let mut job = job;
        let waker = std::task::Waker::noop();
        match job
            .as_mut()
            .poll(&mut std::task::Context::from_waker(waker))
        {
            Poll::Ready(finished) => {
                if let Some(panic) = self.finish(finished, gate, now, ticket) {
                    std::panic::resume_unwind(panic);
                }
            }
            Poll::Pending => {
                let work = work.clone();
                let history = delivery_history();
                // A call past the deadline may have reached the venue: sending the work again
                // could repeat it, so a hang stops trading (the journal holds what is in doubt).
                hold(self, ctx, job, OnHang::Stop, move |finished, act, ctx| {
                    if let Some(panic) = act.finish(finished, gate, now, ticket) {
                        supervise_failed(act, work, history, panic, ctx, Self::run);
                    }
                })
            }
        }
    }

    /// Settles a call's answer; a panic inside the call is handed back for the supervisor.
    fn finish(
        &mut self,
        finished: Finished,
        gate: Gate,
        now: Timestamp,
        ticket: Ticket,
    ) -> Option<Box<dyn Any + Send>> {
        let (venue, outcome) = finished;
        self.venue = Some(venue);
        // A halt is the journal's failure, not the venue's: the breaker does not count it.
        let failed = match &outcome {
            Ok(Ok(answer)) => answer.failures > 0,
            Ok(Err(_)) => false,
            Err(_) => true,
        };
        if let Gate::Permitted(permit) = gate {
            let transitions = self.guard.end(permit, now, !failed);
            self.breaker_changed(&transitions);
        }
        match outcome {
            Ok(Ok(answer)) => {
                if self.halted.take().is_some() {
                    info!(
                        actor = "execution",
                        "the venue's state is journalled again: trading on the venue resumes"
                    );
                    self.supervision
                        .board()
                        .set_journal_failure(JOURNAL_WRITER, None);
                }
                self.settle(answer.reports, now, ticket)
            }
            Ok(Err(halt)) => {
                if self.halted.is_none() {
                    error!(actor = "execution", error = %halt, "the venue's state cannot be journalled: no order leaves until it is");
                }
                // Told to the operator (readiness, status, metric, alert); every later message
                // tries to journal the state again first.
                self.supervision
                    .board()
                    .set_journal_failure(JOURNAL_WRITER, Some(halt.reason.clone()));
                self.halted = Some(halt.reason);
                // What the call learnt before the write failed still reaches the order manager.
                self.settle(halt.reports, now, ticket)
            }
            Err(panic) => return Some(panic),
        }
        None
    }

    fn record_latency(&self, exec: &Execute) {
        if let (Some(log), Some(born)) = (&self.latencies, exec.born) {
            if exec
                .commands
                .iter()
                .any(|c| matches!(c, OrderCommand::Submit(_)))
            {
                log.borrow_mut().push(born.elapsed());
            }
        }
    }

    fn settle(&self, reports: Vec<ExecutionReport>, now: Timestamp, ticket: Ticket) {
        if !reports.is_empty() {
            self.om.send(Settle {
                reports,
                now,
                ticket,
            });
        }
    }
}

/// A call to the venue, owning what it carries.
enum Request {
    Execute(Vec<OrderCommand>, Timestamp),
    Bar(Candle),
    /// The breaker's trial read, then the bar.
    ProbeThenBar(Candle),
    /// The venue's news of `symbol` (`None`: every symbol), read at `now`.
    News {
        symbol: Option<crate::model::Symbol>,
        now: Timestamp,
        event_time: Option<i64>,
    },
    /// After a halt: the venue's state journalled again, then the request.
    Resume(Box<Request>),
}

impl Request {
    fn send<'a>(
        &'a self,
        venue: &'a mut dyn Venue,
    ) -> LocalBoxFuture<'a, Result<VenueAnswer, VenueHalt>> {
        async move {
            match self {
                Request::Execute(commands, now) => venue.execute(commands, *now).await,
                Request::Bar(candle) => venue.bar_closed(candle).await,
                Request::News {
                    symbol,
                    now,
                    event_time,
                } => {
                    let answer = venue.news(symbol.as_ref(), *now).await?;
                    if let Some(event_time) = event_time {
                        log_fill_latency(&answer, *event_time);
                    }
                    Ok(answer)
                }
                Request::ProbeThenBar(candle) => {
                    let tried = venue.probe(&candle.symbol).await?.failures;
                    let mut answer = venue.bar_closed(candle).await?;
                    answer.failures += tried;
                    Ok(answer)
                }
                Request::Resume(then) => match venue.resume().await {
                    Ok(()) => then.send(venue).await,
                    Err(mut halt) => {
                        // Commands that could not go out are told to the order manager as
                        // refused unsent.
                        if let Request::Execute(commands, now) = then.as_ref() {
                            let why = format!("trading halted: {}", halt.reason);
                            halt.reports.extend(refused(commands, &why, *now));
                        }
                        Err(halt)
                    }
                },
            }
        }
        .boxed_local()
    }
}

/// Sends `request` to `venue` with panics caught (and counted as contained: the supervisor
/// handles them), handing the venue back either way.
fn call(mut venue: Box<dyn Venue>, request: Request) -> LocalBoxFuture<'static, Finished> {
    async move {
        // The request is made inside the guarded poll: an in-process venue works when called.
        let outcome = contained_future(request.send(venue.as_mut())).await;
        (venue, outcome)
    }
    .boxed_local()
}

/// Logs, for each fill the venue pushed word of, how long it took from the venue's event to
/// keel's journal (`journal_us`: the venue book holding it journalled) and to the end of the
/// call (`told_us`: its exits placed or cancelled, the order manager about to be told). µs of
/// the wall clock against the venue's event time (ms): a comparison across two clocks, exact
/// only against a venue on this machine.
fn log_fill_latency(answer: &VenueAnswer, event_time: i64) {
    let since_event = |at: std::time::SystemTime| {
        at.duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as i64)
            - event_time.saturating_mul(1000)
    };
    let told_us = since_event(std::time::SystemTime::now());
    let journal_us = answer.fills_journalled_at.map_or(told_us, since_event);
    for report in &answer.reports {
        if let ExecutionReport::Fill(fill) = report {
            info!(actor = "execution", symbol = %fill.symbol, trade_id = fill.trade_id.0, journal_us, told_us, "fill from the user data stream journalled");
        }
    }
}

/// The commands, each rejected unsent with `why`: the order manager learns they never left.
fn refused(commands: &[OrderCommand], why: &str, now: Timestamp) -> Vec<ExecutionReport> {
    commands
        .iter()
        .map(|c| ExecutionReport::Rejected {
            id: c.order_id().clone(),
            reason: why.to_string(),
            ts: now,
        })
        .collect()
}

impl Rehydrate for ExecutionActor {
    fn supervision(&self) -> &ActorHandle {
        &self.supervision
    }

    fn rehydrate(&mut self) -> Result<(), RehydrateError> {
        match self.venue.as_mut() {
            Some(venue) => venue.reload(),
            // A call is in flight: the venue is reloaded when it comes back, if it panicked.
            None => Ok(()),
        }
    }
}

impl Respawn for ExecutionActor {
    /// The venue (its connection, or the in-process exchange, reloaded from the journal by
    /// `rehydrate`) and its breaker are the dependency's, not this instance's: they pass to
    /// the successor, with a halt that still holds.
    fn respawn(&mut self) -> Self {
        let placeholder = VenueGuard::new(Default::default(), None);
        Self {
            venue: self.venue.take(),
            halted: self.halted.take(),
            om: self.om.clone(),
            latencies: self.latencies.clone(),
            supervision: self.supervision.clone(),
            guard: std::mem::replace(&mut self.guard, placeholder),
            risk: self.risk.clone(),
            market_now: self.market_now,
        }
    }
}

impl Actor for ExecutionActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.supervision.arm(ctx);
        let venue = self.venue.as_ref().map_or("?", |v| v.name());
        info!(
            actor = "execution",
            venue,
            event = "started",
            "actor started"
        );
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        info!(actor = "execution", event = "stopped", "actor stopped");
    }
}

impl Handler<VenueBar> for ExecutionActor {
    type Result = ();

    fn handle(&mut self, msg: VenueBar, ctx: &mut Self::Context) {
        supervise(self, Work::Bar(msg), ctx, Self::run);
    }
}

impl Handler<Execute> for ExecutionActor {
    type Result = ();

    fn handle(&mut self, msg: Execute, ctx: &mut Self::Context) {
        supervise(self, Work::Commands(msg), ctx, Self::run);
    }
}

impl Handler<VenueNews> for ExecutionActor {
    type Result = ();

    fn handle(&mut self, msg: VenueNews, ctx: &mut Self::Context) {
        supervise(self, Work::News(msg), ctx, Self::run);
    }
}
