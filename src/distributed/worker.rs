//! A worker: takes cells from the queue, runs the handler on each, stores its result, acks.
//!
//! Per cell, in this order: the handler runs (on a blocking thread), its result is published
//! and stored by JetStream, and only then is the cell acked. A worker that dies before the
//! ack leaves its cell unacked, and JetStream delivers it to another worker after `ack_wait`
//! (the result may then be stored twice; readers keep one). While a handler runs longer than
//! half of `ack_wait` the worker tells JetStream it is still working (progress acks), so a
//! long cell is not handed to a second worker. A handler error is stored as a failed result
//! and acked: a cell that fails every time fails once, not forever.

use std::future::Future;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::{AckKind, Message};
use futures_util::StreamExt;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::queue::CELL_ID_HEADER;
use super::{
    connect, CellId, CellOutcome, CellQueue, DistributedError, ObjectFetcher, Results, SweepFilter,
    SweepId, Transport,
};

/// How long one pull request waits for a cell before the worker looks again (and, with
/// [`WorkerOptions::until_idle`], checks whether the queue is empty).
const PULL_EXPIRES: Duration = Duration::from_secs(1);

/// The pause after a failed pull request (the connection is down, a reconnect is under way).
const PULL_RETRY: Duration = Duration::from_secs(1);

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Which sweeps' cells it takes.
    pub sweeps: SweepFilter,
    /// Where fetched objects are cached ([`ObjectFetcher`]).
    pub cache_dir: PathBuf,
    /// Cells run at once. Default: the machine's cores.
    pub parallelism: NonZeroUsize,
    /// How long a cell may go without an ack or a progress ack before JetStream gives it to
    /// another worker: how soon a dead worker's cells run again. A running cell sends progress
    /// every half of it. Default 30 s; set on the shared consumer ([`CellQueue::consumer`]).
    pub ack_wait: Duration,
    /// Stop when no cell waits and none runs anywhere (for tests and one-shot runs; a worker
    /// started before the cells are published stops at once).
    pub until_idle: bool,
}

impl WorkerOptions {
    /// Cells of `sweeps`, objects cached in `cache_dir`, one cell per core, until shut down.
    pub fn new(sweeps: SweepFilter, cache_dir: impl Into<PathBuf>) -> Self {
        Self {
            sweeps,
            cache_dir: cache_dir.into(),
            parallelism: std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN),
            ack_wait: Duration::from_secs(30),
            until_idle: false,
        }
    }
}

/// What a worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerSummary {
    /// Cells whose handler returned a result.
    pub succeeded: u64,
    /// Cells whose handler failed (or panicked).
    pub failed: u64,
}

impl std::ops::AddAssign for WorkerSummary {
    fn add_assign(&mut self, other: Self) {
        self.succeeded += other.succeeded;
        self.failed += other.failed;
    }
}

