//! The files a sweep leaves in its folder: `results.csv` (one row per cell that ran: its
//! keys, then every metric), `skipped.csv` (cells that did not run, and why), `best.toml`
//! (the base config with the best cell's keys set) and `heatmap.svg`. Rows follow the grid's
//! order, so the files are the same whatever the thread count or the order cells finished.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::Value;

use super::cell::{display, Base};
use super::grid::{Cell, Grid};
use super::heatmap::{render_heatmap, HeatmapAxes};
use super::ranking::{metric_names, Ranking};
use super::store::{write_atomically, CellRecord, Outcome};

/// What was written, for the summary.
#[derive(Debug)]
pub struct Written {
    /// `results.csv`.
    pub results: PathBuf,
    /// `skipped.csv`.
    pub skipped: PathBuf,
    /// Cells that ran and cells skipped.
    pub counts: (usize, usize),
    /// The best cell and its score, with `best.toml`.
    pub best: Option<(Cell, f64, PathBuf)>,
    /// `heatmap.svg`, when two keys vary.
    pub heatmap: Option<PathBuf>,
}

/// Writes every output of the sweep of `cells` from their `records` (by cell id).
pub fn write_outputs(
    dir: &Path,
    base: &Base,
    grid: &Grid,
    cells: &[(Cell, String)],
    records: &HashMap<String, CellRecord>,
    ranking: &Ranking,
    heatmap: Option<&HeatmapAxes>,
) -> anyhow::Result<Written> {
    let keys: Vec<&str> = grid.axes.iter().map(|a| a.key.as_str()).collect();
    let metrics = metric_names();
    let mut results = csv_writer(&keys, metrics.iter().map(String::as_str));
    let mut skipped = csv_writer(&keys, ["reason"]);
    let mut counts = (0, 0);
    let mut finished: Vec<(&Cell, &CellRecord)> = Vec::with_capacity(cells.len());
    for (cell, id) in cells {
        let Some(record) = records.get(id) else {
            continue;
        };
        finished.push((cell, record));
        let mut row = vec![cell.index.to_string(), id.clone()];
        row.extend(cell.values.iter().map(|(_, v)| display(v)));
        match &record.outcome {
            Outcome::Ran { metrics: values } => {
                counts.0 += 1;
                row.extend(
                    metrics
                        .iter()
                        .map(|m| values.get(m).map(cell_text).unwrap_or_default()),
                );
                results.write_record(&row)?;
            }
            Outcome::Skipped { reason } => {
                counts.1 += 1;
                row.push(reason.clone());
                skipped.write_record(&row)?;
            }
        }
    }
    let results_path = dir.join("results.csv");
    let skipped_path = dir.join("skipped.csv");
    write_atomically(&results_path, &results.into_inner()?)?;
    write_atomically(&skipped_path, &skipped.into_inner()?)?;

    let best = match ranking.best(finished.iter().map(|(_, r)| *r)) {
        None => None,
        Some((record, score)) => {
            let cell = finished
                .iter()
                .find(|(c, _)| c.index == record.index)
                .map(|(c, _)| (*c).clone())
                .context("the best record has no cell")?;
            let path = dir.join("best.toml");
            let table = base
                .with(&cell.values)
                .map_err(anyhow::Error::msg)
                .context("building best.toml")?;
            let text = format!(
                "# keel sweep: the best of {} cells by {} {} = {score}, cell {}\n{}",
                counts.0,
                if ranking.highest { "highest" } else { "lowest" },
                ranking.metric,
                cell.index,
                toml::to_string(&table).context("writing best.toml")?
            );
            write_atomically(&path, text.as_bytes())?;
            Some((cell, score, path))
        }
    };
    let heatmap = match heatmap {
        None => None,
        Some(axes) => {
            let path = dir.join("heatmap.svg");
            let svg = render_heatmap(axes, ranking, &finished);
            write_atomically(&path, svg.as_bytes())?;
            Some(path)
        }
    };
    Ok(Written {
        results: results_path,
        skipped: skipped_path,
        counts,
        best,
        heatmap,
    })
}

fn csv_writer<'a>(
    keys: &[&'a str],
    tail: impl IntoIterator<Item = &'a str>,
) -> csv::Writer<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["cell", "id"];
    header.extend(keys);
    header.extend(tail);
    // Writing to memory cannot fail.
    let _ = writer.write_record(&header);
    writer
}

/// A metric as a CSV field: numbers and text as they are, null as an empty field.
fn cell_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
