//! Individual trades from freqtrade trade files, and candles built from them.

use std::path::Path;

use rust_decimal::Decimal;

use super::fields::{parse_decimal, parse_millis};
use super::json_rows::{JsonRows, Scalar};
use super::source::{format_of, read_text, Format};
use super::{bar_start, DataError};
use crate::model::{Candle, Interval, Side, Symbol, Timestamp, TradeId};

/// The columns of a freqtrade trade row, in order.
const TRADE_COLUMNS: [&str; 7] = ["timestamp", "id", "type", "side", "price", "amount", "cost"];

/// One executed trade on the venue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trade {
    /// When it executed.
    pub ts: Timestamp,
    /// The venue's trade id.
    pub id: TradeId,
    /// The taker's side.
    pub side: Side,
    /// Price in the quote asset.
    pub price: Decimal,
    /// Quantity in the base asset.
    pub qty: Decimal,
}

/// Loads a freqtrade trade file (`.json` or `.json.gz`) of rows
/// `[timestamp_ms, "trade_id", order_type, "buy"|"sell", price, amount, cost]`.
///
/// The order type and the cost (price × amount, often with float noise) are not used.
/// Any bad row — wrong column count, unparseable or non-positive price or amount, an unknown
/// side, a timestamp earlier than the previous row's — fails the load, naming the file and row.
pub fn load_trades(path: &Path) -> Result<Vec<Trade>, DataError> {
    let (format, gzipped) = format_of(path)?;
    if format != Format::Json {
        return Err(DataError::parse(
            path,
            None,
            "trade files must be freqtrade JSON (.json or .json.gz)",
        ));
    }
    let text = read_text(path, gzipped)?;
    let mut reader = JsonRows::new(&text);
    let mut scalars = Vec::with_capacity(8);
    let mut trades: Vec<Trade> = Vec::with_capacity(text.len() / 80);
    while reader
        .next_row(&mut scalars)
        .map_err(|e| DataError::parse(path, e.row, e.message))?
    {
        let row = trades.len() + 1;
        let trade = check_trade_row(&scalars).map_err(|m| DataError::parse(path, Some(row), m))?;
        if let Some(previous) = trades.last() {
            if trade.ts < previous.ts {
                return Err(DataError::parse(
                    path,
                    Some(row),
                    format!(
                        "timestamp {} is earlier than the previous trade's {}",
                        trade.ts.0, previous.ts.0
                    ),
                ));
            }
        }
        trades.push(trade);
    }
    if trades.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(trades)
}

fn check_trade_row(scalars: &[Scalar<'_>]) -> Result<Trade, String> {
    let [ts, id, _order_type, side, price, amount, _cost] = scalars else {
        return Err(format!(
            "expected {} columns ({}), found {}",
            TRADE_COLUMNS.len(),
            TRADE_COLUMNS.join(", "),
            scalars.len()
        ));
    };
    let ts = parse_millis(ts.text()).map_err(|e| format!("timestamp: {e}"))?;
    let id = id
        .text()
        .trim()
        .parse::<u64>()
        .map_err(|_| format!("id: `{}` is not a whole number", id.text()))?;
    let side = match side.text() {
        s if s.eq_ignore_ascii_case("buy") => Side::Buy,
        s if s.eq_ignore_ascii_case("sell") => Side::Sell,
        other => return Err(format!("side: expected `buy` or `sell`, found `{other}`")),
    };
    let positive = |name: &str, scalar: &Scalar<'_>| {
        let value = parse_decimal(scalar.text()).map_err(|e| format!("{name}: {e}"))?;
        if value <= Decimal::ZERO {
            return Err(format!("{name} must be positive, found {value}"));
        }
        Ok(value)
    };
    Ok(Trade {
        ts: Timestamp(ts),
        id: TradeId(id),
        side,
        price: positive("price", price)?,
        qty: positive("amount", amount)?,
    })
}

/// Candles of `interval` built from `trades`: each bar's open is its first trade's price,
/// close the last one's, high and low the extremes, volume the summed quantity. Bars in
/// which nothing traded produce no candle. Trades out of time order are sorted first
/// (stably, so equal timestamps keep their given order).
pub fn trades_to_candles(trades: &[Trade], symbol: Symbol, interval: Interval) -> Vec<Candle> {
    if trades.windows(2).all(|pair| pair[0].ts <= pair[1].ts) {
        build(trades.iter(), symbol, interval)
    } else {
        let mut sorted: Vec<&Trade> = trades.iter().collect();
        sorted.sort_by_key(|trade| trade.ts);
        build(sorted.into_iter(), symbol, interval)
    }
}

fn build<'a>(
    trades: impl Iterator<Item = &'a Trade>,
    symbol: Symbol,
    interval: Interval,
) -> Vec<Candle> {
    let mut candles: Vec<Candle> = Vec::new();
    for trade in trades {
        let open_time = bar_start(interval, trade.ts);
        match candles.last_mut() {
            Some(bar) if bar.open_time == open_time => {
                bar.high = bar.high.max(trade.price);
                bar.low = bar.low.min(trade.price);
                bar.close = trade.price;
                bar.volume += trade.qty;
            }
            _ => candles.push(Candle {
                symbol: symbol.clone(),
                open_time,
                interval,
                open: trade.price,
                high: trade.price,
                low: trade.price,
                close: trade.price,
                volume: trade.qty,
            }),
        }
    }
    candles
}
