//! The `fusion` config section.

use serde::{Deserialize, Serialize};

use crate::config_check::{in_range, key, ConfigError};
use crate::model::Severity;

/// How setup, sentiment, events and regime are weighed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FusionConfig {
    /// Share of the confidence that is the technical score (0..=1; the weights sum to 1).
    pub technical_weight: f64,
    /// Share that is the technical score as revised by sentiment and events (0..=1).
    pub sentiment_weight: f64,
    /// Sentiment older than this (hours before the setup) weighs nothing (1..=720).
    pub sentiment_max_age_hours: u32,
    /// Events older than this count neither for impact nor for vetoes (1..=720).
    pub event_max_age_hours: u32,
    /// Subtracted from a long's confidence in a bear regime (0..=1).
    pub bear_long_penalty: f64,
    /// Subtracted from a short's confidence in a bull regime (0..=1).
    pub bull_short_penalty: f64,
    /// With the analyst unavailable, confidence is the technical score times this (0..=1).
    pub technical_only_factor: f64,
    /// A negative event at least this severe vetoes new longs (any severity; lower vetoes more).
    pub veto_severity: Severity,
}

impl Default for FusionConfig {
    fn default() -> Self {
        Self {
            technical_weight: 0.6,
            sentiment_weight: 0.4,
            sentiment_max_age_hours: 12,
            event_max_age_hours: 48,
            bear_long_penalty: 0.15,
            bull_short_penalty: 0.15,
            technical_only_factor: 0.8,
            veto_severity: Severity::Critical,
        }
    }
}

impl FusionConfig {
    /// Checks every field, naming the key (`fusion.sentiment_weight`) and the allowed range.
    pub fn validate(&self, section: &str) -> Result<(), ConfigError> {
        in_range(section, "technical_weight", self.technical_weight, 0.0, 1.0)?;
        in_range(section, "sentiment_weight", self.sentiment_weight, 0.0, 1.0)?;
        let sum = self.technical_weight + self.sentiment_weight;
        if (sum - 1.0).abs() > 1e-9 {
            return Err(ConfigError::between(
                key(section, "sentiment_weight"),
                key(section, "technical_weight"),
                format!("technical_weight + sentiment_weight is {sum}, must be 1"),
            ));
        }
        in_range(
            section,
            "sentiment_max_age_hours",
            self.sentiment_max_age_hours,
            1,
            720,
        )?;
        in_range(
            section,
            "event_max_age_hours",
            self.event_max_age_hours,
            1,
            720,
        )?;
        in_range(
            section,
            "bear_long_penalty",
            self.bear_long_penalty,
            0.0,
            1.0,
        )?;
        in_range(
            section,
            "bull_short_penalty",
            self.bull_short_penalty,
            0.0,
            1.0,
        )?;
        in_range(
            section,
            "technical_only_factor",
            self.technical_only_factor,
            0.0,
            1.0,
        )?;
        // Every severity is a valid threshold: a lower one only vetoes more longs.
        Ok(())
    }

    /// Sentiment max age in milliseconds.
    pub fn sentiment_max_age_ms(&self) -> i64 {
        i64::from(self.sentiment_max_age_hours) * 3_600_000
    }

    /// Event max age in milliseconds.
    pub fn event_max_age_ms(&self) -> i64 {
        i64::from(self.event_max_age_hours) * 3_600_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        FusionConfig::default().validate("fusion").unwrap();
    }

    #[test]
    fn weights_must_sum_to_one() {
        let cfg = FusionConfig {
            sentiment_weight: 0.5,
            ..FusionConfig::default()
        };
        let err = cfg.validate("fusion").unwrap_err();
        assert_eq!(err.key, "fusion.sentiment_weight");
        assert!(err.message.contains("must be 1"), "{err}");
        let cfg = FusionConfig {
            technical_weight: 1.0,
            sentiment_weight: 0.0,
            ..FusionConfig::default()
        };
        cfg.validate("fusion").unwrap();
    }

    #[test]
    fn every_field_is_checked_by_name() {
        let cases = [
            (
                FusionConfig {
                    technical_weight: f64::NAN,
                    ..FusionConfig::default()
                },
                "fusion.technical_weight",
            ),
            (
                FusionConfig {
                    sentiment_max_age_hours: 0,
                    ..FusionConfig::default()
                },
                "fusion.sentiment_max_age_hours",
            ),
            (
                FusionConfig {
                    event_max_age_hours: 1000,
                    ..FusionConfig::default()
                },
                "fusion.event_max_age_hours",
            ),
            (
                FusionConfig {
                    bear_long_penalty: -0.1,
                    ..FusionConfig::default()
                },
                "fusion.bear_long_penalty",
            ),
            (
                FusionConfig {
                    bull_short_penalty: 2.0,
                    ..FusionConfig::default()
                },
                "fusion.bull_short_penalty",
            ),
            (
                FusionConfig {
                    technical_only_factor: 1.5,
                    ..FusionConfig::default()
                },
                "fusion.technical_only_factor",
            ),
        ];
        for (cfg, key) in cases {
            assert_eq!(cfg.validate("fusion").unwrap_err().key, key);
        }
    }

    #[test]
    fn reads_severity_in_config_spelling() {
        let cfg: FusionConfig = serde_json::from_str(r#"{"veto_severity": "HIGH"}"#).unwrap();
        assert_eq!(cfg.veto_severity, Severity::High);
        assert_eq!(cfg.technical_weight, 0.6);
    }
}
