//! The sentiment core: releases headlines in event time and turns each symbol's window of
//! recent headlines into a `SentimentUpdate` plus a `MarketEvent` per newly seen event.

use std::collections::{HashMap, VecDeque};

use super::analyst::{Analysis, Analyst, AnalystError, DetectedEvent};
use super::config::SentimentConfig;
use super::headline::Headline;
use crate::model::{MarketEvent, NewsItem, SentimentOutput, SentimentUpdate, Symbol, Timestamp};

/// One symbol's window of headlines, waiting for its analysis (see [`SentimentCore::release`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalysisJob {
    /// The symbol.
    pub symbol: Symbol,
    /// Indices of the window's headlines, oldest first.
    indices: Vec<usize>,
    /// Events count only from headlines at or after this index (newly released).
    first_new: usize,
}

/// Replays headlines against event time. Pure: time comes only from [`Self::advance_to`].
#[derive(Clone)]
pub struct SentimentCore<A: Analyst> {
    cfg: SentimentConfig,
    analyst: A,
    /// Every headline, sorted by publication time.
    headlines: Vec<Headline>,
    /// Index of the first headline not yet released.
    next: usize,
    /// Per symbol, the released headlines (indices) still inside its window.
    windows: HashMap<Symbol, VecDeque<usize>>,
    failures: u64,
    last_failed: bool,
    /// Emit each released headline as [`SentimentOutput::Headline`] (for the `llm` strategy).
    headline_outputs: bool,
}

impl<A: Analyst> SentimentCore<A> {
    /// A core over `headlines` (any order; sorted here, ties keep their order).
    /// `cfg` is expected to have been validated.
    pub fn new(cfg: SentimentConfig, analyst: A, mut headlines: Vec<Headline>) -> Self {
        headlines.sort_by_key(|h| h.published);
        Self {
            cfg,
            analyst,
            headlines,
            next: 0,
            windows: HashMap::new(),
            failures: 0,
            last_failed: false,
            headline_outputs: false,
        }
    }

    /// Also emits every released headline, about each symbol it names, as a
    /// [`SentimentOutput::Headline`] ahead of that symbol's analysis (the `llm` strategy shows
    /// them to its model), whether or not the analysis succeeds.
    pub fn with_headline_outputs(mut self) -> Self {
        self.headline_outputs = true;
        self
    }

    /// Releases every headline published at or before `now` (each once, in order) and, for each
    /// symbol they touch, analyses that symbol's window: the released headlines published in
    /// the last `window_hours` up to `now`. Emits an update (when the window holds at least
    /// `min_headlines`; ts = newest headline) and then one event per new event found in the
    /// newly released headlines. O(1) and allocation-free when no headline is due.
    ///
    /// This is [`Self::release`], the analyst on each job, then [`Self::finish`].
    pub fn advance_to(&mut self, now: Timestamp) -> Vec<SentimentOutput> {
        let jobs = self.release(now);
        let mut out = Vec::new();
        for job in jobs {
            let refs: Vec<&Headline> = job.indices.iter().map(|&i| &self.headlines[i]).collect();
            let result = self.analyst.analyze(&job.symbol, &refs);
            self.finish(job, result, &mut out);
        }
        out
    }

    /// The first half of [`Self::advance_to`]: releases the headlines due at `now` and returns
    /// one job per symbol they touch (in order of first mention), for an analyst that answers
    /// later (a model over HTTP). Every job must be passed to [`Self::finish`], in order.
    pub fn release(&mut self, now: Timestamp) -> Vec<AnalysisJob> {
        let due = |h: &Headline| h.published <= now;
        if !self.headlines.get(self.next).is_some_and(due) {
            return Vec::new();
        }
        let first_new = self.next;
        let mut touched: Vec<Symbol> = Vec::new();
        while let Some(headline) = self.headlines.get(self.next).filter(|h| due(h)) {
            for symbol in &headline.symbols {
                self.windows
                    .entry(symbol.clone())
                    .or_default()
                    .push_back(self.next);
                if !touched.contains(symbol) {
                    touched.push(symbol.clone());
                }
            }
            self.next += 1;
        }
        let oldest = now.plus_ms(-self.cfg.window_ms());
        let mut jobs = Vec::with_capacity(touched.len());
        for symbol in touched {
            let Some(window) = self.windows.get_mut(&symbol) else {
                continue;
            };
            while window
                .front()
                .is_some_and(|&i| self.headlines[i].published <= oldest)
            {
                window.pop_front();
            }
            if window.is_empty() {
                continue;
            }
            jobs.push(AnalysisJob {
                indices: window.iter().copied().collect(),
                symbol,
                first_new,
            });
        }
        jobs
    }

