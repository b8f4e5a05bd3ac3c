//! Loader tests on small generated files: rejects, drops, gaps, formats, errors.

use std::io::Write;
use std::path::{Path, PathBuf};

use rust_decimal_macros::dec;
use tempfile::TempDir;

use super::*;
use crate::model::{Candle, Interval, Symbol, Timestamp};

/// One hour in milliseconds.
pub(super) const H: i64 = 3_600_000;

pub(super) fn btc() -> Symbol {
    Symbol::parse("BTC_USDT").unwrap()
}

pub(super) fn write(dir: &TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn write_gz(dir: &TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    let file = std::fs::File::create(&path).unwrap();
    let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap();
    path
}

/// A valid JSON candle row at hour `h`.
pub(super) fn row(h: i64) -> String {
    format!("[{},100.5,110,90,105.25,12.5]", h * H)
}

pub(super) fn json(rows: &[String]) -> String {
    format!("[{}]", rows.join(",\n"))
}

fn reasons(series: &CandleSeries) -> Vec<(usize, &str)> {
    let rejects = &series.quality.rejects;
    rejects.iter().map(|r| (r.row, r.reason.as_str())).collect()
}

fn assert_rows_accounted(q: &QualityReport) {
    assert_eq!(
        q.rows,
        q.accepted + q.duplicates + q.out_of_order + q.rejects.len()
    );
}

#[test]
fn every_bad_row_is_rejected_with_its_row_and_reason_and_good_rows_load_exactly() {
    let dir = TempDir::new().unwrap();
    let rows = [
        row(0),
        format!("[{},1,2,1]", H),                     // 2: too few columns
        format!("[{},NaN,110,90,105,1]", 2 * H),      // 3: NaN
        format!("[{},100,110,-90,105,1]", 3 * H),     // 4: negative price
        format!("[{},0,110,90,105,1]", 4 * H),        // 5: zero price
        format!("[{},100,110,90,105,-1]", 5 * H),     // 6: negative volume
        format!("[{},100,90,110,105,1]", 6 * H),      // 7: inverted
        format!("[{},120,110,90,105,1]", 7 * H),      // 8: open above high
        format!("[{},100,110,90,80,1]", 8 * H),       // 9: close below low
        format!("[{},100,110,90,105,1]", 9 * H + 1),  // 10: not aligned
        format!("[{},\"abc\",110,90,105,1]", 10 * H), // 11: not a number
        format!("[{},\"100.1\",\"110\",90,105,\"1e-3\"]", 11 * H), // 12: numeric strings: fine
    ];
    let path = write(&dir, "BTC_USDT-1h.json", &json(&rows));
    let series = load_candles(&path, btc(), None).unwrap();
    assert_eq!(
        reasons(&series),
        vec![
            (
                2,
                "expected 6 columns (open_time_ms, open, high, low, close, volume), found 4"
            ),
            (3, "open: `NaN` is not a finite number"),
            (4, "low: price must be positive, found -90"),
            (5, "open: price must be positive, found 0"),
            (6, "volume must not be negative, found -1"),
            (7, "high 90 is below low 110"),
            (8, "open 120 is outside [low 90, high 110]"),
            (9, "close 80 is outside [low 90, high 110]"),
            (
                10,
                "open time 32400001 (1970-01-01T09:00:00Z) is not aligned to the 1h interval"
            ),
            (11, "open: `abc` is not a number"),
        ]
    );
    assert_eq!(series.interval, Interval::HOUR);
    assert_eq!(series.candles.len(), 2);
    assert_eq!(
        series.candles[0],
        Candle {
            symbol: btc(),
            open_time: Timestamp(0),
            interval: Interval::HOUR,
            open: dec!(100.5),
            high: dec!(110),
            low: dec!(90),
            close: dec!(105.25),
            volume: dec!(12.5),
        }
    );
    assert_eq!(series.candles[1].open, dec!(100.1));
    assert_eq!(series.candles[1].volume, dec!(0.001));
    let q = &series.quality;
    assert!(!q.is_clean());
    assert_eq!((q.rows, q.accepted), (12, 2));
    assert_rows_accounted(q);
    let shown = q.to_string();
    let expected_line = format!("{}: row 7: high 90 is below low 110", path.display());
    assert!(shown.contains(&expected_line), "{shown}");
    assert!(shown.contains("rejects:      10"), "{shown}");
}

#[test]
fn duplicates_and_out_of_order_rows_are_dropped_and_counted() {
    let dir = TempDir::new().unwrap();
    let rows = [
        row(0),
        row(1),
        "[3600000,1,1,1,1,1]".to_string(), // repeats hour 1 with other values: dropped
        row(2),
        row(1), // backwards
        row(0), // backwards
        row(3),
    ];
    let path = write(&dir, "x.json", &json(&rows));
    let series = load_candles(&path, btc(), Some(Interval::HOUR)).unwrap();
    let times: Vec<i64> = series.candles.iter().map(|c| c.open_time.0 / H).collect();
    assert_eq!(times, vec![0, 1, 2, 3]);
    assert_eq!(
        series.candles[1].open,
        dec!(100.5),
        "the first of the duplicates is kept"
    );
    let q = &series.quality;
    assert_eq!((q.duplicates, q.out_of_order, q.accepted), (1, 2, 4));
    assert!(q.gaps.is_empty());
    assert!(q.is_clean());
    assert_rows_accounted(q);
    assert!(q.to_string().contains("duplicates:   1 (dropped)"));
}

#[test]
fn gaps_are_found_with_their_missing_bar_counts() {
    let dir = TempDir::new().unwrap();
    let rows: Vec<String> = [0, 1, 2, 5, 6, 7, 8, 9, 10, 20]
        .iter()
        .map(|h| row(*h))
        .collect();
    let path = write(&dir, "x.json", &json(&rows));
    let q = load_candles(&path, btc(), None).unwrap().quality;
    assert_eq!(
        q.gaps,
        vec![
            Gap {
                after: Timestamp(2 * H),
                resumes: Timestamp(5 * H),
                missing_bars: 2
            },
            Gap {
                after: Timestamp(10 * H),
                resumes: Timestamp(20 * H),
                missing_bars: 9
            },
        ]
    );
    assert_eq!(q.missing_bars(), 11);
    assert_eq!(q.longest_gap().unwrap().after, Timestamp(10 * H));
    assert_eq!(
        (q.first, q.last),
        (Some(Timestamp(0)), Some(Timestamp(20 * H)))
    );
}

#[test]
fn the_interval_is_inferred_from_the_most_common_step() {
    let dir = TempDir::new().unwrap();
    // Steps: 4h, 4h, 8h, 4h, 1h (unaligned rows rejected afterwards), so 4h wins.
    let rows: Vec<String> = [0, 4, 8, 16, 20, 21].iter().map(|h| row(*h)).collect();
    let path = write(&dir, "x.json", &json(&rows));
    let series = load_candles(&path, btc(), None).unwrap();
    assert_eq!(series.interval, Interval::parse("4h").unwrap());
    assert_eq!(series.quality.rejects.len(), 1);
    assert_eq!(series.quality.gaps[0].missing_bars, 1);
    // Ties go to the shorter step.
    let rows: Vec<String> = [0, 1, 3].iter().map(|h| row(*h)).collect();
    let path = write(&dir, "tie.json", &json(&rows));
    assert_eq!(
        load_candles(&path, btc(), None).unwrap().interval,
        Interval::HOUR
    );
    // A given interval wins over inference.
    let given = load_candles(&path, btc(), Some(Interval::MINUTE)).unwrap();
    assert_eq!(given.quality.gaps.len(), 2);
    // One row: nothing to infer from.
    let path = write(&dir, "one.json", &json(&[row(0)]));
    let err = load_candles(&path, btc(), None).unwrap_err();
    assert!(matches!(err, DataError::UnknownInterval { .. }));
    assert!(err.to_string().contains("one.json"), "{err}");
    assert_eq!(
        load_candles(&path, btc(), Some(Interval::HOUR))
            .unwrap()
            .candles
            .len(),
        1
    );
}

#[test]
fn malformed_json_names_the_file_the_row_and_the_line() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "broken.json", "[[0,1,1,1,1,1],\n[3600000,1,1 1,1,1]]");
    let err = load_candles(&path, btc(), None).unwrap_err();
    assert!(
        matches!(err, DataError::Parse { row: Some(2), .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("broken.json: row 2: line 2, column 14"),
        "{text}"
    );
}

#[test]
fn csv_loads_with_its_header_and_rejects_a_nan_row() {
    let dir = TempDir::new().unwrap();
    let text = "open_time_ms,open,high,low,close,volume\n\
                0,1.5,2,1,1.75,10\n\
                60000,nan,2,1,1.75,10\n\
                120000,1.5,2,1,1.75\n\
                180000,1.5,2,1,1.75,0\n";
    let path = write(&dir, "XRP_ETH-1m.csv", text);
    let series = load_candles(&path, btc(), None).unwrap();
    assert_eq!(series.interval, Interval::MINUTE);
    assert_eq!(series.candles.len(), 2);
    assert_eq!(series.candles[0].close, dec!(1.75));
    assert_eq!(
        reasons(&series),
        vec![
            (2, "open: `nan` is not a finite number"),
            (
                3,
                "expected 6 columns (open_time_ms, open, high, low, close, volume), found 5"
            ),
        ]
    );
    assert_eq!(series.quality.gaps[0].missing_bars, 2);
    // The same file gzipped loads the same.
    let gz = write_gz(&dir, "XRP_ETH-1m.csv.gz", text);
    assert_eq!(
        load_candles(&gz, btc(), None).unwrap().candles,
        series.candles
    );

    let path = write(&dir, "nohead.csv", "0,1,1,1,1,1\n");
    let err = load_candles(&path, btc(), None).unwrap_err().to_string();
    assert!(
        err.contains("nohead.csv: line 1: expected the header"),
        "{err}"
    );
}

#[test]
fn gzipped_json_loads_like_plain_json() {
    let dir = TempDir::new().unwrap();
    let text = json(&[row(0), row(1)]);
    let plain = load_candles(&write(&dir, "a.json", &text), btc(), None).unwrap();
    let gz = load_candles(&write_gz(&dir, "a.JSON.GZ", &text), btc(), None).unwrap();
    assert_eq!(plain.candles, gz.candles);
}

#[test]
fn unusable_files_are_errors_that_name_the_file() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "candles.parquet", "");
    let err = load_candles(&path, btc(), None).unwrap_err();
    assert!(matches!(err, DataError::UnknownFormat { .. }));
    assert!(
        err.to_string()
            .contains("candles.parquet: unknown data format"),
        "{err}"
    );

    let err = load_candles(&dir.path().join("missing.json"), btc(), None).unwrap_err();
    assert!(matches!(err, DataError::Io { .. }));
    assert!(
        err.to_string().starts_with("cannot read ") && err.to_string().contains("missing.json")
    );

    for (name, text) in [
        ("empty.json", " [ ] "),
        ("empty.csv", "open_time_ms,open,high,low,close,volume\n"),
    ] {
        let err = load_candles(&write(&dir, name, text), btc(), None).unwrap_err();
        assert!(matches!(err, DataError::Empty { .. }), "{name}: {err:?}");
        assert!(err.to_string().contains(name));
    }
}

