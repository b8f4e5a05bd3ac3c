//! The `[strategy.llm]` section: where the `llm` strategy decides, what it shows the model,
//! which model it asks, and what it does without an answer.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config_check::{in_range, key, ConfigError};
use crate::llm_api::{check_env_name, check_url, AnalysisMode, AnalystKind, LlmConfig};
use crate::model::Symbol;

/// What a decision point without a model answer does (breaker open, budget spent, provider
/// down, or a backtest's cache lacking it). A reply that breaks the contract is always a hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Fallback {
    /// Do nothing new; open positions keep their stops and targets.
    #[default]
    Hold,
    /// Decide as the `fusion` strategy would have on that bar.
    Fusion,
}

/// The `[strategy.llm]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmStrategyConfig {
    /// `openai` (any OpenAI-compatible server: Ollama, llama.cpp, vLLM) or `anthropic`.
    pub provider: AnalystKind,
    /// For `keel run`: `replay_only` (decisions only from the cache) or `record` (a miss is
    /// asked of the provider and cached). Backtests always replay.
    pub mode: AnalysisMode,
    /// The decision cache (a sled directory).
    pub cache_dir: PathBuf,
    /// Decide at every this-many bar closes of a symbol (1..=10000); the first trading bar
    /// is always a decision point.
    pub decide_every: u32,
    /// The symbols the model decides for; empty: every traded symbol.
    pub symbols: Vec<String>,
    /// Candles summarised in the context (2..=500).
    pub candles: usize,
    /// The symbol's most recent headlines in the context (0..=50).
    pub headlines: usize,
    /// What a decision point without an answer does.
    pub fallback: Fallback,
    /// The provider's API: base URL, model, key variable, retries, budget, breaker.
    pub api: LlmConfig,
    /// Web search results shown to the model beside the news (off unless a URL is given).
    pub search: SearchConfig,
}

/// The `[strategy.llm.search]` section: a Tavily-compatible search API whose results join
/// the context as data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SearchConfig {
    /// The API base (`https://api.tavily.com`); none: no search.
    pub base_url: Option<String>,
    /// The environment variable holding the API key; none: no key is sent.
    pub api_key_env: Option<String>,
    /// The query; `{base}` and `{symbol}` are replaced by the pair's (`BTC`, `BTCUSDT`).
    pub query: String,
    /// Results shown per decision (1..=10).
    pub max_results: u32,
    /// Characters of each result's text shown (0..=2000; 0: title and address only).
    pub max_chars: usize,
    /// Seconds one request may take (0.01..=120).
    pub timeout_secs: f64,
    /// Retries on 429, 5xx, timeouts and connection errors (0..=10).
    pub max_retries: u32,
}

impl Default for SearchConfig {
    fn default() -> Self {
        Self {
            base_url: None,
            api_key_env: None,
            query: "{base} cryptocurrency news".to_string(),
            max_results: 3,
            max_chars: 300,
            timeout_secs: 10.0,
            max_retries: 2,
        }
    }
}

impl SearchConfig {
    /// Whether a search is made at each decision point.
    pub fn enabled(&self) -> bool {
        self.base_url.is_some()
    }

    /// The query for `symbol`.
    pub fn query_for(&self, symbol: &Symbol) -> String {
        self.query
            .replace("{base}", symbol.base().as_str())
            .replace("{symbol}", symbol.as_str())
    }

    /// Checks every field; errors name the key.
    pub fn validate(&self, section: &str) -> Result<(), ConfigError> {
        check_url(section, self.base_url.as_deref())?;
        check_env_name(section, self.api_key_env.as_deref())?;
        if self.query.trim().is_empty() || self.query.len() > 400 {
            return Err(ConfigError::new(
                key(section, "query"),
                "must be between 1 and 400 characters",
            ));
        }
        in_range(section, "max_results", self.max_results, 1, 10)?;
        in_range(section, "max_chars", self.max_chars, 0, 2000)?;
        in_range(section, "timeout_secs", self.timeout_secs, 0.01, 120.0)?;
        in_range(section, "max_retries", self.max_retries, 0, 10)?;
        Ok(())
    }
}

