//! A hand-written SVG chart: the equity curve above its drawdown, with labelled date and
//! value ticks. Long curves are reduced to at most [`MAX_POINTS`] points per panel, keeping
//! each bucket's lowest and highest point so peaks and troughs survive.

use std::fmt::Write;

use keel_model::Timestamp;

use super::metrics::to_f64;
use super::returns::drawdown_series;
use crate::backtest::BacktestResult;

/// Most points drawn per line.
pub const MAX_POINTS: usize = 2000;

const WIDTH: f64 = 1000.0;
const HEIGHT: f64 = 600.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 20.0;
const EQUITY_TOP: f64 = 50.0;
const EQUITY_BOTTOM: f64 = 375.0;
const DRAWDOWN_TOP: f64 = 415.0;
const DRAWDOWN_BOTTOM: f64 = 550.0;
const TICKS: usize = 5;

/// One plotted point: event time in ms and a value.
type Point = (i64, f64);

/// Renders the equity and drawdown chart of `result` as an SVG document.
pub fn render_svg(result: &BacktestResult) -> String {
    let curve = &result.equity_curve;
    let equity: Vec<f64> = curve.iter().map(|p| to_f64(p.equity)).collect();
    let drawdown = drawdown_series(&equity);
    let times = curve.iter().map(|p| p.ts.millis());
    let equity_points = downsample(&times.clone().zip(equity).collect::<Vec<_>>(), MAX_POINTS);
    let drawdown_points = downsample(&times.zip(drawdown).collect::<Vec<_>>(), MAX_POINTS);

    let mut svg = String::with_capacity(64 * 1024);
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11">"#
    );
    svg.push_str("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    let symbols: Vec<String> = result.symbols.iter().map(|s| s.to_string()).collect();
    let title = format!("{} — {}", result.strategy, symbols.join(", "));
    let _ = writeln!(
        svg,
        r#"<text x="{LEFT}" y="22" font-size="14" font-weight="bold">{}</text>"#,
        escape(&title)
    );

    if let (Some(first), Some(last)) = (curve.first(), curve.last()) {
        let x = TimeAxis::new(first.ts.millis(), last.ts.millis());
        let (lo, hi) = min_max(equity_points.iter().map(|p| p.1));
        let equity_axis = nice_ticks(lo, hi);
        let dd_low = min_max(drawdown_points.iter().map(|p| p.1)).0.min(-0.01);
        let drawdown_axis = nice_ticks(dd_low, 0.0);

        panel(
            &mut svg,
            "Equity",
            EQUITY_TOP,
            EQUITY_BOTTOM,
            &equity_axis,
            &value_label(&equity_axis),
        );
        panel(
            &mut svg,
            "Drawdown",
            DRAWDOWN_TOP,
            DRAWDOWN_BOTTOM,
            &drawdown_axis,
            &|v| format!("{:.0}%", v * 100.0),
        );
        x.ticks(&mut svg);

        let line = polyline(&equity_points, &x, &equity_axis, EQUITY_TOP, EQUITY_BOTTOM);
        let _ = writeln!(
            svg,
            r##"<polyline fill="none" stroke="#1f77b4" stroke-width="1.2" points="{line}"/>"##
        );
        let area = polyline(
            &drawdown_points,
            &x,
            &drawdown_axis,
            DRAWDOWN_TOP,
            DRAWDOWN_BOTTOM,
        );
        let zero_y = scale(0.0, &drawdown_axis, DRAWDOWN_TOP, DRAWDOWN_BOTTOM);
        let (x0, x1) = (x.pos(first.ts.millis()), x.pos(last.ts.millis()));
        let _ = writeln!(
            svg,
            r##"<path fill="#d62728" fill-opacity="0.35" stroke="#d62728" stroke-width="1" d="M{x0:.1},{zero_y:.1} L{} L{x1:.1},{zero_y:.1} Z"/>"##,
            area.replace(' ', " L")
        );
    } else {
        let _ = writeln!(svg, r#"<text x="{LEFT}" y="200">no equity data</text>"#);
    }
    svg.push_str("</svg>\n");
    svg
}

/// Keeps at most `max` points: per bucket of consecutive points, its lowest and highest,
/// in time order. The last point is always kept.
fn downsample(points: &[Point], max: usize) -> Vec<Point> {
    if points.len() <= max || max < 4 {
        return points.to_vec();
    }
    let buckets = (max - 1) / 2;
    let size = points.len().div_ceil(buckets);
    let mut out = Vec::with_capacity(max);
    for chunk in points.chunks(size) {
        let low = chunk
            .iter()
            .enumerate()
            .min_by(|a, b| a.1 .1.total_cmp(&b.1 .1));
        let high = chunk
            .iter()
            .enumerate()
            .max_by(|a, b| a.1 .1.total_cmp(&b.1 .1));
        if let (Some((li, &l)), Some((hi, &h))) = (low, high) {
            match li.cmp(&hi) {
                std::cmp::Ordering::Less => out.extend([l, h]),
                std::cmp::Ordering::Greater => out.extend([h, l]),
                std::cmp::Ordering::Equal => out.push(l),
            }
        }
    }
    if let (Some(&last), Some(&kept)) = (points.last(), out.last()) {
        if kept != last {
            out.push(last);
        }
    }
    out
}

/// A value axis: its bounds and tick step.
struct Axis {
    low: f64,
    high: f64,
    step: f64,
}

/// Rounds `[lo, hi]` out to multiples of a 1/2/5 × 10^k step giving about [`TICKS`] ticks.
fn nice_ticks(lo: f64, hi: f64) -> Axis {
    let (lo, hi) = if !lo.is_finite() || !hi.is_finite() {
        (0.0, 1.0)
    } else if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
        let pad = (lo.abs() * 0.01).max(1e-6);
        (lo - pad, hi + pad)
    } else {
        (lo, hi)
    };
    let rough = (hi - lo) / (TICKS - 1) as f64;
    let magnitude = 10f64.powf(rough.log10().floor());
    let step = match rough / magnitude {
        n if n <= 1.0 => 1.0,
        n if n <= 2.0 => 2.0,
        n if n <= 5.0 => 5.0,
        _ => 10.0,
    } * magnitude;
    Axis {
        low: (lo / step).floor() * step,
        high: (hi / step).ceil() * step,
        step,
    }
}

