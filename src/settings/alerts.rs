//! The `[alerts]` section: webhooks told when trading stops, a breaker opens, the kill
//! switch trips, the daily loss limit is hit, an operator halts, or candles lag.

use keel_core::config_check::{in_range, ConfigError};
use keel_supervision::secrets;
use serde::{Deserialize, Serialize};

/// The `[alerts]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertSettings {
    /// Alert when the last candle closed more than this many seconds of wall time ago
    /// (0: never; for a live run, a few intervals).
    pub candle_lag_s: u64,
    /// How long one delivery may take, in milliseconds.
    pub timeout_ms: u64,
    /// Deliveries tried again after a failure (with a growing pause).
    pub retries: u32,
    /// Where alerts go.
    pub webhooks: Vec<WebhookSettings>,
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            candle_lag_s: 0,
            timeout_ms: 5_000,
            retries: 3,
            webhooks: Vec::new(),
        }
    }
}

/// The body a webhook expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    /// keel's own JSON: `{"kind", "severity", "summary", "at_ms", "source"}`.
    #[default]
    Json,
    /// A Slack incoming webhook: `{"text"}`.
    Slack,
    /// A Discord webhook: `{"content"}`.
    Discord,
    /// The Telegram Bot API's `sendMessage`: `{"chat_id", "text"}`.
    Telegram,
}

/// One webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// The URL to POST to (for a URL that is no secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The environment variable holding the URL (Slack's, Discord's and Telegram's carry
    /// their secret in the URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_env: Option<String>,
    /// `json`, `slack`, `discord` or `telegram`.
    #[serde(default)]
    pub format: WebhookFormat,
    /// With `telegram`: the chat to post to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<String>,
}

/// A webhook ready to use: its URL resolved.
#[derive(Clone)]
pub struct Webhook {
    /// `webhooks[0] (slack)`: how logs name it (never by its URL, which may hold a secret).
    pub name: String,
    /// Where to POST.
    pub url: String,
    /// Its body.
    pub format: WebhookFormat,
    /// Telegram's chat.
    pub chat_id: Option<String>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Webhook({})", self.name)
    }
}

impl AlertSettings {
    /// Checks the section (the URLs in the environment are checked by [`Self::webhooks`]).
    pub fn validate(&self, section: &str) -> Result<(), ConfigError> {
        in_range(section, "timeout_ms", self.timeout_ms, 1, 600_000)?;
        in_range(section, "retries", self.retries, 0, 10)?;
        in_range(section, "candle_lag_s", self.candle_lag_s, 0, 31_536_000)?;
        for (i, hook) in self.webhooks.iter().enumerate() {
            let key = |name: &str| format!("{section}.webhooks[{i}].{name}");
            match (&hook.url, &hook.url_env) {
                (Some(url), None) => check_url(url, &key("url"))?,
                (None, Some(var)) if !var.trim().is_empty() => {}
                (None, Some(_)) => {
                    return Err(ConfigError::new(key("url_env"), "must name a variable"))
                }
                _ => {
                    return Err(ConfigError::new(
                        key("url"),
                        "give exactly one of url and url_env",
                    ))
                }
            }
            if hook.format == WebhookFormat::Telegram && hook.chat_id.is_none() {
                return Err(ConfigError::new(
                    key("chat_id"),
                    "a telegram webhook needs the chat to post to",
                ));
            }
        }
        Ok(())
    }

    /// The webhooks with their URLs, those in the environment read now: a variable that is
    /// unset, or not a URL, is an error naming its key (the value is never shown).
    pub fn webhooks(&self) -> Result<Vec<Webhook>, ConfigError> {
        self.webhooks
            .iter()
            .enumerate()
            .map(|(i, hook)| {
                let name = format!(
                    "webhooks[{i}] ({})",
                    serde_json::to_value(hook.format)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default()
                );
                let url = match (&hook.url, &hook.url_env) {
                    (Some(url), _) => url.clone(),
                    (None, Some(var)) => {
                        let key = format!("alerts.webhooks[{i}].url_env");
                        let url = secrets::read(var)
                            .map_err(|e| ConfigError::new(&key, e.to_string()))?
                            .filter(|v| !v.trim().is_empty())
                            .ok_or_else(|| {
                                ConfigError::new(&key, format!("the variable {var} is not set"))
                            })?;
                        check_url(&url, &key).map_err(|_| {
                            ConfigError::new(
                                &key,
                                format!("the variable {var} holds no http(s) URL"),
                            )
                        })?;
                        url
                    }
                    (None, None) => unreachable!("validated: url or url_env"),
                };
                Ok(Webhook {
                    name,
                    url,
                    format: hook.format,
                    chat_id: hook.chat_id.clone(),
                })
            })
            .collect()
    }
}

fn check_url(url: &str, key: &str) -> Result<(), ConfigError> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(())
    } else {
        Err(ConfigError::new(key, "must be an http:// or https:// URL"))
    }
}
