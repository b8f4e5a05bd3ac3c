//! The market clock: every `bar_ms` (or on `POST /admin/step`) the next bar in open-time
//! order across the markets closes. The venue works its orders on the bar and the state is
//! flushed BEFORE the bar's stream events go out, so a client that sees the closed kline and
//! then polls finds the fills already there. The cursor persists with the state.

use crate::unpoisoned;
use std::sync::atomic::Ordering;
use std::time::Duration;

use actix_web::web::Data;
use std::sync::Arc;

use super::streams::{bar_events, WsEvent};
use super::App;

/// What a run of steps did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stepped {
    /// Bars closed.
    pub bars: usize,
    /// The cursor after them.
    pub cursor: usize,
    /// Whether the data has run out.
    pub exhausted: bool,
}

/// Closes up to `n` bars now, each persisted before its events are published.
pub async fn step(app: &App, n: usize) -> Stepped {
    steps(app, n, false).await
}

/// As [`step`]; with `unless_paused`, nothing happens while the clock is paused (checked
/// under the step lock, so no tick lands after a pause has been acknowledged).
async fn steps(app: &App, n: usize, unless_paused: bool) -> Stepped {
    let _serial = app.step_lock.lock().await;
    let mut bars = 0;
    let paused = unless_paused && app.paused.load(Ordering::SeqCst);
    for _ in 0..if paused { 0 } else { n } {
        let now = app.server_ms();
        let events = {
            let mut venue = unpoisoned(&app.venue);
            let Some((m, candle)) = venue.step(now) else {
                break;
            };
            if app.save(&mut venue).is_err() {
                tracing::error!("the replay stops: the state cannot be persisted");
                break;
            }
            let index = venue.closed[m];
            tracing::debug!(symbol = %candle.symbol, open_time = candle.open_time.0, cursor = venue.state.cursor, "bar closed");
            bar_events(&venue.markets[m], &candle, index as u64, now)
        };
        // No receiver (no WebSocket client) is not an error; held streams lose the bar.
        if !unpoisoned(&app.faults).hold_market_streams {
            let _ = app.events.send(WsEvent::Bar(Arc::new(events)));
        }
        bars += 1;
    }
    let venue = unpoisoned(&app.venue);
    Stepped {
        bars,
        cursor: venue.state.cursor,
        exhausted: venue.exhausted(),
    }
}

/// Runs the clock every `bar_ms` (not at all when it is 0: stepped only) until the data runs
/// out; a paused clock skips its ticks.
pub async fn run_clock(app: Data<App>) {
    let bar_ms = app.settings.bar_ms;
    if bar_ms == 0 {
        tracing::info!("bar_ms = 0: bars close only on POST /admin/step");
        return;
    }
    let mut tick = actix_web::rt::time::interval(Duration::from_millis(bar_ms));
    tick.tick().await;
    loop {
        tick.tick().await;
        let done = steps(&app, 1, true).await;
        if done.exhausted {
            tracing::info!(
                cursor = done.cursor,
                "the replay data has run out: the clock stops"
            );
            return;
        }
    }
}
