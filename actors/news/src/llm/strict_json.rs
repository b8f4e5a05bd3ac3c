//! Deserializers that take JSON for what it says and nothing else, for the untrusted bodies
//! and replies of the model providers.
//!
//! serde's derives are lenient in three ways that matter here: a struct also reads from an
//! array of its fields in order (`["negative", -0.8, ...]` passes for the reply object), a
//! unit enum variant also reads from a one-key object (`{"negative": null}`), and serde_json
//! parses floats fast but not always correctly rounded (one ulp off for about one number in
//! seven). [`Object`], [`name`] and [`number`] close those three gaps.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{MapAccessDeserializer, StrDeserializer};
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

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
    // serde_json has checked the value; one that starts like a number is a JSON number, whose
    // grammar is a subset of what `f64::from_str` reads.
    if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        if let Ok(value) = text.parse::<f64>() {
            return Ok(value);
        }
    }
    Err(de::Error::invalid_type(unexpected(text), &"a number"))
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
