//! Starting and stopping the control plane's server, and what its handlers share.

use std::fmt;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpServer};
use anyhow::Context as _;
use keel_actors::board::Board;
use keel_actors::runtime::{Supervision, TreeSpec};
use keel_supervision::secrets::{self, SecretError};
use keel_supervision::HealthRegistry;
use tracing::{info, warn};

use super::desk::{start_desk, DeskParts, DeskSender};
use crate::settings::{ControlSettings, Settings};
use keel_core::config_check::ConfigError;

/// The file in the run's store directory that holds the control plane's bound address
/// (`127.0.0.1:9464`), for `keel status` and `keel ctl` (the journal knows it is keel's).
pub const ADDR_FILE: &str = keel_actors::journal::CONTROL_ADDR_FILE;

/// The bearer token of the commands. Never printed: its `Debug` shows `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// A token (empty text is no token: see [`Token::from_env`]).
    pub fn new(secret: String) -> Self {
        Self(secret)
    }

    /// The token `name` names, if set and not blank: the credential file
    /// `$CREDENTIALS_DIRECTORY/name`, else the variable `name` ([`secrets::read`]).
    pub fn from_env(name: &str) -> Result<Option<Self>, SecretError> {
        Ok(secrets::read(name)?
            .filter(|v| !v.trim().is_empty())
            .map(Self))
    }

    /// The secret itself, for the comparison and the client's header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

/// How `keel run` serves its control plane.
#[derive(Debug, Clone)]
pub struct ControlOptions {
    /// The `[control]` section.
    pub settings: ControlSettings,
    /// The run's store directory, where [`ADDR_FILE`] is written.
    pub store: PathBuf,
    /// The commands' token (none: commands are refused).
    pub token: Option<Token>,
}

impl ControlOptions {
    /// The control plane `settings` ask for (none when `control.enabled = false`), with the
    /// token from the environment. A listen address other than loopback without a token is
    /// refused: anyone who can reach it could otherwise read the account.
    pub fn from_settings(settings: &Settings) -> Result<Option<Self>, ConfigError> {
        let control = &settings.control;
        if !control.enabled {
            return Ok(None);
        }
        let token = Token::from_env(&control.token_env)
            .map_err(|e| ConfigError::new("control.token_env", e.to_string()))?;
        let listen = control.listen_addr()?;
        if !listen.ip().is_loopback() && token.is_none() {
            return Err(ConfigError::new(
                "control.listen",
                format!(
                    "{listen} is not a loopback address: set a token in {} (control.token_env) or listen on 127.0.0.1",
                    control.token_env
                ),
            ));
        }
        Ok(Some(Self {
            settings: control.clone(),
            store: settings.run.store.clone(),
            token,
        }))
    }
}

/// What the run attached once its actors exist.
pub(super) struct Attached {
    pub(super) tree: super::status::TreeNode,
    pub(super) health: HealthRegistry,
    pub(super) board: Board,
    pub(super) desk: DeskSender,
}

/// Where the run is.
#[derive(Clone)]
pub(super) enum Phase {
    /// Opening its journal and reconciling it with the venue: alive, not ready.
    Starting,
    /// Trading.
    Running(Arc<Attached>),
    /// Draining or done: commands are refused.
    Over,
}

/// What every handler shares.
pub(super) struct Shared {
    pub(super) started: Instant,
    pub(super) token: Option<Token>,
    pub(super) health_deadline: Duration,
    phase: Mutex<Phase>,
}

impl Shared {
    /// Where the run is now.
    pub(super) fn phase(&self) -> Phase {
        self.lock().clone()
    }

    /// The run's parts while it trades.
    pub(super) fn attached(&self) -> Option<Arc<Attached>> {
        match self.phase() {
            Phase::Running(run) => Some(run),
            Phase::Starting | Phase::Over => None,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Phase> {
        self.phase.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The running control plane of one `keel run`.
pub struct ControlPlane {
    shared: Arc<Shared>,
    server: ServerHandle,
    addr: SocketAddr,
    addr_file: PathBuf,
    published: bool,
    token_env: String,
}

impl ControlPlane {
    /// Binds `options.settings.listen` and serves on actix-web's threads: alive, not ready
    /// (the run is starting) until [`attach`](Self::attach). Call inside the run's actix
    /// system, before the journal is opened and reconciled. A port in use is an error naming
    /// `control.listen`.
    pub fn start(options: &ControlOptions) -> anyhow::Result<Self> {
        let listen = options.settings.listen_addr()?;
        let listener = TcpListener::bind(listen).map_err(|e| {
            anyhow::anyhow!(
                "control.listen = {listen}: cannot listen ({e}); is another keel running? Port 0 picks a free port, control.enabled = false turns the control plane off"
            )
        })?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            started: Instant::now(),
            token: options.token.clone(),
            health_deadline: Duration::from_millis(options.settings.health_deadline_ms),
            phase: Mutex::new(Phase::Starting),
        });
        let data = web::Data::from(shared.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .configure(super::http::routes)
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener)
        .with_context(|| format!("control.listen = {listen}: cannot serve"))?
        .run();
        let handle = server.handle();
        actix_rt::spawn(server);
        info!(%addr, "control plane listening (starting: not ready until the journal is reconciled)");
        Ok(Self {
            shared,
            server: handle,
            addr,
            addr_file: options.store.join(ADDR_FILE),
            published: false,
            token_env: options.settings.token_env.clone(),
        })
    }

    /// Writes the bound address to [`ADDR_FILE`] in the store, for `keel status` and `keel
    /// ctl`: call once this process holds the store (its journal is open), so that a second
    /// keel refused by the store's lock never overwrites the first one's address.
    pub fn publish_addr(&mut self) -> anyhow::Result<()> {
        write_addr(&self.addr_file, self.addr)?;
        self.published = true;
        if self.shared.token.is_none() {
            warn!(addr = %self.addr, token_env = %self.token_env, "control plane without a token: its commands (halt, flatten, kill, ...) are refused");
        }
        info!(addr = %self.addr, file = %self.addr_file.display(), "control plane address written");
        Ok(())
    }

    /// Attaches the run: its supervision `tree`, health registry and board for the reads,
    /// and a desk on this (the actors') thread for the commands.
    pub fn attach(&self, supervision: &Supervision, tree: &TreeSpec, parts: DeskParts) {
        let attached = Attached {
            tree: super::status::TreeNode::of(tree),
            health: supervision.health().clone(),
            board: supervision.board().clone(),
            desk: start_desk(parts),
        };
        *self.shared.lock() = Phase::Running(Arc::new(attached));
    }

    /// Stops serving and removes [`ADDR_FILE`].
    pub async fn stop(self) {
        // The run is over: commands are refused from now on (the desk lets the actors go).
        *self.shared.lock() = Phase::Over;
        self.server.stop(true).await;
        if !self.published {
            return;
        }
        if let Err(e) = std::fs::remove_file(&self.addr_file) {
            warn!(file = %self.addr_file.display(), error = %e, "could not remove the control plane's address file");
        }
    }
}

/// Writes `addr` to `file` whole (a reader never sees half of it).
fn write_addr(file: &Path, addr: SocketAddr) -> anyhow::Result<()> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the store directory {}", dir.display()))?;
    }
    let tmp = file.with_file_name(keel_actors::journal::CONTROL_ADDR_STAGING);
    std::fs::write(&tmp, format!("{addr}\n"))
        .and_then(|()| std::fs::rename(&tmp, file))
        .with_context(|| format!("writing the control plane's address to {}", file.display()))
}
