//! The journal on real sled files in temporary directories: fresh stores, reopening, foreign,
//! corrupt and newer stores, injected write failures, and recovery after a crash.

use std::fs;
use std::path::Path;

use rust_decimal_macros::dec;

use super::*;
use crate::model::{Decimal, EquityPoint, Timestamp};
use keel_core::execution::{FillConfig, SimExchange};
use keel_core::order_manager::{reconcile, OrderManager, OrderManagerConfig};
use keel_core::risk::RiskState;
use keel_core::testing::{btc, candles, Driver, HOUR_MS as H};

fn open(path: &Path) -> Journal<SledStore> {
    Journal::open(SledStore::open(path).unwrap()).unwrap()
}

fn point(hour: i64, equity: Decimal) -> EquityPoint {
    EquityPoint {
        ts: Timestamp(hour * H),
        equity,
        exposure: dec!(0),
    }
}

/// A driver some way into a run, with trades closed and a position open.
fn busy_driver() -> Driver {
    let mut driver = Driver::new();
    for candle in &candles(80) {
        driver.step(candle);
    }
    assert!(!driver.om.closed_trades().is_empty());
    driver
}

/// The venue's answer to the bar of BTCUSDT closing at `hour`: nothing.
fn bar_answered(hour: i64) -> AnsweredCall {
    AnsweredCall {
        call: VenueCall::Bar {
            symbol: btc(),
            close_time: Timestamp(hour * H),
        },
        reports: Vec::new(),
    }
}

#[test]
fn a_fresh_store_gets_its_meta_record_and_loads_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal");
    let store = SledStore::open(&path).unwrap();
    let meta = store.get(META_KEY).unwrap().unwrap();
    assert_eq!(meta, br#"{"magic":"keel-journal","version":2}"#);
    let journal = Journal::open(store).unwrap();
    assert_eq!(journal.load().unwrap(), Recovered::default());
}

#[test]
fn what_was_saved_is_loaded_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let driver = busy_driver();
    let mut risk = RiskState {
        peak_equity: dec!(10500),
        ..RiskState::default()
    };
    risk.cooldown_until.insert(btc(), Timestamp(99 * H));
    let run = RunInfo {
        run_id: "pt".into(),
        config_fingerprint: "abc123".into(),
    };
    {
        let mut journal = open(dir.path());
        journal.set_run(&run).unwrap();
        journal.save_order_state(&driver.om).unwrap();
        journal.save_venue(&driver.ex, &bar_answered(7)).unwrap();
        // Marked out of order: the load returns them in time order.
        for hour in [3, 1, 2] {
            journal
                .mark(&point(hour, dec!(10000) + Decimal::from(hour)), &risk, &[])
                .unwrap();
        }
        journal.flush().unwrap();
    }
    let recovered = open(dir.path()).load().unwrap();
    assert_eq!(recovered.om, Some(driver.om.to_state()));
    assert_eq!(recovered.venue, Some(driver.ex.to_state()));
    assert_eq!(recovered.venue_answer, Some(bar_answered(7)));
    assert_eq!(recovered.risk, Some(risk));
    assert_eq!(recovered.cursor, Some(Timestamp(2 * H)), "the last mark");
    let hours: Vec<i64> = recovered.equity.iter().map(|p| p.ts.0 / H).collect();
    assert_eq!(hours, [1, 2, 3]);
    assert_eq!(recovered.equity[2].equity, dec!(10003));
    assert_eq!(recovered.run, Some(run));

    let om = OrderManager::from_state(OrderManagerConfig::default(), recovered.om.unwrap());
    assert_eq!(om.unwrap().cash(), driver.om.cash());
}

#[test]
fn equity_keys_sort_in_time_order_even_before_1970() {
    let keys: Vec<String> = [-5_000, -1, 0, 1, 1_700_000_000_000]
        .map(|ms| equity_key(Timestamp(ms)))
        .to_vec();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert!(keys[0].starts_with("equity/") && keys[0].len() == 27);
}

/// Writes `records` into a bare sled database at `path` (not a keel journal) and closes it.
/// sled lets go of its file lock a moment after the handle is dropped, in the background:
/// the drop is noted like a journal's own, so that the next open waits for the lock.
fn write_bare_sled(path: &Path, records: &[(&str, &str)]) {
    let db = open_bare_sled(path);
    for (key, value) in records {
        db.insert(key, *value).unwrap();
    }
    db.flush().unwrap();
    drop(db);
    super::store::note_released(path);
}

/// A bare sled handle on `path`, once the lock an earlier handle of this process held is
/// released (sled releases it in the background); gives up after a minute, saying so.
fn open_bare_sled(path: &Path) -> sled::Db {
    let started = std::time::Instant::now();
    loop {
        match sled::open(path) {
            Ok(db) => return db,
            Err(e) if started.elapsed() < std::time::Duration::from_secs(60) => {
                assert!(e.to_string().contains("could not acquire lock"), "{e}");
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) => panic!("the earlier handle's sled lock was never released: {e}"),
        }
    }
}

