//! The `sentiment` config section.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::llm::{AnalysisMode, AnalystKind, LlmConfig};
use crate::config_check::{in_range, key, ConfigError};

/// How headlines are windowed, which words name which asset, which analyst judges them,
/// and which news feeds are polled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SentimentConfig {
    /// Headlines of the last this-many hours are analysed together (1..=720).
    pub window_hours: u32,
    /// Extra whole words that name an asset, case-insensitive: `bitcoin = "BTC"`.
    /// A traded symbol's base code (`btc`, `eth`) always counts and needs no alias.
    pub aliases: BTreeMap<String, String>,
    /// A sentiment update needs at least this many headlines in its window (1..=1000).
    pub min_headlines: u32,
    /// `lexicon` (offline, the default), `openai` or `anthropic`.
    pub analyst: AnalystKind,
    /// For a model analyst in `keel run`: `replay_only` (cache only, lexicon for misses) or
    /// `record` (ask the provider on a miss). Backtests always replay.
    pub mode: AnalysisMode,
    /// The analysis cache (a sled directory), used by model analysts.
    pub cache_dir: PathBuf,
    /// The model provider.
    pub llm: LlmConfig,
    /// RSS or Atom feeds polled by `keel run`: name = URL.
    pub feeds: BTreeMap<String, String>,
    /// Seconds between two polls of a feed (10..=86400).
    pub poll_secs: u64,
    /// Append every polled headline to this JSONL file (replayable as `data.headlines`).
    pub record_headlines: Option<PathBuf>,
}

impl Default for SentimentConfig {
    fn default() -> Self {
        let aliases = [
            ("bitcoin", "BTC"),
            ("bitcoins", "BTC"),
            ("btc", "BTC"),
            ("xbt", "BTC"),
            ("ether", "ETH"),
            ("ethereum", "ETH"),
            ("eth", "ETH"),
            ("solana", "SOL"),
            ("ripple", "XRP"),
            ("litecoin", "LTC"),
            ("cardano", "ADA"),
            ("dogecoin", "DOGE"),
            ("chainlink", "LINK"),
            ("polkadot", "DOT"),
            ("binance", "BNB"),
            ("tron", "TRX"),
            ("monero", "XMR"),
        ];
        Self {
            window_hours: 24,
            aliases: aliases
                .iter()
                .map(|(word, asset)| (word.to_string(), asset.to_string()))
                .collect(),
            min_headlines: 1,
            analyst: AnalystKind::Lexicon,
            mode: AnalysisMode::ReplayOnly,
            cache_dir: PathBuf::from("var/llm-cache"),
            llm: LlmConfig::default(),
            feeds: BTreeMap::new(),
            poll_secs: 300,
            record_headlines: None,
        }
    }
}

impl SentimentConfig {
    /// Checks every field, naming the key (`sentiment.window_hours`) and the allowed range.
    pub fn validate(&self, section: &str) -> Result<(), ConfigError> {
        in_range(section, "window_hours", self.window_hours, 1, 720)?;
        in_range(section, "min_headlines", self.min_headlines, 1, 1000)?;
        self.llm
            .validate(&key(section, "llm"), self.analyst, &key(section, "analyst"))?;
        if self.cache_dir.as_os_str().is_empty() {
            return Err(ConfigError::new(
                key(section, "cache_dir"),
                "must name a directory",
            ));
        }
        in_range(section, "poll_secs", self.poll_secs, 10, 86_400)?;
        for (name, url) in &self.feeds {
            let ok = (url.starts_with("http://") || url.starts_with("https://"))
                && !url.contains(char::is_whitespace);
            if !ok {
                return Err(ConfigError::new(
                    format!("{}.{name}", key(section, "feeds")),
                    format!("`{url}` is not an http:// or https:// URL"),
                ));
            }
        }
        let aliases = key(section, "aliases");
        for (word, asset) in &self.aliases {
            let alnum = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric());
            if !alnum(word) {
                return Err(ConfigError::new(
                    format!("{aliases}.{word}"),
                    "an alias must be one word of ASCII letters and digits",
                ));
            }
            if !alnum(asset) {
                return Err(ConfigError::new(
                    format!("{aliases}.{word}"),
                    format!("`{asset}` is not an asset code (ASCII letters and digits, e.g. BTC)"),
                ));
            }
        }
        Ok(())
    }

    /// The window length in milliseconds.
    pub fn window_ms(&self) -> i64 {
        i64::from(self.window_hours) * 3_600_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_knows_bitcoin() {
        let cfg = SentimentConfig::default();
        cfg.validate("sentiment").unwrap();
        assert_eq!(cfg.aliases["bitcoin"], "BTC");
        assert_eq!(cfg.aliases["ethereum"], "ETH");
        assert_eq!(cfg.window_ms(), 24 * 3_600_000);
    }

    #[test]
    fn errors_name_the_key() {
        let cfg = SentimentConfig {
            window_hours: 0,
            ..SentimentConfig::default()
        };
        let err = cfg.validate("sentiment").unwrap_err();
        assert_eq!(err.key, "sentiment.window_hours");

        let mut cfg = SentimentConfig::default();
        cfg.aliases.insert("big coin".into(), "BTC".into());
        assert_eq!(
            cfg.validate("sentiment").unwrap_err().key,
            "sentiment.aliases.big coin"
        );

        let mut cfg = SentimentConfig::default();
        cfg.aliases.insert("sats".into(), "B-T-C".into());
        let err = cfg.validate("sentiment").unwrap_err();
        assert!(
            err.message.contains("`B-T-C` is not an asset code"),
            "{err}"
        );
    }

    #[test]
    fn a_model_analyst_is_checked_with_its_section() {
        let mut cfg = SentimentConfig {
            analyst: AnalystKind::Openai,
            ..SentimentConfig::default()
        };
        assert_eq!(
            cfg.validate("sentiment").unwrap_err().key,
            "sentiment.llm.model"
        );
        cfg.llm.model = Some("llama3".into());
        cfg.validate("sentiment").unwrap();
        cfg.feeds
            .insert("news".into(), "ftp://example.com/rss".into());
        assert_eq!(
            cfg.validate("sentiment").unwrap_err().key,
            "sentiment.feeds.news"
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = serde_json::from_str::<SentimentConfig>(r#"{"window_hour": 3}"#).unwrap_err();
        assert!(err.to_string().contains("window_hour"), "{err}");
    }
}
