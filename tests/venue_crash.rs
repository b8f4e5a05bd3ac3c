//! keel and the sim venue as separate processes; keel is killed with SIGKILL at random
//! moments and started again each time, while the venue lives on and keeps its orders. At the
//! end: no client order id was ever submitted twice, every order the venue received belongs to
//! an order in keel's journal, and keel's positions (with their dust) and cash equal the
//! venue's balances to the last decimal; no exit was refused. Once for each way the venue
//! charges fees: in the asset a fill receives (Binance's default), in BNB, in the quote asset.
//!
//! `KEEL_VENUE_CRASH_KILLS` sets the number of kills (20 by default; more by hand, e.g. 200),
//! `KEEL_VENUE_CRASH_SEED` the seed of the kill moments (printed, so a failure can be replayed).

#[path = "common/process.rs"]
mod process;
#[path = "common/sim_venue.rs"]
mod sim_venue;

use std::path::Path;
use std::time::Duration;

use process::Process;
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

fn start_keel(config: &Path, dir: &Path, name: &str) -> Process {
    let mut command = process::keel(&["--log-level", "info", "run", "--config"]);
    command.arg(config).envs(sim_venue::keel_env());
    Process::start_in(command, name, dir)
}

/// keel must still be running (a halt at start is a failure, with its log).
fn assert_running(keel: &mut Process, dir: &Path, round: usize) {
    if let Some(status) = keel.exited() {
        if std::env::var_os("KEEL_VENUE_CRASH_KEEP").is_some() {
            let kept = dir.with_extension("kept");
            let _ = std::fs::rename(dir, &kept);
            println!("kept in {}", kept.display());
        }
        panic!(
            "round {round}: keel exited ({status}) instead of trading:\n{}",
            keel.stderr()
        );
    }
}

/// Binance's rule without BNB: a buy's fee comes out of the base asset it receives, so the
/// exits are cut to what is held and round trips leave dust.
#[test]
fn keel_killed_at_random_moments_never_loses_or_duplicates_an_order_with_fees_taken_from_what_fills_receive(
) {
    crash_test("received", "USDT = 10000");
}

/// Fees paid in BNB (at 300 USDT, 25 % off): neither the cash nor the positions pay them.
#[test]
fn keel_killed_at_random_moments_never_loses_or_duplicates_an_order_with_fees_paid_in_bnb() {
    crash_test("bnb", "USDT = 10000\nBNB = 5");
}

/// Every fee in the quote asset, as keel's in-process venue charges.
#[test]
fn keel_killed_at_random_moments_never_loses_or_duplicates_an_order_with_fees_in_quote() {
    crash_test("quote", "USDT = 10000");
}

/// Kills keel at random moments against a venue charging fees in `fee_asset` from
/// `balances`, then checks the journal against the venue to the last decimal.
fn crash_test(fee_asset: &'static str, balances: &str) {
    let kills: usize = std::env::var("KEEL_VENUE_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("KEEL_VENUE_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| sim_venue::now_ms() as u64 | 1);
    println!(
        "venue crash test ({fee_asset} fees): {kills} kills, seed {seed} (KEEL_VENUE_CRASH_SEED)"
    );
    let mut rng = Rng(seed);
    let venue = SimVenue::start_with(SimVenueConfig {
        bar_ms: BAR_MS,
        weight_limit: 1_000_000,
        // A little latency keeps requests in flight long enough for kills to land inside them.
        faults: "latency_ms = 15".into(),
        fee_asset,
        balances: balances.into(),
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
        let mut keel = start_keel(&config, dir.path(), &format!("keel-{round}"));
        // Long enough to get through start-up sometimes, short enough to die inside it too:
        // the moment is random on purpose, and any moment must be recoverable.
        std::thread::sleep(Duration::from_millis(300 + rng.below(2_700)));
        if round % 4 == 3 {
            assert_running(&mut keel, dir.path(), round);
        }
        keel.kill9(); // SIGKILL
    }
    // A last run that is allowed to finish its start-up and trade until the venue has had
    // enough orders to mean something (however long that takes on this machine), then stops
    // gracefully.
    let mut keel = start_keel(&config, dir.path(), "keel-final");
    keel.wait_for_stderr("live bar handled");
    process::wait_for("five orders at the venue", || {
        assert_running(&mut keel, dir.path(), kills);
        venue.submissions().len() >= 5
    });
    // The market stops; keel takes in the last closed bar of each symbol (and its fills);
    // then it stops gracefully: after that nothing can change on either side.
    for (symbol, open_ms) in venue.pause_at_a_closed_bar() {
        keel.wait_for_stderr(&format!("symbol={symbol} open_ms={open_ms}"));
    }
    keel.signal("TERM");
    let output = keel.finish();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "keel's final run failed ({}):\n{log}",
        output.status
    );

    let agreed = venue.assert_agrees_with_journal(&store, 5);
    println!("venue crash test ({fee_asset} fees): {agreed}");
    let logs = dir.path().join("journal.log");
    assert!(
        !process::log_contains(&logs, "its tranche is unprotected"),
        "the venue refused an exit (for want of balance?): see the logs in {}",
        logs.display()
    );
    if fee_asset == "received" {
        assert!(
            process::log_contains(&logs, "its exits are cut to what is held"),
            "no entry had its fee withheld from the base asset: the test exercised nothing"
        );
    }
}
