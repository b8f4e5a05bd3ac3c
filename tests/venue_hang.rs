//! A venue call that outlasts the execution actor's deadline: keel and the sim venue as
//! separate processes; the venue starts answering slower than execution's deadline (but
//! within the client's timeout, so nothing but the deadline notices). The call may have
//! reached the venue, so keel does not send it again: trading stops safely (exit 70), and the
//! next start reconciles the journal with the venue and trades on, with no order lost or sent
//! twice.

#[path = "common/process.rs"]
mod process;
#[path = "common/sim_venue.rs"]
mod sim_venue;

use std::path::Path;

use process::Process;
use sim_venue::{SimVenue, SimVenueConfig};

fn start_keel(config: &Path, dir: &Path, name: &str) -> Process {
    let mut command = process::keel(&["--log-level", "info", "run", "--config"]);
    command.arg(config).envs(sim_venue::keel_env());
    Process::start_in(command, name, dir)
}

#[test]
fn a_venue_call_past_the_execution_deadline_stops_trading_and_the_next_start_resolves_it() {
    let venue = SimVenue::start_with(SimVenueConfig {
        bar_ms: 60,
        weight_limit: 1_000_000,
        ..SimVenueConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("journal");
    let config = dir.path().join("keel.toml");
    // The client gives a request 2 s (`timeout_ms` in the settings); execution 300 ms.
    let hangs = "[hangs.actors]\nexecution = 300\n";
    std::fs::write(&config, venue.keel_settings(&store, hangs)).unwrap();

    let mut keel = start_keel(&config, dir.path(), "keel-hung");
    keel.wait_for_stderr("live bar handled");
    process::wait_for("an order at the venue", || {
        assert!(keel.exited().is_none(), "keel exited:\n{}", keel.stderr());
        !venue.submissions().is_empty()
    });
    // Every request now takes 1 s: within the client's timeout, past execution's deadline.
    venue.set_faults(serde_json::json!({ "latency_ms": 1000 }));
    let output = keel.finish();
    let log = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(70), "{log}");
    assert!(
        log.contains("actor hung") && log.contains("actor=execution"),
        "the hang is logged with its actor:\n{log}"
    );
    assert!(
        log.contains("execution hung and cannot be replaced safely"),
        "the reason trading stopped is logged:\n{log}"
    );

    // The venue is well again; keel starts, reconciles what was in doubt, and trades on.
    venue.set_faults(serde_json::json!({ "latency_ms": 0 }));
    let before = venue.submissions().len();
    let mut keel = start_keel(&config, dir.path(), "keel-after");
    keel.wait_for_stderr("live bar handled");
    process::wait_for("more orders at the venue", || {
        assert!(keel.exited().is_none(), "keel exited:\n{}", keel.stderr());
        venue.submissions().len() >= before + 3
    });
    // Stop the market at a closed bar of both symbols, let keel take it in, stop keel.
    for (symbol, open_ms) in venue.pause_at_a_closed_bar() {
        keel.wait_for_stderr(&format!("symbol={symbol} open_ms={open_ms}"));
    }
    keel.signal("TERM");
    let output = keel.finish();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{}", venue.assert_agrees_with_journal(&store, before + 3));
}
