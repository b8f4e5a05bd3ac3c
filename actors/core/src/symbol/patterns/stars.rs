//! Three-candle reversal and continuation patterns: the morning and evening stars, three
//! white soldiers and three black crows.

use super::candle::{body_gap_down, body_gap_up, History, Ohlc, Pattern, Setting, Total};
use super::Named;

/// The stars' default penetration: how far into the first body the third candle must close.
const STAR_PENETRATION: f64 = 0.3;

/// The stars' measures: a long first body, a short star, a third body that is not short.
#[derive(Debug, Clone)]
struct StarBodies {
    penetration: f64,
    /// `BodyLong` for the first candle (two bars back).
    first_long: Total,
    /// `BodyShort` for the star (one bar back).
    star_short: Total,
    /// `BodyShort` for the third candle (the judged one).
    third_short: Total,
}

impl Default for StarBodies {
    fn default() -> Self {
        Self {
            penetration: STAR_PENETRATION,
            first_long: Total::new(Setting::BodyLong, 2),
            star_short: Total::new(Setting::BodyShort, 1),
            third_short: Total::new(Setting::BodyShort, 0),
        }
    }
}

impl StarBodies {
    fn lookback() -> usize {
        Setting::BodyShort.period().max(Setting::BodyLong.period()) + 2
    }

    /// `value` when the three newest candles pass `shape` (colours, gap and close, given the
    /// penetration) and the body sizes, else 0.
    fn judge(
        &mut self,
        history: &History,
        value: i32,
        shape: impl Fn(&Ohlc, &Ohlc, &Ohlc, f64) -> bool,
    ) -> i32 {
        let index = history.seen() - 1;
        let lookback = Self::lookback();
        if index < lookback {
            self.first_long.warm(history, index, lookback);
            self.star_short.warm(history, index, lookback);
            self.third_short.warm(history, index, lookback);
            return 0;
        }
        let (first, star, third) = (history.at(2), history.at(1), history.at(0));
        let found = shape(first, star, third, self.penetration)
            && first.body() > self.first_long.average(history)
            && star.body() <= self.star_short.average(history)
            && third.body() > self.third_short.average(history);
        self.first_long.slide(history);
        self.star_short.slide(history);
        self.third_short.slide(history);
        if found {
            value
        } else {
            0
        }
    }
}

/// `CDLMORNINGSTAR`: a long black candle, a small body gapping down below it, then a white
/// candle closing well into the first body (30 % by default); always 100 (bullish).
#[derive(Debug, Clone, Default)]
pub struct MorningStar {
    bodies: StarBodies,
}

impl Pattern for MorningStar {
    fn lookback(&self) -> usize {
        StarBodies::lookback()
    }

    fn next(&mut self, history: &History) -> i32 {
        self.bodies
            .judge(history, 100, |first, star, third, penetration| {
                first.color() == -1
                    && third.color() == 1
                    && body_gap_down(star, first)
                    && third.close > first.close + first.body() * penetration
            })
    }
}

/// `CDLEVENINGSTAR`: a long white candle, a small body gapping up above it, then a black
/// candle closing well into the first body (30 % by default); always -100 (bearish).
#[derive(Debug, Clone, Default)]
pub struct EveningStar {
    bodies: StarBodies,
}

impl Pattern for EveningStar {
    fn lookback(&self) -> usize {
        StarBodies::lookback()
    }

    fn next(&mut self, history: &History) -> i32 {
        self.bodies
            .judge(history, -100, |first, star, third, penetration| {
                first.color() == 1
                    && third.color() == -1
                    && body_gap_up(star, first)
                    && third.close < first.close - first.body() * penetration
            })
    }
}

/// `CDL3WHITESOLDIERS`: three white candles closing higher each time, each with almost no
/// upper shadow, each opening inside or just above the previous body, none far shorter than
/// the one before, the last not short; always 100 (bullish).
#[derive(Debug, Clone)]
pub struct ThreeWhiteSoldiers {
    /// `ShadowVeryShort` for the candles two, one and zero bars back.
    shadow_very_short: [Total; 3],
    /// `Near` for the candles two and one bars back.
    near: [Total; 2],
    /// `Far` for the candles two and one bars back.
    far: [Total; 2],
    /// `BodyShort` for the judged candle.
    body_short: Total,
}

