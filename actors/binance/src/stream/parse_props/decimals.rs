//! The price reader against `Decimal::from_str`: on any text, `parse_decimal` gives exactly
//! (value, scale and sign) what the oracle's `Price` gives, a plain decimal through
//! `from_str`, and refuses the rest; `decimal_prefix`, read in the middle of other bytes,
//! is exact whenever it answers and answers for every short plain decimal.

use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use rust_decimal::Decimal;

use super::oracle::plain_decimal as price;
use crate::stream::decimal::{decimal_prefix, parse_decimal};

/// Bit for bit: value, scale and sign.
fn bits(d: Option<Decimal>) -> Option<[u8; 16]> {
    d.map(|d| d.serialize())
}

/// Texts at and around plain decimals: any number of digits on either side (28-digit
/// mantissas and longer, leading and trailing zeros), near `Decimal`'s largest, and the
/// signs, exponents, separators and characters that must be refused.
fn decimalish() -> BoxedStrategy<String> {
    prop_oneof![
        4 => "[0-9]{1,34}(\\.[0-9]{0,34})?",
        2 => "0{0,20}[1-9]?[0-9]{0,16}\\.?[0-9]{0,18}0{0,12}",
        1 => "[-+]?[0-9.eE_ ]{0,12}",
        1 => "[0-9]{0,20}[^0-9][0-9]{0,20}",
        1 => "\\PC{0,12}",
        1 => (0u32..1000).prop_map(|n| format!("79228162514264337593543950{n}")),
        1 => (0usize..30, 0usize..30).prop_map(|(int, frac)| format!("{}.{}", "9".repeat(int), "9".repeat(frac))),
    ]
    .boxed()
}

#[test]
fn the_reader_is_from_str_on_plain_decimals() {
    let mut runner = TestRunner::new(super::config());
    runner
        .run(&decimalish(), |t| {
            prop_assert_eq!(bits(parse_decimal(&t)), bits(price(&t)), "{:?}", t);
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_prefix_in_context_is_exact() {
    let mut runner = TestRunner::new(super::config());
    let context = ("[0-9.\"]{0,12}", decimalish(), "[0-9.\"a}]{0,12}");
    runner
        .run(&context, |(before, t, after)| {
            let text = format!("{before}{t}{after}");
            if let Some((value, end)) = decimal_prefix(text.as_bytes(), before.len()) {
                let read = &text[before.len()..end];
                prop_assert_eq!(bits(Some(value)), bits(price(read)), "{:?}", text);
            }
            let quoted = format!("{before}{t}\"{after}");
            let digits = t.bytes().filter(u8::is_ascii_digit).count();
            let short =
                price(&t).is_some() && digits <= 28 && t.split('.').all(|part| part.len() <= 16);
            if short {
                let read = decimal_prefix(quoted.as_bytes(), before.len());
                prop_assert_eq!(
                    read.map(|(_, end)| end),
                    Some(before.len() + t.len()),
                    "{:?}",
                    quoted
                );
            }
            Ok(())
        })
        .unwrap();
}
