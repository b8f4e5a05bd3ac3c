//! A cell as it travels to a worker on another machine: the base config with each input
//! file replaced by its content hash, the cell's values, its index and id. The worker
//! fetches the files by hash (once, then from its cache), points the config at its copies
//! and runs the cell exactly as a local sweep would.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use toml::{Table, Value};

use super::cell::Base;
use super::grid::Cell;
use super::run::Sweep;
use super::store::CellRecord;
use crate::distributed::{ObjectFetcher, ObjectHash};

/// Marks a path that names an object: `keel-object:<sha256>/<file name>` (the name keeps the
/// extension that tells the loaders the format).
const OBJECT_PREFIX: &str = "keel-object:";

/// One cell for a worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellTask {
    /// The base config's TOML, its input paths replaced by `keel-object:<sha256>/<name>`.
    pub base: String,
    /// The cell's index in the grid.
    pub index: u64,
    /// The cell's id in the coordinator's sweep (its result carries it back).
    pub id: String,
    /// The cell's values.
    pub values: Vec<(String, Value)>,
}

impl CellTask {
    /// The task of `cell` (whose id is `id`) over the base text of [`base_for_workers`].
    pub fn new(base_for_workers: &str, cell: &Cell, id: &str) -> Self {
        Self {
            base: base_for_workers.to_string(),
            index: cell.index,
            id: id.to_string(),
            values: cell.values.clone(),
        }
    }
}

/// The base config's text as workers get it: every candle file and the headline file named by
/// the hash `hashes` gives it.
pub fn base_for_workers(base: &Base, hashes: &BTreeMap<PathBuf, String>) -> anyhow::Result<String> {
    let mut table = base.table.clone();
    rewrite_paths(&mut table, &mut |path| {
        let hash = hashes
            .get(Path::new(path))
            .with_context(|| format!("{path} was not hashed"))?;
        let name = Path::new(path)
            .file_name()
            .map_or("data".into(), |n| n.to_string_lossy());
        Ok(format!("{OBJECT_PREFIX}{hash}/{name}"))
    })?;
    Ok(toml::to_string(&table)?)
}

/// The input files named in a worker's base: their content hashes.
pub fn objects_of(base_text: &str) -> anyhow::Result<Vec<String>> {
    let mut table: Table = toml::from_str(base_text).context("a cell's base config")?;
    let mut hashes = Vec::new();
    rewrite_paths(&mut table, &mut |path| {
        if let Some((hash, _)) = object_ref(path) {
            hashes.push(hash.to_string());
        }
        Ok(path.to_string())
    })?;
    Ok(hashes)
}

/// Runs tasks on a worker: one [`Sweep`] per base (its candles loaded and its symbol updates
/// computed once for all of that sweep's cells), the files fetched through `fetch`.
#[derive(Default)]
pub struct TaskRunner {
    sweeps: Mutex<HashMap<String, Arc<Sweep>>>,
}

impl TaskRunner {
    /// A worker's handler: the task in `payload` run to its record, as JSON, the input files
    /// fetched through `objects`.
    pub fn handle(&self, payload: &[u8], objects: &ObjectFetcher) -> anyhow::Result<Vec<u8>> {
        let task: CellTask = serde_json::from_slice(payload).context("a cell from the queue")?;
        let record = self.run(&task, &|hash| Ok(objects.fetch(&ObjectHash::new(hash)?)?))?;
        Ok(serde_json::to_vec(&record)?)
    }

    /// Runs one task's cell; its record carries the coordinator's id. `fetch` turns a
    /// content hash into a local file holding those bytes.
    pub fn run(
        &self,
        task: &CellTask,
        fetch: &dyn Fn(&str) -> anyhow::Result<PathBuf>,
    ) -> anyhow::Result<CellRecord> {
        let sweep = self.sweep(&task.base, fetch)?;
        let cell = Cell {
            index: task.index,
            values: task.values.clone(),
        };
        let mut record = sweep.run_cell(&cell);
        record.id = task.id.clone();
        Ok(record)
    }

    fn sweep(
        &self,
        base_text: &str,
        fetch: &dyn Fn(&str) -> anyhow::Result<PathBuf>,
    ) -> anyhow::Result<Arc<Sweep>> {
        // Held while a base loads: the worker's other cells need the same base anyway.
        let mut sweeps = self.sweeps.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sweep) = sweeps.get(base_text) {
            return Ok(sweep.clone());
        }
        let mut table: Table = toml::from_str(base_text).context("a cell's base config")?;
        rewrite_paths(&mut table, &mut |path| match object_ref(path) {
            Some((hash, name)) => Ok(named_copy(&fetch(hash)?, hash, name)?.display().to_string()),
            None => Ok(path.to_string()),
        })?;
        let local = toml::to_string(&table)?;
        let sweep = Arc::new(Sweep::new(Base::from_toml(
            &local,
            "(a sweep's base config)",
        )?)?);
        sweeps.insert(base_text.to_string(), sweep.clone());
        Ok(sweep)
    }
}

/// `(hash, file name)` of an object path.
fn object_ref(path: &str) -> Option<(&str, &str)> {
    path.strip_prefix(OBJECT_PREFIX)?.split_once('/')
}

/// The cached object `cached` under its original file `name` (a hard link beside it, a copy
/// where links are not possible): the loaders tell a file's format by its extension.
fn named_copy(cached: &Path, hash: &str, name: &str) -> anyhow::Result<PathBuf> {
    let name = Path::new(name)
        .file_name()
        .context("an object's file name")?
        .to_string_lossy();
    let named = cached.with_file_name(format!("{hash}-{name}"));
    if !named.exists() {
        // Another worker process may share the cache: a temporary name of this process's own.
        let tmp = named.with_file_name(format!("{hash}-{name}.{}.linking", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        if std::fs::hard_link(cached, &tmp).is_err() {
            std::fs::copy(cached, &tmp)
                .with_context(|| format!("copying {} to {}", cached.display(), tmp.display()))?;
        }
        std::fs::rename(&tmp, &named).with_context(|| format!("naming {}", named.display()))?;
    }
    Ok(named)
}

/// Applies `rewrite` to every input path of a config table: `data.candles[*].path` and
/// `data.headlines`.
fn rewrite_paths(
    table: &mut Table,
    rewrite: &mut dyn FnMut(&str) -> anyhow::Result<String>,
) -> anyhow::Result<()> {
    let Some(Value::Table(data)) = table.get_mut("data") else {
        return Ok(());
    };
    if let Some(Value::Array(candles)) = data.get_mut("candles") {
        for source in candles {
            if let Some(Value::String(path)) = source.get_mut("path") {
                *path = rewrite(path)?;
            }
        }
    }
    if let Some(Value::String(path)) = data.get_mut("headlines") {
        *path = rewrite(path)?;
    }
    Ok(())
}
