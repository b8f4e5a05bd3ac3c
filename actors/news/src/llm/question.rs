//! What differs between the two questions an [`super::LlmSession`] can ask (a sentiment
//! analysis of headlines, a trading decision of the `llm` strategy): where their verdicts
//! are cached, and the wording of their log lines. Everything else takes one path.

use std::fmt;

use super::cache::{AnalysisCache, CacheError, Verdict};
use super::cache_key::CacheKey;
use super::decision_cache::DecisionVerdict;
use crate::model::ModelDecision;
use crate::Analysis;

/// The kind of a request, kept with its call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Question {
    /// A window of headlines → an [`Analysis`].
    Sentiment,
    /// A decision context → a [`ModelDecision`].
    Decision,
}

impl Question {
    /// The config section of the provider settings that ask it, for messages.
    pub(super) fn section(self) -> &'static str {
        match self {
            Question::Sentiment => "sentiment.llm",
            Question::Decision => "strategy.llm.api",
        }
    }
}

impl fmt::Display for Question {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Question::Sentiment => "sentiment",
            Question::Decision => "decision",
        })
    }
}

/// A question's cached verdict: an accepted answer or a rejection (why).
pub(super) trait Recorded: Sized {
    /// The valid answer.
    type Answer;
    /// The question it answers.
    const QUESTION: Question;

    fn read(cache: &AnalysisCache, key: &CacheKey) -> Result<Option<Self>, CacheError>;
    fn write(&self, cache: &AnalysisCache, key: &CacheKey) -> Result<(), CacheError>;
    fn accepted(answer: Self::Answer) -> Self;
    fn rejected(reason: String) -> Self;
    fn into_result(self) -> Result<Self::Answer, String>;
}

impl Recorded for Verdict {
    type Answer = Analysis;
    const QUESTION: Question = Question::Sentiment;

    fn read(cache: &AnalysisCache, key: &CacheKey) -> Result<Option<Self>, CacheError> {
        cache.get(key)
    }

    fn write(&self, cache: &AnalysisCache, key: &CacheKey) -> Result<(), CacheError> {
        cache.put(key, self)
    }

    fn accepted(answer: Analysis) -> Self {
        Verdict::Accepted(answer)
    }

    fn rejected(reason: String) -> Self {
        Verdict::Rejected(reason)
    }

    fn into_result(self) -> Result<Analysis, String> {
        match self {
            Verdict::Accepted(analysis) => Ok(analysis),
            Verdict::Rejected(reason) => Err(reason),
        }
    }
}

impl Recorded for DecisionVerdict {
    type Answer = ModelDecision;
    const QUESTION: Question = Question::Decision;

    fn read(cache: &AnalysisCache, key: &CacheKey) -> Result<Option<Self>, CacheError> {
        cache.get_decision(key)
    }

    fn write(&self, cache: &AnalysisCache, key: &CacheKey) -> Result<(), CacheError> {
        cache.put_decision(key, self)
    }

    fn accepted(answer: ModelDecision) -> Self {
        DecisionVerdict::Accepted(answer)
    }

    fn rejected(reason: String) -> Self {
        DecisionVerdict::Rejected(reason)
    }

    fn into_result(self) -> Result<ModelDecision, String> {
        match self {
            DecisionVerdict::Accepted(decision) => Ok(decision),
            DecisionVerdict::Rejected(reason) => Err(reason),
        }
    }
}
