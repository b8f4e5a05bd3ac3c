//! Property tests of the wire types: every REST body keel reads (server time, error bodies,
//! exchangeInfo with its filters, kline rows and pages, order responses in their three
//! forms, queried orders, trades, the account, OCO lists) and the trade and book-ticker
//! stream payloads.
//!
//! - A generated body (fields in any order, fields keel ignores mixed in, optional fields
//!   absent or `null`, strings with escapes, random whitespace) reads as exactly the value it
//!   was generated from.
//! - The same body with one value or member damaged (a decimal as a number or a malformed or
//!   too long string, an integer out of range or fractional, a wrong type, an unknown enum
//!   name, a required field missing or any field doubled, a row too short) is refused, and the
//!   refusal says why (`missing field `price``, ``1_000` is not a plain decimal`).
//! - Wire decimals, kline rows and kline pages agree with oracles written apart from them.
//! - exchangeInfo's filters, with any decimals, round any order without a panic.
//! - Arbitrary and mutated bytes never panic, and as an error body read as
//!   [`classify_status`] says.
//!
//! Each property runs proptest's default 256 cases; `PROPTEST_CASES` raises it, e.g.
//! `PROPTEST_CASES=100000 cargo test --release -p keel-binance wire::props`.

mod body;
mod gen;
mod values;

use std::str::FromStr;
use std::time::Duration;

use proptest::prelude::*;
use rust_decimal::Decimal;

use super::{parse_exact, ApiError, KlineRow};
use crate::client::{candles_of_page, classify_status, VenueError};
use crate::model::{check_ohlcv, Candle, Interval, Symbol, Timestamp};
use crate::SymbolFilters;
use body::Node;
use gen::{body, good_kline_row, kline_row, kline_row_node};
use keel_core::testing::json::Json;
use keel_core::testing::{damage, props_config as config, Rng};
use values::dec;

fn page_node(rows: &[KlineRow]) -> Node {
    Node::List(rows.iter().map(kline_row_node).collect())
}

