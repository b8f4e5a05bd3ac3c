//! The content hash an analysis or a decision is cached under.

use std::fmt;

use sha2::{Digest, Sha256};

use super::decision_prompt::DECISION_PROMPT_VERSION;
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
        let mut fields = Fields::default();
        fields.add(PROMPT_VERSION.as_bytes());
        fields.add(provider.as_bytes());
        fields.add(model.as_bytes());
        fields.add(symbol.as_str().as_bytes());
        fields.add(&(headlines.len() as u64).to_le_bytes());
        for headline in headlines {
            fields.add(&headline.published.millis().to_le_bytes());
            fields.add(headline.source.as_bytes());
            fields.add(headline.title.as_bytes());
        }
        fields.key()
    }

    /// The key of one decision request: SHA-256 of (a decision tag, the decision prompt
    /// version, provider, model, the context's exact bytes), length-prefixed like
    /// [`Self::new`]. The tag comes first where a sentiment key has its prompt version, so no
    /// decision key is ever a sentiment key. Pure.
    pub fn of_decision(provider: &str, model: &str, context_json: &str) -> Self {
        let mut fields = Fields::default();
        fields.add(DECISION_TAG.as_bytes());
        fields.add(DECISION_PROMPT_VERSION.as_bytes());
        fields.add(provider.as_bytes());
        fields.add(model.as_bytes());
        fields.add(context_json.as_bytes());
        fields.key()
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

/// The first field of every decision key (a sentiment key starts with [`PROMPT_VERSION`]).
const DECISION_TAG: &str = "keel-news/decision";

/// A SHA-256 of fields, each prefixed with its length so that no two inputs share an encoding.
#[derive(Default)]
struct Fields(Sha256);

impl Fields {
    fn add(&mut self, bytes: &[u8]) {
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
    }

    fn key(self) -> CacheKey {
        CacheKey(self.0.finalize().into())
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

    #[test]
    fn the_known_sentiment_key_is_unchanged() {
        // Recorded caches stay valid: the encoding of sentiment keys is fixed.
        let btc = Symbol::parse("BTCUSDT").unwrap();
        let key = CacheKey::new("openai", "m", &btc, &[&headline("Bitcoin up", "x.com")]);
        let mut hash = Sha256::new();
        let mut field = |bytes: &[u8]| {
            hash.update((bytes.len() as u64).to_le_bytes());
            hash.update(bytes);
        };
        field(PROMPT_VERSION.as_bytes());
        field(b"openai");
        field(b"m");
        field(b"BTCUSDT");
        field(&1u64.to_le_bytes());
        field(&1_516_000_000_000i64.to_le_bytes());
        field(b"x.com");
        field(b"Bitcoin up");
        assert_eq!(key.as_bytes(), &<[u8; 32]>::from(hash.finalize()));
    }

    #[test]
    fn decision_keys_follow_every_input_and_never_meet_sentiment_keys() {
        let context = r#"{"symbol":"BTCUSDT","close":"100"}"#;
        let base = CacheKey::of_decision("openai", "m", context);
        assert_eq!(base, CacheKey::of_decision("openai", "m", context));
        let others = [
            CacheKey::of_decision("anthropic", "m", context),
            CacheKey::of_decision("openai", "m2", context),
            // The exact bytes: the same JSON written differently is another context.
            CacheKey::of_decision("openai", "m", r#"{"symbol": "BTCUSDT","close":"100"}"#),
            CacheKey::of_decision("openai", "m", r#"{"symbol":"BTCUSDT","close":"101"}"#),
            CacheKey::of_decision("openaim", "", context),
        ];
        for other in others {
            assert_ne!(base, other);
        }
        // A sentiment key over the same provider and model, with the context as a title.
        let btc = Symbol::parse("BTCUSDT").unwrap();
        let h = headline(context, "x.com");
        assert_ne!(base, CacheKey::new("openai", "m", &btc, &[&h]));
        assert_ne!(
            CacheKey::of_decision("openai", "m", ""),
            CacheKey::new("openai", "m", &btc, &[])
        );
    }
}
