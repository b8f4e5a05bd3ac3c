//! The journal's typed records over a [`Store`]: the order manager's and the venue's state,
//! the risk state, the equity curve, the replay cursor and the run's identity.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use keel_binance::book::{RemoteVenueView, VenueBook};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::checksum::{seal_in_place, sealing_buffer, unseal};
use super::equity_archive::{append_archive, merge, read_archive};
use super::pending::Pending;
use super::store::{Meta, Store, StoreError, FORMAT_VERSION, MAGIC, META_KEY};
use super::venue_call::AnsweredCall;
use crate::model::{EquityPoint, Timestamp};
use keel_core::execution::{
    FillConfig, SimExchange, SimExchangeState, VenueSnapshot, VenueStateError,
};
use keel_core::order_manager::{OrderManager, OrderManagerState, PriceMark};
use keel_core::risk::RiskState;

use super::layout::{
    finished_id, finished_key, finished_seq, om_from_records, om_records, venue_from_records,
    venue_records, Records, OM_PREFIX, VENUE_PREFIX,
};

type Batch = Vec<(String, Option<Vec<u8>>)>;

/// A hash of a record's bytes (in memory only: never persisted).
fn hash(bytes: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

/// Key of the order manager's state.
pub const ORDER_MANAGER_KEY: &str = super::layout::OM_CORE_KEY;
/// Key of the prices the order manager tracked since its state was last saved.
pub const PRICE_MARKS_KEY: &str = "marks/om";
/// Key of the in-process venue's state.
pub const VENUE_KEY: &str = super::layout::VENUE_CORE_KEY;
/// Key of the risk engine's state (kill switch, peak, daily figures, cooldowns).
pub const RISK_KEY: &str = "risk/state";
/// Key of the close time of the last bar fully processed.
pub const CURSOR_KEY: &str = "run/cursor";
/// Key of how many candles of the replay were fully processed.
pub const PROGRESS_KEY: &str = "run/progress";
/// Key of the run's identity.
pub const RUN_KEY: &str = "run/info";
/// The key of the remote venue's book (orders as a venue without linked orders holds them).
pub const VENUE_BOOK_KEY: &str = "remote/book";
/// The key of the in-process venue's last answered call (written with its state).
pub const VENUE_ANSWER_KEY: &str = "venue_answer/last";
/// Prefix of the equity points, one per bar close.
pub const EQUITY_PREFIX: &str = "equity/";
/// The fewest equity points [`Journal::retain_equity`] keeps in the store: more than a
/// restart can mark again (the bars after the last progress made durable, one at most).
pub const MIN_KEEP_EQUITY: usize = 16;

/// Which run a journal belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInfo {
    /// The run id (also the prefix of client order ids).
    pub run_id: String,
    /// A fingerprint of the settings the run started with.
    pub config_fingerprint: String,
}

/// Everything a journal holds, as loaded at startup. `None` (or empty) where nothing was
/// saved yet.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Recovered {
    /// The order manager's orders, positions, cash and id sequence.
    pub om: Option<OrderManagerState>,
    /// Prices marked after `om` was saved (apply them on top of it).
    pub price_marks: Option<Vec<PriceMark>>,
    /// The in-process venue's orders and bar cursor.
    pub venue: Option<SimExchangeState>,
    /// The in-process venue's last answered call, as of `venue`.
    pub venue_answer: Option<AnsweredCall>,
    /// The risk engine's memory.
    pub risk: Option<RiskState>,
    /// Close time of the last bar marked.
    pub cursor: Option<Timestamp>,
    /// How many candles of the replay were fully processed (their effects are all durable,
    /// and those of the next candle may be in part).
    pub progress: Option<u64>,
    /// The equity curve, in time order.
    pub equity: Vec<EquityPoint>,
    /// The run's identity.
    pub run: Option<RunInfo>,
    /// The remote venue's book (runs against a remote venue only).
    pub venue_book: Option<VenueBook>,
}

impl Recovered {
    /// The venue's orders as it journalled them (the in-process venue's state, or a remote
    /// venue's book), or `None` when no venue state was saved. The execution stage journals
    /// its venue before any report reaches the order manager, so this is never behind the
    /// order manager's own journal: what an order manager restart is reconciled against.
    pub fn venue_snapshot(
        &self,
        cfg: &FillConfig,
    ) -> Result<Option<VenueSnapshot>, VenueStateError> {
        if let Some(state) = &self.venue {
            let venue = SimExchange::from_state(cfg.clone(), state.clone())?;
            return Ok(Some(VenueSnapshot::of_sim(&venue)));
        }
        Ok(self
            .venue_book
            .as_ref()
            .map(|book| VenueSnapshot::of(&RemoteVenueView { book, foreign: &[] })))
    }
}

