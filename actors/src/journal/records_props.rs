//! Property tests of the journal's record encoding (issue 15): generated records round-trip;
//! arbitrary bytes, and damaged encodings of the order manager's and the venue's records,
//! equity points, run identities, risk states and dead letters, never panic and never decode
//! to a value other than the one written.
//!
//! `PROPTEST_CASES` sets how many cases each property runs (256 by default).

use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::Config;

use super::layout::{om_from_records, om_records, venue_from_records, venue_records, Records};
use super::records::{decode, encode};
use super::*;
use crate::model::{Decimal, EquityPoint, Timestamp};
use keel_core::execution::SimExchangeState;
use keel_core::order_manager::OrderManagerState;
use keel_core::risk::RiskState;
use keel_core::testing::{candles, Driver};

fn config() -> Config {
    Config {
        failure_persistence: None,
        ..Config::default()
    }
}

/// The order manager's and the venue's states every ten bars of a run: open and filled
/// orders, closed trades, applied trade ids, resting and finished venue orders.
fn states() -> &'static [(OrderManagerState, SimExchangeState)] {
    static STATES: OnceLock<Vec<(OrderManagerState, SimExchangeState)>> = OnceLock::new();
    STATES.get_or_init(|| {
        let mut driver = Driver::new();
        let mut states = vec![(driver.om.to_state(), driver.ex.to_state())];
        for bars in candles(120).chunks(10) {
            for candle in bars {
                driver.step(candle);
            }
            states.push((driver.om.to_state(), driver.ex.to_state()));
        }
        states
    })
}

fn venue_as_records(state: &SimExchangeState) -> Records {
    let mut next = 0;
    let mut key_of = |_: &str| {
        next += 1;
        format!("venue/finished/{:012}", next - 1)
    };
    venue_records(state, &mut key_of).unwrap()
}

/// One change to a record's stored bytes.
#[derive(Debug, Clone)]
enum Damage {
    Flip(Index, u8),
    Truncate(Index),
    Delete(Index),
    Insert(Index, u8),
    Replace(Index, u8),
    /// Stored under another key (moved, or a key damaged on disk).
    Rekey(String),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(at, bit)| Damage::Flip(at, bit)),
        any::<Index>().prop_map(Damage::Truncate),
        any::<Index>().prop_map(Damage::Delete),
        (any::<Index>(), any::<u8>()).prop_map(|(at, b)| Damage::Insert(at, b)),
        (any::<Index>(), any::<u8>()).prop_map(|(at, b)| Damage::Replace(at, b)),
        "[a-z/0-9]{1,24}".prop_map(Damage::Rekey),
    ]
}

/// `bytes` under `key` with `damage` done; `None` when it changes nothing.
fn damaged(key: &str, bytes: &[u8], damage: &Damage) -> Option<(String, Vec<u8>)> {
    let mut out = bytes.to_vec();
    let mut at = key.to_string();
    match damage {
        Damage::Flip(i, bit) => {
            let i = i.index(out.len());
            out[i] ^= 1 << bit;
        }
        Damage::Truncate(i) => out.truncate(i.index(out.len())),
        Damage::Delete(i) => {
            out.remove(i.index(out.len()));
        }
        Damage::Insert(i, b) => out.insert(i.index(out.len() + 1), *b),
        Damage::Replace(i, b) => {
            let i = i.index(out.len());
            out[i] = *b;
        }
        Damage::Rekey(other) => at = other.clone(),
    }
    (out != bytes || at != key).then_some((at, out))
}

/// `records` with the record at `at` damaged; a record moved under another key takes the
/// place of the next record (a record lost altogether is not a damaged encoding).
fn damaged_records(records: &Records, at: usize, damage: &Damage) -> Option<Records> {
    let mut broken = records.clone();
    if let Damage::Rekey(_) = damage {
        let other = (at + 1) % broken.len();
        if other == at {
            return None;
        }
        broken[other].1 = broken[at].1.clone();
        broken.remove(at);
        return Some(broken);
    }
    broken[at] = damaged(&records[at].0, &records[at].1, damage)?;
    Some(broken)
}

