//! Polling a real-shaped RSS feed served on loopback: ETag and Last-Modified, dedup,
//! tagging, recording to JSONL and reading the recording back.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::prelude::*;

use super::poller::*;
use crate::messages::NewHeadlines;
use crate::model::{ManualClock, Symbol, Timestamp};
use crate::runtime::{Chaos, Inbox, Supervision, TreeSpec, NEWS_POLLER};
use keel_news::testing::{FakeResponse, FakeServer};
use keel_news::{load_news, Headline, SentimentConfig, SymbolTagger};
use keel_supervision::{HealthRegistry, MailboxGauge, Strategy, SupervisorConfig};

const FEED: &str = include_str!("testdata/news_rss.xml");

/// The feed of `FEED`, plus one new item after the second poll; answers 304 to a matching
/// `If-None-Match` or `If-Modified-Since`.
fn feed_server() -> FakeServer {
    FakeServer::start(|request, n| {
        let (etag, modified, body) = if n < 2 {
            ("\"v1\"", "Tue, 16 Jan 2018 12:05:41 GMT", FEED.to_string())
        } else {
            let fresh = r#"<item><title>Bitcoin Rebounds Above $12,000</title>
                <link>https://cryptodaily.example.com/markets/2018/01/16/bitcoin-rebounds/</link>
                <pubDate>Tue, 16 Jan 2018 13:00:00 GMT</pubDate></item>
                <item>"#;
            let body = FEED.replacen("<item>", fresh, 1);
            ("\"v2\"", "Tue, 16 Jan 2018 13:01:00 GMT", body)
        };
        let unchanged = request.header("if-none-match") == Some(etag)
            || request.header("if-modified-since") == Some(modified);
        if unchanged {
            FakeResponse::with_type(304, "application/rss+xml", "")
        } else {
            FakeResponse::with_type(200, "application/rss+xml; charset=utf-8", &body)
                .header("etag", etag)
                .header("last-modified", modified)
        }
    })
}

fn tagger() -> SymbolTagger {
    let symbols = [
        Symbol::parse("BTCUSDT").unwrap(),
        Symbol::parse("ETHUSDT").unwrap(),
    ];
    SymbolTagger::new(&symbols, &SentimentConfig::default().aliases)
}

/// The default protection with millisecond retry delays (the rules, not the patience, are
/// under test).
fn quick() -> FeedProtection {
    let mut protection = FeedProtection::default();
    protection.retry.min_delay_ms = 1;
    protection.retry.max_delay_ms = 2;
    protection
}

fn poller(server: &FakeServer) -> FeedPoller {
    let feeds = [("cryptodaily".to_string(), format!("{}/rss/", server.url()))]
        .into_iter()
        .collect();
    FeedPoller::protected(&feeds, tagger(), Duration::from_secs(2), quick()).unwrap()
}

#[actix_rt::test]
async fn polls_with_etag_dedups_and_tags() {
    let server = feed_server();
    let mut poller = poller(&server);
    let now = Timestamp::parse_utc("2018-01-16T12:10:00Z").unwrap();

    let first = poller.poll(now).await;
    assert_eq!((first.fetched, first.not_modified, first.failed), (1, 0, 0));
    let titles: Vec<&str> = first.headlines.iter().map(|h| h.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Ethereum Developers Delay 'Constantinople' Upgrade",
            "Bitcoin Price Falls Below $11,000 as Crypto Sell-Off Deepens",
        ],
        "oldest first; the Korean and Dogecoin items name no traded symbol"
    );
    assert_eq!(first.untagged, 2);
    assert_eq!(
        first.headlines[1].symbols,
        [Symbol::parse("BTCUSDT").unwrap()]
    );
    assert_eq!(first.headlines[1].source, "cryptodaily");
    assert_eq!(
        first.headlines[1].published,
        Timestamp::parse_utc("2018-01-16T11:45:00Z").unwrap()
    );

    // Unchanged: the server sees our validators and answers 304.
    let second = poller.poll(now).await;
    assert_eq!((second.fetched, second.not_modified), (0, 1));
    assert!(second.headlines.is_empty());
    let sent = &server.requests()[1];
    assert_eq!(sent.header("if-none-match"), Some("\"v1\""));
    assert_eq!(
        sent.header("if-modified-since"),
        Some("Tue, 16 Jan 2018 12:05:41 GMT")
    );

    // Changed: only the new item comes through; the old ones are duplicates.
    let third = poller.poll(now).await;
    assert_eq!(third.fetched, 1);
    assert_eq!(third.headlines.len(), 1);
    assert_eq!(third.headlines[0].title, "Bitcoin Rebounds Above $12,000");
    assert_eq!(third.duplicates, 4);
}

#[actix_rt::test]
async fn an_item_whose_date_is_not_one_is_skipped_and_counted_in_the_report() {
    let server = FakeServer::start(|_, _| {
        let bad = r#"<item><title>Bitcoin Hits A Date That Never Was</title>
            <link>https://cryptodaily.example.com/markets/2018/02/31/never/</link>
            <pubDate>Sat, 31 Feb 2018 13:00:00 GMT</pubDate></item>
            <item>"#;
        FakeResponse::with_type(
            200,
            "application/rss+xml; charset=utf-8",
            &FEED.replacen("<item>", bad, 1),
        )
    });
    let mut poller = poller(&server);
    let report = poller
        .poll(Timestamp::parse_utc("2018-01-16T12:10:00Z").unwrap())
        .await;
    assert_eq!(report.bad_dates, 1);
    assert_eq!(report.headlines.len(), 2, "the two good BTC/ETH items only");
    assert!(report
        .headlines
        .iter()
        .all(|h| !h.title.contains("Never Was")));
}

