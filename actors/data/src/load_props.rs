//! Property tests of [`load_candles`] on candle files: freqtrade JSON (numbers, exponents,
//! numeric strings), CSV, each plain or gzipped.
//!
//! - A generated file of valid bars (any whitespace, values in any exact written form, the
//!   venue's own holes) loads as exactly those candles, with nothing rejected.
//! - The same file with one row damaged (a column missing or extra, a value that is no
//!   number, a price not positive, high below low, an open time off the interval or at the
//!   ends of time) loads every other bar and rejects that row, by number, saying why.
//! - A row broken as JSON fails the load naming the file and the row.
//! - Arbitrary bytes, and generated files with bytes changed, cut or repeated (before or
//!   after gzip), never panic the loader; an error names the file.
//!
//! Each property runs proptest's default 256 cases; `PROPTEST_CASES` raises it, e.g.
//! `PROPTEST_CASES=20000 cargo test --release -p keel-data load_props`.

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::model::{Candle, Interval, Symbol, Timestamp};
use crate::{bar_start, load_candles};
use keel_core::testing::{candle_ohlc, candle_price, damage, props_config as config, Rng};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Json,
    Csv,
}

/// A candle file to write: its rows as field texts (JSON values as written, quotes included).
struct File {
    kind: Kind,
    gzipped: bool,
    header: String,
    rows: Vec<Vec<String>>,
}

