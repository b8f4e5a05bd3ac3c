//! `keel sim-exchange`: a separate process speaking the subset of Binance's spot REST and
//! WebSocket API that keel uses, over the shared fill model, with persistent state, a replay
//! clock and injected faults. See `docs/sim-exchange.md`.
//!
//! - [`config`]: the TOML file; [`state`]: what is persisted and its sled store;
//! - [`venue`]: orders, balances and settlement; [`replay`]: the market clock;
//! - [`auth`], [`params`], [`weights`], [`faults`], [`error`]: the REST gate;
//! - [`rest`]: `/api/v3` handlers; [`admin`]: `/admin`; [`streams`]: WebSocket streams;
//! - [`user_stream`]: the WebSocket API's user data stream (`/ws-api/v3`).

pub mod admin;
pub mod auth;
pub mod body_deadline;
pub mod config;
pub mod error;
pub mod faults;
pub mod fees;
pub mod params;
pub mod replay;
pub mod rest;
pub mod state;
pub mod streams;
pub mod user_stream;
pub mod venue;
pub mod weights;

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::{web, App as HttpApp, HttpServer};
use anyhow::Context;
use keel_binance::Signer;
use tokio::sync::broadcast;

use self::config::Settings;
use self::error::ApiErr;
use self::faults::Faults;
use self::state::{Holding, Store};
use self::streams::WsEvent;
use self::user_stream::UserBatch;
use self::venue::Venue;
use self::weights::Weights;

/// Everything the handlers share.
pub struct App {
    /// The account, orders and market data.
    pub venue: Mutex<Venue>,
    /// Where the venue is persisted.
    pub store: Store,
    /// The configuration.
    pub settings: Settings,
    /// Verifies signatures with the configured secret.
    pub signer: Signer,
    /// Faults in force.
    pub faults: Mutex<Faults>,
    /// Request weights and bans.
    pub weights: Mutex<Weights>,
    /// Stream events to every WebSocket connection.
    pub events: broadcast::Sender<WsEvent>,
    /// The account's user data stream events, each batch published once the state it
    /// describes is written (see [`App::save`]).
    pub user_events: broadcast::Sender<UserBatch>,
    /// Serialises replay steps (a step and its stream events are not interleaved).
    pub step_lock: tokio::sync::Mutex<()>,
    /// Whether the clock is paused.
    pub paused: AtomicBool,
}

impl App {
    /// Wall clock, ms since the epoch.
    pub fn wall_ms() -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }

    /// The server's clock: the wall clock plus the injected skew.
    pub fn server_ms(&self) -> i64 {
        Self::wall_ms().saturating_add(unpoisoned(&self.faults).clock_skew_ms)
    }

    /// Runs `f` on the venue; with `persist`, a successful `f`'s changes are written and
    /// flushed before returning.
    pub fn with_venue<R>(
        &self,
        persist: bool,
        f: impl FnOnce(&mut Venue) -> Result<R, ApiErr>,
    ) -> Result<R, ApiErr> {
        let mut venue = unpoisoned(&self.venue);
        let out = f(&mut venue)?;
        if persist {
            self.save(&mut venue)?;
        }
        Ok(out)
    }

    /// Writes and flushes the venue state, then publishes the user data stream events of
    /// the changes it holds (every persisting path comes through here, so no event goes out
    /// before the state it describes is durable). Called with the venue locked, so events
    /// go out in the order the changes happened. After a failed write the events wait for
    /// the next successful one.
    pub fn save(&self, venue: &mut Venue) -> Result<(), ApiErr> {
        self.store.save(venue.snapshot()).map_err(|e| {
            tracing::error!(error = %e, "cannot persist the venue state");
            ApiErr::with_status(
                500,
                -1000,
                "An unknown error occurred while processing the request.",
            )
        })?;
        let events = venue.take_events(self.server_ms());
        if !events.is_empty() {
            // No receiver (no subscribed client) is not an error.
            let _ = self.user_events.send(std::sync::Arc::new(events));
        }
        Ok(())
    }
}

/// Where the server listens.
enum Listen {
    /// An address to bind (`settings.listen`).
    Addr(String),
    /// A socket already bound.
    Socket(std::net::TcpListener),
}

/// Loads the state, binds `settings.listen`, prints the listening line and serves until
/// SIGTERM or SIGINT, then flushes the state.
pub fn run(settings: Settings) -> anyhow::Result<()> {
    let listen = Listen::Addr(settings.listen.clone());
    serve(settings, listen)
}

