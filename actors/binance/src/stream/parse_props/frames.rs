//! The generators: Binance kline frames laid out every valid way, the same frames mutated,
//! and arbitrary text.

use proptest::prelude::*;
use proptest::sample::{select, Index};

/// A JSON value: a scalar token as written, or an array or object to lay out.
#[derive(Debug, Clone)]
enum Json {
    Token(String),
    Array(Vec<Json>),
    /// Members with their keys as written (quotes and escapes included).
    Object(Vec<(String, Json)>),
}

fn token(t: impl Into<String>) -> Json {
    Json::Token(t.into())
}

const WHITESPACE: [&str; 8] = ["", "", "", "", " ", "\n", "\t", "\r\n  "];

impl Json {
    /// The text, with the whitespace around tokens drawn in turn from `ws`.
    fn render(&self, ws: &[u8]) -> String {
        let mut out = String::new();
        let mut next = 0;
        let mut space = |out: &mut String| {
            if let Some(&w) = ws.get(next % ws.len().max(1)) {
                out.push_str(WHITESPACE[usize::from(w) % WHITESPACE.len()]);
            }
            next += 1;
        };
        space(&mut out);
        self.write(&mut out, &mut space);
        space(&mut out);
        out
    }

    fn write(&self, out: &mut String, space: &mut impl FnMut(&mut String)) {
        match self {
            Json::Token(t) => out.push_str(t),
            Json::Array(items) => {
                out.push('[');
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    space(out);
                    item.write(out, space);
                    space(out);
                }
                out.push(']');
            }
            Json::Object(members) => {
                out.push('{');
                for (n, (key, value)) in members.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    space(out);
                    out.push_str(key);
                    space(out);
                    out.push(':');
                    space(out);
                    value.write(out, space);
                    space(out);
                }
                out.push('}');
            }
        }
    }
}

/// A key as written: mostly plain, sometimes every character spelled as a `\u` escape.
fn key(name: &'static str) -> BoxedStrategy<String> {
    prop_oneof![
        12 => Just(format!("\"{name}\"")),
        1 => any::<bool>().prop_map(move |upper| {
            let escaped: String = name
                .chars()
                .map(|c| if upper { format!("\\u{:04X}", c as u32) } else { format!("\\u{:04x}", c as u32) })
                .collect();
            format!("\"{escaped}\"")
        }),
    ]
    .boxed()
}

