//! The oracle: serde types for the fields the scanner reads, then the scanner's checks; and
//! the comparison of the two on one text.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use rust_decimal::Decimal;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::error::Category;

use crate::model::{check_ohlcv, Candle, Interval, Symbol, Timestamp};
use crate::stream::fast::common_frame;
use crate::stream::parse::{parse_kline, parse_strictly, ClosedKline, KlineError, KlineErrorKind};

/// A struct read only from a JSON object (serde's derive would also take an array of its
/// fields in order, which no Binance message is).
struct Obj<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ObjectOnly<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectOnly<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(ObjectOnly(PhantomData)).map(Obj)
    }
}

#[derive(Deserialize)]
struct Frame<'a> {
    #[serde(borrow)]
    data: Obj<Event<'a>>,
}

#[derive(Deserialize)]
struct Event<'a> {
    e: &'a str,
    s: &'a str,
    #[serde(borrow)]
    k: Obj<Kline<'a>>,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct Kline<'a> {
    t: i64,
    T: i64,
    s: &'a str,
    i: &'a str,
    o: Price,
    h: Price,
    l: Price,
    c: Price,
    v: Price,
    x: bool,
}

/// A price as Binance sends it: a string holding a plain decimal (`digits[.digits]`).
struct Price(Decimal);

impl<'de> Deserialize<'de> for Price {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <&str>::deserialize(d)?;
        plain_decimal(text)
            .map(Price)
            .ok_or_else(|| de::Error::custom(format!("`{text}` is not a plain decimal")))
    }
}

/// A plain decimal (`digits[.digits]`) through `Decimal::from_str`, or `None`.
pub(super) fn plain_decimal(text: &str) -> Option<Decimal> {
    let (int, frac) = match text.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if !digits(int) || frac.is_some_and(|f| !digits(f)) {
        return None;
    }
    Decimal::from_str(text).ok()
}

/// What a message comes to, compared whole between the scanner and the oracle.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // made and compared once a case
pub(super) enum Outcome {
    Refused(KlineErrorKind),
    Open,
    Closed {
        bar: Bar,
        /// The checked candle, or that the checks refused it.
        candle: Result<Candle, ()>,
    },
}

/// A closed bar's fields, prices with their scale (`Decimal`'s `==` ignores it).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Bar {
    symbol: String,
    interval: String,
    open_time: i64,
    close_time: i64,
    values: [(i128, u32); 5],
}

impl Bar {
    fn new(
        symbol: &str,
        interval: &str,
        open_time: i64,
        close_time: i64,
        values: [Decimal; 5],
    ) -> Bar {
        Bar {
            symbol: symbol.into(),
            interval: interval.into(),
            open_time,
            close_time,
            values: values.map(|d| (d.mantissa(), d.scale())),
        }
    }
}

fn btc() -> Symbol {
    Symbol::parse("BTCUSDT").unwrap()
}

pub(super) fn oracle(text: &str) -> Outcome {
    let frame: Frame = match serde_json::from_str::<Obj<Frame>>(text).map(|f| f.0) {
        Ok(frame) => frame,
        Err(e) => {
            return Outcome::Refused(match e.classify() {
                Category::Data => KlineErrorKind::Shape,
                Category::Syntax | Category::Eof | Category::Io => KlineErrorKind::Malformed,
            })
        }
    };
    let event = frame.data.0;
    let k = event.k.0;
    if event.e != "kline" {
        return Outcome::Refused(KlineErrorKind::NotKline);
    }
    if k.s != event.s {
        return Outcome::Refused(KlineErrorKind::SymbolMismatch);
    }
    if !k.x {
        return Outcome::Open;
    }
    let values = [k.o.0, k.h.0, k.l.0, k.c.0, k.v.0];
    let candle = (|| {
        let interval = Interval::parse(k.i).ok_or(())?;
        if i128::from(k.T) + 1 - i128::from(k.t) != i128::from(interval.millis()) {
            return Err(());
        }
        check_ohlcv(values).map_err(drop)?;
        let [open, high, low, close, volume] = values;
        Ok(Candle {
            symbol: btc(),
            open_time: Timestamp(k.t),
            interval,
            open,
            high,
            low,
            close,
            volume,
        })
    })();
    Outcome::Closed {
        bar: Bar::new(k.s, k.i, k.t, k.T, values),
        candle,
    }
}

pub(super) fn scanner(text: &str) -> Outcome {
    outcome(parse_kline(text))
}

/// What a parse came to.
fn outcome(parsed: Result<Option<ClosedKline>, KlineError>) -> Outcome {
    match parsed {
        Err(e) => Outcome::Refused(e.kind()),
        Ok(None) => Outcome::Open,
        Ok(Some(bar)) => Outcome::Closed {
            candle: bar.to_candle(&btc()).map_err(drop),
            bar: Bar::new(
                bar.symbol,
                bar.interval,
                bar.open_time,
                bar.close_time,
                bar.values,
            ),
        },
    }
}

pub(super) fn agree(text: &str) -> Result<(), TestCaseError> {
    let (fast, serde) = (scanner(text), oracle(text));
    prop_assert_eq!(fast, serde, "on {:?}", text);
    // The fast path, when it answers, answers as the strict scanner alone (prices compared
    // with their scale).
    if let Some(bar) = common_frame(text) {
        prop_assert_eq!(
            outcome(Ok(bar)),
            outcome(parse_strictly(text)),
            "fast path on {:?}",
            text
        );
    }
    Ok(())
}
