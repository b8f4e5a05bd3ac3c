//! Which traded symbols a headline is about.

use std::collections::{BTreeMap, HashMap};

use super::headline::alnum_words;
use crate::model::Symbol;

/// Tags headlines with the traded symbols they mention.
///
/// A headline is about a traded symbol when the symbol's base asset is in the headline's
/// `currencies` list, or when the base code or one of its aliases appears as a whole word in
/// the title (case-insensitive: `$BTC`, `r/bitcoin` and `Bitcoin's` all name BTC; `Bitcoins`
/// only through its own alias).
#[derive(Debug, Clone)]
pub struct SymbolTagger {
    symbols: Vec<Symbol>,
    /// Lower-case word → indices into `symbols`.
    words: HashMap<String, Vec<usize>>,
    /// Upper-case asset code → indices into `symbols`.
    codes: HashMap<String, Vec<usize>>,
}

impl SymbolTagger {
    /// A tagger for `symbols`, with `aliases` mapping a word to an asset code
    /// (aliases of assets that are not traded are ignored).
    pub fn new(symbols: &[Symbol], aliases: &BTreeMap<String, String>) -> Self {
        let mut words: HashMap<String, Vec<usize>> = HashMap::new();
        let mut codes: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, symbol) in symbols.iter().enumerate() {
            let base = symbol.base();
            codes.entry(base.as_str().to_string()).or_default().push(i);
            words
                .entry(base.as_str().to_lowercase())
                .or_default()
                .push(i);
            for (word, asset) in aliases {
                if asset.eq_ignore_ascii_case(base.as_str()) {
                    let list = words.entry(word.to_lowercase()).or_default();
                    if !list.contains(&i) {
                        list.push(i);
                    }
                }
            }
        }
        Self {
            symbols: symbols.to_vec(),
            words,
            codes,
        }
    }

    /// The traded symbols this tagger knows.
    pub fn symbols(&self) -> &[Symbol] {
        &self.symbols
    }

    /// The traded symbols a headline is about, in the order they were given to [`Self::new`].
    pub fn tag(&self, title: &str, currencies: &[String]) -> Vec<Symbol> {
        let mut hit = vec![false; self.symbols.len()];
        for code in currencies {
            if let Some(list) = self.codes.get(code.trim().to_uppercase().as_str()) {
                list.iter().for_each(|&i| hit[i] = true);
            }
        }
        for word in alnum_words(title) {
            if let Some(list) = self.words.get(word.as_str()) {
                list.iter().for_each(|&i| hit[i] = true);
            }
        }
        self.symbols
            .iter()
            .zip(hit)
            .filter(|&(_, hit)| hit)
            .map(|(symbol, _)| symbol.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SentimentConfig;

    fn tagger() -> SymbolTagger {
        let symbols = [
            Symbol::parse("BTCUSDT").unwrap(),
            Symbol::parse("ETHUSDT").unwrap(),
        ];
        SymbolTagger::new(&symbols, &SentimentConfig::default().aliases)
    }

    fn names(symbols: Vec<Symbol>) -> Vec<String> {
        symbols.iter().map(|s| s.as_str().to_string()).collect()
    }

    #[test]
    fn tags_by_currency_alias_and_code() {
        let t = tagger();
        assert_eq!(
            names(t.tag("Visa CEO: Bitcoin is Not a Payment System", &[])),
            ["BTCUSDT"]
        );
        assert_eq!(names(t.tag("Switching from $eth to NEO", &[])), ["ETHUSDT"]);
        assert_eq!(
            names(t.tag("3 reasons", &["NEO".into(), "eth".into()])),
            ["ETHUSDT"]
        );
        assert_eq!(
            names(t.tag("Ethereum and bitcoin", &[])),
            ["BTCUSDT", "ETHUSDT"]
        );
    }

    #[test]
    fn needs_whole_words() {
        let t = tagger();
        assert!(t.tag("Bitcoinist says Ethernet is fast", &[]).is_empty());
        assert!(t.tag("Tether mints more", &[]).is_empty());
        assert!(
            t.tag("Ripple is up", &["XRP".into()]).is_empty(),
            "XRP is not traded"
        );
    }
}
