//! `keel sim-exchange --config <toml>`: what the sim venue serves and how its clock runs.
//! Unknown keys are refused; every check names the offending key.

use crate::fees::{FeeAsset, FeePolicy};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use keel_binance::SymbolFilters;
use keel_core::execution::FillConfig;
use keel_data::load_candles;
use keel_model::{Candle, Interval, Symbol, Timestamp};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::faults::FaultPatch;

/// A configuration that cannot be used, naming the key.
#[derive(Debug, thiserror::Error)]
#[error("sim-exchange config {path}: {msg}")]
pub struct ConfigError {
    /// The file.
    pub path: String,
    /// What is wrong, naming the key.
    pub msg: String,
}

/// The TOML file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimConfig {
    /// Address to listen on (`--listen` overrides it).
    #[serde(default = "default_listen")]
    pub listen: String,
    /// The sled state directory (`--state` overrides it).
    pub state: Option<PathBuf>,
    /// Name of the environment variable holding the accepted API key.
    pub api_key_env: String,
    /// Name of the environment variable holding the API secret.
    pub api_secret_env: String,
    /// The symbols served.
    pub markets: Vec<MarketConfig>,
    /// First bar to replay (`2018-01-01T00:00:00Z`, a date, or ms since the epoch); earlier
    /// bars are history. Absent: the first bar of the data.
    pub start: Option<toml::Value>,
    /// Wall milliseconds per replayed bar; 0 = only when stepped (`POST /admin/step`).
    #[serde(default)]
    pub bar_ms: u64,
    /// Start with the clock paused.
    #[serde(default)]
    pub paused: bool,
    /// Fee in bps of the notional.
    #[serde(default = "default_fee")]
    pub fee_bps: Decimal,
    /// The asset the fee is charged in: `received` (Binance's default: the base asset of a
    /// buy, the quote asset of a sell), `quote`, or `bnb`.
    #[serde(default)]
    pub fee_asset: FeeAsset,
    /// Quote asset per BNB, for `fee_asset = "bnb"`.
    pub bnb_price: Option<Decimal>,
    /// Share of the fee waived when BNB pays it, in percent (Binance: 25).
    #[serde(default = "default_bnb_discount")]
    pub bnb_discount_pct: Decimal,
    /// Slippage of market and stop fills, in bps (the shared fill model).
    #[serde(default = "default_slippage")]
    pub slippage_bps: Decimal,
    /// Initial balances, e.g. `{ USDT = "10000" }`.
    #[serde(default)]
    pub balances: BTreeMap<String, Decimal>,
    /// Request weight limits.
    #[serde(default)]
    pub weights: WeightsConfig,
    /// WebSocket keep-alive.
    #[serde(default)]
    pub websocket: WsConfig,
    /// Faults in force at start (same shape as `POST /admin/faults`).
    #[serde(default)]
    pub faults: FaultPatch,
}

/// One `[[markets]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketConfig {
    /// E.g. `BTCUSDT`.
    pub symbol: String,
    /// Candle file (JSON or CSV, as `keel data inspect` reads).
    pub candles: PathBuf,
    /// The file's interval, e.g. `1h`.
    pub interval: String,
    /// `PRICE_FILTER` tick.
    #[serde(default = "default_tick")]
    pub tick_size: Decimal,
    /// `LOT_SIZE` step.
    #[serde(default = "default_step")]
    pub step_size: Decimal,
    /// `LOT_SIZE` minimum.
    #[serde(default = "default_step")]
    pub min_qty: Decimal,
    /// `LOT_SIZE` maximum.
    #[serde(default = "default_max_qty")]
    pub max_qty: Decimal,
    /// `NOTIONAL` minimum.
    #[serde(default = "default_min_notional")]
    pub min_notional: Decimal,
}

/// `[weights]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WeightsConfig {
    /// Request weight allowed per wall-clock minute.
    pub limit_per_minute: u32,
    /// How long a client that ignores a 429 is banned (418).
    pub ban_s: u64,
}

impl Default for WeightsConfig {
    fn default() -> Self {
        Self {
            limit_per_minute: 6000,
            ban_s: 120,
        }
    }
}

