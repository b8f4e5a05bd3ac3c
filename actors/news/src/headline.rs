//! A timestamped headline and the text clean-up applied to every title.

use crate::model::{Symbol, Timestamp};

/// One news headline, cleaned and tagged with the traded symbols it is about.
#[derive(Debug, Clone, PartialEq)]
pub struct Headline {
    /// Publication time.
    pub published: Timestamp,
    /// The title with HTML tags stripped and entities decoded.
    pub title: String,
    /// Where it came from (a domain, a feed name, a subreddit).
    pub source: String,
    /// The traded symbols it is about (never empty for loaded headlines).
    pub symbols: Vec<Symbol>,
}

/// Strips HTML tags, decodes the common entities and collapses whitespace.
///
/// `NEO ($NEO) price is up <span class="color-green">20.99%</span>` becomes
/// `NEO ($NEO) price is up 20.99%`; `AT&amp;T` becomes `AT&T`.
pub fn clean_title(raw: &str) -> String {
    let mut text = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        match rest[open..].find('>') {
            Some(close) => {
                // A tag separates words: `a<br>b` reads as `a b`.
                text.push(' ');
                rest = &rest[open + close + 1..];
            }
            None => {
                // A lone `<` (as in `price < $1`) is text, not a tag.
                text.push('<');
                rest = &rest[open + 1..];
            }
        }
    }
    text.push_str(rest);
    let decoded = decode_entities(&text);
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Decodes `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`, `&#39;`, `&nbsp;` and numeric entities.
/// Anything else that starts with `&` is left as it is.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        // Entities are short; look for the `;` within the next few characters only.
        let decoded = after
            .char_indices()
            .take(10)
            .find(|&(_, c)| c == ';')
            .and_then(|(semi, _)| decode_entity(&after[..semi]).map(|c| (c, semi)));
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character an entity name (without `&` and `;`) stands for.
fn decode_entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

/// The lower-case alphanumeric words of `text`: `$BTC hits r/bitcoin` → `btc`, `hits`, `r`,
/// `bitcoin`. Used for whole-word symbol matching.
pub(crate) fn alnum_words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_tags_and_decodes_entities() {
        assert_eq!(
            clean_title(r#"NEO ($NEO) price is up <span class="color-green">20.99%</span>"#),
            "NEO ($NEO) price is up 20.99%"
        );
        assert_eq!(
            clean_title("AT&amp;T &lt;3 &#36;BTC &#x24;ETH"),
            "AT&T <3 $BTC $ETH"
        );
        assert_eq!(clean_title("price < $1 & rising"), "price < $1 & rising");
        assert_eq!(clean_title("  two<br>lines \n here "), "two lines here");
        assert_eq!(clean_title("&bogus; stays"), "&bogus; stays");
    }

    #[test]
    fn words_are_lower_case_alphanumeric_runs() {
        let words: Vec<String> = alnum_words("$BTC hits r/Bitcoin, ETH-USD").collect();
        assert_eq!(words, ["btc", "hits", "r", "bitcoin", "eth", "usd"]);
    }
}
