//! Property tests of headline files: generated JSONL (and JSON-array) files must load exactly;
//! one bad line must fail the load naming that line; damaged files must never panic.
//! `PROPTEST_CASES` sets the number of cases (proptest's 256 by default).

use std::path::Path;

use proptest::prelude::*;

use super::{read_news, LoadedNews, NewsError};
use crate::model::{Symbol, Timestamp};
use crate::testing::props::{config, damage};
use crate::{Headline, SentimentConfig, SymbolTagger};
use keel_core::testing::json::{arbitrary, Json};
use keel_core::testing::Rng;

/// Milliseconds of 0000-01-01 and of 9999-12-31T23:59:59.999.
const EARLIEST: i64 = -62_167_219_200_000;
const LATEST: i64 = 253_402_300_799_999;

#[derive(Debug, Clone)]
struct ItemSpec {
    published: i64,
    title: String,
    source: Option<String>,
    domain: Option<String>,
    seed: u64,
}

const WORDS: &[&str] = &[
    "Bitcoin",
    "ETH",
    "rallies",
    "falls",
    "10%",
    "$40,000",
    "l'été",
    "ß€",
    "co-founder",
    "—",
];

fn item() -> impl Strategy<Value = ItemSpec> {
    (
        prop_oneof![EARLIEST..=LATEST, 1_500_000_000_000i64..1_800_000_000_000],
        any::<u64>(),
    )
        .prop_map(|(published, seed)| {
            let mut rng = Rng::new(seed);
            // Whole seconds, milliseconds or days now and then.
            let published = match rng.below(3) {
                0 => published.div_euclid(86_400_000) * 86_400_000,
                1 => published.div_euclid(1000) * 1000,
                _ => published,
            };
            let words: Vec<&str> = (0..1 + rng.below(6)).map(|_| *rng.pick(WORDS)).collect();
            let name = |rng: &mut Rng| {
                rng.one_in(2)
                    .then(|| format!("site{}.example", rng.below(9)))
            };
            ItemSpec {
                published,
                title: words.join(" "),
                source: name(&mut rng),
                domain: name(&mut rng),
                seed: rng.next(),
            }
        })
}

/// `ms` in one of the ISO 8601 UTC forms headline files use.
fn time_text(ms: i64, rng: &mut Rng) -> String {
    let whole = Timestamp(ms.div_euclid(1000) * 1000).to_string(); // YYYY-MM-DDTHH:MM:SSZ
    let (date, clock) = (&whole[..10], &whole[11..19]);
    let frac = ms.rem_euclid(1000);
    if frac == 0 && clock == "00:00:00" && rng.one_in(2) {
        return date.to_string();
    }
    let sep = *rng.pick(&["T", " "]);
    let fraction = match (frac, rng.below(3)) {
        (0, 0) => String::new(),
        (_, 1) => format!(".{frac:03}{}", rng.below(1000)),
        _ => format!(".{frac:03}"),
    };
    let zone = *rng.pick(&["Z", "+00:00", ""]);
    format!("{date}{sep}{clock}{fraction}{zone}")
}

impl ItemSpec {
    fn json(&self) -> Json {
        let mut rng = Rng::new(self.seed);
        let mut fields = vec![
            (
                "published_at".to_string(),
                Json::Str(time_text(self.published, &mut rng)),
            ),
            ("title".to_string(), Json::Str(self.title.clone())),
        ];
        if let Some(source) = &self.source {
            fields.push(("source".into(), Json::Str(source.clone())));
        }
        if let Some(domain) = &self.domain {
            fields.push(("domain".into(), Json::Str(domain.clone())));
        }
        let btc = if rng.one_in(2) {
            Json::Str("btc".into())
        } else {
            Json::Obj(vec![
                ("code".into(), Json::Str("BTC".into())),
                ("title".into(), Json::Str("Bitcoin".into())),
            ])
        };
        fields.push(("currencies".into(), Json::Arr(vec![btc])));
        for i in 0..rng.below(3) {
            fields.push((format!("votes{i}"), arbitrary(&mut rng, 2)));
        }
        Json::Obj(fields).shuffled(&mut rng)
    }

