//! Decimals as Binance sends them: a JSON string holding a plain decimal (`"0.00100000"`,
//! `"-1.5"`, `"42"`), read exactly.
//!
//! `Decimal`'s own `Deserialize` is lenient in ways that turn a damaged body into a wrong
//! value rather than an error: it takes a JSON number through `f64` (so `12345678901234567.89`
//! reads as `12345678901234568`), skips underscores (`"1_5"` reads as 15), takes exponents
//! (`"1e3"`) and rounds digits beyond its 28 decimal places (`"0.00000000000000000000000000001"`
//! reads as 0). The wire types read their decimals through [`exact`] instead.

use std::fmt;

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// `text` as a decimal if it is a plain one (`-?digits[.digits]`) that a `Decimal` holds
/// exactly (at most 28 decimal places, a mantissa below 2^96); otherwise why not.
pub fn parse_exact(text: &str) -> Result<Decimal, String> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (int, frac) = match unsigned.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (unsigned, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if !digits(int) || frac.is_some_and(|f| !digits(f)) {
        return Err(format!("`{text}` is not a plain decimal"));
    }
    Decimal::from_str_exact(text)
        .or_else(|e| {
            // Zeros padding the places (`"1000000000000000000000.00000000"`) may make the
            // digits too many for a value that fits: drop them, then try again.
            let trimmed = text.trim_end_matches('0').trim_end_matches('.');
            match frac {
                Some(f) if f.ends_with('0') => Decimal::from_str_exact(trimmed),
                _ => Err(e),
            }
        })
        .map_err(|e| format!("`{text}` does not fit a decimal: {e}"))
}

/// Reads a [`parse_exact`] decimal from a JSON string; a number or anything else is an error.
pub fn exact<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    struct Exact;
    impl Visitor<'_> for Exact {
        type Value = Decimal;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a decimal in a string, such as \"0.00100000\"")
        }
        fn visit_str<E: de::Error>(self, text: &str) -> Result<Decimal, E> {
            parse_exact(text).map_err(E::custom)
        }
    }
    d.deserialize_str(Exact)
}

/// [`exact`] for an optional field: absent or `null` is `None`.
pub fn exact_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    #[derive(Deserialize)]
    struct Exact(#[serde(deserialize_with = "exact")] Decimal);
    Ok(Option::<Exact>::deserialize(d)?.map(|Exact(v)| v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[derive(Debug, Deserialize)]
    struct Price {
        #[serde(deserialize_with = "exact")]
        price: Decimal,
    }

    fn price(json: &str) -> Result<Decimal, String> {
        serde_json::from_str::<Price>(json)
            .map(|p| p.price)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn plain_decimals_in_strings_read_exactly() {
        assert_eq!(price(r#"{"price":"0.00100000"}"#), Ok(dec!(0.001)));
        assert_eq!(price(r#"{"price":"-1.5"}"#), Ok(dec!(-1.5)));
        assert_eq!(
            price(r#"{"price":"79228162514264337593543950335"}"#),
            Ok(Decimal::MAX)
        );
        // (2^96 - 1) × 10^-8 with its places padded: 38 digits, but an exact value.
        assert_eq!(
            price(r#"{"price":"792281625142643375935.43950335000000000"}"#),
            Ok(Decimal::from_i128_with_scale(
                79_228_162_514_264_337_593_543_950_335,
                8
            ))
        );
    }

    /// Each of these read as a wrong value through `Decimal`'s own `Deserialize`.
    #[test]
    fn numbers_underscores_exponents_and_digits_past_28_places_are_errors() {
        for (json, named) in [
            (
                r#"{"price":12345678901234567.89}"#,
                "expected a decimal in a string",
            ),
            (r#"{"price":0.1}"#, "expected a decimal in a string"),
            (r#"{"price":"1_5"}"#, "`1_5` is not a plain decimal"),
            (r#"{"price":"1e3"}"#, "`1e3` is not a plain decimal"),
            (r#"{"price":"+1"}"#, "`+1` is not a plain decimal"),
            (r#"{"price":".5"}"#, "`.5` is not a plain decimal"),
            (r#"{"price":""}"#, "`` is not a plain decimal"),
            (
                r#"{"price":"0.00000000000000000000000000001"}"#,
                "does not fit a decimal",
            ),
            (
                r#"{"price":"79228162514264337593543950336"}"#,
                "does not fit a decimal",
            ),
        ] {
            let err = price(json).unwrap_err();
            assert!(err.contains(named), "{json}: {err}");
        }
    }
}
