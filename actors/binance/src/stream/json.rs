//! The JSON under the kline parser: a cursor that reads a message in place, by serde_json's
//! rules (so the parser accepts what serde_json accepts): RFC 8259's grammar, a key or a
//! string that is read has its `\u` escapes pair surrogates, a skipped value may nest to any
//! depth, a number too large for an `f64` is malformed, and a value of the wrong type is
//! read first when it is a scalar (so malformed JSON is reported as such). It never panics
//! and allocates only for a key with escapes or a skipped value nested over 128 deep.

use std::borrow::Cow;
use std::fmt::Display;

use super::parse::{KlineError, KlineErrorKind};

#[cold]
pub(super) fn malformed(at: usize, what: impl Display) -> KlineError {
    KlineError::new(
        KlineErrorKind::Malformed,
        format!("malformed JSON at byte {at}: {what}"),
    )
}

#[cold]
pub(super) fn shape(message: String) -> KlineError {
    KlineError::new(KlineErrorKind::Shape, message)
}

/// A cursor over a message. Every method leaves `i` on a character boundary of `text` (all
/// the bytes it stops at are ASCII).
pub(super) struct Scanner<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Scanner<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Scanner {
            text,
            b: text.as_bytes(),
            i: 0,
        }
    }

    /// Checks that nothing but whitespace follows the value read.
    #[inline]
    pub(super) fn end(&mut self) -> Result<(), KlineError> {
        self.ws();
        if self.i == self.b.len() {
            Ok(())
        } else {
            Err(malformed(self.i, "unexpected text after the message"))
        }
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// Enters the object that must start here (`what` names it).
    #[inline]
    pub(super) fn open(&mut self, what: &str) -> Result<(), KlineError> {
        self.ws();
        if self.peek() == Some(b'{') {
            self.i += 1;
            Ok(())
        } else {
            Err(self.wrong_type(what, "an object"))
        }
    }

    /// The next key of the object entered (`first` until one is read), decoded if it has
    /// escapes; `None` after the object's closing brace.
    #[inline]
    pub(super) fn key(&mut self, first: &mut bool) -> Result<Option<Cow<'a, str>>, KlineError> {
        self.ws();
        match self.peek() {
            Some(b'}') => {
                self.i += 1;
                return Ok(None);
            }
            Some(b'"') if *first => {}
            Some(b',') if !*first => {
                self.i += 1;
                self.ws();
                match self.peek() {
                    Some(b'"') => {}
                    Some(b'}') => return Err(malformed(self.i, "trailing comma")),
                    Some(_) => return Err(malformed(self.i, "expected a key")),
                    None => return Err(malformed(self.i, "unexpected end of message")),
                }
            }
            Some(_) if *first => return Err(malformed(self.i, "expected a key")),
            Some(_) => return Err(malformed(self.i, "expected `,` or `}`")),
            None => return Err(malformed(self.i, "unexpected end of message")),
        }
        *first = false;
        // The common case first: one plain ASCII character (every key of a kline).
        let i = self.i;
        if let (Some(&[c, b'"']), Some(key)) =
            (self.b.get(i + 1..i + 3), self.text.get(i + 1..i + 2))
        {
            if (0x20..0x80).contains(&c) && c != b'"' && c != b'\\' {
                self.i = i + 3;
                return Ok(Some(Cow::Borrowed(key)));
            }
        }
        let (start, end, escaped) = self.string(true)?;
        let raw = &self.text[start..end];
        Ok(Some(if escaped {
            Cow::Owned(unescape(raw))
        } else {
            Cow::Borrowed(raw)
        }))
    }

    #[inline]
    pub(super) fn colon(&mut self) -> Result<(), KlineError> {
        self.ws();
        if self.peek() == Some(b':') {
            self.i += 1;
            Ok(())
        } else {
            Err(malformed(self.i, "expected `:`"))
        }
    }

    /// A string without escapes (the text is borrowed).
    #[inline]
    pub(super) fn string_value(&mut self, key: &str) -> Result<&'a str, KlineError> {
        self.ws();
        if self.peek() != Some(b'"') {
            return Err(self.wrong_type(key, "a string"));
        }
        let (start, end, escaped) = self.string(true)?;
        if escaped {
            return Err(shape(format!(
                "`{key}`: escaped characters are not expected"
            )));
        }
        Ok(&self.text[start..end])
    }

    /// An integer that fits an `i64`, as serde_json reads one: no fraction or exponent, no
    /// `-0` (a float to serde_json).
    #[inline]
    pub(super) fn int(&mut self, key: &str) -> Result<i64, KlineError> {
        self.ws();
        let start = self.i;
        let negative = self.peek() == Some(b'-');
        let digits = start + usize::from(negative);
        let mut j = digits;
        let mut value: u64 = 0;
        while let Some(&c @ b'0'..=b'9') = self.b.get(j) {
            match value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(c - b'0')))
            {
                Some(v) => value = v,
                None => return Err(self.wrong_type(key, "an integer")),
            }
            j += 1;
        }
        let leading_zero = j - digits > 1 && self.b[digits] == b'0';
        if j == digits || leading_zero || matches!(self.b.get(j), Some(b'.' | b'e' | b'E')) {
            return Err(self.wrong_type(key, "an integer"));
        }
        self.i = j;
        let value = if negative {
            // `-0` is a float to serde_json.
            (value != 0).then(|| i64::try_from(-i128::from(value)).ok())
        } else {
            Some(i64::try_from(value).ok())
        };
        value.flatten().ok_or_else(|| {
            shape(format!(
                "`{key}`: expected an i64, found {}",
                &self.text[start..j]
            ))
        })
    }

    #[inline]
    pub(super) fn boolean(&mut self, key: &str) -> Result<bool, KlineError> {
        self.ws();
        let rest = &self.b[self.i..];
        if rest.starts_with(b"true") {
            self.i += 4;
            Ok(true)
        } else if rest.starts_with(b"false") {
            self.i += 5;
            Ok(false)
        } else {
            Err(self.wrong_type(key, "true or false"))
        }
    }

    /// The error for the value here, which is not what `key` needs: as serde_json does, the
    /// value is read first when it is a scalar, so malformed JSON is reported as such (and
    /// so is a number too large for an `f64`); an array or object is a shape error at once.
    #[cold]
    #[inline(never)]
    fn wrong_type(&mut self, key: &str, expected: &str) -> KlineError {
        self.ws();
        let start = self.i;
        let read = match self.peek() {
            None => return malformed(start, "unexpected end of message"),
            Some(b'{') => Ok("an object"),
            Some(b'[') => Ok("an array"),
            Some(b'"') => self.string(true).map(|_| "a string"),
            Some(b't') => self.literal(b"true").map(|()| "true"),
            Some(b'f') => self.literal(b"false").map(|()| "false"),
            Some(b'n') => self.literal(b"null").map(|()| "null"),
            Some(b'-' | b'0'..=b'9') => self.number().and_then(|()| {
                let number = &self.text[start..self.i];
                match number.parse::<f64>() {
                    Ok(f) if f.is_finite() => Ok("a number"),
                    _ => Err(malformed(start, "number out of range")),
                }
            }),
            Some(_) => Err(malformed(start, "expected a value")),
        };
        match read {
            Ok(found) => {
                let excerpt: String = self.text[start..self.i].chars().take(40).collect();
                shape(format!(
                    "`{key}`: expected {expected}, found {found} `{excerpt}`"
                ))
            }
            Err(e) => e,
        }
    }

    /// The string whose opening quote is at `i`: its contents' bounds and whether it has
    /// escapes; moves past the closing quote. `strict` for a string that is read rather than
    /// skipped: as serde_json, its `\u` escapes must then pair surrogates properly.
    #[inline]
    fn string(&mut self, strict: bool) -> Result<(usize, usize, bool), KlineError> {
        let start = self.i + 1;
        let mut j = start;
        let mut escaped = false;
        loop {
            match self.b.get(j) {
                Some(b'"') => {
                    self.i = j + 1;
                    return Ok((start, j, escaped));
                }
                Some(b'\\') => {
                    escaped = true;
                    j = self.escape(j + 1, strict)?;
                }
                Some(0..=0x1f) => return Err(malformed(j, "control character in a string")),
                Some(_) => j += 1,
                None => return Err(malformed(self.i, "unterminated string")),
            }
        }
    }

    /// The index after the escape whose letter is at `j`.
    fn escape(&self, j: usize, strict: bool) -> Result<usize, KlineError> {
        match self.b.get(j) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(j + 1),
            Some(b'u') => {
                let unit = hex4(self.b, j + 1).ok_or_else(|| malformed(j, "invalid \\u escape"))?;
                if !strict {
                    return Ok(j + 5);
                }
                match unit {
                    0xDC00..=0xDFFF => Err(malformed(j, "lone surrogate in a \\u escape")),
                    0xD800..=0xDBFF => {
                        let pair = self.b.get(j + 5..j + 7) == Some(b"\\u")
                            && matches!(hex4(self.b, j + 7), Some(0xDC00..=0xDFFF));
                        if pair {
                            Ok(j + 11)
                        } else {
                            Err(malformed(j, "lone surrogate in a \\u escape"))
                        }
                    }
                    _ => Ok(j + 5),
                }
            }
            Some(_) => Err(malformed(j, "invalid escape")),
            None => Err(malformed(j, "unterminated string")),
        }
    }

    #[inline]
    fn literal(&mut self, word: &[u8]) -> Result<(), KlineError> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(malformed(self.i, "expected a value"))
        }
    }

    /// Moves past the JSON number here (`-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`).
    #[inline]
    fn number(&mut self) -> Result<(), KlineError> {
        let b = self.b;
        let digits = |mut j: usize| {
            while let Some(b'0'..=b'9') = b.get(j) {
                j += 1;
            }
            j
        };
        let mut j = self.i + usize::from(b.get(self.i) == Some(&b'-'));
        match b.get(j) {
            Some(b'0') if matches!(b.get(j + 1), Some(b'0'..=b'9')) => {
                return Err(malformed(j, "leading zero in a number"))
            }
            Some(b'0') => j += 1,
            Some(b'1'..=b'9') => j = digits(j + 1),
            _ => return Err(malformed(j, "invalid number")),
        }
        if b.get(j) == Some(&b'.') {
            let after = digits(j + 1);
            if after == j + 1 {
                return Err(malformed(j, "invalid number"));
            }
            j = after;
        }
        if let Some(b'e' | b'E') = b.get(j) {
            j += 1;
            if let Some(b'+' | b'-') = b.get(j) {
                j += 1;
            }
            let after = digits(j);
            if after == j {
                return Err(malformed(j, "invalid number"));
            }
            j = after;
        }
        self.i = j;
        Ok(())
    }

    /// Moves past the well-formed JSON value here, of any depth (as serde_json skips one).
    #[inline]
    pub(super) fn skip_value(&mut self) -> Result<(), KlineError> {
        // The common cases inline: a string or a number.
        self.ws();
        match self.peek() {
            Some(b'"') => self.string(false).map(drop),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => self.skip_any(),
        }
    }

    /// Moves past the well-formed JSON value here, of any depth.
    fn skip_any(&mut self) -> Result<(), KlineError> {
        let mut open = Open::default();
        loop {
            self.ws();
            match self.peek() {
                Some(b'"') => {
                    self.string(false)?;
                }
                Some(c @ (b'{' | b'[')) => {
                    self.i += 1;
                    self.ws();
                    let object = c == b'{';
                    if self.peek() == Some(if object { b'}' } else { b']' }) {
                        self.i += 1;
                    } else {
                        open.push(object);
                        if object {
                            self.member_key()?;
                        }
                        continue;
                    }
                }
                Some(b't') => self.literal(b"true")?,
                Some(b'f') => self.literal(b"false")?,
                Some(b'n') => self.literal(b"null")?,
                Some(b'-' | b'0'..=b'9') => self.number()?,
                Some(_) => return Err(malformed(self.i, "expected a value")),
                None => return Err(malformed(self.i, "unexpected end of message")),
            }
            // After a value: close the brackets it ends, or go on to the next value.
            loop {
                let Some(object) = open.top() else {
                    return Ok(());
                };
                self.ws();
                match self.peek() {
                    Some(b',') => {
                        self.i += 1;
                        if object {
                            self.member_key()?;
                        }
                        break;
                    }
                    Some(b'}') if object => {
                        self.i += 1;
                        open.pop();
                    }
                    Some(b']') if !object => {
                        self.i += 1;
                        open.pop();
                    }
                    Some(_) if object => return Err(malformed(self.i, "expected `,` or `}`")),
                    Some(_) => return Err(malformed(self.i, "expected `,` or `]`")),
                    None => return Err(malformed(self.i, "unexpected end of message")),
                }
            }
        }
    }

    /// A skipped object's next key and its colon.
    fn member_key(&mut self) -> Result<(), KlineError> {
        self.ws();
        if self.peek() != Some(b'"') {
            return Err(malformed(self.i, "expected a key"));
        }
        self.string(false)?;
        self.colon()
    }
}

