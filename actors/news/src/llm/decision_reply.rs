//! The decision contract: one strict JSON object, validated, never clamped.
//!
//! Model output is untrusted input. Anything that is not exactly the object of
//! [`super::decision_prompt::DECISION_SYSTEM_PROMPT`] — prose, markdown or code fences,
//! truncated JSON, unknown, missing or repeated keys, wrong types, numbers out of range,
//! prices that a `Decimal` cannot hold exactly — is a [`ReplyError`] naming the key: a
//! counted failure, never a trade. Nothing in the contract names a limit or a size.

use serde_json::value::RawValue;

use super::reply::ReplyError;
use super::strict_json::{decimal_of, is_number, kind_of, number_of, Members};
use crate::model::{Decimal, ModelAction, ModelDecision};

/// Most reasons one decision may give.
pub const MAX_REASONS: usize = 5;
/// Longest reason, in characters.
pub const MAX_REASON_CHARS: usize = 200;
/// Longest horizon a decision may name, in bars.
pub const MAX_HORIZON_BARS: u32 = 100_000;

/// The contract's keys, in the order of [`ModelDecision`]'s fields.
const KEYS: [&str; 6] = [
    "action",
    "confidence",
    "stop",
    "take_profit",
    "horizon_bars",
    "reasons",
];
const ACTIONS: [ModelAction; 4] = [
    ModelAction::Buy,
    ModelAction::Sell,
    ModelAction::Close,
    ModelAction::Hold,
];

/// Parses and validates a model's decision. Leading and trailing whitespace is allowed;
/// nothing else is (code fences are refused, as by [`super::parse_reply`]). Prices are read
/// exactly from the number's text; nothing is clamped or rounded.
pub fn parse_decision(text: &str) -> Result<ModelDecision, ReplyError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ReplyError::Schema("the reply is empty".into()));
    }
    let Members(members) = serde_json::from_str(text).map_err(|e| {
        let mut message = e.to_string();
        if e.is_eof() {
            message.push_str(" (truncated)");
        }
        ReplyError::Schema(message)
    })?;
    let mut values: [Option<Box<RawValue>>; 6] = Default::default();
    for (key, value) in members {
        let Some(at) = KEYS.iter().position(|k| *k == key) else {
            return Err(ReplyError::UnknownKey(shorten(
                &key.escape_debug().to_string(),
            )));
        };
        if values[at].replace(value).is_some() {
            return Err(problem(KEYS[at], "is given twice".into()));
        }
    }
    let [action, confidence, stop, take_profit, horizon_bars, reasons] = values;
    let decision = ModelDecision {
        action: read_action(&required("action", action)?)?,
        confidence: read_confidence(&required("confidence", confidence)?)?,
        stop: optional(stop).map(|v| read_price("stop", &v)).transpose()?,
        take_profit: optional(take_profit)
            .map(|v| read_price("take_profit", &v))
            .transpose()?,
        horizon_bars: optional(horizon_bars)
            .map(|v| read_horizon(&v))
            .transpose()?,
        reasons: read_reasons(&required("reasons", reasons)?)?,
    };
    check_decision(&decision)?;
    Ok(decision)
}

/// The contract's bounds on a decision, whatever its source (a reply, or a cache entry read
/// back): confidence finite in [0, 1], positive prices with the stop below the take-profit,
/// a horizon in 1..=[`MAX_HORIZON_BARS`], at most [`MAX_REASONS`] reasons, each non-empty and
/// at most [`MAX_REASON_CHARS`] characters.
pub fn check_decision(decision: &ModelDecision) -> Result<(), ReplyError> {
    let confidence = decision.confidence;
    if !(confidence.is_finite() && (0.0..=1.0).contains(&confidence)) {
        return Err(ReplyError::OutOfRange {
            field: "confidence",
            value: confidence,
            range: "[0, 1]",
        });
    }
    for (key, price) in [
        ("stop", decision.stop),
        ("take_profit", decision.take_profit),
    ] {
        if let Some(price) = price.filter(|p| *p <= Decimal::ZERO) {
            return Err(problem(key, format!("is {price}, not a positive price")));
        }
    }
    if let (Some(stop), Some(take_profit)) = (decision.stop, decision.take_profit) {
        if stop >= take_profit {
            return Err(ReplyError::Inconsistent(format!(
                "`stop` {stop} is not below `take_profit` {take_profit}"
            )));
        }
    }
    if let Some(bars) = decision.horizon_bars {
        if !(1..=MAX_HORIZON_BARS).contains(&bars) {
            return Err(problem("horizon_bars", horizon_problem(&bars.to_string())));
        }
    }
    if decision.reasons.len() > MAX_REASONS {
        return Err(problem(
            "reasons",
            format!(
                "has {} entries (at most {MAX_REASONS})",
                decision.reasons.len()
            ),
        ));
    }
    for (i, reason) in decision.reasons.iter().enumerate() {
        if reason.trim().is_empty() {
            return Err(problem("reasons", format!("entry {i} is empty")));
        }
        let chars = reason.chars().count();
        if chars > MAX_REASON_CHARS {
            return Err(problem(
                "reasons",
                format!("entry {i} has {chars} characters (at most {MAX_REASON_CHARS})"),
            ));
        }
    }
    Ok(())
}