/// A journal that cannot be used: the store failed, or a record does not decode. Nothing is
/// ever skipped or reset.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JournalError {
    /// The store refused (see [`StoreError`]); a failed write is not durable.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A record does not decode.
    #[error("journal record `{key}` is corrupt: {reason}; nothing was skipped or reset")]
    Corrupt {
        /// The record's key.
        key: String,
        /// Why it does not decode.
        reason: String,
    },
    /// A value cannot be encoded (should not happen with the model's types).
    #[error("journal record `{key}` cannot be encoded: {reason}")]
    Encode {
        /// The record's key.
        key: String,
        /// The encoder's message.
        reason: String,
    },
}

/// The order manager's durable journal (DESIGN §5): snapshots of its state written and
/// flushed before an order leaves the process and after every transition, the venue's and
/// risk's state, and the equity curve.
#[derive(Debug, Clone)]
pub struct Journal<S: Store> {
    store: S,
    /// A hash of every order-manager and venue record as last written, so that a save
    /// writes only what changed (and deletes what is gone).
    written: HashMap<String, u64>,
    /// The record key of each finished venue order, by client order id.
    finished_keys: HashMap<String, String>,
    /// The next finished-order sequence number.
    next_finished: u64,
    /// A write began and did not return `Ok` (it failed, or panicked halfway): what the store
    /// holds may differ from `written`, which is read again before the next write.
    in_doubt: bool,
    /// The equity curve as this handle last read and wrote it, in time order: an actor
    /// restart ([`reload`](Self::reload)) takes it from here instead of scanning the store.
    /// `None` until read, and after a mark that did not return `Ok`.
    equity: Option<Vec<EquityPoint>>,
    /// The decoded state last written (or read) through any handle on this store: what an
    /// actor restart ([`reload`](Self::reload)) takes instead of decoding the records again.
    decoded: Arc<Mutex<Decoded>>,
    /// How many equity points the store keeps (the rest go to the equity archive), and how
    /// many it holds now; `None` keeps them all in the store.
    retention: Option<EquityRetention>,
    /// The progress and price marks waiting for the next batch (see [`Pending`]).
    pending: Pending,
}

/// The store's share of the equity curve (see [`Journal::retain_equity`]).
#[derive(Debug, Clone, Copy)]
struct EquityRetention {
    keep: usize,
    held: usize,
}

/// The order manager's and the venue's state as the store holds them, decoded. Each part is
/// `None` while unknown: before it was first read or written, and from the moment a write
/// of it begins until that write returned `Ok` (a failed or half-done write leaves the store
/// in doubt, and the next restart decodes what is really there).
#[derive(Debug, Default)]
struct Decoded {
    om: Option<Option<OrderManagerState>>,
    venue: Option<(Option<SimExchangeState>, Option<AnsweredCall>)>,
}

/// What a journal remembers of its own records, as read from the store.
struct WrittenRecords {
    written: HashMap<String, u64>,
    finished_keys: HashMap<String, String>,
    next_finished: u64,
}

impl WrittenRecords {
    fn read(store: &impl Store) -> Result<Self, JournalError> {
        let mut written = HashMap::new();
        let mut finished_keys = HashMap::new();
        let mut next_finished = 0;
        for prefix in [OM_PREFIX, VENUE_PREFIX] {
            for (key, bytes) in store.scan_prefix(prefix)? {
                if let Some(seq) = finished_seq(&key) {
                    finished_keys.insert(finished_id(&key, &bytes)?, key.clone());
                    next_finished = next_finished.max(seq + 1);
                }
                written.insert(key, hash(&bytes));
            }
        }
        Ok(Self {
            written,
            finished_keys,
            next_finished,
        })
    }
}

