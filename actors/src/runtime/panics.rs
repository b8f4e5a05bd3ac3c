//! Which panics the supervisors contain, and a count of those they do not: the process's
//! panic hook sees every panic, wherever it is raised and whoever catches it later, so a
//! panic outside every supervised handler is counted even when something swallows it.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};

use tracing::error;

thread_local! {
    /// Set while a handler runs inside [`contained`]: its panics are the supervisor's business.
    static CONTAINED: Cell<bool> = const { Cell::new(false) };
}

/// Panics raised outside every supervised handler since the hook was installed.
static ESCAPED: AtomicU64 = AtomicU64::new(0);

/// Installs (once) a panic hook that logs panics raised inside a contained handler as
/// structured errors, and counts every other panic as escaped ([`escaped_panics`]) before
/// leaving it to the hook that was there before.
pub fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !CONTAINED.with(Cell::get) {
                ESCAPED.fetch_add(1, Ordering::SeqCst);
                return previous(info);
            }
            let location = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            let payload = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .or_else(|| {
                    let fault = info.payload().downcast_ref::<super::InjectedFault>();
                    fault.map(ToString::to_string)
                })
                .unwrap_or_default();
            error!(panic = %payload, %location, "panic inside a handler (contained)");
        }));
    });
}

/// Panics raised in this process outside every supervised handler (on any thread) since
/// [`install_panic_hook`] ran, whether or not something caught them afterwards. Compare two
/// readings to count the escapes of one run.
pub fn escaped_panics() -> u64 {
    ESCAPED.load(Ordering::SeqCst)
}

/// Polls `future` marked as contained, its panics caught: a call a supervised handler
/// started and awaits, whose failure goes back to the supervisor
/// ([`supervise_failed`](super::supervise_failed)).
pub(crate) async fn contained_future<F: std::future::Future>(
    future: F,
) -> std::thread::Result<F::Output> {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(move |cx| match contained(|| future.as_mut().poll(cx)) {
        Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
        Ok(std::task::Poll::Ready(output)) => std::task::Poll::Ready(Ok(output)),
        Err(payload) => std::task::Poll::Ready(Err(payload)),
    })
    .await
}

/// Runs `f` marked as contained: its panics are logged as contained, not counted as escaped.
pub(super) fn contained<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    let outer = CONTAINED.with(|c| c.replace(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    CONTAINED.with(|c| c.set(outer));
    result
}