impl Default for ThreeWhiteSoldiers {
    fn default() -> Self {
        let three = |setting| [2, 1, 0].map(|offset| Total::new(setting, offset));
        let two = |setting| [2, 1].map(|offset| Total::new(setting, offset));
        Self {
            shadow_very_short: three(Setting::ShadowVeryShort),
            near: two(Setting::Near),
            far: two(Setting::Far),
            body_short: Total::new(Setting::BodyShort, 0),
        }
    }
}

impl ThreeWhiteSoldiers {
    fn totals(&mut self) -> impl Iterator<Item = &mut Total> {
        self.shadow_very_short
            .iter_mut()
            .chain(self.far.iter_mut())
            .chain(self.near.iter_mut())
            .chain(std::iter::once(&mut self.body_short))
    }
}

impl Pattern for ThreeWhiteSoldiers {
    fn lookback(&self) -> usize {
        let shadow_or_body = Setting::ShadowVeryShort
            .period()
            .max(Setting::BodyShort.period());
        let far_or_near = Setting::Far.period().max(Setting::Near.period());
        shadow_or_body.max(far_or_near) + 2
    }

    fn next(&mut self, history: &History) -> i32 {
        let index = history.seen() - 1;
        let lookback = self.lookback();
        if index < lookback {
            self.totals()
                .for_each(|total| total.warm(history, index, lookback));
            return 0;
        }
        let candles = [history.at(2), history.at(1), history.at(0)];
        let [first, second, third] = candles;
        let white_short_upper =
            candles
                .iter()
                .zip(&self.shadow_very_short)
                .all(|(candle, shadow)| {
                    candle.color() == 1 && candle.upper_shadow() < shadow.average(history)
                });
        let found = white_short_upper
            && third.close > second.close
            && second.close > first.close
            && second.open > first.open
            && second.open <= first.close + self.near[0].average(history)
            && third.open > second.open
            && third.open <= second.close + self.near[1].average(history)
            && second.body() > first.body() - self.far[0].average(history)
            && third.body() > second.body() - self.far[1].average(history)
            && third.body() > self.body_short.average(history);
        self.totals().for_each(|total| total.slide(history));
        if found {
            100
        } else {
            0
        }
    }
}

/// `CDL3BLACKCROWS`: after a white candle, three black candles closing lower each time, each
/// opening inside the previous body and closing near its low (almost no lower shadow), the
/// first closing under the white candle's high; always -100 (bearish).
#[derive(Debug, Clone)]
pub struct ThreeBlackCrows {
    /// `ShadowVeryShort` for the crows: two, one and zero bars back.
    shadow_very_short: [Total; 3],
}

impl Default for ThreeBlackCrows {
    fn default() -> Self {
        Self {
            shadow_very_short: [2, 1, 0].map(|offset| Total::new(Setting::ShadowVeryShort, offset)),
        }
    }
}

impl Pattern for ThreeBlackCrows {
    fn lookback(&self) -> usize {
        Setting::ShadowVeryShort.period() + 3
    }

    fn next(&mut self, history: &History) -> i32 {
        let index = history.seen() - 1;
        let lookback = self.lookback();
        if index < lookback {
            for total in &mut self.shadow_very_short {
                total.warm(history, index, lookback);
            }
            return 0;
        }
        let white = history.at(3);
        let crows = [history.at(2), history.at(1), history.at(0)];
        let [first, second, third] = crows;
        let black_short_lower = crows
            .iter()
            .zip(&self.shadow_very_short)
            .all(|(crow, shadow)| {
                crow.color() == -1 && crow.lower_shadow() < shadow.average(history)
            });
        let found = white.color() == 1
            && black_short_lower
            && second.open < first.open
            && second.open > first.close
            && third.open < second.open
            && third.open > second.close
            && white.high > first.close
            && first.close > second.close
            && second.close > third.close;
        for total in &mut self.shadow_very_short {
            total.slide(history);
        }
        if found {
            -100
        } else {
            0
        }
    }
}

/// The patterns of this file, by name.
pub(super) fn patterns() -> Vec<Named> {
    vec![
        ("morningstar", Box::<MorningStar>::default()),
        ("eveningstar", Box::<EveningStar>::default()),
        ("3whitesoldiers", Box::<ThreeWhiteSoldiers>::default()),
        ("3blackcrows", Box::<ThreeBlackCrows>::default()),
    ]
}

