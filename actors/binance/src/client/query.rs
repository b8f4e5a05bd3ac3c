//! Query strings: parameters in the order given, values percent-encoded (RFC 3986
//! unreserved characters pass), so the signed text is exactly the text sent.

use std::borrow::Cow;
use std::fmt::Write;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// What a value keeps as it is: RFC 3986's unreserved characters.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A query string under construction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query(String);

impl Query {
    /// An empty query.
    pub fn new() -> Self {
        Self(String::with_capacity(160))
    }

    /// Appends `key=value`.
    pub fn push(&mut self, key: &str, value: impl std::fmt::Display) -> &mut Self {
        if !self.0.is_empty() {
            self.0.push('&');
        }
        self.0.push_str(key);
        self.0.push('=');
        let start = self.0.len();
        let _ = write!(self.0, "{value}");
        // Prices, quantities and ids are nearly always unreserved already: then the text
        // written is kept as it is (the encoder borrows it instead of allocating).
        let encoded = match Cow::from(utf8_percent_encode(&self.0[start..], UNRESERVED)) {
            Cow::Owned(encoded) => Some(encoded),
            Cow::Borrowed(_) => None,
        };
        if let Some(encoded) = encoded {
            self.0.truncate(start);
            self.0.push_str(&encoded);
        }
        self
    }

    /// Appends `key=value` when `value` is some.
    pub fn push_opt<T: std::fmt::Display>(&mut self, key: &str, value: Option<T>) -> &mut Self {
        if let Some(v) = value {
            self.push(key, v);
        }
        self
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_keep_their_order_and_odd_characters_are_encoded() {
        let mut q = Query::new();
        q.push("symbol", "LTCBTC")
            .push("price", "0.1")
            .push_opt("stopPrice", None::<&str>)
            .push("newClientOrderId", "a b&c=d");
        assert_eq!(
            q.as_str(),
            "symbol=LTCBTC&price=0.1&newClientOrderId=a%20b%26c%3Dd"
        );
        let mut q = Query::new();
        q.push("id", "x-_.~é%");
        assert_eq!(q.as_str(), "id=x-_.~%C3%A9%25", "UTF-8 bytes, and % itself");
    }
}
