//! The frame as Binance sends it, read fast: compact (no whitespace), `stream` then `data`,
//! one-letter keys without escapes in the event and the kline (in any order), other members
//! plain scalars (strings without escapes, non-negative integers, `true`, `false`, `null`),
//! times of at most 16 digits and prices of at most 28. Such a frame is read in one pass
//! with no dispatch on layout, strings searched and digits read eight bytes at a time.
//!
//! This path only ever accepts: for anything else (whitespace, an escape, another layout, a
//! missing or repeated field, another event, a long number, anything malformed) it answers
//! `None` and the strict scanner reads the frame from the start and gives the answer. What
//! it accepts is a subset of the JSON the scanner accepts, read by the same rules into the
//! same values (the prices by the same [`decimal_prefix`]), so its answer is the scanner's;
//! `parse_props` checks that on frames laid out this way and on their mutations.

use rust_decimal::Decimal;

use super::decimal::decimal_prefix;
use super::digits::{digit_count, run};
use super::parse::ClosedKline;

/// `Some` with what [`parse_kline`](super::parse_kline) returns for a frame laid out as
/// Binance lays it out (a closed bar or `None` for an open one); `None` for any other text.
#[inline]
pub(super) fn common_frame(text: &str) -> Option<Option<ClosedKline<'_>>> {
    let mut c = Cursor {
        text,
        b: text.as_bytes(),
        i: 0,
    };
    let mut bar = ClosedKline::default();
    c.literal(b"{\"stream\":")?;
    c.string()?;
    c.literal(b",\"data\":")?;
    let (event, symbol, closed) = c.event(&mut bar)?;
    c.literal(b"}")?;
    let whole = c.i == text.len();
    (whole && event == "kline" && bar.symbol == symbol).then_some(closed.then_some(bar))
}

/// The position in a frame; every method answers `None` for what this path does not read.
struct Cursor<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
}

/// The kline's fields in the order of [`Cursor::kline`]'s `seen` bits.
const KLINE_FIELDS: u16 = (1 << 10) - 1;

impl<'a> Cursor<'a> {
    #[inline]
    fn literal<const N: usize>(&mut self, literal: &[u8; N]) -> Option<()> {
        let at = self.b.get(self.i..)?.first_chunk::<N>()?;
        (at == literal).then(|| self.i += N)
    }

    /// A member's key, `"K":` with `K` an ASCII letter or digit.
    #[inline]
    fn key(&mut self) -> Option<u8> {
        match *self.b.get(self.i..)?.first_chunk::<4>()? {
            [b'"', k, b'"', b':'] if k.is_ascii_alphanumeric() => {
                self.i += 4;
                Some(k)
            }
            _ => None,
        }
    }

    /// After a member: `true` past a comma (another member follows), `false` past the
    /// object's closing brace.
    #[inline]
    fn more(&mut self) -> Option<bool> {
        let more = match self.b.get(self.i)? {
            b',' => true,
            b'}' => false,
            _ => return None,
        };
        self.i += 1;
        Some(more)
    }

    /// A string without escapes or control characters.
    #[inline]
    fn string(&mut self) -> Option<&'a str> {
        if self.b.get(self.i) != Some(&b'"') {
            return None;
        }
        let start = self.i + 1;
        let end = plain_string_end(self.b, start)?;
        self.i = end + 1;
        // The quotes are ASCII, so these are character boundaries.
        self.text.get(start..end)
    }

    /// A non-negative integer of at most 16 digits, without a leading zero.
    #[inline]
    fn int(&mut self) -> Option<i64> {
        let (n, value) = run(self.b, self.i);
        let leading_zero = n > 1 && self.b[self.i] == b'0';
        let more = matches!(
            self.b.get(self.i + n),
            Some(b'0'..=b'9' | b'.' | b'e' | b'E')
        );
        if n == 0 || leading_zero || more {
            return None;
        }
        self.i += n;
        i64::try_from(value).ok()
    }

    /// Past a non-negative integer without a leading zero (of any length).
    #[inline]
    fn skip_int(&mut self) -> Option<()> {
        let n = digit_count(self.b, self.i);
        let leading_zero = n > 1 && self.b[self.i] == b'0';
        let more = matches!(self.b.get(self.i + n), Some(b'.' | b'e' | b'E'));
        if n == 0 || leading_zero || more {
            return None;
        }
        self.i += n;
        Some(())
    }

    /// A price: a string holding a short plain decimal.
    #[inline]
    fn decimal(&mut self) -> Option<Decimal> {
        if self.b.get(self.i) != Some(&b'"') {
            return None;
        }
        let (value, end) = decimal_prefix(self.b, self.i + 1)?;
        if self.b.get(end) != Some(&b'"') {
            return None;
        }
        self.i = end + 1;
        Some(value)
    }

    #[inline]
    fn boolean(&mut self) -> Option<bool> {
        if self.literal(b"true").is_some() {
            Some(true)
        } else {
            self.literal(b"false").map(|()| false)
        }
    }

    /// A member nobody reads: a plain scalar.
    #[inline]
    fn skip(&mut self) -> Option<()> {
        match self.b.get(self.i)? {
            b'"' => self.string().map(drop),
            b'0'..=b'9' => self.skip_int(),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => None,
        }
    }

    /// The `data` object: the event type, its symbol and whether the bar (read into `bar`)
    /// is closed.
    #[inline]
    fn event(&mut self, bar: &mut ClosedKline<'a>) -> Option<(&'a str, &'a str, bool)> {
        self.literal(b"{")?;
        let (mut event, mut symbol, mut closed) = (None, None, None);
        loop {
            match self.key()? {
                b'e' if event.is_none() => event = Some(self.string()?),
                b's' if symbol.is_none() => symbol = Some(self.string()?),
                b'k' if closed.is_none() => closed = Some(self.kline(bar)?),
                b'e' | b's' | b'k' => return None,
                _ => self.skip()?,
            }
            if !self.more()? {
                break;
            }
        }
        Some((event?, symbol?, closed?))
    }

    /// The kline object `k` into `bar`, and whether the bar is closed.
    #[inline]
    fn kline(&mut self, bar: &mut ClosedKline<'a>) -> Option<bool> {
        self.literal(b"{")?;
        let mut closed = false;
        let mut seen = 0u16;
        loop {
            let field = match self.key()? {
                b't' => 0,
                b'T' => 1,
                b's' => 2,
                b'i' => 3,
                b'o' => 4,
                b'h' => 5,
                b'l' => 6,
                b'c' => 7,
                b'v' => 8,
                b'x' => 9,
                _ => 10,
            };
            if field < 10 {
                if seen & (1 << field) != 0 {
                    return None;
                }
                seen |= 1 << field;
            }
            match field {
                0 => bar.open_time = self.int()?,
                1 => bar.close_time = self.int()?,
                2 => bar.symbol = self.string()?,
                3 => bar.interval = self.string()?,
                4..=8 => bar.values[field - 4] = self.decimal()?,
                9 => closed = self.boolean()?,
                _ => self.skip()?,
            }
            if !self.more()? {
                break;
            }
        }
        (seen == KLINE_FIELDS).then_some(closed)
    }
}

