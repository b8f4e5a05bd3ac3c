//! The stream's hot path: a combined-stream kline message to its closed bar.
//!
//! A small scanner reads the JSON objects in place (no allocation, no tree): only the fields
//! a candle needs are decoded, prices straight from their strings into `Decimal`. Field
//! order does not matter; unknown fields are skipped; anything that is not well-formed JSON
//! of the expected shape is an error naming the problem (never a panic). The result agrees
//! with the serde types of [`wire`](crate::wire) (tested).

use std::str::FromStr;

use rust_decimal::Decimal;

use crate::model::check_ohlcv;
use crate::model::{Candle, Interval, Symbol, Timestamp};

/// A closed kline as the stream sent it, borrowing the message's text.
#[derive(Debug, Clone, PartialEq)]
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
        if self.close_time + 1 - self.open_time != interval.millis() {
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

/// Parses one combined-stream message (`{"stream":..,"data":{"e":"kline",..,"k":{..}}}`):
/// `Ok(Some(bar))` for a closed bar (`x == true`), `Ok(None)` for a bar still open, and an
/// error naming the problem for anything else (not a kline, malformed JSON, a missing field,
/// a price that is not a decimal such as `"NaN"`).
pub fn parse_kline(text: &str) -> Result<Option<ClosedKline<'_>>, String> {
    let (mut event, mut symbol) = (None, None);
    let mut bar = ClosedKline {
        symbol: "",
        interval: "",
        open_time: 0,
        close_time: 0,
        values: [Decimal::ZERO; 5],
    };
    let mut seen = 0u16;
    let mut closed = false;
    let mut has_data = false;
    let mut has_kline = false;
    let end = object(text, skip_ws(text.as_bytes(), 0), &mut |key, i| {
        if key != "data" {
            return skip_value(text, i);
        }
        has_data = true;
        object(text, i, &mut |key, i| match key {
            "e" => string_at(text, i).map(|(s, next)| {
                event = Some(s);
                next
            }),
            "s" => string_at(text, i).map(|(s, next)| {
                symbol = Some(s);
                next
            }),
            "k" => {
                has_kline = true;
                object(text, i, &mut |key, i| {
                    let bit = match key {
                        "t" | "T" | "s" | "i" | "o" | "h" | "l" | "c" | "v" | "x" => {
                            KLINE_KEYS.iter().position(|k| *k == key).unwrap_or(0)
                        }
                        _ => return skip_value(text, i),
                    };
                    let (value, next) = value_at(text, i)?;
                    match bit {
                        0 => bar.open_time = value.int()?,
                        1 => bar.close_time = value.int()?,
                        2 => bar.symbol = value.string()?,
                        3 => bar.interval = value.string()?,
                        4..=8 => bar.values[bit - 4] = value.decimal(key)?,
                        _ => closed = value.boolean()?,
                    }
                    seen |= 1 << bit;
                    Ok(next)
                })
            }
            _ => skip_value(text, i),
        })
    })?;
    trailing(text.as_bytes(), end)?;
    if !has_data {
        return Err("no `data` field".into());
    }
    match event {
        Some("kline") => {}
        Some(other) => return Err(format!("event `{other}` is not a kline")),
        None => return Err("no event type `e`".into()),
    }
    let symbol = symbol.ok_or("no symbol `s`")?;
    if !has_kline {
        return Err("no kline `k`".into());
    }
    if seen != (1 << KLINE_KEYS.len()) - 1 {
        let missing: Vec<&str> = KLINE_KEYS
            .iter()
            .enumerate()
            .filter(|(i, _)| seen & (1 << i) == 0)
            .map(|(_, k)| *k)
            .collect();
        return Err(format!("the kline lacks {}", missing.join(", ")));
    }
    if bar.symbol != symbol {
        return Err(format!(
            "the bar's symbol {} differs from the event's {symbol}",
            bar.symbol
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

/// One JSON value's text: a string's contents (no escapes), an object or array with its
/// brackets, or a scalar's token.
#[derive(Debug, Clone, Copy)]
struct Value<'a> {
    text: &'a str,
    quoted: bool,
}

impl<'a> Value<'a> {
    fn string(self) -> Result<&'a str, String> {
        if self.quoted {
            Ok(self.text)
        } else {
            Err(format!("expected a string, found `{}`", self.text))
        }
    }

    fn int(self) -> Result<i64, String> {
        if self.quoted {
            return Err(format!("expected an integer, found \"{}\"", self.text));
        }
        self.text
            .parse()
            .map_err(|_| format!("expected an integer, found `{}`", self.text))
    }

    fn boolean(self) -> Result<bool, String> {
        match (self.quoted, self.text) {
            (false, "true") => Ok(true),
            (false, "false") => Ok(false),
            _ => Err(format!("expected true or false, found `{}`", self.text)),
        }
    }

    fn decimal(self, key: &str) -> Result<Decimal, String> {
        parse_decimal(self.text).ok_or_else(|| format!("`{key}`: `{}` is not a decimal", self.text))
    }
}

/// A plain non-negative decimal (`digits[.digits]`): up to 18 significant digits are read
/// straight into a mantissa (the common case, ~10 ns); longer ones through `Decimal`'s own
/// parser. Signs, exponents, `NaN` and empty text are refused.
fn parse_decimal(t: &str) -> Option<Decimal> {
    let b = t.as_bytes();
    let mut mantissa: u64 = 0;
    let mut digits = 0u32;
    let mut scale: Option<u32> = None;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'0'..=b'9' => {
                mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
                digits += 1;
                if let Some(s) = scale.as_mut() {
                    *s += 1;
                }
            }
            b'.' if scale.is_none() && i > 0 && i + 1 < b.len() => scale = Some(0),
            _ => return None,
        }
    }
    if digits == 0 {
        return None;
    }
    let scale = scale.unwrap_or(0);
    if digits <= 18 && scale <= 28 {
        Some(Decimal::from_i128_with_scale(i128::from(mantissa), scale))
    } else {
        Decimal::from_str(t).ok()
    }
}