const INTERVALS: [&str; 6] = ["1s", "1m", "15m", "1h", "1d", "1w"];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_generated_body_reads_as_the_value_it_was_made_from(seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        let (expected, node) = body(&mut rng);
        let text = node.json().render(&mut rng);
        let read = expected.parse_like(&text);
        prop_assert!(read.is_ok(), "{read:?}\n{text}");
        prop_assert_eq!(read.unwrap(), expected, "{}", text);
    }

    #[test]
    fn a_damaged_body_is_refused_saying_why(seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        let (expected, mut node) = body(&mut rng);
        let says = node.damage(&mut rng);
        let text = node.json().render(&mut rng);
        match expected.parse_like(&text) {
            Ok(read) => prop_assert!(false, "damage `{says}` read as {read:?}: {text}"),
            Err(e) => prop_assert!(e.to_string().contains(&says), "{e} lacks `{says}`: {text}"),
        }
    }

    /// Any text that looks roughly like a decimal reads exactly when it is a plain decimal
    /// that a `Decimal` holds, and is refused otherwise: checked with integer arithmetic.
    #[test]
    fn a_wire_decimal_is_read_exactly_or_refused(seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        let text: String = (0..rng.below(40))
            .map(|_| match rng.below(20) {
                0 => *rng.pick(&['-', '.', '+', 'e', '_', ' ', 'x', '٣']),
                1..=4 => '0',
                _ => char::from(b'0' + rng.below(10) as u8),
            })
            .collect();
        let text = if rng.one_in(2) { format!("{}.{text}", rng.below(100)) } else { text };
        prop_assert_eq!(parse_exact(&text).ok(), decimal_oracle(&text), "{}", text);
        let ok = dec(&mut rng);
        let Json::Str(t) = ok.1.json() else { unreachable!("a decimal is a string") };
        let read = parse_exact(&t);
        prop_assert_eq!(read.as_ref().ok(), Some(&ok.0), "{}", t);
        prop_assert_eq!(read.unwrap().scale(), decimal_oracle(&t).unwrap().scale());
    }

    #[test]
    fn a_kline_row_becomes_the_candle_an_oracle_expects(seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        let interval = Interval::parse(rng.pick::<&str>(&INTERVALS)).unwrap();
        let mut row = if rng.one_in(2) {
            kline_row(&mut rng).0
        } else {
            let open_time = (rng.next() as i64) / 4;
            good_kline_row(&mut rng, open_time, interval.millis())
        };
        // Times near the ends of i64, and spans a millisecond off.
        match rng.below(6) {
            0 => row.0 = *rng.pick(&[i64::MIN, i64::MAX, i64::MAX - interval.millis() + 1]),
            1 => row.6 = row.0.wrapping_add(interval.millis() - 1),
            2 => row.6 = row.0.wrapping_add(interval.millis() - 1 + *rng.pick(&[-1, 1])),
            _ => {}
        }
        let symbol = Symbol::parse("BTCUSDT").unwrap();
        let got = row.to_candle(&symbol, interval);
        // A bar ending at i64's last millisecond is refused: its end is no timestamp.
        let span = if row.6 == i64::MAX {
            None
        } else {
            Some(i128::from(row.6) + 1 - i128::from(row.0))
        };
        // The values are checked as every candle source checks them (the stream's oracle
        // does the same); what is under test here is the reading and the span.
        let values = [row.1, row.2, row.3, row.4, row.5];
        let prices_ok = check_ohlcv(values).is_ok();
        let [open, high, low, close, volume] = values;
        if span != Some(i128::from(interval.millis())) {
            let err = got.unwrap_err();
            prop_assert!(err.contains(&format!("bar {}..{} does not span", row.0, row.6)), "{err}");
        } else if !prices_ok {
            prop_assert!(got.is_err(), "{row:?} read as {got:?}");
        } else {
            let candle = Candle {
                symbol: symbol.clone(),
                open_time: Timestamp(row.0),
                interval,
                open,
                high,
                low,
                close,
                volume,
            };
            prop_assert_eq!(got, Ok(candle));
        }
    }

    /// A page of klines reads as every bar in it, in order, or fails naming the bar that
    /// broke it: no bar is skipped, none defaulted.
    #[test]
    fn a_klines_page_reads_whole_or_fails_naming_the_bad_bar(seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        let interval = Interval::parse(rng.pick::<&str>(&INTERVALS)).unwrap();
        let step = interval.millis();
        let start = (rng.next() % (1 << 41)) as i64 / step * step;
        let mut rows: Vec<KlineRow> = Vec::new();
        let mut t = start;
        for _ in 0..rng.below(30) {
            // The venue's own holes (downtime) are kept: they are not errors.
            t += step * if rng.one_in(8) { 1 + rng.below(5) as i64 } else { 1 };
            rows.push(good_kline_row(&mut rng, t, step));
        }
        let symbol = Symbol::parse("ETHBTC").unwrap();
        let read = |rows: &[KlineRow], node: &Node, rng: &mut Rng| {
            let text = node.json().render(rng);
            let parsed: Vec<KlineRow> = serde_json::from_str(&text)
                .map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
            prop_assert_eq!(&parsed, &rows.to_vec());
            Ok(candles_of_page(&symbol, interval, &parsed).map_err(|e| e.to_string()))
        };
        let candles = read(&rows, &page_node(&rows), &mut rng)?;
        let expected: Vec<Candle> = rows
            .iter()
            .map(|r| Candle {
                symbol: symbol.clone(),
                open_time: Timestamp(r.0),
                interval,
                open: r.1,
                high: r.2,
                low: r.3,
                close: r.4,
                volume: r.5,
            })
            .collect();
        prop_assert_eq!(candles, Ok(expected));
        if rows.is_empty() {
            return Ok(());
        }
        let k = rng.below(rows.len());
        let bar = rows[k].0;
        let says = match rng.below(4) {
            0 if k > 0 => {
                rows.swap(k - 1, k);
                format!("ETHBTC: bar {} follows bar {bar} (not increasing)", rows[k].0)
            }
            1 => {
                rows[k].6 += 1;
                format!("ETHBTC bar {bar}: bar {bar}..{} does not span one {interval}", rows[k].6)
            }
            2 => {
                rows[k].2 = rows[k].3 - Decimal::new(1, 8);
                format!("ETHBTC bar {bar}: ")
            }
            _ => {
                rows[k].1 = Decimal::ZERO;
                format!("ETHBTC bar {bar}: open: price must be positive, found 0")
            }
        };
        let err = read(&rows, &page_node(&rows), &mut rng)?.unwrap_err();
        prop_assert!(err.contains(&says), "{err} lacks {says}");
    }

    /// exchangeInfo's filters, whatever decimals they hold, round any order without a
    /// panic: a rounded quantity is a positive multiple of the step inside the lot and no
    /// more than asked, a rounded price is positive.
    #[test]
    fn any_filters_round_any_order_without_panic(seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        // Binance's steps are powers of ten; any decimal now and then.
        let step = |rng: &mut Rng| {
            if rng.one_in(3) {
                dec(rng).0
            } else {
                Decimal::new(1, rng.below(29) as u32) * Decimal::from(10i64.pow(rng.below(6) as u32))
            }
        };
        let (tick_size, step_size) = (step(&mut rng), step(&mut rng));
        let mut d = || dec(&mut rng).0;
        let f = SymbolFilters {
            tick_size,
            step_size,
            min_qty: d(),
            max_qty: d(),
            min_notional: d(),
        };
        let (qty, price) = (d(), d());
        if let Ok(q) = f.quantity(qty) {
            prop_assert!(q > Decimal::ZERO && f.min_qty <= q && q <= f.max_qty, "{q} {f:?}");
            // (Unless the count of steps, or the quantity, has about as many digits as a
            // decimal holds: the division or the product then rounds, maybe up.)
            let digits_to_spare = qty.mantissa().abs() < 10i128.pow(24)
                && qty.checked_div(f.step_size).is_some_and(|n| n.abs() < Decimal::from(10u128.pow(24)));
            if digits_to_spare {
                prop_assert!(q <= qty, "{q} rounded up from {qty}");
            }
            // (A step of many significant digits times a count can need more digits than a
            // decimal has: the product is then rounded, and the venue would refuse it.)
            if f.step_size > Decimal::ZERO && f.step_size.normalize().mantissa().abs() == 1 {
                prop_assert!((q % f.step_size).is_zero(), "{q} {f:?}");
            }
        }
        if let Ok(p) = f.price(price) {
            prop_assert!(p > Decimal::ZERO, "{p} from {price}");
        }
        let notional = f.notional(qty, price);
        if let Some(n) = qty.checked_mul(price) {
            prop_assert_eq!(notional.is_ok(), n >= f.min_notional);
        }
        let _ = f.accepts_qty_step(qty);
        let _ = f.accepts_price_scale(rng.below(29) as u32);
    }

    /// Arbitrary bytes, and generated bodies with bytes changed, cut or repeated, never panic
    /// any reader; as an error body they give the venue's code and message when they are one,
    /// else code 0 and the first 200 characters.
    #[test]
    fn any_bytes_are_read_or_refused_without_panic(seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        let (expected, node) = body(&mut rng);
        let mut bytes = node.json().render(&mut rng).into_bytes();
        if rng.one_in(5) {
            bytes = (0..rng.below(300)).map(|_| rng.next() as u8).collect();
        }
        let bytes = damage(&bytes, &mut rng, b"\"{}[],:-.0e\\x\x00\xff");
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = expected.parse_like(text);
        }
        let api: Option<ApiError> = serde_json::from_slice(&bytes).ok();
        let error = classify_status("GET /api/v3/order", 400, &bytes, None, Timestamp(0), Duration::ZERO);
        let VenueError::Rejected { code, msg, .. } = error else {
            return Err(TestCaseError::fail(format!("not a rejection: {error:?}")));
        };
        match api {
            Some(api) => prop_assert_eq!((code, msg), (api.code, api.msg)),
            None => {
                let excerpt: String = String::from_utf8_lossy(&bytes).chars().take(200).collect();
                prop_assert_eq!((code, msg), (0, excerpt));
            }
        }
        if let Ok(rows) = serde_json::from_slice::<Vec<KlineRow>>(&bytes) {
            let _ = candles_of_page(&Symbol::parse("BTCUSDT").unwrap(), Interval::HOUR, &rows);
        }
    }
}

/// The oracle of [`parse_exact`]: `-?digits[.digits]` whose digits, leading zeros dropped,
/// make an integer below 2^96 with at most 28 of them after the point.
fn decimal_oracle(text: &str) -> Option<Decimal> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    exact(negative, int, frac)
        .or_else(|| {
            let trimmed = frac.trim_end_matches('0');
            (trimmed.len() < frac.len())
                .then(|| exact(negative, int, trimmed))
                .flatten()
        })
        .filter(|_| !unsigned.contains('.') || !frac.is_empty())
}

fn exact(negative: bool, int: &str, frac: &str) -> Option<Decimal> {
    let digits = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
    if int.is_empty() || !digits(int) || !digits(frac) {
        return None;
    }
    if frac.len() > 28 {
        return None;
    }
    let all = format!("{int}{frac}");
    let significant = all.trim_start_matches('0');
    if significant.len() > 29 {
        return None;
    }
    let mantissa = if significant.is_empty() {
        0
    } else {
        u128::from_str(significant).ok()?
    };
    if mantissa >= 1 << 96 {
        return None;
    }
    let signed = if negative {
        -(mantissa as i128)
    } else {
        mantissa as i128
    };
    Some(Decimal::from_i128_with_scale(signed, frac.len() as u32))
}
