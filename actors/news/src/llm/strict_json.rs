//! Deserializers that take JSON for what it says and nothing else, for the untrusted bodies
//! and replies of the model providers.
//!
//! serde's derives are lenient in three ways that matter here: a struct also reads from an
//! array of its fields in order (`["negative", -0.8, ...]` passes for the reply object), a
//! unit enum variant also reads from a one-key object (`{"negative": null}`), and serde_json
//! parses floats fast but not always correctly rounded (one ulp off for about one number in
//! seven). [`Object`], [`name`] and [`number`] close those three gaps.
//! [`Members`] reads an object's members unparsed, for a contract that names the key of
//! every error itself.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{MapAccessDeserializer, StrDeserializer};
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::model::Decimal;

/// A `T` read only from a JSON object (never from an array of its fields).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = T;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }

        deserializer
            .deserialize_map(ObjectVisitor(PhantomData))
            .map(Object)
    }
}

/// A unit enum variant read only from a JSON string of its name (for `deserialize_with`).
pub(crate) fn name<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let text = String::deserialize(deserializer)?;
    T::deserialize(StrDeserializer::<D::Error>::new(&text))
}

/// A JSON number as the nearest `f64` (for `deserialize_with`): its text is read by
/// `f64::from_str`, which rounds correctly. A number too large for `f64` reads as an infinity
/// (for the caller's range check to refuse); anything but a number is an error.
pub(crate) fn number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    let raw = Box::<RawValue>::deserialize(deserializer)?;
    let text = raw.get();
    number_of(text).ok_or_else(|| de::Error::invalid_type(unexpected(text), &"a number"))
}

/// The nearest `f64` of the JSON value `text` (as serde_json has checked it), if it is a
/// number. Correctly rounded; too large a number reads as an infinity.
pub(crate) fn number_of(text: &str) -> Option<f64> {
    // One that starts like a number is a JSON number, whose grammar is a subset of what
    // `f64::from_str` reads.
    if is_number(text) {
        text.parse::<f64>().ok()
    } else {
        None
    }
}

/// The JSON number `text` (as serde_json has checked it) as the exact `Decimal` it writes, if
/// it is a number that a `Decimal` holds without rounding (exponents included: `1.5e3` is
/// 1500, `25e-2` is 0.25). Anything else (a string, too many digits, too large) is `None`.
pub(crate) fn decimal_of(text: &str) -> Option<Decimal> {
    if !is_number(text) {
        return None;
    }
    let (digits, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], text[at + 1..].parse::<i64>().ok()?),
        None => (text, 0),
    };
    // `from_str_exact` refuses what it would have to round (`from_str` would round).
    let mut value = Decimal::from_str_exact(digits).ok()?;
    let scale = i64::from(value.scale()).checked_sub(exponent)?;
    if scale >= 0 {
        // Only the scale moves: the digits are kept, or the scale is too large to hold.
        value.set_scale(u32::try_from(scale).ok()?).ok()?;
        return Some(value);
    }
    // An integer times 10^k: exact, or an overflow (no scale left to round into).
    value.set_scale(0).ok()?;
    let mut power = Decimal::ONE;
    for _ in 0..(-scale).min(29) {
        power = power.checked_mul(Decimal::TEN)?;
    }
    value.checked_mul(power)
}

/// Whether the JSON value `text` (as serde_json has checked it) is a number.
pub(crate) fn is_number(text: &str) -> bool {
    text.starts_with(|c: char| c == '-' || c.is_ascii_digit())
}

/// What kind of value the JSON value `text` is, for an error message: "a number", "a
/// string", "an object", "an array", "a boolean" or "null".
pub(crate) fn kind_of(text: &str) -> &'static str {
    match text.as_bytes().first() {
        _ if is_number(text) => "a number",
        Some(b'"') => "a string",
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "not a JSON value",
    }
}

/// A JSON object's members in order, duplicates kept, each value unparsed: for a contract
/// that names the key of every error itself. Reads only from an object.
#[derive(Debug)]
pub(crate) struct Members(pub Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;

        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, Box<RawValue>>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }

        deserializer.deserialize_map(MembersVisitor)
    }
}

