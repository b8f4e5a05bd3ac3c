//! The order manager: the only owner of orders, positions and cash (DESIGN §5).
//!
//! It turns risk's approved [`OrderIntent`](crate::model::OrderIntent)s into venue commands
//! with deterministic client ids (`{run_id}-{SYMBOL}-{seq}`, children `{parent}-s{i}` and
//! `{parent}-t{i}`), protects every entry with a stop-loss and partial take-profits, applies the
//! venue's reports exactly once, moves stops to break-even and trails them, and flattens on
//! demand. Spot only: positions are long or flat, and sells never exceed what is held.

mod book;
mod command;
mod config;
mod ids;
mod manager;
mod plan;
mod reconcile;
mod record;
pub mod stage;
mod state;
mod trailing;

pub use book::RoundTrip;
pub use command::OrderCommand;
pub use config::{OrderManagerConfig, TrailingConfig};
pub use ids::{child_id, OrderIds};
pub use manager::{OmUpdate, OrderManager, PriceMark};
pub use plan::entry_request;
pub use reconcile::{
    reconcile, reconcile_except, Discrepancy, ReconciliationReport, NEVER_REACHED,
};
pub use record::RunRecord;
pub use state::{OrderManagerState, OrderStateError, SymbolState, TrackedOrder};
pub use trailing::trailing_stop;

#[cfg(test)]
mod fee_tests;
#[cfg(test)]
mod reconcile_tests;
#[cfg(test)]
mod state_tests;
#[cfg(test)]
mod tests;
