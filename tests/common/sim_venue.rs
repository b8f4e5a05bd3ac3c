//! `SimVenue`: a real `keel sim-exchange` process on a loopback port, for system tests of the
//! sim venue itself, of the Binance adapter and of crash recovery.
//!
//! Include it with `#[path = "common/sim_venue.rs"] mod sim_venue;` beside
//! `#[path = "common/process.rs"] mod process;`. It writes a config into
//! a temporary directory (the repository's BTC and ETH hourly data, stepped clock by default),
//! starts the binary with `--listen 127.0.0.1:0`, parses the listening line, and offers:
//! the base and WebSocket URLs, signed and unsigned REST calls with the test key, the admin
//! endpoints (`step`, `set_faults`, `submissions`, `replay`), SIGKILL + restart on the same
//! state directory, and a graceful SIGTERM stop. The process is killed when dropped.

#![allow(dead_code)] // each test binary uses its own subset

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use keel_binance::client::{BinanceClient, ClientConfig};
use keel_binance::Signer;
use keel_core::order_manager::OrderManagerConfig;
use keel_data::load_candles;
use keel_model::{Candle, Interval, Symbol, Timestamp};
use serde_json::Value;

/// The API key the venue accepts.
pub const API_KEY: &str = "keel-test-api-key";
/// The API secret: Binance's documented test vector's secret.
pub const API_SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

/// What the venue is started with; `Default` is a stepped clock (`bar_ms = 0`) from
/// 2018-01-01 over BTCUSDT and ETHUSDT 1h, 10 000 USDT, 10 bps fee taken from what a fill
/// receives (as Binance does without BNB), 5 bps slippage.
#[derive(Debug, Clone)]
pub struct SimVenueConfig {
    /// Wall ms per bar; 0 = only `step`.
    pub bar_ms: u64,
    /// First bar replayed.
    pub start: String,
    /// The `[balances]` table's body, e.g. `USDT = 10000`.
    pub balances: String,
    /// Fee in bps.
    pub fee_bps: u32,
    /// The asset fees are charged in: `received` (Binance's: the base asset of a buy, the
    /// quote asset of a sell), `quote`, or `bnb` (at 300 quote per BNB, 25 % off).
    pub fee_asset: &'static str,
    /// Slippage in bps.
    pub slippage_bps: u32,
    /// `[weights] limit_per_minute`.
    pub weight_limit: u32,
    /// `[weights] ban_s`.
    pub ban_s: u64,
    /// `[websocket] ping_interval_ms`.
    pub ping_interval_ms: u64,
    /// `[websocket] pong_timeout_ms`.
    pub pong_timeout_ms: u64,
    /// The `[faults]` table's body.
    pub faults: String,
    /// Markets: `(symbol, data file under data/binance)`.
    pub markets: Vec<(String, String)>,
}

impl Default for SimVenueConfig {
    fn default() -> Self {
        Self {
            bar_ms: 0,
            start: "2018-01-01T00:00:00Z".into(),
            balances: "USDT = 10000".into(),
            fee_bps: 10,
            fee_asset: "received",
            slippage_bps: 5,
            weight_limit: 6000,
            ban_s: 120,
            ping_interval_ms: 20_000,
            pong_timeout_ms: 60_000,
            faults: String::new(),
            markets: vec![
                ("BTCUSDT".into(), "BTC_USDT-1h.json".into()),
                ("ETHUSDT".into(), "ETH_USDT-1h.json".into()),
            ],
        }
    }
}

impl SimVenueConfig {
    /// The TOML file for a venue keeping its state in `state`.
    pub fn to_toml(&self, state: &Path) -> String {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/binance");
        let mut text = format!(
            "state = {state:?}\napi_key_env = \"KEEL_SIM_TEST_KEY\"\napi_secret_env = \"KEEL_SIM_TEST_SECRET\"\n\
             start = \"{}\"\nbar_ms = {}\nfee_bps = {}\nfee_asset = \"{}\"\nbnb_price = 300\nslippage_bps = {}\n\n[balances]\n{}\n\n\
             [weights]\nlimit_per_minute = {}\nban_s = {}\n\n[websocket]\nping_interval_ms = {}\npong_timeout_ms = {}\n\n[faults]\n{}\n",
            self.start,
            self.bar_ms,
            self.fee_bps,
            self.fee_asset,
            self.slippage_bps,
            self.balances,
            self.weight_limit,
            self.ban_s,
            self.ping_interval_ms,
            self.pong_timeout_ms,
            self.faults,
        );
        for (symbol, file) in &self.markets {
            text += &format!(
                "\n[[markets]]\nsymbol = \"{symbol}\"\ncandles = {:?}\ninterval = \"1h\"\n",
                data.join(file)
            );
        }
        text
    }
}

