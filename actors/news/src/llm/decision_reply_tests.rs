//! The decision contract: what is accepted exactly, and every breach refused by its key.

use super::*;

/// An exact decimal (keel-news has `rust_decimal` only through keel-model, so no `dec!`).
fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap()
}

const GOOD: &str = r#"{"action":"buy","confidence":0.72,"stop":123.45,"take_profit":140.5,
    "horizon_bars":12,"reasons":["breakout above the range","volume rising"]}"#;

fn good() -> ModelDecision {
    ModelDecision {
        action: ModelAction::Buy,
        confidence: 0.72,
        stop: Some(dec("123.45")),
        take_profit: Some(dec("140.5")),
        horizon_bars: Some(12),
        reasons: vec!["breakout above the range".into(), "volume rising".into()],
    }
}

/// The error of `GOOD` with `from` replaced by `to`, as text.
fn breach(from: &str, to: &str) -> String {
    let text = GOOD.replace(from, to);
    assert_ne!(text, GOOD, "{from} is not in the reply");
    parse_decision(&text).unwrap_err().to_string()
}

#[test]
fn a_valid_reply_parses_with_exact_prices() {
    let decision = parse_decision(&format!("\n  {GOOD}\t\n")).unwrap();
    assert_eq!(decision, good());
    assert_eq!(decision.stop.unwrap().to_string(), "123.45");
    // Digits f64 cannot hold are kept.
    let text = GOOD.replace("123.45", "123.123456789012345678");
    let stop = parse_decision(&text).unwrap().stop.unwrap();
    assert_eq!(stop, dec("123.123456789012345678"));
    // An exponent a Decimal holds is its exact value.
    let text = GOOD.replace("140.5", "1.405e2");
    assert_eq!(
        parse_decision(&text).unwrap().take_profit,
        Some(dec("140.5"))
    );
}

#[test]
fn optional_keys_may_be_absent_or_null() {
    let minimal = r#"{"action":"hold","confidence":0,"reasons":[]}"#;
    assert_eq!(
        parse_decision(minimal).unwrap(),
        ModelDecision {
            action: ModelAction::Hold,
            confidence: 0.0,
            stop: None,
            take_profit: None,
            horizon_bars: None,
            reasons: vec![],
        }
    );
    let nulls = r#"{"reasons":["flat"],"stop":null,"take_profit":null,"horizon_bars":null,"confidence":1,"action":"close"}"#;
    let decision = parse_decision(nulls).unwrap();
    assert_eq!(
        (decision.action, decision.confidence),
        (ModelAction::Close, 1.0)
    );
    assert_eq!(
        (decision.stop, decision.take_profit, decision.horizon_bars),
        (None, None, None)
    );
}

