//! The `[control]` section: the control plane `keel run` serves to its operator (health,
//! readiness, metrics, status, and the token-protected commands).

use std::net::SocketAddr;

use keel_core::config_check::{in_range, ConfigError};
use serde::{Deserialize, Serialize};

/// The `[control]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ControlSettings {
    /// Serve the control plane (`false`: no port is opened).
    pub enabled: bool,
    /// Address to listen on; port 0 picks a free port (written to `control.addr` in the
    /// run's store directory).
    pub listen: String,
    /// The environment variable holding the bearer token of the commands (`POST`).
    pub token_env: String,
    /// How long `/healthz` waits for the actor system to answer, in milliseconds.
    pub health_deadline_ms: u64,
}

impl Default for ControlSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: "127.0.0.1:9464".to_string(),
            token_env: "KEEL_CONTROL_TOKEN".to_string(),
            health_deadline_ms: 2_000,
        }
    }
}

impl ControlSettings {
    /// Checks the section (the token itself is checked when `keel run` starts: it lives in
    /// the environment).
    pub fn validate(&self, section: &str) -> Result<(), ConfigError> {
        self.listen_addr()?;
        if self.token_env.trim().is_empty() {
            return Err(ConfigError::new(
                format!("{section}.token_env"),
                "must name an environment variable",
            ));
        }
        in_range(
            section,
            "health_deadline_ms",
            self.health_deadline_ms,
            1,
            600_000,
        )
    }

    /// The address to listen on.
    pub fn listen_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.listen.parse().map_err(|_| {
            ConfigError::new(
                "control.listen",
                format!(
                    "`{}` is not an address such as 127.0.0.1:9464 (port 0 picks a free port)",
                    self.listen
                ),
            )
        })
    }
}
