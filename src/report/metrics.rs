//! The metrics of DESIGN §8 computed from a [`BacktestResult`].

use keel_model::{Decimal, Timestamp};
use rust_decimal::prelude::ToPrimitive;
use serde::{Serialize, Serializer};

use super::returns::{
    annual_return, annual_volatility, calmar, longest_drawdown_bars, max_drawdown,
    max_drawdown_span, sharpe, simple_returns, sortino, total_return, value_at_risk,
};
use super::trade_stats::{TradeStats, MS_PER_HOUR};
use crate::backtest::BacktestResult;

/// Every performance metric of a backtest.
///
/// Return statistics follow empyrical: simple per-bar returns of the equity curve (the
/// curve's first point is the base, so there is one return fewer than points), risk-free
/// rate 0, annualised by `bars_per_year`. `None` (JSON `null`, table `n/a`) marks a value
/// that is undefined for this run — never NaN, never a stand-in zero.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    /// Close time of the first bar.
    #[serde(serialize_with = "iso_opt")]
    pub start: Option<Timestamp>,
    /// Close time of the last bar.
    #[serde(serialize_with = "iso_opt")]
    pub end: Option<Timestamp>,
    /// Points on the equity curve (bars).
    pub bars: u64,
    /// The annualisation factor used.
    pub bars_per_year: f64,
    /// Starting cash (quote asset).
    pub initial_capital: Decimal,
    /// Equity at the last bar.
    pub final_equity: Option<Decimal>,
    /// `final_equity - initial_capital`.
    pub net_profit: Option<Decimal>,
    /// Compounded return over the curve, a fraction (`0.25` = +25 %).
    pub total_return: Option<f64>,
    /// Compound annual growth rate (empyrical `annual_return`).
    pub annual_return: Option<f64>,
    /// Annualised standard deviation of the per-bar returns (ddof 1).
    pub annual_volatility: Option<f64>,
    /// Annualised Sharpe ratio; `None` with zero volatility.
    pub sharpe: Option<f64>,
    /// Annualised Sortino ratio; `None` when no bar lost money.
    pub sortino: Option<f64>,
    /// `annual_return / |max_drawdown|`; `None` without a drawdown.
    pub calmar: Option<f64>,
    /// Deepest fall from a running peak, a fraction `<= 0` (empyrical sign).
    pub max_drawdown: Option<f64>,
    /// Close time of the peak the deepest drawdown started from.
    #[serde(serialize_with = "iso_opt")]
    pub max_drawdown_peak: Option<Timestamp>,
    /// Bars of the deepest drawdown, from its peak to the recovery (the first bar back at
    /// the peak), or to the last bar when it never recovered. 0 when equity never fell.
    pub max_drawdown_duration_bars: Option<u64>,
    /// The same span in hours of event time.
    pub max_drawdown_duration_hours: Option<f64>,
    /// Whether the deepest drawdown was recovered; `None` when there was none.
    pub max_drawdown_recovered: Option<bool>,
    /// The longest stretch of bars below a previous peak (any drawdown, same rule).
    pub longest_drawdown_bars: Option<u64>,
    /// Historical VaR 95 %: the 5th percentile of per-bar returns (usually negative).
    pub var_95: Option<f64>,
    /// Round-trip statistics (flattened into the same JSON object).
    #[serde(flatten)]
    pub trades: TradeStats,
    /// Fraction of bars that ended with an open position (time in market).
    pub exposure_time: Option<f64>,
    /// Mean over bars of gross position value / equity (bars with equity `<= 0` skipped).
    pub avg_exposure: Option<f64>,
    /// All fees paid, including those of positions still open.
    pub fees_paid: Decimal,
}

/// Computes every metric of `result`.
pub fn compute_metrics(result: &BacktestResult) -> Metrics {
    let curve = &result.equity_curve;
    let ann = result.bars_per_year;
    let equity = equity_f64(curve);
    let returns = simple_returns(&equity);
    let final_equity = curve.last().map(|p| p.equity);

    let span = max_drawdown_span(&equity);
    let has_returns = !returns.is_empty();
    let duration_bars = has_returns.then(|| span.map_or(0, |s| s.bars() as u64));
    let duration_hours = has_returns.then(|| {
        span.map_or(0.0, |s| {
            (curve[s.end].ts.millis() - curve[s.peak].ts.millis()) as f64
        }) / MS_PER_HOUR
    });

    Metrics {
        start: curve.first().map(|p| p.ts),
        end: curve.last().map(|p| p.ts),
        bars: curve.len() as u64,
        bars_per_year: ann,
        initial_capital: result.initial_capital,
        final_equity,
        net_profit: final_equity.map(|e| e - result.initial_capital),
        total_return: total_return(&returns),
        annual_return: annual_return(&returns, ann),
        annual_volatility: annual_volatility(&returns, ann),
        sharpe: sharpe(&returns, ann),
        sortino: sortino(&returns, ann),
        calmar: calmar(&returns, ann),
        max_drawdown: max_drawdown(&returns),
        max_drawdown_peak: span.map(|s| curve[s.peak].ts),
        max_drawdown_duration_bars: duration_bars,
        max_drawdown_duration_hours: duration_hours,
        max_drawdown_recovered: span.map(|s| s.recovered),
        longest_drawdown_bars: has_returns.then(|| longest_drawdown_bars(&equity) as u64),
        var_95: value_at_risk(&returns, 0.05),
        trades: TradeStats::of(&result.trades),
        exposure_time: exposure_time(result),
        avg_exposure: avg_exposure(result, &equity),
        fees_paid: result.fees_paid,
    }
}

