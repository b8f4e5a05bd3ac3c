//! The equity archive: an append-only file beside the journal's store holding the equity
//! points the journal no longer keeps (see [`Journal::retain_equity`]).
//!
//! A point is appended only once the store holds it durably, and is deleted from the store
//! only once its line is synced, so a crash at any moment leaves every point in the store,
//! the archive, or both (both agree; the store's copy wins). A line cut short by a crash is
//! the last one, never read, and cut off before the next append.
//!
//! Each line is a point's JSON, a tab and the CRC-32 (8 hex digits) of the file's name and
//! that JSON, so that a line damaged on disk is refused naming its line instead of read as a
//! point never written. Lines without a checksum, written before it existed, are read only
//! ahead of the first line that has one.
//!
//! [`Journal::retain_equity`]: super::Journal::retain_equity

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::checksum::crc;
use super::records::JournalError;
use super::store::StoreError;
use crate::model::EquityPoint;

/// The archive's file name in the store's directory: one JSON equity point a line.
pub const EQUITY_ARCHIVE_FILE: &str = "equity.jsonl";

fn io_error(path: &Path, operation: &'static str, e: std::io::Error) -> JournalError {
    JournalError::Store(StoreError::Write {
        path: path.to_path_buf(),
        operation,
        reason: e.to_string(),
    })
}

/// Every complete line's point, in file order; none when the file does not exist. A last
/// line without its newline was cut short by a crash and is left out.
pub fn read_archive(path: &Path) -> Result<Vec<EquityPoint>, JournalError> {
    let mut bytes = Vec::new();
    match File::open(path) {
        Ok(mut file) => file
            .read_to_end(&mut bytes)
            .map_err(|e| io_error(path, "read equity archive", e))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error(path, "open equity archive", e)),
    };
    let complete = bytes
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(&[][..], |end| &bytes[..end]);
    if complete.is_empty() {
        return Ok(Vec::new());
    }
    let mut checked_from = None;
    complete
        .split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, line)| {
            let corrupt = |reason: String| JournalError::Corrupt {
                key: format!("{}:{}", path.display(), i + 1),
                reason,
            };
            let line = std::str::from_utf8(line).map_err(|e| corrupt(e.to_string()))?;
            let json = match line.rsplit_once('\t') {
                Some((json, sum)) => {
                    checked_from.get_or_insert(i + 1);
                    check_line(json, sum).map_err(corrupt)?
                }
                None => match checked_from {
                    Some(first) => {
                        return Err(corrupt(format!(
                            "no checksum, although every line from line {first} has one"
                        )))
                    }
                    None => line,
                },
            };
            serde_json::from_str(json).map_err(|e| corrupt(e.to_string()))
        })
        .collect()
}

/// `json` once `sum` is its checksum; otherwise why not.
fn check_line<'a>(json: &'a str, sum: &str) -> Result<&'a str, String> {
    let expected = crc(EQUITY_ARCHIVE_FILE, json.as_bytes());
    match u32::from_str_radix(sum, 16) {
        Ok(stored) if sum.len() == 8 && stored == expected => Ok(json),
        _ => Err(format!(
            "checksum mismatch (stored {sum:?}, computed {expected:08x}): the line was damaged \
             on disk"
        )),
    }
}

/// Appends `points` (oldest first) and syncs them: durable once this returns `Ok`. A line
/// cut short by an earlier crash is cut off first.
pub fn append_archive(path: &Path, points: &[EquityPoint]) -> Result<(), JournalError> {
    let err = |op, e| io_error(path, op, e);
    let created = !path.exists();
    let mut file = OpenOptions::new()
        .create(true)
        .read(true)
        .write(true)
        .truncate(false)
        .open(path)
        .map_err(|e| err("open equity archive", e))?;
    let end = complete_length(&mut file).map_err(|e| err("read equity archive", e))?;
    file.set_len(end)
        .and_then(|_| file.seek(SeekFrom::Start(end)).map(|_| ()))
        .map_err(|e| err("cut a torn equity archive line", e))?;
    let mut lines = Vec::with_capacity(points.len() * 96);
    for point in points {
        let json = serde_json::to_string(point).map_err(|e| JournalError::Encode {
            key: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let sum = crc(EQUITY_ARCHIVE_FILE, json.as_bytes());
        lines.extend_from_slice(format!("{json}\t{sum:08x}\n").as_bytes());
    }
    file.write_all(&lines)
        .and_then(|_| file.sync_data())
        .map_err(|e| err("append to equity archive", e))?;
    if created {
        // The new file's name is durable only once its directory is synced.
        if let Some(dir) = path.parent() {
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| err("sync the store directory", e))?;
        }
    }
    Ok(())
}

/// The length of the file up to and with its last newline.
fn complete_length(file: &mut File) -> std::io::Result<u64> {
    let len = file.metadata()?.len();
    let mut at = len;
    let mut buf = [0u8; 4096];
    while at > 0 {
        let start = at.saturating_sub(buf.len() as u64);
        let chunk = &mut buf[..(at - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(chunk)?;
        if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        at = start;
    }
    Ok(0)
}

/// The archived points followed by the store's, in time order. A crash between an append
/// and the deletes that follow it leaves a bar in both, or archived twice: the store's point
/// is taken, and an archived bar only once.
pub fn merge(archived: Vec<EquityPoint>, held: Vec<EquityPoint>) -> Vec<EquityPoint> {
    let first_held = held.first().map(|p| p.ts);
    let mut curve: Vec<EquityPoint> = Vec::with_capacity(archived.len() + held.len());
    for point in archived {
        let newer = curve.last().is_none_or(|last| point.ts > last.ts);
        if newer && first_held.is_none_or(|first| point.ts < first) {
            curve.push(point);
        }
    }
    curve.extend(held);
    curve
}
