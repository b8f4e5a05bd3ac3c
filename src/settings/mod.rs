//! Settings: one TOML file, unknown keys rejected, every value validated once at startup.
//!
//! Each core owns the type of its own section (and its validation); this module composes
//! them, adds the data and run sections, and checks what spans sections.

use std::path::{Path, PathBuf};

use keel_actors::runtime::TreeSpec;
use keel_core::config_check::{in_range, key, positive, ConfigError};
use keel_core::execution::{FillConfig, SimExchange};
use keel_core::fusion::FusionConfig;
use keel_core::order_manager::OrderManagerConfig;
use keel_core::risk::RiskConfig;
use keel_core::strategy::{StrategyConfig, StrategyKind};
use keel_core::symbol::{IndicatorConfig, RegimeConfig, SetupConfig};
use keel_model::{Decimal, Interval, Symbol, Timestamp};
use keel_news::{Analyst, Headline, SentimentConfig, SentimentCore};
use keel_supervision::{BreakerConfig, SupervisorConfig};
use serde::{Deserialize, Serialize};

mod alerts;
mod binance;
mod control;
mod hangs;
mod journal;
#[cfg(test)]
mod props;
pub use alerts::{AlertSettings, Webhook, WebhookFormat, WebhookSettings};
pub use binance::BinanceSettings;
pub use control::ControlSettings;
pub use hangs::HangSettings;
pub use journal::JournalSettings;

/// The embedded default configuration (`config/default.toml`), used when no `--config` is given.
pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error (part of the message, so not repeated as a cause).
        error: std::io::Error,
    },
    /// The TOML is malformed, has an unknown key or a value of the wrong type.
    #[error("invalid config {origin}: {message}")]
    Parse {
        /// The file, or "(embedded default)".
        origin: String,
        /// toml's message, which names the key and the line.
        message: String,
    },
    /// A value is out of range or inconsistent.
    #[error("invalid config {origin}: {problem}")]
    Invalid {
        /// The file, or "(embedded default)".
        origin: String,
        /// The key and what is wrong.
        problem: ConfigError,
    },
}

/// One candle file and the symbol it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CandleSource {
    /// The pair, e.g. `BTCUSDT` or `BTC_USDT`.
    pub symbol: String,
    /// A freqtrade JSON or CSV candle file (relative paths are relative to the working directory).
    pub path: PathBuf,
    /// The bar interval, e.g. `1h`; inferred from the timestamps when absent.
    #[serde(default)]
    pub interval: Option<String>,
}

/// The `[data]` section: what history to replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DataSettings {
    /// Candle files, one per symbol; merged into one timestamp-ordered stream. Left out when
    /// `[binance]` streams the candles from a venue.
    #[serde(default)]
    pub candles: Vec<CandleSource>,
    /// Headlines to replay through the analyst (CryptoPanic JSON or JSONL); none → no sentiment.
    #[serde(default)]
    pub headlines: Option<PathBuf>,
    /// First bar to trade (UTC date or date-time, inclusive); bars before it only warm up
    /// the indicators.
    #[serde(default)]
    pub start: Option<String>,
    /// Last bar (UTC, exclusive).
    #[serde(default)]
    pub end: Option<String>,
}

/// The `[account]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountSettings {
    /// Starting cash in the quote asset.
    pub initial_capital: Decimal,
}

impl Default for AccountSettings {
    fn default() -> Self {
        Self {
            initial_capital: Decimal::from(10_000),
        }
    }
}

/// How `keel run` replays its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FeedMode {
    /// As fast as the pipeline drains each step (same result as `keel backtest`).
    #[default]
    Lockstep,
    /// Lockstep at `run.speedup` times real time.
    Paced,
}

/// What `keel run` does when the data ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AtEnd {
    /// Print the summary and exit 0.
    #[default]
    Exit,
    /// Keep running (a paper run) until SIGINT or SIGTERM, then print the summary and exit 0.
    Wait,
}

