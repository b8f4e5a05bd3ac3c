//! A model provider's API settings (`[sentiment.llm]` for the analyst, `[strategy.llm.api]`
//! for the `llm` strategy): which model, where, and how hard to try. Pure data and its
//! validation; the HTTP client that uses them is `keel-news`'s.

use serde::{Deserialize, Serialize};

use crate::config_check::{in_range, key, ConfigError};

/// Which analyst judges the headlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AnalystKind {
    /// The offline word-list scorer: no network, no cache.
    #[default]
    Lexicon,
    /// An OpenAI-compatible chat completions API (OpenAI, Ollama, vLLM, llama.cpp's server).
    Openai,
    /// The Anthropic messages API.
    Anthropic,
}

impl AnalystKind {
    /// The name used in logs and cache keys.
    pub fn name(self) -> &'static str {
        match self {
            AnalystKind::Lexicon => "lexicon",
            AnalystKind::Openai => "openai",
            AnalystKind::Anthropic => "anthropic",
        }
    }

    /// The provider's own API base, used when no `base_url` is given.
    pub fn default_base_url(self) -> &'static str {
        match self {
            AnalystKind::Lexicon => "",
            AnalystKind::Openai => "https://api.openai.com",
            AnalystKind::Anthropic => "https://api.anthropic.com",
        }
    }
}

/// How a model-backed analyst is used by `keel run` (backtests always replay).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AnalysisMode {
    /// Analyses come only from the cache; a window missing from it is scored by the lexicon
    /// (and counted). No network, deterministic.
    #[default]
    #[serde(alias = "replay-only")]
    ReplayOnly,
    /// Cache misses are sent to the provider and the answers stored in the cache.
    Record,
}

/// The model provider's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmConfig {
    /// API base without the `/v1/...` path; none: the provider's own.
    pub base_url: Option<String>,
    /// The model name sent to the provider (required unless the analyst is the lexicon).
    pub model: Option<String>,
    /// The environment variable holding the API key; none: no key is sent (local servers).
    pub api_key_env: Option<String>,
    /// Most tokens of one reply (16..=32768).
    pub max_tokens: u32,
    /// Sampling temperature (0..=2); 0 keeps replies reproducible.
    pub temperature: f64,
    /// Seconds one HTTP attempt may take, reply included (0.01..=600).
    pub timeout_secs: f64,
    /// Retries after the first attempt on 429, 5xx, timeouts and connection errors (0..=10).
    pub max_retries: u32,
    /// First backoff delay in milliseconds (1..=60000), doubled per retry, with jitter.
    pub retry_min_ms: u64,
    /// Longest backoff delay in milliseconds (`retry_min_ms`..=600000).
    pub retry_max_ms: u64,
    /// A `retry-after` longer than this many seconds ends the retries (0..=3600).
    pub max_retry_after_secs: f64,
    /// Tokens (prompt and reply) per UTC day; reached, the breaker opens until midnight UTC
    /// (1..=10^12).
    pub daily_token_budget: u64,
    /// Consecutive failed analyses that open the circuit breaker (1..=1000).
    pub breaker_failures: u32,
    /// Seconds the breaker stays open before one trial request (0.001..=86400).
    pub breaker_cooldown_secs: f64,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            base_url: None,
            model: None,
            api_key_env: None,
            max_tokens: 400,
            temperature: 0.0,
            timeout_secs: 30.0,
            max_retries: 3,
            retry_min_ms: 500,
            retry_max_ms: 20_000,
            max_retry_after_secs: 60.0,
            daily_token_budget: 200_000,
            breaker_failures: 5,
            breaker_cooldown_secs: 60.0,
        }
    }
}

/// Checks that `base_url`, if given, is an http:// or https:// URL.
pub fn check_url(section: &str, url: Option<&str>) -> Result<(), ConfigError> {
    let Some(url) = url else { return Ok(()) };
    let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
    if scheme_ok && !url.contains(char::is_whitespace) {
        Ok(())
    } else {
        Err(ConfigError::new(
            key(section, "base_url"),
            format!("`{url}` is not an http:// or https:// URL"),
        ))
    }
}

/// Checks that `api_key_env`, if given, names an environment variable.
pub fn check_env_name(section: &str, var: Option<&str>) -> Result<(), ConfigError> {
    let Some(var) = var else { return Ok(()) };
    let ok = !var.is_empty()
        && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !var.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(ConfigError::new(
            key(section, "api_key_env"),
            format!("`{var}` is not an environment variable name (letters, digits, _)"),
        ))
    }
}

