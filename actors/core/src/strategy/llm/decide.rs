//! The `llm` strategy's decisions: where a decision point falls, what a model's answer (or
//! its absence) becomes, and the counts an operator reads. Pure: the drivers ask the model
//! (or its cache) between [`LlmStage::ask`] and [`LlmStage::on_answer`].

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use super::config::{Fallback, LlmStrategyConfig};
use super::context::{AccountFacts, DecisionContext, PairMemory, SearchHit, Searched};
use crate::graph::Mode;
use crate::model::{
    Candle, Direction, ExitProposal, ModelAction, ModelDecision, NewsItem, Regime, SentimentUpdate,
    Symbol, TradingSignal,
};
use crate::symbol::SymbolUpdate;

/// One decision point, waiting for the model.
#[derive(Debug, Clone, PartialEq)]
pub struct Ask {
    /// What the model is shown (the account is added by [`Ask::see_account`]).
    pub context: DecisionContext,
    symbol: Symbol,
    ts: crate::model::Timestamp,
    price: rust_decimal::Decimal,
    atr: f64,
    technical: f64,
    sentiment: f64,
    /// What fusion decided on the bar, for `fallback = "fusion"`.
    fallback: Option<TradingSignal>,
    /// The web search to make first, if one is configured: its query and the bar's day.
    search: Option<(String, String)>,
}

impl Ask {
    /// Adds the account and the position to the context.
    pub fn see_account(&mut self, facts: &AccountFacts) {
        self.context.see_account(facts);
    }

    /// The pair.
    pub fn symbol(&self) -> &Symbol {
        &self.symbol
    }

    /// The web search this decision point needs first (`[strategy.llm.search]`): its query
    /// and the bar's UTC day (`YYYY-MM-DD`), so that a replay of history searches up to it.
    pub fn search(&self) -> Option<(&str, &str)> {
        self.search.as_ref().map(|(q, d)| (q.as_str(), d.as_str()))
    }

    /// Adds what the search found (`None`: it failed, or a replay lacks it).
    pub fn see_search(&mut self, hits: Option<Vec<SearchHit>>) {
        self.context.search = match hits {
            Some(hits) => Searched::Found(hits),
            None => Searched::Failed(()),
        };
    }
}

/// What became of a decision point's question.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// A valid reply (from the provider or the cache).
    Decided(ModelDecision),
    /// A reply that broke the contract (why): a counted failure, and a hold.
    Refused(String),
    /// No reply: the breaker is open, the budget spent, or the provider down (why).
    Unavailable(String),
    /// A replay's cache lacks this decision point.
    Missing,
}

/// The `llm` strategy's counts, for the run summary and `report.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlmStats {
    /// Decision points reached (traded bars of the configured symbols, every `decide_every`).
    pub decision_points: u64,
    /// Valid answers.
    pub decisions: u64,
    /// Of those: buys, sells or closes, holds.
    pub buys: u64,
    /// Sells and closes (of a held position).
    pub sells: u64,
    /// Holds (and sells with nothing held).
    pub holds: u64,
    /// Replies that broke the contract (each a hold).
    pub failures: u64,
    /// Decision points without a reply: breaker open, budget spent, provider down.
    pub unavailable: u64,
    /// Decision points a replay's cache lacked.
    pub missing: u64,
    /// Decision points without an answer decided by fusion (`fallback = "fusion"`).
    pub fallbacks: u64,
}

/// What the stage concluded from an answer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Concluded {
    /// The signal for risk, if any.
    pub signal: Option<TradingSignal>,
    /// The exits the model proposed with it.
    pub proposal: Option<ExitProposal>,
    /// Why, for the audit trail.
    pub reasons: Vec<String>,
}

/// The `llm` strategy's memory and counts.
#[derive(Debug, Clone)]
pub struct LlmStage {
    cfg: LlmStrategyConfig,
    pairs: HashMap<Symbol, PairMemory>,
    bars: HashMap<Symbol, u64>,
    stats: LlmStats,
    /// Why the last decision point went unanswered, while it lasts (logged once).
    degraded: Option<String>,
}

impl LlmStage {
    /// A stage for a validated config.
    pub fn new(cfg: &LlmStrategyConfig) -> Self {
        Self {
            cfg: cfg.clone(),
            pairs: HashMap::new(),
            bars: HashMap::new(),
            stats: LlmStats::default(),
            degraded: None,
        }
    }

    /// The counts so far.
    pub fn stats(&self) -> &LlmStats {
        &self.stats
    }

    /// What to do without an answer.
    pub fn fallback(&self) -> Fallback {
        self.cfg.fallback
    }

    /// Remembers a released headline.
    pub fn on_headline(&mut self, item: &NewsItem) {
        let keep = self.cfg.headlines;
        self.pairs
            .entry(item.symbol.clone())
            .or_default()
            .on_headline(item, keep);
    }

    /// Remembers a sentiment update.
    pub fn on_sentiment(&mut self, update: &SentimentUpdate) {
        self.pairs
            .entry(update.symbol.clone())
            .or_default()
            .on_sentiment(update);
    }

