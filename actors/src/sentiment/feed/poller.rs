//! Polling the configured feeds: conditional GETs, parsing, dedup and tagging; new
//! headlines go to the sentiment actor and, optionally, to a JSONL file for replay.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use actix::Recipient;
use tracing::{debug, info, warn};

use super::fetch::{fetch_feed, Fetched, Validators};
use super::items::SeenItems;
use super::parse::parse_feed;
use crate::model::{Clock, Timestamp};
use crate::sentiment::actor::NewHeadlines;
use crate::sentiment::{Headline, SymbolTagger};

/// What one round over every feed found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PollReport {
    /// New headlines about traded symbols, oldest first.
    pub headlines: Vec<Headline>,
    /// Feeds that answered with a document.
    pub fetched: usize,
    /// Feeds that answered 304 Not Modified.
    pub not_modified: usize,
    /// Feeds that failed (unreachable, error status, not XML).
    pub failed: usize,
    /// Items seen before.
    pub duplicates: usize,
    /// New items about no traded symbol.
    pub untagged: usize,
}

struct Feed {
    name: String,
    url: String,
    validators: Validators,
}

/// The state of polling: each feed's validators and every item seen.
pub struct FeedPoller {
    client: reqwest::Client,
    feeds: Vec<Feed>,
    seen: SeenItems,
    tagger: SymbolTagger,
}

impl FeedPoller {
    /// A poller for `feeds` (name → URL), tagging with `tagger`.
    pub fn new(
        feeds: &BTreeMap<String, String>,
        tagger: SymbolTagger,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        Ok(Self {
            client: super::fetch::feed_client(timeout)?,
            feeds: feeds
                .iter()
                .map(|(name, url)| Feed {
                    name: name.clone(),
                    url: url.clone(),
                    validators: Validators::default(),
                })
                .collect(),
            seen: SeenItems::new(),
            tagger,
        })
    }

    /// Polls every feed once; `now` dates items without a date.
    pub async fn poll(&mut self, now: Timestamp) -> PollReport {
        let mut report = PollReport::default();
        for feed in &mut self.feeds {
            let text = match fetch_feed(&self.client, &feed.url, &feed.validators).await {
                Ok(Fetched::NotModified) => {
                    report.not_modified += 1;
                    continue;
                }
                Ok(Fetched::Body { text, validators }) => {
                    feed.validators = validators;
                    text
                }
                Err(e) => {
                    report.failed += 1;
                    warn!(feed = %feed.name, error = %e, "news feed poll failed");
                    continue;
                }
            };
            let items = match parse_feed(&text) {
                Ok(items) => items,
                Err(e) => {
                    report.failed += 1;
                    warn!(feed = %feed.name, error = %e, "news feed unreadable");
                    continue;
                }
            };
            report.fetched += 1;
            let intake = self.seen.take(&feed.name, items, &self.tagger, now);
            report.duplicates += intake.duplicates;
            report.untagged += intake.untagged;
            report.headlines.extend(intake.headlines);
        }
        report.headlines.sort_by_key(|h| h.published);
        report
    }
}

/// One JSONL line in the replay format of `data.headlines`.
pub fn jsonl_line(headline: &Headline) -> String {
    let currencies: Vec<String> = headline
        .symbols
        .iter()
        .map(|s| s.base().to_string())
        .collect();
    serde_json::json!({
        "published_at": headline.published.to_string(),
        "title": headline.title,
        "source": headline.source,
        "currencies": currencies,
    })
    .to_string()
}

/// Appends `headlines` to the JSONL file at `path`.
pub fn append_jsonl(path: &Path, headlines: &[Headline]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let mut text = String::new();
    for headline in headlines {
        text.push_str(&jsonl_line(headline));
        text.push('\n');
    }
    file.write_all(text.as_bytes())?;
    file.flush()
}

/// Polls every `every` until the system stops: new headlines go to `sentiment` and, with
/// `record`, are appended to that JSONL file.
pub fn spawn_poller(
    mut poller: FeedPoller,
    every: Duration,
    clock: Box<dyn Clock>,
    sentiment: Recipient<NewHeadlines>,
    record: Option<PathBuf>,
) -> tokio::task::JoinHandle<()> {
    actix::spawn(async move {
        loop {
            let report = poller.poll(clock.now()).await;
            debug!(
                fetched = report.fetched,
                not_modified = report.not_modified,
                failed = report.failed,
                "news feeds polled"
            );
            if !report.headlines.is_empty() {
                info!(
                    headlines = report.headlines.len(),
                    duplicates = report.duplicates,
                    untagged = report.untagged,
                    "news headlines received"
                );
                if let Some(path) = &record {
                    if let Err(e) = append_jsonl(path, &report.headlines) {
                        warn!(file = %path.display(), error = %e, "cannot record headlines");
                    }
                }
                sentiment.do_send(NewHeadlines(report.headlines));
            }
            tokio::time::sleep(every).await;
        }
    })
}