    /// One line: no raw newline (strings escape theirs; whitespace ones become spaces).
    fn line(&self) -> String {
        let mut rng = Rng::new(self.seed ^ 1);
        self.json().render(&mut rng).replace(['\n', '\r'], " ")
    }
}

/// A file of `items`, one a line, with blank lines and line ends of both kinds; the line
/// number of each item.
fn jsonl(items: &[ItemSpec], seed: u64) -> (String, Vec<usize>) {
    let mut rng = Rng::new(seed);
    let mut text = String::new();
    if rng.one_in(4) {
        text.push('\u{feff}');
    }
    let mut numbers = Vec::new();
    let mut line = 1;
    for item in items {
        while rng.one_in(5) {
            let blank = *rng.pick(&["\n", "  \n", "\r\n", "\t\r\n"]);
            text.push_str(blank);
            line += 1;
        }
        numbers.push(line);
        text.push_str(&item.line());
        text.push_str(if rng.one_in(3) { "\r\n" } else { "\n" });
        line += 1;
    }
    (text, numbers)
}

fn tagger() -> SymbolTagger {
    let symbols = [Symbol::parse("BTCUSDT").unwrap()];
    SymbolTagger::new(&symbols, &SentimentConfig::default().aliases)
}

/// What loading `items` must give: repeats (same time and title) out, sorted stably.
fn expected(items: &[ItemSpec]) -> LoadedNews {
    let mut seen = std::collections::HashSet::new();
    let mut headlines: Vec<Headline> = items
        .iter()
        .filter(|i| seen.insert((i.published, i.title.clone())))
        .map(|i| Headline {
            published: Timestamp(i.published),
            title: i.title.clone(),
            source: i.source.clone().or(i.domain.clone()).unwrap_or_default(),
            symbols: vec![Symbol::parse("BTCUSDT").unwrap()],
        })
        .collect();
    headlines.sort_by_key(|h| h.published);
    LoadedNews {
        items: items.len(),
        untagged: 0,
        duplicates: items.len() - headlines.len(),
        headlines,
    }
}

fn load(text: &[u8]) -> Result<LoadedNews, NewsError> {
    read_news(Path::new("news.jsonl"), text, &tagger())
}

/// A line that is not an item, and what its error must say.
fn bad_line(item: &ItemSpec, which: usize, seed: u64) -> (Vec<u8>, &'static str) {
    let mut rng = Rng::new(seed);
    let set = |key: &str, value: Json| {
        let Json::Obj(mut fields) = item.json() else {
            unreachable!("items are objects")
        };
        for (k, v) in fields.iter_mut() {
            if k == key {
                *v = value.clone();
            }
        }
        Json::Obj(fields)
            .render(&mut Rng::new(seed))
            .replace(['\n', '\r'], " ")
    };
    let line = match which % 7 {
        0 => {
            let line = item.line();
            let line = line.trim();
            let cuts: Vec<usize> = line.char_indices().map(|(i, _)| i).skip(1).collect();
            return (line[..*rng.pick(&cuts)].into(), "line");
        }
        1 => {
            let bad = rng
                .pick(&[
                    Json::Num("1700000000".into()),
                    Json::Null,
                    Json::Arr(vec![]),
                ])
                .clone();
            set("published_at", bad)
        }
        2 => {
            let bad = rng
                .pick(&[Json::Num("1".into()), Json::Null, Json::Str("<br>".into())])
                .clone();
            set("title", bad)
        }
        3 => {
            let bad = *rng.pick(&[
                "2024-02-30T10:00:00Z",
                "2023-02-29",
                "99999-01-01T00:00:00Z",
                "2024-01-01T24:00:00Z",
                "2024-01-01T-1:00:00Z",
                "2024-01-01T10:00:00+02:00",
                "2024-01-01T10:00:00+99:99",
                "yesterday",
                "",
            ]);
            return (
                set("published_at", Json::Str(bad.into())).into(),
                "published_at",
            );
        }
        4 => {
            // A known key twice.
            let line = item.line();
            let line = line
                .trim_end()
                .strip_suffix('}')
                .unwrap_or(&line)
                .to_string();
            return (
                format!("{line}, \"title\": \"again\"}}").into(),
                "duplicate field",
            );
        }
        5 => {
            let Json::Obj(fields) = item.json() else {
                unreachable!("items are objects")
            };
            let values = Json::Arr(fields.into_iter().map(|(_, v)| v).collect());
            return (
                values.render(&mut rng).replace(['\n', '\r'], " ").into(),
                "JSON object",
            );
        }
        _ => {
            let mut bytes = item.line().into_bytes();
            let at = bytes.iter().rposition(|&b| b == b'"').unwrap_or(0);
            bytes.insert(at, 0xff);
            return (bytes, "UTF-8");
        }
    };
    (line.into(), "line")
}