impl<S: Store> Journal<S> {
    /// Wraps an open store, checking that it is a keel journal of this format.
    pub fn open(store: S) -> Result<Self, JournalError> {
        let bytes = store.get(META_KEY)?.ok_or_else(|| JournalError::Corrupt {
            key: META_KEY.to_string(),
            reason: "missing: the store is not a keel journal".to_string(),
        })?;
        // The meta record is plain JSON (see `checksum`): every version reads it.
        let meta: Meta = serde_json::from_slice(&bytes).map_err(|e| JournalError::Corrupt {
            key: META_KEY.to_string(),
            reason: e.to_string(),
        })?;
        if meta.magic != MAGIC || meta.version != FORMAT_VERSION {
            return Err(JournalError::Corrupt {
                key: META_KEY.to_string(),
                reason: format!(
                    "expected {MAGIC} version {FORMAT_VERSION}, found {} version {}",
                    meta.magic, meta.version
                ),
            });
        }
        let records = WrittenRecords::read(&store)?;
        Ok(Self {
            store,
            written: records.written,
            finished_keys: records.finished_keys,
            next_finished: records.next_finished,
            in_doubt: false,
            equity: None,
            decoded: Arc::default(),
            retention: None,
            pending: Pending::default(),
        })
    }

    /// Keeps at most about `2 × keep` equity points in the store (at least
    /// [`MIN_KEEP_EQUITY`]): once it holds `2 × keep`, a bar close flushes the store and moves
    /// all but the newest `keep` to the equity archive beside it
    /// ([`EQUITY_ARCHIVE_FILE`](super::EQUITY_ARCHIVE_FILE)), from which
    /// [`load`](Self::load) reads them back. Without a directory beside the store (see
    /// [`Store::side_dir`]) everything stays in the store.
    pub fn retain_equity(&mut self, keep: usize) -> Result<(), JournalError> {
        if self.store.side_dir().is_none() {
            return Ok(());
        }
        let held = self.store.scan_prefix(EQUITY_PREFIX)?.len();
        self.retention = Some(EquityRetention {
            keep: keep.max(MIN_KEEP_EQUITY),
            held,
        });
        Ok(())
    }

    /// Moves the oldest equity points to the archive when the store holds too many: flushes
    /// the store first (an archived point is durable in the store before it is appended), and
    /// deletes them from the store only once the archive is synced.
    fn archive_equity(&mut self) -> Result<(), JournalError> {
        let (Some(retention), Some(dir)) = (self.retention, self.store.side_dir()) else {
            return Ok(());
        };
        if retention.held < 2 * retention.keep {
            return Ok(());
        }
        let archive = dir.join(super::EQUITY_ARCHIVE_FILE);
        self.flush()?;
        let held = self.store.scan_prefix(EQUITY_PREFIX)?;
        let old = held.len().saturating_sub(retention.keep);
        let points = held[..old]
            .iter()
            .map(|(key, bytes)| decode(key, bytes))
            .collect::<Result<Vec<EquityPoint>, _>>()?;
        append_archive(&archive, &points)?;
        // Not flushed: a crash before the next flush leaves them in both, which load merges.
        let deletes = held[..old].iter().map(|(key, _)| (key.clone(), None));
        self.apply(deletes.collect())?;
        self.retention = Some(EquityRetention {
            held: held.len() - old,
            ..retention
        });
        Ok(())
    }

    /// Reads what the store holds again after a write that did not return `Ok`, so that the
    /// next save writes (and deletes) against what is really there.
    fn settle_doubt(&mut self) -> Result<(), JournalError> {
        if self.in_doubt {
            let records = WrittenRecords::read(&self.store)?;
            self.written = records.written;
            self.finished_keys = records.finished_keys;
            self.next_finished = records.next_finished;
            self.in_doubt = false;
        }
        Ok(())
    }

    /// Reads everything saved. A record that does not decode is an error naming its key.
    pub fn load(&self) -> Result<Recovered, JournalError> {
        let equity = self.read_equity()?;
        self.load_with(equity)
    }

    /// [`load`](Self::load) for an actor restart: the equity curve comes from this handle's
    /// copy of what it last read and wrote (the store's is read once), the rest from the store.
    pub fn reload(&mut self) -> Result<Recovered, JournalError> {
        let equity = match &self.equity {
            Some(equity) => equity.clone(),
            None => {
                let equity = self.read_equity()?;
                self.equity = Some(equity.clone());
                equity
            }
        };
        self.load_with(equity)
    }

