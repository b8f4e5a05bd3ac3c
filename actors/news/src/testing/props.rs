//! What every property test of the crate shares: the configuration and byte-level damage.

use keel_core::testing::Rng;

pub use keel_core::testing::props_config as config;

/// Byte-level damage: flips, deletions, insertions, repeats; the result read as UTF-8 with
/// replacement characters, as the HTTP client does.
pub fn damage(bytes: &[u8], seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut out = bytes.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len() + 1);
        const NASTY: &[u8] = b"{}[]\":,\\-+.eE0123456789 ntfu\x00\xff\xc3\x80";
        let byte = if rng.one_in(2) {
            *rng.pick(NASTY)
        } else {
            rng.next() as u8
        };
        match rng.below(5) {
            0 if at < out.len() => out[at] = byte,
            1 if at < out.len() => {
                out.remove(at);
            }
            2 => out.insert(at, byte),
            3 if at < out.len() => {
                let end = (at + 1 + rng.below(16)).min(out.len());
                let copy = out[at..end].to_vec();
                out.splice(at..at, copy);
            }
            _ => out.truncate(at),
        }
    }
    out
}
