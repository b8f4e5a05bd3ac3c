//! The replay's progress and the order manager's price marks, waiting for the next write.
//!
//! sled seals and syncs its log for every atomic batch, so a batch is a synced write whether
//! or not it is flushed: writing the progress after every candle and the marks after every
//! approval made most of a journalled run's time. Neither has to be durable before the next
//! effect of a later candle, and every such effect is a write (an order's state, the venue's
//! state, a bar close). So they wait here, shared by every handle on the store, and go with
//! the next batch any handle applies, or with a flush. The states a crash can leave are then a
//! subset of those the separate batches could leave: a prefix of the same writes, some of
//! them grouped into one atomic batch.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use keel_core::order_manager::PriceMark;

/// What waits for the next write.
#[derive(Debug, Default)]
pub(super) struct Waiting {
    /// Candles fully processed.
    pub(super) progress: Option<u64>,
    /// The order manager's price marks.
    pub(super) marks: Option<Vec<PriceMark>>,
}

impl Waiting {
    pub(super) fn is_empty(&self) -> bool {
        self.progress.is_none() && self.marks.is_none()
    }
}

/// The records waiting for the next write, shared by the clones of one journal handle.
#[derive(Debug, Clone, Default)]
pub(super) struct Pending(Arc<Mutex<Waiting>>);

impl Pending {
    fn lock(&self) -> MutexGuard<'_, Waiting> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `candles` candles are done, with the order manager's `marks` at that point.
    pub(super) fn set_progress(&self, candles: u64, marks: Vec<PriceMark>) {
        let mut waiting = self.lock();
        waiting.progress = Some(candles);
        waiting.marks = Some(marks);
    }

    /// The order manager's marks moved (an approval without any order).
    pub(super) fn set_marks(&self, marks: Vec<PriceMark>) {
        self.lock().marks = Some(marks);
    }

    /// The progress and marks waiting, if any (what a load sees on top of the store).
    pub(super) fn peek(&self) -> (Option<u64>, Option<Vec<PriceMark>>) {
        let waiting = self.lock();
        (waiting.progress, waiting.marks.clone())
    }

    /// Takes what waits, for a batch about to be applied.
    pub(super) fn take(&self) -> Waiting {
        std::mem::take(&mut *self.lock())
    }

    /// Puts back what [`take`](Self::take) took when its batch was not applied, unless newer
    /// records were set meanwhile.
    pub(super) fn restore(&self, taken: Waiting) {
        let mut waiting = self.lock();
        if waiting.progress.is_none() {
            waiting.progress = taken.progress;
        }
        if waiting.marks.is_none() {
            waiting.marks = taken.marks;
        }
    }
}
