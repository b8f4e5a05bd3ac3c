//! Candles that pass every check a loader or a feed makes can still be absurd: a price of
//! 10^-8 or 10^10 (the bounds [`check_ohlcv`] sets), a bar whose high is 10^18 times its low,
//! a volume of 10^18. The decision code (indicators, fusion, risk, orders, the book) and the report must
//! survive every one of them: a run either trades or refuses, it never panics on arithmetic
//! that overflows, and the account it reports stays whole (cash never negative, every figure a
//! number).
//!
//! `PROPTEST_CASES` sets how many series are tried (default 24, each a full backtest of the
//! shipped hourly slice, cut to its first 3,000 bars).

mod common;

use keel::backtest::{backtest_pipeline, load_inputs, RunInputs};
use keel::report::compute_metrics;
use keel::settings::Settings;
use keel_core::strategy::StrategyKind;
use keel_model::{
    check_ohlcv, Candle, Decimal, MAX_CANDLE_PRICE, MAX_CANDLE_VOLUME, MIN_CANDLE_PRICE,
};
use proptest::prelude::*;
use proptest::test_runner::Config;

/// How many candles of the shipped slice a run replays: its month of warm-up (two symbols,
/// 1,488 bars) and about as many traded.
const BARS: usize = 3000;
/// Where the spikes and crashes fall: in the traded part.
const TRADED: std::ops::Range<usize> = 1488..BARS;

/// A transformation of the shipped series that keeps every bar valid.
#[derive(Debug, Clone)]
struct Hostile {
    /// Every price of each symbol multiplied by 10^scale.
    scale: i32,
    /// Every volume multiplied by 10^volume_scale.
    volume_scale: i32,
    /// Bars whose high (and close, when `close_too`) jump by `factor`.
    spikes: Vec<(usize, Decimal, bool)>,
    /// Bars whose low (and close, when `close_too`) fall to price / `factor`.
    crashes: Vec<(usize, Decimal, bool)>,
}

fn pow10(exp: i32) -> Decimal {
    let mut value = Decimal::ONE;
    let ten = Decimal::TEN;
    for _ in 0..exp.unsigned_abs() {
        value = if exp >= 0 { value * ten } else { value / ten };
    }
    value
}

fn hostile() -> impl Strategy<Value = Hostile> {
    let factor = prop_oneof![
        Just(Decimal::TWO),
        (1i32..12).prop_map(pow10),
        Just(MAX_CANDLE_PRICE / MIN_CANDLE_PRICE),
    ];
    (
        -12i32..7,
        -8i32..15,
        proptest::collection::vec((TRADED, factor.clone(), any::<bool>()), 0..6),
        proptest::collection::vec((TRADED, factor, any::<bool>()), 0..6),
    )
        .prop_map(|(scale, volume_scale, spikes, crashes)| Hostile {
            scale,
            volume_scale,
            spikes,
            crashes,
        })
}

/// `candle` with its prices times `price` and its volume times `volume`, clamped into what
/// [`check_ohlcv`] accepts.
fn scaled(candle: &Candle, price: Decimal, volume: Decimal) -> Candle {
    let at = |v: Decimal| (v * price).clamp(MIN_CANDLE_PRICE, MAX_CANDLE_PRICE);
    Candle {
        open: at(candle.open),
        high: at(candle.high),
        low: at(candle.low),
        close: at(candle.close),
        volume: (candle.volume * volume).min(MAX_CANDLE_VOLUME),
        ..candle.clone()
    }
}

fn apply(hostile: &Hostile, inputs: &RunInputs) -> RunInputs {
    let (price, volume) = (pow10(hostile.scale), pow10(hostile.volume_scale));
    let mut candles: Vec<Candle> = inputs
        .candles
        .iter()
        .take(BARS)
        .map(|c| scaled(c, price, volume))
        .collect();
    for &(at, factor, close_too) in &hostile.spikes {
        if let Some(bar) = candles.get_mut(at) {
            bar.high = bar.high.saturating_mul(factor).min(MAX_CANDLE_PRICE);
            if close_too {
                bar.close = bar.high;
            }
        }
    }
    for &(at, factor, close_too) in &hostile.crashes {
        if let Some(bar) = candles.get_mut(at) {
            bar.low = (bar.low / factor).max(MIN_CANDLE_PRICE);
            if close_too {
                bar.close = bar.low;
            }
        }
    }
    for bar in &candles {
        check_ohlcv([bar.open, bar.high, bar.low, bar.close, bar.volume])
            .expect("the generator keeps every bar valid");
    }
    RunInputs {
        candles,
        ..inputs.clone()
    }
}