/// A running sim venue.
pub struct SimVenue {
    child: Option<Child>,
    dir: tempfile::TempDir,
    config: PathBuf,
    base: String,
    http: reqwest::blocking::Client,
    signer: Signer,
    starts: u32,
}

/// The environment a keel process needs for [`SimVenue::keel_settings`].
pub fn keel_env() -> [(&'static str, &'static str); 2] {
    [
        ("KEEL_TEST_VENUE_KEY", API_KEY),
        ("KEEL_TEST_VENUE_SECRET", API_SECRET),
    ]
}

/// Wall clock in ms.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

impl SimVenue {
    /// Starts a venue with the default config.
    pub fn start() -> Self {
        Self::start_with(SimVenueConfig::default())
    }

    /// Starts a venue with `config` in a fresh temporary state directory.
    pub fn start_with(config: SimVenueConfig) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sim-exchange.toml");
        std::fs::write(&path, config.to_toml(&dir.path().join("state"))).unwrap();
        let mut venue = Self {
            child: None,
            dir,
            config: path,
            base: String::new(),
            http: reqwest::blocking::Client::new(),
            signer: Signer::new(API_SECRET),
            starts: 0,
        };
        venue.spawn();
        venue
    }

    fn spawn(&mut self) {
        self.starts += 1;
        let log =
            std::fs::File::create(self.dir.path().join(format!("stderr-{}.log", self.starts)))
                .unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_keel"));
        command
            .args(["--log-level", "info", "sim-exchange", "--config"])
            .arg(&self.config)
            .args(["--listen", "127.0.0.1:0"])
            .env("KEEL_SIM_TEST_KEY", API_KEY)
            .env("KEEL_SIM_TEST_SECRET", API_SECRET)
            .stdout(Stdio::piped())
            .stderr(log);
        keel::child::die_with_parent(&mut command);
        let mut child = command.spawn().expect("keel binary starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = match lines.next() {
            Some(Ok(line)) => line,
            _ => panic!(
                "sim-exchange printed no listening line; stderr:\n{}",
                self.stderr()
            ),
        };
        self.base = line
            .strip_prefix("sim-exchange listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        self.child = Some(child);
    }

    /// Everything the venue logged so far (all runs).
    pub fn stderr(&self) -> String {
        (1..=self.starts)
            .map(|n| {
                std::fs::read_to_string(self.dir.path().join(format!("stderr-{n}.log")))
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("\n--- restart ---\n")
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `ws://127.0.0.1:<port>`.
    pub fn ws_url(&self) -> String {
        self.base.replacen("http://", "ws://", 1)
    }

    /// The config file the venue was started with.
    pub fn config_path(&self) -> &Path {
        &self.config
    }

    /// The venue's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The state directory.
    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// A keel settings file trading BTCUSDT and ETHUSDT 1h at this venue with the fusion
    /// strategy (trading from 2018-01-01, history from 2017-12-01), the venue's user data
    /// stream subscribed, its journal in `store`,
    /// the key and secret in `KEEL_TEST_VENUE_KEY` / `KEEL_TEST_VENUE_SECRET` (see
    /// [`keel_env`]); `extra` is appended (more sections).
    pub fn keel_settings(&self, store: &Path, extra: &str) -> String {
        format!(
            "[data]\nstart = \"2018-01-01\"\n\n[binance]\nrest_url = \"{rest}\"\nws_url = \"{ws}\"\nws_api_url = \"{ws}/ws-api/v3\"\n\
             api_key_env = \"KEEL_TEST_VENUE_KEY\"\napi_secret_env = \"KEEL_TEST_VENUE_SECRET\"\n\
             symbols = [\"BTCUSDT\", \"ETHUSDT\"]\ninterval = \"1h\"\nhistory_from = \"2017-12-01\"\n\
             timeout_ms = 2000\n\n[strategy]\nkind = \"fusion\"\n\n[run]\nstore = {store:?}\nat_end = \"wait\"\n\n\
             [log]\ndir = {log:?}\nrotation = \"never\"\n\n{extra}\n",
            rest = self.base_url(),
            ws = self.ws_url(),
            store = store.display().to_string(),
            log = store.with_extension("log").display().to_string(),
        )
    }

    /// Writes `DIR/keel.toml`: [`keel_settings`](Self::keel_settings) with the journal in
    /// `DIR/journal`; returns its path.
    pub fn write_keel_config(&self, dir: &Path, extra: &str) -> PathBuf {
        let config = dir.join("keel.toml");
        std::fs::write(&config, self.keel_settings(&dir.join("journal"), extra)).unwrap();
        config
    }

    /// A signer with the venue's secret.
    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    /// The blocking HTTP client.
    pub fn http(&self) -> &reqwest::blocking::Client {
        &self.http
    }

    /// An unsigned `GET {base}{path_and_query}`.
    pub fn get(&self, path_and_query: &str) -> reqwest::blocking::Response {
        self.http
            .get(format!("{}{path_and_query}", self.base))
            .send()
            .expect("the venue answers")
    }

    /// A signed request: `params` plus `timestamp` (the wall clock), signed and sent in the
    /// query string with the API key header.
    pub fn signed(
        &self,
        method: reqwest::Method,
        path: &str,
        params: &str,
    ) -> reqwest::blocking::Response {
        let sep = if params.is_empty() { "" } else { "&" };
        let payload = format!("{params}{sep}timestamp={}", now_ms());
        self.send_signed_query(method, path, &self.signer.signed_query(&payload))
    }

    /// Sends an already-signed query string with the API key header.
    pub fn send_signed_query(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &str,
    ) -> reqwest::blocking::Response {
        self.http
            .request(method, format!("{}{path}?{query}", self.base))
            .header("X-MBX-APIKEY", API_KEY)
            .send()
            .expect("the venue answers")
    }

    fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method, format!("{}/admin/{path}", self.base));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().expect("the venue answers");
        assert!(
            resp.status().is_success(),
            "admin {path}: {}",
            resp.status()
        );
        resp.json().unwrap()
    }

    /// Closes `n` bars now (answered once they are done): `{"stepped","cursor","exhausted"}`.
    pub fn step(&self, n: usize) -> Value {
        self.admin(
            reqwest::Method::POST,
            "step",
            Some(serde_json::json!({ "bars": n })),
        )
    }

    /// Changes the faults (see docs/sim-exchange.md); returns the faults in force.
    pub fn set_faults(&self, patch: Value) -> Value {
        self.admin(reqwest::Method::POST, "faults", Some(patch))
    }

    /// Every client order id received by an order-creating request, in arrival order.
    pub fn submissions(&self) -> Vec<String> {
        serde_json::from_value(self.admin(reqwest::Method::GET, "submissions", None)).unwrap()
    }

    /// The replay clock's status: `{"paused","cursor","bars","exhausted","lastClosedOpenTime"}`.
    pub fn replay(&self) -> Value {
        self.admin(reqwest::Method::GET, "replay", None)
    }

    /// Pauses the clock at a bar every market has closed (the clock closes one symbol's
    /// candle at a time, so a pause can fall inside a bar: that bar is closed first), and
    /// returns each symbol's last closed open time in ms.
    pub fn pause_at_a_closed_bar(&self) -> Vec<(String, i64)> {
        self.set_paused(true);
        let closed = |clock: &Value| -> Vec<(String, i64)> {
            let last = clock["lastClosedOpenTime"].as_object().cloned();
            last.unwrap_or_default()
                .into_iter()
                .map(|(symbol, ms)| (symbol, ms.as_i64().unwrap_or(-1)))
                .collect()
        };
        let mut last = closed(&self.replay());
        while last.windows(2).any(|pair| pair[0].1 != pair[1].1) {
            self.step(1);
            last = closed(&self.replay());
        }
        assert!(
            !last.is_empty() && last.iter().all(|(_, ms)| *ms >= 0),
            "no bar closed yet: {last:?}"
        );
        last
    }

    /// Pauses or resumes the clock.
    pub fn set_paused(&self, paused: bool) -> Value {
        self.admin(
            reqwest::Method::POST,
            "replay",
            Some(serde_json::json!({ "paused": paused })),
        )
    }

    /// SIGKILLs the venue (no flush, no goodbye).
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// Starts the venue again on the same config and state directory (a new port).
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    /// SIGTERMs the venue and waits: its exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        child.wait().unwrap()
    }
}

