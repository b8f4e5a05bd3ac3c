//! One-candle shapes judged by their body and shadows: the hammer family (a small body with
//! one long shadow and almost none on the other side: hammer, hanging man, inverted hammer,
//! shooting star), the marubozu (a long body without shadows), the spinning top (a small body
//! between two longer shadows) and the dragonfly and gravestone dojis.

use super::candle::{body_gap_down, body_gap_up, History, Pattern, Setting, Total};
use super::Named;

/// The patterns of this file, by name.
pub(super) fn patterns() -> Vec<Named> {
    vec![
        ("hammer", Box::new(LowerShadow::hammer())),
        ("invertedhammer", Box::new(UpperShadow::inverted_hammer())),
        ("shootingstar", Box::new(UpperShadow::shooting_star())),
        ("hangingman", Box::new(LowerShadow::hanging_man())),
        ("marubozu", Box::<Marubozu>::default()),
        ("spinningtop", Box::<SpinningTop>::default()),
        ("dragonflydoji", Box::new(ShadowDoji::dragonfly())),
        ("gravestonedoji", Box::new(ShadowDoji::gravestone())),
    ]
}

/// Before the first judged candle: feeds the newest candle to every total's first window.
fn warm<const N: usize>(totals: [&mut Total; N], history: &History, index: usize, lookback: usize) {
    for total in totals {
        total.warm(history, index, lookback);
    }
}

/// After judging a candle: moves every total's window one candle on, in the given order.
fn slide<const N: usize>(totals: [&mut Total; N], history: &History) {
    for total in totals {
        total.slide(history);
    }
}

/// The lookback of the hammer family: the longest period of its settings, plus the candle
/// before the judged one.
fn shadow_lookback(settings: &[Setting]) -> usize {
    settings.iter().map(|s| s.period()).max().unwrap_or(0) + 1
}

/// `CDLHAMMER` and `CDLHANGINGMAN`: a small body at the top of the candle with a long lower
/// shadow and hardly any upper one. Near the previous candle's low it is a hammer (always 100:
/// bullish after a decline); near the previous candle's high, a hanging man (always -100:
/// bearish after a rise). TA-Lib checks neither trend.
#[derive(Debug, Clone)]
pub struct LowerShadow {
    /// Hanging man (near the prior high) rather than hammer (near the prior low).
    hanging: bool,
    body_short: Total,
    shadow_long: Total,
    shadow_very_short: Total,
    /// "Near", for the previous candle.
    near: Total,
}

impl LowerShadow {
    fn new(hanging: bool) -> Self {
        Self {
            hanging,
            body_short: Total::new(Setting::BodyShort, 0),
            shadow_long: Total::new(Setting::ShadowLong, 0),
            shadow_very_short: Total::new(Setting::ShadowVeryShort, 0),
            near: Total::new(Setting::Near, 1),
        }
    }

    /// The hammer.
    pub fn hammer() -> Self {
        Self::new(false)
    }

    /// The hanging man.
    pub fn hanging_man() -> Self {
        Self::new(true)
    }

    /// Every running total, in TA-Lib's order.
    fn totals(&mut self) -> [&mut Total; 4] {
        [
            &mut self.body_short,
            &mut self.shadow_long,
            &mut self.shadow_very_short,
            &mut self.near,
        ]
    }
}

impl Pattern for LowerShadow {
    fn lookback(&self) -> usize {
        shadow_lookback(&[
            Setting::BodyShort,
            Setting::ShadowLong,
            Setting::ShadowVeryShort,
            Setting::Near,
        ])
    }

    fn next(&mut self, history: &History) -> i32 {
        let index = history.seen() - 1;
        let lookback = self.lookback();
        if index < lookback {
            warm(self.totals(), history, index, lookback);
            return 0;
        }
        let (prior, candle) = (history.at(1), history.at(0));
        let near = self.near.average(history);
        let placed = if self.hanging {
            candle.body_bottom() >= prior.high - near
        } else {
            candle.body_bottom() <= prior.low + near
        };
        let out = if candle.body() < self.body_short.average(history)
            && candle.lower_shadow() > self.shadow_long.average(history)
            && candle.upper_shadow() < self.shadow_very_short.average(history)
            && placed
        {
            if self.hanging {
                -100
            } else {
                100
            }
        } else {
            0
        };
        slide(self.totals(), history);
        out
    }
}

/// `CDLINVERTEDHAMMER` and `CDLSHOOTINGSTAR`: a small body at the bottom of the candle with a
/// long upper shadow and hardly any lower one. Gapping down from the previous body it is an
/// inverted hammer (always 100: bullish after a decline); gapping up, a shooting star (always
/// -100: bearish after a rise). TA-Lib checks neither trend.
#[derive(Debug, Clone)]
pub struct UpperShadow {
    /// Shooting star (gap up) rather than inverted hammer (gap down).
    star: bool,
    body_short: Total,
    shadow_long: Total,
    shadow_very_short: Total,
}

impl UpperShadow {
    fn new(star: bool) -> Self {
        Self {
            star,
            body_short: Total::new(Setting::BodyShort, 0),
            shadow_long: Total::new(Setting::ShadowLong, 0),
            shadow_very_short: Total::new(Setting::ShadowVeryShort, 0),
        }
    }

    /// The inverted hammer.
    pub fn inverted_hammer() -> Self {
        Self::new(false)
    }

    /// The shooting star.
    pub fn shooting_star() -> Self {
        Self::new(true)
    }

