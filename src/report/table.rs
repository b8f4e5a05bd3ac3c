//! The terminal table: one aligned `label  value` row per metric, grouped in sections.

use std::fmt::Write;

use keel_model::{Decimal, Timestamp};

use super::metrics::Metrics;
use crate::backtest::BacktestResult;

/// Text shown for an undefined metric.
const NA: &str = "n/a";

/// Renders the metrics as an aligned plain-text table for the terminal.
pub fn render_table(result: &BacktestResult, m: &Metrics) -> String {
    let symbols: Vec<String> = result.symbols.iter().map(|s| s.to_string()).collect();
    let t = &m.trades;
    let mut sections: Vec<(&str, Vec<(&str, String)>)> = vec![
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
            ],
        ),
    ];
    // One row per rule keeps the table narrow and each count greppable.
    let refusals: Vec<(&str, String)> = if result.refusals.is_empty() {
        vec![("none", String::new())]
    } else {
        result
            .refusals
            .iter()
            .map(|(rule, n)| (rule.as_str(), n.to_string()))
            .collect()
    };
    sections.push(("Signals refused, by rule", refusals));
    if let Some(llm) = &result.llm {
        let s = &llm.stats;
        sections.push((
            "Model decisions (llm)",
            vec![
                ("Decision points", s.decision_points.to_string()),
                ("Decisions", s.decisions.to_string()),
                ("Buys", s.buys.to_string()),
                ("Sells", s.sells.to_string()),
                ("Holds", s.holds.to_string()),
                ("Cache hits", llm.cache_hits.to_string()),
                ("Missing from the cache", s.missing.to_string()),
                ("Failures (refused replies)", s.failures.to_string()),
                ("Unavailable", s.unavailable.to_string()),
                ("Fallbacks to fusion", s.fallbacks.to_string()),
                ("Requests", llm.http_requests.to_string()),
                ("Tokens", llm.tokens.to_string()),
            ],
        ));
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::{point, result, sample};
    use crate::report::metrics::compute_metrics;
    use rust_decimal_macros::dec;

    fn row<'a>(table: &'a str, label: &str) -> &'a str {
        table
            .lines()
            .find(|line| line.starts_with(label))
            .unwrap_or_else(|| panic!("no row {label} in\n{table}"))
    }

    #[test]
    fn shows_every_metric_formatted_and_aligned() {
        let result = sample();
        let table = render_table(&result, &compute_metrics(&result));
        assert!(row(&table, "Total return").ends_with(" 21.00%"));
        assert!(row(&table, "Max drawdown  ").ends_with(" -10.00%"));
        assert!(row(&table, "Max drawdown duration").ends_with(" 3 bars (3.0 h)"));
        assert!(row(&table, "Win rate").ends_with(" 66.67%"));
        assert!(row(&table, "Profit factor").ends_with(" 3.00"));
        assert!(row(&table, "Expectancy").ends_with(" 26.67"));
        assert!(row(&table, "Average loss").ends_with(" -40.00"));
        assert!(row(&table, "Fees paid").ends_with(" 6.00"));
        assert!(row(&table, "Time in market").ends_with(" 60.00%"));
        assert!(row(&table, "max_positions").ends_with(" 2"));
        for label in [
            "Sharpe",
            "Sortino",
            "Calmar",
            "VaR 95%",
            "Annual volatility",
            "Average duration",
        ] {
            row(&table, label);
        }
        // Every metric row has the same width: values are right-aligned in one column.
        let widths: Vec<usize> = table
            .lines()
            .filter(|l| l.contains("  "))
            .map(|l| l.chars().count())
            .collect();
        assert!(widths.windows(2).all(|w| w[0] == w[1]), "{table}");
    }

    #[test]
    fn undefined_metrics_read_n_a() {
        let flat = result(
            vec![point(0, dec!(1000), dec!(0)), point(1, dec!(1000), dec!(0))],
            Vec::new(),
        );
        let table = render_table(&flat, &compute_metrics(&flat));
        for label in [
            "Sharpe",
            "Sortino",
            "Calmar",
            "Win rate",
            "Profit factor",
            "Expectancy",
            "Average win",
        ] {
            assert!(row(&table, label).ends_with(" n/a"), "{label} in\n{table}");
        }
        assert!(!table.contains("NaN"));
    }
}