/// What a JSON value that is not a number is, for the error message.
fn unexpected(text: &str) -> de::Unexpected<'static> {
    match text.as_bytes().first() {
        Some(b'"') => de::Unexpected::Other("a string"),
        Some(b'{') => de::Unexpected::Map,
        Some(b'[') => de::Unexpected::Seq,
        Some(b't' | b'f') => de::Unexpected::Other("a boolean"),
        Some(b'n') => de::Unexpected::Unit,
        _ => de::Unexpected::Other("a value"),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Label {
        Up,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Pair {
        #[serde(deserialize_with = "name")]
        label: Label,
        #[serde(deserialize_with = "number")]
        value: f64,
    }

    fn read(text: &str) -> Result<Pair, String> {
        serde_json::from_str::<Object<Pair>>(text)
            .map(|o| o.0)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn only_an_object_of_strings_and_numbers_reads() {
        let pair = Pair {
            label: Label::Up,
            value: 0.5,
        };
        assert_eq!(read(r#"{"label":"up","value":0.5}"#), Ok(pair));
        // serde's derive would take all three.
        let err = read(r#"["up",0.5]"#).unwrap_err();
        assert!(err.contains("expected a JSON object"), "{err}");
        let err = read(r#"{"label":{"up":null},"value":0.5}"#).unwrap_err();
        assert!(err.contains("expected a string"), "{err}");
        let err = read(r#"{"label":"up","value":"0.5"}"#).unwrap_err();
        assert!(err.contains("expected a number"), "{err}");
        let err = read(r#"{"label":"up","value":0.5,"value":0.5}"#).unwrap_err();
        assert!(err.contains("duplicate field `value`"), "{err}");
    }

    #[test]
    fn members_keep_order_duplicates_and_raw_values() {
        let Members(members) = serde_json::from_str(r#"{"b":[1, 2],"a":"x","b":1e3}"#).unwrap();
        let shown: Vec<(&str, &str)> = members.iter().map(|(k, v)| (&**k, v.get())).collect();
        assert_eq!(shown, [("b", "[1, 2]"), ("a", "\"x\""), ("b", "1e3")]);
        let err = serde_json::from_str::<Members>(r#"[["a",1]]"#).unwrap_err();
        assert!(err.to_string().contains("expected a JSON object"), "{err}");
        assert_eq!(
            ["-0.5", "\"1\"", "{}", "[]", "true", "null"].map(kind_of),
            [
                "a number",
                "a string",
                "an object",
                "an array",
                "a boolean",
                "null"
            ]
        );
    }

    #[test]
    fn decimals_are_read_exactly_or_not_at_all() {
        let read = |text: &str| decimal_of(text).map(|d| d.to_string());
        assert_eq!(read("123.45").as_deref(), Some("123.45"));
        assert_eq!(read("-0.5").as_deref(), Some("-0.5"));
        assert_eq!(read("1.5e3").as_deref(), Some("1500"));
        assert_eq!(read("1.25E+1").as_deref(), Some("12.5"));
        assert_eq!(read("25e-2").as_deref(), Some("0.25"));
        assert_eq!(
            read("1e28").as_deref(),
            Some("10000000000000000000000000000")
        );
        assert_eq!(
            read("79228162514264337593543950335").as_deref(),
            Some("79228162514264337593543950335")
        );
        // Beyond a Decimal: too large, too many digits, too small, an absurd exponent.
        for text in [
            "1e29",
            "8e28",
            "79228162514264337593543950336",
            "1.00000000000000000000000000001",
            "1e-29",
            "1e99999999999999999999",
            "\"100\"",
            "null",
        ] {
            assert_eq!(read(text), None, "{text}");
        }
    }

    #[test]
    fn numbers_are_rounded_correctly() {
        // serde_json's default float parser reads this one ulp high.
        let value = read(r#"{"label":"up","value":0.9767706599510775}"#).map(|p| p.value);
        assert_eq!(value, Ok(0.9767706599510775));
        let value = read(r#"{"label":"up","value":-1e999}"#).map(|p| p.value);
        assert_eq!(value, Ok(f64::NEG_INFINITY));
        let value = read(r#"{"label":"up","value":1e-999}"#).map(|p| p.value);
        assert_eq!(value, Ok(0.0));
    }
}