impl File {
    fn name(&self) -> &'static str {
        match (self.kind, self.gzipped) {
            (Kind::Json, false) => "BTC_USDT-1h.json",
            (Kind::Json, true) => "BTC_USDT-1h.json.gz",
            (Kind::Csv, false) => "BTC_USDT-1h.csv",
            (Kind::Csv, true) => "BTC_USDT-1h.CSV.GZ",
        }
    }

    fn text(&self, rng: &mut Rng) -> String {
        let ws = |rng: &mut Rng| {
            rng.pick(&["", "", "", " ", "\n", "\t", "\r\n  "])
                .to_string()
        };
        match self.kind {
            Kind::Json => {
                let rows: Vec<String> = self
                    .rows
                    .iter()
                    .map(|row| {
                        let fields: Vec<String> = row
                            .iter()
                            .map(|f| format!("{}{f}{}", ws(rng), ws(rng)))
                            .collect();
                        format!("{}[{}]{}", ws(rng), fields.join(","), ws(rng))
                    })
                    .collect();
                let bom = if rng.one_in(10) { "\u{feff}" } else { "" };
                format!("{bom}{}[{}]{}", ws(rng), rows.join(","), ws(rng))
            }
            Kind::Csv => {
                let mut out = format!("{}\n", self.header);
                for row in &self.rows {
                    let fields: Vec<String> = row
                        .iter()
                        .map(|f| {
                            format!(
                                "{}{f}{}",
                                rng.pick(&["", "", " "]),
                                rng.pick(&["", "", " "])
                            )
                        })
                        .collect();
                    out.push_str(&fields.join(","));
                    out.push_str(rng.pick::<&str>(&["\n", "\r\n"]));
                }
                out
            }
        }
    }

    fn bytes(&self, rng: &mut Rng) -> Vec<u8> {
        let text = self.text(rng).into_bytes();
        if self.gzipped {
            gzip(&text)
        } else {
            text
        }
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// `value` written one of the exact ways a file may hold it.
fn written(value: Decimal, kind: Kind, rng: &mut Rng) -> String {
    let plain = value.to_string();
    let text = match rng.below(4) {
        0 => {
            // Scientific: mantissa digits and a negative exponent.
            format!("{}e-{}", value.mantissa(), value.scale())
        }
        1 => format!("{plain}{}", if plain.contains('.') { "000" } else { ".0" }),
        _ => plain,
    };
    match kind {
        Kind::Json if rng.one_in(4) => format!("\"{text}\""),
        _ => text,
    }
}

fn time_text(ms: i64, kind: Kind, rng: &mut Rng) -> String {
    match rng.below(6) {
        0 => format!("{ms}.0"),
        1 if kind == Kind::Json => format!("\"{ms}\""),
        _ => ms.to_string(),
    }
}

/// A file of valid bars and the candles it must load as.
fn valid_file(rng: &mut Rng) -> (File, Interval, Vec<Candle>) {
    let interval = Interval::parse(rng.pick::<&str>(&["1m", "15m", "1h", "1d", "1w"])).unwrap();
    let kind = if rng.one_in(2) { Kind::Json } else { Kind::Csv };
    let start = bar_start(interval, Timestamp((rng.next() % (1 << 42)) as i64));
    let mut t = start.0;
    let mut candles = Vec::new();
    let mut rows = Vec::new();
    for _ in 0..1 + rng.below(30) {
        let [open, high, low, close] = candle_ohlc(rng);
        let volume = if rng.one_in(8) {
            Decimal::ZERO
        } else {
            candle_price(rng)
        };
        let mut row = vec![time_text(t, kind, rng)];
        for v in [open, high, low, close, volume] {
            row.push(written(v, kind, rng));
        }
        rows.push(row);
        candles.push(Candle {
            symbol: btc(),
            open_time: Timestamp(t),
            interval,
            open,
            high,
            low,
            close,
            volume,
        });
        t += interval.millis()
            * if rng.one_in(6) {
                2 + rng.below(3) as i64
            } else {
                1
            };
    }
    let header = if rng.one_in(3) {
        "OPEN_TIME_MS,Open,High,Low,Close,Volume"
    } else {
        "open_time_ms,open,high,low,close,volume"
    };
    let file = File {
        kind,
        gzipped: rng.one_in(3),
        header: header.into(),
        rows,
    };
    (file, interval, candles)
}

/// `text` as a field: in JSON, quoted unless the row reader takes it bare.
fn field(text: &str, kind: Kind, rng: &mut Rng) -> String {
    let bare = ["NaN", "-Infinity"].contains(&text)
        || (!text.is_empty() && text.chars().all(|c| "0123456789.eE+-".contains(c)));
    match kind {
        Kind::Json if !bare || rng.one_in(2) => format!("\"{text}\""),
        _ => text.to_string(),
    }
}

fn btc() -> Symbol {
    Symbol::parse("BTCUSDT").unwrap()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_valid_file_loads_exactly(seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        let (file, interval, candles) = valid_file(&mut rng);
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), file.name(), &file.bytes(&mut rng));
        let series = load_candles(&path, btc(), Some(interval)).unwrap();
        prop_assert_eq!(&series.candles, &candles);
        prop_assert_eq!(series.quality.rows, candles.len());
        prop_assert!(series.quality.rejects.is_empty(), "{:?}", series.quality.rejects);
        prop_assert_eq!((series.quality.duplicates, series.quality.out_of_order), (0, 0));
    }

    #[test]
    fn a_damaged_row_is_rejected_by_number_and_the_rest_load(seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        let (mut file, interval, mut candles) = valid_file(&mut rng);
        let k = rng.below(candles.len());
        let kind = file.kind;
        let row = &mut file.rows[k];
        let says: String = match rng.below(7) {
            0 => {
                if rng.one_in(2) {
                    row.pop();
                    "expected 6 columns (open_time_ms, open, high, low, close, volume), found 5".into()
                } else {
                    row.push("1".into());
                    "found 7".into()
                }
            }
            1 => {
                let column = 1 + rng.below(5);
                let name = ["open_time_ms", "open", "high", "low", "close", "volume"][column];
                let bad = *rng.pick(&["abc", "NaN", "-Infinity", "1_0", "1e", "0x10", "1..2", "--1", "1e-999999", ""]);
                row[column] = field(bad, kind, &mut rng);
                format!("{name}: `{bad}` is not ")
            }
            2 => {
                let column = 1 + rng.below(4);
                row[column] = rng.pick(&["0", "-1", "-0.00000001"]).to_string();
                "price must be positive".into()
            }
            3 => {
                // High below low.
                let low = candles[k].low;
                row[2] = (low - Decimal::new(1, 9)).max(Decimal::new(1, 10)).to_string();
                "is below low".into()
            }
            4 => {
                let t = candles[k].open_time.0 + 1 + rng.below(interval.millis() as usize - 1) as i64;
                row[0] = t.to_string();
                format!("open time {t} (")
            }
            5 => {
                let t = *rng.pick(&[i64::MIN, i64::MIN + 1, i64::MAX, -1]);
                row[0] = t.to_string();
                format!("open time {t} (")
            }
            _ => {
                let bad = *rng.pick(&["9223372036854775808", "1.5", "1e30", "x", "NaN"]);
                row[0] = field(bad, kind, &mut rng);
                "open_time_ms: `".into()
            }
        };
        candles.remove(k);
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), file.name(), &file.bytes(&mut rng));
        // Without an interval, the most common step between rows is inferred.
        let given = if rng.one_in(3) { None } else { Some(interval) };
        let loaded = load_candles(&path, btc(), given);
        if given.is_none() && candles.len() < 3 {
            // Too few rows to infer an interval surely: an error, or a series; no panic.
            return Ok(());
        }
        let series = loaded.map_err(|e| TestCaseError::fail(e.to_string()))?;
        if series.interval != interval {
            return Ok(()); // inferred otherwise (a file of mostly holes)
        }
        let rejects = &series.quality.rejects;
        prop_assert_eq!(rejects.len(), 1, "{:?} for {}", rejects, says);
        prop_assert_eq!(rejects[0].row, k + 1);
        prop_assert!(rejects[0].reason.contains(&says), "{} lacks {says}", rejects[0].reason);
        prop_assert_eq!(&series.candles, &candles);
    }

    #[test]
    fn a_row_broken_as_json_fails_the_load_naming_file_and_row(seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        let (mut file, interval, _) = valid_file(&mut rng);
        file.kind = Kind::Json;
        let k = rng.below(file.rows.len());
        let broken = *rng.pick(&["[1]", "{}", "\"open", "1 2", "]"]);
        // (A row `[]` is an empty row, read as such: the break is in a later column.)
        let column = 1 + rng.below(5);
        file.rows[k][column] = broken.into();
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), file.name(), &file.bytes(&mut rng));
        let err = load_candles(&path, btc(), Some(interval)).unwrap_err().to_string();
        prop_assert!(err.starts_with(&format!("{}: row {}: line ", path.display(), k + 1)), "{err}");
    }

    #[test]
    fn any_bytes_load_or_fail_naming_the_file_without_panic(seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        let (file, _, _) = valid_file(&mut rng);
        let bytes = if rng.one_in(6) {
            (0..rng.below(200)).map(|_| rng.next() as u8).collect()
        } else {
            file.text(&mut rng).into_bytes()
        };
        let bytes = damage(&bytes, &mut rng, b"\"[],-.0eE\n\r\\x\x00\xff");
        let mut bytes = if file.gzipped { gzip(&bytes) } else { bytes };
        if file.gzipped && rng.one_in(3) {
            let at = rng.below(bytes.len());
            bytes[at] ^= 1 << rng.below(8);
        }
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), file.name(), &bytes);
        let interval = if rng.one_in(2) { None } else { Some(Interval::HOUR) };
        match load_candles(&path, btc(), interval) {
            Ok(series) => {
                prop_assert_eq!(series.quality.rows, series.candles.len()
                    + series.quality.rejects.len()
                    + series.quality.duplicates
                    + series.quality.out_of_order);
            }
            Err(e) => prop_assert!(e.to_string().contains(&path.display().to_string()), "{e}"),
        }
    }
}
