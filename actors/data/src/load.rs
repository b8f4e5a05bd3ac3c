//! Loading a candle file (freqtrade JSON or CSV, optionally gzipped) into a checked series.
//!
//! Loading never invents or repairs a candle: invalid rows are rejected and listed,
//! repeated and backwards timestamps are dropped and counted, holes are reported as gaps.

use std::collections::BTreeMap;
use std::path::Path;

use rust_decimal::Decimal;

use super::fields::{check_candle_row, parse_millis, wrong_column_count, CANDLE_COLUMNS};
use super::json_rows::JsonRows;
use super::source::{format_of, read_text, Format};
use super::{is_bar_start, DataError, Gap, QualityReport, Reject};
use crate::model::{Candle, Interval, Symbol, Timestamp};

/// CSV fields held per row without allocating (a longer row is rejected for its count anyway).
const MAX_FIELDS: usize = 8;

/// One symbol's candles, strictly increasing in open time, with the report of how they loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct CandleSeries {
    /// The symbol every candle carries.
    pub symbol: Symbol,
    /// The interval every candle carries.
    pub interval: Interval,
    /// The accepted candles, strictly increasing in open time, each aligned to the interval.
    pub candles: Vec<Candle>,
    /// What was read, dropped, rejected and missing.
    pub quality: QualityReport,
}

/// A row whose values passed the checks, before alignment and ordering are looked at.
struct RowBar {
    row: usize,
    open_time: i64,
    values: [Decimal; 5],
}

/// Loads the candles of `path` for `symbol`.
///
/// The format comes from the extension: `.json` (freqtrade's `[[open_ms, o, h, l, c, v], ...]`,
/// numbers or numeric strings), `.csv` (header `open_time_ms,open,high,low,close,volume`),
/// each optionally `.gz`. Without `interval`, it is inferred as the most common positive step
/// between consecutive rows' timestamps, rejected rows included (the shorter step on a tie).
///
/// A row is rejected (listed in `quality.rejects` with its 1-based row number) when it has the
/// wrong column count, a value that is not a finite number, a price that is not positive, a
/// negative volume, high below low, open or close outside [low, high], or an open time not
/// aligned to the interval. A row whose open time equals the previous accepted one is dropped
/// as a duplicate; one earlier than it is dropped as out of order.
pub fn load_candles(
    path: &Path,
    symbol: Symbol,
    interval: Option<Interval>,
) -> Result<CandleSeries, DataError> {
    let (format, gzipped) = format_of(path)?;
    let text = read_text(path, gzipped)?;
    let mut rows = Rows::default();
    match format {
        Format::Json => read_json(path, &text, &mut rows)?,
        Format::Csv => read_csv(path, &text, &mut rows)?,
    };
    let Rows {
        count,
        times,
        bars,
        rejects,
    } = rows;
    if count == 0 {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    let interval = match interval {
        Some(interval) => interval,
        None => infer_interval(&times).ok_or_else(|| DataError::UnknownInterval {
            path: path.to_path_buf(),
        })?,
    };
    Ok(assemble(path, symbol, interval, count, bars, rejects))
}

/// Reads freqtrade's file naming: `BTC_USDT-1h.json` gives `(BTCUSDT, 1h)`,
/// `XRP_ETH-trades.json.gz` gives `(XRPETH, None)`. Either part is `None` when not recognised.
pub fn guess_symbol_and_interval(path: &Path) -> (Option<Symbol>, Option<Interval>) {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return (None, None);
    };
    let stem = name.split('.').next().unwrap_or(name);
    match stem.rsplit_once('-') {
        Some((symbol, suffix)) if suffix == "trades" || Interval::parse(suffix).is_some() => {
            (Symbol::parse(symbol).ok(), Interval::parse(suffix))
        }
        _ => (Symbol::parse(stem).ok(), None),
    }
}

/// Everything the first pass over a file collects.
#[derive(Default)]
struct Rows {
    /// Data rows read.
    count: usize,
    /// Every readable open time in file order, rejected rows included: the interval's evidence.
    times: Vec<i64>,
    /// Rows whose values passed the checks.
    bars: Vec<RowBar>,
    /// Rows whose values did not.
    rejects: Vec<Reject>,
}

impl Rows {
    /// Counts and checks the next row, keeping it or recording why it is rejected.
    /// `columns` is the row's real column count (`fields` may hold only the first ones).
    fn push(&mut self, fields: &[&str], columns: usize) {
        self.count += 1;
        let row = self.count;
        if let Some(Ok(ms)) = fields.first().map(|text| parse_millis(text)) {
            self.times.push(ms);
        }
        let checked = if columns == CANDLE_COLUMNS.len() {
            check_candle_row(fields)
        } else {
            Err(wrong_column_count(columns))
        };
        match checked {
            Ok((open_time, values)) => self.bars.push(RowBar {
                row,
                open_time,
                values,
            }),
            Err(reason) => self.rejects.push(Reject { row, reason }),
        }
    }
}