    /// What the store holds, with the progress and marks waiting for the next write on top.
    fn load_with(&self, equity: Vec<EquityPoint>) -> Result<Recovered, JournalError> {
        let (venue, venue_answer) = self.venue_state()?;
        let (progress, marks) = self.pending.peek();
        Ok(Recovered {
            om: self.om_state()?,
            price_marks: match marks {
                Some(marks) => Some(marks),
                None => self.read(PRICE_MARKS_KEY)?,
            },
            venue,
            venue_answer,
            risk: self.read(RISK_KEY)?,
            cursor: self.read(CURSOR_KEY)?,
            progress: match progress {
                Some(progress) => Some(progress),
                None => self.read(PROGRESS_KEY)?,
            },
            equity,
            run: self.read(RUN_KEY)?,
            venue_book: self.venue_book()?,
        })
    }

    /// The in-process venue's state and the call it last answered (what a restart of the
    /// execution actor reads).
    pub fn venue_state(
        &self,
    ) -> Result<(Option<SimExchangeState>, Option<AnsweredCall>), JournalError> {
        if let Some(venue) = &self.decoded().venue {
            return Ok(venue.clone());
        }
        let venue = (
            venue_from_records(&self.store.scan_prefix(VENUE_PREFIX)?)?,
            self.read(VENUE_ANSWER_KEY)?,
        );
        self.decoded().venue = Some(venue.clone());
        Ok(venue)
    }

    /// The order manager's state as saved.
    fn om_state(&self) -> Result<Option<OrderManagerState>, JournalError> {
        if let Some(om) = &self.decoded().om {
            return Ok(om.clone());
        }
        let om = om_from_records(&self.store.scan_prefix(OM_PREFIX)?)?;
        self.decoded().om = Some(om.clone());
        Ok(om)
    }

    /// The decoded state shared by the handles (a panic while it was held left nothing half
    /// changed: every change is one assignment).
    fn decoded(&self) -> std::sync::MutexGuard<'_, Decoded> {
        self.decoded.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The remote venue's book, if one was saved.
    pub fn venue_book(&self) -> Result<Option<VenueBook>, JournalError> {
        self.read(VENUE_BOOK_KEY)
    }

    /// The equity curve: the archived points, then those in the store, in time order.
    fn read_equity(&self) -> Result<Vec<EquityPoint>, JournalError> {
        let archived = match self.store.side_dir() {
            Some(dir) => read_archive(&dir.join(super::EQUITY_ARCHIVE_FILE))?,
            None => Vec::new(),
        };
        Ok(merge(archived, self.held_equity()?))
    }

    /// The equity points in the store, in time order.
    pub(super) fn held_equity(&self) -> Result<Vec<EquityPoint>, JournalError> {
        self.store
            .scan_prefix(EQUITY_PREFIX)?
            .into_iter()
            .map(|(key, bytes)| {
                let point: EquityPoint = decode(&key, &bytes)?;
                if equity_key(point.ts) != key {
                    return Err(JournalError::Corrupt {
                        reason: format!("holds the equity point of {}", point.ts),
                        key,
                    });
                }
                Ok(point)
            })
            .collect()
    }

    /// Writes the order manager's state and flushes it: call before an order leaves the
    /// process and after every transition, and act only once it returned `Ok`.
    pub fn save_order_state(&mut self, om: &OrderManager) -> Result<(), JournalError> {
        self.settle_doubt()?;
        let state = om.to_state();
        let records = om_records(&state)?;
        let mut batch = self.changes(OM_PREFIX, records);
        // The full state supersedes the price marks taken since the previous one (those
        // waiting included: the batch's own record of a key wins).
        batch.push((PRICE_MARKS_KEY.to_string(), None));
        self.decoded().om = None;
        self.write(batch)?;
        self.decoded().om = Some(Some(state));
        Ok(())
    }

    /// Writes the in-process venue's state, with the call it just answered, and flushes them
    /// (one atomic batch).
    pub fn save_venue(
        &mut self,
        venue: &SimExchange,
        answered: &AnsweredCall,
    ) -> Result<(), JournalError> {
        self.settle_doubt()?;
        let (keys, next) = (&mut self.finished_keys, &mut self.next_finished);
        let mut key_of = |id: &str| -> String {
            keys.entry(id.to_string())
                .or_insert_with(|| {
                    *next += 1;
                    finished_key(*next - 1)
                })
                .clone()
        };
        let state = venue.to_state();
        let records = venue_records(&state, &mut key_of)?;
        let mut batch = self.changes(VENUE_PREFIX, records);
        batch.push((
            VENUE_ANSWER_KEY.to_string(),
            Some(encode(VENUE_ANSWER_KEY, answered)?),
        ));
        self.decoded().venue = None;
        self.write(batch)?;
        self.decoded().venue = Some((Some(state), Some(answered.clone())));
        Ok(())
    }

