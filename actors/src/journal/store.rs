//! The key-value store under the journal: a small trait (so tests can inject failures) and
//! its sled implementation, which refuses foreign, corrupt or newer stores instead of
//! starting over.

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::equity_archive::EQUITY_ARCHIVE_FILE;

/// Key of the record that marks a store as a keel journal.
pub const META_KEY: &str = "keel/meta";
/// The `magic` of a keel journal's meta record.
pub const MAGIC: &str = "keel-journal";
/// The journal format this build reads and writes: 2, every record behind a checksum (see
/// [`checksum`](super::checksum)). A store of version 1 (the same records without checksums)
/// is upgraded when opened.
pub const FORMAT_VERSION: u32 = 2;

/// The format without checksums, which [`SledStore::open`] upgrades.
const UNCHECKED_VERSION: u32 = 1;

/// The meta record: `{"magic":"keel-journal","version":2}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// Always [`MAGIC`].
    pub magic: String,
    /// The journal format version.
    pub version: u32,
}

impl Meta {
    /// The meta record this build writes.
    pub fn current() -> Self {
        Self {
            magic: MAGIC.to_string(),
            version: FORMAT_VERSION,
        }
    }
}

/// A store that cannot be opened, read or written. Opening never resets a store: every
/// refusal leaves its files as they were.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The directory cannot be created or the store cannot be opened (permissions, a file in
    /// the way, another process holding it).
    #[error("journal store {path}: cannot open: {reason}; it was NOT reset")]
    Io {
        /// The store's directory.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
    /// The store's files are damaged.
    #[error(
        "journal store {path} is corrupt: {reason}; it was NOT reset (move it aside or restore \
         a backup to continue)"
    )]
    Corrupt {
        /// The store's directory.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The store holds data but is not a keel journal.
    #[error(
        "journal store {path} is not a keel journal (it holds other data and no keel/meta \
         record); it was NOT reset: point the journal at an empty or new directory"
    )]
    Foreign {
        /// The store's directory.
        path: PathBuf,
    },
    /// A keel journal of a format this build does not read.
    #[error(
        "journal store {path} has format version {found}, this build reads version \
         {FORMAT_VERSION} (and upgrades version 1); it was NOT reset"
    )]
    UnsupportedVersion {
        /// The store's directory.
        path: PathBuf,
        /// The version found in its meta record.
        found: u64,
    },
    /// A read failed.
    #[error("journal store {path}: read of `{key}` failed: {reason}")]
    Read {
        /// The store's directory.
        path: PathBuf,
        /// The key (or prefix) read.
        key: String,
        /// What failed.
        reason: String,
    },
    /// A write or flush failed: the change is not durable and must not be acted upon.
    #[error("journal store {path}: {operation} failed: {reason}")]
    Write {
        /// The store's directory.
        path: PathBuf,
        /// `apply` or `flush`.
        operation: &'static str,
        /// What failed.
        reason: String,
    },
    /// A failure injected by [`FailingStore`](super::FailingStore) (tests only).
    #[error("injected failure of {operation} (FailingStore)")]
    Injected {
        /// `apply` or `flush`.
        operation: &'static str,
    },
}