proptest! {
    #![proptest_config(config())]

    /// A valid file loads as exactly its items, as JSONL and as a JSON array.
    #[test]
    fn valid_files_load_exactly(items in proptest::collection::vec(item(), 0..12), seed in any::<u64>()) {
        let (text, _) = jsonl(&items, seed);
        prop_assert_eq!(load(text.as_bytes()).ok(), Some(expected(&items)), "{}", text);
        let lines: Vec<String> = items.iter().map(ItemSpec::line).collect();
        let array = format!("[{}]", lines.join(",\n"));
        prop_assert_eq!(load(array.as_bytes()).ok(), Some(expected(&items)), "{}", array);
    }

    /// One bad line fails the load, naming that line; nothing is skipped silently.
    #[test]
    fn a_bad_line_is_an_error_naming_it(
        items in proptest::collection::vec(item(), 1..8),
        at in any::<prop::sample::Index>(),
        which in 0usize..7,
        seed in any::<u64>(),
    ) {
        let k = at.index(items.len());
        let (text, numbers) = jsonl(&items, seed);
        let (bad, why) = bad_line(&items[k], which, seed);
        let mut lines: Vec<&[u8]> = text.as_bytes().split(|&b| b == b'\n').collect();
        let number = numbers[k];
        let ending = if lines[number - 1].ends_with(b"\r") { b"\r".as_slice() } else { b"" };
        let replaced = [bad.as_slice(), ending].concat();
        lines[number - 1] = &replaced;
        let file = lines.join(&b'\n');
        match load(&file) {
            Err(NewsError::Line { line, message, .. }) => {
                prop_assert_eq!(line, number, "{}", message);
                prop_assert!(message.contains(why) || why == "line", "{}: {}", why, message);
            }
            // A file whose first line is an array is a JSON-array file (as documented).
            Err(NewsError::Item { item: 1, .. } | NewsError::NotAnArray { .. })
                if k == 0 && bad.trim_ascii_start().starts_with(b"[") => {}
            other => prop_assert!(false, "line {} {:?}: {:?}", number, String::from_utf8_lossy(&bad), other),
        }
    }

    /// Damaged files never panic; an error names a line of the file, a load is sorted and
    /// tagged.
    #[test]
    fn damaged_files_never_panic(items in proptest::collection::vec(item(), 0..8), seeds in any::<(u64, u64)>()) {
        let (text, _) = jsonl(&items, seeds.0);
        let bytes = damage(text.as_bytes(), seeds.1);
        let lines = bytes.split(|&b| b == b'\n').count();
        match load(&bytes) {
            Ok(news) => {
                prop_assert!(news.headlines.windows(2).all(|w| w[0].published <= w[1].published));
                prop_assert_eq!(news.items, news.headlines.len() + news.untagged + news.duplicates);
            }
            Err(NewsError::Line { line, .. }) => prop_assert!((1..=lines).contains(&line)),
            Err(NewsError::NotAnArray { .. } | NewsError::Item { .. }) => {}
            Err(e @ NewsError::Io { .. }) => prop_assert!(false, "{}", e),
        }
    }
}
