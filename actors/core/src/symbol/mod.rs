//! One symbol's technical core: indicators, the market regime and the setup scanner.
//!
//! # Indicators and the standard (TA-Lib) values
//!
//! The indicators come from the `ta` crate, but `ta` 0.5 departs from the standard
//! definitions in ways that matter:
//! - its RSI and ATR smooth with an ordinary EMA of period `n`, where the standard (Wilder)
//!   uses `k = 1/n`; the RSI also seeds both averages with a made-up 0.1;
//! - its EMAs (and so its MACD, RSI and ATR) are seeded with the first input, where TA-Lib
//!   seeds each with the simple mean of the first `n` inputs, and its ATR counts the first
//!   bar's high − low, for which TA-Lib has no true range;
//! - it returns a value from the first bar, where TA-Lib leaves a warm-up empty.
//!
//! keel's [`IndicatorSet`] therefore composes `ta`'s building blocks (SMA, EMA, true range,
//! Bollinger Bands) with TA-Lib's smoothing, seeding and warm-up: Wilder's `n` is `ta`'s EMA
//! of period `2n - 1`, and an EMA is seeded by handing it the mean of its first inputs. `ta`'s
//! Bollinger Bands already use the population standard deviation, as TA-Lib does. The result
//! is the standard TA-Lib value of every indicator from its first bar on (tested against
//! TA-Lib 0.6 output on 5,000 BTC bars), and `None` exactly where TA-Lib has no value.

mod confirm;
mod core;
mod csv_export;
mod indicators;
pub mod patterns;
mod regime;
mod setup;
mod standard;
#[cfg(test)]
mod testdata;

pub use self::core::{SymbolCore, SymbolUpdate};
pub use csv_export::write_indicators_csv;
pub use indicators::{IndicatorConfig, IndicatorSet, IndicatorValues};
pub use regime::{RegimeConfig, RegimeDetector};
pub use setup::{PatternConfirmation, SetupConfig, SetupScanner, DIRECTIONAL_PATTERNS};
