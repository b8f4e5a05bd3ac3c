//! Pure return statistics over `&[f64]`, following empyrical's conventions: simple per-bar
//! returns, risk-free rate 0, annualisation by `ann` periods per year, sample standard
//! deviation (ddof = 1).
//!
//! Every function returns `None` where the statistic is undefined (too few returns, a zero
//! denominator) or would not be finite, so NaN and infinity never leave this module.

/// Simple returns of an equity curve: `equity[i] / equity[i-1] - 1`, one fewer than the
/// points (pandas `pct_change().dropna()`).
pub fn simple_returns(equity: &[f64]) -> Vec<f64> {
    equity.windows(2).map(|w| w[1] / w[0] - 1.0).collect()
}

/// Compounded return over all periods: `prod(1 + r) - 1`.
pub fn total_return(returns: &[f64]) -> Option<f64> {
    if returns.is_empty() {
        return None;
    }
    finite(growth(returns) - 1.0)
}

/// Compound annual growth rate (empyrical `annual_return`): `prod(1 + r)^(ann / n) - 1`.
pub fn annual_return(returns: &[f64], ann: f64) -> Option<f64> {
    if returns.is_empty() || !valid_periods(ann) {
        return None;
    }
    let years = returns.len() as f64 / ann;
    finite(growth(returns).powf(1.0 / years) - 1.0)
}

/// Annualised volatility: `std(r, ddof = 1) * sqrt(ann)`. Needs two returns.
pub fn annual_volatility(returns: &[f64], ann: f64) -> Option<f64> {
    if !valid_periods(ann) {
        return None;
    }
    finite(sample_std(returns)? * ann.sqrt())
}

/// Sharpe ratio at a zero risk-free rate: `mean(r) / std(r, ddof = 1) * sqrt(ann)`.
/// Undefined for fewer than two returns or a zero standard deviation.
pub fn sharpe(returns: &[f64], ann: f64) -> Option<f64> {
    let std = sample_std(returns)?;
    if std == 0.0 || !valid_periods(ann) {
        return None;
    }
    finite(mean(returns)? / std * ann.sqrt())
}

/// Annualised downside deviation below zero: `sqrt(mean(min(r, 0)^2)) * sqrt(ann)`.
pub fn downside_risk(returns: &[f64], ann: f64) -> Option<f64> {
    if returns.is_empty() || !valid_periods(ann) {
        return None;
    }
    let squares: f64 = returns.iter().map(|r| r.min(0.0).powi(2)).sum();
    finite((squares / returns.len() as f64).sqrt() * ann.sqrt())
}

/// Sortino ratio at a zero target: `mean(r) * ann / downside_risk(r, ann)`.
/// Undefined when no return is negative (zero downside risk).
pub fn sortino(returns: &[f64], ann: f64) -> Option<f64> {
    let downside = downside_risk(returns, ann)?;
    if downside == 0.0 {
        return None;
    }
    finite(mean(returns)? * ann / downside)
}

/// Maximum drawdown of the compounded returns, a fraction `<= 0` (empyrical sign:
/// `-0.25` is a 25 % fall from the running peak). The starting value counts as a peak.
pub fn max_drawdown(returns: &[f64]) -> Option<f64> {
    if returns.is_empty() {
        return None;
    }
    let (mut value, mut peak, mut worst) = (1.0_f64, 1.0_f64, 0.0_f64);
    for r in returns {
        value *= 1.0 + r;
        peak = peak.max(value);
        worst = worst.min(value / peak - 1.0);
    }
    finite(worst)
}

/// Calmar ratio: `annual_return / |max_drawdown|`. Undefined without a drawdown.
pub fn calmar(returns: &[f64], ann: f64) -> Option<f64> {
    let drawdown = max_drawdown(returns)?;
    if drawdown == 0.0 {
        return None;
    }
    finite(annual_return(returns, ann)? / drawdown.abs())
}

