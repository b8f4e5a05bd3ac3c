//! What a sweep has finished, in `DIR/cells.jsonl`: one line per cell, written as soon as
//! the cell is done, so a sweep stopped at any moment (Ctrl-C, SIGKILL) resumes without
//! redoing a finished cell. `DIR/sweep.json` names the base config and data the results
//! belong to; a folder holding another sweep's results is refused, never mixed.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Where one cell ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// The backtest ran: every metric of its report.
    Ran {
        /// Metric name → value, in the report's order.
        metrics: Map<String, Value>,
    },
    /// It did not run, and why (a rule between two keys, no candles in its range, ...).
    Skipped {
        /// The reason, as `skipped.csv` shows it.
        reason: String,
    },
}

/// One finished cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellRecord {
    /// Its index in the grid.
    pub index: u64,
    /// Its id ([`super::cell::cell_id`]).
    pub id: String,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// The finished cells of a sweep folder, open for appending.
#[derive(Debug)]
pub struct Store {
    file: File,
    path: PathBuf,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct SweepFile {
    fingerprint: String,
    base: String,
}

impl Store {
    /// Opens (or creates) `dir` for the sweep of `fingerprint` and returns the cells already
    /// finished there, by id. A line cut short by a kill is dropped (that cell runs again).
    pub fn open(
        dir: &Path,
        fingerprint: &str,
        base: &str,
    ) -> anyhow::Result<(Self, HashMap<String, CellRecord>)> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let sweep_path = dir.join("sweep.json");
        let ours = SweepFile {
            fingerprint: fingerprint.to_string(),
            base: base.to_string(),
        };
        match std::fs::read_to_string(&sweep_path) {
            Ok(text) => {
                let theirs: SweepFile = serde_json::from_str(&text)
                    .with_context(|| format!("{} is not a sweep file", sweep_path.display()))?;
                if theirs.fingerprint != ours.fingerprint {
                    bail!(
                        "{} holds the results of another sweep (base config {} or its data differ); choose another --out or remove it",
                        dir.display(),
                        theirs.base
                    );
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                write_atomically(&sweep_path, &serde_json::to_vec_pretty(&ours)?)?;
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", sweep_path.display())),
        }
        let path = dir.join("cells.jsonl");
        let done = read_records(&path)?;
        // Rewrite the file without a torn last line, so appends start on a fresh line.
        let mut clean = Vec::new();
        let mut sorted: Vec<&CellRecord> = done.values().collect();
        sorted.sort_by_key(|r| r.index);
        for record in sorted {
            serde_json::to_writer(&mut clean, record)?;
            clean.push(b'\n');
        }
        write_atomically(&path, &clean)?;
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        Ok((Self { file, path }, done))
    }

    /// Appends a finished cell (one write of one whole line).
    pub fn append(&mut self, record: &CellRecord) -> anyhow::Result<()> {
        let mut line = serde_json::to_vec(record)?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .with_context(|| format!("appending to {}", self.path.display()))
    }
}

/// The records of `path`, by id; missing file: none. Lines that do not parse are dropped
/// with a warning (a line cut short by a kill).
fn read_records(path: &Path) -> anyhow::Result<HashMap<String, CellRecord>> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let mut done = HashMap::new();
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        match serde_json::from_str::<CellRecord>(&line) {
            Ok(record) => {
                done.insert(record.id.clone(), record);
            }
            Err(error) => tracing::warn!(
                file = %path.display(),
                line = n + 1,
                %error,
                "dropping an unreadable result line (a cell cut short); it runs again"
            ),
        }
    }
    Ok(done)
}

/// Writes `bytes` to `path` through a temporary file and a rename: a reader sees the old
/// file or the new one, never half of one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
