//! The stream's hot path: a combined-stream kline message to its closed bar.
//!
//! A frame laid out as Binance lays it out is read by the [`fast`](super::fast) path, which
//! only accepts, and gives what the scanner below gives; any other text (and any frame it
//! does not read) goes to the scanner. One pass over the message, in place, through the [`json`](super::json) cursor (no tree,
//! no allocation on the way to a bar): only the fields a candle needs are decoded, prices
//! straight from their strings into `Decimal` ([`decimal`](super::decimal)); every other value is checked to be
//! well-formed JSON and skipped. Field order, whitespace and escaped keys do not matter. It
//! accepts exactly what serde_json accepts into the equivalent serde types (the wire types'
//! borrowed strings, a price as a string holding a plain decimal) and refuses everything
//! else with a [`KlineError`] naming the problem and its kind: malformed JSON (bare tokens,
//! mismatched brackets, bad escapes or numbers, trailing text), a duplicated, missing or
//! mistyped field, another event, a symbol mismatch. Never a panic. `parse_props` checks
//! this against serde_json on generated, mutated and arbitrary text.

use rust_decimal::Decimal;

use super::decimal::parse_decimal;
use super::fast::common_frame;
use super::json::{shape, Scanner};

use crate::model::check_ohlcv;
use crate::model::{Candle, Interval, Symbol, Timestamp};

/// A closed kline as the stream sent it, borrowing the message's text.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClosedKline<'a> {
    /// The symbol as sent (`BTCUSDT`).
    pub symbol: &'a str,
    /// The interval as sent (`1h`).
    pub interval: &'a str,
    /// Open time, ms.
    pub open_time: i64,
    /// Close time (last millisecond of the bar), ms.
    pub close_time: i64,
    /// Open, high, low, close, volume.
    pub values: [Decimal; 5],
}

impl ClosedKline<'_> {
    /// The bar as a candle of `symbol` (the caller's interned symbol), checked: the span is
    /// one interval and the prices are consistent.
    pub fn to_candle(&self, symbol: &Symbol) -> Result<Candle, String> {
        let interval = Interval::parse(self.interval)
            .ok_or_else(|| format!("unknown interval `{}`", self.interval))?;
        // In i128: hostile times near i64's ends must not overflow.
        let span = i128::from(self.close_time) + 1 - i128::from(self.open_time);
        if span != i128::from(interval.millis()) {
            return Err(format!(
                "bar {}..{} does not span one {interval} interval",
                self.open_time, self.close_time
            ));
        }
        check_ohlcv(self.values)?;
        let [open, high, low, close, volume] = self.values;
        Ok(Candle {
            symbol: symbol.clone(),
            open_time: Timestamp(self.open_time),
            interval,
            open,
            high,
            low,
            close,
            volume,
        })
    }
}

/// What is wrong with a message [`parse_kline`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KlineErrorKind {
    /// Not well-formed JSON (serde_json's syntax and end-of-input errors).
    Malformed,
    /// Well-formed JSON of another shape: a field missing, duplicated or of the wrong type,
    /// a string with escapes where the text is borrowed, a price that is not a plain decimal.
    Shape,
    /// A well-formed event of another type than `kline`.
    NotKline,
    /// The bar's symbol differs from the event's.
    SymbolMismatch,
}

/// A message [`parse_kline`] refused: the kind of problem and a description naming it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct KlineError {
    kind: KlineErrorKind,
    message: String,
}

impl KlineError {
    /// The kind of problem.
    pub fn kind(&self) -> KlineErrorKind {
        self.kind
    }

    #[cold]
    pub(super) fn new(kind: KlineErrorKind, message: String) -> Self {
        KlineError { kind, message }
    }
}

#[cold]
fn duplicate(key: &str) -> KlineError {
    shape(format!("duplicate field `{key}`"))
}

/// Parses one combined-stream message (`{"stream":..,"data":{"e":"kline",..,"k":{..}}}`):
/// `Ok(Some(bar))` for a closed bar (`x == true`), `Ok(None)` for a bar still open, and an
/// error naming the problem for anything else (not a kline, malformed JSON, a missing or
/// duplicated field, a price that is not a decimal such as `"NaN"`).
pub fn parse_kline(text: &str) -> Result<Option<ClosedKline<'_>>, KlineError> {
    match common_frame(text) {
        Some(bar) => Ok(bar),
        None => parse_strictly(text),
    }
}

