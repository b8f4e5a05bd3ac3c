//! The `[hangs]` section: how long an actor may take over one message before it is declared
//! hung (see `docs/chaos.md`). Operational, like `[control]`: it shapes no decision.

use std::collections::BTreeMap;
use std::time::Duration;

use keel_actors::runtime::Deadlines;
use keel_core::config_check::{in_range, ConfigError};
use serde::{Deserialize, Serialize};

/// The longest deadline accepted, in milliseconds (an hour).
const MAX_DEADLINE_MS: u64 = 3_600_000;

/// The `[hangs]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HangSettings {
    /// Every actor's deadline per message, in milliseconds.
    pub deadline_ms: u64,
    /// Deadlines of particular actors, by name (`execution`, `order_manager`,
    /// `symbol:BTCUSDT`, ...), in milliseconds.
    pub actors: BTreeMap<String, u64>,
}

impl Default for HangSettings {
    fn default() -> Self {
        Self {
            deadline_ms: 10_000,
            // A venue call is several requests, each bounded by the client's timeout (10 s by
            // default), some retried after a backoff.
            actors: BTreeMap::from([("execution".to_string(), 120_000)]),
        }
    }
}

impl HangSettings {
    /// Checks the section; `actors` are the names of the actors this run has.
    pub fn validate(&self, section: &str, actors: &[String]) -> Result<(), ConfigError> {
        in_range(section, "deadline_ms", self.deadline_ms, 1, MAX_DEADLINE_MS)?;
        let table = format!("{section}.actors");
        for (name, &ms) in &self.actors {
            if !actors.contains(name) {
                return Err(ConfigError::between(
                    format!("{table}.{name}"),
                    "data.candles",
                    format!("no such actor; this run has {}", actors.join(", ")),
                ));
            }
            in_range(&table, name, ms, 1, MAX_DEADLINE_MS)?;
        }
        Ok(())
    }

    /// The deadlines the supervision tree enforces.
    pub fn deadlines(&self) -> Deadlines {
        Deadlines {
            default: Duration::from_millis(self.deadline_ms),
            by_actor: self
                .actors
                .iter()
                .map(|(name, &ms)| (name.clone(), Duration::from_millis(ms)))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::settings::Settings;

    fn with_hangs(section: &str) -> Result<Settings, String> {
        let mut text = include_str!("../../config/default.toml").to_string();
        text.push_str(section);
        let settings: Settings = toml::from_str(&text).map_err(|e| e.to_string())?;
        settings.validate().map_err(|e| e.to_string())?;
        Ok(settings)
    }

    #[test]
    fn deadlines_by_actor_override_the_default_and_print_in_the_tree() {
        let settings =
            with_hangs("\n[hangs]\ndeadline_ms = 250\n[hangs.actors]\norder_manager = 900\n")
                .unwrap();
        let deadlines = settings.hangs.deadlines();
        assert_eq!(deadlines.default.as_millis(), 250);
        assert_eq!(deadlines.by_actor["order_manager"].as_millis(), 900);
        // Naming one actor replaces the default table: execution takes the default then.
        assert!(!deadlines.by_actor.contains_key("execution"));
        let tree = settings
            .tree()
            .unwrap()
            .render(&settings.supervision, &deadlines);
        assert!(
            tree.contains("order_manager (permanent, deadline 900 ms)"),
            "{tree}"
        );
        assert!(tree.contains("risk (permanent, deadline 250 ms)"), "{tree}");
    }

    #[test]
    fn an_unknown_actor_or_a_zero_deadline_is_refused_naming_its_key() {
        let unknown = with_hangs("\n[hangs.actors]\norder_manger = 900\n").unwrap_err();
        assert!(unknown.contains("hangs.actors.order_manger"), "{unknown}");
        assert!(
            unknown.contains("order_manager"),
            "lists the actors: {unknown}"
        );
        let zero = with_hangs("\n[hangs]\ndeadline_ms = 0\n").unwrap_err();
        assert!(zero.contains("hangs.deadline_ms"), "{zero}");
        let huge = with_hangs("\n[hangs.actors]\nrisk = 99999999999\n").unwrap_err();
        assert!(huge.contains("hangs.actors.risk"), "{huge}");
    }
}
