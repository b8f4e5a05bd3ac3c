//! What the actor shells share: the in-flight tracker that lets a replay feed wait until the
//! pipeline has drained, the mailboxes, and supervision.

mod inbox;
mod inflight;
mod supervise;

pub use inbox::Inbox;
pub use inflight::{Inflight, Ticket};
pub use supervise::{
    contain, install_panic_hook, ActorHandle, Chaos, Group, Rehydrate, RehydrateError, Supervision,
    SupervisionStats,
};
