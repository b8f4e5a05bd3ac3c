//! Query strings: parameters in the order given, values percent-encoded (RFC 3986
//! unreserved characters pass), so the signed text is exactly the text sent.

use std::fmt::Write;

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
        if self.0[start..].bytes().any(|b| !unreserved(b)) {
            let raw = self.0.split_off(start);
            for b in raw.bytes() {
                if unreserved(b) {
                    self.0.push(b as char);
                } else {
                    let _ = write!(self.0, "%{b:02X}");
                }
            }
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

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
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
    }
}
