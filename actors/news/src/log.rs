//! How the sentiment stage's output reads in the log, the same in the actor and the backtest.

use tracing::{debug, info, warn};

use crate::model::SentimentOutput;

/// Logs each output: sentiment at debug, events and analyst availability at info/warn.
pub fn log_outputs(outputs: &[SentimentOutput]) {
    for output in outputs {
        match output {
            SentimentOutput::Headline(h) => {
                debug!(symbol = %h.symbol, published = %h.published, title = %h.title, "headline released")
            }
            SentimentOutput::Update(u) => {
                debug!(symbol = %u.symbol, score = u.score, confidence = u.confidence, "sentiment")
            }
            SentimentOutput::Event(e) => {
                info!(symbol = %e.symbol, kind = ?e.kind, severity = ?e.severity, headline = %e.headline, "market event")
            }
            SentimentOutput::AnalystAvailable(true) => {
                info!("sentiment analyst available again: fusion uses sentiment and events")
            }
            SentimentOutput::AnalystAvailable(false) => {
                warn!("sentiment analyst unavailable: fusion runs technical-only with lower confidence")
            }
        }
    }
}
