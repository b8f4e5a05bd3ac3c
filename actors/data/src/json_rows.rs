//! A small, allocation-free reader for the one JSON shape market data comes in: an array of
//! flat arrays of scalars, e.g. `[[1512086400000, 9837.0, 9900.03, ...], ...]`.
//!
//! Numbers are handed out as their original text, so prices reach `Decimal` exactly, never
//! through `f64`. Python's `NaN`, `Infinity` and `-Infinity` are read as number text too, so
//! that a row holding them is rejected by the row checks rather than failing the whole file.

/// One value inside a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scalar<'a> {
    /// A number, as written (including `NaN`/`Infinity`).
    Number(&'a str),
    /// A string's contents, without the quotes (escapes are left as written).
    Text(&'a str),
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
}

impl<'a> Scalar<'a> {
    /// The text a field parser sees: a number's digits, a string's contents, or the keyword.
    pub(super) fn text(self) -> &'a str {
        match self {
            Scalar::Number(t) | Scalar::Text(t) => t,
            Scalar::Null => "null",
            Scalar::Bool(true) => "true",
            Scalar::Bool(false) => "false",
        }
    }
}

/// Malformed JSON structure: where it is and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SyntaxError {
    /// The 1-based row being read, if the error is inside or right before a row.
    pub row: Option<usize>,
    /// What is wrong, starting with `line L, column C`.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    Rows { first: bool },
    Done,
}

/// Reads the rows of `[[...], [...], ...]` one at a time.
pub(super) struct JsonRows<'a> {
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
    row: usize,
    state: State,
}