/// The index of the closing quote of the string whose contents start at `start`, if no
/// backslash or control character comes first; eight bytes at a time.
#[inline]
fn plain_string_end(b: &[u8], start: usize) -> Option<usize> {
    let mut j = start;
    while let Some(chunk) = b.get(j..)?.first_chunk::<8>() {
        let v = u64::from_le_bytes(*chunk);
        let special = equal_bytes(v, b'"') | equal_bytes(v, b'\\') | bytes_below(v, 0x20);
        if special != 0 {
            let at = j + (special.trailing_zeros() / 8) as usize;
            return (b[at] == b'"').then_some(at);
        }
        j += 8;
    }
    loop {
        match *b.get(j)? {
            b'"' => return Some(j),
            b'\\' | 0..=0x1f => return None,
            _ => j += 1,
        }
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `v` equal to `c`: exact up to the first such byte (the
/// classic "has a zero byte" test: a borrow only disturbs the bytes after a zero).
#[inline]
fn equal_bytes(v: u64, c: u8) -> u64 {
    let x = v ^ (ONES * u64::from(c));
    x.wrapping_sub(ONES) & !x & HIGH_BITS
}

/// The high bit of each byte of `v` below `n` (`n` <= 0x80): exact up to the first one.
#[inline]
fn bytes_below(v: u64, n: u8) -> u64 {
    v.wrapping_sub(ONES * u64::from(n)) & !v & HIGH_BITS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_strings_end_at_their_quote_unless_escaped_or_broken() {
        for (text, end) in [
            ("\"\"", Some(1)),
            ("\"BTCUSDT\",", Some(8)),
            ("\"btcusdt@kline_1h\",\"data\"", Some(17)),
            ("\"é€𝄞 \u{7f}abcdefghij\"", Some(22)),
            ("\"abcdefgh\\\"\"", None),
            ("\"a\\u0041\"", None),
            ("\"abcdefghijklm\nop\"", None),
            ("\"abc\u{1f}\"", None),
            ("\"abcdefghijklmnop", None),
            ("\"abc", None),
        ] {
            assert_eq!(plain_string_end(text.as_bytes(), 1), end, "{text:?}");
        }
    }

    #[test]
    fn the_common_frame_is_read_and_anything_else_left_to_the_scanner() {
        let base = super::super::parse::tests::closed(1_699_999_200_000, "101.25");
        let bar = common_frame(&base)
            .expect("the common layout")
            .expect("closed");
        assert_eq!(bar.values[3].to_string(), "101.25");
        assert_eq!(bar.open_time, 1_699_999_200_000);
        let open = base.replace("\"x\":true", "\"x\":false");
        assert_eq!(common_frame(&open), Some(None));
        for (from, to) in [
            ("{\"stream\"", " {\"stream\""),
            ("\"data\":{", "\"data\": {"),
            ("\"c\":\"101.25\"", "\"c\":\"101.25\",\"c\":\"101.25\""),
            ("\"c\":\"101.25\"", "\"\\u0063\":\"101.25\""),
            ("\"c\":\"101.25\"", "\"c\":\"1e3\""),
            ("\"n\":2", "\"n\":-2"),
            ("\"n\":2", "\"n\":2.0"),
            ("\"n\":2", "\"n\":02"),
            ("\"n\":2", "\"n\":[]"),
            ("\"n\":2", "\"id\":2"),
            ("\"B\":\"0\"", "\"B\":\"\\n\""),
            ("\"e\":\"kline\"", "\"e\":\"trade\""),
            ("\"s\":\"BTCUSDT\",\"k\"", "\"s\":\"ETHUSDT\",\"k\""),
            ("\"l\":\"90\",", ""),
            ("\"t\":1699999200000", "\"t\":12345678901234567"),
        ] {
            assert!(base.contains(from), "{from}");
            assert_eq!(common_frame(&base.replacen(from, to, 1)), None, "{to}");
        }
        assert_eq!(common_frame(&format!("{base} ")), None);
        for n in 0..base.len() {
            assert_eq!(common_frame(&base[..n]), None);
        }
    }
}
