//! What can go wrong between keel and NATS.

use std::path::PathBuf;

/// An error of the distributed transport.
#[derive(Debug, thiserror::Error)]
pub enum DistributedError {
    /// The NATS server could not be reached.
    #[error("cannot connect to NATS at {url}: {source}")]
    Connect {
        /// The server URL tried.
        url: String,
        /// Why.
        source: async_nats::ConnectError,
    },
    /// A JetStream request (stream, consumer, publish, fetch) failed.
    #[error("NATS: {action} failed: {source}")]
    Nats {
        /// What was attempted, e.g. `publishing cell 3f2a of sweep s1`.
        action: String,
        /// The client's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A message larger than the server's `max_payload`.
    #[error("{what} is {len} bytes, more than the NATS server's max_payload")]
    TooLarge {
        /// The message.
        what: String,
        /// Its payload's length.
        len: usize,
    },
    /// A stream or consumer exists with a configuration this code cannot work with (made by
    /// another program or another version): keel does not change it silently.
    #[error("NATS {what} exists with {found}, keel needs {expected}; delete it on the server or point keel at another one")]
    Incompatible {
        /// The stream or consumer.
        what: String,
        /// What keel needs.
        expected: String,
        /// What the server has.
        found: String,
    },
    /// An id that is malformed: a sweep or cell id that is not one subject token, an object
    /// hash that is not 64 hex digits.
    #[error("invalid {kind} id {id:?}: {rule}")]
    InvalidId {
        /// `sweep`, `cell` or `object`.
        kind: &'static str,
        /// The id given.
        id: String,
        /// What an id of this kind must be.
        rule: &'static str,
    },
    /// A message that keel did not write (no cell id header, an unknown subject).
    #[error("malformed message on {subject}: {reason}")]
    Malformed {
        /// Where it came from.
        subject: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Downloaded bytes whose SHA-256 is not the one asked for.
    #[error("object {expected}: downloaded bytes hash to {found}")]
    HashMismatch {
        /// The hash asked for.
        expected: String,
        /// The hash of what arrived.
        found: String,
    },
    /// A file of the object cache could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl DistributedError {
    /// A failed NATS request: `action` says what was attempted.
    pub(crate) fn nats(
        action: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::Nats {
            action: action.into(),
            source: source.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
