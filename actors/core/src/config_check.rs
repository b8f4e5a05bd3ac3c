//! Validation helpers shared by every core's config section.
//!
//! Each section validates itself once at startup and names the offending key (with its full
//! path, e.g. `risk.max_open_positions`) and the allowed range. The implementation lives in
//! `keel-supervision` (the crate every other depends on), so there is one of it.

pub use keel_supervision::config::{in_range, key, positive, ConfigError};

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
