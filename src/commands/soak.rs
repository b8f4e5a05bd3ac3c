//! `keel chaos --duration`: chaos runs over the same replay, loop after loop, until the
//! duration is over, each compared with the calm run; the totals of every loop.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// What the loops of a soak did together.
pub(super) struct Soak {
    started: Instant,
    duration: Duration,
    /// Loops run so far.
    pub(super) loops: u64,
    candles: u64,
    kills: u64,
    hangs: u64,
    restarts: u64,
    failpoints: BTreeMap<&'static str, u64>,
    failpoint_probability: Option<f64>,
    orders: usize,
    last_seed: u64,
}

/// One loop's figures.
pub(super) struct LoopFigures<'a> {
    /// Candles replayed.
    pub candles: u64,
    /// Kills suffered.
    pub kills: u64,
    /// Hangs suffered.
    pub hangs: u64,
    /// Restarts, all actors.
    pub restarts: u64,
    /// Failpoints fired, by name, and their probability.
    pub failpoints: Option<(f64, &'a [(&'static str, u64)])>,
    /// Orders placed.
    pub orders: usize,
}

impl Soak {
    /// A soak that runs loops until `duration` is over.
    pub(super) fn new(duration: Duration) -> Self {
        Self {
            started: Instant::now(),
            duration,
            loops: 0,
            candles: 0,
            kills: 0,
            hangs: 0,
            restarts: 0,
            failpoints: BTreeMap::new(),
            failpoint_probability: None,
            orders: 0,
            last_seed: 0,
        }
    }

    /// Counts a finished loop, run with `seed`, and logs a line about it.
    pub(super) fn add(&mut self, figures: LoopFigures<'_>, seed: u64) {
        self.loops += 1;
        self.candles += figures.candles;
        self.kills += figures.kills;
        self.hangs += figures.hangs;
        self.restarts += figures.restarts;
        self.orders = figures.orders;
        self.last_seed = seed;
        if let Some((probability, fired)) = figures.failpoints {
            self.failpoint_probability = Some(probability);
            for (point, n) in fired {
                *self.failpoints.entry(point).or_default() += n;
            }
        }
        tracing::warn!(
            loop_number = self.loops,
            seed,
            kills = figures.kills,
            hangs = figures.hangs,
            restarts = figures.restarts,
            elapsed_s = self.started.elapsed().as_secs(),
            "soak loop done"
        );
    }

    /// Whether the duration is over (a loop that started in time is always finished).
    pub(super) fn over(&self) -> bool {
        self.started.elapsed() >= self.duration
    }

    /// The soak's summary.
    pub(super) fn render(&self) -> String {
        let elapsed = self.started.elapsed().as_secs_f64();
        let per_second = |n: u64| n as f64 / elapsed.max(f64::EPSILON);
        let mut out = String::from("soak\n----\n");
        out += &format!(
            "duration              {elapsed:.0} s (asked {} s)\n",
            self.duration.as_secs()
        );
        out += &format!(
            "loops                 {} (seeds {} to {}), each compared with the calm run\n",
            self.loops,
            self.last_seed + 1 - self.loops,
            self.last_seed
        );
        out += &format!("candles replayed      {}\n", self.candles);
        out += &format!(
            "kills                 {} ({:.1} per second)\n",
            self.kills,
            per_second(self.kills)
        );
        out += &format!("hangs                 {}\n", self.hangs);
        out += &format!("restarts              {}\n", self.restarts);
        if let Some(probability) = self.failpoint_probability {
            let total: u64 = self.failpoints.values().sum();
            out += &format!(
                "failpoints fired      {total} (each armed point fires with probability {probability})\n"
            );
            for (point, fired) in &self.failpoints {
                out += &format!("  {point:<36} fired {fired:>7}\n");
            }
        }
        out += &format!("orders per loop       {}\n", self.orders);
        out
    }
}
