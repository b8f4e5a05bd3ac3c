//! Test fixture: the TA-Lib reference file `data/reference/BTC_USDT-1h-talib.csv`.

use crate::model::{Candle, Decimal, Interval, Symbol, Timestamp};

/// The reference file, from the workspace's `data/`.
pub(crate) const REFERENCE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/reference/BTC_USDT-1h-talib.csv"
);

/// The indicator columns of the reference, in file order (after the six OHLCV columns).
pub(crate) const COLUMNS: [&str; 11] = [
    "sma20",
    "ema20",
    "rsi14",
    "macd",
    "macd_signal",
    "macd_hist",
    "atr14",
    "bb_upper",
    "bb_middle",
    "bb_lower",
    "sma200",
];

/// One row of the reference: its candle and TA-Lib's values (`None` = empty cell).
pub(crate) struct ReferenceRow {
    pub(crate) candle: Candle,
    pub(crate) expected: [Option<f64>; 11],
}

/// Reads all 5,000 rows.
pub(crate) fn reference_rows() -> Vec<ReferenceRow> {
    let symbol = Symbol::parse("BTCUSDT").unwrap();
    let mut reader = csv::Reader::from_path(REFERENCE).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(&header[6..], &COLUMNS, "reference columns changed");
    reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            let dec = |i: usize| record[i].parse::<Decimal>().unwrap();
            let candle = Candle {
                symbol: symbol.clone(),
                open_time: Timestamp(record[0].parse().unwrap()),
                interval: Interval::HOUR,
                open: dec(1),
                high: dec(2),
                low: dec(3),
                close: dec(4),
                volume: dec(5),
            };
            let mut expected = [None; 11];
            for (i, cell) in expected.iter_mut().enumerate() {
                let text = &record[6 + i];
                *cell = (!text.is_empty()).then(|| text.parse::<f64>().unwrap());
            }
            ReferenceRow { candle, expected }
        })
        .collect()
}