impl Drop for SimVenue {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// 2018-01-01T00:00:00Z, the first replayed bar.
pub fn start() -> i64 {
    Timestamp::parse_utc("2018-01-01T00:00:00Z").unwrap().0
}

/// The venue's BTCUSDT 1h bars, as it replays them.
pub fn btc_bars() -> Vec<Candle> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/binance/BTC_USDT-1h.json");
    load_candles(
        &path,
        Symbol::parse("BTCUSDT").unwrap(),
        Some(Interval::HOUR),
    )
    .unwrap()
    .candles
}

/// The bar of `bars` opening at `open`.
pub fn bar_at(bars: &[Candle], open: i64) -> &Candle {
    bars.iter()
        .find(|c| c.open_time.0 == open)
        .expect("bar in the data")
}

/// The body of a successful answer (panicking with the status and body otherwise).
pub fn ok<T: serde::de::DeserializeOwned>(resp: reqwest::blocking::Response) -> T {
    let status = resp.status();
    let text = resp.text().unwrap();
    assert!(status.is_success(), "{status}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

impl SimVenue {
    /// Asserts what a crash or restart must never break, between the venue and keel's journal
    /// in `store` (keel stopped): keel's own check ([`keel::runtime::check_venue_agreement`]:
    /// no client order id twice, every venue order in the journal, positions and cash equal
    /// to the venue's balances), and at least `min_orders` submissions with a fill among
    /// them, so that the test means something. Returns a one-line summary.
    pub fn assert_agrees_with_journal(&self, store: &Path, min_orders: usize) -> String {
        let symbols = ["BTCUSDT", "ETHUSDT"].map(|s| Symbol::parse(s).unwrap());
        let base = self.base.clone();
        let agreement = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let cfg = ClientConfig::new(base.clone())
                    .with_credentials(API_KEY.into(), API_SECRET.into());
                let client = BinanceClient::connect(cfg, &symbols).await.unwrap();
                keel::runtime::check_venue_agreement(
                    &OrderManagerConfig::default(),
                    store,
                    &symbols,
                    &client,
                    &base,
                )
                .await
            })
            .unwrap_or_else(|e| panic!("{e:#}"));
        assert!(
            agreement.submissions >= min_orders,
            "too few orders for the test to mean anything: {agreement}"
        );
        assert!(
            agreement.filled > 0,
            "nothing filled: the test exercised no position"
        );
        agreement.to_string()
    }
}

