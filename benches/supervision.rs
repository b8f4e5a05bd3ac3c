//! Supervision costs: the per-message overhead of panic containment, and restart latency
//! (from an actor's failure to the successful handling of the message it interrupted, state
//! rehydration included) measured under the chaos monkey.
//!
//! `cargo bench --bench supervision`. Prints figures; asserts nothing.

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

fn containment_overhead() {
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
    println!(
        "containment: {best_contained:.1} ns per message contained vs {best_direct:.1} ns direct: overhead {:.1} ns per message (best of 5 x {N})",
        best_contained - best_direct
    );
}

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e6
}

fn restart_latency() {
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
    let inputs = load_inputs(&settings).expect("inputs");
    for (label, only) in [
        (
            "symbol, fusion, risk, sentiment (in-memory rehydration)",
            vec![
                "symbol:BTCUSDT",
                "symbol:ETHUSDT",
                "fusion",
                "risk",
                "sentiment",
            ],
        ),
        (
            "order manager and execution (rehydrated from the journal)",
            vec!["order_manager", "execution"],
        ),
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
                only: only.iter().map(|s| s.to_string()).collect(),
                poison: false,
                sabotage: None,
                count_kills: false,
            }),
            ..RunOptions::default()
        };
        let report = run_actors(&settings, inputs.clone(), options).expect("chaos run");
        let _ = std::fs::remove_dir_all(&dir);
        let mut samples = report.supervision.recovery.clone();
        samples.sort();
        if samples.is_empty() {
            println!("restart latency, {label}: no restart happened");
            continue;
        }
        println!(
            "restart latency, {label}: p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs over {} restarts",
            percentile(&samples, 0.5),
            percentile(&samples, 0.99),
            percentile(&samples, 1.0),
            samples.len()
        );
    }
}

fn main() {
    containment_overhead();
    restart_latency();
}
