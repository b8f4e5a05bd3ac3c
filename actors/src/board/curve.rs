//! The equity curve the board keeps for the operator's dashboard: bounded, so that a run of
//! months holds as many points as a run of minutes. When it is full, every other point is
//! dropped and from then on only every other account published is kept (the stride
//! doubles), so the curve always spans the whole run at an even, coarser grain.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::Timestamp;

/// The most points the board keeps (a chart is narrower than this in pixels).
pub const CURVE_POINTS: usize = 1000;

/// One point of the equity curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// The bar close the account was marked at (event time).
    pub ts: Timestamp,
    /// Equity then.
    pub equity: Decimal,
    /// The curve's peak equity then (drawdown is measured from it).
    pub peak: Decimal,
}

impl CurvePoint {
    /// Drawdown from the peak, in percent (zero at a new peak).
    pub fn drawdown_pct(&self) -> Decimal {
        if self.peak <= Decimal::ZERO {
            return Decimal::ZERO;
        }
        ((self.peak - self.equity) / self.peak * Decimal::ONE_HUNDRED).max(Decimal::ZERO)
    }
}

/// A bounded, evenly thinned equity curve.
#[derive(Debug, Clone)]
pub(super) struct EquityCurve {
    points: Vec<CurvePoint>,
    capacity: usize,
    /// Keep one offered point in `stride`.
    stride: u64,
    /// Points offered since the stride last changed.
    offered: u64,
}

impl Default for EquityCurve {
    fn default() -> Self {
        Self::with_capacity(CURVE_POINTS)
    }
}

impl EquityCurve {
    /// An empty curve of at most `capacity` points (at least 2).
    pub(super) fn with_capacity(capacity: usize) -> Self {
        Self {
            points: Vec::with_capacity(capacity.max(2)),
            capacity: capacity.max(2),
            stride: 1,
            offered: 0,
        }
    }

    /// Offers `point`: a point at the last one's time replaces it (a flush re-publishes the
    /// same mark), a later one is kept if the stride says so.
    pub(super) fn record(&mut self, point: CurvePoint) {
        if let Some(last) = self.points.last_mut() {
            if point.ts <= last.ts {
                if point.ts == last.ts {
                    *last = point;
                }
                return;
            }
        }
        self.offered += 1;
        if !(self.offered - 1).is_multiple_of(self.stride) {
            return;
        }
        if self.points.len() == self.capacity {
            let mut index = 0;
            self.points.retain(|_| {
                index += 1;
                index % 2 == 1
            });
            self.stride *= 2;
            self.offered = 1;
        }
        self.points.push(point);
    }

    /// The points, oldest first.
    pub(super) fn points(&self) -> Vec<CurvePoint> {
        self.points.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(ts: i64) -> CurvePoint {
        CurvePoint {
            ts: Timestamp(ts),
            equity: Decimal::from(ts),
            peak: Decimal::from(ts),
        }
    }

    #[test]
    fn drawdown_is_measured_from_the_peak() {
        let p = CurvePoint {
            ts: Timestamp(1),
            equity: Decimal::from(90),
            peak: Decimal::from(100),
        };
        assert_eq!(p.drawdown_pct(), Decimal::from(10));
        assert_eq!(point(0).drawdown_pct(), Decimal::ZERO, "no peak yet");
    }

    #[test]
    fn a_full_curve_thins_evenly_and_stays_bounded() {
        let mut curve = EquityCurve::with_capacity(8);
        for ts in 0..1000 {
            curve.record(point(ts));
            assert!(curve.points().len() <= 8);
        }
        let times: Vec<i64> = curve.points().iter().map(|p| p.ts.0).collect();
        assert_eq!(times[0], 0, "the start of the run is kept");
        let gaps: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(
            gaps.iter().all(|g| *g == gaps[0]),
            "evenly spaced: {times:?}"
        );
        assert!(*times.last().unwrap() > 800, "reaches the end: {times:?}");
    }

    #[test]
    fn the_same_mark_again_replaces_the_last_point_and_an_older_one_is_ignored() {
        let mut curve = EquityCurve::with_capacity(8);
        curve.record(point(1));
        curve.record(point(2));
        let mut again = point(2);
        again.equity = Decimal::from(7);
        curve.record(again);
        curve.record(point(1));
        assert_eq!(curve.points(), vec![point(1), again]);
    }

    #[test]
    fn the_board_keeps_each_published_mark() {
        let board = crate::board::Board::new();
        board.publish_account(crate::board::AccountView::default()); // not marked yet
        board.publish_account(crate::board::AccountView {
            ts: Some(Timestamp(5)),
            equity: Decimal::from(90),
            peak_equity: Decimal::from(100),
            ..Default::default()
        });
        let curve = board.equity_curve();
        assert_eq!(curve.len(), 1);
        assert_eq!(curve[0].ts, Timestamp(5));
        assert_eq!(curve[0].drawdown_pct(), Decimal::from(10));
    }
}
