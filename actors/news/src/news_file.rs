//! Loading headlines for replay: a CryptoPanic JSON array or JSONL, one item per line.
//!
//! An item has `published_at` (ISO 8601 UTC, [`crate::feed::parse_iso8601_utc`]) and `title`
//! (may contain HTML), and optionally `source` or `domain`, and `currencies` (codes such as
//! `"NEO"`, or CryptoPanic's `{"code": "NEO", ...}` objects). Other fields (`votes`, ...) are
//! ignored.
//!
//! A file is all good or an error: the first bad item or line (not JSON, not UTF-8, a field
//! missing or of the wrong type, a time that is not one, an empty title) fails the load and
//! is named by its number. Only blank lines, a leading byte-order mark, exact repeats and
//! items about no traded symbol are left out, the last two counted in [`LoadedNews`].

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::headline::{clean_title, Headline};
use super::tagger::SymbolTagger;
use crate::feed::parse_iso8601_utc;
use crate::llm::strict_json::Object;
use crate::model::Timestamp;

/// A news file that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum NewsError {
    /// The file could not be opened or read.
    #[error("cannot read news file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A JSON-array file that is not a JSON array.
    #[error("news file {path} is not a JSON array of items: {source}")]
    NotAnArray {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// One item of a JSON-array file is bad (`item` counts from 1).
    #[error("news file {path}, item {item}: {message}")]
    Item {
        /// The file.
        path: PathBuf,
        /// Position in the array, from 1.
        item: usize,
        /// What is wrong.
        message: String,
    },
    /// One line of a JSONL file is bad (`line` counts from 1).
    #[error("news file {path}, line {line}: {message}")]
    Line {
        /// The file.
        path: PathBuf,
        /// Line number, from 1.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// What a news file held.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedNews {
    /// Headlines about at least one traded symbol, sorted by publication time.
    pub headlines: Vec<Headline>,
    /// Items in the file.
    pub items: usize,
    /// Items about no traded symbol (kept out).
    pub untagged: usize,
    /// Items repeating an earlier item's time and title (kept out).
    pub duplicates: usize,
}

/// Loads the headlines about traded symbols from `path` (see [`load_news`]).
pub fn load_headlines(path: &Path, tagger: &SymbolTagger) -> Result<Vec<Headline>, NewsError> {
    load_news(path, tagger).map(|news| news.headlines)
}

/// Loads a CryptoPanic JSON array (the file starts with `[`) or a JSONL file, tags every item
/// with `tagger`, drops untagged items and exact repeats (counted), and sorts by time.
pub fn load_news(path: &Path, tagger: &SymbolTagger) -> Result<LoadedNews, NewsError> {
    let bytes = std::fs::read(path).map_err(|source| NewsError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_news(path, &bytes, tagger)
}

/// [`load_news`] of the bytes of the file at `path` (named in errors). Pure.
fn read_news(path: &Path, bytes: &[u8], tagger: &SymbolTagger) -> Result<LoadedNews, NewsError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let items = if bytes.trim_ascii_start().starts_with(b"[") {
        parse_array(path, bytes)?
    } else {
        parse_lines(path, bytes)?
    };
    let mut news = LoadedNews {
        headlines: Vec::with_capacity(items.len()),
        items: items.len(),
        untagged: 0,
        duplicates: 0,
    };
    let mut seen = HashSet::new();
    for item in items {
        if !seen.insert((item.published, item.title.clone())) {
            news.duplicates += 1;
            continue;
        }
        let symbols = tagger.tag(&item.title, &item.currencies);
        if symbols.is_empty() {
            news.untagged += 1;
            continue;
        }
        news.headlines.push(Headline {
            published: item.published,
            title: item.title,
            source: item.source,
            symbols,
        });
    }
    // Stable: items published at the same instant keep their file order.
    news.headlines.sort_by_key(|h| h.published);
    Ok(news)
}

/// One item as written in the file.
#[derive(Deserialize)]
struct RawItem {
    published_at: String,
    title: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    domain: Option<String>,
    #[serde(default)]
    currencies: Option<Vec<RawCurrency>>,
}

/// A currency as a plain code or as CryptoPanic's object with a `code`.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawCurrency {
    Code(String),
    Object { code: String },
}

/// An item, checked and cleaned, not yet tagged.
struct Item {
    published: Timestamp,
    title: String,
    source: String,
    currencies: Vec<String>,
}

impl TryFrom<RawItem> for Item {
    type Error = String;

