//! Validation helpers shared by every core's config section.
//!
//! Each section validates itself once at startup and names the offending key (with its full
//! path, e.g. `risk.max_open_positions`) and the allowed range.

use std::fmt::Display;

/// A config value that is out of range or inconsistent.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid config `{key}`: {message}")]
pub struct ConfigError {
    /// Full dotted path of the key, e.g. `risk.max_risk_per_trade_pct`.
    pub key: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl ConfigError {
    /// An error for `key` with a free-form message.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Joins a section prefix and a key: `key("risk", "max_open_positions")`.
pub fn key(section: &str, name: &str) -> String {
    if section.is_empty() {
        name.to_string()
    } else {
        format!("{section}.{name}")
    }
}

/// Checks `min <= value <= max` (both inclusive), rejecting NaN.
pub fn in_range<T>(section: &str, name: &str, value: T, min: T, max: T) -> Result<(), ConfigError>
where
    T: PartialOrd + Display + Copy,
{
    // `!(a <= b)` rather than `a > b` so that NaN is rejected too.
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    if !(min <= value && value <= max) {
        return Err(ConfigError::new(
            key(section, name),
            format!("{value} is outside the allowed range {min}..={max}"),
        ));
    }
    Ok(())
}

/// Checks `value > 0` (rejecting NaN).
pub fn positive<T>(section: &str, name: &str, value: T, zero: T) -> Result<(), ConfigError>
where
    T: PartialOrd + Display + Copy,
{
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    if !(value > zero) {
        return Err(ConfigError::new(
            key(section, name),
            format!("{value} must be greater than {zero}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_errors_name_the_key_and_the_range() {
        let err = in_range("risk", "max_open_positions", 0u32, 1, 100).unwrap_err();
        assert_eq!(err.key, "risk.max_open_positions");
        assert_eq!(
            err.to_string(),
            "invalid config `risk.max_open_positions`: 0 is outside the allowed range 1..=100"
        );
        assert!(in_range("a", "b", f64::NAN, 0.0, 1.0).is_err());
        assert!(positive("a", "b", f64::NAN, 0.0).is_err());
        assert!(in_range("a", "b", 0.5, 0.0, 1.0).is_ok());
    }
}