/// The curve's equity as `f64`. A flat account's equity repeats bar after bar; a value with
/// the very same representation as the previous one reuses its conversion (the slow part).
fn equity_f64(curve: &[keel_model::EquityPoint]) -> Vec<f64> {
    let mut previous: Option<([u8; 16], f64)> = None;
    curve
        .iter()
        .map(|p| {
            let bits = p.equity.serialize();
            match previous {
                Some((held, value)) if held == bits => value,
                _ => {
                    let value = to_f64(p.equity);
                    previous = Some((bits, value));
                    value
                }
            }
        })
        .collect()
}

/// Fraction of bars with a nonzero position value.
fn exposure_time(result: &BacktestResult) -> Option<f64> {
    let curve = &result.equity_curve;
    if curve.is_empty() {
        return None;
    }
    let exposed = curve.iter().filter(|p| !p.exposure.is_zero()).count();
    Some(exposed as f64 / curve.len() as f64)
}

/// Mean of exposure / equity over bars with positive equity; `equity` is the curve's
/// equity already in `f64`.
fn avg_exposure(result: &BacktestResult, equity: &[f64]) -> Option<f64> {
    let ratios: Vec<f64> = result
        .equity_curve
        .iter()
        .zip(equity)
        .filter(|(p, _)| p.equity > Decimal::ZERO)
        .map(|(p, &e)| {
            // Flat bars (most of them, for many strategies) skip the slow conversion.
            let exposure = if p.exposure.is_zero() {
                0.0
            } else {
                to_f64(p.exposure.abs())
            };
            exposure / e
        })
        .collect();
    super::returns::mean(&ratios)
}

/// `Decimal` → `f64` for statistics (NaN if unrepresentable, which the statistics turn
/// into `None`).
pub(crate) fn to_f64(value: Decimal) -> f64 {
    value.to_f64().unwrap_or(f64::NAN)
}

