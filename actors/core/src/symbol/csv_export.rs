//! `keel data indicators FILE`: candles and their indicator columns as CSV.

use std::io::{BufWriter, Write};

use rust_decimal::prelude::ToPrimitive;

use super::patterns::candle::{exact_f64, Ohlc};
use super::patterns::{PatternSet, PATTERN_COLUMNS};
use super::{IndicatorConfig, IndicatorSet};
use crate::model::Candle;

/// Writes one row per candle: `open_time_ms,open,high,low,close,volume,` then the indicator
/// columns named from their periods (with the defaults exactly `sma20,ema20,rsi14,macd,
/// macd_signal,macd_hist,atr14,bb_upper,bb_middle,bb_lower,sma200`, the layout of TA-Lib's
/// reference file), then one column per candlestick pattern (`cdl_doji`, `cdl_hammer`, ...,
/// TA-Lib's values: 100, -100, ±80, 0). Warm-up cells are empty; numbers carry full f64
/// precision.
pub fn write_indicators_csv<W: Write>(
    candles: &[Candle],
    cfg: &IndicatorConfig,
    out: W,
) -> std::io::Result<()> {
    let mut out = BufWriter::new(out);
    write!(
        out,
        "open_time_ms,open,high,low,close,volume,sma{},ema{},rsi{},macd,macd_signal,macd_hist,\
         atr{},bb_upper,bb_middle,bb_lower,sma{}",
        cfg.sma, cfg.ema, cfg.rsi, cfg.atr, cfg.sma_long
    )?;
    for column in PATTERN_COLUMNS {
        write!(out, ",{column}")?;
    }
    out.write_all(b"\n")?;
    let mut set = IndicatorSet::new(cfg);
    let mut patterns = PatternSet::new();
    for c in candles {
        let f = |d: rust_decimal::Decimal| d.to_f64().unwrap_or(f64::NAN);
        let v = set.update(f(c.high), f(c.low), f(c.close));
        write!(
            out,
            "{},{},{},{},{},{}",
            c.open_time.millis(),
            c.open,
            c.high,
            c.low,
            c.close,
            c.volume
        )?;
        for cell in v.columns() {
            match cell {
                Some(x) => write!(out, ",{x}")?,
                None => out.write_all(b",")?,
            }
        }
        let ohlc = Ohlc::new(
            exact_f64(c.open),
            exact_f64(c.high),
            exact_f64(c.low),
            exact_f64(c.close),
        );
        for value in patterns.update(ohlc) {
            write!(out, ",{value}")?;
        }
        out.write_all(b"\n")?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::symbol::testdata::{reference_rows, REFERENCE};

    #[test]
    fn reproduces_the_reference_layout_and_values() {
        let rows = reference_rows();
        let candles: Vec<Candle> = rows.iter().map(|r| r.candle.clone()).collect();
        let mut out = Vec::new();
        write_indicators_csv(&candles, &IndicatorConfig::default(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let reference = std::fs::read_to_string(REFERENCE).unwrap();
        let ours: Vec<&str> = text.lines().collect();
        let theirs: Vec<&str> = reference.lines().collect();
        assert_eq!(ours.len(), 5_001);
        let patterns: String = PATTERN_COLUMNS.iter().map(|c| format!(",{c}")).collect();
        assert_eq!(ours[0], format!("{}{patterns}", theirs[0]), "header");
        // The OHLCV columns are copied verbatim; warm-up cells are empty where TA-Lib's are.
        assert!(ours[1].starts_with(theirs[1]), "{}", ours[1]);
        for i in [2, 15, 20, 34, 200, 301, 5_000] {
            let (a, b): (Vec<&str>, Vec<&str>) =
                (ours[i].split(',').collect(), theirs[i].split(',').collect());
            assert_eq!(a[..6], b[..6], "row {i} OHLCV");
            for col in 6..17 {
                assert_eq!(a[col].is_empty(), b[col].is_empty(), "row {i} col {col}");
                if !b[col].is_empty() {
                    let (x, y): (f64, f64) = (a[col].parse().unwrap(), b[col].parse().unwrap());
                    assert!(
                        (x - y).abs() <= 1e-6 * y.abs(),
                        "row {i} col {col}: {x} vs {y}"
                    );
                }
            }
        }
        // Full precision: the printed cells parse back to exactly the computed values.
        let mut set = IndicatorSet::new(&IndicatorConfig::default());
        let f = |d: rust_decimal::Decimal| d.to_f64().unwrap();
        let last = candles
            .iter()
            .map(|c| set.update(f(c.high), f(c.low), f(c.close)))
            .last()
            .unwrap();
        let printed: Vec<Option<f64>> = ours[5_000]
            .split(',')
            .skip(6)
            .take(11)
            .map(|cell| cell.parse().ok())
            .collect();
        assert_eq!(printed, last.columns().to_vec());
    }

    #[test]
    fn pattern_columns_equal_ta_lib_from_the_decimal_candles() {
        // The same 5,000 bars as the indicator reference, with TA-Lib's pattern values: the
        // export's path from `Decimal` prices to f64 must give TA-Lib's numbers exactly.
        let rows = reference_rows();
        let candles: Vec<Candle> = rows.iter().map(|r| r.candle.clone()).collect();
        let mut out = Vec::new();
        write_indicators_csv(&candles, &IndicatorConfig::default(), &mut out).unwrap();
        let ours = String::from_utf8(out).unwrap();
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../data/reference/BTC_USDT-1h-talib-patterns.csv.gz"
        );
        let mut theirs = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()),
            &mut theirs,
        )
        .unwrap();
        let theirs: Vec<&str> = theirs.lines().collect();
        let ours: Vec<&str> = ours.lines().collect();
        assert_eq!(ours.len(), theirs.len());
        let header: Vec<&str> = theirs[0].split(',').skip(6).collect();
        let ours_header: Vec<&str> = ours[0].split(',').skip(17).collect();
        assert_eq!(
            ours_header, header,
            "pattern columns in the reference's order"
        );
        for (row, (a, b)) in ours.iter().zip(&theirs).enumerate().skip(1) {
            let a: Vec<&str> = a.split(',').collect();
            let b: Vec<&str> = b.split(',').collect();
            assert_eq!(a[0], b[0], "row {row}: open time");
            assert_eq!(a[17..], b[6..], "row {row}: pattern values");
        }
    }

    #[test]
    fn column_names_follow_the_periods() {
        let cfg = IndicatorConfig {
            sma: 10,
            ema: 50,
            rsi: 7,
            atr: 21,
            sma_long: 100,
            ..IndicatorConfig::default()
        };
        let mut out = Vec::new();
        write_indicators_csv(&[], &cfg, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "open_time_ms,open,high,low,close,volume,sma10,ema50,rsi7,macd,macd_signal,\
             macd_hist,atr21,bb_upper,bb_middle,bb_lower,sma100,cdl_doji,cdl_hammer,\
             cdl_invertedhammer,cdl_shootingstar,cdl_hangingman,cdl_engulfing,cdl_harami,\
             cdl_morningstar,cdl_eveningstar,cdl_3whitesoldiers,cdl_3blackcrows,cdl_piercing,\
             cdl_darkcloudcover,cdl_marubozu,cdl_spinningtop,cdl_dragonflydoji,\
             cdl_gravestonedoji\n"
        );
    }
}
