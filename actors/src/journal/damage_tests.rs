//! Damaged stores on real sled files (issue 15): a journal is written with every write
//! flushed, closed, and copies of its files are truncated or have a bit flipped. Each copy
//! must either be refused (an error naming the store or the record's key) or load exactly
//! what the journal held after one of its flushes: a prefix of its history, never a panic and
//! never a record that was not written.
//!
//! `PROPTEST_CASES` sets how many damaged copies each property opens (256 by default).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rust_decimal_macros::dec;

use super::*;
use crate::model::{Decimal, EquityPoint, Timestamp};
use keel_core::risk::RiskState;
use keel_core::testing::{btc, candles, Driver, HOUR_MS as H};

/// What a journal holds, as a fresh process reads it.
#[derive(Debug, Clone, PartialEq)]
struct Held {
    recovered: Recovered,
    letters: Vec<String>,
}

fn read(journal: &Journal<SledStore>) -> Result<Held, JournalError> {
    Ok(Held {
        recovered: journal.load()?,
        letters: journal.dead_letters()?,
    })
}

/// Every file of a store (path relative to it, contents), directories as `None`.
type Files = Vec<(PathBuf, Option<Vec<u8>>)>;

/// A store's files at two moments, and what the journal held after each of its flushed writes.
struct History {
    /// The files as the journal left them when it was closed, and as a crash right after
    /// its last flush leaves them (copied while it was open: sled's newest snapshot is
    /// older, and a restart replays its log).
    images: [(&'static str, Files); 2],
    /// What the journal held after each write, the empty journal first.
    held: Vec<Held>,
    /// A directory the damaged copies are made in.
    scratch: tempfile::TempDir,
}

impl History {
    /// About 40 flushed writes: the run's identity, then every ten bars of a run the order
    /// manager's state, the venue's, a mark, and now and then a dead letter.
    fn write() -> History {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        let mut held = Vec::new();
        let mut crashed = Vec::new();
        {
            let mut journal = Journal::open(SledStore::open(&path).unwrap()).unwrap();
            held.push(read(&journal).unwrap());
            let run = RunInfo {
                run_id: "damage".into(),
                config_fingerprint: "f".into(),
            };
            journal.set_run(&run).unwrap();
            held.push(read(&journal).unwrap());
            let mut driver = Driver::new();
            let mut risk = RiskState::default();
            for (i, bars) in candles(120).chunks(10).enumerate() {
                for candle in bars {
                    driver.step(candle);
                }
                let hour = (i as i64 + 1) * 10;
                journal.save_order_state(&driver.om).unwrap();
                held.push(read(&journal).unwrap());
                let answered = AnsweredCall {
                    call: VenueCall::Bar {
                        symbol: btc(),
                        close_time: Timestamp(hour * H),
                    },
                    reports: Vec::new(),
                };
                journal.save_venue(&driver.ex, &answered).unwrap();
                held.push(read(&journal).unwrap());
                risk.peak_equity = dec!(10000) + Decimal::from(hour);
                let point = EquityPoint {
                    ts: Timestamp(hour * H),
                    equity: driver.om.cash(),
                    exposure: dec!(0),
                };
                journal.mark(&point, &risk, &[]).unwrap();
                journal.flush().unwrap();
                held.push(read(&journal).unwrap());
                if i % 3 == 0 {
                    journal.add_dead_letter(&format!("letter {i}")).unwrap();
                    held.push(read(&journal).unwrap());
                }
            }
            collect(&path, Path::new(""), &mut crashed);
        }
        // Read the files through a second handle: once it holds the lock, the first one has
        // let go of them, and they no longer change.
        let reopened = Journal::open(SledStore::open(&path).unwrap()).unwrap();
        assert_eq!(
            read(&reopened).unwrap(),
            *held.last().unwrap(),
            "the undamaged store holds its last state"
        );
        let mut closed = Vec::new();
        collect(&path, Path::new(""), &mut closed);
        drop(reopened);
        History {
            images: [("closed", closed), ("crashed", crashed)],
            held,
            scratch: tempfile::tempdir().unwrap(),
        }
    }

    /// The files worth damaging, as (image, file): those holding bytes.
    fn victims(&self) -> Vec<(usize, usize)> {
        let mut victims = Vec::new();
        for (image, (_, files)) in self.images.iter().enumerate() {
            for (file, (_, contents)) in files.iter().enumerate() {
                if contents.as_ref().is_some_and(|b| !b.is_empty()) {
                    victims.push((image, file));
                }
            }
        }
        victims
    }

    /// Which image and file `damage` strikes, for messages.
    fn name(&self, damage: &Damage) -> String {
        let (image, files) = &self.images[damage.victim.0];
        format!("{image} {}", files[damage.victim.1].0.display())
    }

    /// A copy of the store with `damage` done to it.
    fn damaged_copy(&self, damage: &Damage, case: usize) -> PathBuf {
        let path = self.scratch.path().join(format!("copy-{case}"));
        let (image, victim) = damage.victim;
        for (i, (name, contents)) in self.images[image].1.iter().enumerate() {
            let target = path.join(name);
            let Some(contents) = contents else {
                fs::create_dir_all(&target).unwrap();
                continue;
            };
            fs::create_dir_all(target.parent().unwrap()).unwrap();
            let mut bytes = contents.clone();
            if i == victim {
                match damage.kind {
                    Kind::Truncate => bytes.truncate(damage.at(bytes.len() + 1)),
                    Kind::Flip(bit) => bytes[damage.at(contents.len())] ^= 1 << bit,
                }
            }
            fs::write(&target, bytes).unwrap();
        }
        path
    }
}

fn collect(root: &Path, rel: &Path, files: &mut Vec<(PathBuf, Option<Vec<u8>>)>) {
    let mut entries: Vec<_> = fs::read_dir(root.join(rel))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for entry in entries {
        let rel = rel.join(entry.file_name().unwrap());
        if entry.is_dir() {
            files.push((rel.clone(), None));
            collect(root, &rel, files);
        } else {
            files.push((rel, Some(fs::read(&entry).unwrap())));
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Truncate,
    Flip(u8),
}

/// One damage to one file: `position` is a fraction of the file (out of `u32::MAX`),
/// weighted towards its start, where sled keeps its newest segments in a small store.
#[derive(Debug, Clone, Copy)]
struct Damage {
    /// (image, file) in [`History::images`].
    victim: (usize, usize),
    kind: Kind,
    position: u32,
    near_start: bool,
}

impl Damage {
    /// The byte offset, below `len`, this damage strikes.
    fn at(&self, len: usize) -> usize {
        let span = if self.near_start {
            len.min(64 << 10)
        } else {
            len
        };
        ((self.position as u64 * span as u64) >> 32) as usize
    }
}

fn damage(victims: Vec<(usize, usize)>) -> impl Strategy<Value = Damage> {
    let kind = prop_oneof![Just(Kind::Truncate), (0u8..8).prop_map(Kind::Flip)];
    (
        prop::sample::select(victims),
        kind,
        any::<u32>(),
        any::<bool>(),
    )
        .prop_map(|(victim, kind, position, near_start)| Damage {
            victim,
            kind,
            position,
            near_start,
        })
}

/// How a damaged copy came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Refused,
    /// Loaded what the journal held after one of its writes before the last: the newest
    /// flushed writes are lost, which reconciliation with the venue has to report.
    Earlier,
    /// Loaded everything.
    Whole,
}

fn open_damaged(history: &History, path: &Path) -> Result<Outcome, String> {
    let opened = catch_unwind(AssertUnwindSafe(|| -> Result<Held, String> {
        let store = SledStore::open(path).map_err(|e| e.to_string())?;
        let journal = Journal::open(store).map_err(|e| e.to_string())?;
        read(&journal).map_err(|e| e.to_string())
    }));
    match opened {
        Err(_) => Err("panicked".into()),
        Ok(Err(refusal)) => {
            let named = refusal.contains(&path.display().to_string())
                || refusal.starts_with("journal record `");
            if named {
                Ok(Outcome::Refused)
            } else {
                Err(format!(
                    "refused without naming the store or a key: {refusal}"
                ))
            }
        }
        Ok(Ok(held)) => match history.held.iter().rposition(|h| *h == held) {
            Some(n) if n + 1 == history.held.len() => Ok(Outcome::Whole),
            Some(_) => Ok(Outcome::Earlier),
            None => Err(format!(
                "loaded a state the journal never held: {:?}",
                held.recovered.run
            )),
        },
    }
}

fn config() -> Config {
    Config {
        failure_persistence: None,
        ..Config::default()
    }
}

#[test]
fn a_truncated_or_bit_flipped_store_is_refused_or_loads_a_prefix_of_its_history() {
    let history = History::write();
    let outcomes = RefCell::new(BTreeMap::<(&str, bool, Outcome), usize>::new());
    let case = std::cell::Cell::new(0);
    let mut runner = TestRunner::new(config());
    let result = runner.run(&damage(history.victims()), |damage| {
        case.set(case.get() + 1);
        let path = history.damaged_copy(&damage, case.get());
        let outcome = open_damaged(&history, &path);
        let _ = fs::remove_dir_all(&path);
        let outcome =
            outcome.map_err(|e| TestCaseError::fail(format!("{}: {e}", history.name(&damage))))?;
        let truncated = matches!(damage.kind, Kind::Truncate);
        let key = (history.images[damage.victim.0].0, truncated, outcome);
        *outcomes.borrow_mut().entry(key).or_default() += 1;
        Ok(())
    });
    let outcomes = outcomes.into_inner();
    eprintln!(
        "{} damaged stores of {} writes (image, truncated, outcome): {outcomes:?}",
        case.get(),
        history.held.len() - 1,
    );
    result.unwrap();
    // The damage reached both ends: stores refused, and crash images cut back to a prefix.
    let seen = |outcome| outcomes.keys().any(|(_, _, o)| *o == outcome);
    assert!(
        seen(Outcome::Refused) && seen(Outcome::Earlier),
        "{outcomes:?}"
    );
}

/// Copies every file of the store at `from` to `to` while its journal is open: what a crash
/// at this moment leaves on disk.
fn crash_image(from: &Path, to: &Path) {
    let mut files = Vec::new();
    collect(from, Path::new(""), &mut files);
    for (name, contents) in files {
        match contents {
            None => fs::create_dir_all(to.join(name)).unwrap(),
            Some(bytes) => {
                fs::create_dir_all(to.join(&name).parent().unwrap()).unwrap();
                fs::write(to.join(name), bytes).unwrap();
            }
        }
    }
}

#[test]
fn a_store_cut_back_to_an_earlier_flush_is_reconciled_and_the_lost_fill_reported() {
    use keel_core::order_manager::{reconcile, Discrepancy, OrderManager};
    let dir = tempfile::tempdir().unwrap();
    let (path, earlier) = (dir.path().join("store"), dir.path().join("earlier"));
    let mut driver = Driver::new();
    let bars = candles(1);
    let mut journal = Journal::open(SledStore::open(&path).unwrap()).unwrap();
    let commands = driver.open_commands(dec!(100));
    driver.route(commands);
    journal.save_order_state(&driver.om).unwrap();
    let sent = driver.om.to_state();
    crash_image(&path, &earlier);
    // The venue fills the entry; the journal records it, and then loses that write (a torn
    // tail sled drops on open, as the damaged stores above do).
    driver.step(&bars[0]);
    let filled = driver
        .om
        .position(&btc())
        .cloned()
        .expect("the entry filled");
    journal.save_order_state(&driver.om).unwrap();
    drop(journal);

    let recovered = Journal::open(SledStore::open(&earlier).unwrap())
        .unwrap()
        .load()
        .unwrap();
    assert_eq!(recovered.om, Some(sent), "the prefix: before the fill");
    let mut om = OrderManager::from_state(driver.cfg.clone(), recovered.om.unwrap()).unwrap();
    assert!(om.position(&btc()).is_none());
    let report = reconcile(&mut om, &driver.ex, driver.now);
    let recovered_fills = report
        .discrepancies
        .iter()
        .filter(|d| matches!(d, Discrepancy::FillRecovered { .. }))
        .count();
    assert!(recovered_fills >= 1, "{report}");
    assert!(!report.is_clean() && report.is_resolved(), "{report}");
    // The position the lost write held is back (marked at the fill price until the next bar).
    let position = om
        .position(&btc())
        .expect("the recovered fill opens the position");
    assert_eq!(
        (position.qty, position.avg_entry),
        (filled.qty, filled.avg_entry)
    );
}
