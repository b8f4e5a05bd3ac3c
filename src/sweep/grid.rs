//! The grid of `keel sweep`: a TOML file that mirrors the config's sections, with a list of
//! values, or a range `{ from, to, step }`, where the config has one value. Its cells are
//! every combination (the last key varies fastest), or `--samples N` of them drawn with a
//! seed.

use std::collections::BTreeSet;

use toml::{Table, Value};

/// Most cells a sweep enumerates; a larger grid needs `--samples`.
pub const MAX_CELLS: u64 = 1_000_000;

/// The sweep-only key that picks a subset of the base config's candle files by symbol.
pub const SYMBOLS_KEY: &str = "data.symbols";

/// Why a grid was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid grid {origin}: {problem}")]
pub struct GridError {
    /// The file.
    pub origin: String,
    /// The key and what is wrong with it.
    pub problem: String,
}

/// One swept key and the values it takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The dotted key, e.g. `strategy.sma_fast`.
    pub key: String,
    /// Its values, in the grid's order.
    pub values: Vec<Value>,
}

/// Every swept key, in the order the grid file lists them.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// The axes; a key with one value is an axis of one.
    pub axes: Vec<Axis>,
}

/// One combination of values: the value each axis takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Its position among all the grid's combinations (stable whatever is sampled).
    pub index: u64,
    /// `(key, value)` per axis, in axis order.
    pub values: Vec<(String, Value)>,
}

impl Grid {
    /// Parses a grid file's text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, GridError> {
        let refuse = |problem: String| GridError {
            origin: origin.to_string(),
            problem,
        };
        let table: Table = toml::from_str(text).map_err(|e| refuse(e.to_string()))?;
        let mut axes = Vec::new();
        collect_axes("", &table, &mut axes).map_err(refuse)?;
        if axes.is_empty() {
            return Err(refuse("no keys to sweep".into()));
        }
        let grid = Self { axes };
        grid.cell_count().map_err(refuse)?;
        Ok(grid)
    }

    /// How many combinations the grid has.
    pub fn cell_count(&self) -> Result<u64, String> {
        self.axes.iter().try_fold(1u64, |n, axis| {
            n.checked_mul(axis.values.len() as u64)
                .ok_or_else(|| "the grid has more cells than can be counted".to_string())
        })
    }

    /// The cell at `index` (below [`cell_count`](Self::cell_count)).
    pub fn cell(&self, index: u64) -> Cell {
        let mut rest = index;
        let mut values = vec![(String::new(), Value::Boolean(false)); self.axes.len()];
        for (slot, axis) in values.iter_mut().zip(&self.axes).rev() {
            let n = axis.values.len() as u64;
            *slot = (axis.key.clone(), axis.values[(rest % n) as usize].clone());
            rest /= n;
        }
        Cell { index, values }
    }

    /// The cells a sweep runs: all of them, or `samples` distinct ones drawn with `seed`, in
    /// index order.
    pub fn cells(&self, samples: Option<u64>, seed: u64) -> Result<Vec<Cell>, String> {
        let total = self.cell_count()?;
        let indices: Vec<u64> = match samples {
            Some(n) if n < total => sample_indices(total, n, seed),
            _ if total > MAX_CELLS => {
                return Err(format!(
                    "the grid has {total} cells, more than {MAX_CELLS}: draw some with --samples N"
                ))
            }
            _ => (0..total).collect(),
        };
        Ok(indices.into_iter().map(|i| self.cell(i)).collect())
    }

    /// The axes with more than one value.
    pub fn varying(&self) -> Vec<&Axis> {
        self.axes.iter().filter(|a| a.values.len() > 1).collect()
    }
}

/// `n` distinct indices below `total` drawn with `seed`, sorted.
fn sample_indices(total: u64, n: u64, seed: u64) -> Vec<u64> {
    let mut rng = fastrand::Rng::with_seed(seed);
    if n.saturating_mul(2) > total {
        // Dense: shuffle every index and keep the first n.
        let mut all: Vec<u64> = (0..total).collect();
        rng.shuffle(&mut all);
        all.truncate(n as usize);
        all.sort_unstable();
        return all;
    }
    let mut chosen = BTreeSet::new();
    while (chosen.len() as u64) < n {
        chosen.insert(rng.u64(0..total));
    }
    chosen.into_iter().collect()
}

