//! `keel data inspect` and `keel data indicators`.

use std::io::Write;

use anyhow::{anyhow, Context};
use keel_core::symbol::{write_indicators_csv, IndicatorConfig};
use keel_data::{guess_symbol_and_interval, load_candles, CandleSeries};
use keel_model::{Interval, Symbol};

use crate::cli::CandleFileArgs;

/// Prints a candle file's quality report.
pub fn inspect(args: &CandleFileArgs) -> anyhow::Result<()> {
    let series = load(args)?;
    println!("{}", series.quality);
    Ok(())
}

/// Prints the candles with every indicator column as CSV on stdout.
pub fn indicators(args: &CandleFileArgs) -> anyhow::Result<()> {
    let series = load(args)?;
    if !series.quality.rejects.is_empty() {
        eprintln!(
            "warning: {} row(s) of {} were rejected and are not in the output; see `keel data inspect`",
            series.quality.rejects.len(),
            args.file.display()
        );
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    write_indicators_csv(&series.candles, &IndicatorConfig::default(), &mut out)
        .and_then(|()| out.flush())
        .context("writing the indicator CSV")?;
    Ok(())
}

fn load(args: &CandleFileArgs) -> anyhow::Result<CandleSeries> {
    let symbol = match &args.symbol {
        Some(text) => Symbol::parse(text)?,
        None => guess_symbol_and_interval(&args.file).0.ok_or_else(|| {
            anyhow!(
                "cannot tell the symbol from the file name {}; pass --symbol (e.g. --symbol BTCUSDT)",
                args.file.display()
            )
        })?,
    };
    let interval = match &args.interval {
        Some(text) => Some(Interval::parse(text).ok_or_else(|| {
            anyhow!("--interval `{text}` is not an interval such as 1m, 15m, 1h, 4h, 1d")
        })?),
        None => None,
    };
    Ok(load_candles(&args.file, symbol, interval)?)
}
