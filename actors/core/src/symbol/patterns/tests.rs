//! Every pattern against TA-Lib 0.6's output on real BTC candles (the reference files of
//! `data/reference/`, copied gzipped from the shared data): equal on every row.

use std::io::Read;

use super::candle::{History, Ohlc};
use super::PATTERN_NAMES;

/// The reference rows: candle and TA-Lib's value per `cdl_` column (by name).
fn reference(file: &str) -> (Vec<Ohlc>, Vec<String>, Vec<Vec<i32>>) {
    let path = format!("{}/../../data/reference/{file}", env!("CARGO_MANIFEST_DIR"));
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let mut candles = Vec::new();
    let mut values = Vec::new();
    for record in reader.records() {
        let record = record.unwrap();
        let f = |i: usize| record[i].parse::<f64>().unwrap();
        candles.push(Ohlc::new(f(1), f(2), f(3), f(4)));
        values.push(record.iter().skip(6).map(|v| v.parse().unwrap()).collect());
    }
    (candles, header[6..].to_vec(), values)
}

/// Runs every pattern over the file's candles and compares each value with TA-Lib's.
fn check(file: &str) {
    let (candles, columns, expected) = reference(file);
    let mut problems: Vec<String> = Vec::new();
    for name in PATTERN_NAMES {
        let Some(mut pattern) = super::pattern(name) else {
            problems.push(format!("{name}: not implemented"));
            continue;
        };
        let column = columns
            .iter()
            .position(|c| *c == format!("cdl_{name}"))
            .unwrap_or_else(|| panic!("no column cdl_{name} in {file}"));
        let mut history = History::default();
        let (mut signals, mut wrong) = (0, Vec::new());
        for (row, candle) in candles.iter().enumerate() {
            history.push(*candle);
            let got = pattern.next(&history);
            let want = expected[row][column];
            signals += usize::from(want != 0);
            if got != want {
                wrong.push(format!("row {row}: keel {got}, TA-Lib {want}"));
            }
        }
        if !wrong.is_empty() {
            problems.push(format!(
                "{name}: {} of {} rows differ, first: {}",
                wrong.len(),
                candles.len(),
                wrong[..wrong.len().min(5)].join("; ")
            ));
        }
        eprintln!(
            "{file}: {name}: {signals} signals, {} rows differ",
            wrong.len()
        );
    }
    assert!(problems.is_empty(), "{file}:\n{}", problems.join("\n"));
}

#[test]
fn every_pattern_equals_ta_lib_on_5000_hourly_bars() {
    check("BTC_USDT-1h-talib-patterns.csv.gz");
}

#[test]
fn every_pattern_equals_ta_lib_on_the_whole_4h_history() {
    check("BTC_USDT-4h-talib-patterns.csv.gz");
}