/// Connects to `url` and runs a worker ([`run_worker_on`]).
pub async fn run_worker<H>(
    url: &str,
    options: WorkerOptions,
    handler: H,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<WorkerSummary, DistributedError>
where
    H: Fn(&[u8], &ObjectFetcher) -> anyhow::Result<Vec<u8>> + Send + Sync + 'static,
{
    let transport = connect(url).await?;
    run_worker_on(&transport, options, handler, shutdown).await
}

/// Runs `handler` on cells until `shutdown` completes (the cells running then are finished
/// first) or, with [`WorkerOptions::until_idle`], until the queue is empty. `handler` gets a
/// cell's payload and returns its result payload; it blocks (a backtest) and runs on tokio's
/// blocking pool.
pub async fn run_worker_on<H>(
    transport: &Transport,
    options: WorkerOptions,
    handler: H,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<WorkerSummary, DistributedError>
where
    H: Fn(&[u8], &ObjectFetcher) -> anyhow::Result<Vec<u8>> + Send + Sync + 'static,
{
    let consumer = transport
        .cells()
        .consumer(&options.sweeps, options.ack_wait)
        .await?;
    let lane = Lane {
        ack_wait: options.ack_wait,
        consumer,
        cells: transport.cells().clone(),
        sweeps: options.sweeps.clone(),
        results: transport.results().clone(),
        handler: Arc::new(handler),
        fetcher: Arc::new(ObjectFetcher::new(
            transport.objects().clone(),
            options.cache_dir.clone(),
        )),
        until_idle: options.until_idle,
    };
    let (stop, stopped) = watch::channel(false);
    let mut lanes = JoinSet::new();
    for _ in 0..options.parallelism.get() {
        lanes.spawn(lane.clone().run(stopped.clone()));
    }
    tracing::info!(sweeps = ?options.sweeps, parallelism = options.parallelism, "worker started");
    let mut summary = WorkerSummary::default();
    tokio::pin!(shutdown);
    let mut stopping = false;
    loop {
        tokio::select! {
            () = &mut shutdown, if !stopping => {
                stopping = true;
                let _ = stop.send(true);
            }
            joined = lanes.join_next() => match joined {
                Some(Ok(done)) => summary += done,
                Some(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Some(Err(_)) => {}
                None => break,
            },
        }
    }
    tracing::info!(
        succeeded = summary.succeeded,
        failed = summary.failed,
        "worker stopped"
    );
    Ok(summary)
}

/// The handler as the lanes share it.
type Handler = dyn Fn(&[u8], &ObjectFetcher) -> anyhow::Result<Vec<u8>> + Send + Sync;

/// One cell at a time, pulled from the shared consumer.
#[derive(Clone)]
struct Lane {
    consumer: PullConsumer,
    cells: CellQueue,
    sweeps: SweepFilter,
    results: Results,
    handler: Arc<Handler>,
    fetcher: Arc<ObjectFetcher>,
    ack_wait: Duration,
    until_idle: bool,
}

impl Lane {
    /// Pulls and runs cells until `stopped` turns true or, with `until_idle`, nothing is left.
    async fn run(self, mut stopped: watch::Receiver<bool>) -> WorkerSummary {
        let mut summary = WorkerSummary::default();
        while !*stopped.borrow() {
            // A cell already delivered is run before stopping, not left to time out.
            let pulled = tokio::select! {
                biased;
                pulled = self.pull() => pulled,
                _ = stopped.changed() => break,
            };
            match pulled {
                Ok(Some(message)) => match self.run_cell(message).await {
                    Some(true) => summary.succeeded += 1,
                    Some(false) => summary.failed += 1,
                    None => {}
                },
                Ok(None) if self.until_idle => match self.cells.remaining(&self.sweeps).await {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "cannot count the cells left"),
                },
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(%error, "pulling a cell failed; trying again");
                    tokio::time::sleep(PULL_RETRY).await;
                }
            }
        }
        summary
    }

    /// The next cell, or `None` when none came within [`PULL_EXPIRES`].
    async fn pull(&self) -> Result<Option<Message>, DistributedError> {
        let pulling = |e| DistributedError::nats("pulling a cell", e);
        let mut batch = self
            .consumer
            .batch()
            .max_messages(1)
            .expires(PULL_EXPIRES)
            .messages()
            .await
            .map_err(pulling)?;
        match batch.next().await {
            Some(Ok(message)) => Ok(Some(message)),
            Some(Err(e)) => Err(DistributedError::nats("pulling a cell", e)),
            None => Ok(None),
        }
    }

    /// Runs one cell; `Some(true)` when its handler succeeded, `Some(false)` when it failed,
    /// `None` when the cell was not finished here (it will be delivered again) or was not a
    /// cell.
    async fn run_cell(&self, message: Message) -> Option<bool> {
        let (sweep, cell) = match cell_of(&message) {
            Ok(ids) => ids,
            Err(error) => {
                tracing::warn!(%error, "dropping a message that is not a cell");
                let _ = message.ack_with(AckKind::Term).await;
                return None;
            }
        };
        let started = Instant::now();
        let mut outcome = self.handle(&message).await;
        let mut stored = self.results.publish(&sweep, &cell, &outcome).await;
        if let Err(error @ DistributedError::TooLarge { .. }) = stored {
            outcome = CellOutcome::Failed(error.to_string());
            stored = self.results.publish(&sweep, &cell, &outcome).await;
        }
        if let Err(error) = stored {
            tracing::warn!(%sweep, %cell, %error, "cannot store the result; the cell will run again");
            let _ = message.ack_with(AckKind::Nak(None)).await;
            return None;
        }
        if let Err(error) = message.double_ack().await {
            // The result is stored: a second run only stores a duplicate.
            tracing::warn!(%sweep, %cell, %error, "cannot ack the cell; it may run again");
        }
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match &outcome {
            CellOutcome::Ok(_) => tracing::debug!(%sweep, %cell, elapsed_ms, "cell done"),
            CellOutcome::Failed(error) => {
                tracing::warn!(%sweep, %cell, elapsed_ms, %error, "cell failed")
            }
        }
        Some(matches!(outcome, CellOutcome::Ok(_)))
    }

    /// Runs the handler on `message`'s payload, sending progress acks every half `ack_wait`
    /// while it runs.
    async fn handle(&self, message: &Message) -> CellOutcome {
        let handler = Arc::clone(&self.handler);
        let fetcher = Arc::clone(&self.fetcher);
        let payload = message.payload.clone();
        let mut task = tokio::task::spawn_blocking(move || handler(&payload, &fetcher));
        let half = self.ack_wait / 2;
        let mut progress = tokio::time::interval_at(tokio::time::Instant::now() + half, half);
        let joined = loop {
            tokio::select! {
                joined = &mut task => break joined,
                _ = progress.tick() => {
                    if let Err(error) = message.ack_with(AckKind::Progress).await {
                        tracing::warn!(%error, "cannot tell JetStream the cell is still running");
                    }
                }
            }
        };
        match joined {
            Ok(Ok(result)) => CellOutcome::Ok(result),
            Ok(Err(error)) => CellOutcome::Failed(format!("{error:#}")),
            Err(e) => CellOutcome::Failed(match e.try_into_panic() {
                Ok(panic) => format!("the handler panicked: {}", panic_message(&*panic)),
                Err(e) => format!("the handler did not finish: {e}"),
            }),
        }
    }
}

/// The sweep (from the subject `keel.cells.<sweep>`) and cell (header) of a cell message.
fn cell_of(message: &Message) -> Result<(SweepId, CellId), DistributedError> {
    let subject = message.subject.as_str();
    let malformed = |reason: &str| DistributedError::Malformed {
        subject: subject.to_string(),
        reason: reason.to_string(),
    };
    let sweep = subject
        .strip_prefix("keel.cells.")
        .ok_or_else(|| malformed("not a keel.cells.<sweep> subject"))?;
    let sweep = SweepId::new(sweep).map_err(|e| malformed(&e.to_string()))?;
    let cell = message
        .headers
        .as_ref()
        .and_then(|headers| headers.get(CELL_ID_HEADER))
        .ok_or_else(|| malformed("no Keel-Cell-Id header"))?;
    let cell = CellId::new(cell.as_str()).map_err(|e| malformed(&e.to_string()))?;
    Ok((sweep, cell))
}

/// The text a panic carried, when it is text.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(not text)")
}