impl Default for LlmStrategyConfig {
    fn default() -> Self {
        Self {
            provider: AnalystKind::Openai,
            mode: AnalysisMode::ReplayOnly,
            cache_dir: PathBuf::from("var/llm-decisions"),
            decide_every: 1,
            symbols: Vec::new(),
            candles: 24,
            headlines: 8,
            fallback: Fallback::Hold,
            api: LlmConfig::default(),
            search: SearchConfig::default(),
        }
    }
}

impl LlmStrategyConfig {
    /// Checks every field; errors name the key. The provider's model is required only when
    /// the `llm` strategy runs (`active`).
    pub fn validate(&self, section: &str, active: bool) -> Result<(), ConfigError> {
        if self.provider == AnalystKind::Lexicon {
            return Err(ConfigError::new(
                key(section, "provider"),
                "must be \"openai\" or \"anthropic\": the lexicon scores headlines, it cannot trade",
            ));
        }
        let provider = if active {
            self.provider
        } else {
            AnalystKind::Lexicon
        };
        self.api
            .validate(&key(section, "api"), provider, &key(section, "provider"))?;
        self.search.validate(&key(section, "search"))?;
        in_range(section, "decide_every", self.decide_every, 1, 10_000)?;
        in_range(section, "candles", self.candles, 2, 500)?;
        in_range(section, "headlines", self.headlines, 0, 50)?;
        for symbol in &self.symbols {
            Symbol::parse(symbol).map_err(|e| {
                ConfigError::new(key(section, "symbols"), format!("`{symbol}`: {e}"))
            })?;
        }
        if self.cache_dir.as_os_str().is_empty() {
            return Err(ConfigError::new(
                key(section, "cache_dir"),
                "must name a directory",
            ));
        }
        Ok(())
    }

    /// Whether the model decides for `symbol`.
    pub fn decides_for(&self, symbol: &Symbol) -> bool {
        self.symbols.is_empty()
            || self
                .symbols
                .iter()
                .any(|s| Symbol::parse(s).is_ok_and(|s| &s == symbol))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_llm_strategy_needs_a_model_and_a_real_provider() {
        let cfg = LlmStrategyConfig::default();
        cfg.validate("strategy.llm", false).unwrap();
        let err = cfg.validate("strategy.llm", true).unwrap_err();
        assert_eq!(err.key, "strategy.llm.api.model");
        assert!(err.to_string().contains("provider = \"openai\""), "{err}");
        let lexicon = LlmStrategyConfig {
            provider: AnalystKind::Lexicon,
            ..LlmStrategyConfig::default()
        };
        let err = lexicon.validate("strategy.llm", true).unwrap_err();
        assert_eq!(err.key, "strategy.llm.provider");
    }

    #[test]
    fn ranges_and_symbols_are_checked_by_name() {
        let bad = |cfg: LlmStrategyConfig| cfg.validate("strategy.llm", false).unwrap_err().key;
        let every = LlmStrategyConfig {
            decide_every: 0,
            ..LlmStrategyConfig::default()
        };
        assert_eq!(bad(every), "strategy.llm.decide_every");
        let candles = LlmStrategyConfig {
            candles: 1,
            ..LlmStrategyConfig::default()
        };
        assert_eq!(bad(candles), "strategy.llm.candles");
        let symbols = LlmStrategyConfig {
            symbols: vec!["NOT A PAIR".into()],
            ..LlmStrategyConfig::default()
        };
        assert_eq!(bad(symbols), "strategy.llm.symbols");
    }

    #[test]
    fn an_empty_symbol_list_means_every_symbol() {
        let btc = Symbol::parse("BTCUSDT").unwrap();
        let eth = Symbol::parse("ETHUSDT").unwrap();
        assert!(LlmStrategyConfig::default().decides_for(&btc));
        let only_eth = LlmStrategyConfig {
            symbols: vec!["ETH_USDT".into()],
            ..LlmStrategyConfig::default()
        };
        assert!(only_eth.decides_for(&eth));
        assert!(!only_eth.decides_for(&btc));
    }
}
