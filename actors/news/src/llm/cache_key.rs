//! The content hash an analysis is cached under.

use std::fmt;

use sha2::{Digest, Sha256};

use super::prompt::PROMPT_VERSION;
use crate::model::Symbol;
use crate::Headline;

/// SHA-256 of (prompt version, provider, model, symbol, every headline's time, source and
/// title), each field length-prefixed so that no two inputs share an encoding. The same
/// window asked of the same model with the same prompt always has the same key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CacheKey([u8; 32]);

impl CacheKey {
    /// The key of one analysis request. Pure.
    pub fn new(provider: &str, model: &str, symbol: &Symbol, headlines: &[&Headline]) -> Self {
        let mut hash = Sha256::new();
        let mut field = |bytes: &[u8]| {
            hash.update((bytes.len() as u64).to_le_bytes());
            hash.update(bytes);
        };
        field(PROMPT_VERSION.as_bytes());
        field(provider.as_bytes());
        field(model.as_bytes());
        field(symbol.as_str().as_bytes());
        field(&(headlines.len() as u64).to_le_bytes());
        for headline in headlines {
            field(&headline.published.millis().to_le_bytes());
            field(headline.source.as_bytes());
            field(headline.title.as_bytes());
        }
        Self(hash.finalize().into())
    }

    /// The raw 32 bytes (the sled key).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A key from raw bytes (as read back from sled).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl fmt::Display for CacheKey {
    /// The first 8 bytes in hex: enough to tell keys apart in a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0[..8].iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CacheKey({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Timestamp;

    fn headline(title: &str, source: &str) -> Headline {
        Headline {
            published: Timestamp(1_516_000_000_000),
            title: title.into(),
            source: source.into(),
            symbols: vec![],
        }
    }

    #[test]
    fn every_part_of_the_input_changes_the_key() {
        let btc = Symbol::parse("BTCUSDT").unwrap();
        let eth = Symbol::parse("ETHUSDT").unwrap();
        let a = headline("Bitcoin up", "x.com");
        let b = headline("Bitcoin down", "x.com");
        let base = CacheKey::new("openai", "m", &btc, &[&a]);
        assert_eq!(base, CacheKey::new("openai", "m", &btc, &[&a]));
        let others = [
            CacheKey::new("anthropic", "m", &btc, &[&a]),
            CacheKey::new("openai", "m2", &btc, &[&a]),
            CacheKey::new("openai", "m", &eth, &[&a]),
            CacheKey::new("openai", "m", &btc, &[&b]),
            CacheKey::new("openai", "m", &btc, &[&a, &a]),
            CacheKey::new("openai", "m", &btc, &[&headline("Bitcoin up", "y.com")]),
            // Field boundaries are part of the encoding: "ab"+"c" is not "a"+"bc".
            CacheKey::new("openaim", "", &btc, &[&a]),
        ];
        for other in others {
            assert_ne!(base, other);
        }
        assert_eq!(base.to_string().len(), 16);
    }
}
