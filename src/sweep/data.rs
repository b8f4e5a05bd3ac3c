//! The history a sweep shares between its cells: each candle file of the base config read
//! once, and the content hash of every input file (part of each cell's id, so a result is
//! never reused for other data).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::ThreadId;

use anyhow::Context;
use keel_data::{load_candles, CandleSeries, DataError};
use keel_model::{Candle, Symbol, Timestamp};
use sha2::{Digest, Sha256};

use super::cell::Base;
use crate::backtest::{checked, load_inputs_with, InputError, RunInputs, SymbolSeries};
use crate::settings::{ResolvedSource, Settings};

/// One symbol series, computed by the first cell that needs it.
type UpdateSlot = Arc<OnceLock<Arc<SymbolSeries>>>;

/// A thread's prepared inputs for the cells whose input settings make `key`.
struct Prepared {
    thread: ThreadId,
    key: String,
    inputs: Arc<RunInputs>,
}

/// Prepared inputs each thread keeps (consecutive cells of a grid mostly share theirs).
const PREPARED_PER_THREAD: usize = 2;

/// The candle files of a sweep, loaded once, and the symbol updates computed over them, once
/// per indicator and setup settings.
#[derive(Default)]
pub struct SharedData {
    series: HashMap<PathBuf, Arc<CandleSeries>>,
    updates: Mutex<HashMap<(PathBuf, String), UpdateSlot>>,
    prepared: Mutex<Vec<Prepared>>,
    /// The sha256 (hex) of every input file's bytes, by path.
    pub hashes: BTreeMap<PathBuf, String>,
}

impl SharedData {
    /// Reads every candle file (and hashes every input file) of the base config.
    pub fn load(base: &Base) -> anyhow::Result<Self> {
        let settings = base.settings()?;
        let mut data = Self::default();
        for source in settings.sources()? {
            let series = load_candles(&source.path, source.symbol.clone(), source.interval)
                .map_err(InputError::from)
                .and_then(|series| checked(series, &source))
                .with_context(|| format!("loading {}", source.path.display()))?;
            data.hashes
                .insert(source.path.clone(), hash_file(&source.path)?);
            data.series.insert(source.path, series);
        }
        if let Some(headlines) = &settings.data.headlines {
            data.hashes.insert(headlines.clone(), hash_file(headlines)?);
        }
        Ok(data)
    }

    /// The inputs of one cell's run: the calling thread's copy from an earlier cell with the
    /// same input settings, else a new one from the shared candles and symbol updates. No
    /// copy serves two threads (see `own_copy`).
    pub fn inputs(&self, settings: &Settings) -> Result<Arc<RunInputs>, InputError> {
        let key = serde_json::to_string(&(
            &settings.data,
            &settings.sentiment,
            &settings.indicators,
            &settings.setup,
        ))
        .unwrap_or_default();
        let thread = std::thread::current().id();
        let lock = || self.prepared.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = lock().iter().find(|p| p.thread == thread && p.key == key) {
            return Ok(found.inputs.clone());
        }
        let inputs = Arc::new(self.prepare(settings)?);
        let mut prepared = lock();
        let mine = prepared.iter().filter(|p| p.thread == thread).count();
        if mine >= PREPARED_PER_THREAD {
            if let Some(oldest) = prepared.iter().position(|p| p.thread == thread) {
                prepared.remove(oldest);
            }
        }
        prepared.push(Prepared {
            thread,
            key,
            inputs: inputs.clone(),
        });
        Ok(inputs)
    }

    fn prepare(&self, settings: &Settings) -> Result<RunInputs, InputError> {
        let mut shared = Vec::new();
        let mut inputs = load_inputs_with(settings, &mut |source: &ResolvedSource| match self
            .series
            .get(&source.path)
        {
            Some(series) if series.symbol == source.symbol => {
                shared.push((source.path.clone(), series.clone()));
                Ok(Arc::new(own_copy(series)))
            }
            _ => {
                let loaded = load_candles(&source.path, source.symbol.clone(), source.interval)?;
                checked(loaded, source)
            }
        })?;
        for (path, candles) in shared {
            let updates = self.symbol_updates(path, &candles, settings);
            inputs
                .symbol_updates
                .insert(candles.symbol.clone(), updates);
        }
        Ok(inputs)
    }

    /// The updates of `candles`' symbol under `settings`' indicators and setup scanner:
    /// computed by the first cell that needs them, while the others wait for it.
    fn symbol_updates(
        &self,
        path: PathBuf,
        candles: &CandleSeries,
        settings: &Settings,
    ) -> Arc<SymbolSeries> {
        let key =
            serde_json::to_string(&(&settings.indicators, &settings.setup)).unwrap_or_default();
        let slot = {
            let mut updates = self.updates.lock().unwrap_or_else(|e| e.into_inner());
            updates.entry((path, key)).or_default().clone()
        };
        slot.get_or_init(|| {
            Arc::new(SymbolSeries::compute(
                &candles.symbol,
                &candles.candles,
                &settings.indicators,
                &settings.setup,
            ))
        })
        .clone()
    }

    /// The first candle's open time and the last candle's close time over every file.
    pub fn span(&self) -> Option<(Timestamp, Timestamp)> {
        let first = self
            .series
            .values()
            .filter_map(|s| s.candles.first())
            .map(|c| c.open_time);
        let last = self
            .series
            .values()
            .filter_map(|s| s.candles.last())
            .map(|c| c.close_time());
        Some((first.min()?, last.max()?))
    }

    /// A hash of the base config and the data: what every cell id of this sweep starts from.
    pub fn fingerprint(&self, base: &Base) -> String {
        let mut hash = Sha256::new();
        hash.update(toml::to_string(&base.table).unwrap_or_default().as_bytes());
        for (path, file_hash) in &self.hashes {
            hash.update(format!("\n{}={file_hash}", path.display()).as_bytes());
        }
        hex::encode(hash.finalize())
    }
}

/// A copy of `series` whose candles carry a symbol of their own. Every candle clone counts
/// a reference to its symbol; cells on different threads counting references to one shared
/// symbol would fight over its counter's cache line and barely run in parallel.
fn own_copy(series: &CandleSeries) -> CandleSeries {
    let symbol = Symbol::parse(series.symbol.as_str()).unwrap_or_else(|_| series.symbol.clone());
    CandleSeries {
        symbol: symbol.clone(),
        interval: series.interval,
        candles: series
            .candles
            .iter()
            .map(|c| Candle {
                symbol: symbol.clone(),
                ..*c
            })
            .collect(),
        quality: series.quality.clone(),
    }
}

impl std::fmt::Debug for SharedData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedData")
            .field("files", &self.series.keys().collect::<Vec<_>>())
            .field("hashes", &self.hashes)
            .finish_non_exhaustive()
    }
}

/// The sha256 (hex) of a file's bytes.
pub fn hash_file(path: &std::path::Path) -> Result<String, DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}
