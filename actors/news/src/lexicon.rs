//! The offline lexicon analyst: keel's default, deterministic and free.
//!
//! # Scoring
//! A title is split into lower-case words (letters, digits, inner `'` and `-`, so `sell-off`
//! and `won't` are single words). Each word found in [`LEXICON`] adds its weight (positive
//! is good for the price, negative bad; strong words weigh 2, mild ones 0.5). Two modifiers
//! act on the next lexicon word:
//! - a word of [`NEGATIONS`] (`not`, `no`, `won't`, ...) flips its sign when it comes within
//!   [`NEGATION_SCOPE`] words ("we won't have a long term bear market" is positive);
//! - a word of [`INTENSIFIERS`] (`very`, `major`, ...) multiplies its weight by
//!   [`INTENSIFIER_FACTOR`] when it comes within [`INTENSIFIER_SCOPE`] words.
//!
//! The window's score is `tanh(sum / SCORE_SCALE)` over every headline, so it stays in
//! (-1, 1): one "surge" gives 0.58, one "scam" -0.58. Its confidence is
//! `(m + h) / (m + h + 6)` with `m` matched words and `h` headlines with a match (0 with no
//! match): one word in one headline is 0.25, ten words in six headlines 0.73.
//!
//! # Events
//! Keywords raise one event per kind per headline (whole words, case-insensitive):
//! - HACK (`hack`, `hacked`, `exploit`, `stolen`, `theft`, `heist`, ...): HIGH, CRITICAL when
//!   the title also says `exchange(s)`, `million(s)`, `billion(s)` or a `$` amount; negative.
//! - REGULATION (`ban`, `sec`, `regulat…`, `crackdown`, `restrictions`): MEDIUM, HIGH for a ban
//!   or crackdown; negative unless the title scores positive.
//! - UNLOCK (`unlock…`): MEDIUM, negative (new supply). LISTING (`lists`, `listing`,
//!   `listed`): MEDIUM, positive. DELISTING (`delist…`): HIGH, negative.
//! - MACRO (`fed`, `fomc`, `inflation`, `rates`, `cpi`, `recession`, `tariffs`): MEDIUM,
//!   with the sign of the title's score (0 when neutral).
//!
//! An event's impact is its sign times 0.1 / 0.3 / 0.6 / 1.0 for LOW / MEDIUM / HIGH / CRITICAL.
//!
//! # Limits
//! It reads words, not meaning: "Visa CEO: Bitcoin is Not a Payment System" scores 0, and
//! sarcasm or "shutting down exchanges is impossible" are beyond it.

use std::collections::{HashMap, HashSet};

use super::analyst::{Analysis, Analyst, AnalystError, DetectedEvent};
use super::headline::Headline;
use crate::model::{EventKind, Severity, Symbol};

/// Sentiment words and their weights (positive: good for the price).
#[rustfmt::skip]
pub const LEXICON: &[(&str, f64)] = &[
    // Strong positive.
    ("surge", 2.0), ("surges", 2.0), ("surged", 2.0), ("surging", 2.0),
    ("soar", 2.0), ("soars", 2.0), ("soared", 2.0), ("soaring", 2.0),
    ("moon", 1.5), ("ath", 1.5), ("rally", 1.5), ("rallies", 1.5),
    ("jump", 1.5), ("jumps", 1.5), ("jumped", 1.5), ("bullish", 1.5),
    ("approve", 1.5), ("approves", 1.5), ("approved", 1.5), ("approval", 1.5),
    ("legalize", 1.5),
    // Positive.
    ("gain", 1.0), ("gains", 1.0), ("gained", 1.0), ("rise", 1.0), ("rises", 1.0),
    ("rising", 1.0), ("rose", 1.0), ("climb", 1.0), ("record", 1.0), ("all-time", 1.0),
    ("bull", 1.0), ("adopt", 1.0), ("adopts", 1.0), ("adoption", 1.0), ("partnership", 1.0),
    ("partners", 1.0), ("legal", 1.0), ("boost", 1.0), ("boosts", 1.0), ("breakout", 1.0),
    ("recovery", 1.0), ("rebound", 1.0), ("upgrade", 1.0), ("great", 1.0), ("excited", 1.0),
    ("incredible", 1.0), ("proud", 1.0), ("shines", 1.0), ("growth", 1.0), ("growing", 1.0),
    ("optimistic", 1.0), ("opportunity", 1.0),
    // Mild positive.
    ("up", 0.5), ("launch", 0.5), ("launches", 0.5), ("debuts", 0.5), ("strides", 0.5),
    ("support", 0.5), ("supports", 0.5), ("free", 0.5), ("dividends", 0.5),
    // Strong negative.
    ("crash", -2.0), ("crashes", -2.0), ("crashed", -2.0), ("plunge", -2.0),
    ("plunges", -2.0), ("plunged", -2.0), ("collapse", -2.0), ("hack", -2.0),
    ("hacked", -2.0), ("exploit", -2.0), ("stolen", -2.0), ("theft", -2.0),
    ("fraud", -2.0), ("scam", -2.0), ("ponzi", -2.0),
    ("dump", -1.5), ("dumps", -1.5), ("tumble", -1.5), ("slump", -1.5), ("sell-off", -1.5),
    ("selloff", -1.5), ("bearish", -1.5), ("fear", -1.5), ("panic", -1.5), ("ban", -1.5),
    ("bans", -1.5), ("banned", -1.5), ("lawsuit", -1.5), ("sued", -1.5), ("crackdown", -1.5),
    ("closure", -1.5), ("illegal", -1.5), ("manipulation", -1.5), ("disappointed", -1.5),
    ("fail", -1.5), ("failed", -1.5), ("terrorism", -1.5),
    // Negative.
    ("drop", -1.0), ("drops", -1.0), ("fall", -1.0), ("falls", -1.0), ("fell", -1.0),
    ("decline", -1.0), ("bear", -1.0), ("bears", -1.0), ("warning", -1.0), ("loss", -1.0),
    ("lost", -1.0), ("bubble", -1.0), ("insider", -1.0), ("investigation", -1.0),
    ("restrictions", -1.0), ("stringent", -1.0), ("vulnerability", -1.0),
    // Mild negative.
    ("down", -0.5), ("dip", -0.5), ("risk", -0.5),
];