impl<'a> JsonRows<'a> {
    /// A reader over the whole file `text`.
    pub(super) fn new(text: &'a str) -> Self {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        Self {
            bytes: text.as_bytes(),
            text,
            pos: 0,
            row: 0,
            state: State::Start,
        }
    }

    /// Reads the next row's values into `out` (cleared first). `Ok(false)` after the last row.
    pub(super) fn next_row(&mut self, out: &mut Vec<Scalar<'a>>) -> Result<bool, SyntaxError> {
        out.clear();
        match self.state {
            State::Done => return Ok(false),
            State::Start => {
                self.skip_ws();
                self.expect(b'[', "`[` opening the array of rows")?;
                self.state = State::Rows { first: true };
            }
            State::Rows { .. } => {}
        }
        self.skip_ws();
        let first = self.state == State::Rows { first: true };
        match self.peek() {
            Some(b']') => return self.finish(),
            Some(b',') if !first => {
                self.pos += 1;
                self.skip_ws();
            }
            _ if first => {}
            _ => return Err(self.error_in_row(self.row, "expected `,` or `]` after a row")),
        }
        self.state = State::Rows { first: false };
        self.row += 1;
        let row = self.row;
        if self.peek() != Some(b'[') {
            return Err(self.error_in_row(row, "expected `[` starting a row"));
        }
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(true);
        }
        loop {
            let value = self.scalar(row)?;
            out.push(value);
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(true);
                }
                _ => return Err(self.error_in_row(row, "expected `,` or `]` after a value")),
            }
        }
    }

    fn finish(&mut self) -> Result<bool, SyntaxError> {
        self.pos += 1;
        self.skip_ws();
        if self.pos < self.bytes.len() {
            return Err(self.error_in_row(None, "unexpected text after the closing `]`"));
        }
        self.state = State::Done;
        Ok(false)
    }

    fn scalar(&mut self, row: usize) -> Result<Scalar<'a>, SyntaxError> {
        let start = self.pos;
        match self.peek() {
            Some(b'"') => {
                let mut i = start + 1;
                while i < self.bytes.len() {
                    match self.bytes[i] {
                        b'\\' => i += 2,
                        b'"' => {
                            self.pos = i + 1;
                            return Ok(Scalar::Text(&self.text[start + 1..i]));
                        }
                        _ => i += 1,
                    }
                }
                Err(self.error_in_row(row, "unterminated string"))
            }
            Some(b'-' | b'+' | b'.' | b'0'..=b'9') => {
                for word in ["-Infinity", "-NaN"] {
                    if self.text[start..].starts_with(word) {
                        self.pos += word.len();
                        return Ok(Scalar::Number(word));
                    }
                }
                let len = self.bytes[start..]
                    .iter()
                    .take_while(|b| matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                    .count();
                self.pos += len;
                Ok(Scalar::Number(&self.text[start..start + len]))
            }
            Some(b'[' | b'{') => {
                Err(self.error_in_row(row, "nested arrays or objects are not allowed inside a row"))
            }
            None => Err(self.error_in_row(row, "unexpected end of file")),
            Some(_) => {
                let rest = &self.text[start..];
                for (word, value) in [
                    ("null", Scalar::Null),
                    ("true", Scalar::Bool(true)),
                    ("false", Scalar::Bool(false)),
                    ("NaN", Scalar::Number("NaN")),
                    ("Infinity", Scalar::Number("Infinity")),
                ] {
                    if rest.starts_with(word) {
                        self.pos += word.len();
                        return Ok(value);
                    }
                }
                Err(self.error_in_row(row, "expected a value (number, string or null)"))
            }
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8, what: &str) -> Result<(), SyntaxError> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error_in_row(None, &format!("expected {what}")))
        }
    }

    fn error_in_row(&self, row: impl Into<Option<usize>>, what: &str) -> SyntaxError {
        let before = &self.bytes[..self.pos.min(self.bytes.len())];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1);
        let column = self.text[line_start..self.pos.min(self.text.len())]
            .chars()
            .count()
            + 1;
        let found = match self.text[self.pos.min(self.text.len())..].chars().next() {
            Some(c) => format!("found `{c}`"),
            None => "found the end of the file".to_string(),
        };
        SyntaxError {
            row: row.into().filter(|r| *r > 0),
            message: format!("line {line}, column {column}: {what}, {found}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Result<Vec<Vec<Scalar<'_>>>, SyntaxError> {
        let mut reader = JsonRows::new(text);
        let mut all = Vec::new();
        let mut buf = Vec::new();
        while reader.next_row(&mut buf)? {
            all.push(buf.clone());
        }
        Ok(all)
    }

    #[test]
    fn reads_numbers_as_written_and_other_scalars() {
        let got = rows(" [[1, 9720.03, \"1.5e-3\", null, NaN, -Infinity, true], []]\n").unwrap();
        assert_eq!(
            got,
            vec![
                vec![
                    Scalar::Number("1"),
                    Scalar::Number("9720.03"),
                    Scalar::Text("1.5e-3"),
                    Scalar::Null,
                    Scalar::Number("NaN"),
                    Scalar::Number("-Infinity"),
                    Scalar::Bool(true),
                ],
                vec![],
            ]
        );
        assert_eq!(rows("[]").unwrap().len(), 0);
    }

    #[test]
    fn malformed_structure_names_row_line_and_column() {
        let err = rows("[[1,2],\n [3 4]]").unwrap_err();
        assert_eq!(err.row, Some(2));
        assert_eq!(
            err.message,
            "line 2, column 5: expected `,` or `]` after a value, found `4`"
        );

        let err = rows("[[1,2],]").unwrap_err();
        assert_eq!(err.row, Some(2));
        assert!(
            err.message.contains("expected `[` starting a row"),
            "{}",
            err.message
        );

        let err = rows("[[1,2]").unwrap_err();
        assert!(
            err.message.contains("found the end of the file"),
            "{}",
            err.message
        );

        let err = rows("{\"a\": 1}").unwrap_err();
        assert_eq!(err.row, None);
        assert!(
            err.message.starts_with("line 1, column 1: expected `[`"),
            "{}",
            err.message
        );

        assert!(rows("[[1,[2]]]").unwrap_err().message.contains("nested"));
        assert!(rows("[[1]] x")
            .unwrap_err()
            .message
            .contains("after the closing"));
        assert!(rows("[[\"abc]]")
            .unwrap_err()
            .message
            .contains("unterminated"));
    }
}
