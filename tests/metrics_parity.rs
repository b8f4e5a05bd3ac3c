//! Metric parity with empyrical: the 2021 BTC/USDT 1h buy-and-hold equity curve in
//! `data/reference/` must reproduce the empyrical metrics stored beside it within 1e-9
//! relative, both through the pure return functions and through `compute_metrics`.

use std::str::FromStr;

use keel::backtest::{BacktestResult, EquityPoint};
use keel::report::returns::{
    annual_return, annual_volatility, calmar, max_drawdown, sharpe, sortino, total_return,
    value_at_risk,
};
use keel::report::{compute_metrics, render_table, simple_returns, write_reports, MAX_POINTS};
use keel_model::{Decimal, Symbol, Timestamp};

const EQUITY_CSV: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/reference/BTC_USDT-1h-2021-buyhold-equity.csv"
);
const METRICS_JSON: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/reference/BTC_USDT-1h-2021-buyhold-metrics.json"
);
const TOLERANCE: f64 = 1e-9;

/// `(open_time_ms, equity)` rows of the reference curve.
fn reference_curve() -> Vec<(i64, String)> {
    let mut reader = csv::Reader::from_path(EQUITY_CSV).expect("reference equity csv");
    reader
        .records()
        .map(|row| {
            let row = row.expect("csv row");
            (row[0].parse().expect("open_time_ms"), row[1].to_string())
        })
        .collect()
}

fn reference_metrics() -> serde_json::Value {
    let text = std::fs::read_to_string(METRICS_JSON).expect("reference metrics json");
    serde_json::from_str(&text).expect("valid json")
}

fn assert_rel(name: &str, actual: Option<f64>, expected: &serde_json::Value) {
    let expected = expected
        .as_f64()
        .unwrap_or_else(|| panic!("{name} missing in json"));
    let actual = actual.unwrap_or_else(|| panic!("{name} undefined"));
    let rel = (actual - expected).abs() / expected.abs();
    assert!(
        rel <= TOLERANCE,
        "{name}: {actual} vs empyrical {expected} (rel {rel:e})"
    );
}

#[test]
fn pure_functions_match_empyrical() {
    let reference = reference_metrics();
    let ann = reference["periods_per_year"].as_f64().unwrap();
    let equity: Vec<f64> = reference_curve()
        .iter()
        .map(|(_, e)| e.parse().unwrap())
        .collect();
    let r = simple_returns(&equity);
    assert_eq!(r.len() as u64, reference["n_returns"].as_u64().unwrap());

    assert_rel("total_return", total_return(&r), &reference["total_return"]);
    assert_rel("sharpe", sharpe(&r, ann), &reference["sharpe"]);
    assert_rel("sortino", sortino(&r, ann), &reference["sortino"]);
    assert_rel("max_drawdown", max_drawdown(&r), &reference["max_drawdown"]);
    assert_rel(
        "annual_return",
        annual_return(&r, ann),
        &reference["annual_return"],
    );
    assert_rel("calmar", calmar(&r, ann), &reference["calmar"]);
    assert_rel(
        "annual_volatility",
        annual_volatility(&r, ann),
        &reference["annual_volatility"],
    );
    // Not in the json: numpy.percentile(returns, 5) on the same curve (empyrical
    // value_at_risk), computed with numpy 2 when this test was written.
    assert_rel(
        "var_95",
        value_at_risk(&r, 0.05),
        &serde_json::json!(-0.013805356212999609),
    );
}

/// The reference curve as a backtest result (always fully invested, no trades).
fn reference_result(bars_per_year: f64) -> BacktestResult {
    let equity_curve: Vec<EquityPoint> = reference_curve()
        .into_iter()
        .map(|(ms, equity)| {
            let equity = Decimal::from_str(&equity).expect("decimal equity");
            EquityPoint {
                ts: Timestamp(ms),
                equity,
                exposure: equity,
            }
        })
        .collect();
    BacktestResult {
        strategy: "buy_and_hold".to_string(),
        symbols: vec![Symbol::parse("BTC_USDT").unwrap()],
        bars_per_year,
        initial_capital: Decimal::from(10_000),
        equity_curve,
        trades: Vec::new(),
        open_positions: Vec::new(),
        fees_paid: Decimal::ZERO,
        candles: 8_747,
        orders_submitted: 1,
        refusals: Vec::new(),
        llm: None,
    }
}

#[test]
fn compute_metrics_on_the_reference_curve_matches_empyrical() {
    let reference = reference_metrics();
    let m = compute_metrics(&reference_result(
        reference["periods_per_year"].as_f64().unwrap(),
    ));
    assert_rel("total_return", m.total_return, &reference["total_return"]);
    assert_rel("sharpe", m.sharpe, &reference["sharpe"]);
    assert_rel("sortino", m.sortino, &reference["sortino"]);
    assert_rel("max_drawdown", m.max_drawdown, &reference["max_drawdown"]);
    assert_rel(
        "annual_return",
        m.annual_return,
        &reference["annual_return"],
    );
    assert_rel("calmar", m.calmar, &reference["calmar"]);
    assert_rel(
        "annual_volatility",
        m.annual_volatility,
        &reference["annual_volatility"],
    );
    assert_eq!(m.bars, 8_747);
    assert_eq!(m.exposure_time, Some(1.0));
    assert_eq!(m.avg_exposure, Some(1.0));
}

#[test]
fn report_files_of_a_year_of_hourly_bars() {
    let result = reference_result(8760.0);
    let m = compute_metrics(&result);
    let dir = tempfile::tempdir().unwrap();
    let files = write_reports(dir.path(), &result, &m).unwrap();

    let equity = std::fs::read_to_string(&files.equity_csv).unwrap();
    assert_eq!(equity.lines().count(), 1 + 8_747, "one row per bar");
    let worst = equity
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().parse::<f64>().unwrap())
        .fold(0.0, f64::min);
    assert!(
        (worst - m.max_drawdown.unwrap()).abs() < 1e-6,
        "equity.csv drawdown column"
    );

    let svg = std::fs::read_to_string(&files.chart).unwrap();
    let points = svg
        .split("points=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let plotted = points.split(' ').count();
    assert!(
        plotted <= MAX_POINTS && plotted > 1_000,
        "{plotted} points plotted"
    );
    assert!(
        svg.len() < 200_000,
        "chart stays small: {} bytes",
        svg.len()
    );

    let table = render_table(&result, &m);
    assert!(
        table.contains("-54.72%") && table.contains("59.40%"),
        "{table}"
    );
}