/// Words that flip the sign of the next lexicon word.
pub const NEGATIONS: &[&str] = &[
    "not", "no", "never", "won't", "don't", "doesn't", "isn't", "aren't", "wasn't", "can't",
    "cannot", "without", "nor",
];

/// Words that strengthen the next lexicon word.
pub const INTENSIFIERS: &[&str] = &[
    "very",
    "major",
    "massive",
    "huge",
    "extremely",
    "really",
    "biggest",
    "significant",
    "sharply",
    "heavily",
];

/// A negation reaches a lexicon word at most this many words after it.
pub const NEGATION_SCOPE: usize = 5;
/// An intensifier reaches a lexicon word at most this many words after it.
pub const INTENSIFIER_SCOPE: usize = 2;
/// What an intensifier multiplies a weight by.
pub const INTENSIFIER_FACTOR: f64 = 1.5;
/// The window's summed weight is divided by this before `tanh`.
pub const SCORE_SCALE: f64 = 3.0;

/// One title's raw score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TitleScore {
    /// Sum of the (negated, intensified) weights of its lexicon words.
    pub sum: f64,
    /// How many lexicon words it holds.
    pub matched: u32,
}

/// The default analyst: scores titles against a small documented lexicon (see the module doc).
#[derive(Debug, Clone)]
pub struct LexiconAnalyst {
    weights: HashMap<&'static str, f64>,
    negations: HashSet<&'static str>,
    intensifiers: HashSet<&'static str>,
}

impl Default for LexiconAnalyst {
    fn default() -> Self {
        Self::new()
    }
}

impl LexiconAnalyst {
    /// The analyst with keel's lexicon.
    pub fn new() -> Self {
        Self {
            weights: LEXICON.iter().copied().collect(),
            negations: NEGATIONS.iter().copied().collect(),
            intensifiers: INTENSIFIERS.iter().copied().collect(),
        }
    }

    /// Scores one title.
    pub fn score_title(&self, title: &str) -> TitleScore {
        let mut score = TitleScore {
            sum: 0.0,
            matched: 0,
        };
        // Words left in the reach of the last negation / intensifier.
        let (mut negation, mut intensifier) = (0usize, 0usize);
        for word in lexicon_words(title) {
            if self.negations.contains(word.as_str()) {
                negation = NEGATION_SCOPE;
            } else if self.intensifiers.contains(word.as_str()) {
                intensifier = INTENSIFIER_SCOPE;
            } else if let Some(&weight) = self.weights.get(word.as_str()) {
                let weight = if intensifier > 0 {
                    weight * INTENSIFIER_FACTOR
                } else {
                    weight
                };
                score.sum += if negation > 0 { -weight } else { weight };
                score.matched += 1;
                (negation, intensifier) = (0, 0);
            } else {
                negation = negation.saturating_sub(1);
                intensifier = intensifier.saturating_sub(1);
            }
        }
        score
    }

