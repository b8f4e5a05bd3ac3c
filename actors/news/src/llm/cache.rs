//! The analysis cache: a sled database of verdicts keyed by [`CacheKey`] (sentiment analyses
//! in the `analyses` tree, strategy decisions in `decisions`, see
//! [`super::decision_cache`]), the web search results the `llm` strategy was shown in
//! `searches`, plus each provider's token spending of the day. Replays read it; `record` runs
//! fill it.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::cache_key::CacheKey;
use crate::model::{EventKind, Severity};
use crate::{Analysis, DetectedEvent};
use keel_core::strategy::llm::SearchHit;

/// The cache could not be opened, read or written.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// Opening the database failed (missing permissions, held by another process, corrupt).
    #[error("cannot open the analysis cache {path} (sentiment.cache_dir): {source}")]
    Open {
        /// The directory.
        path: PathBuf,
        /// sled's error.
        source: sled::Error,
    },
    /// Reading or writing an entry failed.
    #[error("analysis cache {path}: {message}")]
    Entry {
        /// The directory.
        path: PathBuf,
        /// What failed.
        message: String,
    },
}

/// What the cache remembers about one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The model's valid (clamped) analysis.
    Accepted(Analysis),
    /// The model answered with something that broke the contract (why). Replays count it as
    /// a failure, exactly as the recording run did.
    Rejected(String),
}

#[derive(Serialize, Deserialize)]
struct StoredEvent {
    kind: EventKind,
    severity: Severity,
    impact: f64,
    headline: usize,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
enum Stored {
    Accepted {
        score: f64,
        confidence: f64,
        events: Vec<StoredEvent>,
    },
    Rejected {
        reason: String,
    },
}

impl From<&Verdict> for Stored {
    fn from(verdict: &Verdict) -> Self {
        match verdict {
            Verdict::Accepted(a) => Stored::Accepted {
                score: a.score,
                confidence: a.confidence,
                events: a
                    .events
                    .iter()
                    .map(|e| StoredEvent {
                        kind: e.kind,
                        severity: e.severity,
                        impact: e.impact,
                        headline: e.headline,
                    })
                    .collect(),
            },
            Verdict::Rejected(reason) => Stored::Rejected {
                reason: reason.clone(),
            },
        }
    }
}

impl From<Stored> for Verdict {
    fn from(stored: Stored) -> Self {
        match stored {
            Stored::Accepted {
                score,
                confidence,
                events,
            } => Verdict::Accepted(
                Analysis {
                    score,
                    confidence,
                    events: events
                        .into_iter()
                        .map(|e| DetectedEvent {
                            kind: e.kind,
                            severity: e.severity,
                            impact: e.impact,
                            headline: e.headline,
                        })
                        .collect(),
                }
                // A cache file is input too: clamp again on the way out.
                .clamped(),
            ),
            Stored::Rejected { reason } => Verdict::Rejected(reason),
        }
    }
}

/// The sled-backed cache. Cheap to clone (all clones share one database).
#[derive(Debug, Clone)]
pub struct AnalysisCache {
    path: PathBuf,
    db: sled::Db,
    analyses: sled::Tree,
    /// The decisions' verdicts (created on first open, so older caches open as they are).
    pub(super) decisions: sled::Tree,
    /// Web search results by query and day (created on first open, like `decisions`).
    searches: sled::Tree,
    spending: sled::Tree,
}

impl AnalysisCache {
    /// Opens (or creates) the cache in directory `path`.
    pub fn open(path: &Path) -> Result<Self, CacheError> {
        let open_err = |source| CacheError::Open {
            path: path.to_path_buf(),
            source,
        };
        let db = sled::open(path).map_err(open_err)?;
        let analyses = db.open_tree("analyses").map_err(open_err)?;
        let decisions = db.open_tree("decisions").map_err(open_err)?;
        let searches = db.open_tree("searches").map_err(open_err)?;
        let spending = db.open_tree("spending").map_err(open_err)?;
        Ok(Self {
            path: path.to_path_buf(),
            db,
            analyses,
            decisions,
            searches,
            spending,
        })
    }

    pub(super) fn entry_err(&self, message: String) -> CacheError {
        CacheError::Entry {
            path: self.path.clone(),
            message,
        }
    }

    /// The JSON entry of `tree` under `key`, decoded, if any. An unreadable entry is an error.
    pub(super) fn read<T: DeserializeOwned>(
        &self,
        tree: &sled::Tree,
        key: &CacheKey,
    ) -> Result<Option<T>, CacheError> {
        let Some(bytes) = tree
            .get(key.as_bytes())
            .map_err(|e| self.entry_err(format!("reading {key}: {e}")))?
        else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| self.entry_err(format!("entry {key} is unreadable: {e}")))
    }

