//! The chaos monkey: while a replay runs, it makes random actors fail (a panic inside a
//! handler, a stop, or a hang) once every so many messages the actors handle, and counts what it did.
//! Striking by message count rather than by wall clock makes a chaos run the same on a slow
//! machine as on a fast one: a lockstep replay with the same seed suffers the same kills.

use std::collections::BTreeMap;

use keel_actors::journal::{Journal, SledStore};
use keel_actors::runtime::{ActorHandle, Chaos, Sabotage, Supervision, NEWS_POLLER};
use tracing::debug;

/// How the monkey behaves.
#[derive(Debug, Clone)]
pub struct ChaosOptions {
    /// Messages handled (by all actors together) between two strikes; at least 1.
    pub kill_every: u64,
    /// Share of kills that are stops rather than panics, in [0, 1].
    pub stop_ratio: f64,
    /// Seed of the choice of victims (the same seed picks the same sequence).
    pub seed: u64,
    /// Only these actors are victims (by name); all when empty.
    pub only: Vec<String>,
    /// Make the first strike a poisoned message (it fails on every delivery).
    pub poison: bool,
    /// Break supervision on purpose, to show an invariant failing (tests only).
    pub sabotage: Option<Sabotage>,
    /// The kills count against the restart intensity like real failures (to see escalation).
    pub count_kills: bool,
    /// Share of strikes that are hangs rather than panics or stops, in [0, 1] (the news
    /// poller, which has no mailbox to hold, panics instead).
    pub hang_share: f64,
}

/// Kills the actors suffered, by actor and kind (a strike set after an actor's last message
/// is never suffered and not counted).
#[derive(Debug, Clone, Default)]
pub struct ChaosKills {
    /// Panics suffered, by actor.
    pub panics: BTreeMap<String, u64>,
    /// Stops suffered, by actor.
    pub stops: BTreeMap<String, u64>,
    /// Hangs suffered, by actor.
    pub hangs: BTreeMap<String, u64>,
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
        kills.hangs = stats.injected_hangs.clone();
        kills
    }

    /// All kills (hangs aside).
    pub fn total(&self) -> u64 {
        self.panics.values().sum::<u64>() + self.stops.values().sum::<u64>()
    }
}

/// Lets the monkey loose on `supervision`'s actors: every `kill_every`-th message an actor
/// handles, a random victim's next message fails. It stops striking when the delivery hook is
/// cleared ([`Supervision::clear_delivery_hook`]).
pub fn start_chaos_monkey(
    options: ChaosOptions,
    handles: Vec<ActorHandle>,
    supervision: &Supervision,
) {
    let victims: Vec<ActorHandle> = handles
        .into_iter()
        .filter(|h| options.only.is_empty() || options.only.iter().any(|o| o == h.name()))
        .collect();
    if victims.is_empty() {
        return;
    }
    let mut rng = options.seed | 1;
    let mut next = move |below: u64| {
        // xorshift64*: plenty for choosing victims.
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        rng.wrapping_mul(0x2545_F491_4F6C_DD1D) % below.max(1)
    };
    let every = options.kill_every.max(1);
    let mut handled = 0u64;
    let mut poison = options.poison;
    supervision.on_delivery(move || {
        handled += 1;
        if !handled.is_multiple_of(every) {
            return;
        }
        let victim = &victims[next(victims.len() as u64) as usize];
        let stop = (next(1_000_000) as f64) < options.stop_ratio * 1_000_000.0;
        let hang = options.hang_share > 0.0
            && victim.name() != NEWS_POLLER
            && (next(1_000_000) as f64) < options.hang_share * 1_000_000.0;
        let chaos = if std::mem::take(&mut poison) {
            Chaos::Poison
        } else if hang {
            Chaos::Hang
        } else if stop {
            Chaos::Stop
        } else {
            Chaos::Panic
        };
        debug!(
            actor = victim.name(),
            ?chaos,
            handled,
            "chaos monkey strikes"
        );
        victim.inject(chaos);
    });
}

/// For [`Sabotage::DropJournal`]: a fresh journal beside
/// `real` (in `<real>.dropped`), so that the order manager's writes never reach the journal
/// the chaos run checks, while the order manager itself works as usual.
pub fn journal_elsewhere(
    settings: &crate::settings::Settings,
    real: &Journal<SledStore>,
) -> anyhow::Result<Journal<SledStore>> {
    let path = real.clone().into_store().path().with_extension("dropped");
    Ok(super::recovery::restore_journal(settings, &path)?.1)
}