/// The `[run]` section: how `keel run` drives the actor runtime.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunSettings {
    /// `lockstep` or `paced`.
    pub feed: FeedMode,
    /// With `paced`: event-time seconds per real second (3600 replays an hour bar per second).
    pub speedup: f64,
    /// The order manager's journal (a sled directory); a restarted run resumes from it.
    pub store: PathBuf,
    /// `exit` or `wait` when the data ends.
    pub at_end: AtEnd,
}

impl Default for RunSettings {
    fn default() -> Self {
        Self {
            feed: FeedMode::Lockstep,
            speedup: 3600.0,
            store: PathBuf::from("var/default"),
            at_end: AtEnd::Exit,
        }
    }
}

/// How often the log file rolls over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Rotation {
    /// A new file every hour.
    Hourly,
    /// A new file every UTC day.
    #[default]
    Daily,
    /// One file, never rolled.
    Never,
}

/// The `[log]` section: the log file of `keel run` (stderr always gets the log too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// Folder of the rotating log files (`keel.log.YYYY-MM-DD`); none: stderr only.
    pub dir: Option<PathBuf>,
    /// `hourly`, `daily` or `never`.
    pub rotation: Rotation,
    /// Rolled files kept; older ones are deleted.
    pub keep_files: usize,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            dir: Some(PathBuf::from("var/log")),
            rotation: Rotation::Daily,
            keep_files: 14,
        }
    }
}

/// All of keel's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// What history to replay.
    pub data: DataSettings,
    /// Starting balance.
    #[serde(default)]
    pub account: AccountSettings,
    /// Which decision code drives the orders.
    #[serde(default)]
    pub strategy: StrategyConfig,
    /// Indicator periods.
    #[serde(default)]
    pub indicators: IndicatorConfig,
    /// The technical setup scanner.
    #[serde(default)]
    pub setup: SetupConfig,
    /// The market regime.
    #[serde(default)]
    pub regime: RegimeConfig,
    /// The sentiment analyst.
    #[serde(default)]
    pub sentiment: SentimentConfig,
    /// Fusion of setups, sentiment, events and regime.
    #[serde(default)]
    pub fusion: FusionConfig,
    /// Risk limits and sizing.
    #[serde(default)]
    pub risk: RiskConfig,
    /// Order ids and position management.
    #[serde(default)]
    pub orders: OrderManagerConfig,
    /// The simulated venue's fees and slippage.
    #[serde(default)]
    pub venue: FillConfig,
    /// How `keel run` drives the actors.
    #[serde(default)]
    pub run: RunSettings,
    /// The log file of `keel run`.
    #[serde(default)]
    pub log: LogSettings,
    /// The control plane of `keel run`.
    #[serde(default)]
    pub control: ControlSettings,
    /// Webhooks told of what an operator must act on.
    #[serde(default)]
    pub alerts: AlertSettings,
    /// Restart intensity and backoff of the actor supervisors.
    #[serde(default)]
    pub supervision: SupervisorConfig,
    /// How long an actor may take over one message before it is declared hung.
    #[serde(default)]
    pub hangs: HangSettings,
    /// How much of a run the journal's store keeps, and when it is compacted.
    #[serde(default)]
    pub journal: JournalSettings,
    /// The circuit breaker around the venue (open: risk goes reduce-only).
    #[serde(default)]
    pub venue_breaker: BreakerConfig,
    /// Trade at a Binance-compatible venue instead of replaying candle files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binance: Option<BinanceSettings>,
}

/// A validated candle source.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedSource {
    /// The pair.
    pub symbol: Symbol,
    /// The file.
    pub path: PathBuf,
    /// The interval, if configured.
    pub interval: Option<Interval>,
}

impl Settings {
    /// A fresh in-process venue for this account: the configured fees and slippage, holding
    /// the starting capital (so that it refuses a buy the cash does not cover).
    pub fn sim_exchange(&self) -> SimExchange {
        SimExchange::new(self.venue.clone()).with_cash(self.account.initial_capital)
    }

