//! The chaos monkey: while a replay runs, it makes random actors fail (a panic inside a
//! handler, or a stop) at a fixed wall-clock rate, and counts what it did.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use keel_actors::runtime::{ActorHandle, Chaos};
use tracing::debug;

/// How the monkey behaves.
#[derive(Debug, Clone)]
pub struct ChaosOptions {
    /// Time between two kills.
    pub kill_every: Duration,
    /// Share of kills that are stops rather than panics, in [0, 1].
    pub stop_ratio: f64,
    /// Seed of the choice of victims (the same seed picks the same sequence).
    pub seed: u64,
    /// Only these actors are victims (by name); all when empty.
    pub only: Vec<String>,
    /// Make the first strike a poisoned message (it fails on every delivery).
    pub poison: bool,
}

/// Kills the actors suffered, by actor and kind (a strike set after an actor's last message
/// is never suffered and not counted).
#[derive(Debug, Clone, Default)]
pub struct ChaosKills {
    /// Panics suffered, by actor.
    pub panics: BTreeMap<String, u64>,
    /// Stops suffered, by actor.
    pub stops: BTreeMap<String, u64>,
}

impl ChaosKills {
    /// The kills recorded in the supervision statistics.
    pub fn from_stats(stats: &keel_actors::runtime::SupervisionStats) -> Self {
        let mut kills = Self::default();
        for (actor, (panics, stops)) in &stats.injected {
            if *panics > 0 {
                kills.panics.insert(actor.clone(), *panics);
            }
            if *stops > 0 {
                kills.stops.insert(actor.clone(), *stops);
            }
        }
        kills
    }

    /// All kills.
    pub fn total(&self) -> u64 {
        self.panics.values().sum::<u64>() + self.stops.values().sum::<u64>()
    }
}

/// Starts the monkey on the current arbiter; it stops when `shutdown` or `done` is set.
pub fn start_chaos_monkey(
    options: ChaosOptions,
    handles: Vec<ActorHandle>,
    shutdown: Rc<Cell<bool>>,
    done: Rc<Cell<bool>>,
) {
    let victims: Vec<ActorHandle> = handles
        .into_iter()
        .filter(|h| options.only.is_empty() || options.only.iter().any(|o| o == h.name()))
        .collect();
    actix_rt::spawn(async move {
        let mut rng = options.seed | 1;
        let mut next = move |below: u64| {
            // xorshift64*: plenty for choosing victims.
            rng ^= rng >> 12;
            rng ^= rng << 25;
            rng ^= rng >> 27;
            rng.wrapping_mul(0x2545_F491_4F6C_DD1D) % below.max(1)
        };
        let mut poison = options.poison;
        while !shutdown.get() && !done.get() && !victims.is_empty() {
            tokio::time::sleep(options.kill_every).await;
            let victim = &victims[next(victims.len() as u64) as usize];
            let stop = (next(1_000_000) as f64) < options.stop_ratio * 1_000_000.0;
            let chaos = if std::mem::take(&mut poison) {
                Chaos::Poison
            } else if stop {
                Chaos::Stop
            } else {
                Chaos::Panic
            };
            debug!(actor = victim.name(), ?chaos, "chaos monkey strikes");
            victim.inject(chaos);
        }
    });
}
