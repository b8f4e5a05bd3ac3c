//! `keel data fetch`: closed klines from a Binance-compatible REST API into a freqtrade JSON
//! candle file, page by page (1000 bars), resumable, written atomically after every page.
//!
//! - Resuming: an existing output file is loaded (it must be a clean series: no rejected,
//!   duplicate or out-of-order rows) and the download continues at the bar after its last.
//! - Each page is checked: every bar's span and prices, strictly increasing open times, the
//!   first after the file's last; a page that fails any check fails the fetch, naming the
//!   page and the bar, and nothing of it is written;
//!   bars not yet closed on the venue's clock are not written. A hole the venue itself has
//!   (exchange downtime) is reported, not filled.
//! - After each page the whole file is written to `<out>.tmp` and renamed over `<out>`, so
//!   a kill loses at most the page in flight and never leaves a torn file.
//! - Requests go through `BinanceClient`: weights, `Retry-After` and read retries apply.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{anyhow, bail, Context};
use keel_binance::client::{BinanceClient, ClientConfig};
use keel_data::load_candles;
use keel_model::{Candle, Interval, Symbol, Timestamp};

use crate::cli::FetchArgs;

const PAGE: u16 = 1000;

/// Runs `keel data fetch`.
pub fn run(args: &FetchArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(fetch(args))
}

async fn fetch(args: &FetchArgs) -> anyhow::Result<()> {
    let symbol = Symbol::parse(&args.symbol)?;
    let interval = Interval::parse(&args.interval).ok_or_else(|| {
        anyhow!(
            "--interval `{}` is not an interval such as 1m, 15m, 1h, 4h, 1d",
            args.interval
        )
    })?;
    let start = parse_time("--start", &args.start)?;
    let end = args
        .end
        .as_deref()
        .map(|text| parse_time("--end", text))
        .transpose()?;
    if end.is_some_and(|end| end <= start) {
        bail!("--end must be after --start");
    }
    let client =
        BinanceClient::new(ClientConfig::new(args.rest_url.clone())).map_err(|e| anyhow!("{e}"))?;

    let mut candles = existing(&args.out, &symbol, interval)?;
    let resumed = candles.len();
    let step = interval.millis();
    let mut from = match candles.last() {
        Some(last) => {
            println!(
                "{}: {} bars up to {}, resuming",
                args.out.display(),
                resumed,
                last.open_time
            );
            last.open_time.plus_ms(step).max(interval.floor(start))
        }
        None => Timestamp(start.0 + (step - start.0.rem_euclid(step)) % step),
    };
    let mut text = String::with_capacity(64 * (candles.len() + PAGE as usize));
    let mut pages = 0u64;
    let mut holes = 0usize;
    loop {
        if args.max_pages.is_some_and(|max| pages >= max) {
            println!("stopping after {pages} page(s) (--max-pages); run again to resume");
            break;
        }
        if end.is_some_and(|end| from >= end) {
            break;
        }
        let now = client.server_time().await.map_err(|e| anyhow!("{e}"))?;
        let page = client
            .klines(
                &symbol,
                interval,
                Some(from),
                end.map(|e| e.plus_ms(-1)),
                PAGE,
            )
            .await
            .map_err(|e| anyhow!("page {} (bars from {from}): {e}", pages + 1))?;
        let fetched = page.len();
        let closed: Vec<Candle> = page
            .into_iter()
            .filter(|c| c.close_time() <= now && end.is_none_or(|e| c.open_time < e))
            .collect();
        let complete = fetched < PAGE as usize || closed.len() < fetched;
        if let (Some(first), Some(prev)) = (closed.first(), candles.last()) {
            if first.open_time <= prev.open_time {
                bail!(
                    "the venue sent bar {} after bar {} already written: refusing to write an unordered file",
                    first.open_time,
                    prev.open_time
                );
            }
        }
        let mut expected = candles.last().map(|c| c.open_time.plus_ms(step));
        for c in &closed {
            if expected.is_some_and(|t| c.open_time != t) {
                holes += 1;
                eprintln!(
                    "note: the venue has no bars between {} and {}",
                    expected.unwrap_or(c.open_time),
                    c.open_time
                );
            }
            expected = Some(c.open_time.plus_ms(step));
        }
        let added = closed.len();
        if let Some(last) = closed.last() {
            from = last.open_time.plus_ms(step);
        }
        candles.extend(closed);
        if added > 0 {
            pages += 1;
            write_atomically(&args.out, &candles, &mut text)?;
            println!(
                "page {pages}: {added} bars, up to {} ({} in the file)",
                candles.last().map(|c| c.open_time).unwrap_or(from),
                candles.len()
            );
        }
        if complete || added == 0 {
            break;
        }
    }
    let (first, last) = match (candles.first(), candles.last()) {
        (Some(f), Some(l)) => (f.open_time.to_string(), l.open_time.to_string()),
        _ => ("-".into(), "-".into()),
    };
    println!(
        "{symbol} {interval}: {} bars ({} new, {} already there) from {first} to {last}, {holes} hole(s) at the venue, written to {}",
        candles.len(),
        candles.len() - resumed,
        resumed,
        args.out.display()
    );
    Ok(())
}

fn parse_time(flag: &str, text: &str) -> anyhow::Result<Timestamp> {
    Timestamp::parse_utc(text)
        .ok_or_else(|| anyhow!("{flag} `{text}` is not a UTC date such as 2018-01-01"))
}

/// The candles already in `path`, which must be a clean series of `symbol` at `interval`.
fn existing(path: &Path, symbol: &Symbol, interval: Interval) -> anyhow::Result<Vec<Candle>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let series = load_candles(path, symbol.clone(), Some(interval))
        .with_context(|| format!("reading {} to resume it", path.display()))?;
    let q = &series.quality;
    if !q.rejects.is_empty() || q.duplicates > 0 || q.out_of_order > 0 {
        bail!(
            "{} has {} rejected, {} duplicate and {} out-of-order rows: not resuming into it (see `keel data inspect`)",
            path.display(),
            q.rejects.len(),
            q.duplicates,
            q.out_of_order
        );
    }
    Ok(series.candles)
}

/// Writes `candles` as freqtrade JSON to `<path>.tmp`, then renames it over `path`.
fn write_atomically(path: &Path, candles: &[Candle], text: &mut String) -> anyhow::Result<()> {
    text.clear();
    text.push_str("[\n");
    for (i, c) in candles.iter().enumerate() {
        let sep = if i + 1 == candles.len() { "" } else { "," };
        let _ = writeln!(
            text,
            "[{},{},{},{},{},{}]{sep}",
            c.open_time.0, c.open, c.high, c.low, c.close, c.volume
        );
    }
    text.push_str("]\n");
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()
    };
    write().with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
    Ok(())
}
