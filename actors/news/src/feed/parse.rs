//! RSS 2.0 and Atom documents → feed items. Pure.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::dates::{parse_feed_date, DateError};
use crate::model::Timestamp;

/// One item (RSS) or entry (Atom).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedItem {
    /// The title as written (HTML cleaned later).
    pub title: String,
    /// The item's link.
    pub link: Option<String>,
    /// The RSS `guid` or the Atom `id`.
    pub id: Option<String>,
    /// The date of `pubDate`, `published`, `dc:date` or, when none of those is there,
    /// `updated`: none when the item has no date, an error when its date is not one (an
    /// absurd or impossible date is never read as another; [`super::SeenItems::take`] skips
    /// the item and says why).
    pub published: Option<Result<Timestamp, DateError>>,
}

/// A document that is not well-formed XML.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("feed is not well-formed XML at byte {position}: {message}")]
pub struct FeedParseError {
    /// Where the reader stopped.
    pub position: u64,
    /// What it found.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Title,
    Link,
    Id,
    Published,
    Updated,
}

fn field_of(local: &[u8]) -> Option<Field> {
    match local {
        b"title" => Some(Field::Title),
        b"link" => Some(Field::Link),
        b"guid" | b"id" => Some(Field::Id),
        b"pubDate" | b"published" | b"date" | b"issued" => Some(Field::Published),
        b"updated" | b"modified" => Some(Field::Updated),
        _ => None,
    }
}

#[derive(Default)]
struct Draft {
    title: Option<String>,
    link: Option<String>,
    id: Option<String>,
    published: Option<String>,
    updated: Option<String>,
}

impl Draft {
    fn set(&mut self, field: Field, text: String) {
        let text = text.trim().to_string();
        if text.is_empty() {
            return;
        }
        let slot = match field {
            Field::Title => &mut self.title,
            Field::Link => &mut self.link,
            Field::Id => &mut self.id,
            Field::Published => &mut self.published,
            Field::Updated => &mut self.updated,
        };
        slot.get_or_insert(text);
    }

    fn finish(self) -> Option<FeedItem> {
        let published = self
            .published
            .or(self.updated)
            .map(|date| parse_feed_date(&date));
        Some(FeedItem {
            title: self.title?,
            link: self.link,
            id: self.id,
            published,
        })
    }
}

/// The `href` of an Atom link that points at the entry itself (no `rel` or `alternate`).
fn atom_href(element: &BytesStart<'_>) -> Result<Option<String>, String> {
    let (mut rel, mut href) = (None, None);
    for attribute in element.attributes() {
        let attribute = attribute.map_err(|e| e.to_string())?;
        let value = || {
            std::str::from_utf8(&attribute.value)
                .map_err(|e| e.to_string())
                .and_then(unescape)
        };
        match attribute.key.local_name().as_ref() {
            b"rel" => rel = Some(value()?),
            b"href" => href = Some(value()?),
            _ => {}
        }
    }
    Ok(href.filter(|_| rel.as_deref().is_none_or(|r| r == "alternate")))
}

/// An attribute value with its references replaced as in text ([`entity_text`]); a `&`
/// without its `;` is an error, as it is in text.
fn unescape(raw: &str) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some((before, after)) = rest.split_once('&') {
        out.push_str(before);
        let (name, after) = after
            .split_once(';')
            .ok_or("entity or character reference not closed: `;` not found")?;
        out.push_str(&entity_text(name));
        rest = after;
    }
    out.push_str(rest);
    Ok(out)
}

/// The text an entity reference stands for (`&amp;` → `&`, `&#36;` → `$`); unknown names
/// are kept as written.
fn entity_text(name: &str) -> String {
    let known = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let number = name.strip_prefix('#');
            number.and_then(|n| {
                let code = match n.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                    None => n.parse().ok()?,
                };
                char::from_u32(code)
            })
        }
    };
    known.map_or_else(|| format!("&{name};"), String::from)
}

/// Refuses a root element that is not a feed's.
fn check_root(name: &[u8], position: u64) -> Result<(), FeedParseError> {
    if matches!(name, b"rss" | b"feed" | b"RDF") {
        return Ok(());
    }
    Err(FeedParseError {
        position,
        message: format!(
            "the root element is <{}>, not <rss>, <feed> or <rdf:RDF>",
            String::from_utf8_lossy(name)
        ),
    })
}

