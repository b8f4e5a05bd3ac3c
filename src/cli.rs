//! The command line (clap). Exit codes: 0 success, 1 a run failed (bad data, I/O),
//! 2 a usage or configuration error.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use keel_core::strategy::StrategyKind;

/// keel: a fault-tolerant trading runtime for crypto spot markets.
#[derive(Debug, Parser)]
#[command(name = "keel", version, about, propagate_version = true)]
pub struct Cli {
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Log level filter (`error`, `warn`, `info`, `debug`, `trace`, or a tracing directive
    /// such as `keel=debug`); RUST_LOG overrides it.
    #[arg(long, global = true)]
    pub log_level: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// keel's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the actor runtime over the configured data, logging every decision and
    /// journalling orders; print a summary at the end (the embedded default without --config).
    Run(RunArgs),
    /// Run a strategy over history at full speed and write the report files.
    Backtest(BacktestArgs),
    /// Backtest every cell of a parameter grid on every core (or on NATS workers), resumably;
    /// write the results, the best config and a heatmap, optionally walking forward.
    Sweep(SweepArgs),
    /// Run cells of `keel sweep --nats` published on a NATS server, until stopped.
    Worker(WorkerArgs),
    /// Replay through the actors while a chaos monkey kills random actors, then check that
    /// nothing was lost, duplicated or changed compared with a replay without chaos.
    Chaos(ChaosArgs),
    /// Inspect and transform candle files.
    #[command(subcommand)]
    Data(DataCommand),
    /// Print an audit trail (`--audit` of run or backtest) as a table, filtered by symbol,
    /// time and kind of event.
    Audit(AuditArgs),
    /// Show what a running `keel run` holds: readiness, every actor, breakers, positions,
    /// open orders, the last supervision events (from its control plane).
    Status(StatusArgs),
    /// Steer a running `keel run` through its control plane (needs its token).
    Ctl(CtlArgs),
    /// Serve a simulated Binance spot venue (REST + WebSocket) over replayed candles, with
    /// persistent state and fault injection: how the Binance adapter is tested offline.
    SimExchange(SimExchangeArgs),
    /// Compact the journal's store while keel is stopped: copy its live records into a fresh
    /// store and swap it in (sled never gives disk space back by itself).
    Compact(CompactArgs),
}

/// Arguments of `keel compact`.
#[derive(Debug, Args)]
pub struct CompactArgs {
    /// Settings file (TOML) whose `run.store` is compacted; the embedded default when absent.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// The store directory to compact (overrides `run.store`).
    #[arg(long)]
    pub store: Option<PathBuf>,
}

/// Arguments of `keel run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Settings file (TOML); the embedded `config/default.toml` when absent.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Override `run.store`: the journal directory the run resumes from.
    #[arg(long)]
    pub store: Option<PathBuf>,
    /// Stop gracefully (at a bar close, journal flushed) after this many candles.
    #[arg(long)]
    pub stop_after: Option<u64>,
    /// Also write report.json, trades.csv, equity.csv and equity.svg into this folder.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Append the audit trail (one JSON object per decision, refusal, order change, fill and
    /// trade) to this file; by default it goes to `keel-audit.<date>.jsonl` beside the log.
    #[arg(long, value_name = "FILE")]
    pub audit: Option<PathBuf>,
    /// Print the supervision tree this configuration runs (supervisors, strategies, actors in
    /// start order, intensity and backoff) and exit without running.
    #[arg(long)]
    pub print_tree: bool,
    /// Override `control.listen`: where the control plane listens (`127.0.0.1:0` picks a
    /// free port). Given twice, the last one holds.
    #[arg(long, value_name = "ADDR", overrides_with = "control_listen")]
    pub control_listen: Option<String>,
}

/// Where a running keel's control plane is.
#[derive(Debug, Args)]
pub struct ControlTarget {
    /// The running keel's settings file: its control plane's address is read from
    /// `control.addr` in its `run.store`, its token from `control.token_env` (the embedded
    /// default when absent).
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Override `run.store` (as `keel run --store` did).
    #[arg(long)]
    pub store: Option<PathBuf>,
    /// The control plane's URL (`http://127.0.0.1:9464`) instead of the store's address file.
    #[arg(long)]
    pub url: Option<String>,
}

