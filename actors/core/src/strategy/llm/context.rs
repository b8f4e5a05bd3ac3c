//! What the model is shown at a decision point: the market, the indicators, the position,
//! the account and the news, as JSON data. Built the same way by both drivers, so the same
//! bar gives the same bytes, and so the same cache key, in a run and in its replay.

use std::collections::{BTreeMap, VecDeque};

use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

use crate::model::{
    Candle, Direction, NewsItem, PortfolioSnapshot, Regime, SentimentUpdate, Symbol, TechnicalSetup,
};
use crate::risk::Protection;
use crate::symbol::IndicatorValues;

/// The account as the model sees it, with risk's day: built by risk's driver from the
/// account it holds (see `RiskStage::account_facts`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AccountFacts {
    /// Cash, equity and positions.
    pub snapshot: PortfolioSnapshot,
    /// The open exits of each position.
    pub protection: BTreeMap<Symbol, Protection>,
    /// Equity at the start of the UTC day (zero before the first mark).
    pub day_start_equity: Decimal,
    /// `risk.daily_loss_limit_pct`.
    pub daily_loss_limit_pct: Decimal,
}

/// The context of one decision, serialised into the prompt and hashed into the cache key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionContext {
    /// The pair.
    pub symbol: String,
    /// The close time of the bar decided on (UTC).
    pub bar_close: String,
    /// The bar interval.
    pub interval: String,
    /// The bar's close: the price an entry is sized at.
    pub close: Decimal,
    /// The last candles, summarised.
    pub candles: CandleSummary,
    /// Every indicator keel computes, to 6 significant digits (null while warming up).
    pub indicators: IndicatorValues,
    /// The market regime (from the regime symbol's long average).
    pub regime: Regime,
    /// The setup scanner's view of this bar, if it found one.
    pub setup: Option<SetupView>,
    /// The position held in the pair, if any.
    pub position: Option<PositionView>,
    /// The account.
    pub account: Option<AccountView>,
    /// The pair's recent news.
    pub news: NewsView,
    /// Web search results (`[strategy.llm.search]`): absent when no search is configured,
    /// null when it failed.
    #[serde(skip_serializing_if = "Searched::is_off")]
    pub search: Searched,
}

/// What a search gave a decision point.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(untagged)]
pub enum Searched {
    /// No search is configured (the key is left out of the context).
    #[default]
    Off,
    /// The search failed (or a replay lacks it): `null`.
    Failed(()),
    /// Its results.
    Found(Vec<SearchHit>),
}

impl Searched {
    fn is_off(&self) -> bool {
        matches!(self, Searched::Off)
    }
}

/// One web search result, untrusted text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SearchHit {
    /// Its title.
    pub title: String,
    /// Its address.
    pub url: String,
    /// Its text, cut to `max_chars`.
    pub content: String,
    /// When it was published, as the search API says.
    pub published: Option<String>,
}

/// The last candles of a pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CandleSummary {
    /// How many candles the summary covers.
    pub bars: usize,
    /// Their closes, oldest first (6 significant digits).
    pub closes: Vec<f64>,
    /// The last bar's return, in percent.
    pub return_last_pct: f64,
    /// The return over the covered bars, in percent.
    pub return_window_pct: f64,
    /// The highest high of the covered bars.
    pub high: f64,
    /// The lowest low.
    pub low: f64,
    /// High − low as a percentage of the last close.
    pub range_pct: f64,
    /// The last bar's volume over the covered bars' average volume.
    pub volume_vs_average: f64,
}

/// The setup scanner's finding on the bar.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetupView {
    /// Long or short.
    pub direction: Direction,
    /// Share of confirming conditions, in [0, 1].
    pub score: f64,
    /// The confirming conditions.
    pub reasons: Vec<&'static str>,
}

/// The position held.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PositionView {
    /// Base quantity.
    pub qty: Decimal,
    /// Average entry price.
    pub entry: Decimal,
    /// Unrealised profit at the bar's close, in the quote asset.
    pub unrealized_pnl: Decimal,
    /// When it was opened.
    pub opened_at: String,
    /// The trigger of its protective stop, if one is open.
    pub stop: Option<Decimal>,
    /// The prices of its open take-profits, lowest first.
    pub take_profits: Vec<Decimal>,
}

