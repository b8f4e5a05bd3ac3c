//! Candlestick patterns equal to TA-Lib 0.6's `CDL*` functions, computed candle by candle in
//! O(1) per pattern.
//!
//! Each pattern is TA-Lib's definition written anew in Rust: its candle settings (`BodyLong`,
//! `BodyDoji`, `ShadowLong`, `Near`, ..., each the average of a range over the previous
//! candles, see [`candle`]), its own running totals, started at its own lookback and updated
//! in TA-Lib's order, and its own rules. The arithmetic is f64 on the candle's prices as f64,
//! as TA-Lib receives them, so the values equal TA-Lib's exactly (100 bullish, -100 bearish,
//! ±80 for the weaker engulfing and harami forms, 0 none); the tests hold every column of
//! TA-Lib's output on 5,000 1h and 11,271 4h BTC bars.
//!
//! Patterns are computed only where something asks for them (`keel data indicators`), so the
//! trading pipeline pays nothing for them.

pub mod candle;
mod hammers;
mod harami;
mod single;
mod stars;
mod two;

use candle::{History, Ohlc, Pattern};

/// Declares the pattern names and their column names (`cdl_` + name) from one list.
macro_rules! patterns {
    ($($name:literal,)*) => {
        /// Every pattern keel knows, in the order of their columns and of
        /// [`PatternSet::update`]'s values.
        pub const PATTERN_NAMES: [&str; [$($name),*].len()] = [$($name),*];
        /// The column names (`cdl_` + name), in [`PATTERN_NAMES`] order.
        pub const PATTERN_COLUMNS: [&str; PATTERN_NAMES.len()] = [$(concat!("cdl_", $name)),*];
    };
}

patterns! {
    "doji",
    "hammer",
    "invertedhammer",
    "shootingstar",
    "hangingman",
    "engulfing",
    "harami",
    "morningstar",
    "eveningstar",
    "3whitesoldiers",
    "3blackcrows",
    "piercing",
    "darkcloudcover",
    "marubozu",
    "spinningtop",
    "dragonflydoji",
    "gravestonedoji",
}

/// A pattern by its name.
type Named = (&'static str, Box<dyn Pattern + Send>);

/// Every pattern of [`PATTERN_NAMES`] over one series of candles.
pub struct PatternSet {
    history: History,
    patterns: Vec<Box<dyn Pattern + Send>>,
}

impl Clone for PatternSet {
    fn clone(&self) -> Self {
        Self {
            history: self.history.clone(),
            patterns: self.patterns.iter().map(|p| p.clone_box()).collect(),
        }
    }
}

impl Default for PatternSet {
    fn default() -> Self {
        Self::new()
    }
}

impl PatternSet {
    /// Every pattern, before the first candle.
    pub fn new() -> Self {
        let mut all = all();
        let patterns = PATTERN_NAMES
            .iter()
            .map(|name| {
                let at = all.iter().position(|(n, _)| n == name);
                // Every name has its pattern: the reference tests build each one by name.
                all.swap_remove(at.unwrap_or_else(|| panic!("pattern {name} is missing")))
                    .1
            })
            .collect();
        Self {
            history: History::default(),
            patterns,
        }
    }

    /// Takes the next candle and judges it by every pattern, in [`PATTERN_NAMES`] order.
    pub fn update(&mut self, candle: Ohlc) -> [i32; PATTERN_NAMES.len()] {
        self.history.push(candle);
        let mut values = [0; PATTERN_NAMES.len()];
        for (value, pattern) in values.iter_mut().zip(&mut self.patterns) {
            *value = pattern.next(&self.history);
        }
        values
    }
}

/// Every pattern, by name, before the first candle.
fn all() -> Vec<Named> {
    let mut all: Vec<Named> = vec![
        ("doji", Box::<single::Doji>::default()),
        ("engulfing", Box::<two::Engulfing>::default()),
    ];
    all.extend(hammers::patterns());
    all.extend(harami::patterns());
    all.extend(stars::patterns());
    all
}

/// The pattern called `name`, before the first candle.
#[cfg(test)]
fn pattern(name: &str) -> Option<Box<dyn Pattern + Send>> {
    all().into_iter().find(|(n, _)| *n == name).map(|(_, p)| p)
}

#[cfg(test)]
mod tests;