fn read_json<'a>(path: &Path, text: &'a str, rows: &mut Rows) -> Result<(), DataError> {
    let mut reader = JsonRows::new(text);
    let mut scalars = Vec::with_capacity(8);
    let mut fields: Vec<&'a str> = Vec::with_capacity(8);
    while reader
        .next_row(&mut scalars)
        .map_err(|e| DataError::parse(path, e.row, e.message))?
    {
        fields.clear();
        fields.extend(scalars.iter().map(|s| s.text()));
        rows.push(&fields, fields.len());
    }
    Ok(())
}

fn read_csv(path: &Path, text: &str, rows: &mut Rows) -> Result<(), DataError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    let header_ok = reader
        .read_record(&mut record)
        .map_err(|e| DataError::parse(path, None, format!("header: {e}")))?;
    if !header_ok {
        return Ok(());
    }
    let header_matches = record.len() == CANDLE_COLUMNS.len()
        && record
            .iter()
            .zip(CANDLE_COLUMNS)
            .all(|(got, want)| got.eq_ignore_ascii_case(want));
    if !header_matches {
        let found: Vec<&str> = record.iter().collect();
        return Err(DataError::parse(
            path,
            None,
            format!(
                "line 1: expected the header `{}`, found `{}`",
                CANDLE_COLUMNS.join(","),
                found.join(",")
            ),
        ));
    }
    while reader
        .read_record(&mut record)
        .map_err(|e| DataError::parse(path, Some(rows.count + 1), e.to_string()))?
    {
        let mut fields: [&str; MAX_FIELDS] = [""; MAX_FIELDS];
        let mut used = 0;
        for (field, value) in fields.iter_mut().zip(record.iter()) {
            *field = value;
            used += 1;
        }
        rows.push(&fields[..used], record.len());
    }
    Ok(())
}

/// The most common positive step between consecutive rows' open times (shorter wins ties).
fn infer_interval(times: &[i64]) -> Option<Interval> {
    let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
    for pair in times.windows(2) {
        // Checked: a step past i64 (times at its two ends) is no interval.
        if let Some(step) = pair[1].checked_sub(pair[0]).filter(|step| *step > 0) {
            *counts.entry(step).or_default() += 1;
        }
    }
    let mut best: Option<(i64, usize)> = None;
    for (step, count) in counts {
        if best.is_none_or(|(_, best_count)| count > best_count) {
            best = Some((step, count));
        }
    }
    best.and_then(|(step, _)| Interval::from_millis(step))
}

/// Applies alignment and ordering to the checked rows and builds the series and its report.
fn assemble(
    path: &Path,
    symbol: Symbol,
    interval: Interval,
    rows: usize,
    bars: Vec<RowBar>,
    mut rejects: Vec<Reject>,
) -> CandleSeries {
    let step = interval.millis();
    let mut candles: Vec<Candle> = Vec::with_capacity(bars.len());
    let mut gaps = Vec::new();
    let (mut duplicates, mut out_of_order) = (0, 0);
    for bar in bars {
        let open_time = Timestamp(bar.open_time);
        if !is_bar_start(interval, open_time) {
            rejects.push(Reject {
                row: bar.row,
                reason: format!(
                    "open time {} ({open_time}) is not aligned to the {interval} interval",
                    bar.open_time
                ),
            });
            continue;
        }
        if let Some(previous) = candles.last().map(|c| c.open_time) {
            if open_time == previous {
                duplicates += 1;
                continue;
            }
            if open_time < previous {
                out_of_order += 1;
                continue;
            }
            // In i128: aligned times at the two ends of i64 are more than i64 apart.
            let bars_apart = ((i128::from(open_time.0) - i128::from(previous.0))
                / i128::from(step))
            .try_into()
            .unwrap_or(i64::MAX);
            if bars_apart > 1 {
                gaps.push(Gap {
                    after: previous,
                    resumes: open_time,
                    missing_bars: bars_apart - 1,
                });
            }
        }
        let [open, high, low, close, volume] = bar.values;
        candles.push(Candle {
            symbol: symbol.clone(),
            open_time,
            interval,
            open,
            high,
            low,
            close,
            volume,
        });
    }
    rejects.sort_by_key(|reject| reject.row);
    let quality = QualityReport {
        file: path.to_path_buf(),
        symbol: symbol.clone(),
        interval,
        rows,
        accepted: candles.len(),
        first: candles.first().map(|c| c.open_time),
        last: candles.last().map(|c| c.open_time),
        gaps,
        duplicates,
        out_of_order,
        rejects,
    };
    CandleSeries {
        symbol,
        interval,
        candles,
        quality,
    }
}
