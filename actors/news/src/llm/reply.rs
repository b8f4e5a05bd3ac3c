//! The reply contract: one strict JSON object, validated and then clamped.
//!
//! Model output is untrusted input. Anything that is not exactly the object of
//! [`super::prompt::SYSTEM_PROMPT`] — prose, markdown, truncated JSON, unknown or missing keys,
//! wrong types, numbers out of range or not finite, a sentiment that contradicts its score,
//! an event pointing at no headline — is a [`ReplyError`]: a counted failure, never a signal.
//! Nothing in the contract names a risk limit, so no reply can move one.

use serde::Deserialize;

use super::strict_json::{name, number, Object};
use crate::model::{EventKind, Severity};
use crate::{Analysis, DetectedEvent};

/// Most events one reply may report.
pub const MAX_EVENTS: usize = 20;
/// Most key factors one reply may list.
pub const MAX_KEY_FACTORS: usize = 10;
/// Longest event description or key factor, in characters.
pub const MAX_TEXT_CHARS: usize = 500;

/// Why a reply is not an analysis.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReplyError {
    /// Not a JSON object of the contract's shape (prose, truncated, wrong types or keys).
    #[error("reply is not the JSON object asked for: {0}")]
    Schema(String),
    /// A number outside its range, or not finite.
    #[error("reply field `{field}` is {value}, outside {range}")]
    OutOfRange {
        /// The field.
        field: &'static str,
        /// The value given.
        value: f64,
        /// The allowed range.
        range: &'static str,
    },
    /// The parts of the reply contradict each other or the request.
    #[error("reply is inconsistent: {0}")]
    Inconsistent(String),
    /// A key the contract does not have (shown escaped, cut short).
    #[error("reply has unknown key `{0}`")]
    UnknownKey(String),
    /// A key the contract requires is absent.
    #[error("reply is missing key `{0}`")]
    MissingKey(&'static str),
    /// A key's value is of the wrong kind, outside its bounds, or given twice.
    #[error("reply key `{key}` {problem}")]
    Key {
        /// The key.
        key: &'static str,
        /// What is wrong with it ("is a string, not a price (a JSON number)").
        problem: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Label {
    Positive,
    Negative,
    Neutral,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    #[serde(rename = "type", deserialize_with = "name")]
    kind: EventKind,
    #[serde(deserialize_with = "name")]
    severity: Severity,
    headline: usize,
    description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReply {
    #[serde(deserialize_with = "name")]
    sentiment: Label,
    #[serde(deserialize_with = "number")]
    score: f64,
    #[serde(deserialize_with = "number")]
    confidence: f64,
    events: Vec<Object<RawEvent>>,
    key_factors: Vec<String>,
}

/// The impact of an event by severity (the lexicon's scale).
pub fn severity_magnitude(severity: Severity) -> f64 {
    match severity {
        Severity::Low => 0.1,
        Severity::Medium => 0.3,
        Severity::High => 0.6,
        Severity::Critical => 1.0,
    }
}

/// An event's price impact: its severity's magnitude, negative for HACK, DELISTING and
/// UNLOCK, positive for LISTING, and for the other kinds the sign of the overall score
/// (none when the score is 0).
pub fn event_impact(kind: EventKind, severity: Severity, score: f64) -> f64 {
    let sign = match kind {
        EventKind::Hack | EventKind::Delisting | EventKind::Unlock => -1.0,
        EventKind::Listing => 1.0,
        _ if score > 0.0 => 1.0,
        _ if score < 0.0 => -1.0,
        _ => 0.0,
    };
    sign * severity_magnitude(severity)
}

fn check_range(
    field: &'static str,
    value: f64,
    min: f64,
    max: f64,
    range: &'static str,
) -> Result<(), ReplyError> {
    if value.is_finite() && (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ReplyError::OutOfRange {
            field,
            value,
            range,
        })
    }
}

/// Parses and validates a model's reply about a window of `headlines` headlines, and returns
/// it as a clamped [`Analysis`]. Leading and trailing whitespace is allowed; nothing else is.
/// Numbers are read exactly (correctly rounded), so the analysis holds the reply's values.
pub fn parse_reply(text: &str, headlines: usize) -> Result<Analysis, ReplyError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ReplyError::Schema("the reply is empty".into()));
    }
    let Object(raw): Object<RawReply> = serde_json::from_str(text).map_err(|e| {
        let mut message = e.to_string();
        if e.is_eof() {
            message.push_str(" (truncated)");
        }
        ReplyError::Schema(message)
    })?;
    check_range("score", raw.score, -1.0, 1.0, "[-1, 1]")?;
    check_range("confidence", raw.confidence, 0.0, 1.0, "[0, 1]")?;
    let contradiction = match raw.sentiment {
        Label::Positive => raw.score < 0.0,
        Label::Negative => raw.score > 0.0,
        Label::Neutral => false,
    };
    if contradiction {
        return Err(ReplyError::Inconsistent(format!(
            "sentiment {:?} with score {}",
            raw.sentiment, raw.score
        )));
    }
    if raw.events.len() > MAX_EVENTS {
        return Err(ReplyError::Inconsistent(format!(
            "{} events (at most {MAX_EVENTS})",
            raw.events.len()
        )));
    }
    if raw.key_factors.len() > MAX_KEY_FACTORS {
        return Err(ReplyError::Inconsistent(format!(
            "{} key factors (at most {MAX_KEY_FACTORS})",
            raw.key_factors.len()
        )));
    }
    let too_long = |s: &String| s.chars().count() > MAX_TEXT_CHARS;
    if raw.key_factors.iter().any(too_long) || raw.events.iter().any(|e| too_long(&e.0.description))
    {
        return Err(ReplyError::Inconsistent(format!(
            "a text longer than {MAX_TEXT_CHARS} characters"
        )));
    }
    let mut events = Vec::with_capacity(raw.events.len());
    for Object(event) in &raw.events {
        if event.headline >= headlines {
            return Err(ReplyError::Inconsistent(format!(
                "event points at headline {} of {headlines}",
                event.headline
            )));
        }
        events.push(DetectedEvent {
            kind: event.kind,
            severity: event.severity,
            impact: event_impact(event.kind, event.severity, raw.score),
            headline: event.headline,
        });
    }
    Ok(Analysis {
        score: raw.score,
        confidence: raw.confidence,
        events,
    }
    .clamped())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"sentiment":"negative","score":-0.8,"confidence":0.9,
        "events":[{"type":"HACK","severity":"CRITICAL","headline":1,"description":"exchange hacked"}],
        "key_factors":["hack"]}"#;

    #[test]
    fn a_good_reply_becomes_an_analysis() {
        let a = parse_reply(&format!("  {GOOD}\n"), 2).unwrap();
        assert_eq!((a.score, a.confidence), (-0.8, 0.9));
        assert_eq!(
            a.events,
            vec![DetectedEvent {
                kind: EventKind::Hack,
                severity: Severity::Critical,
                impact: -1.0,
                headline: 1,
            }]
        );
    }

    #[test]
    fn prose_and_fences_and_truncation_are_refused() {
        let prose = "The news is bearish: I'd say -0.8.";
        assert!(matches!(parse_reply(prose, 2), Err(ReplyError::Schema(_))));
        let fenced = format!("```json\n{GOOD}\n```");
        assert!(matches!(
            parse_reply(&fenced, 2),
            Err(ReplyError::Schema(_))
        ));
        let truncated = &GOOD[..GOOD.len() / 2];
        let err = parse_reply(truncated, 2).unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
        let trailing = format!("{GOOD} Hope this helps!");
        assert!(matches!(
            parse_reply(&trailing, 2),
            Err(ReplyError::Schema(_))
        ));
    }

    #[test]
    fn wrong_types_and_unknown_keys_are_refused() {
        let text = GOOD.replace("-0.8", "\"-0.8\"");
        assert!(matches!(parse_reply(&text, 2), Err(ReplyError::Schema(_))));
        let text = GOOD.replace(
            "\"key_factors\"",
            "\"max_position_pct\":100,\"key_factors\"",
        );
        let err = parse_reply(&text, 2).unwrap_err();
        assert!(err.to_string().contains("max_position_pct"), "{err}");
        let text = GOOD.replace("\"HACK\"", "\"RUG_PULL\"");
        assert!(matches!(parse_reply(&text, 2), Err(ReplyError::Schema(_))));
        let missing = r#"{"sentiment":"neutral","score":0,"confidence":0.5,"events":[]}"#;
        let err = parse_reply(missing, 2).unwrap_err();
        assert!(
            err.to_string().contains("missing field `key_factors`"),
            "{err}"
        );
    }

    #[test]
    fn arrays_for_objects_and_objects_for_names_are_refused() {
        // serde's derives would read all three as the contract's values.
        let array = r#"["negative",-0.8,0.9,[],[]]"#;
        assert!(matches!(parse_reply(array, 2), Err(ReplyError::Schema(_))));
        let label = GOOD.replace("\"negative\"", r#"{"negative":null}"#);
        assert!(matches!(parse_reply(&label, 2), Err(ReplyError::Schema(_))));
        let event = GOOD.replace(
            r#"{"type":"HACK","severity":"CRITICAL","headline":1,"description":"exchange hacked"}"#,
            r#"["HACK","CRITICAL",1,"exchange hacked"]"#,
        );
        assert!(matches!(parse_reply(&event, 2), Err(ReplyError::Schema(_))));
        assert_eq!(
            parse_reply(" \n", 2),
            Err(ReplyError::Schema("the reply is empty".into()))
        );
    }

    #[test]
    fn numbers_are_read_exactly() {
        // serde_json's default float parser reads this one ulp off.
        let text = GOOD.replace("-0.8", "-0.9767706599510775");
        assert_eq!(parse_reply(&text, 2).unwrap().score, -0.9767706599510775);
    }

    #[test]
    fn out_of_range_numbers_are_refused_not_clamped() {
        let text = GOOD.replace("-0.8", "-3.5");
        assert_eq!(
            parse_reply(&text, 2).unwrap_err(),
            ReplyError::OutOfRange {
                field: "score",
                value: -3.5,
                range: "[-1, 1]"
            }
        );
        let text = GOOD.replace("0.9", "1.2");
        assert!(matches!(
            parse_reply(&text, 2),
            Err(ReplyError::OutOfRange {
                field: "confidence",
                ..
            })
        ));
        // JSON has no NaN; a huge exponent overflows to an error or infinity, never a score.
        let text = GOOD.replace("-0.8", "-1e999");
        assert!(parse_reply(&text, 2).is_err());
    }

    #[test]
    fn contradictions_are_refused() {
        let text = GOOD.replace("\"negative\"", "\"positive\"");
        assert!(matches!(
            parse_reply(&text, 2),
            Err(ReplyError::Inconsistent(_))
        ));
        // The event points past the two headlines of the request.
        assert!(matches!(
            parse_reply(GOOD, 1),
            Err(ReplyError::Inconsistent(_))
        ));
    }

    #[test]
    fn impact_follows_the_kind_then_the_score() {
        assert_eq!(event_impact(EventKind::Listing, Severity::High, -0.5), 0.6);
        assert_eq!(event_impact(EventKind::Unlock, Severity::Low, 0.9), -0.1);
        assert_eq!(
            event_impact(EventKind::Regulation, Severity::Medium, -0.2),
            -0.3
        );
        assert_eq!(event_impact(EventKind::Macro, Severity::Medium, 0.0), 0.0);
    }
}