/// [`parse_kline`] for any text, by the strict scanner alone.
pub(super) fn parse_strictly(text: &str) -> Result<Option<ClosedKline<'_>>, KlineError> {
    let mut s = Scanner::new(text);
    s.open("the message")?;
    let mut event = None;
    let mut first = true;
    while let Some(key) = s.key(&mut first)? {
        if key == "data" {
            if event.is_some() {
                return Err(duplicate("data"));
            }
            s.colon()?;
            event = Some(event_object(&mut s)?);
        } else {
            s.colon()?;
            s.skip_value()?;
        }
    }
    let Some(Event {
        event,
        symbol,
        bar,
        closed,
    }) = event
    else {
        return Err(shape("no `data` field".into()));
    };
    s.end()?;
    if event != "kline" {
        return Err(KlineError::new(
            KlineErrorKind::NotKline,
            format!("event `{event}` is not a kline"),
        ));
    }
    if bar.symbol != symbol {
        return Err(KlineError::new(
            KlineErrorKind::SymbolMismatch,
            format!(
                "the bar's symbol {} differs from the event's {symbol}",
                bar.symbol
            ),
        ));
    }
    Ok(closed.then_some(bar))
}

/// The kline fields a candle needs; their positions index `ClosedKline` (open..volume at 4..9).
const KLINE_KEYS: [&str; 10] = ["t", "T", "s", "i", "o", "h", "l", "c", "v", "x"];

/// Whether a message announces that the server is about to close the connection.
pub fn is_server_shutdown(text: &str) -> bool {
    text.contains("\"serverShutdown\"")
}

/// The `data` object's fields a candle needs.
struct Event<'a> {
    event: &'a str,
    symbol: &'a str,
    bar: ClosedKline<'a>,
    closed: bool,
}

/// The `data` object.
#[inline]
fn event_object<'a>(s: &mut Scanner<'a>) -> Result<Event<'a>, KlineError> {
    s.open("`data`")?;
    let (mut event, mut symbol, mut kline) = (None, None, None);
    let mut first = true;
    while let Some(key) = s.key(&mut first)? {
        match *key.as_bytes() {
            [b'e'] => {
                if event.is_some() {
                    return Err(duplicate("e"));
                }
                s.colon()?;
                event = Some(s.string_value("e")?);
            }
            [b's'] => {
                if symbol.is_some() {
                    return Err(duplicate("s"));
                }
                s.colon()?;
                symbol = Some(s.string_value("s")?);
            }
            [b'k'] => {
                if kline.is_some() {
                    return Err(duplicate("k"));
                }
                s.colon()?;
                kline = Some(kline_object(s)?);
            }
            _ => {
                s.colon()?;
                s.skip_value()?;
            }
        }
    }
    match (event, symbol, kline) {
        (Some(event), Some(symbol), Some((bar, closed))) => Ok(Event {
            event,
            symbol,
            bar,
            closed,
        }),
        (event, symbol, kline) => {
            let missing: Vec<&str> = [
                ("e", event.is_none()),
                ("s", symbol.is_none()),
                ("k", kline.is_none()),
            ]
            .iter()
            .filter(|(_, missing)| *missing)
            .map(|(k, _)| *k)
            .collect();
            Err(shape(format!("the event lacks {}", missing.join(", "))))
        }
    }
}