/// A damaged single record decodes to an error naming its key, or to the very value
/// written (when the damage happened to change nothing it reads).
fn check_record<T>(key: &str, value: &T, damage: &Damage) -> Result<(), TestCaseError>
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let bytes = encode(key, value).unwrap();
    prop_assert_eq!(&decode::<T>(key, &bytes).unwrap(), value, "round trip");
    let Some((at, bytes)) = damaged(key, &bytes, damage) else {
        return Ok(());
    };
    match decode::<T>(&at, &bytes) {
        Ok(read) => prop_assert_eq!(&read, value, "a damaged record decoded to another value"),
        Err(JournalError::Corrupt { key, .. }) => prop_assert_eq!(key, at),
        Err(other) => prop_assert!(false, "not a corrupt record: {other}"),
    }
    Ok(())
}

fn equity_point() -> impl Strategy<Value = EquityPoint> {
    (any::<i64>(), any::<i64>(), 0u32..=28, any::<i64>()).prop_map(|(ts, m, scale, e)| {
        EquityPoint {
            ts: Timestamp(ts),
            equity: Decimal::new(m, scale),
            exposure: Decimal::new(e, scale.min(8)),
        }
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic_and_are_refused_naming_the_key(
        bytes in prop::collection::vec(any::<u8>(), 0..256),
        key in "[a-z/0-9]{1,24}",
    ) {
        // A match needs the 32-bit checksum of the key and the rest guessed: never seen.
        let read = decode::<serde_json::Value>(&key, &bytes);
        prop_assert!(
            matches!(&read, Err(JournalError::Corrupt { key: k, .. }) if *k == key),
            "{read:?}"
        );
        let records = vec![(ORDER_MANAGER_KEY.to_string(), bytes.clone())];
        prop_assert!(om_from_records(&records).is_err());
        let records = vec![(VENUE_KEY.to_string(), bytes)];
        prop_assert!(venue_from_records(&records).is_err());
    }

    #[test]
    fn an_equity_point_round_trips_and_a_damaged_one_never_reads_as_another(
        point in equity_point(),
        damage in damage(),
    ) {
        check_record(&equity_key(point.ts), &point, &damage)?;
    }

    #[test]
    fn run_info_risk_state_and_dead_letters_never_read_as_another_value(
        run_id in "\\PC{0,40}",
        letter in "\\PC{0,200}",
        peak in any::<i64>(),
        damage in damage(),
    ) {
        let run = RunInfo { run_id, config_fingerprint: "f".into() };
        check_record(RUN_KEY, &run, &damage)?;
        let risk = RiskState { peak_equity: Decimal::from(peak), ..RiskState::default() };
        check_record(RISK_KEY, &risk, &damage)?;
        check_record(&format!("{DEAD_LETTER_PREFIX}{:010}", 7), &letter, &damage)?;
    }

    #[test]
    fn a_damaged_order_manager_or_venue_record_is_refused_or_reads_the_state_written(
        state in any::<Index>(),
        record in any::<Index>(),
        damage in damage(),
    ) {
        let (om, venue) = &states()[state.index(states().len())];
        let records = om_records(om).unwrap();
        prop_assert_eq!(om_from_records(&records).unwrap(), Some(om.clone()), "round trip");
        let at = record.index(records.len());
        if let Some(broken) = damaged_records(&records, at, &damage) {
            if let Ok(read) = om_from_records(&broken) {
                prop_assert_eq!(read, Some(om.clone()), "{:?} of {}", damage, records[at].0);
            }
        }

        let records = venue_as_records(venue);
        prop_assert_eq!(venue_from_records(&records).unwrap(), Some(venue.clone()), "round trip");
        let at = record.index(records.len());
        if let Some(broken) = damaged_records(&records, at, &damage) {
            if let Ok(read) = venue_from_records(&broken) {
                prop_assert_eq!(read, Some(venue.clone()), "{:?} of {}", damage, records[at].0);
            }
        }
    }
}

#[test]
fn the_generated_states_hold_what_the_properties_damage() {
    let (om, venue) = states().last().unwrap();
    assert!(!om.orders.is_empty() && !om.closed_trades.is_empty());
    assert!(!om.applied_trades.is_empty());
    assert!(!venue.finished.is_empty());
    assert!(states().iter().any(|(_, venue)| !venue.books.is_empty()));
}
