//! Builds the actor graph from settings, runs the feed to its end (or to a shutdown signal),
//! and collects what the order manager recorded.

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use actix::prelude::*;
use keel_actors::board::Board;
use keel_actors::decisions::AccountWatch;
use keel_actors::execution::actor::{ExecutionActor, LatencyLog, VenueBreaker};
use keel_actors::execution::{SimVenue, Venue, VenueFaults, VenueGuard};
use keel_actors::feed::{CandleSource, FeedActor, FeedOutcome, FeedPlan, FeedTargets, Pace};
use keel_actors::fusion::FusionActor;
use keel_actors::journal::{Journal, SledStore};
use keel_actors::messages::{
    Flush, Record, RefusalCounts, SentimentSummary, Summarize, SummarizeDecisions,
};
use keel_actors::order_manager::{OmRehydration, OrderManagerActor};
use keel_actors::risk::RiskActor;
use keel_actors::runtime::{
    install_panic_hook, Inbox, Inflight, Sabotage, Supervision, SupervisionStats,
};
use keel_actors::sentiment::actor::SentimentActor;
use keel_actors::symbol::SymbolActor;
use keel_core::order_manager::{stage, OrderManager, RunRecord};
use keel_core::risk::RiskStage;
use keel_core::strategy::{StrategyKind, StrategyStage};
use keel_core::symbol::SymbolCore;
use keel_model::{Candle, MarketClock, Timestamp};
use keel_supervision::HealthRegistry;
use tokio::sync::{oneshot, Notify};
use tracing::{info, warn};

use super::chaos::{journal_elsewhere, start_chaos_monkey, ChaosKills, ChaosOptions};
use super::decisions::{decider, report_of, searcher};
use super::news::{log_sentiment_summary, recording_session, start_feed_poller};
use super::recovery::{open_journal, Start};
use super::remote::open_remote;
use super::user_news::forward_user_news;
use crate::alerts::{AlertOptions, Alerts};
use crate::backtest::{log_llm_report, replay_analyst, BacktestResult, RunInputs};
use crate::control::{ControlOptions, ControlPlane, DeskParts};
use crate::settings::{AtEnd, Settings};
use keel_binance::stream::MarketStream;
use keel_binance::user_stream::{UserNews, UserStream};

/// How to run the actors.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The journal directory; none: nothing is persisted (tests, benchmarks).
    pub store: Option<std::path::PathBuf>,
    /// Lockstep (the default), paced, or rate-scheduled.
    pub pace: Option<Pace>,
    /// Stop gracefully after this many candles (at a bar close).
    pub stop_after: Option<u64>,
    /// Record feed-to-venue latencies of order-carrying commands.
    pub latencies: Option<LatencyLog>,
    /// Let a chaos monkey kill actors while the replay runs.
    pub chaos: Option<ChaosOptions>,
    /// Make these venue calls fail (numbered from 0), to exercise the venue's breaker.
    pub venue_faults: Option<VenueFaults>,
    /// Test only: the feed sends each candle's steps in reverse order, breaking the declared
    /// order in this executor alone (the parity test must notice).
    pub reverse_steps: bool,
    /// Serve the control plane (`keel run`).
    pub control: Option<ControlOptions>,
    /// Tell webhooks of what an operator must act on (`keel run`).
    pub alerts: Option<AlertOptions>,
    /// The board the run publishes on (none: a fresh one); a caller watching the run keeps a
    /// clone (`keel chaos` waits on it for each bar it closes at the venue).
    pub board: Option<Board>,
    /// Once notified, the feed stops at the next bar close, as on SIGTERM.
    pub stop: Option<Arc<Notify>>,
    /// Replay the candles of this channel instead of `RunInputs::candles` (the soak bench
    /// streams more history than fits in memory).
    pub candle_stream: Option<CandleStream>,
}

/// Candles sent over a channel, in timestamp order, each bar complete; the first run given
/// it takes the receiver.
#[derive(Debug, Clone)]
pub struct CandleStream(
    std::sync::Arc<std::sync::Mutex<Option<tokio::sync::mpsc::Receiver<Candle>>>>,
);

impl CandleStream {
    /// A stream of what `receiver` gets.
    pub fn new(receiver: tokio::sync::mpsc::Receiver<Candle>) -> Self {
        Self(std::sync::Arc::new(std::sync::Mutex::new(Some(receiver))))
    }

