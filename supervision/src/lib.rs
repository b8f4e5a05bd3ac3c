//! Generic supervision for keel (no trading types).
//!
//! The supervisor tree, restart policies, circuit breakers and the health registry land with
//! the supervision issue; this crate exists now so that the dependency direction of
//! `docs/architecture.md` (supervision ← actors ← keel) holds from the first commit.

#![warn(missing_docs)]
