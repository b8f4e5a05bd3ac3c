//! Prices as Binance sends them: plain non-negative decimals (`digits[.digits]`), read
//! exactly. A price is exactly the `Decimal` that `Decimal::from_str` gives for its text,
//! scale included (trailing zeros kept); anything else is refused: signs, exponents,
//! underscores, `NaN`, spaces, an empty part (`.5`, `1.`). Up to 28 digits, 16 on either
//! side of the point, are read here, eight at a time, into an exact mantissa; longer ones
//! (where `from_str` may round or overflow) go through `from_str` itself.

use std::str::FromStr;

use rust_decimal::Decimal;

use super::digits::{run, MAX_RUN, POW10};

/// The most digits [`decimal_prefix`] reads: any 28 digits fit `Decimal`'s 96-bit mantissa.
const MAX_DIGITS: usize = 28;

/// A price's text as a `Decimal`: `Some` exactly when it is a plain decimal that
/// `Decimal::from_str` accepts, and then the same value and scale.
pub(super) fn parse_decimal(t: &str) -> Option<Decimal> {
    match decimal_prefix(t.as_bytes(), 0) {
        Some((value, end)) if end == t.len() => Some(value),
        _ => long_decimal(t),
    }
}

/// The plain decimal of at most 28 digits (16 on either side of the point) at `b[i..]`: its
/// value and the index after it. `None` if there is none there or it is longer: then the
/// caller must read the text another way ([`parse_decimal`]). A `Some` is always right:
/// `b[i..end]` is a plain decimal and the value is what `Decimal::from_str` gives for it.
#[inline]
pub(super) fn decimal_prefix(b: &[u8], i: usize) -> Option<(Decimal, usize)> {
    let (int_len, int) = run(b, i);
    if int_len == 0 {
        return None;
    }
    let dot = i + int_len;
    let (frac_len, frac, end) = if b.get(dot) == Some(&b'.') {
        let (frac_len, frac) = run(b, dot + 1);
        if frac_len == 0 {
            return None;
        }
        (frac_len, frac, dot + 1 + frac_len)
    } else {
        (0, 0, dot)
    };
    // A digit after a run: the part is longer than a run reads.
    if matches!(b.get(end), Some(b'0'..=b'9')) || int_len + frac_len > MAX_DIGITS {
        return None;
    }
    let mantissa = u128::from(int) * u128::from(POW10[frac_len]) + u128::from(frac);
    // Under 10^28 < 2^96, and a scale of at most 16.
    let value = Decimal::from_parts(
        mantissa as u32,
        (mantissa >> 32) as u32,
        (mantissa >> 64) as u32,
        false,
        frac_len as u32,
    );
    Some((value, end))
}

/// A plain decimal too long for [`decimal_prefix`] (or no plain decimal at all), through
/// `Decimal::from_str`, which rounds one with over 28 significant digits.
#[cold]
fn long_decimal(t: &str) -> Option<Decimal> {
    let (int, frac) = match t.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (t, None),
    };
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit());
    if !digits(int) || frac.is_some_and(|f| !digits(f)) {
        return None;
    }
    Decimal::from_str(t).ok()
}

const _: () = assert!(MAX_RUN <= 16 && 2 * MAX_RUN >= MAX_DIGITS);

#[cfg(test)]
mod tests {
    use super::*;

    /// Equal bit for bit: value, scale and sign.
    fn same(a: Option<Decimal>, b: Option<Decimal>) -> bool {
        a.map(|d| d.serialize()) == b.map(|d| d.serialize())
    }

    #[test]
    fn decimals_read_exactly_on_both_paths() {
        for t in [
            "0",
            "7",
            "43127.01000000",
            "0.00000001",
            "123456789012345678",
            "1.5",
            "0.00",
            "000123.4500",
            "1234567890123456.1234567890123456",
            "9999999999999999.999999999999",
            "12345678901234567890.123456789",
            "79228162514264337593543950335",
            "0.0000000000000000000000000001",
            "0.00000000000000000000000000001",
            "1.00000000000000000000000000005",
        ] {
            let parsed = parse_decimal(t);
            assert!(same(parsed, Decimal::from_str(t).ok()), "{t}");
            assert!(parsed.is_some(), "{t}");
        }
        assert_eq!(
            parse_decimal("43127.01000000").unwrap().to_string(),
            "43127.01000000"
        );
        for bad in [
            "",
            ".",
            "1.",
            ".5",
            "1.2.3",
            "-1",
            "+1",
            "1e3",
            "1E3",
            "NaN",
            "inf",
            "1 ",
            " 1",
            "1_000",
            "1,5",
            "-0",
            "0x10",
            "79228162514264337593543950336",
            "1..2",
            "١",
        ] {
            assert_eq!(parse_decimal(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_prefix_stops_at_the_first_byte_after_the_decimal() {
        let b = b"\"12.50\",\"7\"}";
        assert_eq!(
            decimal_prefix(b, 1).map(|(d, end)| (d.to_string(), end)),
            Some(("12.50".into(), 6))
        );
        assert_eq!(
            decimal_prefix(b, 9).map(|(d, end)| (d.to_string(), end)),
            Some(("7".into(), 10))
        );
        assert_eq!(decimal_prefix(b, 0), None);
        assert_eq!(decimal_prefix(b"1.", 0), None);
        assert_eq!(decimal_prefix(b"12345678901234567", 0), None);
        assert_eq!(decimal_prefix(b"1.12345678901234567", 0), None);
        assert_eq!(decimal_prefix(b"12345678901234.123456789012345", 0), None);
    }
}