/// Arguments of `keel status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Which keel.
    #[command(flatten)]
    pub target: ControlTarget,
    /// Print the status as JSON (for scripts) instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `keel ctl`.
#[derive(Debug, Args)]
pub struct CtlArgs {
    /// Which keel.
    #[command(flatten)]
    pub target: ControlTarget,
    /// What to do.
    #[command(subcommand)]
    pub action: CtlAction,
}

/// What `keel ctl` asks of a running keel.
#[derive(Debug, Clone, Subcommand)]
pub enum CtlAction {
    /// No new entries; exits (stops, targets, closing signals) are still managed.
    Halt,
    /// Lift a halt.
    Resume,
    /// Halt, and close every position at market now.
    Flatten,
    /// Clear a tripped drawdown kill switch.
    ResetKillSwitch,
    /// Kill an actor for real (by its name in `keel status`); its supervisor starts a fresh
    /// instance and nothing it had not handled is lost.
    Kill {
        /// The actor, e.g. `risk` or `symbol:BTCUSDT`.
        actor: String,
    },
}

/// Arguments of `keel sim-exchange`.
#[derive(Debug, Args)]
pub struct SimExchangeArgs {
    /// The sim venue's TOML config (see docs/sim-exchange.md).
    #[arg(long, short)]
    pub config: PathBuf,
    /// Address to listen on, e.g. 127.0.0.1:0 for any free port (overrides `listen`).
    #[arg(long)]
    pub listen: Option<String>,
    /// State directory (overrides `state`).
    #[arg(long)]
    pub state: Option<PathBuf>,
}

/// Arguments of `keel chaos`.
#[derive(Debug, Args)]
pub struct ChaosArgs {
    /// Settings file (TOML); the embedded `config/default.toml` when absent.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Messages handled by the actors between two strikes (by count, not by time: the same
    /// seed strikes the same messages on any machine).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
    pub kill_every: u64,
    /// Share of kills that stop the actor rather than make it panic.
    #[arg(long, default_value_t = 0.3)]
    pub stop_ratio: f64,
    /// Seed of the choice of victims.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Only kill these actors (comma-separated names, e.g. `risk,order_manager`).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Make the first strike a poisoned message (it fails on every delivery): after a few
    /// deliveries it is quarantined (a dead letter in the report and the journal) and, per
    /// the victim's policy, skipped (a symbol's candle) or escalated (trading stops safely
    /// and keel exits with code 70).
    #[arg(long)]
    pub poison: bool,
    /// Break supervision on purpose in the chaos run, to see an invariant fail
    /// (`escape-panic`, `skip-redelivery`, `drop-journal`, `apply-fill-twice`): for the tests of the
    /// invariants.
    #[arg(long, hide = true)]
    pub sabotage: Option<keel_actors::runtime::Sabotage>,
    /// Make the kills count against the restart intensity, with this many restarts tolerated
    /// per supervisor within its window before escalating. By default the deliberate kills
    /// count against nothing (real failures count against
    /// `supervision.intensity.max_restarts`).
    #[arg(long)]
    pub max_restarts: Option<u32>,
    /// Arm failpoints inside the handlers (`all`, or names separated by commas; the report
    /// lists them): each makes its handler panic halfway through its work, never on the
    /// redelivery of a message it struck. Needs a build with `--features failpoints`.
    #[arg(long, value_name = "all|NAME,...", value_parser = keel_actors::runtime::parse_failpoints)]
    pub failpoints: Option<keel_actors::runtime::FailpointSelection>,
    /// The chance that an armed failpoint fires each time a message's first delivery passes
    /// it (drawn with `--seed`).
    #[arg(long, default_value = "0.02", value_parser = keel_actors::runtime::parse_probability)]
    pub failpoint_probability: f64,
    /// Soak: chaos runs loop after loop until this much time is over (`10m`, `90s`), each on
    /// a fresh journal with the next seed and compared with the same calm run; the first
    /// loop that breaks an invariant stops the soak with its report. Prints the totals.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub duration: Option<std::time::Duration>,
    /// Make this share of the strikes hangs (0.1 when given bare): the struck message's
    /// handling stalls until its actor's deadline declares the instance hung, and a successor
    /// takes the message over.
    #[arg(long, value_name = "SHARE", num_args = 0..=1, default_missing_value = "0.1",
          value_parser = keel_actors::runtime::parse_probability)]
    pub hangs: Option<f64>,
    /// With `--hangs`: every actor's deadline per message in the chaos run, instead of
    /// `[hangs]` (each injected hang lasts this long).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub hang_deadline_ms: u64,
    /// Against a remote venue (settings with `[binance]`, such as config/paper-sim.toml):
    /// close this many bars at the sim venue keel chaos starts for each run (one symbol's
    /// bar each), the next only once keel has handled the last.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub bars: Option<u64>,
    /// Against a remote venue: the sim venue's config (markets, data, balances, fill model);
    /// its state directory, clock, listening address and faults are keel chaos's own.
    #[arg(long, default_value = "config/sim-exchange.toml")]
    pub venue_config: PathBuf,
    /// Against a remote venue: bars between two venue faults in the chaos run (0: none).
    #[arg(long, default_value_t = 10)]
    pub fault_every: u64,
    /// Against a remote venue: the kinds of fault drawn from (with --seed); by default the
    /// venue's (`disk-full`, keel's own disk, needs `--features failpoints` and its name).
    #[arg(long, value_enum, value_delimiter = ',',
          default_values_t = crate::commands::chaos::VenueFault::defaults())]
    pub venue_faults: Vec<crate::commands::chaos::VenueFault>,
    /// With a model analyst in `record` mode (such as config/llm-local.toml), keel chaos
    /// plays the model on loopback: requests between two model faults in the chaos run (0:
    /// none; 1 is refused, as a retry would be struck again).
    #[arg(long, default_value_t = 4)]
    pub model_fault_every: u64,
    /// With a model analyst: the kinds of model fault drawn from (with --seed).
    #[arg(long, value_enum, value_delimiter = ',',
          default_values_t = crate::commands::chaos::ModelFault::ALL.to_vec())]
    pub model_faults: Vec<crate::commands::chaos::ModelFault>,
}

