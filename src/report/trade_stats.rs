//! Statistics over closed round trips: win rate, profit factor, expectancy, average win and
//! loss, holding time. Money stays `Decimal`; ratios are `f64`.

use keel_model::{ClosedTrade, Decimal};
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;

/// Milliseconds in one hour.
pub(crate) const MS_PER_HOUR: f64 = 3_600_000.0;

/// Trade statistics. A trade is a win when its P&L after fees is `> 0` and a loss when it
/// is `< 0`; break-even trades count in `trade_count` and `expectancy` only.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TradeStats {
    /// Closed round trips.
    pub trade_count: u64,
    /// Trades with positive P&L.
    pub wins: u64,
    /// Trades with negative P&L.
    pub losses: u64,
    /// `wins / trade_count`; `None` without trades.
    pub win_rate: Option<f64>,
    /// Sum of winning P&L (quote asset, `>= 0`).
    pub gross_profit: Decimal,
    /// Sum of losing P&L (quote asset, `<= 0`).
    pub gross_loss: Decimal,
    /// `gross_profit / |gross_loss|`; `None` when there is no losing trade.
    pub profit_factor: Option<f64>,
    /// Mean P&L per trade (quote asset); `None` without trades.
    pub expectancy: Option<Decimal>,
    /// Mean P&L of the winning trades; `None` without wins.
    pub avg_win: Option<Decimal>,
    /// Mean P&L of the losing trades (negative); `None` without losses.
    pub avg_loss: Option<Decimal>,
    /// Mean time from first entry fill to last exit fill, in hours; `None` without trades.
    pub avg_trade_duration_hours: Option<f64>,
}

impl TradeStats {
    /// Computes the statistics of `trades`.
    pub fn of(trades: &[ClosedTrade]) -> Self {
        let mut stats = Self {
            trade_count: trades.len() as u64,
            wins: 0,
            losses: 0,
            win_rate: None,
            gross_profit: Decimal::ZERO,
            gross_loss: Decimal::ZERO,
            profit_factor: None,
            expectancy: None,
            avg_win: None,
            avg_loss: None,
            avg_trade_duration_hours: None,
        };
        let mut duration_ms: i64 = 0;
        for trade in trades {
            if trade.pnl > Decimal::ZERO {
                stats.wins += 1;
                stats.gross_profit += trade.pnl;
            } else if trade.pnl < Decimal::ZERO {
                stats.losses += 1;
                stats.gross_loss += trade.pnl;
            }
            duration_ms += trade.exit_time.millis() - trade.entry_time.millis();
        }
        if stats.trade_count > 0 {
            let count = stats.trade_count as f64;
            stats.win_rate = Some(stats.wins as f64 / count);
            stats.expectancy = mean(stats.gross_profit + stats.gross_loss, stats.trade_count);
            stats.avg_trade_duration_hours = Some(duration_ms as f64 / MS_PER_HOUR / count);
        }
        stats.avg_win = mean(stats.gross_profit, stats.wins);
        stats.avg_loss = mean(stats.gross_loss, stats.losses);
        if stats.losses > 0 {
            stats.profit_factor = (stats.gross_profit / -stats.gross_loss).to_f64();
        }
        stats
    }
}

/// `total / count`, `None` when `count` is zero.
fn mean(total: Decimal, count: u64) -> Option<Decimal> {
    (count > 0).then(|| total / Decimal::from(count))
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_model::{ExitReason, Symbol, Timestamp};
    use rust_decimal_macros::dec;

    fn trade(pnl: Decimal, hours: i64) -> ClosedTrade {
        ClosedTrade {
            symbol: Symbol::parse("BTCUSDT").unwrap(),
            entry_time: Timestamp(0),
            exit_time: Timestamp(hours * 3_600_000),
            qty: dec!(1),
            entry_price: dec!(100),
            exit_price: dec!(100) + pnl,
            pnl,
            fees: dec!(0),
            exit_reason: ExitReason::Signal,
        }
    }

    #[test]
    fn break_even_trades_are_neither_wins_nor_losses() {
        let stats = TradeStats::of(&[trade(dec!(10), 1), trade(dec!(0), 3), trade(dec!(-4), 2)]);
        assert_eq!((stats.wins, stats.losses, stats.trade_count), (1, 1, 3));
        assert_eq!(stats.win_rate, Some(1.0 / 3.0));
        assert_eq!(stats.expectancy, Some(dec!(2)));
        assert_eq!(stats.profit_factor, Some(2.5));
        assert_eq!(stats.avg_trade_duration_hours, Some(2.0));
    }

    #[test]
    fn only_winners_leave_profit_factor_and_avg_loss_undefined() {
        let stats = TradeStats::of(&[trade(dec!(5), 1)]);
        assert_eq!(stats.profit_factor, None);
        assert_eq!(stats.avg_loss, None);
        assert_eq!(stats.avg_win, Some(dec!(5)));
    }

    #[test]
    fn no_trades_leave_everything_undefined() {
        let stats = TradeStats::of(&[]);
        assert_eq!(stats.trade_count, 0);
        assert_eq!(stats.win_rate, None);
        assert_eq!(stats.expectancy, None);
        assert_eq!(stats.avg_win, None);
        assert_eq!(stats.avg_trade_duration_hours, None);
    }
}