    fn try_from(raw: RawItem) -> Result<Self, String> {
        let published = parse_iso8601_utc(&raw.published_at).map_err(|e| {
            format!(
                "`published_at` {:?} is not an ISO 8601 UTC time: {}",
                e.text, e.reason
            )
        })?;
        let title = clean_title(&raw.title);
        if title.is_empty() {
            return Err("`title` is empty".to_string());
        }
        let source = raw.source.or(raw.domain).unwrap_or_default();
        let currencies = raw
            .currencies
            .unwrap_or_default()
            .into_iter()
            .map(|c| match c {
                RawCurrency::Code(code) | RawCurrency::Object { code } => code,
            })
            .collect();
        Ok(Item {
            published,
            title,
            source,
            currencies,
        })
    }
}

fn parse_array(path: &Path, bytes: &[u8]) -> Result<Vec<Item>, NewsError> {
    let values: Vec<serde_json::Value> =
        serde_json::from_slice(bytes).map_err(|source| NewsError::NotAnArray {
            path: path.to_path_buf(),
            source,
        })?;
    values
        .into_iter()
        .enumerate()
        .map(|(i, value)| {
            serde_json::from_value::<Object<RawItem>>(value)
                .map(|Object(raw)| raw)
                .map_err(|e| e.to_string())
                .and_then(Item::try_from)
                .map_err(|message| NewsError::Item {
                    path: path.to_path_buf(),
                    item: i + 1,
                    message,
                })
        })
        .collect()
}

fn parse_lines(path: &Path, bytes: &[u8]) -> Result<Vec<Item>, NewsError> {
    bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .filter(|(_, line)| !line.trim_ascii().is_empty())
        .map(|(i, line)| {
            std::str::from_utf8(line)
                .map_err(|e| format!("not UTF-8: {e}"))
                .and_then(|line| {
                    serde_json::from_str::<Object<RawItem>>(line)
                        .map(|Object(raw)| raw)
                        .map_err(|e| e.to_string())
                })
                .and_then(Item::try_from)
                .map_err(|message| NewsError::Line {
                    path: path.to_path_buf(),
                    line: i + 1,
                    message,
                })
        })
        .collect()
}

