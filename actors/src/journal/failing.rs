//! A test tool: a store that fails its writes when told to, to prove that a write-ahead
//! failure stops an order instead of being ignored.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::store::{Store, StoreError};

/// Successful writes left before failing; `u64::MAX` means never fail.
const NEVER: u64 = u64::MAX;

/// **Test tool.** Wraps a store and makes `apply` and `flush` fail after a number of
/// successful calls, or from now on, as its [`FailSwitch`] says. A failed `apply` changes
/// nothing (the batch is not passed on); reads always work.
#[derive(Debug, Clone)]
pub struct FailingStore<S> {
    inner: S,
    writes_left: Arc<AtomicU64>,
}

/// Controls a [`FailingStore`] from outside (for example while a journal inside an actor owns
/// it). Cheap to clone.
#[derive(Debug, Clone)]
pub struct FailSwitch(Arc<AtomicU64>);

impl FailSwitch {
    /// Every later `apply` and `flush` fails.
    pub fn fail_now(&self) {
        self.0.store(0, Ordering::SeqCst);
    }

    /// The next `n` `apply`/`flush` calls succeed, the ones after fail.
    pub fn fail_after(&self, n: u64) {
        self.0.store(n, Ordering::SeqCst);
    }

    /// Writes succeed again.
    pub fn heal(&self) {
        self.0.store(NEVER, Ordering::SeqCst);
    }
}

impl<S: Store> FailingStore<S> {
    /// Wraps `inner`; nothing fails until the switch says so.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            writes_left: Arc::new(AtomicU64::new(NEVER)),
        }
    }

    /// The switch that makes this store fail.
    pub fn switch(&self) -> FailSwitch {
        FailSwitch(Arc::clone(&self.writes_left))
    }

    /// The wrapped store.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// Counts one write; `Err` when it must fail.
    fn write(&self, operation: &'static str) -> Result<(), StoreError> {
        let allowed = self
            .writes_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| match left {
                0 => None,
                NEVER => Some(NEVER),
                n => Some(n - 1),
            });
        allowed
            .map(|_| ())
            .map_err(|_| StoreError::Injected { operation })
    }
}

impl<S: Store> Store for FailingStore<S> {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(key)
    }

    fn apply(&mut self, batch: Vec<(String, Option<Vec<u8>>)>) -> Result<(), StoreError> {
        self.write("apply")?;
        self.inner.apply(batch)
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        self.write("flush")?;
        self.inner.flush()
    }

    fn scan_prefix(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.inner.scan_prefix(prefix)
    }

    fn side_dir(&self) -> Option<&std::path::Path> {
        self.inner.side_dir()
    }
}
