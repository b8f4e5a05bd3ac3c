//! Typed symbol and asset ids.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Quote assets recognised when splitting a pair such as `BTCUSDT`, longest first.
const QUOTES: [&str; 8] = ["FDUSD", "USDT", "USDC", "BUSD", "TUSD", "BTC", "ETH", "BNB"];

/// A symbol that could not be understood.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid symbol `{0}`: expected a pair such as BTCUSDT, BTC_USDT or BTC/USDT")]
pub struct SymbolError(pub String);

/// An asset such as `BTC` or `USDT`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Asset(pub Arc<str>);

impl Asset {
    /// The asset code, upper case.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Asset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A spot trading pair in Binance's form, e.g. `BTCUSDT`. Cheap to clone.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Symbol {
    name: Arc<str>,
    base_len: usize,
}

impl Symbol {
    /// Parses `BTCUSDT`, `BTC_USDT`, `BTC/USDT` or `btc-usdt` into `BTCUSDT`.
    pub fn parse(text: &str) -> Result<Self, SymbolError> {
        let upper = text.trim().to_ascii_uppercase();
        let (base, quote) = match upper.split_once(['_', '/', '-']) {
            Some((b, q)) => (b.to_string(), q.to_string()),
            None => {
                let quote = QUOTES
                    .iter()
                    .find(|q| upper.len() > q.len() && upper.ends_with(*q))
                    .ok_or_else(|| SymbolError(text.to_string()))?;
                (
                    upper[..upper.len() - quote.len()].to_string(),
                    quote.to_string(),
                )
            }
        };
        let valid = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric());
        if !valid(&base) || !valid(&quote) {
            return Err(SymbolError(text.to_string()));
        }
        Ok(Self {
            base_len: base.len(),
            name: format!("{base}{quote}").into(),
        })
    }

    /// The exchange name, e.g. `BTCUSDT`.
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// The base asset, e.g. `BTC`.
    pub fn base(&self) -> Asset {
        Asset(self.name[..self.base_len].into())
    }

    /// The quote asset, e.g. `USDT`.
    pub fn quote(&self) -> Asset {
        Asset(self.name[self.base_len..].into())
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl fmt::Debug for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Symbol({})", self.name)
    }
}

impl std::str::FromStr for Symbol {
    type Err = SymbolError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Symbol {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Serialised with a slash so that the split survives a round trip exactly.
        serializer.serialize_str(&format!("{}/{}", self.base(), self.quote()))
    }
}

impl<'de> Deserialize<'de> for Symbol {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Symbol::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_common_spelling() {
        for text in ["BTCUSDT", "BTC_USDT", "btc/usdt", "BTC-USDT"] {
            let s = Symbol::parse(text).unwrap();
            assert_eq!(s.as_str(), "BTCUSDT");
            assert_eq!(s.base().as_str(), "BTC");
            assert_eq!(s.quote().as_str(), "USDT");
        }
        assert_eq!(Symbol::parse("XRP_ETH").unwrap().quote().as_str(), "ETH");
        assert!(Symbol::parse("USDT").is_err());
        assert!(Symbol::parse("BTC USDT!").is_err());
        assert!(Symbol::parse("").is_err());
    }

    #[test]
    fn serde_round_trip_keeps_the_split() {
        let s = Symbol::parse("LINKUSDT").unwrap();
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, "\"LINK/USDT\"");
        let back: Symbol = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.base().as_str(), "LINK");
    }
}