/// A durable key-value store with atomic batches. Small and object-safe, so that a test can
/// wrap it and inject failures.
pub trait Store {
    /// The value under `key`, if any.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Applies every put (`Some`) and delete (`None`) of `batch` atomically: all or none.
    fn apply(&mut self, batch: Vec<(String, Option<Vec<u8>>)>) -> Result<(), StoreError>;
    /// Makes every applied batch durable before returning.
    fn flush(&mut self) -> Result<(), StoreError>;
    /// Every record whose key starts with `prefix`, in key order.
    fn scan_prefix(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError>;
    /// The directory where files kept beside the records belong (the equity archive), if the
    /// store has one.
    fn side_dir(&self) -> Option<&Path> {
        None
    }
}

/// How long to wait, right after creating a store, for sled to release the creating
/// handle's file lock.
const CREATION_LOCK_WAIT_MS: u64 = 5_000;

/// Whether sled refused to open because another handle holds the store's lock.
fn is_lock_error(opened: &std::thread::Result<sled::Result<sled::Db>>) -> bool {
    matches!(opened, Ok(Err(sled::Error::Io(e))) if e.to_string().contains("could not acquire lock"))
}

/// sled's page cache, in bytes: its default is 1 GiB, and the journal's live records are a
/// few MiB.
const SLED_CACHE_BYTES: u64 = 64 << 20;

/// How keel opens a sled database at `path`.
pub(super) fn sled_config(path: &Path) -> sled::Config {
    sled::Config::new()
        .path(path)
        .cache_capacity(SLED_CACHE_BYTES)
}

/// The journal's store on disk: a sled database in one directory.
#[derive(Clone, Debug)]
pub struct SledStore {
    db: sled::Db,
    path: PathBuf,
}

/// Stores whose handle this process dropped, and when (see [`SledStore::open`]).
static RELEASED: std::sync::Mutex<Vec<(PathBuf, std::time::Instant)>> =
    std::sync::Mutex::new(Vec::new());

/// How long after this process dropped a store handle a held lock is taken to be its own.
const RELEASE_WINDOW: std::time::Duration = std::time::Duration::from_secs(10);

fn canonical(path: &Path) -> PathBuf {
    fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Whether this process dropped a handle of the store at `path` moments ago.
fn released_recently(path: &Path) -> bool {
    let path = canonical(path);
    let mut released = RELEASED.lock().unwrap_or_else(|e| e.into_inner());
    released.retain(|(_, at)| at.elapsed() < RELEASE_WINDOW);
    released.iter().any(|(p, _)| *p == path)
}

/// Notes that this process dropped a handle of the store at `path` just now.
pub(super) fn note_released(path: &Path) {
    let mut released = RELEASED.lock().unwrap_or_else(|e| e.into_inner());
    released.retain(|(_, at)| at.elapsed() < RELEASE_WINDOW);
    released.push((canonical(path), std::time::Instant::now()));
}

impl Drop for SledStore {
    fn drop(&mut self) {
        note_released(&self.path);
    }
}

/// Files sled 0.34 keeps in its directory; one of them means sled was here.
const SLED_FILES: [&str; 3] = ["conf", "db", "blobs"];

/// The file in a store directory holding the control plane's bound address, beside the
/// journal (written whole through [`CONTROL_ADDR_STAGING`]).
pub const CONTROL_ADDR_FILE: &str = "control.addr";

/// Where [`CONTROL_ADDR_FILE`] is written before it is renamed into place.
pub const CONTROL_ADDR_STAGING: &str = "control.addr.tmp";

/// Files keel itself keeps in a store directory beside the journal: neither sled's nor
/// another program's.
pub const BESIDE_FILES: [&str; 3] = [CONTROL_ADDR_FILE, CONTROL_ADDR_STAGING, EQUITY_ARCHIVE_FILE];

impl SledStore {
    /// Opens the journal in directory `path`, creating it (with its meta record) when the
    /// directory is missing or empty. Refuses, without changing anything: a directory holding
    /// other files ([`Foreign`](StoreError::Foreign)), a sled database without keel's meta
    /// record (`Foreign`), another format version
    /// ([`UnsupportedVersion`](StoreError::UnsupportedVersion)), and damaged files or sled
    /// files from which no record can be read ([`Corrupt`](StoreError::Corrupt)).
    pub fn open(path: &Path) -> Result<SledStore, StoreError> {
        let io = |reason: String| StoreError::Io {
            path: path.to_path_buf(),
            reason,
        };
        let corrupt = |reason: String| StoreError::Corrupt {
            path: path.to_path_buf(),
            reason,
        };
        super::compact::finish_interrupted(path)?;
        if path.exists() && !path.is_dir() {
            return Err(io("it exists and is not a directory".into()));
        }
        let entries: Vec<String> = match fs::read_dir(path) {
            Ok(dir) => dir
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| !BESIDE_FILES.contains(&name.as_str()))
                .collect(),
            Err(_) => Vec::new(),
        };
        let had_sled_files = entries.iter().any(|e| SLED_FILES.contains(&e.as_str()));
        if !entries.is_empty() && !had_sled_files {
            return Err(StoreError::Foreign {
                path: path.to_path_buf(),
            });
        }
        let created = entries.is_empty();
        if created {
            Self::create(path)?;
        }

        // sled 0.34 may panic on some damaged files instead of returning an error. The
        // failpoint's `return(DIR)` makes it panic so for the stores under DIR (tests).
        let open = || {
            catch_unwind(AssertUnwindSafe(|| {
                fail::fail_point!("journal.sled_open", |under: Option<String>| {
                    if under.is_some_and(|dir| path.starts_with(dir)) {
                        panic!("injected: sled panicked reading its files");
                    }
                    sled_config(path).open()
                });
                sled_config(path).open()
            }))
        };
        let mut opened = open();
        // sled releases a dropped handle's file lock asynchronously: right after our own
        // creation, or after this process closed the store, a held lock is ours and goes away
        // within moments. A lock held by another process is refused at once.
        let ours = created || released_recently(path);
        let mut waited = 0;
        while ours && waited < CREATION_LOCK_WAIT_MS && is_lock_error(&opened) {
            std::thread::sleep(std::time::Duration::from_millis(10));
            waited += 10;
            opened = open();
        }
        let db = match opened {
            Ok(Ok(db)) => db,
            Ok(Err(sled::Error::Io(e))) if e.to_string().contains("could not acquire lock") => {
                return Err(io(format!("it is in use by another process ({e})")))
            }
            Ok(Err(e)) => return Err(corrupt(format!("sled cannot open it: {e}"))),
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "no message".into());
                return Err(corrupt(format!(
                    "sled panicked while reading its files ({what})"
                )));
            }
        };
        let mut store = SledStore {
            db,
            path: path.to_path_buf(),
        };
        let meta = store.get(META_KEY).map_err(|e| match e {
            StoreError::Read { reason, .. } => {
                corrupt(format!("its meta record is unreadable: {reason}"))
            }
            other => other,
        })?;
        match meta {
            Some(bytes) => {
                if store.check_meta(&bytes)? == UNCHECKED_VERSION {
                    store.upgrade_unchecked()?;
                }
            }
            None if !store.is_empty()? => {
                return Err(StoreError::Foreign {
                    path: path.to_path_buf(),
                })
            }
            None if had_sled_files => {
                return Err(corrupt(
                    "its sled files hold no record at all (not even keel/meta): they are \
                     damaged or truncated"
                        .into(),
                ))
            }
            None => store.init_meta()?,
        }
        Ok(store)
    }

    /// Creates a new store at `path` atomically: built and given its meta record in a side
    /// directory, then renamed into place, so that a crash while creating it never leaves a
    /// half-made store where the journal is expected.
    fn create(path: &Path) -> Result<(), StoreError> {
        let io = |reason: String| StoreError::Io {
            path: path.to_path_buf(),
            reason,
        };
        let name = path
            .file_name()
            .ok_or_else(|| io("the path has no directory name".into()))?;
        let staging = path.with_file_name(format!("{}.creating", name.to_string_lossy()));
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(|e| io(format!("cannot create its parent: {e}")))?;
        }
        // A side directory left by a crash during an earlier creation holds nothing yet.
        if staging.exists() {
            fs::remove_dir_all(&staging)
                .map_err(|e| io(format!("cannot clear {}: {e}", staging.display())))?;
        }
        {
            let db = sled_config(&staging)
                .open()
                .map_err(|e| io(format!("cannot create a sled store: {e}")))?;
            let mut store = SledStore {
                db,
                path: staging.clone(),
            };
            store.init_meta()?;
        }
        if path.exists() {
            // Only keel's own side files can be there: a stale address of a crashed run goes; an
            // equity archive without its records stays, and the directory is refused.
            for side in [CONTROL_ADDR_FILE, CONTROL_ADDR_STAGING] {
                let _ = fs::remove_file(path.join(side));
            }
            fs::remove_dir(path)
                .map_err(|e| io(format!("cannot replace the empty directory: {e}")))?;
        }
        fs::rename(&staging, path)
            .map_err(|e| io(format!("cannot move the new store into place: {e}")))
    }

    /// The store's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The sled database (for compaction).
    pub(super) fn db(&self) -> &sled::Db {
        &self.db
    }

    /// The format version of a keel journal's meta record: [`FORMAT_VERSION`], or
    /// [`UNCHECKED_VERSION`] to be upgraded.
    fn check_meta(&self, bytes: &[u8]) -> Result<u32, StoreError> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
                path: self.path.clone(),
                reason: format!("its {META_KEY} record is not JSON: {e}"),
            })?;
        if value.get("magic").and_then(|m| m.as_str()) != Some(MAGIC) {
            return Err(StoreError::Foreign {
                path: self.path.clone(),
            });
        }
        match value.get("version").and_then(|v| v.as_u64()) {
            Some(v) if v == u64::from(FORMAT_VERSION) => Ok(FORMAT_VERSION),
            Some(v) if v == u64::from(UNCHECKED_VERSION) => Ok(UNCHECKED_VERSION),
            found => Err(StoreError::UnsupportedVersion {
                path: self.path.clone(),
                found: found.unwrap_or(0),
            }),
        }
    }

    /// Upgrades a version-1 store: every record is given its checksum and the meta record
    /// the current version, in one atomic batch, flushed. A crash leaves it all version 1, to
    /// be upgraded at the next open. The records are not decoded here: one that was already
    /// damaged is refused by the first load, naming its key, as before.
    fn upgrade_unchecked(&mut self) -> Result<(), StoreError> {
        let mut batch = Vec::new();
        for entry in self.db.iter() {
            let (key, value) = entry.map_err(|e| self.read_error("(every record)", e))?;
            let key = String::from_utf8(key.to_vec()).map_err(|e| StoreError::Corrupt {
                path: self.path.clone(),
                reason: format!("a key is not UTF-8: {e}"),
            })?;
            if key != META_KEY {
                let sealed = super::checksum::seal(&key, &value);
                batch.push((key, Some(sealed)));
            }
        }
        let records = batch.len();
        let meta = serde_json::to_vec(&Meta::current()).expect("the meta record encodes");
        batch.push((META_KEY.to_string(), Some(meta)));
        self.apply(batch)?;
        self.flush()?;
        tracing::info!(
            store = %self.path.display(),
            records,
            from = UNCHECKED_VERSION,
            to = FORMAT_VERSION,
            "journal store upgraded: every record now carries a checksum"
        );
        Ok(())
    }

    fn is_empty(&self) -> Result<bool, StoreError> {
        let first = self
            .db
            .first()
            .map_err(|e| self.read_error("(first key)", e))?;
        Ok(first.is_none() && self.db.tree_names().len() <= 1)
    }

    fn init_meta(&mut self) -> Result<(), StoreError> {
        let meta = serde_json::to_vec(&Meta::current()).map_err(|e| StoreError::Write {
            path: self.path.clone(),
            operation: "apply",
            reason: e.to_string(),
        })?;
        self.apply(vec![(META_KEY.to_string(), Some(meta))])?;
        self.flush()
    }

    fn read_error(&self, key: &str, e: sled::Error) -> StoreError {
        StoreError::Read {
            path: self.path.clone(),
            key: key.to_string(),
            reason: e.to_string(),
        }
    }

    fn write_error(&self, operation: &'static str, e: sled::Error) -> StoreError {
        StoreError::Write {
            path: self.path.clone(),
            operation,
            reason: e.to_string(),
        }
    }
}

