//! `HealthRegistry`: what every actor and breaker is doing, shared by the supervisors (which
//! record events), the actors (which set their mailbox depth) and the reporters (the periodic
//! report line, the control plane's `/status`).
//!
//! Cheap to clone (an `Arc`); every method takes `&self` and is thread-safe. Mailbox depth
//! has a lock-free [`MailboxGauge`] for hot paths.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use crate::breaker::BreakerState;
use crate::event::{EventKind, SupervisionEvent};
use crate::report::{ActorReport, ActorState, BreakerReport, SupervisionReport};

/// Restart timestamps kept per actor, so that memory stays bounded under any kill rate.
const MAX_TRACKED_RESTARTS: usize = 65_536;

/// Supervision events kept for the control plane's `/status` (the newest ones).
pub const RECENT_EVENTS: usize = 50;

/// Stands for "never set": a gauge nobody measures reports nothing rather than zero.
const UNMEASURED: usize = usize::MAX;

/// A settable gauge for one actor's mailbox depth (lock-free; clones share the value).
#[derive(Debug, Clone)]
pub struct MailboxGauge(Arc<AtomicUsize>);

impl Default for MailboxGauge {
    fn default() -> Self {
        Self(Arc::new(AtomicUsize::new(UNMEASURED)))
    }
}

impl MailboxGauge {
    /// Sets the current depth.
    pub fn set(&self, depth: usize) {
        self.0.store(depth.min(UNMEASURED - 1), Ordering::Relaxed);
    }

    /// One more message waiting (a sender counts it in).
    pub fn increment(&self) {
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |d| {
                Some(if d == UNMEASURED {
                    1
                } else {
                    (d + 1).min(UNMEASURED - 1)
                })
            });
    }

    /// One message fewer (the receiver started handling it); never below zero.
    pub fn decrement(&self) {
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |d| {
                Some(if d == UNMEASURED {
                    0
                } else {
                    d.saturating_sub(1)
                })
            });
    }

    /// The depth last set, or `None` when it was never measured.
    pub fn get(&self) -> Option<usize> {
        match self.0.load(Ordering::Relaxed) {
            UNMEASURED => None,
            depth => Some(depth),
        }
    }
}

#[derive(Debug)]
struct ActorEntry {
    state: ActorState,
    started_at: Option<Instant>,
    restarts_total: u64,
    failures_total: u64,
    restart_times: VecDeque<Instant>,
    last_error: Option<String>,
    mailbox: MailboxGauge,
}

impl ActorEntry {
    fn new() -> Self {
        Self {
            state: ActorState::Starting,
            started_at: None,
            restarts_total: 0,
            failures_total: 0,
            restart_times: VecDeque::new(),
            last_error: None,
            mailbox: MailboxGauge::default(),
        }
    }
}

#[derive(Debug)]
struct BreakerEntry {
    state: BreakerState,
    last_transition: Option<(String, Instant)>,
}

#[derive(Debug)]
struct Registry {
    window: Duration,
    actors: BTreeMap<String, ActorEntry>,
    breakers: BTreeMap<String, BreakerEntry>,
    recent: VecDeque<RecordedEvent>,
}

/// A supervision event and the wall-clock time it was recorded at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    /// When it was recorded.
    pub at: SystemTime,
    /// What happened.
    pub event: SupervisionEvent,
}

/// The shared health of every actor and breaker.
#[derive(Debug, Clone)]
pub struct HealthRegistry {
    inner: Arc<Mutex<Registry>>,
}

impl Default for HealthRegistry {
    /// Counts restarts within 60 s (the default supervisor window).
    fn default() -> Self {
        Self::new(Duration::from_secs(60))
    }
}