/// The kline object `k`, and whether the bar is closed.
#[inline]
fn kline_object<'a>(s: &mut Scanner<'a>) -> Result<(ClosedKline<'a>, bool), KlineError> {
    s.open("the kline `k`")?;
    let mut bar = ClosedKline::default();
    let mut closed = false;
    let mut seen = 0u16;
    let mut first = true;
    while let Some(key) = s.key(&mut first)? {
        let field = match *key.as_bytes() {
            [b't'] => 0,
            [b'T'] => 1,
            [b's'] => 2,
            [b'i'] => 3,
            [b'o'] => 4,
            [b'h'] => 5,
            [b'l'] => 6,
            [b'c'] => 7,
            [b'v'] => 8,
            [b'x'] => 9,
            _ => {
                s.colon()?;
                s.skip_value()?;
                continue;
            }
        };
        let name = KLINE_KEYS[field];
        if seen & (1 << field) != 0 {
            return Err(duplicate(name));
        }
        seen |= 1 << field;
        s.colon()?;
        match field {
            0 => bar.open_time = s.int(name)?,
            1 => bar.close_time = s.int(name)?,
            2 => bar.symbol = s.string_value(name)?,
            3 => bar.interval = s.string_value(name)?,
            4..=8 => bar.values[field - 4] = decimal(s, name)?,
            _ => closed = s.boolean(name)?,
        }
    }
    if seen != (1 << KLINE_KEYS.len()) - 1 {
        let missing: Vec<&str> = KLINE_KEYS
            .iter()
            .enumerate()
            .filter(|(i, _)| seen & (1 << i) == 0)
            .map(|(_, k)| *k)
            .collect();
        return Err(shape(format!("the kline lacks {}", missing.join(", "))));
    }
    Ok((bar, closed))
}

