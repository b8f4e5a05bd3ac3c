//! Alerts: webhooks told of what an operator must act on (trading stopped, a breaker open,
//! the kill switch, the daily loss limit, an operator's halt, candles lagging), with their
//! recoveries.
//!
//! A watcher thread looks at the run's health registry and board once a second and turns
//! each change into an [`Alert`] ([`watch`], a pure function of two observations); a sender
//! thread delivers them, with retries and a breaker per webhook. Trading never waits for
//! either: alerts are handed over on a bounded channel, and one that does not fit is logged
//! and dropped.

mod alert;
mod body;
mod deliver;
mod watch;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use keel_actors::board::Board;
use keel_supervision::HealthRegistry;
use tracing::{error, warn};

pub use alert::{Alert, AlertKind, Severity};
pub use body::body;
pub use deliver::deliver_once;
pub use watch::{changes, Observation};

use crate::settings::{AlertSettings, Webhook};

/// Alerts waiting for the sender before new ones are dropped.
const QUEUE: usize = 256;

/// How often the watcher looks.
const LOOK_EVERY: Duration = Duration::from_secs(1);

/// How long the end of a run waits for the last alerts to go out.
const FINISH_WITHIN: Duration = Duration::from_secs(10);

/// What `keel run` alerts with.
#[derive(Debug, Clone)]
pub struct AlertOptions {
    /// The `[alerts]` section.
    pub settings: AlertSettings,
    /// Its webhooks, URLs resolved.
    pub webhooks: Vec<Webhook>,
}

/// The running watcher and sender of one run.
pub struct Alerts {
    stop: Arc<AtomicBool>,
    watcher: Option<JoinHandle<()>>,
    sender: Option<JoinHandle<()>>,
}

impl Alerts {
    /// Starts watching `health` and `board` (none without webhooks: nothing to tell).
    pub fn start(options: &AlertOptions, health: HealthRegistry, board: Board) -> Option<Self> {
        if options.webhooks.is_empty() {
            return None;
        }
        let (tx, rx) = sync_channel::<Alert>(QUEUE);
        let sender = deliver::spawn_sender(options, rx);
        let stop = Arc::new(AtomicBool::new(false));
        let lag_limit = (options.settings.candle_lag_s > 0)
            .then(|| Duration::from_secs(options.settings.candle_lag_s));
        let watching = stop.clone();
        // Looked at before the thread starts: whatever changes after `start` is told.
        let mut before = Observation::of(&health, &board, lag_limit);
        let watcher = std::thread::Builder::new()
            .name("keel-alert-watch".into())
            .spawn(move || {
                loop {
                    // A stop asked during the pause still gets one more look.
                    let stopping = watching.load(Ordering::Acquire);
                    if !stopping {
                        std::thread::sleep(LOOK_EVERY);
                    }
                    let now = Observation::of(&health, &board, lag_limit);
                    for alert in changes(&before, &now) {
                        hand_over(&tx, alert);
                    }
                    before = now;
                    if stopping {
                        break;
                    }
                }
            })
            .map_err(|e| error!(error = %e, "alerts: cannot start the watcher thread: no alerts"))
            .ok()?;
        Some(Self {
            stop,
            watcher: Some(watcher),
            sender,
        })
    }

    /// Looks a last time (an escalation at the end of the run is told), then waits a few
    /// seconds at most for the sender to deliver what is queued.
    pub fn finish(mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(watcher) = self.watcher.take() {
            let _ = watcher.join();
        }
        if let Some(sender) = self.sender.take() {
            let started = Instant::now();
            while !sender.is_finished() && started.elapsed() < FINISH_WITHIN {
                std::thread::sleep(Duration::from_millis(20));
            }
            if sender.is_finished() {
                let _ = sender.join();
            } else {
                warn!("alerts: the last alerts were not all delivered before the run ended");
            }
        }
    }
}

fn hand_over(tx: &SyncSender<Alert>, alert: Alert) {
    match tx.try_send(alert) {
        Ok(()) => {}
        Err(TrySendError::Full(alert)) => {
            warn!(kind = alert.kind.as_str(), summary = %alert.summary, "alert dropped: too many waiting for delivery");
        }
        Err(TrySendError::Disconnected(alert)) => {
            warn!(kind = alert.kind.as_str(), summary = %alert.summary, "alert dropped: the sender is gone");
        }
    }
}
