//! The terminal table: one aligned `label  value` row per metric, grouped in sections.

use std::fmt::Write;

use keel_actors::model::{Decimal, Timestamp};

use super::metrics::Metrics;
use crate::backtest::BacktestResult;

/// Text shown for an undefined metric.
const NA: &str = "n/a";

/// Renders the metrics as an aligned plain-text table for the terminal.
pub fn render_table(result: &BacktestResult, m: &Metrics) -> String {
    let symbols: Vec<String> = result.symbols.iter().map(|s| s.to_string()).collect();
    let t = &m.trades;
    let sections: Vec<(&str, Vec<(&str, String)>)> = vec![
        (
            "Run",
            vec![
                ("Strategy", result.strategy.clone()),
                ("Symbols", symbols.join(", ")),
                ("Start", time(m.start)),
                ("End", time(m.end)),
                ("Bars", m.bars.to_string()),
                ("Candles", result.candles.to_string()),
            ],
        ),
        (
            "Returns",
            vec![
                ("Initial capital", money(Some(m.initial_capital))),
                ("Final equity", money(m.final_equity)),
                ("Net profit", money(m.net_profit)),
                ("Total return", pct(m.total_return)),
                ("Annual return (CAGR)", pct(m.annual_return)),
            ],
        ),
        (
            "Risk",
            vec![
                ("Annual volatility", pct(m.annual_volatility)),
                ("Sharpe", ratio(m.sharpe)),
                ("Sortino", ratio(m.sortino)),
                ("Calmar", ratio(m.calmar)),
                ("Max drawdown", pct(m.max_drawdown)),
                ("Max drawdown peak", time(m.max_drawdown_peak)),
                ("Max drawdown duration", drawdown_duration(m)),
                ("Longest drawdown", bars(m.longest_drawdown_bars)),
                ("VaR 95% (per bar)", pct(m.var_95)),
            ],
        ),
        (
            "Trades",
            vec![
                ("Trades", t.trade_count.to_string()),
                ("Win rate", pct(t.win_rate)),
                ("Profit factor", ratio(t.profit_factor)),
                ("Expectancy", money(t.expectancy)),
                ("Average win", money(t.avg_win)),
                ("Average loss", money(t.avg_loss)),
                ("Average duration", hours(t.avg_trade_duration_hours)),
                ("Open positions", result.open_positions.len().to_string()),
            ],
        ),
        (
            "Activity",
            vec![
                ("Time in market", pct(m.exposure_time)),
                ("Average exposure", pct(m.avg_exposure)),
                ("Fees paid", money(Some(m.fees_paid))),
                ("Orders submitted", result.orders_submitted.to_string()),
                ("Risk refusals", refusals(&result.refusals)),
            ],
        ),
    ];

    let label_width = sections
        .iter()
        .flat_map(|(_, rows)| rows.iter().map(|(label, _)| label.len()))
        .max()
        .unwrap_or(0);
    let value_width = sections
        .iter()
        .flat_map(|(_, rows)| rows.iter().map(|(_, value)| value.chars().count()))
        .max()
        .unwrap_or(0);
    let rule = "-".repeat(label_width + 2 + value_width);
    let mut out = String::new();
    for (title, rows) in &sections {
        let _ = writeln!(out, "{title}");
        let _ = writeln!(out, "{rule}");
        for (label, value) in rows {
            let _ = writeln!(out, "{label:<label_width$}  {value:>value_width$}");
        }
        out.push('\n');
    }
    out.pop();
    out
}

/// A fraction as a percentage with two decimals: `0.1234` → `12.34%`.
fn pct(value: Option<f64>) -> String {
    value.map_or_else(|| NA.to_string(), |v| format!("{:.2}%", v * 100.0))
}

/// A ratio with two decimals.
fn ratio(value: Option<f64>) -> String {
    value.map_or_else(|| NA.to_string(), |v| format!("{v:.2}"))
}

/// Money with two decimals (quote asset).
fn money(value: Option<Decimal>) -> String {
    value.map_or_else(|| NA.to_string(), |v| format!("{:.2}", v.round_dp(2)))
}

/// A timestamp as ISO-8601 UTC.
fn time(value: Option<Timestamp>) -> String {
    value.map_or_else(|| NA.to_string(), |t| t.to_string())
}

/// A count of bars.
fn bars(value: Option<u64>) -> String {
    value.map_or_else(|| NA.to_string(), |b| format!("{b} bars"))
}

/// Hours, shown as days past two days.
fn hours(value: Option<f64>) -> String {
    match value {
        None => NA.to_string(),
        Some(h) if h >= 48.0 => format!("{:.1} days", h / 24.0),
        Some(h) => format!("{h:.1} h"),
    }
}

/// `N bars (X h)`, marked when the drawdown was never recovered.
fn drawdown_duration(m: &Metrics) -> String {
    match (m.max_drawdown_duration_bars, m.max_drawdown_duration_hours) {
        (Some(b), Some(h)) => {
            let open = if m.max_drawdown_recovered == Some(false) {
                ", unrecovered"
            } else {
                ""
            };
            format!("{b} bars ({}{open})", hours(Some(h)))
        }
        _ => NA.to_string(),
    }
}

/// `rule=count, ...` or `none`.
fn refusals(counts: &[(String, u64)]) -> String {
    if counts.is_empty() {
        return "none".to_string();
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(rule, n)| format!("{rule}={n}"))
        .collect();
    parts.join(", ")
}
