//! Months without growth (issue 14): 100 symbols in lockstep through the actor runtime with a
//! journal, over at least 10 million candles (the real history repeated, its times shifted so
//! that they keep increasing), printing every million candles the RSS, the open file
//! descriptors, and the store's size on disk (sled's files apart from the equity archive).
//!
//! `cargo bench --bench soak` — prints, asserts nothing. `KEEL_SOAK_CANDLES` changes the
//! length (default 10,000,000). The candles stream through a channel, so the history in
//! memory is one window of the real series, whatever the length.
//!
//! Yardstick (the machine's speed drifts 2–3× between days): the same runtime in lockstep
//! without a journal over the first 200,000 candles, at the start and at the end; each row's
//! speed is printed as a ratio to it.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::time::{Duration, Instant};

use common::hundred::{with_hundred_symbols, Grid};
use common::load_average;
use keel::runtime::{run_actors, CandleStream, RunOptions};
use keel::settings::Settings;
use keel_actors::feed::Pace;
use keel_actors::journal::{disk_size, EQUITY_ARCHIVE_FILE};
use keel_model::{Candle, Timestamp};

const DEFAULT_CANDLES: u64 = 10_000_000;
const ROW_EVERY: u64 = 1_000_000;
const YARDSTICK_CANDLES: usize = 200_000;
/// Candles queued ahead of the feed.
const QUEUE: usize = 4_096;
/// No candle taken for this long: the run is stuck (sled 0.34.7 as released deadlocked under
/// this load; keel builds the patched copy in vendor/sled), and
/// the bench says so and exits instead of hanging.
const STALL: Duration = Duration::from_secs(120);

fn main() {
    let total: u64 = std::env::var("KEEL_SOAK_CANDLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CANDLES);
    let settings =
        with_hundred_symbols(Settings::embedded_default().expect("embedded default is valid"));
    let grid = Grid::load(&settings, None);
    println!(
        "soak bench: default settings, {} symbols over a window of {} real 1h bars ({} candles a \
         pass), {total} candles, keep_equity_points {}, machine load {}",
        grid.symbols.len(),
        grid.len(),
        (0..grid.len())
            .map(|bar| grid.bar(bar).count())
            .sum::<usize>(),
        settings.journal.keep_equity_points,
        load_average()
    );
    let before = yardstick(&settings, &grid);
    println!(
        "yardstick: lockstep without a journal, {YARDSTICK_CANDLES} candles: {before:.0} candles/s"
    );

    let dir = tempfile::tempdir().expect("temporary directory");
    let store = dir.path().join("store");
    let (tx, rx) = tokio::sync::mpsc::channel(QUEUE);
    let (rows_tx, rows) = sync_channel::<u64>(64);
    let started = Instant::now();
    let (sent, done) = (AtomicU64::new(0), AtomicBool::new(false));
    std::thread::scope(|scope| {
        scope.spawn(|| watchdog(&sent, &done, &store));
        scope.spawn(|| {
            for (n, candle) in Stream::new(&grid).take(total as usize).enumerate() {
                if tx.blocking_send(candle).is_err() {
                    return;
                }
                let n = n as u64 + 1;
                sent.store(n, Ordering::Relaxed);
                if n.is_multiple_of(ROW_EVERY) {
                    let _ = rows_tx.send(n);
                }
            }
            drop(tx);
            drop(rows_tx);
        });
        scope.spawn(|| print_rows(rows, &store, started, before));
        let options = RunOptions {
            store: Some(store.clone()),
            pace: Some(Pace::Lockstep),
            candle_stream: Some(CandleStream::new(rx)),
            ..RunOptions::default()
        };
        let report = run_actors(&settings, grid.inputs(Vec::new()), options).expect("soak run");
        println!(
            "run complete: {} candles in {:.0} s, {} trades, {} equity points in the report",
            report.outcome.candles,
            started.elapsed().as_secs_f64(),
            report.result.trades.len(),
            report.result.equity_curve.len()
        );
        done.store(true, Ordering::Relaxed);
    });
    let after = yardstick(&settings, &grid);
    println!(
        "yardstick again: {after:.0} candles/s ({:.2}× the first)",
        after / before
    );
    println!("final: {}", Sample::take(&store).describe());
}

/// The candles of the grid, pass after pass, each pass's times shifted past the previous.
struct Stream<'a> {
    grid: &'a Grid,
    bar: usize,
    pass: i64,
    pending: std::vec::IntoIter<Candle>,
}

impl<'a> Stream<'a> {
    fn new(grid: &'a Grid) -> Self {
        Self {
            grid,
            bar: 0,
            pass: 0,
            pending: Vec::new().into_iter(),
        }
    }
}