impl HealthRegistry {
    /// An empty registry that counts `restarts_in_window` over `restart_window`.
    pub fn new(restart_window: Duration) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Registry {
                window: restart_window,
                actors: BTreeMap::new(),
                breakers: BTreeMap::new(),
                recent: VecDeque::with_capacity(RECENT_EVENTS),
            })),
        }
    }

    /// Registers an actor in the `starting` state (no-op if already known).
    pub fn register_actor(&self, actor: &str) {
        self.lock()
            .actors
            .entry(actor.to_string())
            .or_insert_with(ActorEntry::new);
    }

    /// Registers a breaker in `state` (no-op if already known).
    pub fn register_breaker(&self, name: &str, state: BreakerState) {
        self.lock()
            .breakers
            .entry(name.to_string())
            .or_insert(BreakerEntry {
                state,
                last_transition: None,
            });
    }

    /// Applies one supervision event at `now`: actor events update the actor called
    /// `event.actor`, breaker events the breaker of that name (registering it if unknown).
    pub fn record(&self, event: &SupervisionEvent, now: Instant) {
        let mut registry = self.lock();
        if registry.recent.len() == RECENT_EVENTS {
            registry.recent.pop_front();
        }
        registry.recent.push_back(RecordedEvent {
            at: SystemTime::now(),
            event: event.clone(),
        });
        let breaker_state = match event.event {
            EventKind::BreakerOpened => Some(BreakerState::Open),
            EventKind::BreakerHalfOpen => Some(BreakerState::HalfOpen),
            EventKind::BreakerClosed => Some(BreakerState::Closed),
            _ => None,
        };
        if let Some(state) = breaker_state {
            let entry = registry
                .breakers
                .entry(event.actor.clone())
                .or_insert(BreakerEntry {
                    state,
                    last_transition: None,
                });
            entry.state = state;
            entry.last_transition = Some((event.reason.clone(), now));
            return;
        }
        let window = registry.window;
        let entry = registry
            .actors
            .entry(event.actor.clone())
            .or_insert_with(ActorEntry::new);
        match event.event {
            EventKind::Started => {
                entry.state = ActorState::Running;
                entry.started_at = Some(now);
            }
            EventKind::Restarted => {
                entry.state = ActorState::Restarting;
                entry.started_at = None;
                entry.restarts_total = entry.restarts_total.saturating_add(1);
                entry.restart_times.push_back(now);
                if entry.restart_times.len() > MAX_TRACKED_RESTARTS {
                    entry.restart_times.pop_front();
                }
                prune(&mut entry.restart_times, now, window);
            }
            EventKind::Stopped | EventKind::Panicked | EventKind::Escalated => {
                entry.started_at = None;
                if event.abnormal || event.event == EventKind::Panicked {
                    entry.failures_total = entry.failures_total.saturating_add(1);
                }
                if event.abnormal || event.event != EventKind::Stopped {
                    entry.state = ActorState::Failed;
                    entry.last_error = Some(event.reason.clone());
                } else {
                    entry.state = ActorState::Stopped;
                }
            }
            EventKind::BreakerOpened | EventKind::BreakerHalfOpen | EventKind::BreakerClosed => {}
        }
    }

    /// Sets an actor's mailbox depth (registering the actor if unknown).
    pub fn set_mailbox_depth(&self, actor: &str, depth: usize) {
        self.mailbox_gauge(actor).set(depth);
    }

    /// A lock-free handle on an actor's mailbox-depth gauge, for per-message updates. It stays
    /// valid across the actor's restarts.
    pub fn mailbox_gauge(&self, actor: &str) -> MailboxGauge {
        self.lock()
            .actors
            .entry(actor.to_string())
            .or_insert_with(ActorEntry::new)
            .mailbox
            .clone()
    }

    /// One actor's health at `now`.
    pub fn actor(&self, actor: &str, now: Instant) -> Option<ActorReport> {
        let mut registry = self.lock();
        let window = registry.window;
        registry
            .actors
            .get_mut(actor)
            .map(|entry| actor_report(actor, entry, now, window))
    }

    /// One breaker's health at `now`.
    pub fn breaker(&self, name: &str, now: Instant) -> Option<BreakerReport> {
        let registry = self.lock();
        registry
            .breakers
            .get(name)
            .map(|entry| breaker_report(name, entry, now))
    }

    /// The last [`RECENT_EVENTS`] events recorded, oldest first.
    pub fn recent_events(&self) -> Vec<RecordedEvent> {
        self.lock().recent.iter().cloned().collect()
    }

    /// Every actor and breaker at `now`, sorted by name.
    pub fn report(&self, now: Instant) -> SupervisionReport {
        let mut registry = self.lock();
        let window = registry.window;
        let actors = registry
            .actors
            .iter_mut()
            .map(|(name, entry)| actor_report(name, entry, now, window))
            .collect();
        let breakers = registry
            .breakers
            .iter()
            .map(|(name, entry)| breaker_report(name, entry, now))
            .collect();
        SupervisionReport { actors, breakers }
    }

    /// The registry's lock. A panic while holding it cannot leave the maps inconsistent
    /// (every update is a few plain assignments), so a poisoned lock is simply reused.
    fn lock(&self) -> MutexGuard<'_, Registry> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn prune(times: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while let Some(&oldest) = times.front() {
        if now.saturating_duration_since(oldest) >= window {
            times.pop_front();
        } else {
            break;
        }
    }
}

fn actor_report(name: &str, entry: &mut ActorEntry, now: Instant, window: Duration) -> ActorReport {
    prune(&mut entry.restart_times, now, window);
    let running = entry.state == ActorState::Running;
    let started_at = entry.started_at.filter(|_| running);
    ActorReport {
        name: name.to_string(),
        state: entry.state,
        started_at,
        uptime: started_at.map_or(Duration::ZERO, |at| now.saturating_duration_since(at)),
        restarts_total: entry.restarts_total,
        failures_total: entry.failures_total,
        restarts_in_window: u32::try_from(entry.restart_times.len()).unwrap_or(u32::MAX),
        last_error: entry.last_error.clone(),
        mailbox_depth: entry.mailbox.get(),
    }
}

fn breaker_report(name: &str, entry: &BreakerEntry, now: Instant) -> BreakerReport {
    BreakerReport {
        name: name.to_string(),
        state: entry.state,
        last_transition: entry.last_transition.as_ref().map(|(text, _)| text.clone()),
        last_transition_age: entry
            .last_transition
            .as_ref()
            .map(|(_, at)| now.saturating_duration_since(*at)),
    }
}

#[cfg(test)]
#[path = "health_tests.rs"]
mod tests;