/// `[websocket]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WsConfig {
    /// How often the server pings each connection.
    pub ping_interval_ms: u64,
    /// A connection that has not ponged for this long is closed.
    pub pong_timeout_ms: u64,
}

impl Default for WsConfig {
    fn default() -> Self {
        Self {
            ping_interval_ms: 20_000,
            pong_timeout_ms: 60_000,
        }
    }
}

fn default_listen() -> String {
    "127.0.0.1:0".into()
}
fn default_fee() -> Decimal {
    FillConfig::default().fee_bps
}
fn default_bnb_discount() -> Decimal {
    FeePolicy::default().bnb_discount_pct
}
fn default_slippage() -> Decimal {
    FillConfig::default().slippage_bps
}
fn default_tick() -> Decimal {
    Decimal::new(1, 2)
}
fn default_step() -> Decimal {
    Decimal::new(1, 5)
}
fn default_max_qty() -> Decimal {
    Decimal::from(9000)
}
fn default_min_notional() -> Decimal {
    Decimal::from(5)
}

/// A market ready to serve: its rules and all its bars.
#[derive(Debug, Clone)]
pub struct Market {
    /// The symbol.
    pub symbol: Symbol,
    /// Base asset, e.g. `BTC`.
    pub base: String,
    /// Quote asset, e.g. `USDT`.
    pub quote: String,
    /// The bar interval.
    pub interval: Interval,
    /// The interval as Binance writes it (`1h`).
    pub interval_name: String,
    /// Trading rules.
    pub filters: SymbolFilters,
    /// Every bar of the data, oldest first.
    pub candles: Vec<Candle>,
}

/// A secret whose `Debug` prints nothing of it.
#[derive(Clone)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Listening address.
    pub listen: String,
    /// State directory.
    pub state: PathBuf,
    /// The accepted API key.
    pub api_key: String,
    /// The API secret (never logged: its `Debug` is redacted).
    pub api_secret: Secret,
    /// The markets, in file order.
    pub markets: Vec<Market>,
    /// First bar replayed.
    pub start: Option<Timestamp>,
    /// Wall ms per bar (0: stepped only).
    pub bar_ms: u64,
    /// Whether the clock starts paused.
    pub paused: bool,
    /// Fees and slippage.
    pub fill: FillConfig,
    /// The asset fees are charged in.
    pub fees: FeePolicy,
    /// Initial balances.
    pub balances: BTreeMap<String, Decimal>,
    /// Weight limits.
    pub weights: WeightsConfig,
    /// WebSocket keep-alive.
    pub websocket: WsConfig,
    /// Faults at start.
    pub faults: FaultPatch,
}

