//! Parsing and checking single fields and candle rows, shared by the candle and trade loaders.

use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::model::check_ohlcv;

/// The columns of a candle row, in order.
pub(super) const CANDLE_COLUMNS: [&str; 6] =
    ["open_time_ms", "open", "high", "low", "close", "volume"];

/// A candle row's values once every check passed: open time in ms, then OHLCV.
pub(super) type CandleValues = (i64, [Decimal; 5]);

/// A decimal from its written form (`9720.03`, `"9720.03"`, `1.5e-3`), exactly.
pub(super) fn parse_decimal(text: &str) -> Result<Decimal, String> {
    let text = text.trim();
    let unsigned = text.trim_start_matches(['+', '-']);
    if ["nan", "inf", "infinity"]
        .iter()
        .any(|word| unsigned.eq_ignore_ascii_case(word))
    {
        return Err(format!("`{text}` is not a finite number"));
    }
    // `Decimal`'s parser skips underscores (`1_0` would read as 10): only number characters.
    if !text
        .bytes()
        .all(|c| c.is_ascii_digit() || b"+-.eE".contains(&c))
    {
        return Err(format!("`{text}` is not a number"));
    }
    if text.contains(['e', 'E']) {
        return Decimal::from_scientific(text).map_err(|_| format!("`{text}` is not a number"));
    }
    // Exact: more places than a decimal holds are refused, not rounded away.
    Decimal::from_str_exact(text).map_err(|e| match Decimal::from_str(text) {
        Ok(_) => format!("`{text}` has more digits than a decimal holds: {e}"),
        Err(_) => format!("`{text}` is not a number"),
    })
}

/// A millisecond timestamp: an integer, or a decimal with no fractional part (`1.5e12`).
pub(super) fn parse_millis(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    parse_decimal(text)
        .ok()
        .filter(|d| d.fract().is_zero())
        .and_then(|d| d.to_i64())
        .ok_or_else(|| format!("`{text}` is not a whole number of milliseconds"))
}

/// The reject reason for a candle row with `found` columns.
pub(super) fn wrong_column_count(found: usize) -> String {
    format!(
        "expected {} columns ({}), found {found}",
        CANDLE_COLUMNS.len(),
        CANDLE_COLUMNS.join(", ")
    )
}

/// Checks one candle row, returning its values or the reason it is rejected.
pub(super) fn check_candle_row(fields: &[&str]) -> Result<CandleValues, String> {
    if fields.len() != CANDLE_COLUMNS.len() {
        return Err(wrong_column_count(fields.len()));
    }
    let open_time = parse_millis(fields[0]).map_err(|e| format!("open_time_ms: {e}"))?;
    let mut values = [Decimal::ZERO; 5];
    for (i, value) in values.iter_mut().enumerate() {
        let name = CANDLE_COLUMNS[i + 1];
        *value = parse_decimal(fields[i + 1]).map_err(|e| format!("{name}: {e}"))?;
    }
    check_ohlcv(values)?;
    Ok((open_time, values))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn decimals_are_parsed_exactly_from_their_text() {
        assert_eq!(parse_decimal("9720.03").unwrap(), dec!(9720.03));
        assert_eq!(
            parse_decimal("0.01557126999999999").unwrap(),
            dec!(0.01557126999999999)
        );
        assert_eq!(parse_decimal("1.5e-3").unwrap(), dec!(0.0015));
        assert_eq!(parse_decimal("2E2").unwrap(), dec!(200));
        assert_eq!(
            parse_decimal("NaN").unwrap_err(),
            "`NaN` is not a finite number"
        );
        assert_eq!(
            parse_decimal("-inf").unwrap_err(),
            "`-inf` is not a finite number"
        );
        assert_eq!(
            parse_decimal("1.2.3").unwrap_err(),
            "`1.2.3` is not a number"
        );
        assert_eq!(parse_decimal("").unwrap_err(), "`` is not a number");
        // Found by load_props: `Decimal`'s parser skips underscores, so `1_0` read as 10.
        assert_eq!(parse_decimal("1_0").unwrap_err(), "`1_0` is not a number");
        assert!(parse_decimal("0.00000000000000000000000000001")
            .unwrap_err()
            .contains("has more digits than a decimal holds"));
        assert_eq!(parse_millis("1512086400000").unwrap(), 1_512_086_400_000);
        assert_eq!(parse_millis("1512086400000.0").unwrap(), 1_512_086_400_000);
        assert_eq!(parse_millis("1.5120864e12").unwrap(), 1_512_086_400_000);
        assert!(parse_millis("1512086400000.5").is_err());
    }

    #[test]
    fn each_candle_rule_has_its_own_reason() {
        let check = |fields: &[&str]| check_candle_row(fields).unwrap_err();
        assert_eq!(
            check(&["0", "1", "2", "1", "2"]),
            "expected 6 columns (open_time_ms, open, high, low, close, volume), found 5"
        );
        assert_eq!(
            check(&["x", "1", "2", "1", "2", "3"]),
            "open_time_ms: `x` is not a whole number of milliseconds"
        );
        assert_eq!(
            check(&["0", "NaN", "2", "1", "2", "3"]),
            "open: `NaN` is not a finite number"
        );
        assert_eq!(
            check(&["0", "1", "2", "0", "2", "3"]),
            "low: price must be positive, found 0"
        );
        assert_eq!(
            check(&["0", "1", "2", "1", "2", "-3"]),
            "volume must not be negative, found -3"
        );
        assert_eq!(
            check(&["0", "1", "1", "2", "1", "3"]),
            "high 1 is below low 2"
        );
        assert_eq!(
            check(&["0", "3", "2", "1", "2", "3"]),
            "open 3 is outside [low 1, high 2]"
        );
        assert_eq!(
            check(&["0", "1", "2", "1", "0.5", "3"]),
            "close 0.5 is outside [low 1, high 2]"
        );
        assert_eq!(
            check_candle_row(&["60000", "1", "2.5", "1", "2", "0"]).unwrap(),
            (60_000, [dec!(1), dec!(2.5), dec!(1), dec!(2), dec!(0)])
        );
    }
}