/// Serialises an optional timestamp as an ISO-8601 UTC string (or `null`).
fn iso_opt<S: Serializer>(ts: &Option<Timestamp>, serializer: S) -> Result<S::Ok, S::Error> {
    match ts {
        Some(ts) => serializer.collect_str(ts),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::{point, result, sample, trade};
    use rust_decimal_macros::dec;

    fn assert_close(actual: Option<f64>, expected: f64) {
        let actual = actual.expect("metric should be defined");
        assert!(
            (actual - expected).abs() <= 1e-12 * expected.abs().max(1.0),
            "{actual} != {expected}"
        );
    }

    #[test]
    fn hand_made_result_gives_hand_computed_metrics() {
        // Equity 1000, 1100, 990, 1045, 1210 → returns +10 %, -10 %, +5.5556 %, +15.7895 %.
        let m = compute_metrics(&sample());
        assert_eq!(m.bars, 5);
        assert_eq!(m.final_equity, Some(dec!(1210)));
        assert_eq!(m.net_profit, Some(dec!(210)));
        assert_close(m.total_return, 0.21); // 1210 / 1000 - 1
                                            // 1.21^(8760 / 4) - 1: four hourly returns annualise absurdly, but finitely.
        assert_close(m.annual_return, 1.21f64.powf(2190.0) - 1.0);
        // mean 0.0533626, sample std 0.1104942 (numpy, ddof=1) × sqrt(8760).
        assert_close(m.sharpe, 45.201130570888644);
        assert_close(m.annual_volatility, 10.341691334860954);
        // Downside: sqrt(0.1² / 4) × sqrt(8760); mean × 8760 over it.
        assert_close(
            m.sortino,
            0.05336257309941525 * 8760.0 / (0.05 * 8760f64.sqrt()),
        );
        // Peak 1100 (bar 1) → trough 990 (bar 2) = -10 %, back above 1100 at bar 4.
        assert_close(m.max_drawdown, -0.1);
        assert_close(m.calmar, (1.21f64.powf(2190.0) - 1.0) / 0.1);
        assert_eq!(
            m.max_drawdown_peak,
            Some(Timestamp(crate::report::fixture::T0 + 3_600_000))
        );
        assert_eq!(m.max_drawdown_duration_bars, Some(3));
        assert_eq!(m.max_drawdown_duration_hours, Some(3.0));
        assert_eq!(m.max_drawdown_recovered, Some(true));
        assert_eq!(m.longest_drawdown_bars, Some(3));
        // Sorted returns [-0.1, 0.0556, 0.1, 0.1579]: rank 0.05 × 3 = 0.15 →
        // -0.1 + 0.15 × (0.0556 + 0.1) = -0.0766667.
        assert_close(m.var_95, -0.07666666666666663);

        // Trades +100, -40, +20 (after fees), held 1 h, 2 h, 3 h, 2 in fees each.
        let t = &m.trades;
        assert_eq!(t.trade_count, 3);
        assert_eq!(t.win_rate, Some(2.0 / 3.0));
        assert_eq!(t.gross_profit, dec!(120));
        assert_eq!(t.gross_loss, dec!(-40));
        assert_eq!(t.profit_factor, Some(3.0)); // 120 / 40
        assert_eq!(t.expectancy.map(|e| e.round_dp(6)), Some(dec!(26.666667))); // 80 / 3
        assert_eq!(t.avg_win, Some(dec!(60))); // (100 + 20) / 2
        assert_eq!(t.avg_loss, Some(dec!(-40)));
        assert_eq!(t.avg_trade_duration_hours, Some(2.0));
        assert_eq!(m.fees_paid, dec!(6));

        // Exposed at bars 1, 2, 4: 3 of 5 bars; gross exposure / equity averaged over bars.
        assert_eq!(m.exposure_time, Some(0.6));
        assert_close(
            m.avg_exposure,
            (500.0 / 1100.0 + 500.0 / 990.0 + 600.0 / 1210.0) / 5.0,
        );
    }

    #[test]
    fn no_trades_and_flat_equity_leave_metrics_undefined_not_zero() {
        let flat = result(
            vec![
                point(0, dec!(1000), dec!(0)),
                point(1, dec!(1000), dec!(0)),
                point(2, dec!(1000), dec!(0)),
            ],
            Vec::new(),
        );
        let m = compute_metrics(&flat);
        assert_eq!(m.total_return, Some(0.0));
        assert_eq!(m.max_drawdown, Some(0.0));
        assert_eq!((m.sharpe, m.sortino, m.calmar), (None, None, None));
        assert_eq!(m.max_drawdown_recovered, None);
        assert_eq!(m.max_drawdown_duration_bars, Some(0));
        assert_eq!(m.trades.win_rate, None);
        assert_eq!(m.trades.profit_factor, None);
        assert_eq!(m.trades.expectancy, None);
        assert_eq!(m.exposure_time, Some(0.0));

        let json = serde_json::to_value(&m).unwrap();
        assert!(
            json["sharpe"].is_null() && json["win_rate"].is_null() && json["avg_win"].is_null()
        );
        assert_eq!(json["trade_count"], 0);
        assert_eq!(json["start"], "2021-01-01T00:00:00Z");
        assert!(!json.to_string().contains("NaN"));
    }

    #[test]
    fn an_empty_curve_defines_nothing_return_based() {
        let m = compute_metrics(&result(Vec::new(), vec![trade(0, 1, dec!(5), dec!(1))]));
        assert_eq!(
            (m.start, m.final_equity, m.total_return),
            (None, None, None)
        );
        assert_eq!(
            (m.max_drawdown, m.max_drawdown_duration_bars, m.var_95),
            (None, None, None)
        );
        assert_eq!(m.exposure_time, None);
        assert_eq!(m.trades.trade_count, 1);
    }

    #[test]
    fn an_unrecovered_drawdown_runs_to_the_last_bar() {
        let falling = result(
            vec![
                point(0, dec!(1000), dec!(900)),
                point(1, dec!(800), dec!(700)),
                point(5, dec!(900), dec!(800)),
            ],
            Vec::new(),
        );
        let m = compute_metrics(&falling);
        assert_close(m.max_drawdown, -0.2);
        assert_eq!(m.max_drawdown_duration_bars, Some(2));
        assert_eq!(m.max_drawdown_duration_hours, Some(5.0)); // peak at 0 h, last bar at 5 h
        assert_eq!(m.max_drawdown_recovered, Some(false));
    }
}
