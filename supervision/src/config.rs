//! The error every config section returns from `validate`, and small helpers: the one
//! implementation, shared by every crate of keel (`keel-actors` re-exports it).
//!
//! The shape matches `keel-actors`' `ConfigError` (a dotted key and a message) so that the
//! composition root can convert one into the other without losing the key.

use std::fmt::Display;

/// A config value that is out of range or inconsistent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid config `{key}`: {message}")]
pub struct ConfigError {
    /// Full dotted path of the key, e.g. `supervision.max_restarts`.
    pub key: String,
    /// What is wrong and what is allowed.
    pub message: String,
    /// The other key of a rule between two keys (`strategy.sma_slow` when `sma_fast` must be
    /// below it): each value may be valid on its own, only their combination is not. `None`
    /// for a value that is wrong by itself. `keel sweep` skips a cell that breaks such a rule
    /// and refuses a value wrong by itself.
    pub between: Option<String>,
}

impl ConfigError {
    /// An error for `key` with a free-form message.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
            between: None,
        }
    }

    /// An error for `key` that breaks a rule between it and `other` (see
    /// [`between`](Self::between)).
    pub fn between(
        key: impl Into<String>,
        other: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            between: Some(other.into()),
            ..Self::new(key, message)
        }
    }
}

/// Joins a section prefix and a key: `key("breaker", "window_size")` is `breaker.window_size`.
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
    T: PartialOrd + std::fmt::Display + Copy,
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
    fn errors_name_the_key_and_the_range() {
        let err = in_range("breaker", "window_size", 0u32, 1, 10).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid config `breaker.window_size`: 0 is outside the allowed range 1..=10"
        );
        assert_eq!(key("", "x"), "x");
        assert!(in_range("a", "b", f64::NAN, 0.0, 1.0).is_err());
        assert!(in_range("a", "b", 1.0, 0.0, 1.0).is_ok());
    }
}
