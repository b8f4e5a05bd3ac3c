//! The sim venue `keel chaos` trades at: a `keel sim-exchange` child process on a free
//! loopback port, its clock stepped bar by bar through `POST /admin/step` (never by the wall
//! clock) and its faults set through `POST /admin/faults`. Killed when dropped, and with
//! keel if keel dies first.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};
use serde_json::{json, Value};

/// How long one admin request may take before the venue counts as gone.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(60);

/// A running sim venue.
pub struct SimChild {
    child: Child,
    base: String,
    log: PathBuf,
    http: reqwest::blocking::Client,
}

impl SimChild {
    /// Starts `keel sim-exchange` with the markets, balances and fill model of `config`
    /// (a sim-exchange TOML), but its state in `dir`, a clock that moves only when stepped,
    /// no faults at start, and on `127.0.0.1:0`. It accepts `key` and `secret`, the
    /// credentials keel signs with.
    pub fn start(config: &Path, dir: &Path, key: &str, secret: &str) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(config)
            .with_context(|| format!("reading the sim venue's config {}", config.display()))?;
        let mut table: toml::Table = toml::from_str(&text)
            .with_context(|| format!("parsing the sim venue's config {}", config.display()))?;
        let name = |key: &str| -> anyhow::Result<String> {
            table
                .get(key)
                .and_then(toml::Value::as_str)
                .map(str::to_string)
                .with_context(|| format!("{}: `{key}` is missing", config.display()))
        };
        let (key_env, secret_env) = (name("api_key_env")?, name("api_secret_env")?);
        let state = dir.join("sim-exchange-state");
        table.insert("state".into(), state.display().to_string().into());
        table.insert("bar_ms".into(), 0.into());
        table.insert("paused".into(), false.into());
        table.remove("faults");
        let stepped = dir.join("sim-exchange.toml");
        std::fs::write(&stepped, toml::to_string(&table)?)
            .with_context(|| format!("writing {}", stepped.display()))?;

        let log = dir.join("sim-exchange.log");
        let mut command = Command::new(std::env::current_exe()?);
        command
            .args(["--log-level", "info", "sim-exchange", "--config"])
            .arg(&stepped)
            .args(["--listen", "127.0.0.1:0"])
            .env(key_env, key)
            .env(secret_env, secret)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log)?);
        crate::child::die_with_parent(&mut command);
        let mut child = command.spawn().context("starting keel sim-exchange")?;
        let stdout = child.stdout.take().context("the venue's stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().transpose()?.unwrap_or_default();
        let Some(base) = first.strip_prefix("sim-exchange listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "the sim venue did not start: {}",
                std::fs::read_to_string(&log).unwrap_or_default().trim()
            );
        };
        let base = base.to_string();
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        let http = reqwest::blocking::Client::builder()
            .timeout(ADMIN_TIMEOUT)
            .build()?;
        Ok(Self {
            child,
            base,
            log,
            http,
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `ws://127.0.0.1:<port>`.
    pub fn ws_url(&self) -> String {
        self.base.replacen("http://", "ws://", 1)
    }

    /// Where the venue logs.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// A client for the admin endpoints, usable from another thread.
    pub fn admin(&self) -> Admin {
        Admin {
            base: self.base.clone(),
            http: self.http.clone(),
        }
    }
}

impl Drop for SimChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The venue's admin endpoints.
#[derive(Clone)]
pub struct Admin {
    base: String,
    http: reqwest::blocking::Client,
}

impl Admin {
    fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let response = self
            .http
            .post(format!("{}/admin/{path}", self.base))
            .json(&body)
            .send()
            .with_context(|| format!("POST /admin/{path} to the sim venue"))?;
        let status = response.status();
        let text = response.text()?;
        if !status.is_success() {
            bail!("POST /admin/{path} {body}: {status} {text}");
        }
        Ok(serde_json::from_str(&text)?)
    }

    /// Closes the next bar of every market (the venue's clock closes one market's bar per
    /// step, in open-time order): the number of steps it took, none once the venue's data
    /// has run out.
    pub fn close_bar(&self) -> anyhow::Result<Option<u64>> {
        let mut steps = 0;
        loop {
            let answer = self.post("step", json!({ "bars": 1 }))?;
            if answer["stepped"].as_u64() != Some(1) {
                return Ok(None);
            }
            steps += 1;
            if self.every_market_closed_the_same_bar()? {
                return Ok(Some(steps));
            }
        }
    }

    /// Whether every market's last closed bar opened at the same time.
    fn every_market_closed_the_same_bar(&self) -> anyhow::Result<bool> {
        let replay: Value = self
            .http
            .get(format!("{}/admin/replay", self.base))
            .send()
            .and_then(reqwest::blocking::Response::error_for_status)
            .context("GET /admin/replay from the sim venue")?
            .json()?;
        let last = replay["lastClosedOpenTime"]
            .as_object()
            .context("the sim venue's replay status has no lastClosedOpenTime")?;
        let mut opens = last.values().map(Value::as_i64);
        let first = opens.next().flatten();
        Ok(first.is_some() && opens.all(|open| open == first))
    }

    /// Changes the faults (the shape of `[faults]`, see docs/sim-exchange.md).
    pub fn set_faults(&self, patch: &Value) -> anyhow::Result<()> {
        self.post("faults", patch.clone()).map(drop)
    }
}