/// Arguments of `keel backtest`.
#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// Settings file (TOML); the embedded `config/default.toml` when absent.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Folder for report.json, trades.csv, equity.csv and equity.svg.
    #[arg(long, default_value = "out/backtest")]
    pub out: PathBuf,
    /// Override `strategy.kind` from the settings.
    #[arg(long, value_enum)]
    pub strategy: Option<StrategyArg>,
    /// Write the audit trail (one JSON object per decision, refusal, order change, fill and
    /// trade) into this file, replacing it; none without this option.
    #[arg(long, value_name = "FILE")]
    pub audit: Option<PathBuf>,
}

/// Arguments of `keel sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The base config (TOML) every cell starts from; the embedded default when absent.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// The grid (TOML): the config's sections with a list of values, or a range
    /// `{ from, to, step }`, where the config has one value (docs/sweep.md).
    #[arg(long)]
    pub grid: PathBuf,
    /// The folder of the results; rerunning the same sweep into it skips finished cells.
    #[arg(long, default_value = "out/sweep")]
    pub out: PathBuf,
    /// Run this many cells drawn at random from the grid instead of all of them.
    #[arg(long)]
    pub samples: Option<u64>,
    /// The seed of `--samples`.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The metric that picks the best cell (a column of results.csv); `-NAME` picks the
    /// lowest.
    #[arg(long, default_value = "sharpe", allow_hyphen_values = true)]
    pub rank_by: String,
    /// The two keys of heatmap.svg, `K1,K2` (across, down); by default the first two keys
    /// with more than one value.
    #[arg(long, value_name = "K1,K2")]
    pub heatmap: Option<String>,
    /// Threads running cells; all cores by default.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Walk forward: pick the best cell on each training window and run it on the test
    /// window after it, rolling by the test length, e.g. `train=180d,test=30d`.
    #[arg(long, value_name = "train=DUR,test=DUR")]
    pub walk_forward: Option<String>,
    /// Run the cells on `keel worker`s through this NATS server (JetStream), e.g.
    /// `nats://10.0.0.5:4222`, instead of on this machine's cores.
    #[arg(long, value_name = "URL")]
    pub nats: Option<String>,
}

