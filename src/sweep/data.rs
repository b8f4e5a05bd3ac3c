//! The history a sweep shares between its cells: each candle file of the base config read
//! once, and the content hash of every input file (part of each cell's id, so a result is
//! never reused for other data).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::Context;
use keel_data::{load_candles, CandleSeries, DataError};
use keel_model::{Candle, Symbol, Timestamp};
use sha2::{Digest, Sha256};

use super::cell::Base;
use crate::backtest::{checked, load_inputs_with, InputError, RunInputs, SymbolSeries};
use crate::settings::{ResolvedSource, Settings};

/// One symbol series, computed by the first cell that needs it.
type UpdateSlot = Arc<OnceLock<Arc<SymbolSeries>>>;

/// The candle files of a sweep, loaded once, and the symbol updates computed over them, once
/// per indicator and setup settings.
#[derive(Debug, Default)]
pub struct SharedData {
    series: HashMap<PathBuf, Arc<CandleSeries>>,
    updates: Mutex<HashMap<(PathBuf, String), UpdateSlot>>,
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

    /// The inputs of one cell's run, from the shared candles and symbol updates.
    pub fn inputs(&self, settings: &Settings) -> Result<RunInputs, InputError> {
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

/// The sha256 (hex) of a file's bytes.
pub fn hash_file(path: &std::path::Path) -> Result<String, DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}