/// Reads the JSON object starting at `i`, calling `f(key, value_start)` for each field; `f`
/// reads the value and returns the index after it. Returns the index after the object.
fn object<'a>(
    text: &'a str,
    i: usize,
    f: &mut dyn FnMut(&'a str, usize) -> Result<usize, String>,
) -> Result<usize, String> {
    let b = text.as_bytes();
    let mut i = i;
    if b.get(i) != Some(&b'{') {
        return Err(format!("expected `{{` at byte {i}"));
    }
    i = skip_ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        return Ok(i + 1);
    }
    loop {
        let (key, next) = string_at(text, i)?;
        i = skip_ws(b, next);
        if b.get(i) != Some(&b':') {
            return Err(format!("expected `:` after \"{key}\" at byte {i}"));
        }
        i = skip_ws(b, i + 1);
        i = skip_ws(b, f(key, i)?);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return Ok(i + 1),
            _ => return Err(format!("expected `,` or `}}` at byte {i}")),
        }
    }
}

/// The index after the value starting at `i`.
fn skip_value(text: &str, i: usize) -> Result<usize, String> {
    value_at(text, i).map(|(_, next)| next)
}

fn trailing(b: &[u8], i: usize) -> Result<(), String> {
    if skip_ws(b, i) == b.len() {
        Ok(())
    } else {
        Err(format!("unexpected text after the object at byte {i}"))
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\n' | b'\r' | b'\t') {
        i += 1;
    }
    i
}

/// The string starting at `i` (which must be `"`), without escapes, and the index after it.
fn string_at(text: &str, i: usize) -> Result<(&str, usize), String> {
    let b = text.as_bytes();
    if b.get(i) != Some(&b'"') {
        return Err(format!("expected a string at byte {i}"));
    }
    let rest = &b[i + 1..];
    let len = rest
        .iter()
        .position(|&c| c == b'"')
        .ok_or_else(|| format!("unterminated string at byte {i}"))?;
    // Market data has no escapes; one right before the quote would hide the string's end.
    if len > 0 && rest[len - 1] == b'\\' {
        return Err(format!("escaped characters are not expected (byte {i})"));
    }
    Ok((&text[i + 1..i + 1 + len], i + len + 2))
}

/// The value starting at `i`, and the index after it.
fn value_at(text: &str, i: usize) -> Result<(Value<'_>, usize), String> {
    let b = text.as_bytes();
    match b.get(i) {
        Some(b'"') => {
            let (s, next) = string_at(text, i)?;
            Ok((
                Value {
                    text: s,
                    quoted: true,
                },
                next,
            ))
        }
        Some(b'{') | Some(b'[') => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok((
                                Value {
                                    text: &text[i..=j],
                                    quoted: false,
                                },
                                j + 1,
                            ));
                        }
                    }
                    b'"' => {
                        let (_, next) = string_at(text, j)?;
                        j = next;
                        continue;
                    }
                    _ => {}
                }
                j += 1;
            }
            Err(format!("unterminated object or array at byte {i}"))
        }
        Some(_) => {
            let end = b[i..]
                .iter()
                .position(|&c| matches!(c, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t'))
                .map_or(b.len(), |n| i + n);
            if end == i {
                return Err(format!("expected a value at byte {i}"));
            }
            Ok((
                Value {
                    text: &text[i..end],
                    quoted: false,
                },
                end,
            ))
        }
        None => Err("unexpected end of message".into()),
    }
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
    fn decimals_read_exactly_on_both_paths() {
        for t in [
            "0",
            "7",
            "43127.01000000",
            "0.00000001",
            "123456789012345678",
            "1.5",
        ] {
            assert_eq!(parse_decimal(t), Some(Decimal::from_str(t).unwrap()), "{t}");
            assert_eq!(parse_decimal(t).unwrap().to_string(), t);
        }
        let long = "12345678901234567890.123456789";
        assert_eq!(parse_decimal(long), Some(Decimal::from_str(long).unwrap()));
        for bad in [
            "", ".", "1.", ".5", "1.2.3", "-1", "+1", "1e3", "NaN", "inf", "1 ",
        ] {
            assert_eq!(parse_decimal(bad), None, "{bad}");
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
}