#[actix_rt::test]
async fn a_transient_failure_is_retried_within_the_poll() {
    let server = FakeServer::scripted(vec![
        FakeResponse::json(503, "{}"),
        FakeResponse::json(429, "{}").header("retry-after", "0.01"),
        FakeResponse::with_type(200, "application/rss+xml", FEED),
    ]);
    let mut poller = poller(&server);
    let report = poller.poll(Timestamp(0)).await;
    assert_eq!((report.fetched, report.failed), (1, 0));
    assert_eq!(report.headlines.len(), 2);
    assert_eq!(server.hits(), 3, "the first attempt and two retries");
}

#[actix_rt::test]
async fn a_failing_feed_is_counted_and_polling_goes_on() {
    let server = FakeServer::scripted(vec![
        FakeResponse::json(404, "{}"),
        FakeResponse::with_type(200, "text/html", "<html><body>oops"),
        FakeResponse::with_type(200, "application/rss+xml", FEED),
    ]);
    let mut poller = poller(&server);
    let now = Timestamp(0);
    assert_eq!(poller.poll(now).await.failed, 1, "HTTP 404");
    assert_eq!(server.hits(), 1, "a 404 is not retried");
    assert_eq!(poller.poll(now).await.failed, 1, "not a feed");
    assert_eq!(server.hits(), 2, "nor is a document that is not a feed");
    assert_eq!(poller.poll(now).await.headlines.len(), 2);
}

#[actix_rt::test]
async fn a_feed_that_keeps_failing_opens_its_breaker_and_is_skipped() {
    let server = FakeServer::start(|_, _| FakeResponse::json(404, "{}"));
    let mut poller = poller(&server);
    let now = Timestamp(0);
    // The breaker opens at half of the last polls failing, once five were made.
    for _ in 0..5 {
        let report = poller.poll(now).await;
        assert_eq!((report.failed, report.skipped), (1, 0));
    }
    let report = poller.poll(now).await;
    assert_eq!(
        (report.failed, report.skipped),
        (0, 1),
        "skipped while open"
    );
    assert_eq!(server.hits(), 5, "nothing sent to the open feed");
}

struct Sink(Arc<Mutex<Vec<Headline>>>);

impl Actor for Sink {
    type Context = Context<Self>;
}

impl Handler<NewHeadlines> for Sink {
    type Result = ();
    fn handle(&mut self, msg: NewHeadlines, _: &mut Self::Context) {
        self.0.lock().unwrap().extend(msg.0);
    }
}

/// Waits until `got` holds `n` headlines (the poller runs every 20 ms); minutes, then panics
/// with `never` if they do not come.
async fn until_headlines(got: &Mutex<Vec<Headline>>, n: usize, never: &str) {
    let arrived = async {
        while got.lock().unwrap().len() < n {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(300), arrived)
        .await
        .expect(never);
}

#[actix_rt::test]
async fn the_spawned_poller_delivers_and_records_replayable_jsonl() {
    let server = feed_server();
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("headlines.jsonl");
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = Sink(got.clone()).start();
    let clock = ManualClock::new(Timestamp::parse_utc("2018-01-16T12:10:00Z").unwrap());
    let task = spawn_poller(
        poller(&server),
        Duration::from_millis(20),
        Box::new(clock),
        Inbox::new(sink.recipient(), MailboxGauge::default()),
        Some(record.clone()),
        poller_tree().register(NEWS_POLLER),
    );
    until_headlines(&got, 3, "the poller never delivered the third headline").await;
    task.abort();
    let received = got.lock().unwrap().clone();
    assert_eq!(received.len(), 3, "two, then the new one");
    assert!(server.hits() >= 3);

    let replayed = load_news(&record, &tagger()).unwrap();
    assert_eq!(replayed.headlines, {
        let mut sorted = received.clone();
        sorted.sort_by_key(|h| h.published);
        sorted
    });
}

/// A tree holding just the news poller.
fn poller_tree() -> Supervision {
    let config = SupervisorConfig::default();
    Supervision::new(
        &config,
        &TreeSpec::flat("root", Strategy::OneForOne, &[NEWS_POLLER]),
        HealthRegistry::new(config.intensity.window()),
        std::rc::Rc::new(std::cell::Cell::new(false)),
        1,
    )
}

#[actix_rt::test]
async fn a_poll_that_fails_before_delivering_is_restarted_and_its_headlines_arrive_once() {
    let server = feed_server();
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = Sink(got.clone()).start();
    let clock = ManualClock::new(Timestamp::parse_utc("2018-01-16T12:10:00Z").unwrap());
    let tree = poller_tree();
    let handle = tree.register(NEWS_POLLER);
    // The first poll takes the feed's two headlines (and its ETag), then fails before
    // delivering them.
    handle.inject(Chaos::Panic);
    let task = spawn_poller(
        poller(&server),
        Duration::from_millis(20),
        Box::new(clock),
        Inbox::new(sink.recipient(), MailboxGauge::default()),
        None,
        handle,
    );
    until_headlines(&got, 3, "the headlines of the failed poll never arrived").await;
    task.abort();
    let stats = tree.stats();
    assert_eq!(stats.failures.get(NEWS_POLLER), Some(&1), "{stats:?}");
    assert_eq!(stats.restarts.get(NEWS_POLLER), Some(&1), "{stats:?}");
    let titles: Vec<String> = got
        .lock()
        .unwrap()
        .iter()
        .map(|h| h.title.clone())
        .collect();
    let unique: std::collections::HashSet<&String> = titles.iter().collect();
    assert_eq!(unique.len(), titles.len(), "each headline once: {titles:?}");
    assert_eq!(
        titles.len(),
        3,
        "the two of the failed poll, then the new one"
    );
}
