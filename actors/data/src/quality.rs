//! The quality report of one loaded file: what was read, kept, dropped, rejected, and missing.

use std::fmt;
use std::path::PathBuf;

use crate::model::{Interval, Symbol, Timestamp};

/// How many rejects [`QualityReport`]'s `Display` lists before summarising the rest.
const LISTED_REJECTS: usize = 20;
/// How many gaps [`QualityReport`]'s `Display` lists before summarising the rest.
const LISTED_GAPS: usize = 10;

/// Missing bars between two consecutive accepted candles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// Open time of the last candle before the gap.
    pub after: Timestamp,
    /// Open time of the first candle after the gap.
    pub resumes: Timestamp,
    /// How many bars of the interval are missing in between.
    pub missing_bars: i64,
}

/// A row that was not loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// 1-based data row (for CSV the header is not counted, so row N is on line N + 1).
    pub row: usize,
    /// What is wrong with it.
    pub reason: String,
}

/// What loading a candle file found. `Display` prints it for `keel data inspect`.
///
/// Every data row ends up in exactly one place:
/// `rows == accepted + duplicates + out_of_order + rejects.len()`.
#[derive(Debug, Clone, PartialEq)]
pub struct QualityReport {
    /// The file read.
    pub file: PathBuf,
    /// The symbol its candles were assigned.
    pub symbol: Symbol,
    /// The candle interval (given or inferred).
    pub interval: Interval,
    /// Data rows read.
    pub rows: usize,
    /// Rows loaded as candles.
    pub accepted: usize,
    /// Open time of the first accepted candle.
    pub first: Option<Timestamp>,
    /// Open time of the last accepted candle.
    pub last: Option<Timestamp>,
    /// Holes between consecutive accepted candles, in time order.
    pub gaps: Vec<Gap>,
    /// Rows dropped because their open time equals the previous accepted one.
    pub duplicates: usize,
    /// Rows dropped because their open time is before the previous accepted one.
    pub out_of_order: usize,
    /// Rows rejected as invalid, in row order.
    pub rejects: Vec<Reject>,
}

impl QualityReport {
    /// The gap with the most missing bars (the earliest of equals).
    pub fn longest_gap(&self) -> Option<&Gap> {
        self.gaps.iter().rev().max_by_key(|gap| gap.missing_bars)
    }

    /// Total bars missing across all gaps.
    pub fn missing_bars(&self) -> i64 {
        self.gaps.iter().map(|gap| gap.missing_bars).sum()
    }

    /// True when no row was rejected. Gaps, duplicates and out-of-order rows do not count.
    pub fn is_clean(&self) -> bool {
        self.rejects.is_empty()
    }
}

impl fmt::Display for QualityReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        writeln!(f, "file:         {file}")?;
        writeln!(f, "symbol:       {}", self.symbol)?;
        writeln!(f, "interval:     {}", self.interval)?;
        match (self.first, self.last) {
            (Some(first), Some(last)) => writeln!(
                f,
                "range:        {first} .. {last} (bar open times; the last closes at {})",
                last.plus_ms(self.interval.millis())
            )?,
            _ => writeln!(f, "range:        (no candles)")?,
        }
        writeln!(
            f,
            "rows:         {} read, {} accepted",
            self.rows, self.accepted
        )?;
        match self.longest_gap() {
            Some(longest) => writeln!(
                f,
                "gaps:         {} ({} missing bars); longest {} bars after {}, resuming {}",
                self.gaps.len(),
                self.missing_bars(),
                longest.missing_bars,
                longest.after,
                longest.resumes
            )?,
            None => writeln!(f, "gaps:         0")?,
        }
        for gap in self.gaps.iter().take(LISTED_GAPS) {
            writeln!(
                f,
                "  {} .. {}: {} missing",
                gap.after, gap.resumes, gap.missing_bars
            )?;
        }
        if self.gaps.len() > LISTED_GAPS {
            writeln!(f, "  ... and {} more", self.gaps.len() - LISTED_GAPS)?;
        }
        writeln!(f, "duplicates:   {} (dropped)", self.duplicates)?;
        writeln!(f, "out of order: {} (dropped)", self.out_of_order)?;
        write!(f, "rejects:      {}", self.rejects.len())?;
        for reject in self.rejects.iter().take(LISTED_REJECTS) {
            write!(f, "\n  {file}: row {}: {}", reject.row, reject.reason)?;
        }
        if self.rejects.len() > LISTED_REJECTS {
            write!(
                f,
                "\n  ... and {} more",
                self.rejects.len() - LISTED_REJECTS
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> QualityReport {
        QualityReport {
            file: PathBuf::from("data/x.json"),
            symbol: Symbol::parse("BTC_USDT").unwrap(),
            interval: Interval::HOUR,
            rows: 30,
            accepted: 5,
            first: Some(Timestamp(0)),
            last: Some(Timestamp(10 * 3_600_000)),
            gaps: vec![
                Gap {
                    after: Timestamp(0),
                    resumes: Timestamp(3 * 3_600_000),
                    missing_bars: 2,
                },
                Gap {
                    after: Timestamp(4 * 3_600_000),
                    resumes: Timestamp(7 * 3_600_000),
                    missing_bars: 2,
                },
                Gap {
                    after: Timestamp(7 * 3_600_000),
                    resumes: Timestamp(9 * 3_600_000),
                    missing_bars: 1,
                },
            ],
            duplicates: 1,
            out_of_order: 2,
            rejects: (1..=22)
                .map(|row| Reject {
                    row,
                    reason: "high 1 is below low 2".into(),
                })
                .collect(),
        }
    }

    #[test]
    fn summarises_gaps_and_prefers_the_earliest_longest() {
        let report = report();
        assert_eq!(report.missing_bars(), 5);
        assert_eq!(report.longest_gap().unwrap().after, Timestamp(0));
        assert!(!report.is_clean());
    }

    #[test]
    fn display_lists_twenty_rejects_then_the_rest_as_a_count() {
        let text = report().to_string();
        assert!(text.contains("symbol:       BTCUSDT"), "{text}");
        assert!(text.contains("interval:     1h"), "{text}");
        assert!(
            text.contains("range:        1970-01-01T00:00:00Z .. 1970-01-01T10:00:00Z"),
            "{text}"
        );
        assert!(text.contains("rows:         30 read, 5 accepted"), "{text}");
        assert!(
            text.contains(
                "gaps:         3 (5 missing bars); longest 2 bars after 1970-01-01T00:00:00Z, \
                 resuming 1970-01-01T03:00:00Z"
            ),
            "{text}"
        );
        assert!(
            text.contains("\n  1970-01-01T04:00:00Z .. 1970-01-01T07:00:00Z: 2 missing\n"),
            "{text}"
        );
        assert!(text.contains("duplicates:   1"), "{text}");
        assert!(text.contains("out of order: 2"), "{text}");
        assert!(
            text.contains("  data/x.json: row 20: high 1 is below low 2"),
            "{text}"
        );
        assert!(!text.contains("data/x.json: row 21:"), "{text}");
        assert!(text.ends_with("  ... and 2 more"), "{text}");
    }
}
