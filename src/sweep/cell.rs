//! A cell as a config: the base config's TOML with the cell's keys set, validated like any
//! config file. A value that is wrong by itself refuses the whole sweep; a combination that
//! breaks a rule between two keys skips the cell.

use keel_model::Symbol;
use sha2::{Digest, Sha256};
use toml::{Table, Value};

use super::grid::{Grid, SYMBOLS_KEY};
use crate::settings::{Settings, SettingsError};

/// The base config a sweep varies.
#[derive(Debug, Clone)]
pub struct Base {
    /// Its parsed TOML.
    pub table: Table,
    /// The file, or "(embedded default)", for errors.
    pub origin: String,
}

/// What becomes of one cell before it runs.
#[derive(Debug)]
pub enum CellConfig {
    /// Valid: run it.
    Ready(Box<Settings>),
    /// Breaks a rule between keys: listed in `skipped.csv` with the reason.
    Skipped(String),
}

impl Base {
    /// Parses the base config's text and validates it as it stands.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, SettingsError> {
        Settings::from_toml(text, origin)?;
        let table = toml::from_str(text).map_err(|e| SettingsError::Parse {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        Ok(Self {
            table,
            origin: origin.to_string(),
        })
    }

    /// The base config's own settings.
    pub fn settings(&self) -> Result<Settings, SettingsError> {
        Settings::from_table(self.table.clone(), &self.origin)
    }

    /// The base with `values` set: the TOML of the cell.
    pub fn with(&self, values: &[(String, Value)]) -> Result<Table, String> {
        let mut table = self.table.clone();
        for (key, value) in values {
            if key == SYMBOLS_KEY {
                keep_symbols(&mut table, value)?;
            } else {
                set(&mut table, key, value.clone())?;
            }
        }
        Ok(table)
    }

    /// The settings of the cell with `values`.
    pub fn cell(&self, values: &[(String, Value)]) -> CellConfig {
        let table = match self.with(values) {
            Ok(table) => table,
            Err(problem) => return CellConfig::Skipped(problem),
        };
        match Settings::from_table(table, &self.origin) {
            Ok(settings) => CellConfig::Ready(Box::new(settings)),
            Err(SettingsError::Invalid { problem, .. }) => CellConfig::Skipped(problem.to_string()),
            Err(other) => CellConfig::Skipped(other.to_string()),
        }
    }

    /// Refuses a grid with a key or value that is wrong by itself: set alone on the base, it
    /// must parse and pass every check except a rule between two keys.
    pub fn check(&self, grid: &Grid) -> Result<(), String> {
        for axis in &grid.axes {
            for value in &axis.values {
                let alone = [(axis.key.clone(), value.clone())];
                let wrong = |problem: String| {
                    format!("grid value `{} = {value}` is invalid: {problem}", axis.key)
                };
                let table = self.with(&alone).map_err(wrong)?;
                match Settings::from_table(table, &self.origin) {
                    Ok(_) => {}
                    Err(SettingsError::Invalid { problem, .. }) if problem.between.is_some() => {}
                    Err(SettingsError::Invalid { problem, .. }) => {
                        return Err(wrong(problem.to_string()))
                    }
                    Err(other) => return Err(wrong(other.to_string())),
                }
            }
        }
        Ok(())
    }
}

/// A cell's id: a hash of the base config, the data's content hashes (`fingerprint`) and the
/// cell's values; the same cell of the same sweep has the same id on every machine.
pub fn cell_id(fingerprint: &str, values: &[(String, Value)]) -> String {
    let mut hash = Sha256::new();
    hash.update(fingerprint.as_bytes());
    for (key, value) in values {
        hash.update(format!("\n{key}={value}").as_bytes());
    }
    hex::encode(&hash.finalize()[..16])
}

/// The text of `value` as a results column shows it (strings without quotes).
pub fn display(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(items) => items.iter().map(display).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

/// Sets the dotted `key` in `table`, creating sections on the way.
fn set(table: &mut Table, key: &str, value: Value) -> Result<(), String> {
    let mut parts = key.split('.').peekable();
    let mut here = table;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            here.insert(part.to_string(), value);
            return Ok(());
        }
        let next = here
            .entry(part.to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        here = match next {
            Value::Table(inner) => inner,
            _ => return Err(format!("`{key}`: `{part}` is a value, not a section")),
        };
    }
    Ok(())
}

/// Keeps the base's candle files of the symbols in `set` (a list of symbol names).
fn keep_symbols(table: &mut Table, set: &Value) -> Result<(), String> {
    let wanted: Vec<Symbol> = set
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| Symbol::parse(v.as_str().unwrap_or_default()).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    let candles = table
        .get_mut("data")
        .and_then(|d| d.get_mut("candles"))
        .and_then(Value::as_array_mut)
        .ok_or_else(|| format!("`{SYMBOLS_KEY}` needs candle files in the base config"))?;
    let symbol_of = |entry: &Value| {
        entry
            .get("symbol")
            .and_then(Value::as_str)
            .and_then(|s| Symbol::parse(s).ok())
    };
    for symbol in &wanted {
        if !candles
            .iter()
            .any(|c| symbol_of(c).as_ref() == Some(symbol))
        {
            return Err(format!(
                "{symbol} has no candle file in the base config's data.candles"
            ));
        }
    }
    candles.retain(|c| symbol_of(c).is_some_and(|s| wanted.contains(&s)));
    Ok(())
}

#[cfg(test)]
#[path = "cell_tests.rs"]
mod tests;
