//! The in-process venue's last answered call, journalled in the same batch as its state, so
//! that a call delivered again after a failure (the venue applied it, the answer never reached
//! the order manager) gets the same answer instead of being applied twice or answered empty.

use serde::{Deserialize, Serialize};

use crate::model::{ExecutionReport, Symbol, Timestamp};
use keel_core::order_manager::OrderCommand;

/// Which call a venue answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "snake_case")]
pub enum VenueCall {
    /// The order manager's commands at `now`.
    Execute {
        /// When they were sent.
        now: Timestamp,
        /// The commands, in order.
        commands: Vec<OrderCommand>,
    },
    /// A bar of `symbol` closed at `close_time`.
    Bar {
        /// The bar's pair.
        symbol: Symbol,
        /// Its close time.
        close_time: Timestamp,
    },
}

/// A call and the reports the venue answered it with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnsweredCall {
    /// The call.
    pub call: VenueCall,
    /// What the venue answered.
    pub reports: Vec<ExecutionReport>,
}
