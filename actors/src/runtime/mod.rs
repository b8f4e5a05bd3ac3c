//! What the actor shells share: the in-flight tracker that lets a replay feed wait until the
//! pipeline has drained, the mailboxes, and supervision.

mod delivery;
mod failpoints;
mod hang;
mod inbox;
mod inflight;
mod kill;
mod panics;
mod poison;
mod route;
mod sabotage;
mod supervise;
mod supervised;
mod tree;

pub use delivery::{answer, contain, delivery_history, DeliveryHistory};
pub(crate) use delivery::{task_failed, task_resumed};
pub use failpoints::{
    asks_a_model, compiled_in as failpoints_compiled_in, fail_journal_writes, parse_failpoints,
    parse_probability, ArmedFailpoints, FailpointPlan, FailpointSelection, InjectedFault,
    FAILPOINTS, NOT_COMPILED_IN,
};
pub use hang::{hold, Deadlines, OnHang, DEFAULT_DEADLINE};
pub use inbox::Inbox;
pub use inflight::{Inflight, Ticket};
pub use kill::Respawn;
pub(crate) use panics::contained_future;
pub use panics::{escaped_panics, install_panic_hook};
pub use poison::{DeadLetter, PoisonPolicy, POISON_ATTEMPTS};
pub use sabotage::Sabotage;
pub use supervise::{
    ActorHandle, Chaos, DeadLetterSink, Rehydrate, RehydrateError, Supervision, SupervisionStats,
};
pub use supervised::{supervise, supervise_failed};
pub use tree::{ChildSpec, TreeSpec, NEWS_POLLER};

#[cfg(test)]
mod hang_tests;
#[cfg(test)]
mod kill_tests;
#[cfg(test)]
mod poison_tests;
#[cfg(test)]
mod supervised_tests;
#[cfg(test)]
pub(crate) mod test_wait;
