//! Results of cells: stream `KEEL_RESULTS` (limits retention: kept until deleted), one
//! message per finished cell on `keel.results.<sweep>.<cell>`.
//!
//! A result's header `Keel-Outcome` says `ok` (the payload is the handler's bytes) or `failed`
//! (the payload is the error message, UTF-8). A cell can finish twice (its worker died after
//! publishing the result and before acking the cell): readers keep the first result of each
//! cell and drop the others.

use std::collections::HashSet;

use async_nats::jetstream::consumer::{pull, DeliverPolicy};
use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::stream::{self, RetentionPolicy};
use async_nats::jetstream::{self, Message};
use async_nats::HeaderMap;
use futures_util::StreamExt;

use super::coordinator::{ensure_stream, file_stream, Settings};
use super::{CellId, DistributedError, SweepId};

/// The stream of cell results.
pub const RESULTS_STREAM: &str = "KEEL_RESULTS";

/// The header saying whether the cell succeeded.
const OUTCOME_HEADER: &str = "Keel-Outcome";

/// How one cell ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CellOutcome {
    /// The handler's result payload.
    Ok(Vec<u8>),
    /// The handler's error (its message, with causes), or why its result could not be stored.
    Failed(String),
}

/// One finished cell of a sweep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellResult {
    /// The cell.
    pub cell: CellId,
    /// How it ended.
    pub outcome: CellOutcome,
}

/// Where the result of `cell` of `sweep` is published.
fn result_subject(sweep: &SweepId, cell: &CellId) -> String {
    format!("keel.results.{sweep}.{cell}")
}

/// The stored results of cells.
#[derive(Clone)]
pub struct Results {
    jetstream: jetstream::Context,
    stream: stream::Stream,
}

impl Results {
    /// Gets or creates the `KEEL_RESULTS` stream.
    pub(crate) async fn ensure(
        jetstream: &jetstream::Context,
        settings: &Settings,
    ) -> Result<Self, DistributedError> {
        let config = file_stream(
            RESULTS_STREAM,
            "keel.results",
            RetentionPolicy::Limits,
            settings,
        );
        Ok(Self {
            jetstream: jetstream.clone(),
            stream: ensure_stream(jetstream, config).await?,
        })
    }

    /// Publishes the outcome of `cell` and waits until JetStream has stored it. A result too
    /// large for the server's `max_payload` (1 MiB by default) is
    /// [`DistributedError::TooLarge`].
    pub async fn publish(
        &self,
        sweep: &SweepId,
        cell: &CellId,
        outcome: &CellOutcome,
    ) -> Result<(), DistributedError> {
        let (kind, payload) = match outcome {
            CellOutcome::Ok(bytes) => ("ok", bytes.clone()),
            CellOutcome::Failed(message) => ("failed", message.clone().into_bytes()),
        };
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", format!("{sweep}/{cell}").as_str());
        headers.insert(OUTCOME_HEADER, kind);
        let len = payload.len();
        let action = || format!("storing the result of cell {cell} of {sweep}");
        let ack = self
            .jetstream
            .publish_with_headers(result_subject(sweep, cell), headers, payload.into())
            .await
            .map_err(|e| match e.kind() {
                PublishErrorKind::MaxPayloadExceeded => DistributedError::TooLarge {
                    what: format!("the result of cell {cell} of {sweep}"),
                    len,
                },
                _ => DistributedError::nats(action(), e),
            })?;
        ack.await.map_err(|e| DistributedError::nats(action(), e))?;
        Ok(())
    }