    /// Stores `entry` as JSON in `tree` under `key` and flushes it to disk.
    pub(super) fn write<T: Serialize>(
        &self,
        tree: &sled::Tree,
        key: &CacheKey,
        entry: &T,
    ) -> Result<(), CacheError> {
        let bytes = serde_json::to_vec(entry)
            .map_err(|e| self.entry_err(format!("encoding {key}: {e}")))?;
        tree.insert(key.as_bytes(), bytes)
            .map_err(|e| self.entry_err(format!("writing {key}: {e}")))?;
        self.db
            .flush()
            .map_err(|e| self.entry_err(format!("flushing: {e}")))?;
        Ok(())
    }

    /// The verdict stored under `key`, if any. An unreadable entry is an error.
    pub fn get(&self, key: &CacheKey) -> Result<Option<Verdict>, CacheError> {
        let stored: Option<Stored> = self.read(&self.analyses, key)?;
        Ok(stored.map(Verdict::from))
    }

    /// Stores `verdict` under `key` and flushes it to disk.
    pub fn put(&self, key: &CacheKey, verdict: &Verdict) -> Result<(), CacheError> {
        self.write(&self.analyses, key, &Stored::from(verdict))
    }

    /// How many analysis verdicts the cache holds (decisions: [`Self::decisions`]).
    pub fn len(&self) -> usize {
        self.analyses.len()
    }

    /// Whether the cache holds no analysis verdict.
    pub fn is_empty(&self) -> bool {
        self.analyses.is_empty()
    }

