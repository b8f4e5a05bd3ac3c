//! The work queue of cells: stream `KEEL_CELLS`, one message per cell on
//! `keel.cells.<sweep>`, consumed by every worker through one shared durable pull consumer.
//!
//! The stream's retention is `WorkQueue`: a cell leaves the stream when a worker acks it, and
//! only then. A cell whose worker dies unacked is delivered again after the consumer's
//! `ack_wait`, without limit on the number of deliveries.

use std::time::Duration;

use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use async_nats::jetstream::stream::{self, ConsumerErrorKind, RetentionPolicy};
use async_nats::jetstream::{self, context::PublishAckFuture, ErrorCode};
use async_nats::HeaderMap;
use futures_util::StreamExt;

use super::coordinator::{ensure_stream, file_stream, Settings};
use super::{CellId, DistributedError, SweepId};

/// The stream of cells waiting for a worker.
pub const CELLS_STREAM: &str = "KEEL_CELLS";

/// The header carrying a cell's id (the subject carries only its sweep).
pub(crate) const CELL_ID_HEADER: &str = "Keel-Cell-Id";

/// Publishes in flight before their acks are awaited.
const PUBLISH_WINDOW: usize = 256;

/// Which cells a worker takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SweepFilter {
    /// Cells of every sweep (consumer `keel-workers`).
    All,
    /// Cells of one sweep (consumer `keel-workers-<sweep>`).
    Sweep(SweepId),
}

impl SweepFilter {
    /// The subject filter: `keel.cells.>` or `keel.cells.<sweep>`.
    fn subject(&self) -> String {
        match self {
            Self::All => "keel.cells.>".to_string(),
            Self::Sweep(sweep) => cells_subject(sweep),
        }
    }

    /// The durable consumer shared by all workers with this filter.
    fn consumer_name(&self) -> String {
        match self {
            Self::All => "keel-workers".to_string(),
            Self::Sweep(sweep) => format!("keel-workers-{sweep}"),
        }
    }
}

/// Where the cells of `sweep` are published.
pub(crate) fn cells_subject(sweep: &SweepId) -> String {
    format!("keel.cells.{sweep}")
}

/// What publishing a batch of cells did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Published {
    /// Cells stored in the queue.
    pub new: usize,
    /// Cells the stream already had seen within its duplicate window (same sweep and cell
    /// id) and dropped.
    pub duplicates: usize,
}

/// The cells taken and not taken, as the shared consumer sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backlog {
    /// Cells no worker has taken yet.
    pub waiting: u64,
    /// Cells taken by a worker and not acked yet (running, or held by a dead worker until
    /// `ack_wait` runs out).
    pub running: u64,
}

/// The work queue of cells.
#[derive(Clone)]
pub struct CellQueue {
    jetstream: jetstream::Context,
    stream: stream::Stream,
}

impl CellQueue {
    /// Gets or creates the `KEEL_CELLS` stream.
    pub(crate) async fn ensure(
        jetstream: &jetstream::Context,
        settings: &Settings,
    ) -> Result<Self, DistributedError> {
        let config = file_stream(
            CELLS_STREAM,
            "keel.cells",
            RetentionPolicy::WorkQueue,
            settings,
        );
        Ok(Self {
            jetstream: jetstream.clone(),
            stream: ensure_stream(jetstream, config).await?,
        })
    }

    /// Publishes `cells` of `sweep` and waits until JetStream has stored each one.
    ///
    /// Each message's `Nats-Msg-Id` is `<sweep>/<cell>`, so publishing a cell again within the
    /// stream's duplicate window (an hour by default, [`Settings::duplicate_window`]) stores
    /// nothing: a coordinator that restarts and republishes its whole grid does not make the
    /// workers run a cell twice. Past that window a republished cell runs again, so a
    /// restarted coordinator should publish only the cells that have no stored result.
    /// A payload must fit the server's `max_payload` (1 MiB by default).
    pub async fn publish_cells(
        &self,
        sweep: &SweepId,
        cells: &[(CellId, Vec<u8>)],
    ) -> Result<Published, DistributedError> {
        let subject = cells_subject(sweep);
        let mut published = Published::default();
        for window in cells.chunks(PUBLISH_WINDOW) {
            let mut acks: Vec<(&CellId, PublishAckFuture)> = Vec::with_capacity(window.len());
            for (cell, payload) in window {
                let mut headers = HeaderMap::new();
                headers.insert("Nats-Msg-Id", format!("{sweep}/{cell}").as_str());
                headers.insert(CELL_ID_HEADER, cell.as_str());
                let ack = self
                    .jetstream
                    .publish_with_headers(subject.clone(), headers, payload.clone().into())
                    .await
                    .map_err(|e| {
                        DistributedError::nats(format!("publishing cell {cell} of {sweep}"), e)
                    })?;
                acks.push((cell, ack));
            }
            for (cell, ack) in acks {
                let ack = ack.await.map_err(|e| {
                    DistributedError::nats(format!("storing cell {cell} of {sweep}"), e)
                })?;
                if ack.duplicate {
                    published.duplicates += 1;
                } else {
                    published.new += 1;
                }
            }
        }
        tracing::debug!(%sweep, new = published.new, duplicates = published.duplicates, "cells published");
        Ok(published)
    }