fn settings(strategy: StrategyKind) -> Settings {
    let mut settings = common::default_settings();
    settings.strategy.kind = strategy;
    settings
}

fn config() -> Config {
    Config {
        failure_persistence: None,
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(24),
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn absurd_but_valid_candles_never_break_a_run(
        hostile in hostile(),
        strategy in prop_oneof![
            Just(StrategyKind::Fusion),
            Just(StrategyKind::SmaCross),
            Just(StrategyKind::BuyAndHold),
        ],
    ) {
        let settings = settings(strategy);
        let inputs = apply(&hostile, &load_inputs(&settings).expect("the shipped data loads"));
        let (result, _) = backtest_pipeline(&settings, inputs, &mut |_| {});
        for point in &result.equity_curve {
            prop_assert!(
                point.equity >= point.exposure,
                "cash fell below zero at {}: equity {} exposure {}",
                point.ts, point.equity, point.exposure
            );
        }
        let metrics = compute_metrics(&result);
        let shown = format!("{metrics:?}");
        prop_assert!(!shown.contains("inf"), "a metric is infinite: {shown}");
    }
}

/// Found by the property above before prices were bounded: a position bought at 14 and marked
/// at `Decimal::MAX` overflowed the equity. Now the highest price is 10^10, and the run values
/// the position there (and its drawdown after) without a panic.
#[test]
fn a_position_marked_at_the_highest_price_is_valued_not_overflowed() {
    let settings = settings(StrategyKind::BuyAndHold);
    let hostile = Hostile {
        scale: -3,
        volume_scale: 0,
        spikes: vec![(2000, MAX_CANDLE_PRICE, true)],
        crashes: vec![],
    };
    let inputs = apply(
        &hostile,
        &load_inputs(&settings).expect("the shipped data loads"),
    );
    let spike = inputs.candles[2000].clone();
    let (result, _) = backtest_pipeline(&settings, inputs, &mut |_| {});
    let at_spike = result
        .equity_curve
        .iter()
        .find(|p| p.ts == spike.close_time())
        .expect("an equity point at the spike's close");
    assert!(
        at_spike.exposure > MAX_CANDLE_PRICE,
        "the position is valued at the spike's price: {at_spike:?}"
    );
    let metrics = compute_metrics(&result);
    assert!(
        metrics.max_drawdown.is_some_and(|d| d < -0.99),
        "{metrics:?}"
    );
}

/// Found by the property above in CI: a close crashed to half its bar's low made `sma_cross`
/// buy a full share at that price, and the next bar opened at twice it: the buy filled at
/// double its budget and the cash fell below zero. Now the buy may spend only the cash held
/// for it, so it expires at that open and the account stays whole.
#[test]
fn a_spike_then_a_crash_never_spends_more_than_the_cash() {
    let settings = settings(StrategyKind::SmaCross);
    let hostile = Hostile {
        scale: 0,
        volume_scale: 0,
        spikes: vec![(1632, Decimal::TEN, true)],
        crashes: vec![(1732, Decimal::TWO, true)],
    };
    let inputs = apply(
        &hostile,
        &load_inputs(&settings).expect("the shipped data loads"),
    );
    let crashed = inputs.candles[1732].clone();
    let (result, _) = backtest_pipeline(&settings, inputs, &mut |_| {});
    for point in &result.equity_curve {
        assert!(
            point.equity >= point.exposure,
            "cash fell below zero at {}: equity {} exposure {}",
            point.ts,
            point.equity,
            point.exposure
        );
    }
    let bought_after_the_crash = result
        .trades
        .iter()
        .map(|t| (&t.symbol, t.entry_time))
        .chain(
            result
                .open_positions
                .iter()
                .map(|p| (&p.symbol, p.opened_at)),
        )
        .any(|(symbol, at)| *symbol == crashed.symbol && at == crashed.close_time());
    assert!(
        !bought_after_the_crash,
        "the buy decided on the crashed close filled at the next open: {:?}",
        result.trades
    );
}