#[test]
fn a_foreign_sled_database_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    write_bare_sled(dir.path(), &[("users/1", "alice")]);
    let err = SledStore::open(dir.path()).unwrap_err();
    assert_eq!(
        err,
        StoreError::Foreign {
            path: dir.path().to_path_buf()
        }
    );
    let text = err.to_string();
    assert!(text.contains(&dir.path().display().to_string()), "{text}");
    assert!(text.contains("NOT reset"), "{text}");
    let db = open_bare_sled(dir.path());
    assert_eq!(db.get("users/1").unwrap().unwrap(), "alice".as_bytes());
    assert!(db.get(META_KEY).unwrap().is_none(), "no meta was written");
}

#[test]
fn a_directory_of_other_files_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let err = SledStore::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::Foreign { .. }), "{err}");
    let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "sled created nothing");
}

#[test]
fn a_file_where_the_directory_should_be_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal");
    fs::write(&path, "not a directory").unwrap();
    let err = SledStore::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Io { .. }), "{err}");
    assert!(err.to_string().contains("not a directory"), "{err}");
    assert!(err.to_string().contains("NOT reset"), "{err}");
}

#[test]
fn a_store_already_open_is_refused_as_in_use_not_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let _first = SledStore::open(dir.path()).unwrap();
    let err = SledStore::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::Io { .. }), "{err}");
    assert!(
        err.to_string().contains("in use by another process"),
        "{err}"
    );
}

#[test]
fn garbage_over_the_sled_files_is_a_clear_error_never_an_empty_load() {
    for victim in ["db", "conf"] {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut journal = open(dir.path());
            journal.save_order_state(&busy_driver().om).unwrap();
        }
        let file = dir.path().join(victim);
        let len = fs::metadata(&file).unwrap().len() as usize;
        let garbage: Vec<u8> = (0..len.max(64)).map(|i| (i * 7 + 13) as u8).collect();
        fs::write(&file, garbage).unwrap();
        let err = SledStore::open(dir.path()).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(err, StoreError::Corrupt { .. }),
            "{victim}: {text}"
        );
        assert!(text.contains("NOT reset"), "{text}");
        assert!(text.contains(&dir.path().display().to_string()), "{text}");
    }
}

#[test]
fn a_record_that_does_not_decode_is_an_error_naming_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SledStore::open(dir.path()).unwrap();
    store
        .apply(vec![(
            ORDER_MANAGER_KEY.into(),
            Some(b"{\"cash\": tru".to_vec()),
        )])
        .unwrap();
    let err = Journal::open(store).unwrap().load().unwrap_err();
    assert!(
        matches!(&err, JournalError::Corrupt { key, .. } if key == ORDER_MANAGER_KEY),
        "{err}"
    );
    assert!(err
        .to_string()
        .starts_with("journal record `om/core` is corrupt"));

    let dir = tempfile::tempdir().unwrap();
    let mut store = SledStore::open(dir.path()).unwrap();
    let key = equity_key(Timestamp(H));
    store
        .apply(vec![(key.clone(), Some(b"[1, 2]".to_vec()))])
        .unwrap();
    let err = Journal::open(store).unwrap().load().unwrap_err();
    assert!(
        matches!(&err, JournalError::Corrupt { key: k, .. } if *k == key),
        "{err}"
    );
}