    fn take(&self) -> Option<tokio::sync::mpsc::Receiver<Candle>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The supervision report at the end (every actor's state, restarts, mailbox depth).
    pub health: keel_supervision::SupervisionReport,
    /// Failures, restarts and recovery latency seen by the supervisors.
    pub supervision: SupervisionStats,
    /// What the chaos monkey did (empty without chaos).
    pub kills: ChaosKills,
    /// The result in the backtest's shape (same reports, same metrics).
    pub result: BacktestResult,
    /// Everything the order manager recorded, orders included.
    pub record: RunRecord,
    /// How the replay ended.
    pub outcome: FeedOutcome,
    /// What the sentiment actor did (`None`: it could not answer).
    pub sentiment: Option<SentimentSummary>,
}

/// Runs the actor pipeline over `inputs` and returns when the feed has finished (end of
/// data, `stop_after`, or SIGINT/SIGTERM) and the pipeline has drained.
pub fn run_actors(
    settings: &Settings,
    inputs: RunInputs,
    options: RunOptions,
) -> anyhow::Result<RunReport> {
    let system = actix_rt::System::new();
    system.block_on(async {
        // Served while the journal is opened and reconciled: alive, not yet ready.
        let control = options
            .control
            .as_ref()
            .map(ControlPlane::start)
            .transpose()?;
        let begun = begin(settings, &inputs, &options).await;
        let (start, live) = match begun {
            Ok(begun) => begun,
            Err(error) => {
                if let Some(control) = control {
                    control.stop().await;
                }
                return Err(error);
            }
        };
        run_graph(settings, inputs, options, start, live, control).await
    })
}

/// Opens the journal (or not, without a store) and reconciles it with the venue: where the
/// run starts, and the remote venue's candles when there is one.
async fn begin(
    settings: &Settings,
    inputs: &RunInputs,
    options: &RunOptions,
) -> anyhow::Result<(Begin, Option<Live>)> {
    if let Some(binance) = &settings.binance {
        let remote = open_remote(settings, binance, options.store.as_deref()).await?;
        let live = Live {
            candles: remote.candles,
            _stream: remote.stream,
            market_clock: remote.market_clock,
            client: remote.client,
            user: remote.user,
        };
        return Ok(((remote.start, remote.journal, remote.venue), Some(live)));
    }
    let start = match &options.store {
        Some(path) => {
            let (start, journal, venue) = open_journal(settings, path, &inputs.symbols).await?;
            (start, Some(journal), venue)
        }
        None => {
            let exchange = settings.sim_exchange();
            let venue: Box<dyn Venue> = Box::new(SimVenue::new(exchange, None));
            (Start::fresh(settings), None, venue)
        }
    };
    Ok((start, None))
}

/// A run against a remote venue: the venue's candles for the feed.
struct Live {
    candles: tokio::sync::mpsc::Receiver<Candle>,
    /// Keeps the market stream running.
    _stream: MarketStream,
    /// The newest bar the venue has closed: how old each traded bar is.
    market_clock: Arc<MarketClock>,
    /// The venue's REST client.
    client: keel_binance::client::BinanceClient,
    /// The account's order updates, when the venue's WebSocket API is configured.
    user: Option<(UserStream, tokio::sync::mpsc::Receiver<UserNews>)>,
}

/// Where the run starts, the journal it keeps, and the venue it trades at.
type Begin = (Start, Option<Journal<SledStore>>, Box<dyn Venue>);

async fn run_graph(
    settings: &Settings,
    inputs: RunInputs,
    options: RunOptions,
    (start, journal, venue): Begin,
    live: Option<Live>,
    mut control: Option<ControlPlane>,
) -> anyhow::Result<RunReport> {
    let (live_candles, _stream, market_clock, client, user) = match live {
        Some(Live {
            candles,
            _stream,
            market_clock,
            client,
            user,
        }) => (
            Some(candles),
            Some(_stream),
            market_clock,
            Some(client),
            user,
        ),
        None => (None, None, Arc::default(), None, None),
    };
    let (_user_stream, user_news) = user.unzip();
    let RunInputs {
        symbols,
        interval,
        candles,
        start: trading_start,
        headlines,
        analyses,
        decisions,
        ..
    } = inputs;
    let inflight = Inflight::new();
    let shutdown = Rc::new(Cell::new(false));
    listen_for_shutdown(shutdown.clone());
    let tree = settings.tree_of(&symbols);
    if let Some(stop) = options.stop.clone() {
        stop_when_notified(stop, shutdown.clone());
    }
    let supervision = Supervision::with_board(
        &settings.supervision,
        &tree,
        HealthRegistry::new(settings.supervision.intensity.window()),
        shutdown.clone(),
        options.chaos.as_ref().map_or(0, |c| c.seed),
        options.board.clone().unwrap_or_default(),
    );
    supervision.set_deadlines(settings.hangs.deadlines());
    install_panic_hook();
    if let Some(client) = client {
        supervision
            .board()
            .watch_venue_weight(move || client.weight_usage());
    }
    let alerts = options
        .alerts
        .as_ref()
        .and_then(|a| Alerts::start(a, supervision.health().clone(), supervision.board().clone()));
    // The journal is open (this process owns the store) and reconciled: tell `keel status`
    // where the control plane is.
    if let Some(control) = &mut control {
        control.publish_addr()?;
    }
    if options.chaos.is_some() || control.is_some() {
        // The monkey (or an operator) kills for real; nothing has been sent yet.
        supervision
            .allow_kills()
            .map_err(|e| anyhow::anyhow!("chaos: {e}"))?;
    }
    if options.chaos.as_ref().is_some_and(|c| c.count_kills) {
        supervision.count_kills();
    }
    if let Some(sabotage) = options.chaos.as_ref().and_then(|c| c.sabotage) {
        warn!(
            ?sabotage,
            "supervision sabotaged on purpose (keel chaos --sabotage)"
        );
        supervision.sabotage(sabotage);
    }
    if let Some(journal) = &journal {
        // Quarantined messages are written beside the state, on the same store.
        let mut letters = journal.clone();
        supervision.on_dead_letter(move |letter| {
            letters.add_dead_letter(letter).map_err(|e| e.to_string())
        });
    }
    // Every actor joins the tree `TreeSpec::pipeline` declares (DESIGN §2).
    let sentiment_handle = supervision.register("sentiment");
    let symbol_handles: Vec<_> = symbols
        .iter()
        .map(|s| supervision.register(&format!("symbol:{s}")))
        .collect();
    let fusion_handle = supervision.register("fusion");
    let risk_handle = supervision.register("risk");
    let om_handle = supervision.register("order_manager");
    let exec_handle = supervision.register("execution");
    let mut handles = vec![
        sentiment_handle.clone(),
        fusion_handle.clone(),
        risk_handle.clone(),
        om_handle.clone(),
        exec_handle.clone(),
    ];
    handles.extend(symbol_handles.iter().cloned());

    // Senders reach each actor through its routes (they follow it across real kills) and
    // count messages into its mailbox gauge (the health registry's).
    let (om_receiver, exec_receiver, risk_receiver, fusion_receiver, sentiment_receiver) = (
        om_handle.clone(),
        exec_handle.clone(),
        risk_handle.clone(),
        fusion_handle.clone(),
        sentiment_handle.clone(),
    );

    // The order manager talks to execution and risk, and both answer it: create its context
    // first so that its address exists before the actors that need it.
    let om_context = Context::<OrderManagerActor>::new();
    let om = om_context.address();
    let risk_context = Context::<RiskActor>::new();
    let risk = risk_context.address();
    supervision
        .health()
        .register_breaker("venue", keel_supervision::BreakerState::Closed);
    let exec = ExecutionActor::new(
        venue,
        Inbox::of(&om, &om_receiver),
        options.latencies.clone(),
        exec_handle,
        VenueBreaker {
            guard: VenueGuard::new(settings.venue_breaker.clone(), options.venue_faults.clone()),
            risk: Inbox::of(&risk, &risk_receiver),
        },
    )
    .start();
    if let Some(news) = user_news {
        forward_user_news(
            news,
            Inbox::of(&exec, &exec_receiver),
            inflight.clone(),
            symbols.clone(),
        );
    }
    let view = stage::view(&start.orders, Timestamp(0));
    let mut risk_stage = RiskStage::new(
        &settings.strategy,
        &settings.risk,
        start.risk,
        symbols.len(),
    );
    risk_stage.on_trades_closed(&start.unseen_trades);
    let rebuild = {
        let (strategy, risk, n) = (
            settings.strategy.clone(),
            settings.risk.clone(),
            symbols.len(),
        );
        Box::new(move |state| RiskStage::new(&strategy, &risk, state, n))
    };
    let decider = decider(settings, decisions.as_ref())?;
    let account = AccountWatch::default();
    let risk_actor = RiskActor::new(
        risk_stage,
        view,
        Inbox::of(&om, &om_receiver),
        Inbox::of(&om, &om_receiver),
        rebuild,
        risk_handle,
    )
    .with_market_clock(market_clock);
    risk_context.run(match decider {
        Some(_) => risk_actor.publishing_account(account.clone()),
        None => risk_actor,
    });
    let rehydration = OmRehydration {
        orders: settings.order_manager(),
        venue: settings.venue.clone(),
        fresh: OrderManager::new(settings.order_manager(), settings.account.initial_capital),
        supervision: om_handle,
    };
    om_context.run(OrderManagerActor::new(
        start.orders,
        symbols.clone(),
        Inbox::of(&exec, &exec_receiver),
        Inbox::of(&risk, &risk_receiver),
        start.equity,
        match (supervision.sabotaged(), &journal) {
            (Some(Sabotage::DropJournal), Some(real)) => Some(journal_elsewhere(settings, real)?),
            _ => journal.clone(),
        },
        rehydration,
    ));
    let strategy = StrategyStage::new(&settings.strategy, &settings.fusion, &settings.regime);
    let fusion = FusionActor::new(strategy, Inbox::of(&risk, &risk_receiver), fusion_handle);
    let fusion = match decider {
        Some(decider) => fusion.deciding(decider, searcher(settings, decisions.as_ref())?, account),
        None => fusion,
    }
    .start();
    let fusion_news = Inbox::of(&fusion, &fusion_receiver);
    let sentiment_core =
        settings.sentiment_core(replay_analyst(settings, analyses.as_ref()), headlines);
    let sentiment = match recording_session(settings, analyses.as_ref())? {
        Some(session) => {
            SentimentActor::recording(sentiment_core, fusion_news, session, sentiment_handle)
        }
        None => SentimentActor::new(sentiment_core, fusion_news, sentiment_handle),
    }
    .start();
    let poller = start_feed_poller(
        settings,
        &symbols,
        Inbox::of(&sentiment, &sentiment_receiver),
        &supervision,
    )?;
    let symbol_actors: HashMap<_, _> = symbols
        .iter()
        .zip(symbol_handles)
        .map(|(s, handle)| {
            let core = SymbolCore::new(s.clone(), &settings.indicators, &settings.setup);
            let receiver = handle.clone();
            let actor =
                SymbolActor::new(core, Inbox::of(&fusion, &fusion_receiver), handle).start();
            (s.clone(), Inbox::of(&actor, &receiver))
        })
        .collect();
    if let Some(control) = &control {
        control.attach(
            &supervision,
            &tree,
            DeskParts {
                actors: handles.clone(),
                risk: Inbox::of(&risk, &risk_receiver),
                order_manager: Inbox::of(&om, &om_receiver),
                inflight: inflight.clone(),
            },
        );
    }
    if let Some(chaos) = options.chaos.clone() {
        start_chaos_monkey(chaos, handles, &supervision);
    }
    report_supervision_periodically(supervision.clone(), inflight.clone(), shutdown.clone());

    let (done, finished) = oneshot::channel();
    let plan = FeedPlan {
        candles: match (
            live_candles,
            options.candle_stream.as_ref().and_then(CandleStream::take),
        ) {
            (Some(rx), _) | (None, Some(rx)) => CandleSource::Live(rx),
            (None, None) => CandleSource::Replay(candles),
        },
        start: trading_start,
        recovered: start.recovered,
        pace: options.pace.unwrap_or(Pace::Lockstep),
        stop_after: options.stop_after,
        reverse_steps: options.reverse_steps,
    };
    let targets = FeedTargets {
        symbols: symbol_actors,
        news: Inbox::of(&sentiment, &sentiment_receiver),
        risk: Inbox::of(&risk, &risk_receiver),
        venue: Inbox::of(&exec, &exec_receiver),
        progress: journal.is_some().then(|| Inbox::of(&om, &om_receiver)),
        board: Some(supervision.board().clone()),
    };
    FeedActor::new(plan, targets, inflight.clone(), shutdown.clone(), done).start();
    let outcome = finished.await?;
    // The replay is over: no more strikes (and the monkey's handles are let go).
    supervision.clear_delivery_hook();
    if outcome.completed && settings.run.at_end == AtEnd::Wait && !shutdown.get() {
        info!("end of the replay data: waiting for SIGINT or SIGTERM");
        while !shutdown.get() {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    if let Some(poller) = poller {
        poller.abort();
    }
    // The operator's view stays up while the pipeline drains; then the plane stops.
    let report: anyhow::Result<RunReport> = async {
    // Queries go through the routes too: an actor killed during the run has a successor.
    let sentiment_summary = Inbox::of(&sentiment, &sentiment_receiver)
        .ask(Summarize)
        .await?;
    match &sentiment_summary {
        Some(summary) => log_sentiment_summary(summary),
        None => warn!(
            "the sentiment actor could not summarise its work (see the supervision events above)"
        ),
    }
    Inbox::of(&om, &om_receiver).ask(Flush).await?;
    let health = supervision.health().report(std::time::Instant::now());
    info!(inflight_high_water = inflight.high_water(), "{health}");
    if let Some(reason) = supervision.escalated() {
        return Err(Escalated(reason).into());
    }
    let record = Inbox::of(&om, &om_receiver).ask(Record).await?.ok_or_else(|| {
        anyhow::anyhow!("the order manager could not report its orders and equity (see the supervision events in the log)")
    })?;
    let refusals = Inbox::of(&risk, &risk_receiver)
        .ask(RefusalCounts)
        .await?
        .ok_or_else(|| {
            anyhow::anyhow!(
                "risk could not report its refusals (see the supervision events in the log)"
            )
        })?;
    info!(candles = outcome.candles, "actor pipeline drained");
    let llm = if settings.strategy.kind == StrategyKind::Llm {
        let summary = Inbox::of(&fusion, &fusion_receiver)
            .ask(SummarizeDecisions)
            .await?
            .ok_or_else(|| anyhow::anyhow!("fusion could not report the llm strategy's decisions (see the supervision events in the log)"))?;
        let report = report_of(&summary);
        log_llm_report(&report);
        Some(report)
    } else {
        None
    };

    let result = BacktestResult::new(
        settings,
        symbols,
        interval,
        record.clone(),
        outcome.candles,
        &refusals,
    )
    .with_llm(llm);
    Ok(RunReport {
        result,
        record,
        outcome,
        health,
        kills: ChaosKills::from_stats(&supervision.stats()),
        supervision: supervision.stats(),
        sentiment: sentiment_summary,
    })
    }
    .await;
    if let Some(control) = control {
        control.stop().await;
    }
    if let Some(alerts) = alerts {
        alerts.finish();
    }
    report
}

/// The root supervisor gave up: trading was stopped safely (no new order, journal flushed)
/// and the process must exit with code 70 so that a process manager restarts it.
#[derive(Debug, thiserror::Error)]
#[error("supervision escalated to the root: {0}; trading stopped safely (exit code 70)")]
pub struct Escalated(pub String);

/// Logs the one-line supervision report (with every actor's mailbox depth) every ten seconds
/// of wall time until shutdown, with the messages in flight through the whole pipeline.
fn report_supervision_periodically(
    supervision: Supervision,
    inflight: Inflight,
    shutdown: Rc<Cell<bool>>,
) {
    actix_rt::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(10)).await;
            if shutdown.get() {
                break;
            }
            let report = supervision.health().report(std::time::Instant::now());
            info!(
                inflight = inflight.count(),
                inflight_high_water = inflight.high_water(),
                "{report}"
            );
        }
    });
}

/// SIGINT or SIGTERM asks the feed to stop at the next bar close; a second signal is logged
/// and ignored (the drain and the journal flush must finish).
fn listen_for_shutdown(shutdown: Rc<Cell<bool>>) {
    actix_rt::spawn(async move {
        loop {
            let signal = wait_for_signal().await;
            if shutdown.replace(true) {
                warn!(signal, "shutdown already in progress");
            } else {
                warn!(
                    signal,
                    "shutdown requested: stopping intake at the next bar close"
                );
            }
        }
    });
}

/// The caller's `stop` asks the feed to stop at the next bar close, like a signal.
fn stop_when_notified(stop: Arc<Notify>, shutdown: Rc<Cell<bool>>) {
    actix_rt::spawn(async move {
        stop.notified().await;
        info!("stop requested by the caller: stopping intake at the next bar close");
        shutdown.set(true);
    });
}

#[cfg(unix)]
async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        std::future::pending::<()>().await;
        unreachable!()
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> &'static str {
    let _ = tokio::signal::ctrl_c().await;
    "ctrl-c"
}