/// Labels for equity ticks: as many decimals as the step needs.
fn value_label(axis: &Axis) -> impl Fn(f64) -> String {
    let decimals = if axis.step >= 1.0 {
        0
    } else {
        (-axis.step.log10()).ceil() as usize
    };
    move |v| format!("{v:.decimals$}")
}

/// Frame, horizontal grid lines and value labels of one panel.
fn panel(
    svg: &mut String,
    name: &str,
    top: f64,
    bottom: f64,
    axis: &Axis,
    label: &dyn Fn(f64) -> String,
) {
    let right = WIDTH - RIGHT;
    let _ = writeln!(
        svg,
        r##"<rect x="{LEFT}" y="{top}" width="{}" height="{}" fill="none" stroke="#888"/>"##,
        right - LEFT,
        bottom - top
    );
    let _ = writeln!(
        svg,
        r#"<text x="{LEFT}" y="{}" font-weight="bold">{name}</text>"#,
        top - 6.0
    );
    let count = ((axis.high - axis.low) / axis.step).round() as usize;
    for i in 0..=count {
        let value = axis.low + axis.step * i as f64;
        let y = scale(value, axis, top, bottom);
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{right}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            LEFT - 6.0,
            y + 4.0,
            label(value)
        );
    }
}

/// Maps a value to a y pixel inside a panel.
fn scale(value: f64, axis: &Axis, top: f64, bottom: f64) -> f64 {
    bottom - (value - axis.low) / (axis.high - axis.low) * (bottom - top)
}