    /// The durable pull consumer that all workers with `filter` share, created, or updated,
    /// with `ack_wait`: how long a worker may hold a cell without acking (or sending
    /// progress) before it is delivered to another worker. Workers of one filter should agree
    /// on it; the last one to start sets it.
    ///
    /// A work-queue stream allows one consumer per subject, so workers for all sweeps and
    /// workers for one sweep cannot run against the same server at the same time: the second
    /// kind gets an error from the server.
    pub async fn consumer(
        &self,
        filter: &SweepFilter,
        ack_wait: Duration,
    ) -> Result<jetstream::consumer::PullConsumer, DistributedError> {
        let name = filter.consumer_name();
        let config = pull::Config {
            durable_name: Some(name.clone()),
            filter_subject: filter.subject(),
            deliver_policy: DeliverPolicy::All,
            ack_policy: AckPolicy::Explicit,
            ack_wait,
            max_deliver: -1,
            ..Default::default()
        };
        let consumer = self.stream.create_consumer(config).await.map_err(|e| {
            let overlapping = matches!(e.kind(), ConsumerErrorKind::JetStream(ref j)
                if [ErrorCode::CONSUMER_WQ_CONSUMER_NOT_UNIQUE, ErrorCode::CONSUMER_WQ_MULTIPLE_UNFILTERED].contains(&j.error_code()));
            let hint = if overlapping {
                " (a work queue allows one consumer per subject: workers for all sweeps and \
                 workers for one sweep cannot share a server)"
            } else {
                ""
            };
            DistributedError::nats(format!("opening consumer {name}{hint}"), e)
        })?;
        let found = &consumer.cached_info().config;
        if found.ack_policy != AckPolicy::Explicit
            || found.filter_subject != filter.subject()
            || found.ack_wait != ack_wait
        {
            return Err(DistributedError::Incompatible {
                what: format!("consumer {name}"),
                expected: format!(
                    "explicit acks, filter {} and ack wait {ack_wait:?}",
                    filter.subject()
                ),
                found: format!(
                    "{:?} acks, filter {:?} and ack wait {:?}",
                    found.ack_policy, found.filter_subject, found.ack_wait
                ),
            });
        }
        Ok(consumer)
    }

    /// How many cells matching `filter` the queue holds: waiting, or taken by a worker and not
    /// acked yet (running, or held by a dead worker until its `ack_wait` runs out). Zero when
    /// every published cell is finished.
    pub async fn remaining(&self, filter: &SweepFilter) -> Result<u64, DistributedError> {
        let counting = |e| DistributedError::nats("counting the cells in the queue", e);
        let mut subjects = self
            .stream
            .info_with_subjects(filter.subject())
            .await
            .map_err(counting)?;
        let mut cells = 0;
        while let Some(subject) = subjects.next().await {
            cells += subject.map_err(counting)?.1 as u64;
        }
        Ok(cells)
    }
}

/// How many cells `consumer` (a workers' consumer from [`CellQueue::consumer`]) has handed out
/// and not had acked, and how many it has yet to hand out.
pub async fn backlog(
    consumer: &jetstream::consumer::PullConsumer,
) -> Result<Backlog, DistributedError> {
    let info = consumer
        .get_info()
        .await
        .map_err(|e| DistributedError::nats("reading the cell consumer's state", e))?;
    Ok(Backlog {
        waiting: info.num_pending,
        running: info.num_ack_pending as u64,
    })
}
