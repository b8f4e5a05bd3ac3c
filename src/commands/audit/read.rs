//! Reading audit files: JSON lines, one event each, from files or directories of rotated files.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use keel_model::DomainEvent;
use tracing::warn;

/// One event and where it was read.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditLine {
    /// The file.
    pub file: PathBuf,
    /// Its line number, from 1.
    pub line: usize,
    /// The event.
    pub event: DomainEvent,
}

/// Every event of `paths` in order: each file as given, each directory's `*.jsonl` files in
/// name order (rotated files sort by date). A malformed line is an error naming the file and
/// the line; an unterminated malformed last line (cut short by a crash) is skipped with a
/// warning.
pub fn read_trail(paths: &[PathBuf]) -> anyhow::Result<Vec<AuditLine>> {
    let mut events = Vec::new();
    for file in files(paths)? {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading the audit file {}", file.display()))?;
        read_text(&file, &text, &mut events)?;
    }
    Ok(events)
}

fn files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if !path.is_dir() {
            files.push(path.clone());
            continue;
        }
        let entries = std::fs::read_dir(path)
            .with_context(|| format!("listing the audit directory {}", path.display()))?;
        let mut found = Vec::new();
        for entry in entries {
            let entry =
                entry.with_context(|| format!("listing the audit directory {}", path.display()))?;
            let file = entry.path();
            if file.is_file() && file.extension().is_some_and(|e| e == "jsonl") {
                found.push(file);
            }
        }
        if found.is_empty() {
            bail!("{} holds no audit file (*.jsonl)", path.display());
        }
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

fn read_text(file: &Path, text: &str, events: &mut Vec<AuditLine>) -> anyhow::Result<()> {
    let count = text.lines().count();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<DomainEvent>(line) {
            Ok(event) => events.push(AuditLine {
                file: file.to_path_buf(),
                line: i + 1,
                event,
            }),
            Err(error) if i + 1 == count && !text.ends_with('\n') => {
                warn!(file = %file.display(), line = i + 1, %error, "unterminated last line skipped (a write cut short?)");
                eprintln!(
                    "warning: {}:{}: unterminated last line skipped (a write cut short?): {error}",
                    file.display(),
                    i + 1
                );
            }
            Err(error) => bail!("{}:{}: not an audit event: {error}", file.display(), i + 1),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRADE: &str = r#"{"event":"trade_closed","ts":7200000,"symbol":"BTCUSDT","entry_time":3600000,"qty":"1","entry_price":"100","exit_price":"110","pnl":"9.8","fees":"0.2","reason":"take_profit"}"#;

    #[test]
    fn a_malformed_line_names_its_file_and_line() {
        let mut events = Vec::new();
        let text = format!("{TRADE}\n{{\"event\":\"fill\"\n{TRADE}\n");
        let err = read_text(Path::new("a.jsonl"), &text, &mut events).unwrap_err();
        assert!(
            err.to_string().starts_with("a.jsonl:2: not an audit event"),
            "{err}"
        );
    }

    #[test]
    fn an_unterminated_last_line_is_skipped() {
        let mut events = Vec::new();
        let text = format!("{TRADE}\n\n{}", &TRADE[..40]);
        read_text(Path::new("a.jsonl"), &text, &mut events).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].line, 1);
    }
}
