//! The client's configuration. The secret is held only as a [`Signer`]; `Debug` shows neither
//! it nor the API key.

use std::fmt;
use std::time::Duration;

use keel_supervision::RetryPolicy;

use crate::Signer;

/// How to reach the venue and how patient and careful to be.
#[derive(Clone)]
pub struct ClientConfig {
    /// REST base, e.g. `https://api.binance.com` or `http://127.0.0.1:9100` (no trailing `/`).
    pub rest_url: String,
    /// API key, sent as `X-MBX-APIKEY` (from the environment; never logged).
    pub api_key: Option<String>,
    /// API secret (from the environment); turned into a [`Signer`], never logged.
    pub secret: Option<String>,
    /// `recvWindow` of signed requests, ms (Binance: at most 60 000).
    pub recv_window_ms: u64,
    /// Timeout of one HTTP attempt (connect to last byte).
    pub timeout: Duration,
    /// Fraction of the per-minute weight limit this client stays under (e.g. 0.8).
    pub weight_safety: f64,
    /// The weight limit assumed until exchangeInfo gives the real one (Binance: 6000).
    pub default_weight_limit: u32,
    /// Retries of an idempotent read after the first attempt.
    pub read_retries: usize,
    /// First backoff delay of a read retry (doubling, jittered).
    pub retry_min: Duration,
    /// Largest backoff delay of a read retry.
    pub retry_max: Duration,
    /// A read is not retried if the venue asks to wait longer than this (the error is
    /// returned instead).
    pub max_retry_after: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            rest_url: "https://api.binance.com".into(),
            api_key: None,
            secret: None,
            recv_window_ms: 5_000,
            timeout: Duration::from_secs(10),
            weight_safety: 0.8,
            default_weight_limit: 6_000,
            read_retries: 4,
            retry_min: Duration::from_millis(200),
            retry_max: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl ClientConfig {
    /// A configuration for `rest_url` with the defaults otherwise.
    pub fn new(rest_url: impl Into<String>) -> Self {
        Self {
            rest_url: rest_url.into(),
            ..Self::default()
        }
    }

    /// How idempotent reads are retried (keel's one retry helper, jittered).
    pub fn read_retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            min_delay_ms: self.retry_min.as_millis() as u64,
            max_delay_ms: self.retry_max.as_millis() as u64,
            max_times: self.read_retries as u32,
            jitter: true,
            jitter_seed: None,
            max_retry_after_ms: self.max_retry_after.as_millis() as u64,
        }
    }

    /// With credentials (read by the caller from the environment).
    pub fn with_credentials(mut self, api_key: String, secret: String) -> Self {
        self.api_key = Some(api_key);
        self.secret = Some(secret);
        self
    }

    /// Checks the fields, naming the wrong one.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.rest_url.starts_with("http://") || self.rest_url.starts_with("https://")) {
            return Err(format!(
                "rest_url `{}` must start with http:// or https://",
                self.rest_url
            ));
        }
        if !(1..=60_000).contains(&self.recv_window_ms) {
            return Err(format!(
                "recv_window_ms {} must be within 1..=60000",
                self.recv_window_ms
            ));
        }
        if !(self.weight_safety > 0.0 && self.weight_safety <= 1.0) {
            return Err(format!(
                "weight_safety {} must be within (0, 1]",
                self.weight_safety
            ));
        }
        if self.timeout.is_zero() {
            return Err("timeout must be positive".into());
        }
        if self.api_key.is_some() != self.secret.is_some() {
            return Err("api_key and secret go together: give both or neither".into());
        }
        Ok(())
    }

    pub(super) fn signer(&self) -> Option<Signer> {
        self.secret.as_deref().map(Signer::new)
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |v: &Option<String>| if v.is_some() { "<redacted>" } else { "none" };
        f.debug_struct("ClientConfig")
            .field("rest_url", &self.rest_url)
            .field("api_key", &shown(&self.api_key))
            .field("secret", &shown(&self.secret))
            .field("recv_window_ms", &self.recv_window_ms)
            .field("timeout", &self.timeout)
            .field("weight_safety", &self.weight_safety)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_print_and_bad_fields_are_named() {
        let cfg = ClientConfig::new("http://127.0.0.1:1")
            .with_credentials("my-api-key".into(), "my-secret".into());
        let shown = format!("{cfg:?}");
        assert!(
            !shown.contains("my-api-key") && !shown.contains("my-secret"),
            "{shown}"
        );
        assert!(cfg.validate().is_ok());
        let bad = ClientConfig {
            weight_safety: 1.5,
            ..cfg.clone()
        };
        assert!(bad.validate().unwrap_err().contains("weight_safety"));
        let bad = ClientConfig {
            secret: None,
            ..cfg
        };
        assert!(bad.validate().unwrap_err().contains("both"));
    }
}
