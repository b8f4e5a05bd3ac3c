//! The audit trail: the stages record their [`DomainEvent`]s here, as `tracing` events on the
//! [`TARGET`] target whose `audit` field is the event as one JSON object. The binary routes
//! that target to the audit file (and keeps it out of the ordinary log); without an audit
//! file nothing listens, and recording costs one disabled-callsite check: the event is
//! neither built nor serialized.

use crate::model::DomainEvent;

/// The `tracing` target of audit events.
pub const TARGET: &str = "keel::audit";

/// The field that carries the JSON object.
pub const FIELD: &str = "audit";

/// Whether anything listens to audit events.
#[inline]
pub fn enabled() -> bool {
    tracing::enabled!(target: TARGET, tracing::Level::INFO)
}

/// Records the event `make` builds, if anything listens (it is not called otherwise).
#[inline]
pub fn record(make: impl FnOnce() -> DomainEvent) {
    if enabled() {
        emit(&make());
    }
}

/// Records each event `make` builds, if anything listens.
#[inline]
pub fn record_all(make: impl FnOnce() -> Vec<DomainEvent>) {
    if enabled() {
        for event in make() {
            emit(&event);
        }
    }
}

fn emit(event: &DomainEvent) {
    match serde_json::to_string(event) {
        Ok(json) => tracing::info!(target: TARGET, audit = json.as_str()),
        // Only a non-finite score could do this; the trail says so rather than go silent.
        Err(error) => {
            tracing::error!(event = event.name(), symbol = ?event.symbol(), %error, "audit event not serializable")
        }
    }
}
