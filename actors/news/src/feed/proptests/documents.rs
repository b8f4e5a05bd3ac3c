//! RSS and Atom documents: built from generated items (escaped text, CDATA, entities, noise,
//! nested unknown elements, valid and impossible dates), then cut, stripped of a closing tag
//! or damaged byte by byte.

use proptest::prelude::*;

use super::dates::{civil, rfc2822, rfc3339};
use crate::feed::{parse_feed, FeedItem, SeenItems};
use crate::model::{Symbol, Timestamp};
use crate::testing::props::{config, damage};
use crate::{SentimentConfig, SymbolTagger};
use keel_core::testing::Rng;

/// What an item's date element holds.
#[derive(Debug, Clone)]
enum Date {
    None,
    /// The text and the instant it denotes.
    Valid(String, i64),
    /// An impossible date.
    Absurd(String),
}

#[derive(Debug, Clone)]
struct ItemSpec {
    /// Written with surrounding whitespace; `None` or blank: the item has no title.
    title: Option<String>,
    link: Option<String>,
    id: Option<String>,
    date: Date,
    seed: u64,
}

#[derive(Debug, Clone)]
struct Doc {
    atom: bool,
    items: Vec<ItemSpec>,
    seed: u64,
}

const TEXT: &[char] = &[
    'a', 'B', 'z', '0', '9', ' ', ' ', '<', '>', '&', '"', '\'', ';', '#', ']', 'é', '€', '😀',
    '\t', '\n', '/', '=', '?', '%',
];

fn random_text(rng: &mut Rng, max: usize) -> String {
    (0..rng.below(max + 1)).map(|_| *rng.pick(TEXT)).collect()
}

/// `text` as XML character data: escaped (by name or number, at random), or as CDATA.
fn xml_text(text: &str, rng: &mut Rng) -> String {
    if rng.one_in(3) {
        return format!("<![CDATA[{}]]>", text.replace("]]>", "]]]]><![CDATA[>"));
    }
    let mut out = String::new();
    for c in text.chars() {
        let named = match c {
            '<' => Some("&lt;"),
            '>' => Some("&gt;"),
            '&' => Some("&amp;"),
            '"' => Some("&quot;"),
            '\'' => Some("&apos;"),
            _ => None,
        };
        match (named, rng.below(4)) {
            (_, 0) if c != '\n' && c != '\t' => out.push_str(&format!("&#{};", c as u32)),
            (_, 1) if c != '\n' && c != '\t' => out.push_str(&format!("&#x{:X};", c as u32)),
            (Some(name), _) => out.push_str(name),
            (None, _) => out.push(c),
        }
    }
    out
}

