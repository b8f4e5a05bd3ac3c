//! A JSON writer for property tests: the same value rendered many valid ways (key order,
//! whitespace, string escapes), its choices drawn from a [`Rng`].

use super::Rng;

/// A JSON value. Numbers are kept as the text to write.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as the text to write.
    Num(String),
    /// A string, escaped when written.
    Str(String),
    /// An array.
    Arr(Vec<Json>),
    /// An object, its keys in the order to write them.
    Obj(Vec<(String, Json)>),
}

/// JSON whitespace, none most of the time.
fn space(rng: &mut Rng, out: &mut String) {
    if rng.one_in(3) {
        let space = *rng.pick(&[" ", "\n", "\t", "\r\n", "  ", "\n    "]);
        out.push_str(space);
    }
}

/// `text` as a JSON string, escaping what must be and, at random, other characters too.
pub fn write_str(text: &str, rng: &mut Rng, out: &mut String) {
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
    pub fn write(&self, rng: &mut Rng, out: &mut String) {
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
    pub fn render(&self, rng: &mut Rng) -> String {
        let mut out = String::new();
        space(rng, &mut out);
        self.write(rng, &mut out);
        space(rng, &mut out);
        out
    }

    /// This object with its keys shuffled (and every object inside it).
    pub fn shuffled(mut self, rng: &mut Rng) -> Json {
        match &mut self {
            Json::Obj(fields) => {
                rng.shuffle(fields);
                for (_, value) in fields.iter_mut() {
                    *value = std::mem::replace(value, Json::Null).shuffled(rng);
                }
            }
            Json::Arr(items) => {
                for item in items.iter_mut() {
                    *item = std::mem::replace(item, Json::Null).shuffled(rng);
                }
            }
            _ => {}
        }
        self
    }
}

/// A JSON number text for the finite `x`, in one of several exact forms (`0.5`, `5e-1`,
/// `5E-1`, `0.5000`, `5e+0`-style exponents).
pub fn number_text(x: f64, rng: &mut Rng) -> String {
    match rng.below(5) {
        0 => format!("{x}"),
        1 => format!("{x:e}"),
        2 => format!("{x:E}"),
        3 => {
            let plain = format!("{x}");
            if plain.contains('.') {
                format!("{plain}000")
            } else {
                format!("{plain}.0")
            }
        }
        _ => {
            let sci = format!("{x:e}");
            match sci.split_once('e') {
                Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp}"),
                _ => sci,
            }
        }
    }
}

/// Arbitrary JSON (for extra fields), at most `depth` levels deep.
pub fn arbitrary(rng: &mut Rng, depth: usize) -> Json {
    let pick = if depth == 0 {
        rng.below(4)
    } else {
        rng.below(6)
    };
    match pick {
        0 => Json::Null,
        1 => Json::Bool(rng.one_in(2)),
        // Numbers a reader of ignored fields must skip: plain ones in every exact form, and
        // now and then one beyond every float or integer type.
        2 if rng.one_in(4) => Json::Num(
            rng.pick(&["1e300", "-1e-300", "123456789012345678901234567890"])
                .to_string(),
        ),
        2 => Json::Num(number_text(f64::from_bits(rng.next() >> 2) % 1e6, rng)),
        3 => Json::Str(text(rng, 12)),
        4 => Json::Arr(
            (0..rng.below(4))
                .map(|_| arbitrary(rng, depth - 1))
                .collect(),
        ),
        _ => Json::Obj(
            (0..rng.below(4))
                .map(|i| (format!("k{i}"), arbitrary(rng, depth - 1)))
                .collect(),
        ),
    }
}

/// Up to `max` characters of mixed text: ASCII, JSON specials, controls, accents, emoji.
pub fn text(rng: &mut Rng, max: usize) -> String {
    const CHARS: &[char] = &[
        'a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\t', '\u{1}', '\u{1f}', 'é', 'ß', '€', '—',
        '\u{2028}', '\u{feff}', '😀', '{', '}', '[', ']', ',', ':', '<', '&',
    ];
    (0..rng.below(max + 1)).map(|_| *rng.pick(CHARS)).collect()
}