    /// Every result stored for `sweep`, oldest first, one per cell. Reads until it has caught
    /// up with what the stream held when it started (results arriving meanwhile may or may
    /// not be included); with nothing stored it returns at once.
    pub async fn fetch_stored(&self, sweep: &SweepId) -> Result<Vec<CellResult>, DistributedError> {
        let consumer = self.ordered_consumer(sweep).await?;
        let mut results = Vec::new();
        if consumer.cached_info().num_pending == 0 {
            return Ok(results);
        }
        let mut messages = consumer
            .messages()
            .await
            .map_err(|e| DistributedError::nats(format!("reading the results of {sweep}"), e))?;
        let mut seen = HashSet::new();
        loop {
            let Some(message) = messages.next().await else {
                return Err(DistributedError::nats(
                    format!("reading the results of {sweep}"),
                    "the server ended the stream before the last stored result",
                ));
            };
            let message = message.map_err(|e| {
                DistributedError::nats(format!("reading the results of {sweep}"), e)
            })?;
            let left = message
                .info()
                .map_err(|e| DistributedError::nats(format!("reading the results of {sweep}"), e))?
                .pending;
            if let Some(result) = first_of_its_cell(&message, &mut seen) {
                results.push(result);
            }
            if left == 0 {
                return Ok(results);
            }
        }
    }

    /// The results of `sweep` as they are stored, one per cell: first every result already
    /// stored, then each new one. A coordinator (a restarted one too) reads it until it holds
    /// a result for each of its cells.
    pub async fn subscribe(&self, sweep: &SweepId) -> Result<ResultStream, DistributedError> {
        let consumer = self.ordered_consumer(sweep).await?;
        let messages = consumer
            .messages()
            .await
            .map_err(|e| DistributedError::nats(format!("following the results of {sweep}"), e))?;
        Ok(ResultStream {
            sweep: sweep.clone(),
            messages,
            seen: HashSet::new(),
        })
    }

    /// An ordered consumer of everything stored for `sweep`.
    async fn ordered_consumer(
        &self,
        sweep: &SweepId,
    ) -> Result<jetstream::consumer::Consumer<pull::OrderedConfig>, DistributedError> {
        self.stream
            .create_consumer(pull::OrderedConfig {
                filter_subject: format!("keel.results.{sweep}.*"),
                deliver_policy: DeliverPolicy::All,
                ..Default::default()
            })
            .await
            .map_err(|e| DistributedError::nats(format!("opening the results of {sweep}"), e))
    }
}

/// The results of one sweep as they arrive, one per cell ([`Results::subscribe`]).
pub struct ResultStream {
    sweep: SweepId,
    messages: pull::Ordered,
    seen: HashSet<CellId>,
}

impl ResultStream {
    /// The next result of a cell not seen before; waits for one. `None` when the connection
    /// is closed.
    pub async fn next(&mut self) -> Option<Result<CellResult, DistributedError>> {
        loop {
            let message = match self.messages.next().await? {
                Ok(message) => message,
                Err(e) => {
                    let action = format!("following the results of {}", self.sweep);
                    return Some(Err(DistributedError::nats(action, e)));
                }
            };
            if let Some(result) = first_of_its_cell(&message, &mut self.seen) {
                return Some(Ok(result));
            }
        }
    }
}

/// The result `message` carries, unless its cell is in `seen` (then it is a duplicate) or it
/// is not a result keel wrote (then it is logged and skipped); its cell joins `seen`.
fn first_of_its_cell(message: &Message, seen: &mut HashSet<CellId>) -> Option<CellResult> {
    match parse(message) {
        Ok(result) => seen.insert(result.cell.clone()).then_some(result),
        Err(error) => {
            tracing::warn!(%error, "skipping a result keel cannot read");
            None
        }
    }
}

/// The result in `message` (subject `keel.results.<sweep>.<cell>`).
fn parse(message: &Message) -> Result<CellResult, DistributedError> {
    let subject = message.subject.as_str();
    let malformed = |reason: &str| DistributedError::Malformed {
        subject: subject.to_string(),
        reason: reason.to_string(),
    };
    let cell = subject
        .rsplit('.')
        .next()
        .ok_or_else(|| malformed("no cell id in the subject"))?;
    let cell = CellId::new(cell).map_err(|_| malformed("no cell id in the subject"))?;
    let kind = message
        .headers
        .as_ref()
        .and_then(|headers| headers.get(OUTCOME_HEADER))
        .map(|value| value.as_str());
    let outcome = match kind {
        Some("ok") => CellOutcome::Ok(message.payload.to_vec()),
        Some("failed") => CellOutcome::Failed(String::from_utf8_lossy(&message.payload).into()),
        _ => return Err(malformed("no Keel-Outcome header of ok or failed")),
    };
    Ok(CellResult { cell, outcome })
}
