//! The order manager's durable journal (DESIGN §5) and what a restart recovers from it.
//!
//! The journal keeps snapshots, not events: the order manager's whole state is written and
//! flushed before an order leaves the process and after every transition; the in-process
//! venue's state likewise; each bar close adds an equity point, the risk state and the replay
//! cursor in one atomic batch. On start, [`Journal::load`] returns everything, the cores are
//! rebuilt with `from_state`, and
//! [`reconcile`](keel_core::order_manager::reconcile) settles every order left open by asking the
//! venue.
//!
//! Retention: with [`Journal::retain_equity`] the store keeps only the newest equity points
//! and moves older ones to an append-only archive file beside it ([`EQUITY_ARCHIVE_FILE`]);
//! [`compact`] gives back the space sled never returns by copying the live records into a
//! fresh store swapped in by renames.
//!
//! The store sits behind the small [`Store`] trait; [`SledStore`] is the real one and
//! [`FailingStore`] injects write failures in tests. A store that is foreign, corrupt or of
//! another format is an error at startup, never a silent reset.

mod checksum;
mod compact;
mod equity_archive;
mod failing;
mod layout;
mod pending;
mod records;
mod store;
mod venue_call;

pub use compact::{compact, disk_size, finish_interrupted, Compaction};
pub use equity_archive::{read_archive, EQUITY_ARCHIVE_FILE};
pub use failing::{FailSwitch, FailingStore};
pub use records::{
    equity_key, Journal, JournalError, Recovered, RunInfo, CURSOR_KEY, DEAD_LETTER_PREFIX,
    EQUITY_PREFIX, MIN_KEEP_EQUITY, ORDER_MANAGER_KEY, PRICE_MARKS_KEY, PROGRESS_KEY, RISK_KEY,
    RUN_KEY, VENUE_ANSWER_KEY, VENUE_BOOK_KEY, VENUE_KEY,
};
pub use store::{
    Meta, SledStore, Store, StoreError, BESIDE_FILES, CONTROL_ADDR_FILE, CONTROL_ADDR_STAGING,
    FORMAT_VERSION, MAGIC, META_KEY,
};
pub use venue_call::{AnsweredCall, VenueCall};

#[cfg(test)]
mod damage_tests;
#[cfg(test)]
mod pending_tests;
#[cfg(test)]
mod records_props;
#[cfg(test)]
mod retention_tests;
#[cfg(test)]
mod tests;
