//! Poison messages: a message that fails [`POISON_ATTEMPTS`] deliveries in a row, whatever
//! the cause, is quarantined as a [`DeadLetter`] and handled by the actor's
//! [`PoisonPolicy`], never retried forever.

use serde::{Deserialize, Serialize};

/// Deliveries of one message that may fail (the actor restarted after each) before it is
/// quarantined. Faults the chaos monkey injects do not count; its poison does.
pub const POISON_ATTEMPTS: u32 = 3;

/// What happens to a quarantined message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoisonPolicy {
    /// The message is dropped and the actor goes on with the next one (a symbol's candle:
    /// the indicators skip one bar, which a later candle of the series makes good).
    Skip,
    /// Nothing after it can be trusted (an order, a fill, a mark): trading stops safely.
    Escalate,
}

/// A quarantined message: who could not handle it, what it held, and how each delivery
/// failed. Written to the journal's dead-letter records when the run keeps a journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// The actor that failed on it.
    pub actor: String,
    /// The message's content (its debug rendering).
    pub message: String,
    /// Why each delivery failed, in order.
    pub failures: Vec<String>,
    /// What was done with it.
    pub policy: PoisonPolicy,
}

impl std::fmt::Display for DeadLetter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let action = match self.policy {
            PoisonPolicy::Skip => "skipped",
            PoisonPolicy::Escalate => "escalated",
        };
        write!(
            f,
            "{}: message {action} after {} failed deliveries (last: {})",
            self.actor,
            self.failures.len(),
            self.failures.last().map_or("", String::as_str)
        )
    }
}
