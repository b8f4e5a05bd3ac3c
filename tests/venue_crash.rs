//! keel and the sim venue as separate processes; keel is killed with SIGKILL at random
//! moments and started again each time, while the venue lives on and keeps its orders. At the
//! end: no client order id was ever submitted twice, every order the venue received belongs to
//! an order in keel's journal, and keel's positions and cash equal the venue's balances.
//!
//! `KEEL_VENUE_CRASH_KILLS` sets the number of kills (20 by default; more by hand, e.g. 200),
//! `KEEL_VENUE_CRASH_SEED` the seed of the kill moments (printed, so a failure can be replayed).

#[path = "common/sim_venue.rs"]
mod sim_venue;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use keel_actors::binance::book::parse_venue_id;
use keel_actors::journal::{Journal, SledStore};
use keel_actors::model::{Decimal, Symbol};
use keel_actors::order_manager::{OrderManager, OrderManagerConfig};
use sim_venue::{SimVenue, SimVenueConfig};

/// Wall milliseconds per replayed bar: fast enough that orders are often in flight.
const BAR_MS: u64 = 60;

/// A small deterministic generator for the kill moments.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn start_keel(config: &Path, stderr: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_keel"))
        .args(["--log-level", "info", "run", "--config"])
        .arg(config)
        .envs(sim_venue::keel_env())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(stderr).unwrap())
        .spawn()
        .expect("keel starts")
}

/// keel must still be running (a halt at start is a failure, with its log).
fn assert_running(keel: &mut Child, stderr: &Path, round: usize) {
    if let Some(status) = keel.try_wait().unwrap() {
        if std::env::var_os("KEEL_VENUE_CRASH_KEEP").is_some() {
            let kept = stderr.parent().unwrap().with_extension("kept");
            let _ = std::fs::rename(stderr.parent().unwrap(), &kept);
            println!("kept in {}", kept.display());
        }
        panic!(
            "round {round}: keel exited ({status}) instead of trading:\n{}",
            std::fs::read_to_string(stderr).unwrap_or_default()
        );
    }
}

#[test]
fn keel_killed_at_random_moments_never_loses_or_duplicates_an_order_at_the_venue() {
    let kills: usize = std::env::var("KEEL_VENUE_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("KEEL_VENUE_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| sim_venue::now_ms() as u64 | 1);
    println!("venue crash test: {kills} kills, seed {seed} (KEEL_VENUE_CRASH_SEED)");
    let mut rng = Rng(seed);
    let venue = SimVenue::start_with(SimVenueConfig {
        bar_ms: BAR_MS,
        weight_limit: 1_000_000,
        // A little latency keeps requests in flight long enough for kills to land inside them.
        faults: "latency_ms = 15".into(),
        ..SimVenueConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    println!(
        "venue crash test: keel's logs and journal in {}",
        dir.path().display()
    );
    let store = dir.path().join("journal");
    let config = dir.path().join("keel.toml");
    std::fs::write(&config, venue.keel_settings(&store, "")).unwrap();

    for round in 0..kills {
        let stderr = dir.path().join(format!("keel-{round}.log"));
        let mut keel = start_keel(&config, &stderr);
        // Long enough to get through start-up sometimes, short enough to die inside it too.
        std::thread::sleep(Duration::from_millis(300 + rng.below(2_700)));
        if round % 4 == 3 {
            assert_running(&mut keel, &stderr, round);
        }
        keel.kill().unwrap(); // SIGKILL
        keel.wait().unwrap();
    }
    // A last run that is allowed to finish its start-up and trade, then stops gracefully.
    let stderr = dir.path().join("keel-final.log");
    let mut keel = start_keel(&config, &stderr);
    let settle = Instant::now();
    while settle.elapsed() < Duration::from_secs(6) {
        std::thread::sleep(Duration::from_millis(200));
        assert_running(&mut keel, &stderr, kills);
    }
    // The market stops, then keel takes in the last bar's fills and stops gracefully: after
    // that nothing can change on either side.
    venue.set_paused(true);
    std::thread::sleep(Duration::from_millis(1_000));
    assert_running(&mut keel, &stderr, kills);
    let status = Command::new("kill")
        .args(["-TERM", &keel.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = keel.wait().unwrap();
    let log = std::fs::read_to_string(&stderr).unwrap_or_default();
    assert!(exit.success(), "keel's final run failed ({exit}):\n{log}");

    // No client order id reached the venue twice.
    let submitted = venue.submissions();
    let mut seen = HashSet::new();
    let twice: Vec<&String> = submitted.iter().filter(|id| !seen.insert(*id)).collect();
    assert!(twice.is_empty(), "client ids submitted twice: {twice:?}");
    assert!(
        submitted.len() >= 5,
        "too few orders for the test to mean anything: {submitted:?}"
    );

    // Every order the venue received belongs to an order in keel's journal.
    let recovered = Journal::open(SledStore::open(&store).unwrap())
        .unwrap()
        .load()
        .unwrap();
    let om =
        OrderManager::from_state(OrderManagerConfig::default(), recovered.om.unwrap()).unwrap();
    let known: HashSet<String> = om.orders().map(|o| o.id().to_string()).collect();
    let unknown: Vec<&String> = submitted
        .iter()
        .filter(|id| !known.contains(parse_venue_id(id).0))
        .collect();
    assert!(
        unknown.is_empty(),
        "venue orders unknown to the journal: {unknown:?}"
    );

    // Positions equal the venue's balances, and so does the cash.
    let account: serde_json::Value = venue
        .signed(reqwest::Method::GET, "/api/v3/account", "")
        .json()
        .unwrap();
    let balances: BTreeMap<String, Decimal> = account["balances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let amount = |k: &str| b[k].as_str().unwrap().parse::<Decimal>().unwrap();
            (
                b["asset"].as_str().unwrap().to_string(),
                amount("free") + amount("locked"),
            )
        })
        .collect();
    for (symbol, asset) in [("BTCUSDT", "BTC"), ("ETHUSDT", "ETH")] {
        let symbol = Symbol::parse(symbol).unwrap();
        let position = om.position(&symbol).map_or(Decimal::ZERO, |p| p.qty);
        let balance = balances.get(asset).copied().unwrap_or_default();
        assert_eq!(
            position, balance,
            "{asset}: journal {position}, venue {balance}"
        );
    }
    // Every fill was applied exactly once: the cash agrees to the last decimal.
    let venue_cash = balances.get("USDT").copied().unwrap_or_default();
    assert_eq!(
        om.cash(),
        venue_cash,
        "cash: journal {}, venue {venue_cash}",
        om.cash()
    );
    let fills = om.orders().filter(|o| o.filled_qty > Decimal::ZERO).count();
    assert!(fills > 0, "nothing filled: the test exercised no position");
    println!(
        "venue crash test: {} submissions, {} orders filled, {} closed trades, final cash {} (venue USDT {})",
        submitted.len(),
        fills,
        om.closed_trades().len(),
        om.cash(),
        balances.get("USDT").copied().unwrap_or_default()
    );
}