/// The account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountView {
    /// Cash a new order may commit.
    pub cash: Decimal,
    /// Cash plus positions at their last prices.
    pub equity: Decimal,
    /// Positions' value as a percentage of equity.
    pub exposure_pct: Decimal,
    /// Open positions.
    pub open_positions: usize,
    /// Profit or loss since the start of the UTC day, in the quote asset.
    pub daily_pnl: Decimal,
    /// The daily loss, in percent of the day's starting equity, at which risk opens no
    /// position until midnight.
    pub daily_loss_limit_pct: Decimal,
}

/// The pair's news.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewsView {
    /// The analyst's latest sentiment about the pair, if any.
    pub sentiment: Option<SentimentView>,
    /// The most recent headlines, oldest first: untrusted text, to be judged as news.
    pub headlines: Vec<HeadlineView>,
}

/// The analyst's sentiment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SentimentView {
    /// Score in [-1, 1].
    pub score: f64,
    /// Confidence in [0, 1].
    pub confidence: f64,
    /// Headlines it rests on.
    pub headlines: u32,
    /// Hours between its newest headline and the bar's close.
    pub age_hours: f64,
}

/// One headline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeadlineView {
    /// When it was published (UTC).
    pub published: String,
    /// Where it came from.
    pub source: String,
    /// The headline.
    pub title: String,
}

/// One candle as the summary needs it.
#[derive(Debug, Clone, Copy)]
struct Bar {
    high: f64,
    low: f64,
    close: f64,
    volume: f64,
}

/// What the strategy remembers of one pair between decisions: its last candles, headlines
/// and sentiment.
#[derive(Debug, Clone, Default)]
pub struct PairMemory {
    bars: VecDeque<Bar>,
    headlines: VecDeque<NewsItem>,
    sentiment: Option<SentimentUpdate>,
}

impl PairMemory {
    /// Remembers a closed candle, keeping the last `keep`.
    pub fn on_candle(&mut self, candle: &Candle, keep: usize) {
        let f = |d: Decimal| d.try_into().unwrap_or(f64::NAN);
        self.bars.push_back(Bar {
            high: f(candle.high),
            low: f(candle.low),
            close: f(candle.close),
            volume: f(candle.volume),
        });
        while self.bars.len() > keep {
            self.bars.pop_front();
        }
    }

    /// Remembers a headline, keeping the last `keep`.
    pub fn on_headline(&mut self, item: &NewsItem, keep: usize) {
        if keep == 0 {
            return;
        }
        self.headlines.push_back(item.clone());
        while self.headlines.len() > keep {
            self.headlines.pop_front();
        }
    }

    /// Remembers the newest sentiment (an older one arriving late is ignored).
    pub fn on_sentiment(&mut self, update: &SentimentUpdate) {
        if self.sentiment.as_ref().is_some_and(|s| s.ts > update.ts) {
            return;
        }
        self.sentiment = Some(update.clone());
    }

    /// The latest sentiment score, 0 without one.
    pub fn sentiment_score(&self) -> f64 {
        self.sentiment.as_ref().map_or(0.0, |s| s.score)
    }

    /// The context of a decision on `candle` (the last candle remembered), before the
    /// account is seen.
    pub fn context(
        &self,
        candle: &Candle,
        values: &IndicatorValues,
        regime: Regime,
        setup: Option<&TechnicalSetup>,
    ) -> DecisionContext {
        let close = candle.close_time();
        DecisionContext {
            symbol: candle.symbol.to_string(),
            bar_close: close.to_string(),
            interval: candle.interval.to_string(),
            close: candle.close.normalize(),
            candles: self.summary(),
            indicators: values.map(sig6),
            regime,
            setup: setup.map(|s| SetupView {
                direction: s.direction,
                score: sig6(s.score),
                reasons: s.reasons.clone(),
            }),
            position: None,
            account: None,
            news: NewsView {
                sentiment: self.sentiment.as_ref().map(|s| SentimentView {
                    score: sig6(s.score),
                    confidence: sig6(s.confidence),
                    headlines: s.headlines,
                    age_hours: sig6((close.millis() - s.ts.millis()) as f64 / 3_600_000.0),
                }),
                headlines: self
                    .headlines
                    .iter()
                    .map(|h| HeadlineView {
                        published: h.published.to_string(),
                        source: h.source.clone(),
                        title: h.title.clone(),
                    })
                    .collect(),
            },
            search: Searched::Off,
        }
    }