#[test]
fn another_format_version_or_magic_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_bare_sled(
        dir.path(),
        &[(META_KEY, r#"{"magic":"keel-journal","version":3}"#)],
    );
    let err = SledStore::open(dir.path()).unwrap_err();
    assert_eq!(
        err,
        StoreError::UnsupportedVersion {
            path: dir.path().to_path_buf(),
            found: 3
        }
    );
    assert!(err.to_string().contains("NOT reset"));

    let dir = tempfile::tempdir().unwrap();
    write_bare_sled(
        dir.path(),
        &[(META_KEY, r#"{"magic":"other-app","version":1}"#)],
    );
    let err = SledStore::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::Foreign { .. }), "{err}");
}

#[test]
fn a_failed_write_ahead_surfaces_and_leaves_the_last_good_state() {
    let dir = tempfile::tempdir().unwrap();
    let store = FailingStore::new(SledStore::open(dir.path()).unwrap());
    let switch = store.switch();
    let mut journal = Journal::open(store).unwrap();
    let mut driver = Driver::new();
    journal.save_order_state(&driver.om).unwrap();

    let _commands = driver.open_commands(dec!(100));
    switch.fail_now();
    let err = journal.save_order_state(&driver.om).unwrap_err();
    assert_eq!(
        err,
        JournalError::Store(StoreError::Injected { operation: "apply" })
    );
    // The batch did not land: the journal still holds the state without the order.
    let saved = journal.load().unwrap().om.unwrap();
    assert!(saved.orders.is_empty());

    // Written but not flushed is a failure too.
    switch.fail_after(1);
    let err = journal.save_order_state(&driver.om).unwrap_err();
    assert_eq!(
        err,
        JournalError::Store(StoreError::Injected { operation: "flush" })
    );
    switch.heal();
    journal.save_order_state(&driver.om).unwrap();
}

#[test]
fn a_mark_is_one_atomic_batch() {
    let dir = tempfile::tempdir().unwrap();
    let store = FailingStore::new(SledStore::open(dir.path()).unwrap());
    let switch = store.switch();
    let mut journal = Journal::open(store).unwrap();
    switch.fail_now();
    assert!(journal
        .mark(&point(1, dec!(10000)), &RiskState::default(), &[])
        .is_err());
    let recovered = journal.load().unwrap();
    assert!(recovered.equity.is_empty() && recovered.risk.is_none());
    assert!(recovered.cursor.is_none());
}

#[test]
fn after_a_crash_between_write_ahead_and_submit_the_order_is_resolved_on_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut journal = open(dir.path());
        let mut driver = Driver::new();
        journal.save_venue(&driver.ex, &bar_answered(0)).unwrap();
        let _commands = driver.open_commands(dec!(100));
        journal.save_order_state(&driver.om).unwrap();
        // Crash here: the commands never reach the venue.
    }
    let recovered = open(dir.path()).load().unwrap();
    let venue = SimExchange::from_state(FillConfig::default(), recovered.venue.unwrap()).unwrap();
    let mut om =
        OrderManager::from_state(OrderManagerConfig::default(), recovered.om.unwrap()).unwrap();
    assert!(om.has_open_entry(&btc()), "unresolved: blocks the symbol");
    let report = reconcile(&mut om, &venue, Timestamp(2 * H));
    assert!(report.is_resolved(), "{report}");
    assert!(!om.has_open_entry(&btc()));
    assert_eq!(venue.known_order_ids().count(), 0);
}

#[test]
fn a_creation_cut_short_leaves_no_half_made_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    // What a crash during an earlier creation leaves: a side directory, never `path` itself.
    let staging = dir.path().join("store.creating");
    std::fs::create_dir_all(&staging).unwrap();
    std::fs::write(staging.join("db"), b"half written").unwrap();
    let store = SledStore::open(&path).unwrap();
    assert!(!staging.exists(), "the side directory is cleared");
    let journal = Journal::open(store).unwrap();
    assert_eq!(journal.load().unwrap(), Recovered::default());
}

#[test]
fn the_remote_venue_book_is_saved_flushed_and_loaded_after_reopening() {
    use keel_binance::book::{Phase, VenueBook};
    use keel_core::order_manager::OrderCommand;
    let dir = tempfile::tempdir().unwrap();
    let mut book = VenueBook::new();
    let driver = busy_driver();
    let request = driver.om.all_open_orders().next().unwrap().request.clone();
    let id = request.client_order_id.clone();
    let (_, actions) = book.command(&[OrderCommand::Submit(request)], Timestamp(0));
    assert_eq!(actions.len(), 1);
    {
        let mut journal = open(dir.path());
        journal.save_venue_book(&book).unwrap();
    }
    let loaded = open(dir.path()).load().unwrap().venue_book.unwrap();
    assert_eq!(loaded, book);
    assert_eq!(
        loaded.leg(&id).unwrap().phase,
        Phase::Sending,
        "the doubt survives the restart"
    );
}

#[test]
fn a_reload_keeps_its_equity_copy_in_step_with_the_store_and_drops_it_when_a_mark_fails() {
    let dir = tempfile::tempdir().unwrap();
    let store = FailingStore::new(SledStore::open(dir.path()).unwrap());
    let switch = store.switch();
    let mut journal = Journal::open(store).unwrap();
    let risk = RiskState::default();
    assert!(journal.reload().unwrap().equity.is_empty());
    // Out of order, and hour 2 marked twice (a bar marked again after a restart).
    for (hour, equity) in [(1, 10001), (3, 10003), (2, 10002), (2, 10022)] {
        journal
            .mark(&point(hour, Decimal::from(equity)), &risk, &[])
            .unwrap();
    }
    let reloaded = journal.reload().unwrap();
    assert_eq!(
        reloaded,
        journal.load().unwrap(),
        "the copy equals the store"
    );
    let curve: Vec<Decimal> = reloaded.equity.iter().map(|p| p.equity).collect();
    assert_eq!(curve, [dec!(10001), dec!(10022), dec!(10003)]);

    // A mark that fails leaves the copy in doubt: it is read again from the store.
    switch.fail_now();
    journal
        .mark(&point(4, dec!(10004)), &risk, &[])
        .unwrap_err();
    switch.heal();
    let reloaded = journal.reload().unwrap();
    assert_eq!(reloaded, journal.load().unwrap());
    assert_eq!(
        reloaded.equity.len(),
        3,
        "the failed mark is not in the curve"
    );
}