#[test]
fn file_names_give_symbol_and_interval() {
    let (symbol, interval) = guess_symbol_and_interval(Path::new("data/binance/BTC_USDT-1h.json"));
    assert_eq!(
        (symbol.unwrap().as_str(), interval),
        ("BTCUSDT", Some(Interval::HOUR))
    );
    let (symbol, interval) = guess_symbol_and_interval(Path::new("XRP_ETH-trades.json.gz"));
    assert_eq!((symbol.unwrap().as_str(), interval), ("XRPETH", None));
    assert_eq!(
        guess_symbol_and_interval(Path::new("ETHUSDT.csv"))
            .0
            .unwrap()
            .as_str(),
        "ETHUSDT"
    );
    assert!(guess_symbol_and_interval(Path::new("candles.csv"))
        .0
        .is_none());
}

/// Open times at the two ends of i64 overflowed while the interval was inferred (and while
/// the gap between two aligned ones was counted): now the odd rows are rejected, the rest load.
#[test]
fn open_times_at_the_ends_of_i64_are_rejected_not_an_overflow() {
    let dir = TempDir::new().unwrap();
    let rows = [
        format!("[{},100.5,110,90,105.25,12.5]", i64::MIN),
        row(1),
        row(2),
        format!("[{},100.5,110,90,105.25,12.5]", i64::MAX),
        row(3),
    ];
    let path = write(&dir, "BTC_USDT-1h.json", &json(&rows));
    let series = load_candles(&path, btc(), None).unwrap();
    assert_eq!(series.interval, Interval::HOUR);
    assert_eq!(series.candles.len(), 3);
    let rows: Vec<usize> = series.quality.rejects.iter().map(|r| r.row).collect();
    assert_eq!(rows, [1, 4]);
    // Two aligned minutes nearly 2^64 ms apart: their gap, counted in i128.
    let first = i64::MIN - i64::MIN % 60_000;
    let last = i64::MAX - i64::MAX % 60_000;
    let rows = [
        format!("[{first},100.5,110,90,105.25,12.5]"),
        format!("[{last},100.5,110,90,105.25,12.5]"),
    ];
    let path = write(&dir, "BTC_USDT-1m.json", &json(&rows));
    let series = load_candles(&path, btc(), Some(Interval::MINUTE)).unwrap();
    assert_eq!(series.quality.gaps.len(), 1);
    let apart = (i128::from(last) - i128::from(first)) / 60_000;
    assert_eq!(i128::from(series.quality.gaps[0].missing_bars), apart - 1);
}
