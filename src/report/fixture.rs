//! A small hand-made backtest result for the report tests.

use keel_model::{ClosedTrade, Decimal, ExitReason, Symbol, Timestamp};
use rust_decimal_macros::dec;

use crate::backtest::{BacktestResult, EquityPoint};

/// 2021-01-01T00:00:00Z.
pub const T0: i64 = 1_609_459_200_000;
/// One hour in ms.
pub const HOUR: i64 = 3_600_000;

/// An equity point `hours` after [`T0`].
pub fn point(hours: i64, equity: Decimal, exposure: Decimal) -> EquityPoint {
    EquityPoint {
        ts: Timestamp(T0 + hours * HOUR),
        equity,
        exposure,
    }
}

/// A BTCUSDT round trip of 1 unit entered `entry_h` and left `exit_h` hours after [`T0`].
pub fn trade(entry_h: i64, exit_h: i64, pnl: Decimal, fees: Decimal) -> ClosedTrade {
    ClosedTrade {
        symbol: Symbol::parse("BTCUSDT").unwrap(),
        entry_time: Timestamp(T0 + entry_h * HOUR),
        exit_time: Timestamp(T0 + exit_h * HOUR),
        qty: dec!(1),
        entry_price: dec!(500),
        exit_price: dec!(500) + pnl + fees,
        pnl,
        fees,
        exit_reason: ExitReason::Signal,
    }
}

/// A result with the given curve and trades, 1h bars, 1000 USDT initial capital.
pub fn result(equity_curve: Vec<EquityPoint>, trades: Vec<ClosedTrade>) -> BacktestResult {
    BacktestResult {
        strategy: "sma_cross".to_string(),
        symbols: vec![Symbol::parse("BTCUSDT").unwrap()],
        bars_per_year: 8760.0,
        initial_capital: dec!(1000),
        fees_paid: trades.iter().map(|t| t.fees).sum(),
        equity_curve,
        trades,
        open_positions: Vec::new(),
        candles: 5,
        orders_submitted: 6,
        refusals: vec![("max_positions".to_string(), 2)],
        llm: None,
    }
}

/// Five hourly bars and three trades with known P&L (+100, -40, +20):
///
/// | bar | equity | exposure |
/// |-----|--------|----------|
/// | 0   | 1000   | 0        |
/// | 1   | 1100   | 500      |
/// | 2   | 990    | 500      |
/// | 3   | 1045   | 0        |
/// | 4   | 1210   | 600      |
pub fn sample() -> BacktestResult {
    result(
        vec![
            point(0, dec!(1000), dec!(0)),
            point(1, dec!(1100), dec!(500)),
            point(2, dec!(990), dec!(500)),
            point(3, dec!(1045), dec!(0)),
            point(4, dec!(1210), dec!(600)),
        ],
        vec![
            trade(0, 1, dec!(100), dec!(2)),
            trade(1, 3, dec!(-40), dec!(2)),
            trade(1, 4, dec!(20), dec!(2)),
        ],
    )
}