    /// The order manager's config: `[orders]`, with sells in whole `risk.qty_step`s (what a
    /// round trip leaves below one is dust).
    pub fn order_manager(&self) -> OrderManagerConfig {
        OrderManagerConfig {
            lot: self.risk.qty_step,
            ..self.orders.clone()
        }
    }

    /// The sentiment stage over `headlines` answered by `analyst`; for the `llm` strategy it
    /// also passes each released headline on (the model is shown them).
    pub fn sentiment_core<A: Analyst>(
        &self,
        analyst: A,
        headlines: Vec<Headline>,
    ) -> SentimentCore<A> {
        let core = SentimentCore::new(self.sentiment.clone(), analyst, headlines);
        if self.strategy.kind == StrategyKind::Llm && self.strategy.llm.headlines > 0 {
            core.with_headline_outputs()
        } else {
            core
        }
    }

    /// Reads and validates a TOML file.
    pub fn load(path: &Path) -> Result<Self, SettingsError> {
        let text = std::fs::read_to_string(path).map_err(|error| SettingsError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        Self::from_toml(&text, &path.display().to_string())
    }

    /// The embedded default (`config/default.toml`).
    pub fn embedded_default() -> Result<Self, SettingsError> {
        Self::from_toml(DEFAULT_TOML, "(embedded default)")
    }

    /// Parses and validates TOML text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, SettingsError> {
        let settings: Settings = toml::from_str(text).map_err(|e| SettingsError::Parse {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        settings.validated(origin)
    }

    /// Reads and validates an already parsed TOML table (a cell of `keel sweep`); `origin`
    /// names it in errors.
    pub fn from_table(table: toml::Table, origin: &str) -> Result<Self, SettingsError> {
        let settings: Settings =
            toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| SettingsError::Parse {
                    origin: origin.to_string(),
                    message: e.message().to_string(),
                })?;
        settings.validated(origin)
    }

    fn validated(self, origin: &str) -> Result<Self, SettingsError> {
        self.validate().map_err(|problem| SettingsError::Invalid {
            origin: origin.to_string(),
            problem,
        })?;
        Ok(self)
    }

    /// Checks every section and what spans sections.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let symbols = self.symbols()?;
        self.range()?;
        positive(
            "account",
            "initial_capital",
            self.account.initial_capital,
            Decimal::ZERO,
        )?;
        in_range(
            "account",
            "initial_capital",
            self.account.initial_capital,
            Decimal::ZERO,
            Decimal::from(1_000_000_000_000i64),
        )?;
        self.strategy.validate("strategy")?;
        self.indicators.validate("indicators")?;
        self.setup.validate("setup")?;
        self.regime.validate("regime")?;
        self.sentiment.validate("sentiment")?;
        self.fusion.validate("fusion")?;
        self.risk.validate("risk")?;
        self.orders.validate("orders")?;
        self.venue.validate("venue")?;
        in_range("run", "speedup", self.run.speedup, 0.001, 1.0e9)?;
        if self.run.store.as_os_str().is_empty() {
            return Err(ConfigError::new("run.store", "must name a directory"));
        }
        in_range("log", "keep_files", self.log.keep_files, 1, 10_000)?;
        self.control.validate("control")?;
        self.alerts.validate("alerts")?;
        self.supervision.validate("supervision")?;
        let tree = self.tree_of(&symbols);
        let actors: Vec<String> = tree.actors().into_iter().map(String::from).collect();
        self.hangs.validate("hangs", &actors)?;
        self.journal.validate("journal")?;
        self.venue_breaker.validate("venue_breaker")?;
        let regime_symbol = Symbol::parse(&self.regime.symbol)
            .map_err(|e| ConfigError::new("regime.symbol", e.to_string()))?;
        let fused = self.strategy.kind.uses_risk_engine();
        if self.strategy.kind == StrategyKind::Llm
            && self.sentiment.analyst != keel_news::llm::AnalystKind::Lexicon
            && self.strategy.llm.cache_dir == self.sentiment.cache_dir
        {
            return Err(ConfigError::between(
                "strategy.llm.cache_dir",
                "sentiment.cache_dir",
                "the decision cache and the analysis cache must be different directories",
            ));
        }
        if fused && !symbols.contains(&regime_symbol) {
            let known: Vec<String> = symbols.iter().map(|s| s.to_string()).collect();
            return Err(ConfigError::between(
                "regime.symbol",
                "data.candles",
                format!(
                    "{regime_symbol} is not among the traded symbols ({}); the regime needs its candles",
                    known.join(", ")
                ),
            ));
        }
        Ok(())
    }

