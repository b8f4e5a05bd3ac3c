//! Request parameters from the query string and an `application/x-www-form-urlencoded`
//! body, as Binance takes them (either or both).

use std::collections::BTreeMap;
use std::str::FromStr;

use keel_binance::codes;
use rust_decimal::Decimal;

use super::error::ApiErr;

/// The decoded parameters of one request.
#[derive(Debug, Clone, Default)]
pub struct Params(BTreeMap<String, String>);

impl Params {
    /// Decodes `query` and `body`; a parameter sent twice is `-1101`-like `-1100`, a string that
    /// is not url-encoded is `-1100`.
    pub fn parse(query: &str, body: &str) -> Result<Self, ApiErr> {
        let mut map = BTreeMap::new();
        for part in [query, body] {
            if part.is_empty() {
                continue;
            }
            let pairs = actix_web::web::Query::<Vec<(String, String)>>::from_query(part)
                .map_err(|_| ApiErr::bad(codes::BAD_PARAM, "Malformed query string or body."))?;
            for (k, v) in pairs.into_inner() {
                if map.insert(k.clone(), v).is_some() {
                    return Err(ApiErr::bad(
                        codes::BAD_PARAM,
                        format!("Duplicate values for a parameter detected: '{k}'."),
                    ));
                }
            }
        }
        Ok(Self(map))
    }

    /// The parameter, if sent and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The parameter, or `-1102`.
    pub fn req(&self, name: &str) -> Result<&str, ApiErr> {
        self.get(name).ok_or_else(|| ApiErr::missing(name))
    }

    /// A decimal parameter (plain digits; NaN, exponents and signs are refused with `-1100`).
    pub fn decimal(&self, name: &str) -> Result<Option<Decimal>, ApiErr> {
        self.get(name)
            .map(|v| {
                let plain = v.chars().all(|c| c.is_ascii_digit() || c == '.');
                plain
                    .then(|| Decimal::from_str(v).ok())
                    .flatten()
                    .ok_or_else(|| ApiErr::illegal(name))
            })
            .transpose()
    }

    /// A mandatory decimal parameter.
    pub fn req_decimal(&self, name: &str) -> Result<Decimal, ApiErr> {
        self.decimal(name)?.ok_or_else(|| ApiErr::missing(name))
    }

    /// An integer parameter.
    pub fn int<T: FromStr>(&self, name: &str) -> Result<Option<T>, ApiErr> {
        self.get(name)
            .map(|v| v.parse().map_err(|_| ApiErr::illegal(name)))
            .transpose()
    }
}