/// Every item of an RSS 2.0 (or RSS 1.0/RDF) or Atom document, in document order. Items
/// without a title are skipped. A document that is not well-formed XML is an error, a
/// truncated one included (it ends inside an element): a cut-off feed is not a shorter one.
pub fn parse_feed(xml: &str) -> Result<Vec<FeedItem>, FeedParseError> {
    let mut reader = Reader::from_str(xml);
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut root_checked = false;
    // The open item and the depth of its element.
    let mut item: Option<(Draft, usize)> = None;
    // The field being read, the depth of its element, and its text so far.
    let mut field: Option<(Field, usize, String)> = None;
    loop {
        let event = reader.read_event().map_err(|e| FeedParseError {
            position: reader.error_position(),
            message: e.to_string(),
        })?;
        let fail = |message: String| FeedParseError {
            position: reader.buffer_position(),
            message,
        };
        match event {
            Event::Start(_) | Event::Empty(_) if root_checked && depth == 0 => {
                return Err(fail("an element after the root element".into()));
            }
            Event::Start(e) => {
                depth += 1;
                let local = e.local_name();
                let name = local.as_ref();
                if !root_checked {
                    root_checked = true;
                    check_root(name, reader.buffer_position())?;
                }
                if item.is_none() && (name == b"item" || name == b"entry") {
                    item = Some((Draft::default(), depth));
                } else if let (Some((draft, _)), None) = (item.as_mut(), field.as_ref()) {
                    if let Some(f) = field_of(name) {
                        if f == Field::Link {
                            if let Some(href) = atom_href(&e).map_err(fail)? {
                                draft.set(Field::Link, href);
                            }
                        }
                        field = Some((f, depth, String::new()));
                    }
                }
            }
            Event::Empty(e) => {
                if !root_checked {
                    root_checked = true;
                    check_root(e.local_name().as_ref(), reader.buffer_position())?;
                }
                if let Some((draft, _)) = item.as_mut() {
                    if e.local_name().as_ref() == b"link" {
                        if let Some(href) = atom_href(&e).map_err(fail)? {
                            draft.set(Field::Link, href);
                        }
                    }
                }
            }
            Event::Text(t) => {
                if let Some((_, _, text)) = field.as_mut() {
                    text.push_str(&t.decode().map_err(|e| fail(e.to_string()))?);
                }
            }
            Event::CData(t) => {
                if let Some((_, _, text)) = field.as_mut() {
                    text.push_str(&t.decode().map_err(|e| fail(e.to_string()))?);
                }
            }
            Event::GeneralRef(r) => {
                if let Some((_, _, text)) = field.as_mut() {
                    let name = r.decode().map_err(|e| fail(e.to_string()))?;
                    text.push_str(&entity_text(&name));
                }
            }
            Event::End(_) => {
                if let Some((f, at, text)) = field.take() {
                    if at == depth {
                        if let Some((draft, _)) = item.as_mut() {
                            draft.set(f, text);
                        }
                    } else {
                        field = Some((f, at, text));
                    }
                }
                if item.as_ref().is_some_and(|(_, at)| *at == depth) {
                    if let Some(done) = item.take().and_then(|(draft, _)| draft.finish()) {
                        items.push(done);
                    }
                }
                depth = depth.saturating_sub(1);
            }
            Event::Eof if !root_checked => return Err(fail("no root element".into())),
            Event::Eof if depth > 0 => {
                return Err(fail(format!(
                    "the document ends inside {depth} open element(s): truncated"
                )))
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
  <title>Crypto News</title>
  <link>https://news.example.com</link>
  <atom:link href="https://news.example.com/rss" rel="self" type="application/rss+xml"/>
  <item>
    <title><![CDATA[Bitcoin <b>falls</b> 10% after exchange hack]]></title>
    <link>https://news.example.com/a</link>
    <guid isPermaLink="false">id-a</guid>
    <pubDate>Tue, 16 Jan 2018 10:00:00 +0000</pubDate>
  </item>
  <item>
    <title>Ethereum &amp; friends rally &#36;ETH</title>
    <link>https://news.example.com/b</link>
    <dc:date>2018-01-16T11:00:00Z</dc:date>
  </item>
  <item><description>no title</description></item>
</channel>
</rss>"#;

    const ATOM: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Atom News</title>
  <entry>
    <title type="html">Solana &lt;i&gt;halts&lt;/i&gt; again</title>
    <link rel="alternate" href="https://atom.example.com/1"/>
    <link rel="replies" href="https://atom.example.com/1/comments"/>
    <id>urn:uuid:1</id>
    <updated>2018-01-17T09:00:00+01:00</updated>
  </entry>
</feed>"#;

    fn at(utc: &str) -> Option<Result<Timestamp, DateError>> {
        Timestamp::parse_utc(utc).map(Ok)
    }

    #[test]
    fn reads_rss_items() {
        let items = parse_feed(RSS).unwrap();
        assert_eq!(items.len(), 2, "the untitled item is skipped: {items:?}");
        assert_eq!(
            items[0].title,
            "Bitcoin <b>falls</b> 10% after exchange hack"
        );
        assert_eq!(items[0].link.as_deref(), Some("https://news.example.com/a"));
        assert_eq!(items[0].id.as_deref(), Some("id-a"));
        assert_eq!(items[0].published, at("2018-01-16T10:00:00Z"));
        assert_eq!(items[1].title, "Ethereum & friends rally $ETH");
        assert_eq!(items[1].published, at("2018-01-16T11:00:00Z"));
    }

    #[test]
    fn reads_atom_entries() {
        let items = parse_feed(ATOM).unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].title, "Solana <i>halts</i> again");
        assert_eq!(items[0].link.as_deref(), Some("https://atom.example.com/1"));
        assert_eq!(items[0].id.as_deref(), Some("urn:uuid:1"));
        assert_eq!(items[0].published, at("2018-01-17T08:00:00Z"));
    }

    #[test]
    fn broken_xml_and_other_documents_are_errors() {
        let err = parse_feed("<rss><channel><item><title>x</item></rss>").unwrap_err();
        assert!(err.to_string().contains("not well-formed"), "{err}");
        let err = parse_feed("<html><body>Service down").unwrap_err();
        assert!(err.to_string().contains("root element is <html>"), "{err}");
        assert!(parse_feed("").is_err());
    }

    #[test]
    fn a_truncated_feed_is_an_error_not_a_shorter_feed() {
        let cut = &RSS[..RSS.find("<item><description>").unwrap()];
        let err = parse_feed(cut).unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
        let err = parse_feed("<rss></rss><rss><channel></channel></rss>").unwrap_err();
        assert!(err.to_string().contains("after the root element"), "{err}");
        assert_eq!(parse_feed("<rss/>"), Ok(Vec::new()));
    }

    #[test]
    fn links_read_entities_as_text_does_and_refuse_broken_attributes() {
        let entry = |link: &str| format!("<feed><entry><title>t</title>{link}</entry></feed>");
        let items =
            parse_feed(&entry(r#"<link href="https://x/?a=1&amp;b=&#50;&nbsp;"/>"#)).unwrap();
        assert_eq!(items[0].link.as_deref(), Some("https://x/?a=1&b=2&nbsp;"));
        for broken in [
            r#"<link href="https://x/?a=1&b=2"/>"#,
            r#"<link href=https://x/ />"#,
            r#"<link href="a" href="b"/>"#,
        ] {
            assert!(parse_feed(&entry(broken)).is_err(), "{broken}");
        }
    }

    #[test]
    fn an_impossible_date_is_kept_as_an_error_never_another_date() {
        let feed = "<rss><channel><item><title>t</title>\
                    <pubDate>Tue, 31 Feb 2018 10:00:00 GMT</pubDate>\
                    <updated>2018-01-16T10:00:00Z</updated></item></channel></rss>";
        let items = parse_feed(feed).unwrap();
        let err = items[0].published.clone().unwrap().unwrap_err();
        assert_eq!(err.text, "Tue, 31 Feb 2018 10:00:00 GMT");
    }
}