    /// The supervision tree this configuration runs (DESIGN §2).
    pub fn tree(&self) -> Result<TreeSpec, ConfigError> {
        Ok(self.tree_of(&self.symbols()?))
    }

    /// The supervision tree over `symbols` (those [`symbols`](Self::symbols) gives, or the
    /// ones a run's inputs hold).
    pub fn tree_of(&self, symbols: &[Symbol]) -> TreeSpec {
        TreeSpec::pipeline(
            self.supervision.strategy,
            symbols,
            !self.sentiment.feeds.is_empty(),
        )
    }

    /// The traded symbols: those of `[binance]` when trading at a venue, else those of the
    /// candle files.
    pub fn symbols(&self) -> Result<Vec<Symbol>, ConfigError> {
        match &self.binance {
            Some(binance) => {
                if !self.data.candles.is_empty() {
                    return Err(ConfigError::new(
                        "data.candles",
                        "a run against a venue ([binance]) streams its candles: leave data.candles out",
                    ));
                }
                binance.validate()
            }
            None => Ok(self.sources()?.into_iter().map(|s| s.symbol).collect()),
        }
    }

    /// The candle sources with parsed symbols and intervals.
    pub fn sources(&self) -> Result<Vec<ResolvedSource>, ConfigError> {
        if self.data.candles.is_empty() {
            return Err(ConfigError::new(
                "data.candles",
                "at least one candle file is required",
            ));
        }
        let mut resolved: Vec<ResolvedSource> = Vec::with_capacity(self.data.candles.len());
        for (i, source) in self.data.candles.iter().enumerate() {
            let section = format!("data.candles[{i}]");
            let symbol = Symbol::parse(&source.symbol)
                .map_err(|e| ConfigError::new(key(&section, "symbol"), e.to_string()))?;
            if resolved.iter().any(|r| r.symbol == symbol) {
                return Err(ConfigError::new(
                    key(&section, "symbol"),
                    format!("{symbol} is listed twice"),
                ));
            }
            let interval = match &source.interval {
                None => None,
                Some(text) => Some(Interval::parse(text).ok_or_else(|| {
                    ConfigError::new(
                        key(&section, "interval"),
                        format!("`{text}` is not an interval such as 1m, 15m, 1h, 4h, 1d"),
                    )
                })?),
            };
            resolved.push(ResolvedSource {
                symbol,
                path: source.path.clone(),
                interval,
            });
        }
        Ok(resolved)
    }

    /// The configured `[start, end)` range.
    pub fn range(&self) -> Result<(Option<Timestamp>, Option<Timestamp>), ConfigError> {
        let parse = |name: &str,
                     value: &Option<String>|
         -> Result<Option<Timestamp>, ConfigError> {
            value
                .as_deref()
                .map(|text| {
                    Timestamp::parse_utc(text).ok_or_else(|| {
                        ConfigError::new(
                            key("data", name),
                            format!("`{text}` is not a UTC date such as 2018-01-31 or 2018-01-31T12:00:00Z"),
                        )
                    })
                })
                .transpose()
        };
        let start = parse("start", &self.data.start)?;
        let end = parse("end", &self.data.end)?;
        if let (Some(s), Some(e)) = (start, end) {
            if s >= e {
                return Err(ConfigError::between(
                    "data.end",
                    "data.start",
                    format!("{e} must be after data.start ({s})"),
                ));
            }
        }
        Ok((start, end))
    }
}