/// A price: a string holding a plain decimal.
#[inline]
fn decimal(s: &mut Scanner, key: &str) -> Result<Decimal, KlineError> {
    let text = s.string_value(key)?;
    parse_decimal(text).ok_or_else(|| shape(format!("`{key}`: `{text}` is not a decimal")))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::wire::{Combined, KlineEvent};
    use rust_decimal_macros::dec;

    /// A closed 1h BTCUSDT bar opening at `open_ms`, with `close` as its close.
    pub(crate) fn closed(open_ms: i64, close: &str) -> String {
        format!(
            r#"{{"stream":"btcusdt@kline_1h","data":{{"e":"kline","E":{e},"s":"BTCUSDT","k":{{"t":{open_ms},"T":{t},"s":"BTCUSDT","i":"1h","f":1,"L":2,"o":"100.5","c":"{close}","h":"110","l":"90","v":"12.5","n":2,"x":true,"q":"1250","V":"6","Q":"600","B":"0"}}}}}}"#,
            e = open_ms + 3_600_000,
            t = open_ms + 3_599_999,
        )
    }

    fn btc() -> Symbol {
        Symbol::parse("BTCUSDT").unwrap()
    }

    #[test]
    fn a_closed_bar_parses_to_a_checked_candle() {
        let text = closed(1_699_999_200_000, "101.25");
        let bar = parse_kline(&text).unwrap().unwrap();
        let candle = bar.to_candle(&btc()).unwrap();
        assert_eq!(candle.close, dec!(101.25));
        assert_eq!(candle.open, dec!(100.5));
        assert_eq!(candle.open_time, Timestamp(1_699_999_200_000));
    }

    #[test]
    fn the_scanner_agrees_with_the_serde_wire_types_whatever_the_layout() {
        let compact = closed(1_699_999_200_000, "101.25");
        // Pretty-printed, fields reordered, with an array field the scanner must skip.
        let pretty = r#" { "data" : { "k" : { "x" : true, "B" : "0", "v" : "12.5",
            "l" : "90", "h" : "110", "c" : "101.25", "o" : "100.5", "i" : "1h",
            "s" : "BTCUSDT", "T" : 1700002799999, "t" : 1699999200000, "extra": [1, {"a": "}"}] },
            "s" : "BTCUSDT", "E" : 1, "e" : "kline" }, "stream" : "btcusdt@kline_1h" } "#;
        let serde: Combined<KlineEvent> = serde_json::from_str(&compact).unwrap();
        let expected = serde.data.kline.to_candle(&btc()).unwrap();
        for text in [compact.as_str(), pretty] {
            let candle = parse_kline(text)
                .unwrap()
                .unwrap()
                .to_candle(&btc())
                .unwrap();
            assert_eq!(candle, expected, "{text}");
        }
    }

    #[test]
    fn an_open_bar_is_not_delivered() {
        let text = closed(0, "101").replace("\"x\":true", "\"x\":false");
        assert_eq!(parse_kline(&text), Ok(None));
    }

    #[test]
    fn malformed_messages_are_errors_not_panics() {
        let nan = closed(0, "NaN");
        assert!(parse_kline(&nan)
            .unwrap_err()
            .to_string()
            .contains("`c`: `NaN` is not a decimal"));
        let bad_close = closed(0, "200"); // above the high: parses, refused as a candle
        let bar = parse_kline(&bad_close).unwrap().unwrap();
        assert!(bar.to_candle(&btc()).unwrap_err().contains("close 200"));
        let cases = [
            "",
            "{",
            "not json",
            "[]",
            r#"{"result":null,"id":1}"#,
            r#"{"stream":"x","data":{"e":"trade","E":1,"s":"BTCUSDT"}}"#,
            r#"{"stream":"x","data":{"e":"kline","s":"BTCUSDT","k":"oops"}}"#,
            r#"{"stream":"x","data":{"e":"kline","s":"BTCUSDT","k":{"t":1}}}"#,
            r#"{"data":{"e":"kl\"ine"}}"#,
        ];
        let mut owned: Vec<String> = cases.iter().map(|s| s.to_string()).collect();
        let base = closed(0, "101");
        owned.push(base.replace("\"t\":0,", ""));
        owned.push(base.replace("\"t\":0,", "\"t\":\"0\","));
        owned.push(base.replace("\"x\":true", "\"x\":1"));
        owned.push(base.replace("\"o\":\"100.5\"", "\"o\":\"-1\""));
        owned.push(base.replace("\"o\":\"100.5\"", "\"o\":\"1e3\""));
        owned.push(base.replace("\"s\":\"BTCUSDT\",\"i\"", "\"s\":\"ETHUSDT\",\"i\""));
        owned.push(format!("{base} trailing"));
        owned.push(base[..base.len() - 3].to_string());
        for text in &owned {
            assert!(parse_kline(text).is_err(), "{text}");
        }
        // Truncations at every byte are errors, never panics.
        for n in 0..base.len() {
            assert!(parse_kline(&base[..n]).is_err(), "{}", &base[..n]);
        }
        assert!(is_server_shutdown(r#"{"e":"serverShutdown","E":1}"#));
    }

    /// `base` with its first `from` replaced by `to`.
    fn with(base: &str, from: &str, to: &str) -> String {
        assert!(base.contains(from), "{from}");
        base.replacen(from, to, 1)
    }

    fn kind(text: &str) -> Option<KlineErrorKind> {
        parse_kline(text).err().map(|e| e.kind())
    }

    #[test]
    fn skipped_values_must_be_well_formed_json() {
        let base = closed(0, "101");
        for bad in [
            "tru",
            "nul",
            "fals",
            "truex",
            "[1,]",
            "[1}",
            r#"{"a":1]"#,
            r#"{"a"}"#,
            "{1:2}",
            "01",
            "-",
            "1.",
            "1e",
            ".5",
            "+1",
            r#""\q""#,
            r#""\u12""#,
            "\"a\nb\"",
            "NaN",
            "[[[[",
            "]",
        ] {
            let text = with(&base, r#""n":2"#, &format!(r#""n":{bad}"#));
            assert_eq!(kind(&text), Some(KlineErrorKind::Malformed), "{text}");
        }
        // Well-formed values of any kind and depth are skipped, brackets and quotes inside
        // strings included; a lone surrogate is fine in a string nobody reads (as in serde_json).
        let deep = format!("{}0{}", r#"[{"a":"#.repeat(300), "}]".repeat(300));
        for good in [
            "true",
            "null",
            "-0.5e-3",
            r#""\"}\\""#,
            r#""\uD800""#,
            r#"[1,{"a":[]},"]"]"#,
            &deep,
        ] {
            let text = with(&base, r#""n":2"#, &format!(r#""n":{good}"#));
            assert!(matches!(parse_kline(&text), Ok(Some(_))), "{text}");
        }
    }

    #[test]
    fn a_duplicated_field_is_refused_not_overwritten() {
        let base = closed(0, "101");
        for (from, to, field) in [
            (r#""c":"101""#, r#""c":"101","c":"102""#, "c"),
            (r#""x":true"#, r#""x":true,"x":false"#, "x"),
            (r#""e":"kline""#, r#""e":"kline","e":"kline""#, "e"),
            (r#""B":"0"}}"#, r#""B":"0"}},"data":{}"#, "data"),
        ] {
            let err = parse_kline(&with(&base, from, to)).unwrap_err();
            assert_eq!(err.kind(), KlineErrorKind::Shape);
            assert_eq!(err.to_string(), format!("duplicate field `{field}`"));
        }
        // Fields nobody reads may repeat, as serde_json allows.
        let repeated = with(&base, r#""n":2"#, r#""n":2,"n":3"#);
        assert!(parse_kline(&repeated).unwrap().is_some());
    }

    #[test]
    fn keys_are_decoded_and_borrowed_values_must_not_have_escapes() {
        let base = closed(0, "101");
        let spelled = with(
            &with(&base, r#""data""#, r#""\u0064ata""#),
            r#""c":"#,
            r#""\u0063":"#,
        );
        assert_eq!(parse_kline(&spelled).unwrap(), parse_kline(&base).unwrap());
        // An escaped quote or backslash does not end a string.
        let quoted = with(&base, r#""B":"0""#, r#""B\"":"\\""#);
        assert!(parse_kline(&quoted).unwrap().is_some());
        // The bar borrows its strings: an escape there is refused (serde's `&str` does too).
        let escaped = with(&base, r#""i":"1h""#, r#""i":"1\u0068""#);
        assert_eq!(kind(&escaped), Some(KlineErrorKind::Shape));
        // A key is read, so its escapes must be valid Unicode.
        let lone = with(&base, r#""n""#, r#""\uD800""#);
        assert_eq!(kind(&lone), Some(KlineErrorKind::Malformed));
    }

    #[test]
    fn times_are_read_as_serde_json_reads_an_i64() {
        use KlineErrorKind::{Malformed, Shape};
        let base = closed(0, "101");
        for (t, expected) in [
            ("-0", Shape),
            ("1.0", Shape),
            ("1e3", Shape),
            ("9223372036854775808", Shape),
            (r#""0""#, Shape),
            ("null", Shape),
            ("1e400", Malformed),
            ("01", Malformed),
            ("+1", Malformed),
            ("-", Malformed),
            ("0x10", Malformed),
        ] {
            let text = with(&base, r#""t":0,"#, &format!(r#""t":{t},"#));
            assert_eq!(kind(&text), Some(expected), "{text}");
        }
        let min = with(&base, r#""t":0,"#, r#""t":-9223372036854775808,"#);
        assert_eq!(parse_kline(&min).unwrap().unwrap().open_time, i64::MIN);
    }

    #[test]
    fn hostile_times_and_intervals_are_refused_without_overflow() {
        let base = closed(0, "101");
        let at_the_end = with(
            &with(
                &base,
                r#""t":0,"#,
                &format!(r#""t":{},"#, i64::MAX - 3_599_999),
            ),
            r#""T":3599999"#,
            &format!(r#""T":{}"#, i64::MAX),
        );
        let bar = parse_kline(&at_the_end).unwrap().unwrap();
        let candle = bar.to_candle(&btc()).unwrap();
        assert_eq!(candle.open_time.0, i64::MAX - 3_599_999);
        let backwards = with(&base, r#""T":3599999"#, &format!(r#""T":{}"#, i64::MIN));
        let bar = parse_kline(&backwards).unwrap().unwrap();
        assert!(bar.to_candle(&btc()).unwrap_err().contains("does not span"));
        let huge = with(&base, r#""i":"1h""#, r#""i":"99999999999999999w""#);
        let bar = parse_kline(&huge).unwrap().unwrap();
        assert!(bar
            .to_candle(&btc())
            .unwrap_err()
            .contains("unknown interval"));
    }

    #[test]
    fn every_refusal_has_its_kind() {
        use KlineErrorKind::{Malformed, NotKline, Shape, SymbolMismatch};
        let base = closed(0, "101");
        for (text, expected) in [
            (with(&base, r#""e":"kline""#, r#""e":"trade""#), NotKline),
            (
                with(&base, r#""s":"BTCUSDT","k""#, r#""s":"ETHUSDT","k""#),
                SymbolMismatch,
            ),
            (with(&base, r#""o":"100.5""#, r#""o":"1e3""#), Shape),
            (with(&base, r#""l":"90","#, ""), Shape),
            ("[]".to_string(), Shape),
            (format!("{base} trailing"), Malformed),
            (base[..base.len() - 1].to_string(), Malformed),
        ] {
            assert_eq!(kind(&text), Some(expected), "{text}");
        }
    }
}