/// Historical value at risk (empyrical `value_at_risk`): the `cutoff` quantile of the
/// returns with linear interpolation (numpy's default `percentile`). `cutoff = 0.05` gives
/// VaR 95 %, usually a negative return.
pub fn value_at_risk(returns: &[f64], cutoff: f64) -> Option<f64> {
    if returns.is_empty() || !(0.0..=1.0).contains(&cutoff) {
        return None;
    }
    let mut values = returns.to_vec();
    let rank = cutoff * (values.len() - 1) as f64;
    let lower = rank.floor() as usize;
    let upper = rank.ceil() as usize;
    let weight = rank - lower as f64;
    // The two order statistics the quantile needs, without sorting everything: after the
    // selection, `values[lower]` is the lower one and every value after it is not smaller,
    // so the upper one is the least of those (or the same when `upper == lower`).
    let (_, &mut low, rest) = values.select_nth_unstable_by(lower, f64::total_cmp);
    let high = if upper == lower {
        low
    } else {
        rest.iter().copied().min_by(f64::total_cmp).unwrap_or(low)
    };
    finite(low + (high - low) * weight)
}

/// Drawdown of each equity point from the running peak, a fraction `<= 0`.
pub fn drawdown_series(equity: &[f64]) -> Vec<f64> {
    let mut peak = f64::NEG_INFINITY;
    equity
        .iter()
        .map(|&value| {
            peak = peak.max(value);
            if peak > 0.0 {
                value / peak - 1.0
            } else {
                0.0
            }
        })
        .collect()
}

/// Where the deepest drawdown of an equity curve happened, as indices into the curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DrawdownSpan {
    /// The running peak the drawdown is measured from.
    pub peak: usize,
    /// The lowest point.
    pub trough: usize,
    /// The first point back at or above the peak, or the last point if never recovered.
    pub end: usize,
    /// Whether equity regained the peak before the curve ended.
    pub recovered: bool,
    /// The drawdown at the trough, a fraction `< 0`.
    pub depth: f64,
}

impl DrawdownSpan {
    /// Bars from the peak to the recovery (or to the end when not recovered).
    pub fn bars(&self) -> usize {
        self.end - self.peak
    }
}

/// The deepest drawdown of an equity curve with its peak, trough and recovery, or `None`
/// when equity never fell below a previous peak.
pub fn max_drawdown_span(equity: &[f64]) -> Option<DrawdownSpan> {
    let drawdowns = drawdown_series(equity);
    let (trough, &depth) = drawdowns
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))?;
    if depth >= 0.0 {
        return None;
    }
    let peak_value = equity[..=trough]
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let peak = equity[..=trough].iter().rposition(|&v| v == peak_value)?;
    let recovery = equity[trough..].iter().position(|&v| v >= peak_value);
    Some(DrawdownSpan {
        peak,
        trough,
        end: recovery.map_or(equity.len() - 1, |offset| trough + offset),
        recovered: recovery.is_some(),
        depth,
    })
}

/// The longest stretch of bars spent below a previous peak (peak to recovery, or to the
/// last point when not recovered); zero when equity never fell.
pub fn longest_drawdown_bars(equity: &[f64]) -> usize {
    let mut peak = f64::NEG_INFINITY;
    let mut peak_at = 0;
    let mut longest = 0;
    let mut underwater = false;
    for (i, &value) in equity.iter().enumerate() {
        if value >= peak {
            if underwater {
                longest = longest.max(i - peak_at);
            }
            peak = value;
            peak_at = i;
            underwater = false;
        } else {
            longest = longest.max(i - peak_at);
            underwater = true;
        }
    }
    longest
}

/// Arithmetic mean, `None` when empty.
pub fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    finite(values.iter().sum::<f64>() / values.len() as f64)
}

/// Sample standard deviation (ddof = 1), `None` with fewer than two values.
fn sample_std(values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let mean = mean(values)?;
    let squares: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
    finite((squares / (values.len() - 1) as f64).sqrt())
}

/// An annualisation factor is a positive, finite number of periods per year.
fn valid_periods(ann: f64) -> bool {
    ann.is_finite() && ann > 0.0
}

/// `prod(1 + r)`.
fn growth(returns: &[f64]) -> f64 {
    returns.iter().map(|r| 1.0 + r).product()
}

