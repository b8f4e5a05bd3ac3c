//! Polling the configured feeds: conditional GETs, parsing, dedup and tagging; new
//! headlines go to the sentiment actor and, optionally, to a JSONL file for replay.
//!
//! Each feed is a dependency like the venue and the model: a poll is retried on transient
//! failures (no answer, 429, 5xx; `Retry-After` honoured) by keel's one retry helper, and a
//! feed that keeps failing opens its own circuit breaker, which skips it until its cool-down
//! has passed. A feed's failure never stops the others.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::runtime::{
    contained_future, task_failed, task_resumed, ActorHandle, Inbox, NEWS_POLLER,
};
use keel_supervision::{retry_idempotent, BreakerConfig, CircuitBreaker, RetryPolicy};
use tracing::{debug, error, info, warn};

use crate::messages::NewHeadlines;
use crate::model::{Clock, Timestamp};
use keel_news::feed::{feed_client, fetch_feed, parse_feed, Fetched, SeenItems, Validators};
use keel_news::{Headline, SymbolTagger};

/// What one round over every feed found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PollReport {
    /// New headlines about traded symbols, oldest first.
    pub headlines: Vec<Headline>,
    /// Feeds that answered with a document.
    pub fetched: usize,
    /// Feeds that answered 304 Not Modified.
    pub not_modified: usize,
    /// Feeds that failed (unreachable, error status, not XML), after their retries.
    pub failed: usize,
    /// Feeds not polled because their circuit breaker is open.
    pub skipped: usize,
    /// Items seen before.
    pub duplicates: usize,
    /// New items about no traded symbol.
    pub untagged: usize,
    /// New items skipped because their date is not one (`31 Feb`, offset `+99:99`).
    pub bad_dates: usize,
}

#[derive(Clone)]
struct Feed {
    name: String,
    url: String,
    validators: Validators,
    breaker: CircuitBreaker,
}

/// How patient the poller is with a failing feed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedProtection {
    /// Retries of one poll (transient failures only).
    pub retry: RetryPolicy,
    /// Each feed's circuit breaker.
    pub breaker: BreakerConfig,
}

impl Default for FeedProtection {
    /// Two retries (0.5 s, then 1 s, jittered; a `Retry-After` of up to 30 s is waited for);
    /// a feed failing half of its last 10 polls (at least 5) is skipped for 5 minutes, then
    /// tried once.
    fn default() -> Self {
        Self {
            retry: RetryPolicy {
                min_delay_ms: 500,
                max_delay_ms: 5_000,
                max_times: 2,
                jitter: true,
                jitter_seed: None,
                max_retry_after_ms: 30_000,
            },
            breaker: BreakerConfig {
                window_size: 10,
                failure_rate_threshold: 0.5,
                minimum_calls: 5,
                open_cooldown_ms: 300_000,
                half_open_trial_calls: 1,
            },
        }
    }
}

/// The state of polling: each feed's validators and breaker, and every item seen. A clone is
/// a checkpoint (the HTTP client is shared).
#[derive(Clone)]
pub struct FeedPoller {
    client: reqwest::Client,
    feeds: Vec<Feed>,
    seen: SeenItems,
    tagger: SymbolTagger,
    retry: RetryPolicy,
}

impl FeedPoller {
    /// A poller for `feeds` (name → URL), tagging with `tagger`, with the default
    /// [`FeedProtection`].
    pub fn new(
        feeds: &BTreeMap<String, String>,
        tagger: SymbolTagger,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        Self::protected(feeds, tagger, timeout, FeedProtection::default())
    }

    /// [`FeedPoller::new`] with chosen retries and breakers.
    pub fn protected(
        feeds: &BTreeMap<String, String>,
        tagger: SymbolTagger,
        timeout: Duration,
        protection: FeedProtection,
    ) -> Result<Self, reqwest::Error> {
        Ok(Self {
            client: feed_client(timeout)?,
            feeds: feeds
                .iter()
                .map(|(name, url)| Feed {
                    name: name.clone(),
                    url: url.clone(),
                    validators: Validators::default(),
                    breaker: CircuitBreaker::new(protection.breaker.clone()),
                })
                .collect(),
            seen: SeenItems::new(),
            tagger,
            retry: protection.retry,
        })
    }