impl SimVenue {
    /// Every trade of the account at the venue in BTCUSDT and ETHUSDT, as `(symbol, trade
    /// id)`.
    pub fn trades(&self) -> Vec<(String, u64)> {
        let mut trades = Vec::new();
        for symbol in ["BTCUSDT", "ETHUSDT"] {
            let resp = self.signed(
                reqwest::Method::GET,
                "/api/v3/myTrades",
                &format!("symbol={symbol}"),
            );
            let listed: Vec<Value> = ok(resp);
            trades.extend(
                listed
                    .iter()
                    .map(|t| (symbol.to_string(), t["id"].as_u64().expect("a trade id"))),
            );
        }
        trades
    }
}

/// The message keel logs for each fill it journalled on the user data stream's word.
pub const PUSHED_FILL: &str = "fill from the user data stream journalled";

/// `(symbol, trade id, µs from the venue's event to the journal, µs to the end of keel's
/// call)` of every fill keel's log `stderr` says it journalled on the user data stream's
/// word ([`PUSHED_FILL`]).
pub fn pushed_fills(stderr: &str) -> Vec<(String, u64, i64, i64)> {
    stderr
        .lines()
        .filter(|line| line.contains(PUSHED_FILL))
        .map(|line| {
            let field = |name: &str| -> String {
                line.split_whitespace()
                    .find_map(|w| w.strip_prefix(&format!("{name}=")))
                    .unwrap_or_else(|| panic!("no {name} in {line}"))
                    .trim_matches('"')
                    .to_string()
            };
            (
                field("symbol"),
                field("trade_id").parse().unwrap(),
                field("journal_us").parse().unwrap(),
                field("told_us").parse().unwrap(),
            )
        })
        .collect()
}
