//! Waiting in the runtime's tests: for an event, never for a fixed time.

use std::time::Duration;

/// Polls `done` every few milliseconds; panics naming `what` if it never holds (minutes).
pub(crate) async fn until(what: &str, done: impl Fn() -> bool) {
    let waited = async {
        while !done() {
            actix::clock::sleep(Duration::from_millis(2)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(180), waited)
        .await
        .unwrap_or_else(|_| panic!("never happened: {what}"));
}
