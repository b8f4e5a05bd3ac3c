//! What every property test of the crate shares: the configuration and byte-level damage.

use keel_core::testing::Rng;

pub use keel_core::testing::props_config as config;

/// Byte-level damage from `seed` (see [`keel_core::testing::damage`]), with the bytes JSON
/// and XML readers trip on; the result is read as UTF-8 with replacement characters, as the
/// HTTP client does.
pub fn damage(bytes: &[u8], seed: u64) -> Vec<u8> {
    const NASTY: &[u8] = b"{}[]\":,\\-+.eE0123456789 ntfu\x00\xff\xc3\x80";
    keel_core::testing::damage(bytes, &mut Rng::new(seed), NASTY)
}
