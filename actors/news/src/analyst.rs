//! The analyst seam: something that reads headlines about a symbol and returns a score, a
//! confidence and the events it saw. The lexicon scorer is the default; model-backed analysts
//! plug in behind the same trait, and their output is untrusted: [`Analysis::clamped`] is
//! applied to every analysis before anything downstream sees it.

use super::headline::Headline;
use crate::model::{EventKind, Severity, Symbol};

/// An analyst that could not produce an analysis. Counted by the sentiment core, never a signal.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnalystError {
    /// The analyst cannot be reached or refused to answer.
    #[error("analyst `{analyst}` is unavailable: {reason}")]
    Unavailable {
        /// The analyst's name.
        analyst: String,
        /// Why.
        reason: String,
    },
    /// The analyst answered with something that is not an analysis.
    #[error("analyst `{analyst}` returned invalid output: {reason}")]
    InvalidOutput {
        /// The analyst's name.
        analyst: String,
        /// What was wrong with it.
        reason: String,
    },
}

/// Reads the headlines about one symbol and judges them.
pub trait Analyst {
    /// A short name for logs and errors (`lexicon`, `openai:gpt-4o-mini`, ...).
    fn name(&self) -> &str;

    /// Judges `headlines` (oldest first) about `symbol`.
    fn analyze(
        &mut self,
        symbol: &Symbol,
        headlines: &[&Headline],
    ) -> Result<Analysis, AnalystError>;

    /// Named counters for the run summary (cache hits, fallbacks, ...); none by default.
    fn counters(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }
}

impl<A: Analyst + ?Sized> Analyst for Box<A> {
    fn name(&self) -> &str {
        (**self).name()
    }

    fn analyze(
        &mut self,
        symbol: &Symbol,
        headlines: &[&Headline],
    ) -> Result<Analysis, AnalystError> {
        (**self).analyze(symbol, headlines)
    }

    fn counters(&self) -> Vec<(&'static str, u64)> {
        (**self).counters()
    }
}

/// An event an analyst saw in one headline.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectedEvent {
    /// What kind of event.
    pub kind: EventKind,
    /// How severe.
    pub severity: Severity,
    /// Impact on the price in [-1, 1]; negative is bad.
    pub impact: f64,
    /// Index of the headline in the slice given to [`Analyst::analyze`].
    pub headline: usize,
}

/// An analyst's judgement of a window of headlines.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// Sentiment in [-1, 1].
    pub score: f64,
    /// Confidence in [0, 1].
    pub confidence: f64,
    /// Events seen, each tied to one headline.
    pub events: Vec<DetectedEvent>,
}

impl Analysis {
    /// A neutral analysis that claims nothing.
    pub fn neutral() -> Self {
        Self {
            score: 0.0,
            confidence: 0.0,
            events: Vec::new(),
        }
    }

    /// Forces the analysis into range, treating it as untrusted: a non-finite score makes the
    /// whole judgement worthless (score 0, confidence 0); a non-finite confidence becomes 0;
    /// finite values are clamped to [-1, 1] and [0, 1]; events with a non-finite impact are
    /// dropped and the rest have their impact clamped to [-1, 1].
    pub fn clamped(self) -> Analysis {
        let (score, confidence) = if !self.score.is_finite() {
            (0.0, 0.0)
        } else if !self.confidence.is_finite() {
            (self.score.clamp(-1.0, 1.0), 0.0)
        } else {
            (self.score.clamp(-1.0, 1.0), self.confidence.clamp(0.0, 1.0))
        };
        let events = self
            .events
            .into_iter()
            .filter(|e| e.impact.is_finite())
            .map(|e| DetectedEvent {
                impact: e.impact.clamp(-1.0, 1.0),
                ..e
            })
            .collect();
        Analysis {
            score,
            confidence,
            events,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(impact: f64) -> DetectedEvent {
        DetectedEvent {
            kind: EventKind::Hack,
            severity: Severity::Critical,
            impact,
            headline: 0,
        }
    }

    #[test]
    fn clamps_out_of_range_values() {
        let a = Analysis {
            score: 7.0,
            confidence: -0.5,
            events: vec![event(-3.0)],
        }
        .clamped();
        assert_eq!((a.score, a.confidence), (1.0, 0.0));
        assert_eq!(a.events[0].impact, -1.0);
    }

    #[test]
    fn nan_and_infinity_never_pass() {
        let a = Analysis {
            score: f64::NAN,
            confidence: 0.9,
            events: vec![event(f64::NAN), event(-0.4)],
        }
        .clamped();
        assert_eq!((a.score, a.confidence), (0.0, 0.0));
        assert_eq!(a.events, vec![event(-0.4)]);

        let a = Analysis {
            score: f64::NEG_INFINITY,
            confidence: 1.0,
            events: vec![],
        }
        .clamped();
        assert_eq!((a.score, a.confidence), (0.0, 0.0));

        let a = Analysis {
            score: -0.3,
            confidence: f64::NAN,
            events: vec![],
        }
        .clamped();
        assert_eq!((a.score, a.confidence), (-0.3, 0.0));
    }
}