/// As [`run`], on `listener`, already bound (`settings.listen` is ignored): a test binds
/// port 0 itself and so knows the address before the server starts.
pub fn run_on(settings: Settings, listener: std::net::TcpListener) -> anyhow::Result<()> {
    serve(settings, Listen::Socket(listener))
}

fn serve(settings: Settings, listen: Listen) -> anyhow::Result<()> {
    let symbols: Vec<String> = settings
        .markets
        .iter()
        .map(|m| m.symbol.as_str().to_string())
        .collect();
    let (store, saved) = Store::open(&settings.state, &symbols)?;
    let fresh = saved.is_none();
    let mut state = saved.unwrap_or_default();
    if fresh {
        state.balances = settings
            .balances
            .iter()
            .map(|(asset, free)| {
                (
                    asset.to_ascii_uppercase(),
                    Holding {
                        free: *free,
                        locked: Default::default(),
                    },
                )
            })
            .collect();
    }
    let markets = Arc::new(settings.markets.clone());
    let mut venue = Venue::new(markets, settings.fill.clone(), settings.fees, state)
        .map_err(|e| anyhow::anyhow!("state directory {}: {e}", settings.state.display()))?;
    if fresh {
        venue.state.cursor = match settings.start {
            Some(start) => venue.history_len(start),
            None => 0,
        };
        venue = Venue::new(
            venue.markets.clone(),
            settings.fill.clone(),
            settings.fees,
            venue.state,
        )
        .map_err(|e| anyhow::anyhow!(e))?;
    }
    store
        .save(venue.snapshot())
        .context("writing the initial state")?;
    tracing::info!(
        state = %settings.state.display(),
        cursor = venue.state.cursor,
        bars = venue.merged.len(),
        fresh,
        "sim-exchange state loaded"
    );
    let mut faults = Faults::default();
    faults
        .apply(&settings.faults)
        .map_err(|e| anyhow::anyhow!("sim-exchange config: faults.{e}"))?;
    let mut weights = Weights::new(settings.weights.limit_per_minute, settings.weights.ban_s);
    if let Some(secs) = settings.faults.ban_s {
        weights.ban(App::wall_ms(), secs);
    }
    let (events, _) = broadcast::channel(4096);
    let (user_events, _) = broadcast::channel(user_stream::CHANNEL_CAPACITY);
    let app = web::Data::new(App {
        venue: Mutex::new(venue),
        store,
        signer: Signer::new(&settings.api_secret.0),
        faults: Mutex::new(faults),
        weights: Mutex::new(weights),
        events,
        user_events,
        step_lock: tokio::sync::Mutex::new(()),
        paused: AtomicBool::new(settings.paused),
        settings,
    });
    actix_web::rt::System::new().block_on(async move {
        let data = app.clone();
        let server = HttpServer::new(move || {
            HttpApp::new()
                .app_data(data.clone())
                .configure(rest::routes)
                .configure(admin::routes)
                .configure(streams::routes)
                .configure(user_stream::routes)
        })
        .workers(2)
        .shutdown_timeout(1);
        let server = match listen {
            Listen::Addr(addr) => server
                .bind(&addr)
                .with_context(|| format!("cannot listen on {addr}"))?,
            Listen::Socket(socket) => server
                .listen(socket)
                .context("cannot listen on the given socket")?,
        };
        let addr = server
            .addrs()
            .first()
            .copied()
            .context("the server has no address")?;
        println!("sim-exchange listening on http://{addr}");
        use std::io::Write;
        std::io::stdout().flush().ok();
        tracing::info!(%addr, "sim-exchange listening");
        actix_web::rt::spawn(replay::run_clock(app.clone()));
        actix_web::rt::spawn(streams::drop_timer(app.clone()));
        server.run().await.context("the HTTP server failed")?;
        tracing::info!("sim-exchange stopping: flushing state");
        let mut venue = unpoisoned(&app.venue);
        app.store
            .save(venue.snapshot())
            .context("flushing the state on shutdown")?;
        Ok(())
    })
}

/// Locks `mutex`, taking it back if a request panicked while holding it. No request should
/// panic (every input is checked before the venue's state changes), but one that did must
/// not turn every later request into a panic: the venue keeps answering.
pub fn unpoisoned<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
