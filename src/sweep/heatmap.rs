//! `heatmap.svg`: the ranking metric over two swept keys, one square per pair of values.
//! When other keys vary too, a square shows the best value over them. Red is the worst
//! value, green the best; a square no cell ran is grey.

use std::fmt::Write;

use toml::Value;

use super::cell::display;
use super::grid::{Axis, Cell, Grid};
use super::ranking::Ranking;
use super::store::CellRecord;
use crate::report::escape;

/// The two keys a heatmap shows: columns, then rows.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatmapAxes {
    /// Across (left to right).
    pub x: Axis,
    /// Down (top to bottom).
    pub y: Axis,
}

impl HeatmapAxes {
    /// `--heatmap K1,K2`, or the first two keys with more than one value; `None` when fewer
    /// than two keys vary and none were asked for.
    pub fn choose(grid: &Grid, asked: Option<&str>) -> Result<Option<Self>, String> {
        let find = |key: &str| {
            grid.axes
                .iter()
                .find(|a| a.key == key)
                .cloned()
                .ok_or_else(|| format!("--heatmap: `{key}` is not a key of the grid"))
        };
        match asked {
            Some(text) => match text.split_once(',') {
                Some((x, y)) if x.trim() != y.trim() => Ok(Some(Self {
                    x: find(x.trim())?,
                    y: find(y.trim())?,
                })),
                _ => Err(format!("--heatmap {text}: give two different keys, K1,K2")),
            },
            None => {
                let varying = grid.varying();
                Ok(match varying.as_slice() {
                    [x, y, ..] => Some(Self {
                        x: (*x).clone(),
                        y: (*y).clone(),
                    }),
                    _ => None,
                })
            }
        }
    }
}

const SQUARE_MAX: f64 = 56.0;
const LEFT: f64 = 120.0;
const TOP: f64 = 60.0;
const PLOT: f64 = 880.0;

/// Renders the heatmap of `ranking`'s metric over `axes` from the finished cells.
pub fn render_heatmap(
    axes: &HeatmapAxes,
    ranking: &Ranking,
    finished: &[(&Cell, &CellRecord)],
) -> String {
    let (nx, ny) = (axes.x.values.len(), axes.y.values.len());
    let mut grid: Vec<Option<f64>> = vec![None; nx * ny];
    for (cell, record) in finished {
        let (Some(ix), Some(iy)) = (
            position(cell, &axes.x.key, &axes.x.values),
            position(cell, &axes.y.key, &axes.y.values),
        ) else {
            continue;
        };
        let Some(score) = ranking.score(record) else {
            continue;
        };
        let slot = &mut grid[iy * nx + ix];
        let better = slot.is_none_or(|held| {
            if ranking.highest {
                score > held
            } else {
                score < held
            }
        });
        if better {
            *slot = Some(score);
        }
    }
    let (lo, hi) = grid
        .iter()
        .flatten()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let side = (PLOT / nx.max(ny) as f64).min(SQUARE_MAX);
    let width = LEFT + side * nx as f64 + 40.0;
    let height = TOP + side * ny as f64 + 70.0;
    let mut svg = String::with_capacity(256 * nx * ny + 2048);
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="10">"#
    );
    svg.push_str("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    let order = if ranking.highest {
        "best: highest"
    } else {
        "best: lowest"
    };
    let _ = writeln!(
        svg,
        r#"<text x="{LEFT}" y="22" font-size="14" font-weight="bold">{} by {} × {} ({order})</text>"#,
        escape(&ranking.metric),
        escape(&axes.x.key),
        escape(&axes.y.key)
    );
    for (iy, y_value) in axes.y.values.iter().enumerate() {
        let y = TOP + side * iy as f64;
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            LEFT - 6.0,
            y + side / 2.0 + 3.0,
            escape(&display(y_value))
        );
        for ix in 0..nx {
            let x = LEFT + side * ix as f64;
            let value = grid[iy * nx + ix];
            let fill = value.map_or("#d0d0d0".to_string(), |v| {
                let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
                colour(if ranking.highest { t } else { 1.0 - t })
            });
            let _ = write!(
                svg,
                r#"<rect x="{x}" y="{y}" width="{side}" height="{side}" fill="{fill}" stroke="white"><title>{} = {}, {} = {}: {}</title></rect>"#,
                escape(&axes.x.key),
                escape(&display(&axes.x.values[ix])),
                escape(&axes.y.key),
                escape(&display(y_value)),
                value.map_or("not run".into(), |v| format!("{v:.4}"))
            );
            if side >= 28.0 {
                let _ = write!(
                    svg,
                    r#"<text x="{}" y="{}" text-anchor="middle" font-size="9">{}</text>"#,
                    x + side / 2.0,
                    y + side / 2.0 + 3.0,
                    value.map_or("–".into(), short)
                );
            }
            svg.push('\n');
        }
    }
    let bottom = TOP + side * ny as f64;
    for (ix, x_value) in axes.x.values.iter().enumerate() {
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            LEFT + side * ix as f64 + side / 2.0,
            bottom + 14.0,
            escape(&display(x_value))
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle" font-size="12">{}</text>"#,
        LEFT + side * nx as f64 / 2.0,
        bottom + 34.0,
        escape(&axes.x.key)
    );
    let _ = writeln!(
        svg,
        r#"<text x="14" y="{}" font-size="12" transform="rotate(-90 14 {})" text-anchor="middle">{}</text>"#,
        TOP + side * ny as f64 / 2.0,
        TOP + side * ny as f64 / 2.0,
        escape(&axes.y.key)
    );
    if lo.is_finite() {
        let _ = writeln!(
            svg,
            r#"<text x="{LEFT}" y="{}">range {} .. {}</text>"#,
            bottom + 54.0,
            short(lo),
            short(hi)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn position(cell: &Cell, key: &str, values: &[Value]) -> Option<usize> {
    let (_, value) = cell.values.iter().find(|(k, _)| k == key)?;
    values.iter().position(|v| v == value)
}

/// Red (0) → yellow (0.5) → green (1).
fn colour(t: f64) -> String {
    let t = t.clamp(0.0, 1.0);
    let (r, g) = if t < 0.5 {
        (215.0, 48.0 + (t / 0.5) * (200.0 - 48.0))
    } else {
        (
            215.0 - ((t - 0.5) / 0.5) * (215.0 - 26.0),
            200.0 - ((t - 0.5) / 0.5) * 48.0,
        )
    };
    format!("rgb({},{},{})", r as u8, g as u8, 60)
}

fn short(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}