// Every value below was derived by hand from the definition and then confirmed by running
// TA-Lib itself on the same candles (Python TA-Lib 0.8.2 from PyPI, not a dependency).
#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `pattern` over `candles` (open, high, low, close), one value per candle.
    fn run(mut pattern: impl Pattern, candles: &[(f64, f64, f64, f64)]) -> Vec<i32> {
        let mut history = History::default();
        candles
            .iter()
            .map(|&(open, high, low, close)| {
                history.push(Ohlc::new(open, high, low, close));
                pattern.next(&history)
            })
            .collect()
    }

    /// Ten quiet white candles: range 10, body 1, so every `ShadowVeryShort` average is
    /// 0.1 * 10 = 1.0, `Near` 0.2 * 10 = 2.0 and `Far` 0.6 * 10 = 6.0 (all candles below also
    /// have range 10, keeping these averages fixed).
    fn quiet() -> Vec<(f64, f64, f64, f64)> {
        vec![(100.0, 105.0, 95.0, 101.0); 10]
    }

    /// Quiet candles, a white candle, then three crows with 0.5 lower shadows (candles 10–13).
    fn crows(third_low: f64) -> Vec<(f64, f64, f64, f64)> {
        let mut candles = quiet();
        candles.extend([
            (100.0, 110.0, 100.0, 108.0),
            (107.0, 108.0, 98.0, 98.5),
            (104.0, 104.5, 94.5, 95.0),
            (101.0, third_low + 10.0, third_low, 92.0),
        ]);
        candles
    }

    #[test]
    fn three_black_crows_fixture() {
        // Row 13 (= lookback 13, the first judged): white then three black candles, each
        // opening inside the previous body, closing lower, lower shadow 0.5 < 1.0, and the first
        // closing (98.5) under the white high (110): TA-Lib gives -100 there, 0 elsewhere.
        let mut want = [0; 14];
        want[13] = -100;
        assert_eq!(run(ThreeBlackCrows::default(), &crows(91.5)), want);
    }

    #[test]
    fn three_black_crows_near_miss() {
        // The third crow's lower shadow is 1.0, equal to its `ShadowVeryShort` average: the
        // test is strict (<), so TA-Lib gives 0 everywhere.
        assert_eq!(run(ThreeBlackCrows::default(), &crows(91.0)), [0; 14]);
    }

    /// Quiet candles, then three white candles of body 8 with 0.5 upper shadows (candles
    /// 10–12), the third opening at `third_open` with upper shadow `third_upper`.
    fn soldiers(third_open: f64, third_upper: f64) -> Vec<(f64, f64, f64, f64)> {
        let mut candles = quiet();
        let third_high = third_open + 8.0 + third_upper;
        candles.extend([
            (100.0, 108.5, 98.5, 108.0),
            (104.0, 112.5, 102.5, 112.0),
            (third_open, third_high, third_high - 10.0, third_open + 8.0),
        ]);
        candles
    }

    #[test]
    fn three_white_soldiers_fixture() {
        // Row 12 (= lookback 12, the first judged): three white bodies of 8 (not far shorter
        // than the one before: 8 > 8 - 6), closes 108 < 112 < 116, opens 100 < 104 < 108 each
        // at most the previous close + 2.0, upper shadows 0.5 < 1.0, and the last body 8 above
        // the average body of candles 2–11 (2.4): TA-Lib gives 100 there, 0 elsewhere.
        let mut want = [0; 13];
        want[12] = 100;
        assert_eq!(
            run(ThreeWhiteSoldiers::default(), &soldiers(108.0, 0.5)),
            want
        );
        // Opening exactly at the previous close + `Near` (112 + 2.0) still counts (<=).
        assert_eq!(
            run(ThreeWhiteSoldiers::default(), &soldiers(114.0, 0.5)),
            want
        );
    }

    #[test]
    fn three_white_soldiers_near_miss() {
        // The third upper shadow is 1.0, equal to its `ShadowVeryShort` average (strict <): 0.
        let none = [0; 13];
        assert_eq!(
            run(ThreeWhiteSoldiers::default(), &soldiers(108.0, 1.0)),
            none
        );
        // Opening 114.5, above the previous close + `Near` (114): 0.
        assert_eq!(
            run(ThreeWhiteSoldiers::default(), &soldiers(114.5, 0.5)),
            none
        );
    }
}