    /// The headlines of `job`'s window, oldest first: what its analyst must judge.
    pub fn window(&self, job: &AnalysisJob) -> Vec<&Headline> {
        job.indices.iter().map(|&i| &self.headlines[i]).collect()
    }

    /// The second half of [`Self::advance_to`]: turns the analyst's answer for `job` into
    /// outputs (appended to `out`). A failure is counted and emits nothing but, when the
    /// analyst was available until now, [`SentimentOutput::AnalystAvailable`]`(false)`; the
    /// next success emits `AnalystAvailable(true)` before its update.
    pub fn finish(
        &mut self,
        job: AnalysisJob,
        result: Result<Analysis, AnalystError>,
        out: &mut Vec<SentimentOutput>,
    ) {
        let AnalysisJob {
            symbol,
            indices,
            first_new,
        } = job;
        if self.headline_outputs {
            for &index in indices.iter().filter(|&&i| i >= first_new) {
                let headline = &self.headlines[index];
                out.push(SentimentOutput::Headline(NewsItem {
                    symbol: symbol.clone(),
                    published: headline.published,
                    source: headline.source.clone(),
                    title: headline.title.clone(),
                }));
            }
        }
        let analysis = match result {
            Ok(analysis) => analysis.clamped(),
            Err(_) => {
                self.failures += 1;
                if !self.last_failed {
                    out.push(SentimentOutput::AnalystAvailable(false));
                }
                self.last_failed = true;
                return;
            }
        };
        if self.last_failed {
            out.push(SentimentOutput::AnalystAvailable(true));
        }
        self.last_failed = false;
        let Some(&newest) = indices.last() else {
            return;
        };
        if indices.len() >= self.cfg.min_headlines as usize {
            out.push(SentimentOutput::Update(SentimentUpdate {
                symbol: symbol.clone(),
                ts: self.headlines[newest].published,
                score: analysis.score,
                confidence: analysis.confidence,
                headlines: u32::try_from(indices.len()).unwrap_or(u32::MAX),
            }));
        }
        let mut emitted: Vec<&DetectedEvent> = Vec::new();
        for event in &analysis.events {
            // An untrusted analyst may point past the window or repeat itself: ignore both.
            let Some(&index) = indices.get(event.headline) else {
                continue;
            };
            let repeat = emitted
                .iter()
                .any(|e| e.headline == event.headline && e.kind == event.kind);
            if index < first_new || repeat {
                continue;
            }
            emitted.push(event);
            let headline = &self.headlines[index];
            out.push(SentimentOutput::Event(MarketEvent {
                symbol: symbol.clone(),
                ts: headline.published,
                kind: event.kind,
                severity: event.severity,
                impact: event.impact,
                headline: headline.title.clone(),
            }));
        }
    }

    /// Adds headlines that arrived after the start (a polled news feed). Each is released at
    /// the first [`Self::advance_to`] or [`Self::release`] at or after its publication time;
    /// one published before the last release goes out with the next one.
    pub fn add_headlines(&mut self, headlines: impl IntoIterator<Item = Headline>) {
        let mut fresh: Vec<Headline> = headlines.into_iter().collect();
        if fresh.is_empty() {
            return;
        }
        fresh.sort_by_key(|h| h.published);
        let mut pending = self.headlines.split_off(self.next);
        pending.extend(fresh);
        pending.sort_by_key(|h| h.published);
        self.headlines.extend(pending);
    }

    /// How many analyses failed (each failure is skipped, never turned into a signal).
    pub fn failures(&self) -> u64 {
        self.failures
    }

    /// Whether the analyst answered its last request (true before the first). Feed this to
    /// `FusionCore::set_analyst_available`.
    pub fn analyst_available(&self) -> bool {
        !self.last_failed
    }

    /// How many headlines have been released so far.
    pub fn released(&self) -> usize {
        self.next
    }

    /// How many headlines are still waiting for their time.
    pub fn pending(&self) -> usize {
        self.headlines.len() - self.next
    }

    /// The analyst's name.
    pub fn analyst_name(&self) -> &str {
        self.analyst.name()
    }

    /// The analyst (for its counters).
    pub fn analyst(&self) -> &A {
        &self.analyst
    }
}

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;