impl Iterator for Stream<'_> {
    type Item = Candle;

    /// Endless (`take` bounds it), unless the grid is empty.
    fn next(&mut self) -> Option<Candle> {
        loop {
            if let Some(candle) = self.pending.next() {
                return Some(candle);
            }
            if self.grid.len() == 0 {
                return None;
            }
            if self.bar == self.grid.len() {
                self.bar = 0;
                self.pass += 1;
            }
            let shift = self.pass * self.grid.len() as i64 * self.grid.interval.millis();
            let bar: Vec<Candle> = self
                .grid
                .bar(self.bar)
                .map(|c| Candle {
                    open_time: Timestamp(c.open_time.0 + shift),
                    ..c
                })
                .collect();
            self.bar += 1;
            self.pending = bar.into_iter();
        }
    }
}

/// Exits the process, saying where, when no candle was taken for [`STALL`].
fn watchdog(sent: &AtomicU64, done: &AtomicBool, store: &Path) {
    let (mut last, mut since) = (0, Instant::now());
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_secs(1));
        let now = sent.load(Ordering::Relaxed);
        if now != last {
            (last, since) = (now, Instant::now());
        } else if since.elapsed() >= STALL {
            println!(
                "STALLED: no candle taken for {} s after {now} candles ({}); where each thread \
                 waits:\n{}",
                STALL.as_secs(),
                Sample::take(store).describe(),
                stacks()
            );
            std::process::exit(3);
        }
    }
}

/// The frames of sled and keel in every thread's stack, from gdb when it is installed. gdb
/// writes to a file: it stops this process, whose reading of a pipe would then never drain it.
fn stacks() -> String {
    let pid = std::process::id().to_string();
    let file = std::env::temp_dir().join(format!("soak-stacks-{pid}.txt"));
    let args = ["-p", &pid, "-batch", "-ex", "thread apply all bt 30"];
    let run = std::fs::File::create(&file).and_then(|out| {
        std::process::Command::new("gdb")
            .args(args)
            .stdout(out)
            .stderr(std::process::Stdio::null())
            .status()
    });
    if let Err(e) = run {
        return format!("(gdb not run: {e})");
    }
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    let _ = std::fs::remove_file(&file);
    text.lines()
        .filter(|l| l.starts_with("Thread ") || l.contains("sled::") || l.contains("keel"))
        .map(|l| l.chars().take(160).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Lockstep candles per second without a journal over the first [`YARDSTICK_CANDLES`].
fn yardstick(settings: &Settings, grid: &Grid) -> f64 {
    let candles: Vec<Candle> = Stream::new(grid).take(YARDSTICK_CANDLES).collect();
    let started = Instant::now();
    let options = RunOptions {
        pace: Some(Pace::Lockstep),
        ..RunOptions::default()
    };
    let report = run_actors(settings, grid.inputs(candles), options).expect("yardstick run");
    report.outcome.candles as f64 / started.elapsed().as_secs_f64()
}

/// What the process and its store take at one moment.
struct Sample {
    rss_kib: u64,
    fds: usize,
    sled_bytes: u64,
    archive_bytes: u64,
}

impl Sample {
    fn take(store: &Path) -> Self {
        let rss_kib = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            })
            .unwrap_or(0);
        let fds = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count());
        let archive_bytes = disk_size(&store.join(EQUITY_ARCHIVE_FILE));
        Self {
            rss_kib,
            fds,
            sled_bytes: disk_size(store).saturating_sub(archive_bytes),
            archive_bytes,
        }
    }

    fn describe(&self) -> String {
        format!(
            "RSS {:.1} MiB, {} fds, store {:.2} MiB (+ equity archive {:.2} MiB)",
            self.rss_kib as f64 / 1024.0,
            self.fds,
            self.sled_bytes as f64 / (1 << 20) as f64,
            self.archive_bytes as f64 / (1 << 20) as f64
        )
    }
}

/// Prints a row for each million candles sent, and at the end the RSS growth after warm-up.
fn print_rows(rows: Receiver<u64>, store: &Path, started: Instant, yardstick: f64) {
    println!(
        "| candles | elapsed s | candles/s | ÷ yardstick | RSS MiB | fds | store MiB | archive MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut last = (0u64, 0.0f64);
    let mut rss = Vec::new();
    for n in rows {
        let secs = started.elapsed().as_secs_f64();
        let rate = (n - last.0) as f64 / (secs - last.1);
        let sample = Sample::take(store);
        println!(
            "| {n} | {secs:.0} | {rate:.0} | {:.2} | {:.1} | {} | {:.2} | {:.2} |",
            rate / yardstick,
            sample.rss_kib as f64 / 1024.0,
            sample.fds,
            sample.sled_bytes as f64 / (1 << 20) as f64,
            sample.archive_bytes as f64 / (1 << 20) as f64
        );
        rss.push((n, sample.rss_kib));
        last = (n, secs);
    }
    // Warm-up: the first two million (the first pass fills every cache and buffer).
    if let (Some(&(n0, r0)), Some(&(n1, r1))) = (rss.get(1), rss.last()) {
        if n1 > n0 {
            let per_million = (r1 as f64 - r0 as f64) / 1024.0 / ((n1 - n0) as f64 / 1e6);
            println!(
                "RSS growth after warm-up ({n0} → {n1} candles): {per_million:+.3} MiB per million"
            );
        }
    }
}
