//! The progress and price marks that wait for the next write (see `pending`): carried by the
//! next batch of any handle on the store, kept through a failed write, superseded by a full
//! state, and never written on their own.

use rust_decimal_macros::dec;

use super::*;
use crate::model::Timestamp;
use keel_core::order_manager::PriceMark;
use keel_core::testing::{btc, Driver};

fn mark(price: crate::model::Decimal) -> Vec<PriceMark> {
    vec![PriceMark {
        symbol: btc(),
        last_price: price,
        highest_close: price,
    }]
}

fn open(path: &std::path::Path) -> Journal<SledStore> {
    Journal::open(SledStore::open(path).unwrap()).unwrap()
}

#[test]
fn progress_waits_for_the_next_write_of_any_handle_on_the_store() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut om_handle = open(dir.path());
        let mut venue_handle = om_handle.clone();
        om_handle.progress(5, &mark(dec!(101)));
        assert_eq!(
            om_handle.load().unwrap().progress,
            Some(5),
            "a load sees it"
        );
        // The venue's next write carries it.
        venue_handle
            .save_venue(
                &keel_core::execution::SimExchange::new(Default::default()),
                &AnsweredCall {
                    call: VenueCall::Bar {
                        symbol: btc(),
                        close_time: Timestamp(0),
                    },
                    reports: Vec::new(),
                },
            )
            .unwrap();
        // Noted after that write: nothing carries it before the handles go.
        om_handle.progress(6, &mark(dec!(102)));
    }
    let recovered = open(dir.path()).load().unwrap();
    assert_eq!(recovered.progress, Some(5));
    assert_eq!(recovered.price_marks, Some(mark(dec!(101))));
}

#[test]
fn a_flush_writes_what_waits() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut journal = open(dir.path());
        journal.progress(7, &mark(dec!(99)));
        journal.note_price_marks(mark(dec!(98)));
        journal.flush().unwrap();
    }
    let recovered = open(dir.path()).load().unwrap();
    assert_eq!(recovered.progress, Some(7));
    assert_eq!(
        recovered.price_marks,
        Some(mark(dec!(98))),
        "the newest marks"
    );
}

#[test]
fn what_waits_survives_a_failed_write_and_goes_with_the_next_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = FailingStore::new(SledStore::open(dir.path()).unwrap());
    let switch = store.switch();
    let mut journal = Journal::open(store).unwrap();
    journal.progress(3, &mark(dec!(100)));
    switch.fail_now();
    assert!(journal.flush().is_err());
    assert_eq!(journal.load().unwrap().progress, Some(3), "still waiting");
    switch.heal();
    journal.flush().unwrap();
    drop(journal);
    assert_eq!(open(dir.path()).load().unwrap().progress, Some(3));
}

#[test]
fn a_full_state_supersedes_the_marks_waiting_and_a_bar_close_writes_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let driver = Driver::new();
    {
        let mut journal = open(dir.path());
        journal.note_price_marks(mark(dec!(97)));
        journal.save_order_state(&driver.om).unwrap();
        assert_eq!(journal.load().unwrap().price_marks, None);
        journal.note_price_marks(mark(dec!(96)));
        let point = crate::model::EquityPoint {
            ts: Timestamp(0),
            equity: dec!(10000),
            exposure: dec!(0),
        };
        journal
            .mark(&point, &Default::default(), &mark(dec!(95)))
            .unwrap();
        journal.flush().unwrap();
    }
    assert_eq!(
        open(dir.path()).load().unwrap().price_marks,
        Some(mark(dec!(95)))
    );
}
