//! The names a sweep's messages are addressed by: sweep and cell ids, each one NATS subject
//! token.

use std::fmt;
use std::str::FromStr;

use super::DistributedError;

/// Longest id accepted: a subject token, well under NATS's limits even with the prefix.
const MAX_LEN: usize = 64;

/// Whether `text` may be a subject token: 1 to 64 ASCII letters, digits, `-` or `_` (a hex
/// hash qualifies). Dots, wildcards (`*`, `>`) and whitespace would change the subject's
/// meaning, so they are refused rather than escaped.
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_LEN
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

macro_rules! token_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The id, validated: 1 to 64 ASCII letters, digits, `-` or `_`.
            pub fn new(id: impl Into<String>) -> Result<Self, DistributedError> {
                let id = id.into();
                if is_token(&id) {
                    Ok(Self(id))
                } else {
                    Err(DistributedError::InvalidId {
                        kind: $kind,
                        id,
                        rule: "use 1 to 64 ASCII letters, digits, '-' or '_'",
                    })
                }
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = DistributedError;

            fn from_str(id: &str) -> Result<Self, Self::Err> {
                Self::new(id)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

token_id!(
    /// One sweep: its cells are on `keel.cells.<sweep>`, its results under
    /// `keel.results.<sweep>.`.
    SweepId,
    "sweep"
);

token_id!(
    /// One cell of a sweep (one backtest); unique within its sweep, e.g. a hex hash of its
    /// parameters.
    CellId,
    "cell"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_hashes_and_plain_names_are_ids() {
        assert!(CellId::new("9f86d081884c7d659a2feaa0c55ad015").is_ok());
        assert!(SweepId::new("grid-2024_01").is_ok());
    }

    #[test]
    fn what_would_change_a_subject_is_refused() {
        for bad in ["", "a.b", "a*", ">", "a b", "é", &"x".repeat(65)] {
            let err = CellId::new(bad).unwrap_err();
            assert!(err.to_string().contains("cell id"), "{err}");
        }
    }
}