    fn summary(&self) -> CandleSummary {
        let bars = &self.bars;
        let first = bars.front().map_or(f64::NAN, |b| b.close);
        let last = bars.back().map_or(f64::NAN, |b| b.close);
        let before_last = bars.iter().rev().nth(1).map_or(last, |b| b.close);
        let high = bars.iter().map(|b| b.high).fold(f64::MIN, f64::max);
        let low = bars.iter().map(|b| b.low).fold(f64::MAX, f64::min);
        let average_volume = bars.iter().map(|b| b.volume).sum::<f64>() / bars.len().max(1) as f64;
        let last_volume = bars.back().map_or(0.0, |b| b.volume);
        CandleSummary {
            bars: bars.len(),
            closes: bars.iter().map(|b| sig6(b.close)).collect(),
            return_last_pct: percent(last / before_last - 1.0),
            return_window_pct: percent(last / first - 1.0),
            high: sig6(high),
            low: sig6(low),
            range_pct: percent((high - low) / last),
            volume_vs_average: sig6(if average_volume > 0.0 {
                last_volume / average_volume
            } else {
                0.0
            }),
        }
    }
}

impl DecisionContext {
    /// Adds the account and the position in the pair, as `facts` say.
    pub fn see_account(&mut self, facts: &AccountFacts) {
        let snapshot = &facts.snapshot;
        self.position = snapshot
            .positions
            .iter()
            .find(|p| p.symbol.as_str() == self.symbol && p.qty > Decimal::ZERO)
            .map(|p| {
                let exits = facts.protection.get(&p.symbol);
                PositionView {
                    qty: p.qty.normalize(),
                    entry: p.avg_entry.normalize(),
                    unrealized_pnl: money(p.unrealized_pnl()),
                    opened_at: p.opened_at.to_string(),
                    stop: exits.and_then(|e| e.stop).map(|s| s.normalize()),
                    take_profits: exits.map_or_else(Vec::new, |e| {
                        e.take_profits.iter().map(|t| t.normalize()).collect()
                    }),
                }
            });
        let exposure = snapshot.gross_exposure();
        self.account = Some(AccountView {
            cash: money(snapshot.cash),
            equity: money(snapshot.equity),
            exposure_pct: if snapshot.equity > Decimal::ZERO {
                money(exposure * Decimal::ONE_HUNDRED / snapshot.equity)
            } else {
                Decimal::ZERO
            },
            open_positions: snapshot
                .positions
                .iter()
                .filter(|p| p.qty > Decimal::ZERO)
                .count(),
            daily_pnl: if facts.day_start_equity > Decimal::ZERO {
                money(snapshot.equity - facts.day_start_equity)
            } else {
                Decimal::ZERO
            },
            daily_loss_limit_pct: facts.daily_loss_limit_pct.normalize(),
        });
    }

    /// Whether the context shows a position in the pair.
    pub fn holds(&self) -> bool {
        self.position.is_some()
    }

    /// The exact JSON the model is shown and the cache key hashes.
    pub fn to_json(&self) -> String {
        // Plain data of strings, numbers and options: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_string())
    }
}

/// `x` to 6 significant digits (0 for a non-finite value, which JSON cannot hold).
fn sig6(x: f64) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return 0.0;
    }
    let digits = 5 - x.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits.clamp(-300, 300));
    (x * scale).round() / scale
}

/// A ratio as a percentage with 2 decimals.
fn percent(ratio: f64) -> f64 {
    if ratio.is_finite() {
        (ratio * 10_000.0).round() / 100.0
    } else {
        0.0
    }
}

/// A quote amount to the cent.
fn money(x: Decimal) -> Decimal {
    x.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

#[cfg(test)]
#[path = "context_tests.rs"]
mod tests;