/// A piece of a string's contents; `lone` allows lone surrogates (fine in a skipped string,
/// malformed in a key or a string serde_json reads).
fn string_piece(lone: bool) -> BoxedStrategy<String> {
    let pieces = prop_oneof![
        8 => "[a-zA-Z0-9 @._-]{1,6}",
        1 => select(vec!["é", "€", "𝄞", "日本", "\u{7f}"]).prop_map(String::from),
        2 => select(vec![r#"\""#, r"\\", r"\/", r"\b", r"\f", r"\n", r"\r", r"\t"]).prop_map(String::from),
        1 => (0u32..0xD800).prop_map(|u| format!("\\u{u:04x}")),
        1 => (0xE000u32..=0xFFFF).prop_map(|u| format!("\\u{u:04X}")),
        1 => (0xD800u32..0xDC00, 0xDC00u32..0xE000).prop_map(|(h, l)| format!("\\u{h:04x}\\u{l:04X}")),
    ];
    if !lone {
        return pieces.boxed();
    }
    let lone = select(vec![
        r"\uD800",
        r"\udfff",
        r"\uDBFFx",
        r"\uD800\n",
        r"\uD800\u0041",
    ]);
    prop_oneof![14 => pieces, 1 => lone.prop_map(String::from)].boxed()
}

/// A string token, quotes included (see [`string_piece`] for `lone`).
fn string_token(lone: bool) -> BoxedStrategy<String> {
    prop::collection::vec(string_piece(lone), 0..6)
        .prop_map(|pieces| format!("\"{}\"", pieces.concat()))
        .boxed()
}

/// A number token: any JSON number, with huge, tiny and odd ones.
fn number_token() -> BoxedStrategy<String> {
    let exponent = (
        select(vec!["e", "E"]),
        select(vec!["", "+", "-"]),
        0u32..420,
    )
        .prop_map(|(e, sign, n)| format!("{e}{sign}{n}"));
    prop_oneof![
        6 => (
            any::<bool>(),
            prop_oneof![Just("0".to_string()), "[1-9][0-9]{0,24}"],
            proptest::option::of("[0-9]{1,20}"),
            proptest::option::weighted(0.3, exponent),
        )
            .prop_map(|(negative, int, frac, exp)| {
                format!(
                    "{}{int}{}{}",
                    if negative { "-" } else { "" },
                    frac.map(|f| format!(".{f}")).unwrap_or_default(),
                    exp.unwrap_or_default()
                )
            }),
        1 => select(vec![
            "0", "-0", "0.0", "1e400", "-1e400", "1e-400", "0e999", "1e308", "2e308",
            "9223372036854775807", "9223372036854775808", "-9223372036854775808",
            "-9223372036854775809", "18446744073709551615", "18446744073709551616",
            "123456789012345678901234567890", "1E+2", "1e-0",
        ])
        .prop_map(String::from),
        1 => (300usize..320).prop_map(|n| format!("1{}", "0".repeat(n))),
    ]
    .boxed()
}

/// Any JSON value, nested, with deep arrays and objects now and then.
fn any_json() -> BoxedStrategy<Json> {
    let leaf = prop_oneof![
        Just(token("null")),
        Just(token("true")),
        Just(token("false")),
        number_token().prop_map(Json::Token),
        string_token(true).prop_map(Json::Token),
    ];
    prop_oneof![
        12 => leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
                prop::collection::vec((string_token(true), inner), 0..4).prop_map(Json::Object),
            ]
        }),
        1 => (1usize..300, any::<bool>()).prop_map(|(depth, objects)| {
            if objects {
                token(format!("{}1{}", "{\"a\":[".repeat(depth), "]}".repeat(depth)))
            } else {
                token(format!("{}{}", "[".repeat(depth), "]".repeat(depth)))
            }
        }),
    ]
    .boxed()
}