fn problem(key: &'static str, problem: String) -> ReplyError {
    ReplyError::Key { key, problem }
}

/// At most 40 characters of `text` (it may be long, and it ends up in logs and the cache).
fn shorten(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// A value for an error message: a number as written, anything else by its kind.
fn shown(value: &RawValue) -> String {
    let text = value.get();
    if is_number(text) {
        shorten(text)
    } else {
        kind_of(text).to_string()
    }
}

fn required(key: &'static str, value: Option<Box<RawValue>>) -> Result<Box<RawValue>, ReplyError> {
    value.ok_or(ReplyError::MissingKey(key))
}

/// An optional key's value: absent and `null` are both none.
fn optional(value: Option<Box<RawValue>>) -> Option<Box<RawValue>> {
    value.filter(|v| v.get() != "null")
}

fn read_action(value: &RawValue) -> Result<ModelAction, ReplyError> {
    const EXPECTED: &str = r#"not one of "buy", "sell", "close", "hold""#;
    // Only a string names an action: serde's derive would also take `{"buy": null}`.
    let Ok(name) = serde_json::from_str::<String>(value.get()) else {
        return Err(problem(
            "action",
            format!("is {}, {EXPECTED}", shown(value)),
        ));
    };
    ACTIONS
        .into_iter()
        .find(|action| action.name() == name)
        .ok_or_else(|| {
            let name = shorten(&name.escape_debug().to_string());
            problem("action", format!("is \"{name}\", {EXPECTED}"))
        })
}

fn read_confidence(value: &RawValue) -> Result<f64, ReplyError> {
    let confidence = number_of(value.get())
        .ok_or_else(|| problem("confidence", format!("is {}, not a number", shown(value))))?;
    // Refused, not clamped, by `check_decision` when outside [0, 1].
    Ok(confidence)
}

fn read_price(key: &'static str, value: &RawValue) -> Result<Decimal, ReplyError> {
    let text = value.get();
    if !is_number(text) {
        return Err(problem(
            key,
            format!("is {}, not a price (a JSON number)", kind_of(text)),
        ));
    }
    let price = decimal_of(text).ok_or_else(|| {
        problem(
            key,
            format!("is {}, not a price a decimal holds exactly", shorten(text)),
        )
    })?;
    if price <= Decimal::ZERO {
        return Err(problem(
            key,
            format!("is {}, not a positive price", shorten(text)),
        ));
    }
    Ok(price)
}

fn horizon_problem(shown: &str) -> String {
    format!("is {shown}, not a whole number of bars in 1..={MAX_HORIZON_BARS}")
}

fn read_horizon(value: &RawValue) -> Result<u32, ReplyError> {
    let text = value.get();
    let bars = text
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| text.parse::<u32>().ok())
        .flatten()
        .filter(|bars| (1..=MAX_HORIZON_BARS).contains(bars));
    bars.ok_or_else(|| problem("horizon_bars", horizon_problem(&shown(value))))
}

fn read_reasons(value: &RawValue) -> Result<Vec<String>, ReplyError> {
    let Ok(items) = serde_json::from_str::<Vec<Box<RawValue>>>(value.get()) else {
        return Err(problem(
            "reasons",
            format!("is {}, not an array of strings", shown(value)),
        ));
    };
    if items.len() > MAX_REASONS {
        return Err(problem(
            "reasons",
            format!("has {} entries (at most {MAX_REASONS})", items.len()),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            serde_json::from_str::<String>(item.get()).map_err(|_| {
                problem(
                    "reasons",
                    format!("entry {i} is {}, not a string", shown(item)),
                )
            })
        })
        .collect()
}

#[cfg(test)]
#[path = "decision_reply_tests.rs"]
mod tests;