    /// The puts and deletes that turn what was last written under `prefix` into `records`.
    fn changes(&self, prefix: &str, records: Records) -> Batch {
        let mut batch: Batch = Vec::new();
        let mut present = std::collections::HashSet::with_capacity(records.len());
        for (key, bytes) in records {
            if self.written.get(&key) != Some(&hash(&bytes)) {
                batch.push((key.clone(), Some(bytes)));
            }
            present.insert(key);
        }
        for key in self.written.keys() {
            if key.starts_with(prefix) && !present.contains(key) {
                batch.push((key.clone(), None));
            }
        }
        batch
    }

    /// Applies a batch atomically, flushes it, and remembers what it wrote.
    fn write(&mut self, batch: Batch) -> Result<(), JournalError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.in_doubt = true;
        self.apply(batch.clone())?;
        self.store.flush()?;
        for (key, value) in batch {
            match value {
                Some(bytes) => {
                    self.written.insert(key, hash(&bytes));
                }
                None => {
                    self.written.remove(&key);
                    if finished_seq(&key).is_some() {
                        self.finished_keys.retain(|_, k| *k != key);
                    }
                }
            }
        }
        self.in_doubt = false;
        Ok(())
    }

    /// Records a bar close in one atomic batch: the equity point, the risk state, the cursor
    /// (`point.ts`) and the order manager's price marks (what moves between order events,
    /// which save the full state themselves), so that everything up to the cursor is restored
    /// from one consistent point. Not flushed: the next flushed write (or
    /// [`flush`](Self::flush)) makes it durable, unless it is the mark that moves old equity
    /// points to the archive (see [`retain_equity`](Self::retain_equity)), which flushes.
    pub fn mark(
        &mut self,
        point: &EquityPoint,
        risk: &RiskState,
        marks: &[PriceMark],
    ) -> Result<(), JournalError> {
        let key = equity_key(point.ts);
        let batch = vec![
            (key.clone(), Some(encode(&key, point)?)),
            (RISK_KEY.to_string(), Some(encode(RISK_KEY, risk)?)),
            (CURSOR_KEY.to_string(), Some(encode(CURSOR_KEY, &point.ts)?)),
            (
                PRICE_MARKS_KEY.to_string(),
                Some(encode(PRICE_MARKS_KEY, &marks)?),
            ),
        ];
        // Until the batch is applied the copy may be wrong: none meanwhile.
        let mut equity = self.equity.take();
        self.apply(batch)?;
        if let Some(equity) = &mut equity {
            match equity.binary_search_by_key(&point.ts, |p| p.ts) {
                Ok(at) => equity[at] = *point,
                Err(at) => equity.insert(at, *point),
            }
        }
        self.equity = equity;
        if let Some(retention) = &mut self.retention {
            retention.held += 1;
        }
        // The mark is applied: an archive that fails leaves the points in the store (nothing
        // is lost, the store grows) and is tried again at the next bar.
        if let Err(err) = self.archive_equity() {
            tracing::warn!(error = %err, "equity points not archived; the journal keeps them");
        }
        Ok(())
    }

    /// Records that `candles` candles were fully processed, with the order manager's price
    /// marks at that point. Written with the next batch of any handle on the store, or a
    /// flush (see [`Pending`]): always before any effect of a later candle, which is a write.
    pub fn progress(&mut self, candles: u64, marks: &[PriceMark]) {
        self.pending.set_progress(candles, marks.to_vec());
    }

    /// Notes the order manager's price marks after an approval without any order moved only
    /// them: an actor restart applies them, and the next batch writes them (see [`Pending`]).
    pub fn note_price_marks(&mut self, marks: Vec<PriceMark>) {
        self.pending.set_marks(marks);
    }

    /// Applies `batch` atomically, not flushed, with the progress and marks waiting (the
    /// batch's own record of a key wins over one waiting). What waits stays waiting when the
    /// batch is not applied.
    fn apply(&mut self, batch: Batch) -> Result<(), JournalError> {
        let waiting = self.pending.take();
        if waiting.is_empty() && batch.is_empty() {
            return Ok(());
        }
        let own = |key: &str| batch.iter().any(|(k, _)| k == key);
        let mut full: Batch = Vec::with_capacity(batch.len() + 2);
        let encoded = (|| {
            if let Some(candles) = &waiting.progress {
                if !own(PROGRESS_KEY) {
                    full.push((
                        PROGRESS_KEY.to_string(),
                        Some(encode(PROGRESS_KEY, candles)?),
                    ));
                }
            }
            if let Some(marks) = &waiting.marks {
                if !own(PRICE_MARKS_KEY) {
                    full.push((
                        PRICE_MARKS_KEY.to_string(),
                        Some(encode(PRICE_MARKS_KEY, marks)?),
                    ));
                }
            }
            Ok::<(), JournalError>(())
        })();
        let applied = encoded.and_then(|()| {
            full.extend(batch);
            Ok(self.store.apply(full)?)
        });
        if applied.is_err() {
            self.pending.restore(waiting);
        }
        applied
    }

    /// Writes the remote venue's book and flushes it: call before a request leaves the process
    /// and after each outcome.
    pub fn save_venue_book(&mut self, book: &VenueBook) -> Result<(), JournalError> {
        let bytes = encode(VENUE_BOOK_KEY, book)?;
        self.write_flushed(VENUE_BOOK_KEY, bytes)
    }

    /// Records which run this journal belongs to, flushed.
    pub fn set_run(&mut self, run: &RunInfo) -> Result<(), JournalError> {
        let bytes = encode(RUN_KEY, run)?;
        self.write_flushed(RUN_KEY, bytes)
    }

    /// Makes every write so far durable, and what waits for the next one.
    pub fn flush(&mut self) -> Result<(), JournalError> {
        self.apply(Vec::new())?;
        Ok(self.store.flush()?)
    }

    /// Appends a dead letter (a message quarantined as poison), flushed. The records are kept
    /// apart from the state, for the operator: nothing is rebuilt from them.
    pub fn add_dead_letter<T: Serialize>(&mut self, letter: &T) -> Result<(), JournalError> {
        let next = self.store.scan_prefix(DEAD_LETTER_PREFIX)?.len();
        let key = format!("{DEAD_LETTER_PREFIX}{next:010}");
        let bytes = encode(&key, letter)?;
        self.write_flushed(&key, bytes)
    }

    /// Every dead letter recorded, oldest first.
    pub fn dead_letters<T: DeserializeOwned>(&self) -> Result<Vec<T>, JournalError> {
        self.store
            .scan_prefix(DEAD_LETTER_PREFIX)?
            .into_iter()
            .map(|(key, bytes)| decode(&key, &bytes))
            .collect()
    }

    /// The store underneath.
    pub fn into_store(self) -> S {
        self.store
    }

    fn write_flushed(&mut self, key: &str, bytes: Vec<u8>) -> Result<(), JournalError> {
        self.apply(vec![(key.to_string(), Some(bytes))])?;
        Ok(self.store.flush()?)
    }

    fn read<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, JournalError> {
        self.store
            .get(key)?
            .map(|bytes| decode(key, &bytes))
            .transpose()
    }
}

