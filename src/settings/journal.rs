//! The `[journal]` section: how much of a run the journal's store keeps, and when it is
//! compacted (see `docs/operations.md`, "Disk and retention"). Operational, like `[hangs]`:
//! it shapes no decision, and the equity curve a run reports is the same whatever it says.

use keel_actors::journal::MIN_KEEP_EQUITY;
use keel_core::config_check::{in_range, ConfigError};
use serde::{Deserialize, Serialize};

/// The most equity points the store may be told to keep (about 100 MB of records).
const MAX_KEEP_EQUITY: usize = 1_000_000;

/// The largest start-up compaction threshold accepted, in MiB (1 TiB).
const MAX_COMPACT_MIB: u64 = 1 << 20;

/// The `[journal]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JournalSettings {
    /// Equity points kept in the store; older ones move to the equity archive beside it
    /// (`equity.jsonl`) once the store holds twice as many.
    pub keep_equity_points: usize,
    /// At start, before any actor opens it, the store is compacted when its files take more
    /// than this many MiB; 0 never compacts at start (`keel compact` still does).
    pub compact_above_mib: u64,
}

impl Default for JournalSettings {
    fn default() -> Self {
        Self {
            keep_equity_points: 4_096,
            compact_above_mib: 256,
        }
    }
}

impl JournalSettings {
    /// Checks the section.
    pub fn validate(&self, section: &str) -> Result<(), ConfigError> {
        in_range(
            section,
            "keep_equity_points",
            self.keep_equity_points,
            MIN_KEEP_EQUITY,
            MAX_KEEP_EQUITY,
        )?;
        in_range(
            section,
            "compact_above_mib",
            self.compact_above_mib,
            0,
            MAX_COMPACT_MIB,
        )
    }

    /// The store size above which a start compacts it, in bytes; `None` never.
    pub fn compact_above_bytes(&self) -> Option<u64> {
        (self.compact_above_mib > 0).then_some(self.compact_above_mib << 20)
    }
}

#[cfg(test)]
mod tests {
    use crate::runtime::fingerprint;
    use crate::settings::Settings;

    fn with_journal(section: &str) -> Result<Settings, String> {
        let mut text = include_str!("../../config/default.toml").to_string();
        text.push_str(section);
        Settings::from_toml(&text, "test").map_err(|e| e.to_string())
    }

    #[test]
    fn too_few_points_kept_is_refused_naming_its_key() {
        let err = with_journal("\n[journal]\nkeep_equity_points = 3\n").unwrap_err();
        assert!(err.contains("journal.keep_equity_points"), "{err}");
        let ok = with_journal("\n[journal]\nkeep_equity_points = 16\ncompact_above_mib = 0\n");
        assert_eq!(ok.unwrap().journal.compact_above_bytes(), None);
    }

    #[test]
    fn the_section_does_not_change_the_fingerprint() {
        let plain = with_journal("").unwrap();
        let other = with_journal("\n[journal]\nkeep_equity_points = 20\n").unwrap();
        assert_eq!(fingerprint(&plain), fingerprint(&other));
    }
}
