//! The distributed transport of `keel sweep`, over NATS JetStream: cells go out on a work
//! queue, workers run them and store their results, inputs travel as objects named by their
//! SHA-256. Payloads are opaque bytes; what a cell and a result mean is the sweep's business.
//!
//! - [`queue`](crate::distributed::queue): stream `KEEL_CELLS` (work-queue retention),
//!   subjects `keel.cells.<sweep>`, one durable pull consumer shared by the workers.
//! - [`results`](crate::distributed::results): stream `KEEL_RESULTS` (kept), subjects
//!   `keel.results.<sweep>.<cell>`.
//! - [`objects`](crate::distributed::objects): object bucket `keel-objects` and a verified
//!   local cache.
//! - [`worker`](crate::distributed::worker): the worker loop.
//! - [`coordinator`](crate::distributed::coordinator): connecting and ensuring the streams.
//!
//! Sweep and cell ids are subject tokens ([`SweepId`], [`CellId`]): ASCII letters, digits,
//! `-` and `_` (a hex hash is fine).

pub mod coordinator;
mod error;
mod ids;
pub mod objects;
pub mod queue;
pub mod results;
pub mod worker;

pub use coordinator::{connect, connect_with, Settings, Transport};
pub use error::DistributedError;
pub use ids::{CellId, SweepId};
pub use objects::{ObjectFetcher, ObjectHash, Objects};
pub use queue::{backlog, Backlog, CellQueue, Published, SweepFilter};
pub use results::{CellOutcome, CellResult, ResultStream, Results};
pub use worker::{run_worker, run_worker_on, WorkerOptions, WorkerSummary};
