//! Property tests of what a model sends back: the reply contract ([`super::parse_reply`]) and
//! both providers' response bodies ([`super::read_completion`]).
//!
//! Valid replies and bodies are generated with random key order, extra fields (where the
//! format allows them), escapes, whitespace and numbers at the edges, and must read back as
//! exactly the values generated. Mutated ones (truncations, byte flips, wrong types, missing,
//! unknown and duplicated keys) must never panic, and must agree with a reference reader
//! built on serde_json's own value parser ([`RawValue`]): the same values, or an error of the
//! same kind. `PROPTEST_CASES` sets the number of cases (proptest's 256 by default).
//!
//! This module: the reference reader's JSON access, serde_json's parser with nothing of
//! serde's derives in between.

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

mod decision;
mod provider;
mod reply;

/// An object's members in order, duplicates kept.
struct Members(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, Box<RawValue>>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        d.deserialize_map(V)
    }
}

pub(super) fn members(raw: &str) -> Option<Vec<(String, Box<RawValue>)>> {
    serde_json::from_str::<Members>(raw).ok().map(|m| m.0)
}

/// The values of exactly `keys` (no other, none twice), in the order of `keys`.
pub(super) fn exact_members(raw: &str, keys: &[&str]) -> Option<Vec<Box<RawValue>>> {
    let members = members(raw)?;
    if members.len() != keys.len() {
        return None;
    }
    keys.iter()
        .map(|k| {
            let mut found = members.iter().filter(|(name, _)| name == k);
            let (_, value) = found.next()?;
            found.next().is_none().then(|| value.clone())
        })
        .collect()
}

/// The value of `key` if present at most once (`Some(None)` when absent), other keys ignored.
pub(super) fn member(
    members: &[(String, Box<RawValue>)],
    key: &str,
) -> Option<Option<Box<RawValue>>> {
    let mut found = members.iter().filter(|(name, _)| name == key);
    let first = found.next().map(|(_, v)| v.clone());
    found.next().is_none().then_some(first)
}

pub(super) fn array(raw: &RawValue) -> Option<Vec<Box<RawValue>>> {
    serde_json::from_str(raw.get()).ok()
}

pub(super) fn string(raw: &RawValue) -> Option<String> {
    serde_json::from_str(raw.get()).ok()
}

/// `null` (or absent) as `Some(None)`, a `T` as `Some(Some(t))`, anything else `None`.
pub(super) fn nullable<T: serde::de::DeserializeOwned>(
    raw: Option<Box<RawValue>>,
) -> Option<Option<T>> {
    match raw {
        None => Some(None),
        Some(raw) if raw.get() == "null" => Some(None),
        Some(raw) => serde_json::from_str(raw.get()).ok().map(Some),
    }
}

pub(super) fn number(raw: &RawValue) -> Option<f64> {
    let text = raw.get();
    if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    }
}