impl Settings {
    /// Reads and checks `path`; `listen` and `state` override the file's keys. Paths of
    /// candle files are relative to the working directory.
    pub fn load(
        path: &Path,
        listen: Option<&str>,
        state: Option<&Path>,
    ) -> Result<Self, ConfigError> {
        let err = |msg: String| ConfigError {
            path: path.display().to_string(),
            msg,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
        let raw: SimConfig = toml::from_str(&text).map_err(|e| err(e.to_string()))?;
        // systemd's credential file `$CREDENTIALS_DIRECTORY/NAME` first, then the variable.
        let env = |key: &str, name: &str| match keel_supervision::secrets::read(name) {
            Ok(Some(value)) => Ok(value),
            Ok(None) => Err(err(format!(
                "{key}: the environment variable `{name}` is not set (or not unicode)"
            ))),
            Err(e) => Err(err(format!("{key}: {e}"))),
        };
        let api_key = env("api_key_env", &raw.api_key_env)?;
        let api_secret = Secret(env("api_secret_env", &raw.api_secret_env)?);
        let fill = FillConfig {
            fee_bps: raw.fee_bps,
            slippage_bps: raw.slippage_bps,
        };
        fill.validate("sim-exchange")
            .map_err(|e| err(e.to_string()))?;
        let fees = FeePolicy {
            asset: raw.fee_asset,
            bnb_price: raw.bnb_price.unwrap_or_default(),
            bnb_discount_pct: raw.bnb_discount_pct,
        };
        if fees.asset == FeeAsset::Bnb && fees.bnb_price <= Decimal::ZERO {
            return Err(err(
                "bnb_price: fee_asset = \"bnb\" needs the price of BNB in the quote asset (> 0)"
                    .into(),
            ));
        }
        if !(Decimal::ZERO..=Decimal::ONE_HUNDRED).contains(&fees.bnb_discount_pct) {
            return Err(err(format!(
                "bnb_discount_pct: {} is not a percentage in 0..=100",
                fees.bnb_discount_pct
            )));
        }
        if raw.markets.is_empty() {
            return Err(err(
                "markets: at least one [[markets]] entry is needed".into()
            ));
        }
        let mut markets: Vec<Market> = Vec::new();
        for (i, m) in raw.markets.iter().enumerate() {
            let key = |k: &str| format!("markets[{i}].{k}");
            let symbol =
                Symbol::parse(&m.symbol).map_err(|e| err(format!("{}: {e}", key("symbol"))))?;
            if markets.iter().any(|x| x.symbol == symbol) {
                return Err(err(format!("{}: {symbol} is listed twice", key("symbol"))));
            }
            let interval = Interval::parse(&m.interval).ok_or_else(|| {
                err(format!(
                    "{}: `{}` is not an interval such as 1m, 1h, 1d",
                    key("interval"),
                    m.interval
                ))
            })?;
            for (k, v) in [
                ("tick_size", m.tick_size),
                ("step_size", m.step_size),
                ("min_qty", m.min_qty),
                ("max_qty", m.max_qty),
            ] {
                if v <= Decimal::ZERO {
                    return Err(err(format!("{}: must be positive, not {v}", key(k))));
                }
            }
            if m.min_notional < Decimal::ZERO || m.min_qty > m.max_qty {
                return Err(err(format!(
                    "{}: min_notional must be >= 0 and min_qty <= max_qty",
                    key("min_notional")
                )));
            }
            let series = load_candles(&m.candles, symbol.clone(), Some(interval))
                .map_err(|e| err(format!("{}: {e}", key("candles"))))?;
            if series.candles.is_empty() {
                return Err(err(format!("{}: the file has no bars", key("candles"))));
            }
            markets.push(Market {
                base: symbol.base().as_str().to_string(),
                quote: symbol.quote().as_str().to_string(),
                symbol,
                interval,
                interval_name: m.interval.clone(),
                filters: SymbolFilters {
                    tick_size: m.tick_size,
                    step_size: m.step_size,
                    min_qty: m.min_qty,
                    max_qty: m.max_qty,
                    min_notional: m.min_notional,
                },
                candles: series.candles,
            });
        }
        let start = match &raw.start {
            None => None,
            Some(toml::Value::Integer(ms)) => Some(Timestamp(*ms)),
            Some(toml::Value::String(s)) => Some(Timestamp::parse_utc(s).ok_or_else(|| {
                err(format!(
                    "start: `{s}` is not a UTC time such as 2018-01-01T00:00:00Z"
                ))
            })?),
            Some(other) => {
                return Err(err(format!(
                    "start: expected a UTC time string or ms since the epoch, not {other}"
                )))
            }
        };
        for (asset, amount) in &raw.balances {
            if *amount < Decimal::ZERO {
                return Err(err(format!("balances.{asset}: must be >= 0, not {amount}")));
            }
        }
        if raw.weights.limit_per_minute == 0 {
            return Err(err("weights.limit_per_minute: must be positive".into()));
        }
        if raw.websocket.ping_interval_ms == 0 || raw.websocket.pong_timeout_ms == 0 {
            return Err(err(
                "websocket.ping_interval_ms and pong_timeout_ms: must be positive".into(),
            ));
        }
        let state = state
            .map(Path::to_path_buf)
            .or(raw.state)
            .ok_or_else(|| err("state: no state directory (set `state` or pass --state)".into()))?;
        Ok(Self {
            listen: listen.map(str::to_string).unwrap_or(raw.listen),
            state,
            api_key,
            api_secret,
            markets,
            start,
            bar_ms: raw.bar_ms,
            paused: raw.paused,
            fill,
            fees,
            balances: raw.balances,
            weights: raw.weights,
            websocket: raw.websocket,
            faults: raw.faults,
        })
    }
}