/// `Some(x)` when `x` is finite.
fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    #[test]
    fn returns_are_pct_change_of_equity() {
        let r = simple_returns(&[100.0, 110.0, 99.0]);
        assert_eq!(r.len(), 2);
        assert!(close(r[0], 0.10) && close(r[1], -0.10));
        assert!(close(total_return(&r).unwrap(), -0.01));
    }

    #[test]
    fn drawdown_and_its_span() {
        // Peak 120 at index 1, trough 90 at index 3 (-25 %), back to 120 at index 5.
        let equity = [100.0, 120.0, 100.0, 90.0, 110.0, 120.0, 115.0];
        let span = max_drawdown_span(&equity).unwrap();
        assert_eq!(
            (span.peak, span.trough, span.end, span.recovered),
            (1, 3, 5, true)
        );
        assert_eq!(span.bars(), 4);
        assert!(close(span.depth, -0.25));
        assert!(close(
            max_drawdown(&simple_returns(&equity)).unwrap(),
            -0.25
        ));
        // The last dip (index 6) is not recovered but is shorter.
        assert_eq!(longest_drawdown_bars(&equity), 4);
    }

    #[test]
    fn unrecovered_drawdown_runs_to_the_end() {
        let span = max_drawdown_span(&[100.0, 80.0, 90.0]).unwrap();
        assert_eq!(
            (span.peak, span.trough, span.end, span.recovered),
            (0, 1, 2, false)
        );
        assert_eq!(longest_drawdown_bars(&[100.0, 80.0, 90.0]), 2);
    }

    #[test]
    fn undefined_statistics_are_none_not_nan() {
        let flat = simple_returns(&[100.0, 100.0, 100.0]);
        assert_eq!(sharpe(&flat, 8760.0), None);
        assert_eq!(sortino(&flat, 8760.0), None);
        assert_eq!(calmar(&flat, 8760.0), None);
        assert_eq!(max_drawdown(&flat), Some(0.0));
        assert_eq!(max_drawdown_span(&[100.0, 100.0]), None);
        assert_eq!(annual_volatility(&flat, 8760.0), Some(0.0));
        assert_eq!(sharpe(&[0.01], 8760.0), None);
        assert_eq!(total_return(&[]), None);
        assert_eq!(value_at_risk(&[], 0.05), None);
        // Only gains: no downside, so Sortino is undefined rather than infinite.
        assert_eq!(sortino(&[0.01, 0.02], 8760.0), None);
        // A missing annualisation factor must not turn into a 0 % CAGR.
        assert_eq!(annual_return(&[0.01, 0.02], 0.0), None);
        assert_eq!(sharpe(&[0.01, -0.02], f64::NAN), None);
    }

    #[test]
    fn value_at_risk_interpolates_like_numpy() {
        // numpy.percentile([-0.05, -0.01, 0.0, 0.02, 0.03], 5) == -0.042
        let r = [0.03, -0.01, 0.0, -0.05, 0.02];
        assert!(close(value_at_risk(&r, 0.05).unwrap(), -0.042));
        assert!(close(value_at_risk(&r, 0.5).unwrap(), 0.0));
    }

    /// The selection gives exactly what sorting everything gives, ties and all.
    #[test]
    fn value_at_risk_selects_what_a_full_sort_gives() {
        let mut rng = fastrand::Rng::with_seed(20);
        for n in [1usize, 2, 3, 20, 101, 4_000] {
            let returns: Vec<f64> = (0..n)
                .map(|_| (rng.i32(-300..300) as f64) / 10_000.0)
                .collect();
            for cutoff in [0.0, 0.01, 0.05, 0.5, 0.97, 1.0] {
                let mut sorted = returns.clone();
                sorted.sort_by(f64::total_cmp);
                let rank = cutoff * (n - 1) as f64;
                let (lo, hi) = (sorted[rank.floor() as usize], sorted[rank.ceil() as usize]);
                let expected = lo + (hi - lo) * (rank - rank.floor());
                assert_eq!(
                    value_at_risk(&returns, cutoff),
                    Some(expected),
                    "n {n} cutoff {cutoff}"
                );
            }
        }
    }
}