/// Arguments of `keel worker`.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// The NATS server (JetStream) the sweeps publish their cells on.
    #[arg(long, value_name = "URL")]
    pub nats: String,
    /// Where fetched input files are cached, by content hash.
    #[arg(long, default_value = "var/worker-cache")]
    pub cache: PathBuf,
    /// Cells run at once; all cores by default.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Seconds a cell may go without a sign of life before another worker gets it (how soon
    /// a dead worker's cells run again).
    #[arg(long, default_value_t = 30)]
    pub ack_wait_secs: u64,
    /// Stop when no cell is queued (instead of waiting for the next sweep).
    #[arg(long)]
    pub until_idle: bool,
}

/// Arguments of `keel audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Audit files (JSON lines), or directories whose `*.jsonl` files are read in name order
    /// (the rotated `keel-audit.<date>.jsonl` files of a log directory).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Only events about this pair (e.g. BTCUSDT); repeat or separate with commas for several.
    #[arg(long, value_delimiter = ',')]
    pub symbol: Vec<String>,
    /// Only events at or after this UTC time: a date (2018-03-01), a date and time
    /// (2018-03-01T12:00:00Z) or milliseconds since the epoch.
    #[arg(long)]
    pub since: Option<String>,
    /// Only events before this UTC time (same forms as --since).
    #[arg(long)]
    pub until: Option<String>,
    /// Only these kinds of event; repeat or separate with commas for several.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub kind: Vec<AuditKind>,
}

/// A kind of audit event on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditKind {
    /// Decisions with their inputs.
    Decision,
    /// Refusals with their rule.
    Refused,
    /// Approved intents.
    Approved,
    /// Order state changes and stop moves.
    Order,
    /// Fills.
    Fill,
    /// Closed round trips.
    Trade,
    /// Changes of the market regime.
    Regime,
    /// Risk's account-wide alerts (kill switch, daily loss limit).
    Alert,
}

/// A strategy name on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StrategyArg {
    /// The full pipeline.
    Fusion,
    /// Fast/slow SMA crossover.
    #[value(name = "sma_cross", alias = "sma-cross")]
    SmaCross,
    /// Buy at the first bar and hold.
    #[value(name = "buy_and_hold", alias = "buy-and-hold")]
    BuyAndHold,
    /// A model decides (`[strategy.llm]`; a backtest replays its decision cache).
    Llm,
}

impl From<StrategyArg> for StrategyKind {
    fn from(arg: StrategyArg) -> Self {
        match arg {
            StrategyArg::Fusion => StrategyKind::Fusion,
            StrategyArg::SmaCross => StrategyKind::SmaCross,
            StrategyArg::BuyAndHold => StrategyKind::BuyAndHold,
            StrategyArg::Llm => StrategyKind::Llm,
        }
    }
}

/// `keel data ...`
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Print a candle file's range, bar count, gaps, dropped and rejected rows.
    Inspect(CandleFileArgs),
    /// Print the candles with every indicator column as CSV on stdout.
    Indicators(CandleFileArgs),
    /// Download closed klines from a Binance-compatible REST API into a freqtrade JSON
    /// candle file, resuming after the file's last bar if it exists.
    Fetch(FetchArgs),
}

/// Arguments of `keel data fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// REST base URL, e.g. https://data-api.binance.vision or http://127.0.0.1:9100.
    #[arg(long)]
    pub rest_url: String,
    /// The pair, e.g. BTCUSDT.
    #[arg(long)]
    pub symbol: String,
    /// The bar interval, e.g. 1h.
    #[arg(long)]
    pub interval: String,
    /// First bar's open time (UTC), e.g. 2018-01-01 or 2018-01-01T00:00:00Z.
    #[arg(long)]
    pub start: String,
    /// Only bars opening before this instant (UTC); default: up to the last closed bar.
    #[arg(long)]
    pub end: Option<String>,
    /// The output file (freqtrade JSON `[[ms, o, h, l, c, v], ...]`).
    #[arg(long)]
    pub out: PathBuf,
    /// Stop after this many pages of up to 1000 bars (the file stays resumable).
    #[arg(long)]
    pub max_pages: Option<u64>,
}

/// A candle file and how to read it.
#[derive(Debug, Args)]
pub struct CandleFileArgs {
    /// A freqtrade JSON or CSV candle file.
    pub file: PathBuf,
    /// The pair; guessed from a file name such as `BTC_USDT-1h.json` when absent.
    #[arg(long)]
    pub symbol: Option<String>,
    /// The bar interval (e.g. `1h`); inferred from the timestamps when absent.
    #[arg(long)]
    pub interval: Option<String>,
}
