//! Fill-to-journal latency over the venue's user data stream: a `keel run` trading a
//! `keel sim-exchange` process on loopback, its bars closed one at a time; for every fill the
//! venue pushes, the time from the venue's event to the moment keel's venue book holding the
//! fill is journalled, and to the end of the venue call it started (the fill's exits placed
//! or cancelled, the order manager about to be told). keel logs both with each
//! `fill from the user data stream journalled`.
//!
//! `cargo bench --bench user_stream` — `BENCH_BARS` sets how many bars are closed (default
//! 1500 per symbol). Yardsticks measured in the same run, printed beside the figure as
//! ratios: one signed `GET /api/v3/myTrades` round trip to the same venue (the read a fill
//! costs), and one raw `fsync` on the disk keel's journal is on.

#[path = "../tests/common/process.rs"]
mod process;
#[path = "../tests/common/sim_venue.rs"]
mod sim_venue;
#[path = "common/yardstick.rs"]
mod yardstick;

use std::time::{Duration, Instant};

use sim_venue::{SimVenue, SimVenueConfig};

const SYMBOLS: usize = 2;

fn bars_wanted() -> usize {
    std::env::var("BENCH_BARS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_500)
}

/// `n` signed reads of the account's trades, each timed.
fn rest_round_trips(venue: &SimVenue, n: usize) -> Vec<Duration> {
    let mut samples: Vec<Duration> = (0..n)
        .map(|_| {
            let started = Instant::now();
            let resp = venue.signed(reqwest::Method::GET, "/api/v3/myTrades", "symbol=BTCUSDT");
            assert!(resp.status().is_success());
            let _ = resp.bytes();
            started.elapsed()
        })
        .collect();
    samples.sort_unstable();
    samples
}

/// The `q` percentile of sorted samples, in ms.
fn ms(sorted: &[Duration], q: f64) -> f64 {
    yardstick::percentile_us(sorted, q) / 1000.0
}

fn main() {
    let bars = bars_wanted();
    let venue = SimVenue::start_with(SimVenueConfig {
        weight_limit: 1_000_000,
        ..SimVenueConfig::default()
    });
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir");
    let config = venue.write_keel_config(dir.path(), "");
    let (mut keel, addr) =
        process::keel_run_with_control(&config, dir.path(), sim_venue::keel_env());
    keel.wait_for_stderr("user data stream subscribed");
    let candles = || -> u64 {
        process::control_get(&addr, "/status")
            .and_then(|(_, body)| serde_json::from_str::<serde_json::Value>(&body).ok())
            .and_then(|s| s["feed"]["candles"].as_u64())
            .unwrap_or(0)
    };
    let started = Instant::now();
    for _ in 0..bars {
        let before = candles();
        let stepped = venue.step(SYMBOLS);
        if stepped["exhausted"].as_bool() == Some(true) {
            break;
        }
        process::wait_for("keel taking in the bar", || {
            assert!(keel.exited().is_none(), "keel exited: {}", keel.stderr());
            candles() > before
        });
    }
    let traded_for = started.elapsed();
    // The yardsticks, right after the figure's run, on the same venue and disk.
    let rest = rest_round_trips(&venue, 200);
    let mut fsync = yardstick::raw_fsync(dir.path(), &[0; 8], 200);
    fsync.sort_unstable();
    keel.kill9();

    let pushed = sim_venue::pushed_fills(&keel.stderr());
    assert!(
        !pushed.is_empty(),
        "no fill was pushed in {bars} bars: nothing measured"
    );
    let sorted = |pick: fn(&(String, u64, i64, i64)) -> i64| {
        let mut us: Vec<Duration> = pushed
            .iter()
            .map(|f| Duration::from_micros(pick(f).max(0) as u64))
            .collect();
        us.sort_unstable();
        us
    };
    let journal = sorted(|f| f.2);
    let told = sorted(|f| f.3);
    println!(
        "fill-to-journal p50 ratio (to one myTrades round trip): {:.2}, (to one raw fsync): {:.2}",
        ms(&journal, 0.5) / ms(&rest, 0.5),
        ms(&journal, 0.5) / ms(&fsync, 0.5),
    );
    let line = |what: &str, sample: &[Duration]| {
        println!(
            "{what}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            ms(sample, 0.5),
            ms(sample, 0.99),
            ms(sample, 1.0),
        )
    };
    println!(
        "{} fills pushed in {bars} bars per symbol ({:.1} s)",
        pushed.len(),
        traded_for.as_secs_f64()
    );
    line(
        "fill-to-journal (venue event -> venue book journalled)",
        &journal,
    );
    line(
        "fill-to-told (venue event -> exits placed, order manager told)",
        &told,
    );
    println!(
        "yardsticks: myTrades round trip p50 {:.2} ms, p99 {:.2} ms; raw fsync p50 {:.2} ms, p99 {:.2} ms; load {}",
        ms(&rest, 0.5),
        ms(&rest, 0.99),
        ms(&fsync, 0.5),
        ms(&fsync, 0.99),
        std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim(),
    );
}