/// The prefix of the dead letters' keys (then a 10-digit sequence number).
pub const DEAD_LETTER_PREFIX: &str = "dead_letter/";

/// The key of the equity point at `ts`: `equity/` and 20 digits, the time shifted by 2^63 so
/// that key order is time order for every `i64`.
pub fn equity_key(ts: Timestamp) -> String {
    format!("{EQUITY_PREFIX}{:020}", (ts.0 as u64) ^ (1 << 63))
}

/// The stored value of `value` under `key`: its JSON behind a checksum of key and JSON (see
/// [`checksum`](super::checksum)).
pub(super) fn encode<T: Serialize>(key: &str, value: &T) -> Result<Vec<u8>, JournalError> {
    let mut buf = sealing_buffer(128);
    serde_json::to_writer(&mut buf, value).map_err(|e| JournalError::Encode {
        key: key.to_string(),
        reason: e.to_string(),
    })?;
    seal_in_place(key, &mut buf);
    Ok(buf)
}

/// The value stored under `key`: its checksum must match, then its JSON decode. Anything else
/// is [`JournalError::Corrupt`] naming the key, never a value other than the one written.
pub(super) fn decode<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T, JournalError> {
    let corrupt = |reason: String| JournalError::Corrupt {
        key: key.to_string(),
        reason,
    };
    let json = unseal(key, bytes).map_err(corrupt)?;
    serde_json::from_slice(json).map_err(|e| corrupt(e.to_string()))
}