    /// The events one title raises, given its score (see the module doc).
    pub fn title_events(&self, title: &str, title_score: f64) -> Vec<(EventKind, Severity, f64)> {
        let words: HashSet<String> = lexicon_words(title).collect();
        let any = |list: &[&str]| list.iter().any(|w| words.contains(*w));
        let sign = |neutral: f64| match title_score {
            s if s > 0.0 => 1.0,
            s if s < 0.0 => -1.0,
            _ => neutral,
        };
        let mut events = Vec::new();
        let hack = [
            "hack",
            "hacked",
            "hacks",
            "hacker",
            "hackers",
            "exploit",
            "exploited",
        ];
        if any(&hack) || any(&["stolen", "theft", "heist", "drained"]) {
            let big = any(&[
                "exchange",
                "exchanges",
                "million",
                "millions",
                "billion",
                "billions",
            ]) || has_dollar_amount(title);
            let severity = if big {
                Severity::Critical
            } else {
                Severity::High
            };
            events.push((EventKind::Hack, severity, -magnitude(severity)));
        }
        let bans = ["ban", "bans", "banned", "banning", "crackdown"];
        let rules = [
            "sec",
            "regulation",
            "regulations",
            "regulatory",
            "regulator",
            "regulators",
            "regulate",
            "regulated",
            "regulating",
            "restriction",
            "restrictions",
        ];
        if any(&bans) || any(&rules) {
            let severity = if any(&bans) {
                Severity::High
            } else {
                Severity::Medium
            };
            events.push((
                EventKind::Regulation,
                severity,
                sign(-1.0) * magnitude(severity),
            ));
        }
        if any(&["unlock", "unlocks", "unlocked", "unlocking"]) {
            events.push((
                EventKind::Unlock,
                Severity::Medium,
                -magnitude(Severity::Medium),
            ));
        }
        if any(&["lists", "listing", "listed", "listings"]) {
            events.push((
                EventKind::Listing,
                Severity::Medium,
                magnitude(Severity::Medium),
            ));
        }
        if any(&["delist", "delists", "delisted", "delisting", "delistings"]) {
            events.push((
                EventKind::Delisting,
                Severity::High,
                -magnitude(Severity::High),
            ));
        }
        let macro_words = [
            "fed",
            "fomc",
            "inflation",
            "rates",
            "cpi",
            "recession",
            "tariffs",
        ];
        if any(&macro_words) {
            events.push((
                EventKind::Macro,
                Severity::Medium,
                sign(0.0) * magnitude(Severity::Medium),
            ));
        }
        events
    }
}

impl Analyst for LexiconAnalyst {
    fn name(&self) -> &str {
        "lexicon"
    }

    fn analyze(
        &mut self,
        _symbol: &Symbol,
        headlines: &[&Headline],
    ) -> Result<Analysis, AnalystError> {
        let (mut sum, mut matched, mut with_match) = (0.0, 0u32, 0u32);
        let mut events = Vec::new();
        for (i, headline) in headlines.iter().enumerate() {
            let title = self.score_title(&headline.title);
            sum += title.sum;
            matched += title.matched;
            with_match += u32::from(title.matched > 0);
            for (kind, severity, impact) in self.title_events(&headline.title, title.sum) {
                events.push(DetectedEvent {
                    kind,
                    severity,
                    impact,
                    headline: i,
                });
            }
        }
        let evidence = f64::from(matched + with_match);
        let confidence = if matched == 0 {
            0.0
        } else {
            evidence / (evidence + 6.0)
        };
        Ok(Analysis {
            score: (sum / SCORE_SCALE).tanh(),
            confidence,
            events,
        })
    }
}

/// The size of an event's impact by severity.
fn magnitude(severity: Severity) -> f64 {
    match severity {
        Severity::Low => 0.1,
        Severity::Medium => 0.3,
        Severity::High => 0.6,
        Severity::Critical => 1.0,
    }
}

/// Whether the title holds a dollar amount such as `$12,000` or `$ 40m`.
fn has_dollar_amount(title: &str) -> bool {
    title.match_indices('$').any(|(i, _)| {
        title[i + 1..]
            .trim_start()
            .starts_with(|c: char| c.is_ascii_digit())
    })
}

/// Lower-case words keeping inner apostrophes and hyphens: `Won’t` → `won't`,
/// `sell-off` stays one word, `(Opinion)` → `opinion`.
fn lexicon_words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’' || c == '-'))
        .map(|w| w.trim_matches(|c: char| c == '\'' || c == '’' || c == '-'))
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase().replace('’', "'"))
}

#[cfg(test)]
#[path = "lexicon_tests.rs"]
mod tests;
