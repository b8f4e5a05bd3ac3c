//! Retention and compaction on real sled files: the store keeps a bounded share of the equity
//! curve and the whole curve still loads; compaction keeps every record, refuses a store in
//! use, leaves the store intact when it fails, and every state a crash can leave is settled.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use rust_decimal_macros::dec;

use super::*;
use crate::model::{Decimal, EquityPoint, Timestamp};
use keel_core::risk::RiskState;
use keel_core::testing::HOUR_MS as H;

fn point(hour: i64) -> EquityPoint {
    EquityPoint {
        ts: Timestamp(hour * H),
        equity: dec!(10000) + Decimal::from(hour),
        exposure: dec!(0),
    }
}

/// A journal at `path` with `hours` bars marked, keeping `keep` points when given.
fn marked(path: &Path, hours: i64, keep: Option<usize>) -> Journal<SledStore> {
    let mut journal = Journal::open(SledStore::open(path).unwrap()).unwrap();
    if let Some(keep) = keep {
        journal.retain_equity(keep).unwrap();
    }
    for hour in 1..=hours {
        journal
            .mark(&point(hour), &RiskState::default(), &[])
            .unwrap();
    }
    journal.flush().unwrap();
    journal
}

fn held(journal: &Journal<SledStore>) -> usize {
    journal.held_equity().unwrap().len()
}

fn curve(hours: i64) -> Vec<EquityPoint> {
    (1..=hours).map(point).collect()
}

#[test]
fn retention_bounds_the_points_in_the_store_and_the_whole_curve_still_loads() {
    let dir = tempfile::tempdir().unwrap();
    let kept = marked(&dir.path().join("kept"), 1_000, Some(MIN_KEEP_EQUITY));
    assert!(
        held(&kept) < 2 * MIN_KEEP_EQUITY,
        "the store holds {} points",
        held(&kept)
    );
    assert_eq!(kept.load().unwrap().equity, curve(1_000));
    // Without retention the store holds every point: the bound above is retention's doing.
    let all = marked(&dir.path().join("all"), 1_000, None);
    assert_eq!(held(&all), 1_000);
    assert_eq!(all.load().unwrap().equity, curve(1_000));
    // Reopened as a new process would, the curve is the same.
    drop(kept);
    let reopened = Journal::open(SledStore::open(&dir.path().join("kept")).unwrap()).unwrap();
    assert_eq!(reopened.load().unwrap().equity, curve(1_000));
}

#[test]
fn a_crash_mid_archive_loses_and_duplicates_no_point() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal");
    let journal = marked(&path, 100, Some(MIN_KEEP_EQUITY));
    drop(journal);
    let archive = path.join(EQUITY_ARCHIVE_FILE);
    let archived = read_archive(&archive).unwrap();
    assert!(!archived.is_empty());
    // The crash fell after an append and before its deletes were durable: the same points
    // are appended again and a torn line follows them.
    let mut text = fs::read_to_string(&archive).unwrap();
    let again = text.clone();
    text.push_str(&again);
    text.push_str("{\"ts\":");
    fs::write(&archive, text).unwrap();
    let journal = Journal::open(SledStore::open(&path).unwrap()).unwrap();
    assert_eq!(journal.load().unwrap().equity, curve(100));
    // The next append cuts the torn line off first.
    drop(journal);
    let journal = marked(&path, 200, Some(MIN_KEEP_EQUITY));
    assert_eq!(journal.load().unwrap().equity, curve(200));
    let text = fs::read_to_string(&archive).unwrap();
    assert!(text.ends_with('\n') && !text.contains("{\"ts\":{"));
}

/// The byte range of line `n` (from 1) of `text`, without its newline.
fn line_span(text: &[u8], n: usize) -> std::ops::Range<usize> {
    let mut starts = std::iter::once(0).chain(
        text.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i + 1),
    );
    let start = starts.nth(n - 1).unwrap();
    start..start + text[start..].iter().position(|b| *b == b'\n').unwrap()
}

