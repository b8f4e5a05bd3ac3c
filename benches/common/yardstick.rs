//! Yardsticks the benches measure in the same run as their figures, so that a figure can be
//! read as a ratio: these machines drift 2-3x in speed between days, and a ratio holds.

#![allow(dead_code)] // each bench uses its own subset

use std::hint::black_box;
use std::time::{Duration, Instant};

/// An actix actor that answers at once.
struct Echo;

impl actix::Actor for Echo {
    type Context = actix::Context<Self>;
}

#[derive(actix::Message)]
#[rtype(result = "u64")]
struct Ping(u64);

impl actix::Handler<Ping> for Echo {
    type Result = u64;

    fn handle(&mut self, msg: Ping, _: &mut Self::Context) -> u64 {
        msg.0
    }
}

/// p50 and p99 of a sample, in microseconds.
#[derive(Debug, Clone, Copy)]
pub struct Spread {
    /// Median, µs.
    pub p50: f64,
    /// 99th percentile, µs.
    pub p99: f64,
}

impl Spread {
    /// The spread of `samples` (sorted here).
    pub fn of(samples: &mut [Duration]) -> Spread {
        samples.sort_unstable();
        Spread {
            p50: percentile_us(samples, 0.50),
            p99: percentile_us(samples, 0.99),
        }
    }
}

/// Nearest-rank percentile of sorted samples, in microseconds.
pub fn percentile_us(sorted: &[Duration], q: f64) -> f64 {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1e6
}

/// A plain actix message round trip (send, handle, answer, await) on a fresh system, over
/// `trips` sequential trips.
pub fn round_trip(trips: u64) -> Spread {
    use actix::Actor;
    let system = actix::System::new();
    let mut samples = system.block_on(async {
        let echo = Echo.start();
        let mut samples = Vec::with_capacity(trips as usize);
        for i in 0..trips {
            let started = Instant::now();
            let answer = echo.send(Ping(i)).await.expect("echo answers");
            samples.push(started.elapsed());
            black_box(answer);
        }
        samples
    });
    Spread::of(&mut samples)
}

/// The machine's scheduling jitter: how long past its deadline a thread asleep for 100 µs
/// wakes, over `sleeps` sleeps.
pub fn sleep_jitter(sleeps: usize) -> Spread {
    const NAP: Duration = Duration::from_micros(100);
    let mut samples: Vec<Duration> = (0..sleeps)
        .map(|_| {
            let started = Instant::now();
            std::thread::sleep(NAP);
            started.elapsed().saturating_sub(NAP)
        })
        .collect();
    Spread::of(&mut samples)
}

/// A raw `fsync`: `bytes` written over a file in `dir` and synced to disk, `times` times, each
/// timed.
pub fn raw_fsync(dir: &std::path::Path, bytes: &[u8], times: usize) -> Vec<Duration> {
    use std::io::{Seek, Write};
    let mut file = std::fs::File::create(dir.join("fsync-yardstick")).expect("file");
    (0..times)
        .map(|_| {
            let started = Instant::now();
            file.rewind().expect("rewind");
            file.write_all(bytes).expect("write");
            file.sync_data().expect("fsync");
            started.elapsed()
        })
        .collect()
}
