//! Supervision costs: the per-message overhead of panic containment, and restart latency
//! (from an actor's failure to the successful handling of the message it interrupted, state
//! rehydration included) measured under the chaos monkey, for each actor kind, and how soon a
//! hung instance is replaced once its deadline passed. Each figure is
//! printed beside its yardstick, measured in the same run: a plain actix message round trip
//! (these machines drift 2-3x between days; the ratio holds).
//!
//! `cargo bench --bench supervision`. Prints figures; asserts nothing.

#[path = "common/yardstick.rs"]
mod yardstick;

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use keel::backtest::load_inputs;
use keel::runtime::{run_actors, ChaosOptions, RunOptions};
use keel::settings::Settings;
use keel_actors::runtime::{
    contain, ActorHandle, Rehydrate, RehydrateError, Supervision, TreeSpec,
};
use keel_supervision::{HealthRegistry, Strategy, SupervisorConfig};

struct Counter {
    n: u64,
    handle: ActorHandle,
}

impl Rehydrate for Counter {
    fn supervision(&self) -> &ActorHandle {
        &self.handle
    }

    fn rehydrate(&mut self) -> Result<(), RehydrateError> {
        Ok(())
    }
}

/// The yardstick: a plain actix message round trip, p50 and p99 in µs.
fn round_trip() -> (f64, f64) {
    const N: u64 = 50_000;
    let trip = yardstick::round_trip(N);
    println!(
        "yardstick: plain actix message round trip p50 {:.2} µs, p99 {:.2} µs over {N} trips",
        trip.p50, trip.p99
    );
    (trip.p50, trip.p99)
}

fn containment_overhead(round_trip_us: f64) {
    const N: u64 = 20_000_000;
    let supervision = Supervision::new(
        &SupervisorConfig::default(),
        &TreeSpec::flat("root", Strategy::OneForOne, &["bench"]),
        HealthRegistry::default(),
        Default::default(),
        1,
    );
    let mut actor = Counter {
        n: 0,
        handle: supervision.register("bench"),
    };
    let mut best_direct = f64::MAX;
    let mut best_contained = f64::MAX;
    for _ in 0..5 {
        let started = Instant::now();
        for i in 0..N {
            actor.n = black_box(actor.n.wrapping_add(black_box(i)));
        }
        best_direct = best_direct.min(started.elapsed().as_secs_f64() * 1e9 / N as f64);
        let started = Instant::now();
        for i in 0..N {
            contain(&mut actor, &i, |a| {
                a.n = black_box(a.n.wrapping_add(black_box(i)))
            });
        }
        best_contained = best_contained.min(started.elapsed().as_secs_f64() * 1e9 / N as f64);
    }
    let overhead = best_contained - best_direct;
    println!(
        "containment: {best_contained:.1} ns per message contained vs {best_direct:.1} ns direct: overhead {overhead:.1} ns per message (best of 5 x {N}) = {:.3} round trips",
        overhead / 1e3 / round_trip_us
    );
}

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e6
}

/// The embedded default replay, restarts neither limited nor delayed.
fn default_settings() -> Settings {
    let mut settings = Settings::embedded_default().expect("embedded default is valid");
    for source in &mut settings.data.candles {
        source.path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(&source.path);
    }
    if let Some(headlines) = &mut settings.data.headlines {
        *headlines = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(&*headlines);
    }
    settings.supervision.intensity.max_restarts = 1_000_000;
    settings.supervision.backoff.base_ms = 0;
    settings.supervision.backoff.cap_ms = 0;
    settings
}

fn restart_latency(settings: &Settings, round_trip_us: f64) {
    let inputs = load_inputs(settings).expect("inputs");
    // One kind at a time, so each figure is that actor's own restart.
    for actor in [
        "symbol:BTCUSDT",
        "sentiment",
        "fusion",
        "risk",
        "order_manager",
        "execution",
    ] {
        let dir =
            std::env::temp_dir().join(format!("keel-bench-supervision-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let options = RunOptions {
            store: Some(dir.join("journal")),
            chaos: Some(ChaosOptions {
                kill_every: 10,
                stop_ratio: 0.0,
                seed: 3,
                only: vec![actor.to_string()],
                poison: false,
                sabotage: None,
                count_kills: false,
                hang_share: 0.0,
            }),
            ..RunOptions::default()
        };
        let report = run_actors(settings, inputs.clone(), options).expect("chaos run");
        let _ = std::fs::remove_dir_all(&dir);
        let mut samples = report.supervision.recovery.clone();
        samples.sort();
        if samples.is_empty() {
            println!("restart latency, {actor}: no restart happened");
            continue;
        }
        let p99 = percentile(&samples, 0.99);
        println!(
            "restart latency, {actor:<15} p50 {:>8.1} µs, p99 {p99:>8.1} µs = {:>6.1} round trips (goal 20), max {:>8.1} µs over {} restarts",
            percentile(&samples, 0.5),
            p99 / round_trip_us,
            percentile(&samples, 1.0),
            samples.len()
        );
    }
}

/// Hangs injected on every actor of the default replay (deadline 5 ms): from the deadline's
/// timer firing to the successor accepting messages, and from the deadline itself (the
/// timer's 1 ms resolution and the scheduling included), beside the round trip.
fn hang_replacement(settings: &Settings, round_trip_us: f64) {
    let mut settings = settings.clone();
    settings.hangs.deadline_ms = 5;
    settings.hangs.actors.clear();
    let inputs = load_inputs(&settings).expect("inputs");
    let dir = std::env::temp_dir().join(format!("keel-bench-hangs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let options = RunOptions {
        store: Some(dir.join("journal")),
        chaos: Some(ChaosOptions {
            kill_every: 40,
            stop_ratio: 0.0,
            seed: 3,
            only: Vec::new(),
            poison: false,
            sabotage: None,
            count_kills: false,
            hang_share: 1.0,
        }),
        ..RunOptions::default()
    };
    let report = run_actors(&settings, inputs, options).expect("chaos run");
    let _ = std::fs::remove_dir_all(&dir);
    for (what, samples) in [
        (
            "hang detected to successor",
            &report.supervision.hang_replacements,
        ),
        (
            "hang deadline to successor",
            &report.supervision.hang_overshoots,
        ),
    ] {
        let mut samples = samples.clone();
        samples.sort();
        if samples.is_empty() {
            println!("{what}: no hang happened");
            continue;
        }
        let p99 = percentile(&samples, 0.99);
        println!(
            "{what:<27} p50 {:>8.1} µs, p99 {p99:>8.1} µs = {:>7.1} round trips, max {:>8.1} µs over {} hangs",
            percentile(&samples, 0.5),
            p99 / round_trip_us,
            percentile(&samples, 1.0),
            samples.len()
        );
    }
}

fn main() {
    let (round_trip_us, _) = round_trip();
    containment_overhead(round_trip_us);
    let settings = default_settings();
    restart_latency(&settings, round_trip_us);
    hang_replacement(&settings, round_trip_us);
}