    /// The search results cached for `query` up to UTC day `day` (`YYYY-MM-DD`), if any. An
    /// unreadable entry is an error naming both.
    pub fn get_search(&self, query: &str, day: &str) -> Result<Option<Vec<SearchHit>>, CacheError> {
        let Some(bytes) = self
            .searches
            .get(search_key(query, day))
            .map_err(|e| self.entry_err(format!("reading the search `{query}` of {day}: {e}")))?
        else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            self.entry_err(format!("the search `{query}` of {day} is unreadable: {e}"))
        })
    }

    /// Stores the results `hits` of `query` up to `day` as JSON and flushes them to disk.
    pub fn put_search(&self, query: &str, day: &str, hits: &[SearchHit]) -> Result<(), CacheError> {
        let bytes = serde_json::to_vec(hits)
            .map_err(|e| self.entry_err(format!("encoding the search `{query}` of {day}: {e}")))?;
        self.searches
            .insert(search_key(query, day), bytes)
            .map_err(|e| self.entry_err(format!("writing the search `{query}` of {day}: {e}")))?;
        self.db
            .flush()
            .map_err(|e| self.entry_err(format!("flushing: {e}")))?;
        Ok(())
    }

    /// How many searches the cache holds.
    pub fn searches(&self) -> usize {
        self.searches.len()
    }

    /// `provider`'s recorded spending: (UTC day, tokens), if any.
    pub fn spending(&self, provider: &str) -> Result<Option<(i64, u64)>, CacheError> {
        let Some(bytes) = self
            .spending
            .get(provider.as_bytes())
            .map_err(|e| self.entry_err(format!("reading spending of {provider}: {e}")))?
        else {
            return Ok(None);
        };
        let (day, used) = bytes.split_at(8.min(bytes.len()));
        match (<[u8; 8]>::try_from(day), <[u8; 8]>::try_from(used)) {
            (Ok(day), Ok(used)) => Ok(Some((i64::from_le_bytes(day), u64::from_le_bytes(used)))),
            _ => Err(self.entry_err(format!("spending of {provider} is unreadable"))),
        }
    }

    /// Records `provider`'s spending of UTC day `day`.
    pub fn set_spending(&self, provider: &str, day: i64, used: u64) -> Result<(), CacheError> {
        let mut bytes = day.to_le_bytes().to_vec();
        bytes.extend_from_slice(&used.to_le_bytes());
        self.spending
            .insert(provider.as_bytes(), bytes)
            .map_err(|e| self.entry_err(format!("writing spending of {provider}: {e}")))?;
        Ok(())
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The first field of every search key.
const SEARCH_TAG: &str = "keel-news/search";

/// SHA-256 of (a search tag, the query, the day), each length-prefixed like
/// [`CacheKey`]'s fields so that no two inputs share an encoding.
fn search_key(query: &str, day: &str) -> [u8; 32] {
    let mut hash = Sha256::new();
    for field in [SEARCH_TAG, query, day] {
        hash.update((field.len() as u64).to_le_bytes());
        hash.update(field.as_bytes());
    }
    hash.finalize().into()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    fn key(n: u8) -> CacheKey {
        CacheKey::from_bytes([n; 32])
    }

    /// Opens the cache at `path` again once sled has released the handle just dropped: sled
    /// gives up its file lock on a background thread, moments after the drop.
    pub(in crate::llm) fn reopen(path: &Path) -> AnalysisCache {
        let started = std::time::Instant::now();
        loop {
            match AnalysisCache::open(path) {
                Ok(cache) => return cache,
                Err(e)
                    if e.to_string().contains("could not acquire lock")
                        && started.elapsed() < std::time::Duration::from_secs(120) =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(e) => panic!("the cache does not open again: {e}"),
            }
        }
    }

    #[test]
    fn verdicts_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let accepted = Verdict::Accepted(Analysis {
            score: -0.5,
            confidence: 0.8,
            events: vec![DetectedEvent {
                kind: EventKind::Hack,
                severity: Severity::Critical,
                impact: -1.0,
                headline: 2,
            }],
        });
        let rejected = Verdict::Rejected("prose".into());
        {
            let cache = AnalysisCache::open(dir.path()).unwrap();
            assert_eq!(cache.get(&key(1)).unwrap(), None);
            cache.put(&key(1), &accepted).unwrap();
            cache.put(&key(2), &rejected).unwrap();
            cache.set_spending("openai", 19_000, 1234).unwrap();
        }
        let cache = reopen(dir.path());
        assert_eq!(cache.get(&key(1)).unwrap(), Some(accepted));
        assert_eq!(cache.get(&key(2)).unwrap(), Some(rejected));
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.spending("openai").unwrap(), Some((19_000, 1234)));
        assert_eq!(cache.spending("anthropic").unwrap(), None);
    }

    #[test]
    fn a_tampered_entry_is_clamped_or_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cache = AnalysisCache::open(dir.path()).unwrap();
        cache
            .analyses
            .insert(
                key(3).as_bytes(),
                br#"{"verdict":"accepted","score":9,"confidence":-2,"events":[]}"#.to_vec(),
            )
            .unwrap();
        let Some(Verdict::Accepted(a)) = cache.get(&key(3)).unwrap() else {
            panic!("expected an analysis");
        };
        assert_eq!((a.score, a.confidence), (1.0, 0.0));
        cache
            .analyses
            .insert(key(4).as_bytes(), b"garbage".to_vec())
            .unwrap();
        let err = cache.get(&key(4)).unwrap_err().to_string();
        assert!(err.contains("is unreadable"), "{err}");
    }

    #[test]
    fn a_cache_in_use_is_reported_with_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, b"x").unwrap();
        let err = AnalysisCache::open(&file).unwrap_err().to_string();
        assert!(err.contains("sentiment.cache_dir"), "{err}");
    }
    fn search_hits() -> Vec<SearchHit> {
        vec![
            SearchHit {
                title: "ETF inflows".into(),
                url: "https://news.example/etf".into(),
                content: "Record inflows…".into(),
                published: Some("2024-03-04".into()),
            },
            SearchHit {
                title: "Halt".into(),
                url: "https://news.example/halt".into(),
                content: String::new(),
                published: None,
            },
        ]
    }

    #[test]
    fn searches_round_trip_by_query_and_day() {
        let dir = tempfile::tempdir().unwrap();
        {
            let cache = AnalysisCache::open(dir.path()).unwrap();
            assert_eq!(cache.get_search("BTC news", "2024-03-05").unwrap(), None);
            cache
                .put_search("BTC news", "2024-03-05", &search_hits())
                .unwrap();
            assert_eq!(
                cache.get_search("BTC news", "2024-03-05").unwrap(),
                Some(search_hits())
            );
            assert_eq!(cache.get_search("BTC news", "2024-03-06").unwrap(), None);
            assert_eq!(cache.get_search("ETH news", "2024-03-05").unwrap(), None);
            cache.put_search("ETH news", "2024-03-05", &[]).unwrap();
            assert_eq!(
                cache.get_search("ETH news", "2024-03-05").unwrap(),
                Some(vec![])
            );
            assert_eq!((cache.searches(), cache.len()), (2, 0));
        }
        let cache = reopen(dir.path());
        assert_eq!(
            cache.get_search("BTC news", "2024-03-05").unwrap(),
            Some(search_hits())
        );
        assert_eq!(cache.searches(), 2);
    }

    #[test]
    fn search_keys_are_length_prefixed() {
        assert_ne!(search_key("ab", "c"), search_key("a", "bc"));
        assert_ne!(search_key("q", "2024-03-05"), search_key("q", "2024-03-06"));
    }

    #[test]
    fn an_unreadable_search_names_its_query_and_day() {
        let dir = tempfile::tempdir().unwrap();
        let cache = AnalysisCache::open(dir.path()).unwrap();
        cache
            .searches
            .insert(search_key("BTC news", "2024-03-05"), b"{}".to_vec())
            .unwrap();
        let err = cache
            .get_search("BTC news", "2024-03-05")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("the search `BTC news` of 2024-03-05 is unreadable"),
            "{err}"
        );
    }

    #[test]
    fn a_cache_without_searches_opens() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = sled::open(dir.path()).unwrap();
            db.open_tree("analyses").unwrap();
            db.flush().unwrap();
        }
        let cache = reopen(dir.path());
        assert_eq!(cache.searches(), 0);
        assert_eq!(cache.get_search("q", "2024-01-01").unwrap(), None);
    }
}