/// `text` in a double-quoted attribute.
fn xml_attr(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

fn item_spec(atom: bool) -> impl Strategy<Value = ItemSpec> {
    (civil(1900..=2099), any::<u64>(), 0usize..10).prop_map(move |(c, seed, date_kind)| {
        let mut rng = Rng::new(seed);
        let title = match rng.below(12) {
            0 => None,
            1 => Some(" \n ".to_string()),
            _ => Some(format!(
                "{}{}{}",
                *rng.pick(&["", " ", "\n  "]),
                format!("x{}", random_text(&mut rng, 30)).trim(),
                *rng.pick(&["", " ", "\n"])
            )),
        };
        let link = (!rng.one_in(4)).then(|| {
            format!(
                "https://news.example/{}?a=1&b={}",
                rng.next(),
                random_text(&mut rng, 5).trim()
            )
        });
        let id = rng.one_in(2).then(|| format!("id-{}", rng.next()));
        let date = match date_kind {
            0 | 1 => Date::None,
            2 => {
                let text = *rng.pick(&[
                    "Tue, 31 Feb 2018 10:00:00 GMT",
                    "Mon, 01 Jan 99999 10:00:00 GMT",
                    "Tue, 16 Jan 2018 10:00:00 +99:99",
                    "2018-02-30T10:00:00Z",
                    "2018-01-16T25:00:00Z",
                    "yesterday",
                ]);
                Date::Absurd(text.to_string())
            }
            _ => {
                let (text, millis) = if atom || rng.one_in(3) {
                    rfc3339(c, rng.next())
                } else {
                    rfc2822(c, rng.next())
                };
                Date::Valid(text, millis)
            }
        };
        ItemSpec {
            title,
            link,
            id,
            date,
            seed: rng.next(),
        }
    })
}

fn doc() -> impl Strategy<Value = Doc> {
    any::<bool>().prop_flat_map(|atom| {
        (
            Just(atom),
            proptest::collection::vec(item_spec(atom), 0..8),
            any::<u64>(),
        )
            .prop_map(|(atom, items, seed)| Doc { atom, items, seed })
    })
}

/// Unknown markup that must change nothing: comments, other elements, nesting, CDATA.
fn noise(rng: &mut Rng) -> String {
    match rng.below(6) {
        0 => "<!-- a comment with <item> in it -->".into(),
        1 => "<category domain=\"x\">Markets &amp; more</category>".into(),
        2 => "<description><![CDATA[<p>Some <b>HTML</b> &nbsp; here</p>]]></description>".into(),
        3 => {
            let depth = 1 + rng.below(40);
            format!(
                "{}deep{}",
                "<x:n a=\"1\">".repeat(depth),
                "</x:n>".repeat(depth)
            )
        }
        4 => "<media:thumbnail url=\"https://i.example/1.png\"/>".into(),
        _ => "<?pi some processing instruction?>".into(),
    }
}

impl ItemSpec {
    fn xml(&self, atom: bool) -> String {
        let mut rng = Rng::new(self.seed);
        let mut children = Vec::new();
        if let Some(title) = &self.title {
            children.push(format!("<title>{}</title>", xml_text(title, &mut rng)));
        }
        if let Some(link) = &self.link {
            children.push(if atom {
                format!("<link rel=\"alternate\" href=\"{}\"/>", xml_attr(link))
            } else {
                format!("<link>{}</link>", xml_text(link, &mut rng))
            });
            if atom && rng.one_in(2) {
                children.push("<link rel=\"replies\" href=\"https://other.example/\"/>".into());
            }
        }
        if let Some(id) = &self.id {
            children.push(if atom {
                format!("<id>{}</id>", xml_text(id, &mut rng))
            } else {
                format!(
                    "<guid isPermaLink=\"false\">{}</guid>",
                    xml_text(id, &mut rng)
                )
            });
        }
        let date_text = match &self.date {
            Date::None => None,
            Date::Valid(text, _) | Date::Absurd(text) => Some(text),
        };
        if let Some(text) = date_text {
            let element = if atom {
                *rng.pick(&["published", "updated"])
            } else if text.starts_with(|c: char| c.is_ascii_digit()) && text.contains('-') {
                "dc:date"
            } else {
                "pubDate"
            };
            children.push(format!(
                "<{element}> {} </{element}>",
                xml_text(text, &mut rng)
            ));
            if atom && element == "published" && rng.one_in(2) {
                // `published` wins over `updated`, whatever their order.
                children.push("<updated>2001-01-01T00:00:00Z</updated>".into());
            }
        }
        for _ in 0..rng.below(3) {
            children.push(noise(&mut rng));
        }
        rng.shuffle(&mut children);
        let tag = if atom { "entry" } else { "item" };
        format!("<{tag}>\n  {}\n</{tag}>", children.join("\n  "))
    }

    /// The item `parse_feed` must give, with a date error reduced to "an error".
    fn expected(&self) -> Option<Expected> {
        let title = self.title.as_deref()?.trim();
        if title.is_empty() {
            return None;
        }
        Some(Expected {
            title: title.to_string(),
            link: self.link.clone(),
            id: self.id.clone(),
            published: match &self.date {
                Date::None => None,
                Date::Valid(_, millis) => Some(Ok(Timestamp(*millis))),
                Date::Absurd(_) => Some(Err(())),
            },
        })
    }
}

/// A [`FeedItem`] whose date error is compared only as being one.
#[derive(Debug, Clone, PartialEq)]
struct Expected {
    title: String,
    link: Option<String>,
    id: Option<String>,
    published: Option<Result<Timestamp, ()>>,
}

fn reduced(item: &FeedItem) -> Expected {
    Expected {
        title: item.title.clone(),
        link: item.link.clone(),
        id: item.id.clone(),
        published: item.published.clone().map(|r| r.map_err(|_| ())),
    }
}

impl Doc {
    /// The document and the byte offset where its root element's closing tag ends.
    fn xml(&self) -> (String, usize) {
        let mut rng = Rng::new(self.seed);
        let items: Vec<String> = self.items.iter().map(|i| i.xml(self.atom)).collect();
        let prolog = *rng.pick(&[
            "",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
            "\u{feff}",
        ]);
        let mut xml = if self.atom {
            format!(
                "{prolog}<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<title>Feed &amp; co</title>\n{}\n</feed>",
                items.join("\n")
            )
        } else {
            format!(
                "{prolog}<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n<channel>\n<title>Feed</title>\n<link>https://news.example</link>\n{}\n</channel>\n</rss>",
                items.join("\n")
            )
        };
        let end = xml.len();
        let tail = *rng.pick(&["", "\n", "\n<!-- end -->\n"]);
        xml.push_str(tail);
        (xml, end)
    }

    fn expected(&self) -> Vec<Expected> {
        self.items.iter().filter_map(ItemSpec::expected).collect()
    }
}

fn parsed(xml: &str) -> Result<Vec<Expected>, String> {
    parse_feed(xml)
        .map(|items| items.iter().map(reduced).collect())
        .map_err(|e| e.to_string())
}

fn tagger() -> SymbolTagger {
    let symbols = [Symbol::parse("BTCUSDT").unwrap()];
    SymbolTagger::new(&symbols, &SentimentConfig::default().aliases)
}

/// Where the closing tags of `xml` start (not the `</` inside CDATA sections or comments).
fn closing_tags(xml: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut at = 0;
    while let Some(i) = xml[at..].find('<').map(|i| i + at) {
        let rest = &xml[i..];
        let skip_to = if rest.starts_with("<![CDATA[") {
            rest.find("]]>").map(|e| e + 3)
        } else if rest.starts_with("<!--") {
            rest.find("-->").map(|e| e + 3)
        } else {
            if rest.starts_with("</") {
                starts.push(i);
            }
            Some(1)
        };
        at = i + skip_to.unwrap_or(rest.len());
    }
    starts
}

proptest! {
    #![proptest_config(config())]

    /// A valid document gives its titled items with their title, link, id and date exactly;
    /// taking them skips (and counts) the impossible dates and dates none as `now`.
    #[test]
    fn valid_documents_give_their_items_exactly(doc in doc()) {
        let (xml, _) = doc.xml();
        let want = doc.expected();
        prop_assert_eq!(parsed(&xml), Ok(want.clone()), "{}", xml);
        let items = parse_feed(&xml).unwrap_or_default();
        let now = Timestamp(1_700_000_000_000);
        let bitcoin: Vec<FeedItem> = items
            .into_iter()
            .enumerate()
            .map(|(i, item)| FeedItem { title: format!("Bitcoin {i} {}", item.title), ..item })
            .collect();
        let intake = SeenItems::new().take("feed", bitcoin.clone(), &tagger(), now);
        let bad = want.iter().filter(|w| matches!(w.published, Some(Err(())))).count();
        prop_assert_eq!(intake.bad_dates, bad);
        let mut dates: Vec<Timestamp> = want
            .iter()
            .filter_map(|w| match w.published {
                None => Some(now),
                Some(Ok(t)) => Some(Timestamp(t.millis().div_euclid(1000) * 1000)),
                Some(Err(())) => None,
            })
            .collect();
        dates.sort();
        // Titles are numbered and links random: nothing repeats, everything names Bitcoin.
        prop_assert_eq!((intake.duplicates, intake.untagged), (0, 0));
        let got: Vec<Timestamp> = intake.headlines.iter().map(|h| h.published).collect();
        prop_assert_eq!(got, dates);
    }

    /// A document cut before its root element closes is an error, never a shorter feed.
    #[test]
    fn cut_documents_are_errors(doc in doc(), at in any::<prop::sample::Index>()) {
        let (xml, end) = doc.xml();
        let cuts: Vec<usize> = (0..=xml.len()).filter(|&i| xml.is_char_boundary(i)).collect();
        let cut = *at.get(&cuts);
        let got = parsed(&xml[..cut]);
        if cut < end {
            prop_assert!(got.is_err(), "cut at {} of {}: {:?}", cut, end, got);
        } else if xml[end..cut].trim().is_empty() {
            prop_assert_eq!(got, Ok(doc.expected()));
        } else {
            // Inside the trailing comment: an unclosed comment, or the whole feed.
            prop_assert!(got.is_err() || got == Ok(doc.expected()));
        }
    }

    /// A document missing one closing tag is an error.
    #[test]
    fn unclosed_elements_are_errors(doc in doc(), at in any::<prop::sample::Index>()) {
        let (xml, _) = doc.xml();
        let start = *at.get(&closing_tags(&xml));
        let end = start + xml[start..].find('>').unwrap_or(0) + 1;
        let unclosed = format!("{}{}", &xml[..start], &xml[end..]);
        prop_assert!(parsed(&unclosed).is_err(), "{}", unclosed);
    }

    /// Damaged documents (any bytes, read as UTF-8 with replacement characters as the HTTP
    /// client does) never panic, and what they give can be taken.
    #[test]
    fn damaged_documents_never_panic(doc in doc(), seed in any::<u64>()) {
        let (xml, _) = doc.xml();
        let bytes = damage(xml.as_bytes(), seed);
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(items) = parse_feed(&text) {
            prop_assert!(items.iter().all(|i| !i.title.trim().is_empty()));
            SeenItems::new().take("feed", items, &tagger(), Timestamp(0));
        }
    }
}

#[test]
fn deeply_nested_elements_change_nothing() {
    let depth = 100_000;
    let xml = format!(
        "<rss><channel><item><title>Bitcoin</title>{}x{}<pubDate>16 Jan 2018 10:00 GMT</pubDate></item></channel></rss>",
        "<n>".repeat(depth),
        "</n>".repeat(depth)
    );
    let items = parse_feed(&xml).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].title, "Bitcoin");
    assert_eq!(
        items[0].published,
        Some(Ok(Timestamp::parse_utc("2018-01-16T10:00:00Z").unwrap()))
    );
    // Unclosed, it is an error, not a stack overflow.
    assert!(parse_feed(&format!("<rss>{}", "<n>".repeat(depth))).is_err());
}
