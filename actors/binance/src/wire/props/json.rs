//! A JSON writer for property tests: the same value rendered many valid ways (key order,
//! whitespace, string escapes), and a small deterministic random source to pick them.
//! (The same writer as keel-news's `testing::json`, kept here so the crates stay apart.)

/// A JSON value. Numbers are kept as the text to write.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Json {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

/// xorshift64*: the choices of one rendering, from one seed proptest generates.
#[derive(Debug, Clone)]
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n` (n > 0).
    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True one time in `n`.
    pub(super) fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub(super) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// JSON whitespace, none most of the time.
fn space(rng: &mut Rng, out: &mut String) {
    if rng.one_in(3) {
        let space = *rng.pick(&[" ", "\n", "\t", "\r\n", "  ", "\n    "]);
        out.push_str(space);
    }
}

/// `text` as a JSON string, escaping what must be and, at random, other characters too.
pub(super) fn write_str(text: &str, rng: &mut Rng, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' if rng.one_in(2) => out.push_str("\\n"),
            '\t' if rng.one_in(2) => out.push_str("\\t"),
            '/' if rng.one_in(2) => out.push_str("\\/"),
            c if (c as u32) < 0x20 || rng.one_in(8) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    if rng.one_in(2) {
                        out.push_str(&format!("\\u{unit:04x}"));
                    } else {
                        out.push_str(&format!("\\u{unit:04X}"));
                    }
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl Json {
    /// Renders with random whitespace and escapes, object keys in the order given.
    pub(super) fn write(&self, rng: &mut Rng, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Num(n) => out.push_str(n),
            Json::Str(s) => write_str(s, rng, out),
            Json::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    space(rng, out);
                    item.write(rng, out);
                    space(rng, out);
                }
                out.push(']');
            }
            Json::Obj(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    space(rng, out);
                    write_str(key, rng, out);
                    space(rng, out);
                    out.push(':');
                    space(rng, out);
                    value.write(rng, out);
                    space(rng, out);
                }
                out.push('}');
            }
        }
    }

    /// Rendered, with whitespace around.
    pub(super) fn render(&self, rng: &mut Rng) -> String {
        let mut out = String::new();
        space(rng, &mut out);
        self.write(rng, &mut out);
        space(rng, &mut out);
        out
    }
}