    /// Remembers the candle and, on a traded bar that is a decision point, returns the
    /// question for the model (`fallback`: fusion's signal on the bar, if it gave one).
    /// Recovered bars (decided before a restart) count towards `decide_every` but are not
    /// asked about again; warm-up bars only fill the memory.
    pub fn ask(
        &mut self,
        candle: &Candle,
        update: &SymbolUpdate,
        regime: Regime,
        mode: Mode,
        fallback: Option<TradingSignal>,
    ) -> Option<Ask> {
        let keep = self.cfg.candles;
        let pair = self.pairs.entry(candle.symbol.clone()).or_default();
        pair.on_candle(candle, keep);
        if mode == Mode::Warmup || !self.cfg.decides_for(&candle.symbol) {
            return None;
        }
        let bar = self.bars.entry(candle.symbol.clone()).or_default();
        let due = bar.is_multiple_of(u64::from(self.cfg.decide_every));
        *bar += 1;
        if !due || mode != Mode::Trading {
            return None;
        }
        self.stats.decision_points += 1;
        let search = self.cfg.search.enabled().then(|| {
            let day = candle.close_time().to_string();
            let day = day.get(..10).unwrap_or(&day).to_string();
            (self.cfg.search.query_for(&candle.symbol), day)
        });
        Some(Ask {
            search,
            context: pair.context(candle, &update.values, regime, update.setup.as_ref()),
            symbol: candle.symbol.clone(),
            ts: candle.close_time(),
            price: candle.close,
            atr: update.values.atr.unwrap_or(0.0),
            technical: update.setup.as_ref().map_or(0.0, |s| s.score),
            sentiment: pair.sentiment_score(),
            fallback,
        })
    }

    /// What the answer to `ask` becomes: a buy a long signal (with the exits the model
    /// proposed), a sell or close of a held position a short signal (which closes it), a
    /// hold nothing; no answer is the fallback (a hold, or fusion's signal).
    pub fn on_answer(&mut self, ask: Ask, answer: Answer) -> Concluded {
        match answer {
            Answer::Decided(decision) => {
                self.recovered();
                self.stats.decisions += 1;
                self.conclude(&ask, decision)
            }
            Answer::Refused(reason) => {
                self.recovered();
                self.stats.failures += 1;
                self.stats.holds += 1;
                warn!(symbol = %ask.symbol, bar_close = %ask.ts, %reason, "the model's decision broke the contract: counted, and a hold");
                Concluded {
                    reasons: vec![format!("reply refused: {reason}")],
                    ..Concluded::default()
                }
            }
            Answer::Unavailable(reason) => {
                self.stats.unavailable += 1;
                self.without_answer(ask, reason)
            }
            Answer::Missing => {
                self.stats.missing += 1;
                self.without_answer(ask, "not in the decision cache".to_string())
            }
        }
    }

    fn conclude(&mut self, ask: &Ask, decision: ModelDecision) -> Concluded {
        let direction = match decision.action {
            ModelAction::Buy => Some(Direction::Long),
            ModelAction::Sell | ModelAction::Close if ask.context.holds() => Some(Direction::Short),
            ModelAction::Sell | ModelAction::Close | ModelAction::Hold => None,
        };
        match direction {
            Some(Direction::Long) => self.stats.buys += 1,
            Some(Direction::Short) => self.stats.sells += 1,
            None => self.stats.holds += 1,
        }
        let Some(direction) = direction else {
            return Concluded {
                reasons: decision.reasons,
                ..Concluded::default()
            };
        };
        Concluded {
            signal: Some(TradingSignal {
                symbol: ask.symbol.clone(),
                direction,
                confidence: decision.confidence,
                technical_score: ask.technical,
                sentiment_score: ask.sentiment,
                event_impact: 0.0,
                ts: ask.ts,
                price: ask.price,
                atr: ask.atr,
            }),
            proposal: (direction == Direction::Long)
                .then(|| decision.proposal())
                .flatten(),
            reasons: decision.reasons,
        }
    }

    fn without_answer(&mut self, ask: Ask, reason: String) -> Concluded {
        let fallback = self.cfg.fallback;
        if self.degraded.as_deref() != Some(reason.as_str()) {
            warn!(symbol = %ask.symbol, bar_close = %ask.ts, %reason, fallback = ?fallback, "no model decision: the llm strategy falls back (open positions keep their stops and targets)");
            self.degraded = Some(reason.clone());
        }
        match (fallback, ask.fallback) {
            (Fallback::Fusion, Some(signal)) => {
                self.stats.fallbacks += 1;
                Concluded {
                    signal: Some(signal),
                    proposal: None,
                    reasons: vec![format!("fusion's decision: no model answer ({reason})")],
                }
            }
            (Fallback::Fusion, None) => {
                self.stats.fallbacks += 1;
                self.stats.holds += 1;
                Concluded::default()
            }
            (Fallback::Hold, _) => {
                self.stats.holds += 1;
                Concluded::default()
            }
        }
    }

    fn recovered(&mut self) {
        if let Some(reason) = self.degraded.take() {
            info!(was = %reason, "model decisions are back: the llm strategy decides again");
        }
    }
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