#[test]
fn a_damaged_archive_line_is_refused_naming_it_never_read_as_another_point() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal");
    drop(marked(&path, 100, Some(MIN_KEEP_EQUITY)));
    let archive = path.join(EQUITY_ARCHIVE_FILE);
    let good = fs::read(&archive).unwrap();
    let points = read_archive(&archive).unwrap();
    let mut refused = 0;
    for at in line_span(&good, 2) {
        for bit in 0..8 {
            let mut bad = good.clone();
            bad[at] ^= 1 << bit;
            fs::write(&archive, &bad).unwrap();
            match read_archive(&archive) {
                // An upper-case hex digit of the checksum is the same checksum.
                Ok(read) => assert_eq!(read, points, "byte {at} bit {bit}: other points"),
                Err(e) => {
                    refused += 1;
                    let e = e.to_string();
                    assert!(e.contains(&format!("{EQUITY_ARCHIVE_FILE}:2")), "{e}");
                }
            }
        }
    }
    assert!(refused > 8 * 40, "{refused} flips refused");
    // The journal refuses to load such an archive, naming the line.
    let mut bad = good.clone();
    bad[line_span(&good, 2).start + 8] ^= 1;
    fs::write(&archive, &bad).unwrap();
    let journal = Journal::open(SledStore::open(&path).unwrap()).unwrap();
    let err = journal.load().unwrap_err().to_string();
    assert!(err.contains("checksum mismatch"), "{err}");
}

#[test]
fn archive_lines_without_a_checksum_are_read_only_ahead_of_checked_ones() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join(EQUITY_ARCHIVE_FILE);
    // An archive written before lines carried a checksum, then appended to.
    let old: String = (1..=3)
        .map(|h| serde_json::to_string(&point(h)).unwrap() + "\n")
        .collect();
    fs::write(&archive, &old).unwrap();
    super::equity_archive::append_archive(&archive, &[point(4), point(5)]).unwrap();
    assert_eq!(read_archive(&archive).unwrap(), curve(5));
    // A line without one after those that have one is damage, not history.
    let mut text = fs::read_to_string(&archive).unwrap();
    text.push_str(&(serde_json::to_string(&point(6)).unwrap() + "\n"));
    fs::write(&archive, text).unwrap();
    let err = read_archive(&archive).unwrap_err().to_string();
    assert!(
        err.contains(":6") && err.contains("no checksum, although every line from line 4"),
        "{err}"
    );
}

/// Every record of every tree of the store at `path`.
fn records(path: &Path) -> BTreeMap<(Vec<u8>, Vec<u8>), Vec<u8>> {
    let store = SledStore::open(path).unwrap();
    let db = store.db();
    let mut all = BTreeMap::new();
    for name in db.tree_names() {
        for entry in db.open_tree(&name).unwrap().iter() {
            let (k, v) = entry.unwrap();
            all.insert((name.to_vec(), k.to_vec()), v.to_vec());
        }
    }
    all
}

/// A store that held many large records and then lost most of them: sled keeps the space.
fn bloated(path: &Path) {
    let journal = marked(path, 300, Some(MIN_KEEP_EQUITY));
    let mut store = journal.into_store();
    let big = vec![b'x'; 64 * 1024];
    for i in 0..200 {
        store
            .apply(vec![(format!("bulk/{i:04}"), Some(big.clone()))])
            .unwrap();
    }
    store.flush().unwrap();
    let gone = (0..199).map(|i| (format!("bulk/{i:04}"), None)).collect();
    store.apply(gone).unwrap();
    store.flush().unwrap();
}

/// Opening a store settles an interrupted compaction first; with nothing to settle it must
/// not need the store's parent directory to exist (sled creates it).
#[test]
fn a_store_opens_where_no_directory_exists_yet() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not").join("yet").join("journal");
    let journal = marked(&path, 3, None);
    assert_eq!(journal.load().unwrap().equity, curve(3));
}

