//! Merge, trade aggregation and resample tests on small generated inputs.

use rust_decimal_macros::dec;
use tempfile::TempDir;

use super::load_tests::{btc, json, row, write, H};
use super::*;
use crate::model::{Candle, Interval, Side, Symbol, Timestamp, TradeId};

fn candle(symbol: &Symbol, hour: i64, interval_hours: i64) -> Candle {
    Candle {
        symbol: symbol.clone(),
        open_time: Timestamp(hour * H),
        interval: Interval::from_millis(interval_hours * H).unwrap(),
        open: dec!(10),
        high: dec!(12) + rust_decimal::Decimal::from(hour),
        low: dec!(9),
        close: dec!(11),
        volume: dec!(1),
    }
}

fn series_of(symbol: &Symbol, hours: &[i64]) -> CandleSeries {
    let dir = TempDir::new().unwrap();
    let rows: Vec<String> = hours.iter().map(|h| row(*h)).collect();
    let path = write(&dir, "s.json", &json(&rows));
    load_candles(&path, symbol.clone(), Some(Interval::HOUR)).unwrap()
}

#[test]
fn merge_orders_by_time_and_breaks_ties_by_series_order() {
    let eth = Symbol::parse("ETH_USDT").unwrap();
    let a = series_of(&btc(), &[0, 1, 3]);
    let b = series_of(&eth, &[1, 2, 3, 4]);
    let merged = merge(&[a.clone(), b.clone()]);
    let order: Vec<(i64, &str)> = merged
        .iter()
        .map(|c| (c.open_time.0 / H, c.symbol.as_str()))
        .collect();
    assert_eq!(
        order,
        vec![
            (0, "BTCUSDT"),
            (1, "BTCUSDT"),
            (1, "ETHUSDT"),
            (2, "ETHUSDT"),
            (3, "BTCUSDT"),
            (3, "ETHUSDT"),
            (4, "ETHUSDT")
        ]
    );
    let swapped = merge(&[b, a]);
    assert_eq!(swapped[1].symbol.as_str(), "ETHUSDT");
    assert_eq!(swapped[2].symbol.as_str(), "BTCUSDT");

    let window = restrict(&merged, Some(Timestamp(H)), Some(Timestamp(3 * H)));
    assert_eq!(window.len(), 3);
    assert!(window
        .iter()
        .all(|c| c.open_time >= Timestamp(H) && c.open_time < Timestamp(3 * H)));
    assert_eq!(restrict(&merged, None, None).len(), merged.len());
    assert!(restrict(&merged, Some(Timestamp(9 * H)), Some(Timestamp(H))).is_empty());
}

#[test]
fn trades_build_candles_per_bucket_even_when_given_out_of_order() {
    let trade = |ms: i64, id: u64, price| Trade {
        ts: Timestamp(ms),
        id: TradeId(id),
        side: Side::Buy,
        price,
        qty: dec!(2),
    };
    let trades = [
        trade(61_000, 3, dec!(5)),
        trade(1_000, 1, dec!(3)),
        trade(59_999, 2, dec!(4)),
        trade(180_000, 4, dec!(6)),
    ];
    let candles = trades_to_candles(&trades, btc(), Interval::MINUTE);
    let summary: Vec<_> = candles
        .iter()
        .map(|c| (c.open_time.0, c.open, c.high, c.low, c.close, c.volume))
        .collect();
    assert_eq!(
        summary,
        vec![
            (0, dec!(3), dec!(4), dec!(3), dec!(4), dec!(4)),
            (60_000, dec!(5), dec!(5), dec!(5), dec!(5), dec!(2)),
            (180_000, dec!(6), dec!(6), dec!(6), dec!(6), dec!(2)),
        ]
    );
}

#[test]
fn bad_trade_rows_fail_the_load_naming_file_and_row() {
    let dir = TempDir::new().unwrap();
    let good = "[1000,\"7\",null,\"buy\",0.5,2.0,1.0]";
    let path = write(&dir, "t.json", &format!("[{good},{good}]"));
    let trades = load_trades(&path).unwrap();
    assert_eq!(
        trades[0],
        Trade {
            ts: Timestamp(1000),
            id: TradeId(7),
            side: Side::Buy,
            price: dec!(0.5),
            qty: dec!(2)
        }
    );
    for (bad, message) in [
        (
            "[1000,\"8\",null,\"hold\",0.5,2.0,1.0]",
            "t.json: row 2: side: expected `buy` or `sell`, found `hold`",
        ),
        (
            "[1000,\"8\",null,\"sell\",-0.5,2.0,1.0]",
            "t.json: row 2: price must be positive, found -0.5",
        ),
        (
            "[1000,\"8\",null,\"sell\",0.5,NaN,1.0]",
            "t.json: row 2: amount: `NaN` is not a finite number",
        ),
        (
            "[1000,\"x\",null,\"sell\",0.5,2.0,1.0]",
            "t.json: row 2: id: `x` is not a whole number",
        ),
        (
            "[999,\"8\",null,\"sell\",0.5,2.0,1.0]",
            "t.json: row 2: timestamp 999 is earlier than the previous trade's 1000",
        ),
        (
            "[1000,\"8\",null,\"sell\",0.5,2.0]",
            "t.json: row 2: expected 7 columns",
        ),
    ] {
        let path = write(&dir, "t.json", &format!("[{good},{bad}]"));
        let err = load_trades(&path).unwrap_err().to_string();
        assert!(err.contains(message), "{err} lacks {message}");
    }
    let err = load_trades(&write(&dir, "t.csv", ""))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("t.csv: trade files must be freqtrade JSON"),
        "{err}"
    );
}

#[test]
fn resample_needs_one_ordered_series_and_a_whole_multiple() {
    let four = Interval::parse("4h").unwrap();
    let hourly: Vec<Candle> = (0..10).map(|h| candle(&btc(), h, 1)).collect();
    let err = resample(&hourly, Interval::parse("90m").unwrap()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot resample 1h candles into 90m: 90m is not a whole multiple of 1h"
    );
    assert!(resample(&hourly, Interval::MINUTE).is_err());

    let rolled = resample(&hourly, four).unwrap();
    assert_eq!(
        rolled.candles.len(),
        2,
        "the 8h..12h bucket lacks two hours"
    );
    assert_eq!(rolled.incomplete, vec![Timestamp(8 * H)]);
    let first = &rolled.candles[0];
    assert_eq!((first.open_time, first.interval), (Timestamp(0), four));
    assert_eq!((first.high, first.volume), (dec!(15), dec!(4)));
    let kept = resample_with(&hourly, four, IncompleteBuckets::Keep).unwrap();
    assert_eq!(kept.candles.len(), 3);
    assert_eq!(kept.candles[2].volume, dec!(2));

    let mut mixed = hourly.clone();
    mixed[3].symbol = Symbol::parse("ETH_USDT").unwrap();
    let err = resample(&mixed, four).unwrap_err().to_string();
    assert!(err.contains("is ETHUSDT, not BTCUSDT"), "{err}");
    let mut unordered = hourly.clone();
    unordered.swap(2, 3);
    assert!(resample(&unordered, four)
        .unwrap_err()
        .to_string()
        .contains("strictly increasing"));
    assert!(resample(&[], four).unwrap().candles.is_empty());
}
