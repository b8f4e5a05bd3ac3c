//! The decision contract: generated replies read back exactly; damaged ones never panic and
//! never yield a decision outside the contract's bounds.

use proptest::prelude::*;

use crate::llm::decision_reply::{check_decision, parse_decision, MAX_REASONS};
use crate::model::{Decimal, ModelAction, ModelDecision};
use crate::testing::props::{config, damage};
use keel_core::testing::json::{number_text, text, Json};
use keel_core::testing::Rng;

const ACTIONS: [ModelAction; 4] = [
    ModelAction::Buy,
    ModelAction::Sell,
    ModelAction::Close,
    ModelAction::Hold,
];

/// A positive price with up to 8 decimals, and a JSON text for it (plain or with an
/// exponent, both exact).
fn price(rng: &mut Rng) -> (Decimal, String) {
    let mantissa = 1 + (rng.next() % 1_000_000_000_000) as i64;
    let scale = rng.below(9) as u32;
    let value = Decimal::new(mantissa, scale);
    let text = if rng.one_in(3) {
        format!("{mantissa}e-{scale}")
    } else {
        value.to_string()
    };
    (value, text)
}

/// A valid decision and one JSON text of it (random key order, whitespace, escapes, number
/// forms; optional keys absent or null when none).
fn valid(seed: u64) -> (ModelDecision, String) {
    let mut rng = Rng::new(seed);
    let action = *rng.pick(&ACTIONS);
    let confidence = f64::from(rng.below(1001) as u32) / 1000.0;
    let (mut stop, mut take_profit) = (None, None);
    let mut fields = vec![
        ("action".to_string(), Json::Str(action.name().into())),
        (
            "confidence".to_string(),
            Json::Num(number_text(confidence, &mut rng)),
        ),
    ];
    let (a, b) = (price(&mut rng), price(&mut rng));
    let (low, high) = if a.0 < b.0 { (a, b) } else { (b, a) };
    for (key, slot, value) in [
        ("stop", &mut stop, low),
        ("take_profit", &mut take_profit, high),
    ] {
        match rng.below(3) {
            0 => {}
            1 => fields.push((key.into(), Json::Null)),
            _ => {
                *slot = Some(value.0);
                fields.push((key.into(), Json::Num(value.1)));
            }
        }
    }
    if stop.is_some() && stop == take_profit {
        take_profit = None;
        fields.retain(|(k, _)| k != "take_profit");
    }
    let horizon_bars = rng.one_in(2).then(|| 1 + rng.below(100_000) as u32);
    match horizon_bars {
        Some(bars) => fields.push(("horizon_bars".into(), Json::Num(bars.to_string()))),
        None if rng.one_in(2) => fields.push(("horizon_bars".into(), Json::Null)),
        None => {}
    }
    let reasons: Vec<String> = (0..rng.below(MAX_REASONS + 1))
        .map(|_| format!("r{}", text(&mut rng, 40)))
        .collect();
    fields.push((
        "reasons".into(),
        Json::Arr(reasons.iter().cloned().map(Json::Str).collect()),
    ));
    let decision = ModelDecision {
        action,
        confidence,
        stop,
        take_profit,
        horizon_bars,
        reasons,
    };
    let json = Json::Obj(fields).shuffled(&mut rng);
    (decision, json.render(&mut rng))
}

proptest! {
    #![proptest_config(config())]
    /// A valid reply reads back as exactly the decision generated.
    #[test]
    fn valid_decisions_read_exactly(seed in any::<u64>()) {
        let (want, text) = valid(seed);
        let got = parse_decision(&text);
        prop_assert_eq!(got.as_ref().ok(), Some(&want), "{}\n{:?}", text, got);
    }

    /// Damaged replies never panic, and what they yield is within the contract.
    #[test]
    fn damaged_decisions_are_errors_or_within_bounds(seed in any::<u64>(), damage_seed in any::<u64>()) {
        let (_, text) = valid(seed);
        let damaged = damage(text.as_bytes(), damage_seed);
        if let Ok(decision) = parse_decision(&String::from_utf8_lossy(&damaged)) {
            prop_assert_eq!(check_decision(&decision), Ok(()));
        }
    }
}
