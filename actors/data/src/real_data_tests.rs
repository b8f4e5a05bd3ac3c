//! Tests on the real data shipped in the repository's `data/` and in `testdata/`.
//!
//! The expected values were computed independently (Python, `decimal.Decimal` from the
//! file text) before these tests were written.

use std::path::Path;

use super::*;
use crate::model::{Interval, Symbol, Timestamp};

const BTC_1H: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/binance/BTC_USDT-1h.json"
);
const ETH_1H: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/binance/ETH_USDT-1h.json"
);
const XRP_TRADES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/trades/XRP_ETH-trades.json.gz"
);
const XRP_1M: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/trades/XRP_ETH-1m.csv"
);
/// 200 consecutive 4h bars of Binance BTC/USDT from 2018-01-25, copied verbatim from
/// `shared/data/binance/BTC_USDT-4h.json`; they include the 2018-02-08 outage.
const BTC_4H_FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/src/testdata/BTC_USDT-4h-2018-01-25.json"
);

fn ts(text: &str) -> Timestamp {
    Timestamp::parse_utc(text).unwrap()
}

fn load(path: &str, interval: Option<Interval>) -> CandleSeries {
    let (symbol, _) = guess_symbol_and_interval(Path::new(path));
    let symbol = symbol.unwrap_or_else(|| Symbol::parse("BTC_USDT").unwrap());
    load_candles(Path::new(path), symbol, interval).unwrap()
}

#[test]
fn btc_hourly_slice_reports_its_seven_real_gaps() {
    let series = load(BTC_1H, None);
    let q = &series.quality;
    assert_eq!(series.interval, Interval::HOUR, "inferred");
    assert_eq!(
        (q.rows, q.accepted, q.duplicates, q.out_of_order),
        (9442, 9442, 0, 0)
    );
    assert!(q.is_clean());
    assert_eq!(q.first, Some(ts("2017-12-01T00:00:00Z")));
    assert_eq!(q.last, Some(ts("2018-12-31T23:00:00Z")));
    let gaps: Vec<(Timestamp, Timestamp, i64)> = q
        .gaps
        .iter()
        .map(|g| (g.after, g.resumes, g.missing_bars))
        .collect();
    assert_eq!(
        gaps,
        vec![
            (ts("2018-01-04T03:00:00Z"), ts("2018-01-04T05:00:00Z"), 1),
            (ts("2018-02-08T00:00:00Z"), ts("2018-02-09T10:00:00Z"), 33),
            (ts("2018-06-26T01:00:00Z"), ts("2018-06-26T12:00:00Z"), 10),
            (ts("2018-06-27T12:00:00Z"), ts("2018-06-27T14:00:00Z"), 1),
            (ts("2018-07-04T00:00:00Z"), ts("2018-07-04T08:00:00Z"), 7),
            (ts("2018-10-19T05:00:00Z"), ts("2018-10-19T09:00:00Z"), 3),
            (ts("2018-11-14T01:00:00Z"), ts("2018-11-14T09:00:00Z"), 7),
        ]
    );
    assert_eq!(q.missing_bars(), 62);
    // 396 days of hours, less the missing ones, is every row.
    assert_eq!(396 * 24 - 62, q.accepted as i64);
    let shown = q.to_string();
    assert!(
        shown.contains(
            "gaps:         7 (62 missing bars); longest 33 bars after 2018-02-08T00:00:00Z, \
             resuming 2018-02-09T10:00:00Z"
        ),
        "{shown}"
    );
    let first = &series.candles[0];
    assert_eq!(first.symbol.as_str(), "BTCUSDT");
    assert_eq!(first.high.to_string(), "9900.03");
    assert_eq!(first.volume.to_string(), "275.973987");
}

#[test]
fn btc_and_eth_merge_into_one_stream_btc_first_at_each_hour() {
    let btc = load(BTC_1H, Some(Interval::HOUR));
    let eth = load(ETH_1H, Some(Interval::HOUR));
    let merged = merge(&[btc, eth]);
    assert_eq!(merged.len(), 2 * 9442);
    assert!(merged.windows(2).all(|p| p[0].open_time <= p[1].open_time));
    // Both files have the same hours, so the stream alternates BTC, ETH.
    assert!(merged
        .chunks(2)
        .all(|pair| pair[0].symbol.as_str() == "BTCUSDT"
            && pair[1].symbol.as_str() == "ETHUSDT"
            && pair[0].open_time == pair[1].open_time));
}

#[test]
fn xrp_trades_aggregate_into_exactly_the_reference_minute_bars() {
    let trades = load_trades(Path::new(XRP_TRADES)).unwrap();
    assert_eq!(trades.len(), 12_477);
    let symbol = Symbol::parse("XRP_ETH").unwrap();
    let built = trades_to_candles(&trades, symbol, Interval::MINUTE);
    let reference = load(XRP_1M, Some(Interval::MINUTE));
    assert!(reference.quality.is_clean());
    assert_eq!(reference.candles.len(), 2469);
    assert_eq!(built.len(), 2469);
    for (ours, theirs) in built.iter().zip(&reference.candles) {
        assert_eq!(ours, theirs, "bar at {}", theirs.open_time);
    }
}

#[test]
fn btc_hourly_rolls_up_into_binances_own_four_hour_bars() {
    let four = Interval::parse("4h").unwrap();
    let reference = load(BTC_4H_FIXTURE, Some(four));
    assert_eq!(reference.candles.len(), 200);
    let start = reference.quality.first;
    let end = reference
        .quality
        .last
        .map(|last| last.plus_ms(four.millis()));
    let hourly = load(BTC_1H, None);
    let hourly = restrict(&hourly.candles, start, end);

    // Complete buckets only: every bar produced is Binance's bar, and the two buckets cut by
    // the 2018-02-08 outage (1 of 4 and 2 of 4 hours present) are left out and listed.
    let rolled = resample(hourly, four).unwrap();
    let outage = vec![ts("2018-02-08T00:00:00Z"), ts("2018-02-09T08:00:00Z")];
    assert_eq!(rolled.incomplete, outage);
    let expected: Vec<_> = reference
        .candles
        .iter()
        .filter(|bar| !outage.contains(&bar.open_time))
        .cloned()
        .collect();
    assert_eq!(rolled.candles.len(), 198);
    assert_eq!(rolled.candles, expected);

    // Nothing traded in the missing hours, so keeping partial buckets reproduces all 200.
    let kept = resample_with(hourly, four, IncompleteBuckets::Keep).unwrap();
    assert_eq!(kept.candles, reference.candles);
}