    /// Every running total, in TA-Lib's order.
    fn totals(&mut self) -> [&mut Total; 3] {
        [
            &mut self.body_short,
            &mut self.shadow_long,
            &mut self.shadow_very_short,
        ]
    }
}

impl Pattern for UpperShadow {
    fn lookback(&self) -> usize {
        shadow_lookback(&[
            Setting::BodyShort,
            Setting::ShadowLong,
            Setting::ShadowVeryShort,
        ])
    }

    fn next(&mut self, history: &History) -> i32 {
        let index = history.seen() - 1;
        let lookback = self.lookback();
        if index < lookback {
            warm(self.totals(), history, index, lookback);
            return 0;
        }
        let (prior, candle) = (history.at(1), history.at(0));
        let gap = if self.star {
            body_gap_up(candle, prior)
        } else {
            body_gap_down(candle, prior)
        };
        let out = if gap
            && candle.body() < self.body_short.average(history)
            && candle.upper_shadow() > self.shadow_long.average(history)
            && candle.lower_shadow() < self.shadow_very_short.average(history)
        {
            if self.star {
                -100
            } else {
                100
            }
        } else {
            0
        };
        slide(self.totals(), history);
        out
    }
}

/// `CDLMARUBOZU`: a long body with hardly any shadow on either side, opening and closing at
/// the extremes; 100 when white, -100 when black.
#[derive(Debug, Clone)]
pub struct Marubozu {
    body_long: Total,
    shadow_very_short: Total,
}

impl Default for Marubozu {
    fn default() -> Self {
        Self {
            body_long: Total::new(Setting::BodyLong, 0),
            shadow_very_short: Total::new(Setting::ShadowVeryShort, 0),
        }
    }
}

impl Pattern for Marubozu {
    fn lookback(&self) -> usize {
        Setting::BodyLong
            .period()
            .max(Setting::ShadowVeryShort.period())
    }

    fn next(&mut self, history: &History) -> i32 {
        let index = history.seen() - 1;
        let lookback = self.lookback();
        if index < lookback {
            warm(
                [&mut self.body_long, &mut self.shadow_very_short],
                history,
                index,
                lookback,
            );
            return 0;
        }
        let candle = history.at(0);
        let very_short = self.shadow_very_short.average(history);
        let out = if candle.body() > self.body_long.average(history)
            && candle.upper_shadow() < very_short
            && candle.lower_shadow() < very_short
        {
            candle.color() * 100
        } else {
            0
        };
        slide([&mut self.body_long, &mut self.shadow_very_short], history);
        out
    }
}

/// `CDLSPINNINGTOP`: a small body with both shadows longer than it, indecision; 100 when
/// white, -100 when black (the colour, not a direction).
#[derive(Debug, Clone)]
pub struct SpinningTop {
    body_short: Total,
}

impl Default for SpinningTop {
    fn default() -> Self {
        Self {
            body_short: Total::new(Setting::BodyShort, 0),
        }
    }
}

impl Pattern for SpinningTop {
    fn lookback(&self) -> usize {
        Setting::BodyShort.period()
    }

    fn next(&mut self, history: &History) -> i32 {
        let index = history.seen() - 1;
        let lookback = self.lookback();
        if index < lookback {
            self.body_short.warm(history, index, lookback);
            return 0;
        }
        let candle = history.at(0);
        let body = candle.body();
        let out = if candle.upper_shadow() > body
            && candle.lower_shadow() > body
            && body < self.body_short.average(history)
        {
            candle.color() * 100
        } else {
            0
        };
        self.body_short.slide(history);
        out
    }
}

/// `CDLDRAGONFLYDOJI` and `CDLGRAVESTONEDOJI`: a doji opening and closing at one end of its
/// range with a long shadow to the other: at the high with a long lower shadow (dragonfly:
/// sellers pushed down and were fully bought back), or at the low with a long upper shadow
/// (gravestone: buyers pushed up and were fully sold back); always 100, to be read against
/// the trend.
#[derive(Debug, Clone)]
pub struct ShadowDoji {
    /// Dragonfly (the long shadow below) or gravestone (above).
    long_below: bool,
    body_doji: Total,
    shadow_very_short: Total,
}

impl ShadowDoji {
    fn new(long_below: bool) -> Self {
        Self {
            long_below,
            body_doji: Total::new(Setting::BodyDoji, 0),
            shadow_very_short: Total::new(Setting::ShadowVeryShort, 0),
        }
    }

    /// The dragonfly doji.
    pub fn dragonfly() -> Self {
        Self::new(true)
    }

    /// The gravestone doji.
    pub fn gravestone() -> Self {
        Self::new(false)
    }
}

impl Pattern for ShadowDoji {
    fn lookback(&self) -> usize {
        Setting::BodyDoji
            .period()
            .max(Setting::ShadowVeryShort.period())
    }

    fn next(&mut self, history: &History) -> i32 {
        let index = history.seen() - 1;
        let lookback = self.lookback();
        if index < lookback {
            warm(
                [&mut self.body_doji, &mut self.shadow_very_short],
                history,
                index,
                lookback,
            );
            return 0;
        }
        let candle = history.at(0);
        let very_short = self.shadow_very_short.average(history);
        let (long, short) = if self.long_below {
            (candle.lower_shadow(), candle.upper_shadow())
        } else {
            (candle.upper_shadow(), candle.lower_shadow())
        };
        let out = if candle.body() <= self.body_doji.average(history)
            && short < very_short
            && long > very_short
        {
            100
        } else {
            0
        };
        slide([&mut self.body_doji, &mut self.shadow_very_short], history);
        out
    }
}