#[test]
fn compaction_keeps_every_record_and_gives_space_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal");
    bloated(&path);
    let before = records(&path);
    let done = compact(&path).unwrap();
    assert_eq!(records(&path), before, "every key and value, every tree");
    assert_eq!(done.records, before.len());
    assert!(
        done.after < done.before / 2,
        "{} bytes before, {} after",
        done.before,
        done.after
    );
    let journal = Journal::open(SledStore::open(&path).unwrap()).unwrap();
    assert_eq!(journal.load().unwrap().equity, curve(300));
    for suffix in ["compacting", "compacted", "old"] {
        assert!(!sibling(&path, suffix).exists(), "{suffix} left behind");
    }
}

#[test]
fn compaction_is_refused_while_the_store_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal");
    let journal = marked(&path, 10, None);
    // sled locks the store against other processes; in this process the open handle is
    // found by a child process holding it instead.
    let holder = std::process::Command::new("flock")
        .arg(path.join("db"))
        .args(["sleep", "20"])
        .spawn();
    drop(journal);
    let Ok(mut holder) = holder else {
        return; // no flock(1) here
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    let refused = compact(&path);
    let _ = holder.kill();
    let _ = holder.wait();
    let err = refused.unwrap_err().to_string();
    assert!(err.contains("in use"), "{err}");
}

#[test]
fn a_compaction_that_fails_midway_leaves_the_store_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal");
    bloated(&path);
    let before = records(&path);
    // An equity archive that cannot be copied: the failure comes after the records were.
    let archive = path.join(EQUITY_ARCHIVE_FILE);
    let saved = fs::read(&archive).unwrap();
    fs::remove_file(&archive).unwrap();
    fs::create_dir(&archive).unwrap();
    let err = compact(&path).unwrap_err().to_string();
    assert!(
        err.contains("compaction") && err.contains(EQUITY_ARCHIVE_FILE),
        "{err}"
    );
    assert!(!sibling(&path, "compacting").exists());
    fs::remove_dir(&archive).unwrap();
    fs::write(&archive, saved).unwrap();
    assert_eq!(records(&path), before);
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let name = path.file_name().unwrap().to_string_lossy();
    path.with_file_name(format!("{name}.{suffix}"))
}

/// Copies the directory `from` to `to` (flat: sled's files and `blobs/`).
fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn every_state_a_crash_during_compaction_leaves_opens_with_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let original = dir.path().join("original");
    bloated(&original);
    let expected = records(&original);
    let copy = dir.path().join("copy");
    copy_dir(&original, &copy);
    // The copy of a store: what the staging directories hold at each step.
    type Layout = &'static [(&'static str, bool)];
    let states: [(&str, Layout); 6] = [
        ("mid-copy", &[("", true), ("compacting", false)]),
        ("copy complete", &[("", true), ("compacted", true)]),
        ("between the renames", &[("old", true), ("compacted", true)]),
        ("before the cleanup", &[("", true), ("old", true)]),
        ("old alone", &[("old", true)]),
        ("nothing pending", &[("", true)]),
    ];
    for (state, layout) in states {
        let path = dir
            .path()
            .join(format!("store-{}", state.replace(' ', "-")));
        for (suffix, whole) in layout {
            let at = if suffix.is_empty() {
                path.clone()
            } else {
                sibling(&path, suffix)
            };
            if *whole {
                copy_dir(&copy, &at);
            } else {
                // Half made: sled's config and nothing else.
                fs::create_dir_all(&at).unwrap();
                fs::write(at.join("conf"), b"half").unwrap();
            }
        }
        assert_eq!(records(&path), expected, "{state}");
        for suffix in ["compacting", "compacted", "old"] {
            assert!(!sibling(&path, suffix).exists(), "{state}: {suffix} left");
        }
    }
}
