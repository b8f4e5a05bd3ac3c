//! keel's actor runtime (crate `keel-actors`): one supervised actix actor per stage of the
//! graph, each a thin shell around its core in `keel-core`; the feed that drives them in the
//! graph's order; the venue port with the simulated venue and the bridge to a remote one;
//! the journal; the sentiment actor and the feed poller.
//!
//! The shells hold no trading logic: a message in, the core's step, its outputs sent on to
//! the next stage's [`Inbox`](runtime::Inbox) (a `Recipient` of the message type, so no shell
//! names another shell's type).

#![warn(missing_docs)]

pub mod board;
pub mod decisions;
pub mod execution;
pub mod feed;
pub mod fusion;
pub mod journal;
pub mod messages;
pub mod order_manager;
pub mod risk;
pub mod runtime;
pub mod sentiment;
pub mod symbol;

// The layers below, under the names the modules use.
use keel_model as model;
