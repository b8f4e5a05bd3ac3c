//! Ranking cells by one metric of their report (`--rank-by sharpe`; `-max_drawdown`... a
//! leading `-` ranks the lowest first).

use keel_model::Decimal;
use serde_json::{Map, Value};

use super::run::metrics_of;
use super::store::{CellRecord, Outcome};
use crate::backtest::BacktestResult;

/// The metric cells are ranked by, and which way.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    /// A metric of the report, as `results.csv` names its column.
    pub metric: String,
    /// Highest first (else lowest first).
    pub highest: bool,
}

impl Ranking {
    /// Parses `sharpe` or `-annual_volatility`, refusing a name that is not a metric.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (metric, highest) = match text.strip_prefix('-') {
            Some(rest) => (rest, false),
            None => (text, true),
        };
        let names = metric_names();
        if !names.iter().any(|n| n == metric) {
            return Err(format!(
                "--rank-by {metric}: not a metric; one of {}",
                names.join(", ")
            ));
        }
        Ok(Self {
            metric: metric.to_string(),
            highest,
        })
    }

    /// The value a record is ranked by: `None` for a skipped cell or an undefined metric.
    pub fn score(&self, record: &CellRecord) -> Option<f64> {
        match &record.outcome {
            Outcome::Ran { metrics } => metrics.get(&self.metric).and_then(number),
            Outcome::Skipped { .. } => None,
        }
    }

    /// The best of `records` (ties: the lowest cell index), with its score.
    pub fn best<'a>(
        &self,
        records: impl IntoIterator<Item = &'a CellRecord>,
    ) -> Option<(&'a CellRecord, f64)> {
        let mut best: Option<(&CellRecord, f64)> = None;
        for record in records {
            let Some(score) = self.score(record) else {
                continue;
            };
            let better = match best {
                None => true,
                Some((held, top)) => {
                    let beats = if self.highest {
                        score > top
                    } else {
                        score < top
                    };
                    beats || (score == top && record.index < held.index)
                }
            };
            if better {
                best = Some((record, score));
            }
        }
        best
    }
}

/// The names of every metric a cell reports, in the report's order.
pub fn metric_names() -> Vec<String> {
    let empty = BacktestResult {
        strategy: String::new(),
        symbols: Vec::new(),
        bars_per_year: 8760.0,
        initial_capital: Decimal::ONE,
        equity_curve: Vec::new(),
        trades: Vec::new(),
        open_positions: Vec::new(),
        fees_paid: Decimal::ZERO,
        candles: 0,
        orders_submitted: 0,
        refusals: Vec::new(),
        llm: None,
    };
    let metrics: Map<String, Value> = metrics_of(&empty);
    metrics.keys().cloned().collect()
}

/// A metric as a number: JSON numbers, and the decimal strings money is written as; `None`
/// for null, text and non-finite values.
pub fn number(value: &Value) -> Option<f64> {
    let x = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(text) => text.parse::<f64>().ok()?,
        _ => return None,
    };
    x.is_finite().then_some(x)
}
