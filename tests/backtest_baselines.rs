//! Baseline backtests on a ten-bar fixture whose every trade is worked out by hand.

use std::io::Write;

use keel::backtest::{load_inputs, run_backtest, BacktestResult};
use keel::settings::Settings;
use keel_model::{ExitReason, Timestamp};
use rust_decimal_macros::dec;

const T0: i64 = 1_577_836_800_000; // 2020-01-01T00:00:00Z
const HOUR: i64 = 3_600_000;

/// Closes fall, rise through the slow SMA, then fall again: SMA(2) crosses above SMA(3) at
/// the close of bar 5 and below it at the close of bar 7. Each open equals the previous close.
const BARS: [(f64, f64, f64, f64); 10] = [
    (10.0, 10.0, 10.0, 10.0),
    (10.0, 10.0, 9.0, 9.0),
    (9.0, 9.0, 8.0, 8.0),
    (8.0, 8.0, 7.0, 7.0),
    (7.0, 9.0, 7.0, 9.0),
    (9.0, 11.0, 9.0, 11.0),
    (11.0, 12.0, 11.0, 12.0),
    (12.0, 12.0, 8.0, 8.0),
    (8.0, 8.0, 5.0, 5.0),
    (5.0, 6.0, 5.0, 6.0),
];

fn backtest(strategy: &str) -> BacktestResult {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("TEST_USDT-1h.csv");
    let mut file = std::fs::File::create(&csv).unwrap();
    writeln!(file, "open_time_ms,open,high,low,close,volume").unwrap();
    for (i, (o, h, l, c)) in BARS.iter().enumerate() {
        writeln!(file, "{},{o},{h},{l},{c},100", T0 + i as i64 * HOUR).unwrap();
    }
    let toml = format!(
        r#"
        [data]
        candles = [{{ symbol = "TESTUSDT", path = "{}", interval = "1h" }}]
        [account]
        initial_capital = 1000
        [strategy]
        kind = "{strategy}"
        sma_fast = 2
        sma_slow = 3
        cash_buffer_pct = 1.0
        [venue]
        fee_bps = 10
        slippage_bps = 0
        [orders]
        # Each open equals the previous close here, so no margin is needed beyond the
        # strategy's 1 % buffer, and the figures stay round enough to check by hand.
        reserve_margin = 0
        "#,
        csv.display()
    );
    let settings = Settings::from_toml(&toml, "test").unwrap();
    let inputs = load_inputs(&settings).unwrap();
    run_backtest(&settings, inputs, &mut |_| {})
}

#[test]
fn sma_cross_trades_match_the_hand_worked_fixture() {
    let result = backtest("sma_cross");
    // Golden cross at bar 5's close (11): budget 1000 × 99% = 990 → 90 units, a market buy
    // filled at bar 6's open (11): cost 990 + fee 0.99. Death cross at bar 7's close: a market
    // sell filled at bar 8's open (8): 720 − fee 0.72. P&L = 720 − 990 − 0.99 − 0.72.
    assert_eq!(result.trades.len(), 1, "{:#?}", result.trades);
    let trade = &result.trades[0];
    assert_eq!(trade.qty, dec!(90));
    assert_eq!(trade.entry_price, dec!(11));
    assert_eq!(trade.exit_price, dec!(8));
    assert_eq!(trade.entry_time, Timestamp(T0 + 6 * HOUR));
    assert_eq!(trade.fees, dec!(1.71));
    assert_eq!(trade.pnl, dec!(-271.71));
    assert_eq!(trade.exit_reason, ExitReason::Signal);
    assert_eq!(result.fees_paid, dec!(1.71));
    assert_eq!(result.orders_submitted, 2);
    assert!(result.open_positions.is_empty());

    let equity: Vec<_> = result.equity_curve.iter().map(|p| p.equity).collect();
    // Flat until the buy; 9.01 cash + 90 × close afterwards; 728.29 once sold.
    assert_eq!(
        equity,
        vec![
            dec!(1000),
            dec!(1000),
            dec!(1000),
            dec!(1000),
            dec!(1000),
            dec!(1000),
            dec!(1089.01),
            dec!(729.01),
            dec!(728.29),
            dec!(728.29)
        ]
    );
    assert_eq!(
        result.equity_curve[0].ts,
        Timestamp(T0 + HOUR),
        "points carry bar close times"
    );
}

#[test]
fn buy_and_hold_buys_at_the_second_open_and_holds() {
    let result = backtest("buy_and_hold");
    // Decided at bar 0's close: 990 / 10 = 99 units filled at bar 1's open (10), fee 0.99.
    assert!(result.trades.is_empty());
    assert_eq!(result.open_positions.len(), 1);
    assert_eq!(result.open_positions[0].qty, dec!(99));
    assert_eq!(result.fees_paid, dec!(0.99));
    // 9.01 cash + 99 × 6 at the last close.
    assert_eq!(result.equity_curve.last().unwrap().equity, dec!(603.01));
}