/// The brackets a skipped value has open, innermost last (`true` for an object): a bit each
/// up to 128 levels, a `Vec` beyond (serde_json skips any depth, so this does too).
#[derive(Default)]
struct Open {
    depth: usize,
    bits: u128,
    deeper: Vec<bool>,
}

impl Open {
    fn push(&mut self, object: bool) {
        if self.depth < 128 {
            let bit = 1u128 << self.depth;
            self.bits = if object {
                self.bits | bit
            } else {
                self.bits & !bit
            };
        } else {
            self.deeper.push(object);
        }
        self.depth += 1;
    }

    fn top(&self) -> Option<bool> {
        match self.depth {
            0 => None,
            d if d <= 128 => Some((self.bits >> (d - 1)) & 1 == 1),
            _ => self.deeper.last().copied(),
        }
    }

    fn pop(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        if self.depth >= 128 {
            self.deeper.pop();
        }
    }
}

/// The four hex digits at `j`, as a UTF-16 code unit.
fn hex4(b: &[u8], j: usize) -> Option<u32> {
    b.get(j..j + 4)?.iter().try_fold(0u32, |n, &c| {
        let digit = (c as char).to_digit(16)?;
        Some(n << 4 | digit)
    })
}

/// A key's text with its escapes decoded (`string(strict)` has checked them).
#[cold]
fn unescape(raw: &str) -> String {
    let b = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    // `run` starts the text not copied yet; escapes are ASCII, so every index here is on a
    // character boundary.
    let (mut i, mut run) = (0, 0);
    while i < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        out.push_str(raw.get(run..i).unwrap_or_default());
        let (c, len) = match b.get(i + 1) {
            Some(b'u') => {
                let unit = hex4(b, i + 2).unwrap_or(0xFFFD);
                let low = match b.get(i + 6..i + 8) {
                    Some(b"\\u") => hex4(b, i + 8),
                    _ => None,
                };
                match (unit, low) {
                    (0xD800..=0xDBFF, Some(low @ 0xDC00..=0xDFFF)) => (
                        char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)),
                        12,
                    ),
                    _ => (char::from_u32(unit), 6),
                }
            }
            Some(b'b') => (Some('\u{8}'), 2),
            Some(b'f') => (Some('\u{c}'), 2),
            Some(b'n') => (Some('\n'), 2),
            Some(b'r') => (Some('\r'), 2),
            Some(b't') => (Some('\t'), 2),
            // `"`, `\` and `/` stand for themselves.
            Some(&c) => (Some(char::from(c)), 2),
            None => (None, 1),
        };
        out.push(c.unwrap_or('\u{FFFD}'));
        i = (i + len).min(b.len());
        run = i;
    }
    out.push_str(raw.get(run..).unwrap_or_default());
    out
}