#[test]
fn a_reload_takes_the_decoded_state_last_written_equal_to_a_cold_read_and_never_a_failed_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut driver = busy_driver();
    let saved_om = driver.om.to_state();
    let saved_venue = driver.ex.to_state();
    {
        let store = FailingStore::new(SledStore::open(dir.path()).unwrap());
        let switch = store.switch();
        let mut journal = Journal::open(store).unwrap();
        journal.save_order_state(&driver.om).unwrap();
        // Another handle on the same store (the execution actor's) writes the venue.
        journal
            .clone()
            .save_venue(&driver.ex, &bar_answered(7))
            .unwrap();
        let reloaded = journal.reload().unwrap();
        assert_eq!(reloaded.om, Some(saved_om.clone()));
        assert_eq!(reloaded.venue, Some(saved_venue.clone()));
        assert_eq!(reloaded.venue_answer, Some(bar_answered(7)));

        // A save that fails must not become what a restart is rebuilt from.
        for candle in &candles(160)[80..] {
            driver.step(candle);
        }
        assert_ne!(driver.om.to_state(), saved_om, "the run went on");
        switch.fail_now();
        journal.save_order_state(&driver.om).unwrap_err();
        switch.heal();
        assert_eq!(
            journal.reload().unwrap().om,
            Some(saved_om.clone()),
            "the last state that reached the store"
        );
        journal.flush().unwrap();
    }
    let cold = open(dir.path()).load().unwrap();
    assert_eq!(cold.om, Some(saved_om), "what a fresh process reads");
    assert_eq!(cold.venue, Some(saved_venue));
}

#[test]
fn a_version_1_store_is_upgraded_once_and_loads_what_it_held() {
    let dir = tempfile::tempdir().unwrap();
    let run = r#"{"run_id":"old","config_fingerprint":"f1"}"#;
    let at_1 = r#"{"ts":3600000,"equity":"10001","exposure":"0"}"#;
    let equity = equity_key(Timestamp(H));
    write_bare_sled(
        dir.path(),
        &[
            (META_KEY, r#"{"magic":"keel-journal","version":1}"#),
            (RUN_KEY, run),
            (&equity, at_1),
        ],
    );
    let recovered = open(dir.path()).load().unwrap();
    assert_eq!(recovered.run.unwrap().run_id, "old");
    assert_eq!(recovered.equity, [point(1, dec!(10001))]);

    // Upgraded on disk: version 2, and the records carry their checksums from now on.
    let store = SledStore::open(dir.path()).unwrap();
    let meta = store.get(META_KEY).unwrap().unwrap();
    assert_eq!(meta, br#"{"magic":"keel-journal","version":2}"#);
    assert_ne!(store.get(RUN_KEY).unwrap().unwrap(), run.as_bytes());
    let recovered = Journal::open(store).unwrap().load().unwrap();
    assert_eq!(recovered.run.unwrap().config_fingerprint, "f1");
}

#[test]
fn a_version_1_record_already_damaged_is_refused_after_the_upgrade_naming_its_key() {
    let dir = tempfile::tempdir().unwrap();
    write_bare_sled(
        dir.path(),
        &[
            (META_KEY, r#"{"magic":"keel-journal","version":1}"#),
            (RISK_KEY, r#"{"peak_equity":"1"#),
        ],
    );
    let err = open(dir.path()).load().unwrap_err();
    assert!(
        matches!(&err, JournalError::Corrupt { key, .. } if key == RISK_KEY),
        "{err}"
    );
}

/// sled 0.34 panics on some damaged files (none of the damaged stores of `damage_tests` made
/// it panic, so the panic is injected): opening is refused as corrupt, naming the store.
#[cfg(feature = "failpoints")]
#[test]
fn a_panic_of_sled_while_opening_is_a_startup_error_naming_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal");
    open(&path).save_order_state(&busy_driver().om).unwrap();
    let only_here = format!("return({})", dir.path().display());
    fail::cfg("journal.sled_open", &only_here).unwrap();
    let err = SledStore::open(&path).unwrap_err();
    fail::remove("journal.sled_open");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("sled panicked"), "{text}");
    assert!(text.contains("NOT reset"), "{text}");
    // Nothing was reset: without the panic the store opens with its state.
    assert!(open(&path).load().unwrap().om.is_some());
}
