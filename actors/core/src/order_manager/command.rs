//! What the order manager asks a venue to do.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::{ClientOrderId, OrderRequest};

/// A command from the order manager to a venue (the execution side carries it out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum OrderCommand {
    /// Place an order together with its attached children.
    Submit(OrderRequest),
    /// Cancel an open order (a parent takes its inactive children with it).
    Cancel {
        /// The order to cancel.
        id: ClientOrderId,
    },
    /// Move the trigger of a stop order (break-even and trailing stops).
    ModifyStop {
        /// The stop order.
        id: ClientOrderId,
        /// The new trigger price.
        trigger: Decimal,
    },
}

impl OrderCommand {
    /// The client id of the order the command is about.
    pub fn order_id(&self) -> &ClientOrderId {
        match self {
            OrderCommand::Submit(request) => &request.client_order_id,
            OrderCommand::Cancel { id } | OrderCommand::ModifyStop { id, .. } => id,
        }
    }
}
