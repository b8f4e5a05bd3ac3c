//! Compaction: sled 0.34 gives disk space back only when the segments at the end of its file
//! happen to be free, so a store that once held much keeps most of its size. [`compact`] copies the live records into a fresh store beside the old one and
//! swaps it in; every step leaves a state that [`finish_interrupted`] (run by each
//! [`SledStore::open`]) settles, so a crash at any moment loses nothing:
//!
//! 1. copy every record and the side files into `NAME.compacting`, flush, compare;
//! 2. rename it `NAME.compacted` (complete from here);
//! 3. rename `NAME` to `NAME.old`, then `NAME.compacted` to `NAME`;
//! 4. remove `NAME.old`.
//!
//! Found at open: a `NAME.compacting` is half made and removed; a `NAME.compacted` beside
//! `NAME` is dropped (`NAME` is intact: the swap had not begun); a `NAME.compacted` without
//! `NAME` is moved into place (the crash fell between the two renames); a `NAME.old` beside
//! `NAME` is removed; a `NAME.old` alone is moved back.

use std::fs;
use std::path::{Path, PathBuf};

use super::store::{note_released, sled_config, SledStore, StoreError, BESIDE_FILES};

/// What a compaction did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compaction {
    /// Bytes on disk before.
    pub before: u64,
    /// Bytes on disk after.
    pub after: u64,
    /// Records copied (every tree).
    pub records: usize,
}

/// The bytes the files under `path` take (0 when it does not exist).
pub fn disk_size(path: &Path) -> u64 {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    fs::read_dir(path)
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .map(|e| disk_size(&e.path()))
                .sum()
        })
        .unwrap_or(0)
}

/// `path` with `suffix` added to its last component.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    path.with_file_name(format!("{name}.{suffix}"))
}

fn failed(path: &Path, step: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Io {
        path: path.to_path_buf(),
        reason: format!("compaction: {step}: {e}"),
    }
}

/// Syncs a directory's entries (a rename inside it is durable once this returns).
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    fs::File::open(dir)?.sync_all()
}

fn parent(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new("."))
}

/// Settles what a compaction interrupted by a crash left beside the store at `path` (see the
/// module's documentation). Nothing to do, the usual case, costs three `stat`s; the parent
/// directory (which need not exist yet) is synced only when something was moved or removed.
pub fn finish_interrupted(path: &Path) -> Result<(), StoreError> {
    let (staging, done, old) = (
        beside(path, "compacting"),
        beside(path, "compacted"),
        beside(path, "old"),
    );
    let step = |what: &str, r: std::io::Result<()>| r.map_err(|e| failed(path, what, e));
    let mut settled = false;
    if staging.exists() {
        step("remove a half-made copy", fs::remove_dir_all(&staging))?;
        settled = true;
    }
    if done.exists() {
        if path.exists() {
            step("drop a copy never swapped in", fs::remove_dir_all(&done))?;
        } else {
            step("move the copy into place", fs::rename(&done, path))?;
        }
        settled = true;
    }
    if old.exists() {
        if path.exists() {
            step("remove the store replaced", fs::remove_dir_all(&old))?;
        } else {
            step("move the old store back", fs::rename(&old, path))?;
        }
        settled = true;
    }
    if settled {
        step("sync the parent directory", sync_dir(parent(path)))?;
    }
    Ok(())
}

/// Compacts the store at `path` (see the module's documentation). Refused while another
/// process has the store open; a failure before the swap leaves the store as it was and
/// removes the copy.
pub fn compact(path: &Path) -> Result<Compaction, StoreError> {
    let before = disk_size(path);
    let store = SledStore::open(path)?;
    let staging = beside(path, "compacting");
    let records = match copy_into(&store, path, &staging) {
        Ok(records) => records,
        Err(e) => {
            let _ = fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    swap(path, &staging)?;
    drop(store);
    note_released(path);
    Ok(Compaction {
        before,
        after: disk_size(path),
        records,
    })
}

/// Copies every record of `store` and the side files of `path` into a new sled store at
/// `staging`, flushes it, and compares it with the original record by record.
fn copy_into(store: &SledStore, path: &Path, staging: &Path) -> Result<usize, StoreError> {
    if staging.exists() {
        fs::remove_dir_all(staging).map_err(|e| failed(path, "clear an old copy", e))?;
    }
    let fresh = sled_config(staging)
        .open()
        .map_err(|e| failed(path, "create the copy", e))?;
    let old = store.db();
    let mut records = 0;
    for name in old.tree_names() {
        let (from, to) = (
            old.open_tree(&name).map_err(|e| failed(path, "read", e))?,
            fresh
                .open_tree(&name)
                .map_err(|e| failed(path, "write the copy", e))?,
        );
        for entry in from.iter() {
            let (key, value) = entry.map_err(|e| failed(path, "read", e))?;
            to.insert(key, value)
                .map_err(|e| failed(path, "write the copy", e))?;
            records += 1;
        }
        if !from.iter().map(|r| r.ok()).eq(to.iter().map(|r| r.ok())) {
            return Err(failed(path, "compare", "the copy differs from the store"));
        }
    }
    fresh
        .flush()
        .map_err(|e| failed(path, "flush the copy", e))?;
    drop(fresh);
    for side in BESIDE_FILES {
        let from = path.join(side);
        if from.exists() {
            copy_file(&from, &staging.join(side)).map_err(|e| failed(path, side, e))?;
        }
    }
    sync_dir(staging).map_err(|e| failed(path, "sync the copy", e))?;
    Ok(records)
}

/// Copies a file and syncs it.
fn copy_file(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::copy(from, to)?;
    fs::File::open(to)?.sync_all()
}

/// Swaps the complete copy at `staging` in for the store at `path` (steps 2 to 4).
fn swap(path: &Path, staging: &Path) -> Result<(), StoreError> {
    let (done, old) = (beside(path, "compacted"), beside(path, "old"));
    let dir = parent(path);
    let step = |what: &str, r: std::io::Result<()>| r.map_err(|e| failed(path, what, e));
    step(
        "mark the copy complete",
        fs::rename(staging, &done).and_then(|_| sync_dir(dir)),
    )?;
    if let Err(e) = fs::rename(path, &old) {
        let _ = fs::remove_dir_all(&done);
        return Err(failed(path, "move the store aside", e));
    }
    if let Err(e) = fs::rename(&done, path) {
        // Back as it was; what is left is settled at the next open.
        let _ = fs::rename(&old, path);
        return Err(failed(path, "move the copy into place", e));
    }
    step("sync the parent directory", sync_dir(dir))?;
    step("remove the store replaced", fs::remove_dir_all(&old))
}