/// A value of the wrong type for any field the scanner reads.
fn stray_value() -> BoxedStrategy<Json> {
    prop_oneof![
        Just(token("null")),
        Just(token("true")),
        Just(token("{}")),
        Just(token("[]")),
        Just(token("[1]")),
        Just(token(r#""123""#)),
        number_token().prop_map(Json::Token),
        string_token(true).prop_map(Json::Token),
    ]
    .boxed()
}

/// A field's value: mostly `usual`, sometimes anything at all.
fn or_stray(usual: impl Strategy<Value = Json> + 'static) -> BoxedStrategy<Json> {
    prop_oneof![80 => usual, 1 => stray_value()].boxed()
}

fn millis(ms: i64) -> BoxedStrategy<Json> {
    prop_oneof![60 => Just(token(ms.to_string())), 1 => number_token().prop_map(Json::Token)]
        .boxed()
}

/// `digits` with `scale` of them after the point.
fn decimal_text(mantissa: u128, scale: u32) -> String {
    let digits = mantissa.to_string();
    let scale = scale as usize;
    if scale == 0 {
        return digits;
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{int}.{frac}")
}

/// A price token that may be anything a sloppy or hostile sender could put there.
fn wild_price() -> BoxedStrategy<Json> {
    prop_oneof![
        4 => "[0-9]{1,32}(\\.[0-9]{1,32})?".prop_map(|t| token(format!("\"{t}\""))),
        2 => select(vec![
            r#""1e3""#, r#""-1""#, r#""+1""#, r#""NaN""#, r#""""#, r#"".5""#, r#""1.""#,
            r#""1_000""#, r#""1.2.3""#, r#"" 1""#, r#""1\u0030""#, r#""0""#, "100.5",
            r#""79228162514264337593543950335""#, r#""79228162514264337593543950336""#,
            r#""0.0000000000000000000000000001""#, r#""0.00000000000000000000000000001""#,
            r#""000043127.01000000""#, r#""0.00000000""#, r#""-0""#, r#""00""#, r#""1.0.""#,
            r#""1.0000000000000000""#, r#""1.00000000000000000""#, r#""12345678901234567.5""#,
            r#""1234567890123456.123456789012""#, r#""1234567890123456.1234567890123""#,
            r#""9999999999999999.999999999999""#, r#""1.5 ""#, r#""1\u002e5""#, r#""1\"""#,
        ])
        .prop_map(token),
        1 => stray_value(),
    ]
    .boxed()
}

/// Open, high, low, close and volume: mostly a consistent bar (mostly within the prices keel
/// trades, 10^-8 to 10^10, sometimes at any magnitude and scale), sometimes anything.
fn prices() -> BoxedStrategy<[Json; 5]> {
    let consistent = (
        prop_oneof![9 => 10_000u128..100_000_000_000_000, 1 => 1u128..10u128.pow(27)],
        prop_oneof![9 => 4u32..=12, 1 => 0u32..=28],
        (0u128..1_000_000, 0u128..1_000_000, 0u128..1_000_000),
        0u128..10u128.pow(20),
    )
        .prop_map(|(low, scale, (a, b, c), volume)| {
            let quote = |m: u128| token(format!("\"{}\"", decimal_text(m, scale)));
            [
                quote(low + a),
                quote(low + a.max(b) + c),
                quote(low),
                quote(low + b),
                quote(volume),
            ]
        });
    prop_oneof![
        20 => consistent,
        1 => [wild_price(), wild_price(), wild_price(), wild_price(), wild_price()],
    ]
    .boxed()
}

/// A member or, now and then, none or two of them (serde_json refuses both).
fn member(name: &'static str, value: BoxedStrategy<Json>) -> BoxedStrategy<Vec<(String, Json)>> {
    prop_oneof![
        198 => (key(name), value.clone()).prop_map(|m| vec![m]),
        1 => Just(Vec::new()),
        1 => ((key(name), value.clone()), (key(name), value)).prop_map(|(a, b)| vec![a, b]),
    ]
    .boxed()
}

/// A member the scanner skips: the other Binance fields, or anything.
fn extra_member() -> BoxedStrategy<(String, Json)> {
    let key = prop_oneof![
        2 => select(vec![r#""E""#, r#""f""#, r#""L""#, r#""n""#, r#""q""#, r#""V""#, r#""Q""#, r#""B""#, r#""id""#, r#""\u0045""#])
            .prop_map(String::from),
        1 => string_token(false),
    ];
    (key, any_json()).boxed()
}

/// An object of `members` and up to three extras, in random order.
fn object(members: Vec<BoxedStrategy<Vec<(String, Json)>>>) -> BoxedStrategy<Json> {
    (members, prop::collection::vec(extra_member(), 0..4))
        .prop_flat_map(|(members, extras)| {
            let all: Vec<(String, Json)> = members.into_iter().flatten().chain(extras).collect();
            Just(all).prop_shuffle()
        })
        .prop_map(Json::Object)
        .boxed()
}

fn symbol(usual: &'static str) -> BoxedStrategy<Json> {
    prop_oneof![
        120 => Just(token(format!("\"{usual}\""))),
        1 => Just(token(r#""ETHUSDT""#)),
        1 => Just(token(r#""BTC\u0055SDT""#)),
        1 => stray_value(),
    ]
    .boxed()
}

/// The kline object `k`.
fn kline() -> BoxedStrategy<Json> {
    let interval = prop_oneof![
        20 => select(vec![("1s", 1_000i64), ("1m", 60_000), ("15m", 900_000), ("1h", 3_600_000), ("4h", 14_400_000), ("1d", 86_400_000), ("1w", 604_800_000)]),
        1 => select(vec![("0h", 0), ("7x", 1), ("99999999999999999w", 1), (" 1h", 3_600_000), ("", 1), ("1H", 3_600_000)]),
    ];
    (
        interval,
        0i64..2_000_000_000_000,
        prop::bool::weighted(0.95),
        -5i64..5,
        prices(),
    )
        .prop_flat_map(|((name, ms), open, spans, skew, [o, h, l, c, v])| {
            let close = if spans {
                open + ms - 1
            } else {
                open + ms + skew
            };
            let closed = prop_oneof![
                40 => Just(token("true")),
                10 => Just(token("false")),
                1 => stray_value(),
            ];
            object(vec![
                member("t", millis(open)),
                member("T", millis(close)),
                member("s", symbol("BTCUSDT")),
                member("i", or_stray(Just(token(format!("\"{name}\""))))),
                member("o", Just(o).boxed()),
                member("h", Just(h).boxed()),
                member("l", Just(l).boxed()),
                member("c", Just(c).boxed()),
                member("v", Just(v).boxed()),
                member("x", closed.boxed()),
            ])
        })
        .boxed()
}

/// A whole combined-stream frame.
fn frame() -> BoxedStrategy<Json> {
    let event_type = prop_oneof![
        60 => Just(token(r#""kline""#)),
        1 => Just(token(r#""trade""#)),
        1 => Just(token(r#""k\u006cine""#)),
        1 => stray_value(),
    ];
    let event = object(vec![
        member("e", event_type.boxed()),
        member("E", millis(1_700_000_000_000)),
        member("s", symbol("BTCUSDT")),
        member("k", kline()),
    ]);
    object(vec![
        member("stream", Just(token(r#""btcusdt@kline_1h""#)).boxed()),
        member("data", or_stray(event)),
    ])
}

/// A frame laid out with random whitespace.
pub(super) fn frame_text() -> BoxedStrategy<String> {
    (frame(), prop::collection::vec(any::<u8>(), 0..16))
        .prop_map(|(frame, ws)| frame.render(&ws))
        .boxed()
}

/// A member as Binance sends it, its key now and then escaped, the member now and then
/// missing or doubled: each rarer than in [`member`], as a frame has many members.
fn binance_member(
    name: &'static str,
    value: BoxedStrategy<Json>,
) -> BoxedStrategy<Vec<(String, Json)>> {
    let key = prop_oneof![300 => Just(format!("\"{name}\"")), 1 => key(name)];
    prop_oneof![
        800 => (key, value.clone()).prop_map(|m| vec![m]),
        1 => Just(Vec::new()),
        1 => ((Just(format!("\"{name}\"")), value.clone()), (Just(format!("\"{name}\"")), value)).prop_map(|(a, b)| vec![a, b]),
    ]
    .boxed()
}

/// An object of `members` in the order given, with no extras.
fn ordered_object(members: Vec<BoxedStrategy<Vec<(String, Json)>>>) -> BoxedStrategy<Json> {
    members
        .prop_map(|members| Json::Object(members.into_iter().flatten().collect()))
        .boxed()
}

/// A member Binance sends and keel skips: mostly as Binance sends it (an integer, or a
/// decimal in a string), sometimes any number, string or value at all.
fn skipped(name: &'static str, number: bool) -> BoxedStrategy<Vec<(String, Json)>> {
    let usual = if number {
        "[1-9][0-9]{0,18}|0".prop_map(token).boxed()
    } else {
        "[0-9]{1,12}(\\.[0-9]{1,8})?"
            .prop_map(|t| token(format!("\"{t}\"")))
            .boxed()
    };
    let value = prop_oneof![
        400 => usual,
        3 => number_token().prop_map(Json::Token),
        3 => string_token(true).prop_map(Json::Token),
        1 => any_json(),
    ];
    binance_member(name, value.boxed())
}

/// The kline object `k` with its members in Binance's order.
fn binance_kline() -> BoxedStrategy<Json> {
    let interval = select(vec![
        ("1m", 60_000i64),
        ("1h", 3_600_000),
        ("1d", 86_400_000),
    ]);
    (
        interval,
        0i64..2_000_000_000_000,
        prop::bool::weighted(0.95),
        prices(),
    )
        .prop_flat_map(|((name, ms), open, spans, [o, h, l, c, v])| {
            let close = if spans { open + ms - 1 } else { open + ms };
            let closed = prop_oneof![
                40 => Just(token("true")),
                10 => Just(token("false")),
                1 => stray_value(),
            ];
            ordered_object(vec![
                binance_member("t", millis(open)),
                binance_member("T", millis(close)),
                binance_member("s", symbol("BTCUSDT")),
                binance_member("i", or_stray(Just(token(format!("\"{name}\""))))),
                skipped("f", true),
                skipped("L", true),
                binance_member("o", Just(o).boxed()),
                binance_member("c", Just(c).boxed()),
                binance_member("h", Just(h).boxed()),
                binance_member("l", Just(l).boxed()),
                binance_member("v", Just(v).boxed()),
                skipped("n", true),
                binance_member("x", closed.boxed()),
                skipped("q", false),
                skipped("V", false),
                skipped("Q", false),
                skipped("B", false),
            ])
        })
        .boxed()
}

/// A whole frame as Binance sends it: compact, its members in Binance's order (what the
/// parser's fast path reads), with values of every kind now and then.
pub(super) fn binance_text() -> BoxedStrategy<String> {
    let event_type = prop_oneof![
        60 => Just(token(r#""kline""#)),
        1 => Just(token(r#""trade""#)),
        1 => Just(token(r#""k\u006cine""#)),
        1 => stray_value(),
    ];
    let event = ordered_object(vec![
        binance_member("e", event_type.boxed()),
        skipped("E", true),
        binance_member("s", symbol("BTCUSDT")),
        binance_member("k", binance_kline()),
    ]);
    let stream = prop_oneof![
        20 => Just(token(r#""btcusdt@kline_1h""#)),
        1 => string_token(true).prop_map(Json::Token),
    ];
    ordered_object(vec![
        binance_member("stream", stream.boxed()),
        binance_member("data", or_stray(event)),
    ])
    .prop_map(|frame| frame.render(&[]))
    .boxed()
}

/// A Binance frame with one to four edits.
pub(super) fn mutated_binance_text() -> BoxedStrategy<String> {
    (binance_text(), prop::collection::vec(edit(), 1..5))
        .prop_map(|(text, edits)| apply(&text, &edits))
        .boxed()
}

/// Fragments to insert: bare and broken tokens, brackets, half members.
#[rustfmt::skip]
const FRAGMENTS: &[&str] = &[
    "tru", "nul", "fals", "true", "null", "false", "t", "n", ",", ":", "{", "}", "[", "]", "\"",
    "\\", "\\u", "\\u12", "-", "0", "01", "1.", "1e", ".5", "+1", "\u{0}", "\u{1f}", " ", "\n",
    "\"k\":{}", "\"x\":true,", "\"t\":1,", "\"data\":{},", ",\"s\":\"BTCUSDT\"", "[}", "{]", "é",
    "\"\\uD800\"", "NaN", "Infinity", "//", "/*", "'",
];

/// Fragments to insert at the start of a value.
const VALUE_STARTS: &[&str] = &[
    "0",
    "00",
    "-",
    "-0",
    " ",
    "+",
    "0.",
    "1e5",
    "\"",
    "\"\\u0030",
    "01",
    "\"0",
    "\"-",
];

/// One edit of a message's bytes.
#[derive(Debug, Clone)]
enum Edit {
    Set(Index, u8),
    Cut(Index),
    Insert(Index, String),
    Delete(Index, usize),
    Repeat(Index, usize),
    /// Swaps a bracket for the other kind (`{` for `[`, `}` for `]`).
    Swap(Index),
    Append(String),
    /// Inserts at the start of a value (after a colon): a leading zero, a sign, a space...
    AfterColon(Index, String),
}

fn edit() -> BoxedStrategy<Edit> {
    let byte = prop_oneof![
        3 => select(b"{}[]\":,\\ tfnul0123456789.eE-+\x00\x1f".to_vec()),
        1 => any::<u8>(),
    ];
    let fragment = prop_oneof![
        4 => select(FRAGMENTS).prop_map(String::from),
        1 => string_token(true),
        1 => number_token(),
    ];
    prop_oneof![
        4 => (any::<Index>(), byte).prop_map(|(at, b)| Edit::Set(at, b)),
        2 => any::<Index>().prop_map(Edit::Cut),
        4 => (any::<Index>(), fragment.clone()).prop_map(|(at, f)| Edit::Insert(at, f)),
        2 => (any::<Index>(), 1usize..24).prop_map(|(at, n)| Edit::Delete(at, n)),
        2 => (any::<Index>(), 1usize..40).prop_map(|(at, n)| Edit::Repeat(at, n)),
        2 => any::<Index>().prop_map(Edit::Swap),
        1 => fragment.prop_map(Edit::Append),
        3 => (any::<Index>(), select(VALUE_STARTS)).prop_map(|(at, f)| Edit::AfterColon(at, f.into())),
    ]
    .boxed()
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut b = text.as_bytes().to_vec();
    for edit in edits {
        let at = |i: &Index, len: usize| if len == 0 { 0 } else { i.index(len) };
        match edit {
            Edit::Set(i, byte) if !b.is_empty() => {
                let at = at(i, b.len());
                b[at] = *byte;
            }
            Edit::Set(..) => {}
            Edit::Cut(i) => b.truncate(at(i, b.len() + 1)),
            Edit::Insert(i, s) => {
                let at = at(i, b.len() + 1);
                b.splice(at..at, s.bytes());
            }
            Edit::Delete(i, n) => {
                let at = at(i, b.len() + 1);
                b.drain(at..(at + n).min(b.len()));
            }
            Edit::Repeat(i, n) => {
                let at = at(i, b.len() + 1);
                let slice = b[at..(at + n).min(b.len())].to_vec();
                b.splice(at..at, slice);
            }
            Edit::Swap(i) => {
                let brackets: Vec<usize> =
                    (0..b.len()).filter(|&j| b"{}[]".contains(&b[j])).collect();
                if !brackets.is_empty() {
                    let j = brackets[i.index(brackets.len())];
                    b[j] = match b[j] {
                        b'{' => b'[',
                        b'[' => b'{',
                        b'}' => b']',
                        _ => b'}',
                    };
                }
            }
            Edit::Append(s) => b.extend_from_slice(s.as_bytes()),
            Edit::AfterColon(i, s) => {
                let colons: Vec<usize> = (0..b.len()).filter(|&j| b[j] == b':').collect();
                if !colons.is_empty() {
                    let at = colons[i.index(colons.len())] + 1;
                    b.splice(at..at, s.bytes());
                }
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

/// A frame with one to four edits.
pub(super) fn mutated_text() -> BoxedStrategy<String> {
    (frame_text(), prop::collection::vec(edit(), 1..5))
        .prop_map(|(text, edits)| apply(&text, &edits))
        .boxed()
}

/// Any text: bytes (invalid UTF-8 replaced), JSON's alphabet, any characters.
pub(super) fn arbitrary_text() -> BoxedStrategy<String> {
    let alphabet: Vec<char> = "{}[]\":,\\ \n tfrueanlsx0123456789-+.eEkdT"
        .chars()
        .collect();
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..96)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        prop::collection::vec(select(alphabet), 0..96).prop_map(|c| c.into_iter().collect()),
        "\\PC{0,64}",
    ]
    .boxed()
}