#[test]
fn unknown_missing_and_repeated_keys_are_named() {
    let err = breach(
        "\"horizon_bars\"",
        "\"max_position_pct\":100,\"horizon_bars\"",
    );
    assert_eq!(err, "reply has unknown key `max_position_pct`");
    let err = breach(r#""action":"buy","#, "");
    assert_eq!(err, "reply is missing key `action`");
    let err = breach(
        r#","reasons":["breakout above the range","volume rising"]"#,
        "",
    );
    assert_eq!(err, "reply is missing key `reasons`");
    let err = breach(
        r#""confidence":0.72"#,
        r#""confidence":0.72,"confidence":0.9"#,
    );
    assert_eq!(err, "reply key `confidence` is given twice");
}

#[test]
fn the_action_is_one_of_four_names_as_a_string() {
    let err = breach("\"buy\"", "\"BUY\"");
    assert!(
        err.starts_with("reply key `action` is \"BUY\", not one of"),
        "{err}"
    );
    let err = breach("\"buy\"", r#"{"buy":null}"#);
    assert!(err.starts_with("reply key `action` is an object"), "{err}");
    let err = breach("\"buy\"", "\"short\"");
    assert!(err.contains("`action`"), "{err}");
}

#[test]
fn confidence_is_a_number_in_0_1_refused_not_clamped() {
    assert_eq!(
        breach("0.72", "1.2"),
        "reply field `confidence` is 1.2, outside [0, 1]"
    );
    assert!(breach("0.72", "-0.1").contains("`confidence` is -0.1"));
    assert_eq!(
        breach("0.72", "\"NaN\""),
        "reply key `confidence` is a string, not a number"
    );
    assert!(breach("0.72", "1e999").contains("`confidence` is inf"));
}

#[test]
fn prices_are_positive_json_numbers_a_decimal_holds() {
    assert_eq!(
        breach("123.45", "0"),
        "reply key `stop` is 0, not a positive price"
    );
    assert_eq!(
        breach("123.45", "-5"),
        "reply key `stop` is -5, not a positive price"
    );
    assert_eq!(
        breach("123.45", "\"100\""),
        "reply key `stop` is a string, not a price (a JSON number)"
    );
    assert_eq!(
        breach("140.5", "1e99"),
        "reply key `take_profit` is 1e99, not a price a decimal holds exactly"
    );
    assert!(breach("140.5", "1e-40").contains("`take_profit` is 1e-40"));
    // The stop above the take-profit contradicts the contract.
    let err = breach("140.5", "100");
    assert!(
        err.contains("`stop` 123.45 is not below `take_profit` 100"),
        "{err}"
    );
}

#[test]
fn the_horizon_is_a_whole_number_of_bars() {
    for bad in ["0", "-3", "2.5", "12.0", "100001", "1e3", "\"12\""] {
        let err = breach("\"horizon_bars\":12", &format!("\"horizon_bars\":{bad}"));
        assert!(
            err.starts_with("reply key `horizon_bars` is"),
            "{bad}: {err}"
        );
    }
    let text = GOOD.replace("\"horizon_bars\":12", "\"horizon_bars\":100000");
    assert_eq!(parse_decision(&text).unwrap().horizon_bars, Some(100_000));
}

#[test]
fn reasons_are_at_most_five_short_non_empty_strings() {
    let six = r#"["a","b","c","d","e","f"]"#;
    let reasons = r#"["breakout above the range","volume rising"]"#;
    assert_eq!(
        breach(reasons, six),
        "reply key `reasons` has 6 entries (at most 5)"
    );
    assert_eq!(
        breach(reasons, r#"["ok","  "]"#),
        "reply key `reasons` entry 1 is empty"
    );
    let long = format!("[\"{}\"]", "é".repeat(201));
    assert_eq!(
        breach(reasons, &long),
        "reply key `reasons` entry 0 has 201 characters (at most 200)"
    );
    assert_eq!(
        breach(reasons, r#"["ok",3]"#),
        "reply key `reasons` entry 1 is 3, not a string"
    );
    assert_eq!(
        breach(reasons, r#""one reason""#),
        "reply key `reasons` is a string, not an array of strings"
    );
    let five = r#"["a","b","c","d","e"]"#;
    assert_eq!(
        parse_decision(&GOOD.replace(reasons, five))
            .unwrap()
            .reasons
            .len(),
        5
    );
}

#[test]
fn prose_fences_arrays_and_truncation_are_refused() {
    for text in [
        format!("Here is my decision: {GOOD}"),
        format!("{GOOD} Good luck!"),
        format!("```json\n{GOOD}\n```"),
        r#"["buy",0.7,null,null,null,[]]"#.to_string(),
        String::new(),
    ] {
        assert!(
            matches!(parse_decision(&text), Err(ReplyError::Schema(_))),
            "{text}"
        );
    }
    let err = parse_decision(&GOOD[..GOOD.len() / 2]).unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
}

#[test]
fn a_hostile_unknown_key_is_shown_escaped_and_short() {
    let key = format!("x\n{}", "y".repeat(500));
    let text = GOOD.replace(
        "\"horizon_bars\"",
        &format!("\"{}\":1,\"horizon_bars\"", key.replace('\n', "\\n")),
    );
    let err = parse_decision(&text).unwrap_err().to_string();
    assert!(err.starts_with("reply has unknown key `x\\nyyy"), "{err}");
    assert!(!err.contains('\n') && err.chars().count() < 80, "{err}");
}

#[test]
fn the_bounds_hold_for_a_decision_from_anywhere() {
    assert_eq!(check_decision(&good()), Ok(()));
    let mut d = good();
    d.confidence = f64::NAN;
    assert!(check_decision(&d)
        .unwrap_err()
        .to_string()
        .contains("`confidence` is NaN"));
    let mut d = good();
    d.reasons = vec!["r".into(); 6];
    assert!(check_decision(&d).is_err());
    let mut d = good();
    d.take_profit = Some(dec("-1"));
    assert!(check_decision(&d)
        .unwrap_err()
        .to_string()
        .contains("`take_profit`"));
    let mut d = good();
    d.horizon_bars = Some(0);
    assert!(check_decision(&d)
        .unwrap_err()
        .to_string()
        .contains("`horizon_bars`"));
}
