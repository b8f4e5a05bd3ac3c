//! Everything checked before a sweep runs anything: the base config, the grid, every value
//! on its own, the ranking metric and the heatmap's keys; then the data is loaded once.

use super::cell::Base;
use super::grid::{Cell, Grid};
use super::heatmap::HeatmapAxes;
use super::ranking::Ranking;
use super::run::Sweep;

/// A sweep refused before it ran: a usage or configuration error (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// What `keel sweep` was asked for.
#[derive(Debug, Clone)]
pub struct PlanOptions<'a> {
    /// The base config's text and where it came from.
    pub base: (&'a str, &'a str),
    /// The grid's text and where it came from.
    pub grid: (&'a str, &'a str),
    /// `--samples`.
    pub samples: Option<u64>,
    /// `--seed`.
    pub seed: u64,
    /// `--rank-by`.
    pub rank_by: &'a str,
    /// `--heatmap`.
    pub heatmap: Option<&'a str>,
}

/// A checked sweep, its data loaded, ready to run.
#[derive(Debug)]
pub struct Plan {
    /// The base config and the shared data.
    pub sweep: Sweep,
    /// The grid.
    pub grid: Grid,
    /// The cells to run, in grid order, with their ids.
    pub cells: Vec<(Cell, String)>,
    /// How the best cell is picked.
    pub ranking: Ranking,
    /// The heatmap's keys, when there are two.
    pub heatmap: Option<HeatmapAxes>,
}

impl Plan {
    /// Checks everything and loads the data. A [`Refused`] or a settings error is the
    /// user's to fix; any other error is the data's.
    pub fn new(options: &PlanOptions) -> anyhow::Result<Self> {
        let base = Base::from_toml(options.base.0, options.base.1)?;
        let grid =
            Grid::from_toml(options.grid.0, options.grid.1).map_err(|e| Refused(e.to_string()))?;
        base.check(&grid).map_err(Refused)?;
        let ranking = Ranking::parse(options.rank_by).map_err(Refused)?;
        let heatmap = HeatmapAxes::choose(&grid, options.heatmap).map_err(Refused)?;
        let cells = grid.cells(options.samples, options.seed).map_err(Refused)?;
        let sweep = Sweep::new(base)?;
        let cells = cells
            .into_iter()
            .map(|cell| {
                let id = sweep.id(&cell);
                (cell, id)
            })
            .collect();
        Ok(Self {
            sweep,
            grid,
            cells,
            ranking,
            heatmap,
        })
    }
}