    /// Polls every feed once; `now` dates items without a date.
    pub async fn poll(&mut self, now: Timestamp) -> PollReport {
        let mut report = PollReport::default();
        for feed in &mut self.feeds {
            let permit = match feed.breaker.allow(Instant::now()) {
                Ok(permit) => permit,
                Err(refused) => {
                    if let Some(transition) = refused.transition {
                        warn!(feed = %feed.name, %transition, "news feed breaker");
                    }
                    debug!(feed = %feed.name, %refused, "news feed skipped");
                    report.skipped += 1;
                    continue;
                }
            };
            if let Some(transition) = permit.transition() {
                info!(feed = %feed.name, %transition, "news feed breaker");
            }
            let answer = retry_idempotent(
                || fetch_feed(&self.client, &feed.url, &feed.validators),
                &self.retry,
                |e, wait| {
                    warn!(feed = %feed.name, error = %e, wait_ms = wait.as_millis() as u64, "news feed poll failed, retrying");
                },
            )
            .await;
            let polled = match answer {
                Ok(Fetched::NotModified) => Ok(None),
                Ok(Fetched::Body { text, validators }) => match parse_feed(&text) {
                    Ok(items) => {
                        feed.validators = validators;
                        Ok(Some(items))
                    }
                    Err(e) => Err(format!("unreadable: {e}")),
                },
                Err(e) => Err(e.to_string()),
            };
            let transition = match &polled {
                Ok(_) => feed.breaker.on_success(permit, Instant::now()),
                Err(_) => feed.breaker.on_failure(permit, Instant::now()),
            };
            if let Some(transition) = transition {
                warn!(feed = %feed.name, %transition, "news feed breaker");
            }
            let items = match polled {
                Ok(Some(items)) => items,
                Ok(None) => {
                    report.not_modified += 1;
                    continue;
                }
                Err(why) => {
                    report.failed += 1;
                    warn!(feed = %feed.name, error = %why, "news feed poll failed");
                    continue;
                }
            };
            report.fetched += 1;
            let intake = self.seen.take(&feed.name, items, &self.tagger, now);
            report.duplicates += intake.duplicates;
            report.untagged += intake.untagged;
            report.bad_dates += intake.bad_dates;
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
/// `record`, are appended to that JSONL file. The poller is a member of the supervision tree
/// (`supervision`, registered as [`NEWS_POLLER`](crate::runtime::NEWS_POLLER)): a poll that
/// panics is reported like an actor's failure, the poller goes back to its state from before
/// that poll (the items it took are taken again, not lost) and polls again after the
/// restart's backoff; it stops when trading stops. The chaos monkey's strike lands after a
/// poll has taken its items and before they are delivered.
pub fn spawn_poller(
    mut poller: FeedPoller,
    every: Duration,
    clock: Box<dyn Clock>,
    sentiment: Inbox<NewHeadlines>,
    record: Option<PathBuf>,
    supervision: ActorHandle,
) -> tokio::task::JoinHandle<()> {
    actix::spawn(async move {
        loop {
            let checkpoint = poller.clone();
            let now = clock.now();
            let polled = contained_future(async {
                let report = poller.poll(now).await;
                if supervision.take_strike().is_some() {
                    panic!("chaos monkey: injected panic (news poller, before delivering a poll)");
                }
                report
            })
            .await;
            let report = match polled {
                Ok(report) => report,
                Err(payload) => {
                    poller = checkpoint;
                    let Some(backoff) = task_failed(&supervision, payload.as_ref()) else {
                        error!(
                            actor = NEWS_POLLER,
                            "trading stopped: the news poller stops"
                        );
                        return;
                    };
                    tokio::time::sleep(backoff).await;
                    task_resumed(&supervision);
                    continue;
                }
            };
            debug!(
                fetched = report.fetched,
                not_modified = report.not_modified,
                failed = report.failed,
                bad_dates = report.bad_dates,
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
                sentiment.send(NewHeadlines(report.headlines));
            }
            tokio::time::sleep(every).await;
        }
    })
}
