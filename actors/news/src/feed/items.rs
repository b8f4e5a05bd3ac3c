//! Feed items → tagged, deduplicated headlines. Pure.

use std::collections::HashSet;

use sha2::{Digest, Sha256};
use tracing::warn;

use super::parse::FeedItem;
use crate::model::Timestamp;
use crate::{clean_title, Headline, SymbolTagger};

/// What became of a batch of items.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Intake {
    /// New headlines about traded symbols, oldest first.
    pub headlines: Vec<Headline>,
    /// Items seen before (same link, id, or title hash).
    pub duplicates: usize,
    /// New items about no traded symbol.
    pub untagged: usize,
    /// New items skipped because their date is not one (logged with the reason).
    pub bad_dates: usize,
}

/// Remembers which items were taken, across polls and feeds.
#[derive(Debug, Clone, Default)]
pub struct SeenItems(HashSet<String>);

impl SeenItems {
    /// Nothing seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many distinct items were seen.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether nothing was seen.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The identity of an item: its link, else its id, else a hash of its cleaned title.
    fn identity(item: &FeedItem, title: &str) -> String {
        if let Some(link) = item.link.as_deref().filter(|l| !l.is_empty()) {
            return format!("link:{link}");
        }
        if let Some(id) = item.id.as_deref().filter(|i| !i.is_empty()) {
            return format!("id:{id}");
        }
        let digest = Sha256::digest(title.to_lowercase().as_bytes());
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        format!("title:{hex}")
    }

    /// Takes the new items of feed `source`: cleans the titles, drops repeats (by link, id or
    /// title hash) and items about no traded symbol. An item without a date is dated `now`;
    /// an item whose date is not one (`31 Feb`, year 99999, offset +99:99) is skipped, counted
    /// in [`Intake::bad_dates`] and logged once with the reason, never dated otherwise. Times
    /// are truncated to whole seconds so that a recorded JSONL replays to the same analysis
    /// cache keys.
    pub fn take(
        &mut self,
        source: &str,
        items: Vec<FeedItem>,
        tagger: &SymbolTagger,
        now: Timestamp,
    ) -> Intake {
        let mut intake = Intake::default();
        // Titles are also compared, so that one story under two links counts once.
        for item in items {
            let title = clean_title(&item.title);
            if title.is_empty() {
                continue;
            }
            let identity = Self::identity(&item, &title);
            let title_key = Self::identity(
                &FeedItem {
                    link: None,
                    id: None,
                    ..item.clone()
                },
                &title,
            );
            if self.0.contains(&identity) || self.0.contains(&title_key) {
                intake.duplicates += 1;
                continue;
            }
            self.0.insert(identity);
            self.0.insert(title_key);
            let published = match item.published {
                None => now,
                Some(Ok(at)) => at,
                Some(Err(e)) => {
                    intake.bad_dates += 1;
                    warn!(feed = source, %title, date = %e.text, reason = %e.reason, "feed item skipped: its date is not a date");
                    continue;
                }
            };
            let symbols = tagger.tag(&title, &[]);
            if symbols.is_empty() {
                intake.untagged += 1;
                continue;
            }
            intake.headlines.push(Headline {
                published: Timestamp(
                    published
                        .millis()
                        .saturating_sub(published.millis().rem_euclid(1000)),
                ),
                title,
                source: source.to_string(),
                symbols,
            });
        }
        intake.headlines.sort_by_key(|h| h.published);
        intake
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Symbol;
    use crate::SentimentConfig;

    fn item(title: &str, link: Option<&str>, at: i64) -> FeedItem {
        FeedItem {
            title: title.into(),
            link: link.map(String::from),
            id: None,
            published: Some(Ok(Timestamp(at))),
        }
    }

    #[test]
    fn dedups_tags_and_truncates_times() {
        let symbols = [Symbol::parse("BTCUSDT").unwrap()];
        let tagger = SymbolTagger::new(&symbols, &SentimentConfig::default().aliases);
        let mut seen = SeenItems::new();
        let first = seen.take(
            "feed",
            vec![
                item("Bitcoin <b>jumps</b>", Some("https://x/1"), 5_250),
                item("Ethereum jumps", Some("https://x/2"), 1_000),
                item("Bitcoin jumps", Some("https://y/other-link"), 6_000),
            ],
            &tagger,
            Timestamp(9_000),
        );
        assert_eq!(first.headlines.len(), 1);
        assert_eq!(first.headlines[0].title, "Bitcoin jumps");
        assert_eq!(first.headlines[0].published, Timestamp(5_000));
        assert_eq!(first.headlines[0].source, "feed");
        assert_eq!((first.untagged, first.duplicates), (1, 1));

        let undated = FeedItem {
            published: None,
            ..item("Bitcoin dips", None, 0)
        };
        let second = seen.take(
            "feed",
            vec![
                item("Bitcoin <b>jumps</b>", Some("https://x/1"), 5_250),
                undated,
            ],
            &tagger,
            Timestamp(9_999),
        );
        assert_eq!(second.duplicates, 1);
        assert_eq!(second.headlines.len(), 1);
        assert_eq!(second.headlines[0].published, Timestamp(9_000));
    }

    #[test]
    fn an_item_whose_date_is_not_a_date_is_skipped_not_dated_now() {
        let symbols = [Symbol::parse("BTCUSDT").unwrap()];
        let tagger = SymbolTagger::new(&symbols, &SentimentConfig::default().aliases);
        let mut seen = SeenItems::new();
        let bad = FeedItem {
            published: Some(crate::feed::parse_feed_date(
                "Tue, 31 Feb 2018 10:00:00 GMT",
            )),
            ..item("Bitcoin <b>jumps</b>", Some("https://x/1"), 0)
        };
        let intake = seen.take("feed", vec![bad.clone()], &tagger, Timestamp(9_000));
        assert!(intake.headlines.is_empty());
        assert_eq!(intake.bad_dates, 1);
        // Seen: the next poll neither takes it nor warns again.
        let again = seen.take("feed", vec![bad], &tagger, Timestamp(9_000));
        assert_eq!((again.duplicates, again.bad_dates), (1, 0));
    }
}