#[cfg(test)]
#[path = "news_file_proptests.rs"]
mod proptests;

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::model::Symbol;
    use crate::SentimentConfig;

    const REAL: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/news/cryptopanic_2018-01-15_18.json"
    );

    fn tagger(symbols: &[&str]) -> SymbolTagger {
        let symbols: Vec<Symbol> = symbols.iter().map(|s| Symbol::parse(s).unwrap()).collect();
        SymbolTagger::new(&symbols, &SentimentConfig::default().aliases)
    }

    fn write(text: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        file
    }

    #[test]
    fn real_file_tags_btc_and_eth_headlines() {
        let news = load_news(Path::new(REAL), &tagger(&["BTCUSDT", "ETHUSDT"])).unwrap();
        assert_eq!(news.items, 60);
        let count = |base: &str| {
            let n = news
                .headlines
                .iter()
                .filter(|h| h.symbols.iter().any(|s| s.base().as_str() == base));
            n.count()
        };
        // BTC: eight items list BTC among their currencies, plus the BCH item whose title
        // names "@Bitcoin" (a whole word). "80% Of All Bitcoins ..." lists BTC itself.
        assert_eq!(count("BTC"), 9);
        // ETH: "3 reasons to be watching NEO" (currencies) and "PickioChain Switching from ETH
        // to NEO" (currencies and title).
        assert_eq!(count("ETH"), 2);
        assert_eq!(news.headlines.len(), 10, "one headline is about both");
        assert_eq!(news.untagged + news.duplicates + news.headlines.len(), 60);
        assert!(news
            .headlines
            .windows(2)
            .all(|w| w[0].published <= w[1].published));
        let first = &news.headlines[0];
        assert_eq!(
            first.title,
            "80% Of All Bitcoins Already Mined, Only 4.2 Million Coins Left Until Supply Cap"
        );
        assert_eq!(first.source, "cointelegraph.com");
        assert_eq!(
            first.published,
            Timestamp::parse_utc("2018-01-15T13:14:10Z").unwrap()
        );
    }

    #[test]
    fn real_file_html_is_stripped_and_the_repeat_dropped() {
        let news = load_news(Path::new(REAL), &tagger(&["NEOUSDT"])).unwrap();
        let up: Vec<&str> = news
            .headlines
            .iter()
            .filter(|h| h.title.starts_with("NEO ($NEO) price is up"))
            .map(|h| h.title.as_str())
            .collect();
        // The 2018-01-18T09:45:28 item appears twice in the file (different vote counts).
        assert_eq!(
            up,
            [
                "NEO ($NEO) price is up 20.38%",
                "NEO ($NEO) price is up 20.99%"
            ]
        );
        assert_eq!(news.duplicates, 1);
        assert!(news.headlines.iter().all(|h| !h.title.contains('<')));
    }

    #[test]
    fn jsonl_lines_are_loaded_and_sorted() {
        let file = write(concat!(
            r#"{"published_at": "2024-03-02T10:00:00Z", "title": "Ether &amp; friends rally", "source": "feed"}"#,
            "\n\n",
            r#"{"published_at": "2024-03-01T10:00:00Z", "title": "Quiet day", "currencies": [{"code": "BTC"}]}"#,
            "\n",
            r#"{"published_at": "2024-03-01T11:00:00Z", "title": "Dogs and cats"}"#,
            "\n",
        ));
        let news = load_news(file.path(), &tagger(&["BTCUSDT", "ETHUSDT"])).unwrap();
        assert_eq!(news.items, 3);
        assert_eq!(news.untagged, 1);
        let titles: Vec<&str> = news.headlines.iter().map(|h| h.title.as_str()).collect();
        assert_eq!(titles, ["Quiet day", "Ether & friends rally"]);
        assert_eq!(news.headlines[1].source, "feed");
        assert_eq!(
            news.headlines[1].symbols,
            [Symbol::parse("ETHUSDT").unwrap()]
        );
    }

    #[test]
    fn a_bad_line_names_the_file_and_line() {
        let file = write(concat!(
            r#"{"published_at": "2024-03-01T10:00:00Z", "title": "BTC up"}"#,
            "\n",
            r#"{"published_at": "yesterday", "title": "BTC down"}"#,
            "\n",
        ));
        let err = load_headlines(file.path(), &tagger(&["BTCUSDT"])).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(&file.path().display().to_string()), "{text}");
        assert!(
            text.contains("line 2: `published_at` \"yesterday\""),
            "{text}"
        );
    }

    #[test]
    fn lines_that_are_not_items_are_errors_never_skipped() {
        let good = r#"{"published_at": "2024-03-01T10:00:00Z", "title": "BTC up"}"#;
        for (bad, why) in [
            (
                br#"["2024-03-01T10:00:00Z", "BTC up"]"#.as_slice(),
                "expected a JSON object",
            ),
            (
                br#"{"published_at": "2024-02-30T10:00:00Z", "title": "BTC"}"#.as_slice(),
                "day",
            ),
            (
                br#"{"published_at": "2024-03-01T-1:00:00Z", "title": "BTC"}"#.as_slice(),
                "published_at",
            ),
            (
                br#"{"published_at": "2024-03-01T10:00:00+02:00", "title": "BTC"}"#.as_slice(),
                "not UTC",
            ),
            (
                br#"{"published_at": "2024-03-01T10:00:00Z", "title": "<b></b>"}"#.as_slice(),
                "empty",
            ),
            (
                b"{\"published_at\": \"2024-03-01\", \"title\": \"BTC \xff\"}".as_slice(),
                "not UTF-8",
            ),
        ] {
            let mut file = tempfile::NamedTempFile::new().unwrap();
            file.write_all(format!("\u{feff}{good}\r\n\r\n").as_bytes())
                .unwrap();
            file.write_all(bad).unwrap();
            let err = load_headlines(file.path(), &tagger(&["BTCUSDT"])).unwrap_err();
            assert!(
                matches!(err, NewsError::Line { line: 3, .. }),
                "{why}: {err}"
            );
            assert!(err.to_string().contains(why), "{why}: {err}");
        }
    }

    #[test]
    fn a_bad_item_names_the_file_and_item() {
        let file =
            write(r#"[{"published_at": "2024-03-01", "title": "BTC"}, {"title": "no time"}]"#);
        let err = load_headlines(file.path(), &tagger(&["BTCUSDT"])).unwrap_err();
        assert!(matches!(err, NewsError::Item { item: 2, .. }), "{err}");
        assert!(err.to_string().contains("published_at"), "{err}");

        let missing = Path::new("/nonexistent/news.jsonl");
        let err = load_headlines(missing, &tagger(&["BTCUSDT"])).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("cannot read news file /nonexistent/news.jsonl"));
    }
}
