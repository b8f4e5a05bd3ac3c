//! The decisions of the `llm` strategy in the [`AnalysisCache`]: a `decisions` tree beside
//! the analyses, keyed by [`CacheKey::of_decision`], one JSON verdict per decision point.

use serde::{Deserialize, Serialize};

use super::cache::{AnalysisCache, CacheError};
use super::cache_key::CacheKey;
use super::decision_reply::check_decision;
use crate::model::{Decimal, ModelAction, ModelDecision};

/// What the cache remembers about one decision request.
#[derive(Debug, Clone, PartialEq)]
pub enum DecisionVerdict {
    /// The model's valid decision.
    Accepted(ModelDecision),
    /// The model answered with something that broke the contract (why). Replays count it as
    /// a failure, exactly as the recording run did.
    Rejected(String),
}

/// The stored form, independent of `ModelDecision`'s own serde shape. Prices are written as
/// decimal strings, so they read back exactly.
#[derive(Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case", deny_unknown_fields)]
enum Stored {
    Accepted {
        action: ModelAction,
        confidence: f64,
        stop: Option<Decimal>,
        take_profit: Option<Decimal>,
        horizon_bars: Option<u32>,
        reasons: Vec<String>,
    },
    Rejected {
        reason: String,
    },
}

impl From<&DecisionVerdict> for Stored {
    fn from(verdict: &DecisionVerdict) -> Self {
        match verdict {
            DecisionVerdict::Accepted(d) => Stored::Accepted {
                action: d.action,
                confidence: d.confidence,
                stop: d.stop,
                take_profit: d.take_profit,
                horizon_bars: d.horizon_bars,
                reasons: d.reasons.clone(),
            },
            DecisionVerdict::Rejected(reason) => Stored::Rejected {
                reason: reason.clone(),
            },
        }
    }
}

impl From<Stored> for DecisionVerdict {
    fn from(stored: Stored) -> Self {
        match stored {
            Stored::Accepted {
                action,
                confidence,
                stop,
                take_profit,
                horizon_bars,
                reasons,
            } => DecisionVerdict::Accepted(ModelDecision {
                action,
                confidence,
                stop,
                take_profit,
                horizon_bars,
                reasons,
            }),
            Stored::Rejected { reason } => DecisionVerdict::Rejected(reason),
        }
    }
}

impl AnalysisCache {
    /// The decision verdict stored under `key`, if any. An unreadable entry, or an accepted
    /// decision outside the contract's bounds, is an error naming the key: a cache file is
    /// input too, and a decision is refused rather than fixed.
    pub fn get_decision(&self, key: &CacheKey) -> Result<Option<DecisionVerdict>, CacheError> {
        let stored: Option<Stored> = self.read(&self.decisions, key)?;
        let verdict = stored.map(DecisionVerdict::from);
        if let Some(DecisionVerdict::Accepted(decision)) = &verdict {
            check_decision(decision).map_err(|e| {
                self.entry_err(format!("entry {key} breaks the decision contract: {e}"))
            })?;
        }
        Ok(verdict)
    }

    /// Stores the decision `verdict` under `key` and flushes it to disk.
    pub fn put_decision(
        &self,
        key: &CacheKey,
        verdict: &DecisionVerdict,
    ) -> Result<(), CacheError> {
        self.write(&self.decisions, key, &Stored::from(verdict))
    }

    /// How many decision verdicts the cache holds.
    pub fn decisions(&self) -> usize {
        self.decisions.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::cache::tests::reopen;
    use crate::llm::Verdict;

    /// An exact decimal (keel-news has `rust_decimal` only through keel-model, so no `dec!`).
    fn dec(text: &str) -> Decimal {
        Decimal::from_str_exact(text).unwrap()
    }

    fn key(n: u8) -> CacheKey {
        CacheKey::from_bytes([n; 32])
    }

    fn decision() -> ModelDecision {
        ModelDecision {
            action: ModelAction::Buy,
            confidence: 0.65,
            stop: Some(dec("61234.567890123456789")),
            take_profit: Some(dec("70000")),
            horizon_bars: Some(24),
            reasons: vec!["trend up".into(), "calm news".into()],
        }
    }

    #[test]
    fn both_verdicts_survive_a_reopen_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let accepted = DecisionVerdict::Accepted(decision());
        let rejected = DecisionVerdict::Rejected("reply has unknown key `size`".into());
        {
            let cache = AnalysisCache::open(dir.path()).unwrap();
            assert_eq!(cache.get_decision(&key(1)).unwrap(), None);
            cache.put_decision(&key(1), &accepted).unwrap();
            cache.put_decision(&key(2), &rejected).unwrap();
            assert_eq!(cache.get_decision(&key(1)).unwrap(), Some(accepted.clone()));
        }
        let cache = reopen(dir.path());
        let Some(DecisionVerdict::Accepted(back)) = cache.get_decision(&key(1)).unwrap() else {
            panic!("expected the decision");
        };
        assert_eq!(back, decision());
        assert_eq!(back.stop.unwrap().to_string(), "61234.567890123456789");
        assert_eq!(cache.get_decision(&key(2)).unwrap(), Some(rejected));
        assert_eq!((cache.decisions(), cache.len()), (2, 0));
        // The two trees are apart: a decision is no analysis under the same key.
        assert_eq!(cache.get(&key(1)).unwrap(), None);
    }

    #[test]
    fn an_entry_outside_the_contract_is_an_error_naming_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let cache = AnalysisCache::open(dir.path()).unwrap();
        let tampered = [
            (
                3,
                r#"{"verdict":"accepted","action":"buy","confidence":3,"stop":null,"take_profit":null,"horizon_bars":null,"reasons":[]}"#,
            ),
            (
                4,
                r#"{"verdict":"accepted","action":"hold","confidence":0.5,"stop":null,"take_profit":null,"horizon_bars":null,"reasons":["a","b","c","d","e","f"]}"#,
            ),
            (
                5,
                r#"{"verdict":"accepted","action":"buy","confidence":0.5,"stop":"-1","take_profit":null,"horizon_bars":null,"reasons":[]}"#,
            ),
            (
                6,
                r#"{"verdict":"accepted","action":"BUY","confidence":0.5,"stop":null,"take_profit":null,"horizon_bars":null,"reasons":[]}"#,
            ),
            (7, "garbage"),
        ];
        for (n, entry) in tampered {
            cache
                .decisions
                .insert(key(n).as_bytes(), entry.as_bytes())
                .unwrap();
            let err = cache.get_decision(&key(n)).unwrap_err().to_string();
            assert!(err.contains(&key(n).to_string()), "{err}");
        }
        let err = cache.get_decision(&key(3)).unwrap_err().to_string();
        assert!(err.contains("breaks the decision contract"), "{err}");
        assert!(err.contains("`confidence` is 3"), "{err}");
    }

    #[test]
    fn a_cache_without_a_decisions_tree_opens_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let analysis = Verdict::Rejected("prose".into());
        {
            // A cache written before decisions existed: analyses and spending only.
            let db = sled::open(dir.path()).unwrap();
            let analyses = db.open_tree("analyses").unwrap();
            let stored = br#"{"verdict":"rejected","reason":"prose"}"#;
            analyses.insert(key(1).as_bytes(), stored.to_vec()).unwrap();
            db.flush().unwrap();
            assert!(!db.tree_names().iter().any(|n| &n[..] == b"decisions"));
        }
        let cache = reopen(dir.path());
        assert_eq!(cache.get(&key(1)).unwrap(), Some(analysis));
        assert_eq!(cache.decisions(), 0);
        assert_eq!(cache.get_decision(&key(1)).unwrap(), None);
    }
}