impl Store for SledStore {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.db
            .get(key)
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(|e| self.read_error(key, e))
    }

    fn apply(&mut self, batch: Vec<(String, Option<Vec<u8>>)>) -> Result<(), StoreError> {
        let mut sled_batch = sled::Batch::default();
        for (key, value) in batch {
            match value {
                Some(value) => sled_batch.insert(key.as_bytes(), value),
                None => sled_batch.remove(key.as_bytes()),
            }
        }
        self.db
            .apply_batch(sled_batch)
            .map_err(|e| self.write_error("apply", e))?;
        // A panic here (keel chaos) is a crash inside the write; the `return` action a write
        // that reports failure, as a full disk or a failed fsync would: every store's, or with
        // an argument (`return(DIR)`) only those under DIR, so that a test fails its own.
        fail::fail_point!("journal.inside_write", |under: Option<String>| {
            if under.is_some_and(|dir| !self.path.starts_with(dir)) {
                return Ok(());
            }
            Err(self.write_error(
                "apply",
                sled::Error::Io(std::io::Error::other(
                    "injected: the disk refused the write",
                )),
            ))
        });
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        self.db
            .flush()
            .map(|_| ())
            .map_err(|e| self.write_error("flush", e))
    }

    fn scan_prefix(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.db
            .scan_prefix(prefix)
            .map(|entry| {
                let (key, value) = entry.map_err(|e| self.read_error(prefix, e))?;
                let key = String::from_utf8(key.to_vec()).map_err(|e| StoreError::Read {
                    path: self.path.clone(),
                    key: prefix.to_string(),
                    reason: format!("a key is not UTF-8: {e}"),
                })?;
                Ok((key, value.to_vec()))
            })
            .collect()
    }

    fn side_dir(&self) -> Option<&Path> {
        Some(&self.path)
    }
}