/// `x,y x,y ...` for a polyline.
fn polyline(points: &[Point], x: &TimeAxis, axis: &Axis, top: f64, bottom: f64) -> String {
    let mut out = String::with_capacity(points.len() * 14);
    for (i, &(t, v)) in points.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{:.1},{:.1}", x.pos(t), scale(v, axis, top, bottom));
    }
    out
}

/// The shared time axis of both panels.
struct TimeAxis {
    start: i64,
    end: i64,
}

impl TimeAxis {
    fn new(start: i64, end: i64) -> Self {
        Self {
            start,
            end: end.max(start + 1),
        }
    }

    /// Maps a time to an x pixel.
    fn pos(&self, t: i64) -> f64 {
        LEFT + (t - self.start) as f64 / (self.end - self.start) as f64 * (WIDTH - RIGHT - LEFT)
    }

    /// Vertical grid lines through both panels and date labels under the drawdown panel.
    fn ticks(&self, svg: &mut String) {
        let span_days = (self.end - self.start) as f64 / 86_400_000.0;
        for i in 0..TICKS {
            let t = self.start
                + ((self.end - self.start) as f64 * i as f64 / (TICKS - 1) as f64) as i64;
            let x = self.pos(t);
            let text = Timestamp(t).to_string();
            let label = if span_days >= 3.0 {
                &text[..10]
            } else {
                &text[..16]
            };
            let anchor = match i {
                0 => "start",
                i if i == TICKS - 1 => "end",
                _ => "middle",
            };
            for (top, bottom) in [(EQUITY_TOP, EQUITY_BOTTOM), (DRAWDOWN_TOP, DRAWDOWN_BOTTOM)] {
                let _ = writeln!(
                    svg,
                    r##"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{bottom}" stroke="#eee"/>"##
                );
            }
            let _ = writeln!(
                svg,
                r#"<text x="{x:.1}" y="{}" text-anchor="{anchor}">{label}</text>"#,
                DRAWDOWN_BOTTOM + 18.0
            );
        }
    }
}

/// Smallest and largest of finite values (`(inf, -inf)` when there are none).
fn min_max(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        })
}

/// Escapes text for XML.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downsampling_keeps_extremes_and_the_end() {
        let points: Vec<Point> = (0..10_000)
            .map(|i| (i, if i == 5_001 { -50.0 } else { i as f64 }))
            .collect();
        let kept = downsample(&points, MAX_POINTS);
        assert!(kept.len() <= MAX_POINTS);
        assert!(kept.contains(&(5_001, -50.0)), "the trough survives");
        assert_eq!(kept.last(), Some(&(9_999, 9_999.0)));
        assert!(
            kept.windows(2).all(|w| w[0].0 < w[1].0),
            "time order is kept"
        );
    }

    #[test]
    fn short_and_empty_curves_render_without_nan() {
        use crate::report::fixture::{point, result, sample};
        use rust_decimal_macros::dec;

        let svg = render_svg(&sample());
        assert!(
            svg.contains("2021-01-01T02:00"),
            "sub-day spans label hours:\n{svg}"
        );
        let single = render_svg(&result(vec![point(0, dec!(1000), dec!(0))], Vec::new()));
        assert!(single.contains("<polyline") && !single.contains("NaN") && !single.contains("inf"));
        let empty = render_svg(&result(Vec::new(), Vec::new()));
        assert!(empty.starts_with("<svg") && empty.contains("no equity data"));
    }

    #[test]
    fn ticks_are_round_numbers_covering_the_range() {
        let axis = nice_ticks(9_130.0, 16_480.0);
        assert_eq!(
            (axis.low, axis.high, axis.step),
            (8_000.0, 18_000.0, 2_000.0)
        );
        let flat = nice_ticks(100.0, 100.0);
        assert!(flat.low < 100.0 && flat.high > 100.0);
    }
}