impl LlmConfig {
    /// Checks every field (and, for a model-backed `analyst`, that a model is named);
    /// `analyst_key` is the key that chose the provider, for the message.
    pub fn validate(
        &self,
        section: &str,
        analyst: AnalystKind,
        analyst_key: &str,
    ) -> Result<(), ConfigError> {
        check_url(section, self.base_url.as_deref())?;
        match &self.model {
            Some(model) if model.trim().is_empty() => {
                return Err(ConfigError::new(key(section, "model"), "must not be empty"))
            }
            None if analyst != AnalystKind::Lexicon => {
                return Err(ConfigError::between(
                    key(section, "model"),
                    analyst_key,
                    format!(
                        "is required with {} = \"{}\"",
                        analyst_key.rsplit('.').next().unwrap_or(analyst_key),
                        analyst.name()
                    ),
                ))
            }
            _ => {}
        }
        check_env_name(section, self.api_key_env.as_deref())?;
        in_range(section, "max_tokens", self.max_tokens, 16, 32_768)?;
        in_range(section, "temperature", self.temperature, 0.0, 2.0)?;
        in_range(section, "timeout_secs", self.timeout_secs, 0.01, 600.0)?;
        in_range(section, "max_retries", self.max_retries, 0, 10)?;
        in_range(section, "retry_min_ms", self.retry_min_ms, 1, 60_000)?;
        in_range(
            section,
            "retry_max_ms",
            self.retry_max_ms,
            self.retry_min_ms,
            600_000,
        )?;
        in_range(
            section,
            "max_retry_after_secs",
            self.max_retry_after_secs,
            0.0,
            3600.0,
        )?;
        in_range(
            section,
            "daily_token_budget",
            self.daily_token_budget,
            1,
            1_000_000_000_000,
        )?;
        in_range(section, "breaker_failures", self.breaker_failures, 1, 1000)?;
        in_range(
            section,
            "breaker_cooldown_secs",
            self.breaker_cooldown_secs,
            0.001,
            86_400.0,
        )?;
        Ok(())
    }

    /// The API base for `analyst`, without a trailing slash.
    pub fn base_url_for(&self, analyst: AnalystKind) -> String {
        self.base_url
            .as_deref()
            .unwrap_or(analyst.default_base_url())
            .trim_end_matches('/')
            .to_string()
    }

    /// The model name, empty when none is configured.
    pub fn model_name(&self) -> &str {
        self.model.as_deref().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_for_the_lexicon_but_a_model_needs_a_name() {
        let cfg = LlmConfig::default();
        cfg.validate("sentiment.llm", AnalystKind::Lexicon, "sentiment.analyst")
            .unwrap();
        let err = cfg
            .validate("sentiment.llm", AnalystKind::Openai, "sentiment.analyst")
            .unwrap_err();
        assert_eq!(err.key, "sentiment.llm.model");
        assert!(err.message.contains("analyst = \"openai\""), "{err}");
    }

    #[test]
    fn errors_name_the_key() {
        let bad = |cfg: LlmConfig| {
            cfg.validate("s.llm", AnalystKind::Lexicon, "s.analyst")
                .unwrap_err()
                .key
        };
        let cfg = LlmConfig {
            base_url: Some("localhost:8080".into()),
            ..LlmConfig::default()
        };
        assert_eq!(bad(cfg), "s.llm.base_url");
        let cfg = LlmConfig {
            api_key_env: Some("MY-KEY".into()),
            ..LlmConfig::default()
        };
        assert_eq!(bad(cfg), "s.llm.api_key_env");
        let cfg = LlmConfig {
            retry_min_ms: 5000,
            retry_max_ms: 100,
            ..LlmConfig::default()
        };
        assert_eq!(bad(cfg), "s.llm.retry_max_ms");
        let cfg = LlmConfig {
            timeout_secs: f64::NAN,
            ..LlmConfig::default()
        };
        assert_eq!(bad(cfg), "s.llm.timeout_secs");
    }

    #[test]
    fn base_url_defaults_to_the_provider() {
        let cfg = LlmConfig::default();
        assert_eq!(
            cfg.base_url_for(AnalystKind::Anthropic),
            "https://api.anthropic.com"
        );
        let cfg = LlmConfig {
            base_url: Some("http://127.0.0.1:8080/".into()),
            ..LlmConfig::default()
        };
        assert_eq!(
            cfg.base_url_for(AnalystKind::Openai),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn replay_only_is_spelled_either_way() {
        #[derive(Deserialize)]
        struct M {
            mode: AnalysisMode,
        }
        let m: M = serde_json::from_str(r#"{"mode":"replay-only"}"#).unwrap();
        assert_eq!(m.mode, AnalysisMode::ReplayOnly);
        let m: M = serde_json::from_str(r#"{"mode":"record"}"#).unwrap();
        assert_eq!(m.mode, AnalysisMode::Record);
    }
}
