//! What the actor shells share: the in-flight tracker that lets a replay feed wait until the
//! pipeline has drained, and the run mode carried with each candle.

mod inflight;
mod outbox;
mod supervise;

pub use inflight::{Inflight, Ticket};
pub use outbox::{Inbox, Outbox};
pub use supervise::{
    contain, install_panic_hook, ActorHandle, Chaos, Group, Rehydrate, Supervision,
    SupervisionStats,
};

/// How the pipeline treats a candle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Before the configured start: indicators and news advance, nothing is decided, and
    /// neither the venue nor the order manager sees the candle.
    Warmup,
    /// Already processed before a restart: every decision stage advances exactly as it did,
    /// but venue, risk and order manager are skipped (their state comes from the journal).
    Recovery,
    /// Decisions are made and orders sent.
    Trading,
}