/// Walks a grid table: sections recurse, lists and ranges are axes, a scalar is an axis of one.
fn collect_axes(prefix: &str, table: &Table, axes: &mut Vec<Axis>) -> Result<(), String> {
    for (name, value) in table {
        let key = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        if key == "data.candles" {
            return Err(format!(
                "`data.candles` cannot be swept; sweep `{SYMBOLS_KEY}` (lists of symbols among the base config's candle files)"
            ));
        }
        let values = match value {
            Value::Table(inner) if is_range(inner) => range_values(&key, inner)?,
            Value::Table(inner) => {
                collect_axes(&key, inner, axes)?;
                continue;
            }
            Value::Array(values) if values.is_empty() => {
                return Err(format!("`{key}` lists no values"))
            }
            Value::Array(values) => values.clone(),
            scalar => vec![scalar.clone()],
        };
        if key == SYMBOLS_KEY {
            check_symbol_sets(&values)?;
        }
        axes.push(Axis { key, values });
    }
    Ok(())
}

fn is_range(table: &Table) -> bool {
    table.contains_key("from") || table.contains_key("to") || table.contains_key("step")
}

/// The values of `{ from, to, step }`: integers when all three are integers, else numbers
/// rounded to 12 significant decimals so that `0.1` steps do not drift.
fn range_values(key: &str, range: &Table) -> Result<Vec<Value>, String> {
    if let Some(extra) = range
        .keys()
        .find(|k| !["from", "to", "step"].contains(&k.as_str()))
    {
        return Err(format!(
            "`{key}`: a range has `from`, `to` and `step`, not `{extra}`"
        ));
    }
    let field = |name: &str| -> Result<&Value, String> {
        range
            .get(name)
            .ok_or_else(|| format!("`{key}`: a range needs `{name}`"))
    };
    let (from, to, step) = (field("from")?, field("to")?, field("step")?);
    if let (Value::Integer(from), Value::Integer(to), Value::Integer(step)) = (from, to, step) {
        if *step <= 0 || to < from {
            return Err(format!(
                "`{key}`: range from {from} to {to} by {step} needs step > 0 and to >= from"
            ));
        }
        let count = (to - from) / step + 1;
        check_count(key, count as u64)?;
        return Ok((0..count)
            .map(|i| Value::Integer(from + i * step))
            .collect());
    }
    let number = |name: &str, v: &Value| match v {
        Value::Integer(i) => Ok(*i as f64),
        Value::Float(f) if f.is_finite() => Ok(*f),
        _ => Err(format!("`{key}.{name}` must be a finite number")),
    };
    let (from, to, step) = (
        number("from", from)?,
        number("to", to)?,
        number("step", step)?,
    );
    if step <= 0.0 || to < from {
        return Err(format!(
            "`{key}`: range from {from} to {to} by {step} needs step > 0 and to >= from"
        ));
    }
    // The tolerance keeps `to` itself when (to - from) / step is a whole number in decimal.
    let count = ((to - from) / step + 1e-9).floor() as u64 + 1;
    check_count(key, count)?;
    Ok((0..count)
        .map(|i| Value::Float(round12(from + i as f64 * step)))
        .collect())
}

fn check_count(key: &str, count: u64) -> Result<(), String> {
    if count > MAX_CELLS {
        return Err(format!("`{key}`: a range of {count} values is too long"));
    }
    Ok(())
}

fn round12(x: f64) -> f64 {
    format!("{x:.12e}").parse().unwrap_or(x)
}

fn check_symbol_sets(values: &[Value]) -> Result<(), String> {
    for value in values {
        let ok =
            matches!(value, Value::Array(set) if !set.is_empty() && set.iter().all(Value::is_str));
        if !ok {
            return Err(format!(
                "`{SYMBOLS_KEY}` takes lists of symbols, e.g. [[\"BTCUSDT\"], [\"BTCUSDT\", \"ETHUSDT\"]]; got {value}"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "grid_tests.rs"]
mod tests;
