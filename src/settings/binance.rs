//! The `[binance]` section: trade at a Binance-compatible venue (Binance, its testnet, or a
//! `keel sim-exchange` server) instead of replaying candle files against the in-process
//! venue. Keys come from environment variables named here, never from the file.

use keel_binance::client::ClientConfig;
use keel_core::config_check::{in_range, ConfigError};
use keel_model::{Interval, Symbol, Timestamp};
use keel_supervision::secrets;
use serde::{Deserialize, Serialize};

/// Where the venue is, which markets to stream, and how to talk to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BinanceSettings {
    /// REST base, e.g. `https://testnet.binance.vision` or `http://127.0.0.1:9100`.
    pub rest_url: String,
    /// WebSocket base, e.g. `wss://stream.testnet.binance.vision` or `ws://127.0.0.1:9100`.
    pub ws_url: String,
    /// The WebSocket API, whose user data stream pushes every order update, e.g.
    /// `wss://ws-api.binance.com:443/ws-api/v3` or `ws://127.0.0.1:9100/ws-api/v3`. Unset:
    /// fills are learnt only when a bar closes.
    #[serde(default)]
    pub ws_api_url: Option<String>,
    /// The environment variable holding the API key.
    #[serde(default = "default_key_env")]
    pub api_key_env: String,
    /// The environment variable holding the API secret.
    #[serde(default = "default_secret_env")]
    pub api_secret_env: String,
    /// The pairs to trade, in the order bars of one open time are handled.
    pub symbols: Vec<String>,
    /// The bar interval, e.g. `1h`.
    pub interval: String,
    /// The first bar fetched (UTC date): bars before `data.start` warm up the indicators. A
    /// restarted run fetches the same bars again, so this must not change during a run.
    pub history_from: String,
    /// `recvWindow` of signed requests, ms (at most 60 000).
    #[serde(default = "default_recv_window")]
    pub recv_window_ms: u64,
    /// Timeout of one HTTP request, ms.
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
    /// Fraction of the venue's per-minute request weight keel stays under.
    #[serde(default = "default_weight_safety")]
    pub weight_safety: f64,
}

fn default_key_env() -> String {
    "KEEL_BINANCE_API_KEY".into()
}
fn default_secret_env() -> String {
    "KEEL_BINANCE_API_SECRET".into()
}
fn default_recv_window() -> u64 {
    5_000
}
fn default_timeout() -> u64 {
    10_000
}
fn default_weight_safety() -> f64 {
    0.8
}

impl BinanceSettings {
    /// Checks every key; returns the parsed symbols.
    pub fn validate(&self) -> Result<Vec<Symbol>, ConfigError> {
        let url = |key: &str, value: &str, schemes: [&str; 2]| {
            if schemes.iter().any(|s| value.starts_with(s)) {
                Ok(())
            } else {
                Err(ConfigError::new(
                    format!("binance.{key}"),
                    format!("`{value}` must start with {} or {}", schemes[0], schemes[1]),
                ))
            }
        };
        url("rest_url", &self.rest_url, ["http://", "https://"])?;
        url("ws_url", &self.ws_url, ["ws://", "wss://"])?;
        if let Some(ws_api_url) = &self.ws_api_url {
            url("ws_api_url", ws_api_url, ["ws://", "wss://"])?;
        }
        for (key, name) in [
            ("api_key_env", &self.api_key_env),
            ("api_secret_env", &self.api_secret_env),
        ] {
            if name.is_empty() {
                return Err(ConfigError::new(
                    format!("binance.{key}"),
                    "must name an environment variable",
                ));
            }
        }
        if self.symbols.is_empty() {
            return Err(ConfigError::new(
                "binance.symbols",
                "at least one pair is required",
            ));
        }
        let mut symbols: Vec<Symbol> = Vec::with_capacity(self.symbols.len());
        for text in &self.symbols {
            let symbol = Symbol::parse(text)
                .map_err(|e| ConfigError::new("binance.symbols", e.to_string()))?;
            if symbols.contains(&symbol) {
                return Err(ConfigError::new(
                    "binance.symbols",
                    format!("{symbol} is listed twice"),
                ));
            }
            symbols.push(symbol);
        }
        self.interval()?;
        self.history_from()?;
        in_range("binance", "recv_window_ms", self.recv_window_ms, 1, 60_000)?;
        in_range("binance", "timeout_ms", self.timeout_ms, 100, 600_000)?;
        in_range("binance", "weight_safety", self.weight_safety, 0.05, 1.0)?;
        Ok(symbols)
    }

    /// The bar interval.
    pub fn interval(&self) -> Result<Interval, ConfigError> {
        Interval::parse(&self.interval).ok_or_else(|| {
            ConfigError::new(
                "binance.interval",
                format!(
                    "`{}` is not an interval such as 1m, 15m, 1h, 4h, 1d",
                    self.interval
                ),
            )
        })
    }

    /// The first bar fetched.
    pub fn history_from(&self) -> Result<Timestamp, ConfigError> {
        Timestamp::parse_utc(&self.history_from).ok_or_else(|| {
            ConfigError::new(
                "binance.history_from",
                format!(
                    "`{}` is not a UTC date such as 2018-01-31",
                    self.history_from
                ),
            )
        })
    }

    /// The REST client's configuration, with the key and secret read from systemd's
    /// credentials or the environment ([`secrets::read`]). A missing one is an error naming
    /// the variable (never its value).
    pub fn client_config(&self) -> Result<ClientConfig, ConfigError> {
        let read = |key: &str, name: &str| {
            let key = format!("binance.{key}");
            match secrets::read(name) {
                Ok(Some(value)) => Ok(value),
                Ok(None) => Err(ConfigError::new(
                    key,
                    format!("environment variable {name} is not set"),
                )),
                Err(e) => Err(ConfigError::new(key, e.to_string())),
            }
        };
        let key = read("api_key_env", &self.api_key_env)?;
        let secret = read("api_secret_env", &self.api_secret_env)?;
        let mut cfg = ClientConfig::new(self.rest_url.clone()).with_credentials(key, secret);
        cfg.recv_window_ms = self.recv_window_ms;
        cfg.timeout = std::time::Duration::from_millis(self.timeout_ms);
        cfg.weight_safety = self.weight_safety;
        Ok(cfg)
    }
}
