//! The reply contract: generated replies, targeted breaches, damage.

use proptest::prelude::*;
use serde_json::value::RawValue;

use super::{array, exact_members, number, string};
use crate::llm::reply::{parse_reply, ReplyError, MAX_EVENTS, MAX_KEY_FACTORS, MAX_TEXT_CHARS};
use crate::model::{EventKind, Severity};
use crate::testing::props::{config, damage};
use crate::{Analysis, DetectedEvent};
use keel_core::testing::json::{arbitrary, number_text, text, Json};
use keel_core::testing::Rng;

const KINDS: [(&str, EventKind); 7] = [
    ("HACK", EventKind::Hack),
    ("REGULATION", EventKind::Regulation),
    ("UNLOCK", EventKind::Unlock),
    ("LISTING", EventKind::Listing),
    ("DELISTING", EventKind::Delisting),
    ("MACRO", EventKind::Macro),
    ("OTHER", EventKind::Other),
];
const SEVERITIES: [(&str, Severity, f64); 4] = [
    ("LOW", Severity::Low, 0.1),
    ("MEDIUM", Severity::Medium, 0.3),
    ("HIGH", Severity::High, 0.6),
    ("CRITICAL", Severity::Critical, 1.0),
];
const LABELS: [&str; 3] = ["positive", "negative", "neutral"];
const TOP_KEYS: [&str; 5] = ["sentiment", "score", "confidence", "events", "key_factors"];
const EVENT_KEYS: [&str; 4] = ["type", "severity", "headline", "description"];

/// The impact the contract promises, written out independently of `event_impact`.
fn expected_impact(kind: EventKind, severity: Severity, score: f64) -> f64 {
    let magnitude = SEVERITIES
        .iter()
        .find(|s| s.1 == severity)
        .map_or(f64::NAN, |s| s.2);
    match kind {
        EventKind::Hack | EventKind::Delisting | EventKind::Unlock => -magnitude,
        EventKind::Listing => magnitude,
        _ if score > 0.0 => magnitude,
        _ if score < 0.0 => -magnitude,
        _ => 0.0,
    }
}

// ---------------------------------------------------------------------------------------
// Generating valid replies.

#[derive(Debug, Clone)]
struct EventSpec {
    kind: usize,
    severity: usize,
    headline: usize,
    description: String,
}

#[derive(Debug, Clone)]
pub(super) struct ReplySpec {
    label: usize,
    score: f64,
    confidence: f64,
    events: Vec<EventSpec>,
    key_factors: Vec<String>,
    pub(super) headlines: usize,
    /// Drives key order, whitespace, escapes and number forms.
    seed: u64,
}

/// A magnitude in [0, 1], edges included.
fn unit() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(1.0),
        Just(f64::MIN_POSITIVE),
        Just(5e-324),
        Just(1.0 - f64::EPSILON / 2.0),
        (0u32..=1000).prop_map(|n| f64::from(n) / 1000.0),
        0.0..=1.0f64,
    ]
}

/// Text up to `max` characters, now and then exactly `max`.
fn text_of(rng: &mut Rng, max: usize) -> String {
    if rng.one_in(16) {
        (0..max)
            .map(|i| if i % 7 == 0 { 'é' } else { 'x' })
            .collect()
    } else {
        text(rng, 24)
    }
}

pub(super) fn reply_spec() -> impl Strategy<Value = ReplySpec> {
    (
        1usize..40,
        0usize..3,
        unit(),
        any::<bool>(),
        unit(),
        0..=MAX_EVENTS,
        0..=MAX_KEY_FACTORS,
        any::<u64>(),
    )
        .prop_map(
            |(headlines, label, magnitude, negative, confidence, events, factors, seed)| {
                let score = match label {
                    0 => magnitude,
                    1 => -magnitude,
                    _ if negative => -magnitude,
                    _ => magnitude,
                };
                let mut rng = Rng::new(seed);
                let events = (0..events)
                    .map(|_| EventSpec {
                        kind: rng.below(KINDS.len()),
                        severity: rng.below(SEVERITIES.len()),
                        headline: rng.below(headlines),
                        description: text_of(&mut rng, MAX_TEXT_CHARS),
                    })
                    .collect();
                let key_factors = (0..factors)
                    .map(|_| text_of(&mut rng, MAX_TEXT_CHARS))
                    .collect();
                ReplySpec {
                    label,
                    score,
                    confidence,
                    events,
                    key_factors,
                    headlines,
                    seed: rng.next(),
                }
            },
        )
}

impl ReplySpec {
    fn event_json(event: &EventSpec) -> Json {
        Json::Obj(vec![
            ("type".into(), Json::Str(KINDS[event.kind].0.into())),
            (
                "severity".into(),
                Json::Str(SEVERITIES[event.severity].0.into()),
            ),
            ("headline".into(), Json::Num(event.headline.to_string())),
            ("description".into(), Json::Str(event.description.clone())),
        ])
    }

    fn json(&self, rng: &mut Rng) -> Json {
        let events = self.events.iter().map(Self::event_json).collect();
        Json::Obj(vec![
            ("sentiment".into(), Json::Str(LABELS[self.label].into())),
            ("score".into(), Json::Num(number_text(self.score, rng))),
            (
                "confidence".into(),
                Json::Num(number_text(self.confidence, rng)),
            ),
            ("events".into(), Json::Arr(events)),
            (
                "key_factors".into(),
                Json::Arr(self.key_factors.iter().cloned().map(Json::Str).collect()),
            ),
        ])
    }

    pub(super) fn text(&self) -> String {
        let mut rng = Rng::new(self.seed);
        self.json(&mut rng).shuffled(&mut rng).render(&mut rng)
    }

    pub(super) fn expected(&self) -> Analysis {
        Analysis {
            score: self.score,
            confidence: self.confidence,
            events: self
                .events
                .iter()
                .map(|e| DetectedEvent {
                    kind: KINDS[e.kind].1,
                    severity: SEVERITIES[e.severity].1,
                    impact: expected_impact(KINDS[e.kind].1, SEVERITIES[e.severity].1, self.score),
                    headline: e.headline,
                })
                .collect(),
        }
    }
}

/// Equal, and the same bits for the two numbers (`-0.0` is not `0.0` here).
pub(super) fn same_analysis(a: &Analysis, b: &Analysis) -> bool {
    a == b
        && a.score.to_bits() == b.score.to_bits()
        && a.confidence.to_bits() == b.confidence.to_bits()
}

/// What kind of answer a reply gets.
#[derive(Debug, Clone, PartialEq)]
enum Verdict {
    Ok(Analysis),
    Schema,
    OutOfRange(&'static str),
    Inconsistent,
}

fn verdict(result: Result<Analysis, ReplyError>) -> Verdict {
    match result {
        Ok(a) => Verdict::Ok(a),
        Err(ReplyError::Schema(_)) => Verdict::Schema,
        Err(ReplyError::OutOfRange { field, .. }) => Verdict::OutOfRange(field),
        Err(ReplyError::Inconsistent(_)) => Verdict::Inconsistent,
        Err(
            e @ (ReplyError::UnknownKey(_) | ReplyError::MissingKey(_) | ReplyError::Key { .. }),
        ) => {
            panic!("parse_reply gave an error of the decision contract: {e}")
        }
    }
}

/// A reply as the reference reads it, before the range and consistency checks.
struct Read {
    label: usize,
    score: f64,
    confidence: f64,
    /// Kind, severity (indices into the tables), headline, description.
    events: Vec<(usize, usize, usize, String)>,
    factors: Vec<String>,
}

fn reference_schema(text: &str) -> Option<Read> {
    let text = text.trim();
    let top: Box<RawValue> = serde_json::from_str(text).ok()?;
    let fields = exact_members(top.get(), &TOP_KEYS)?;
    let label = LABELS
        .iter()
        .position(|l| Some(*l) == string(&fields[0]).as_deref())?;
    let score = number(&fields[1])?;
    let confidence = number(&fields[2])?;
    let mut events = Vec::new();
    for event in array(&fields[3])? {
        let e = exact_members(event.get(), &EVENT_KEYS)?;
        let kind = KINDS
            .iter()
            .position(|k| Some(k.0) == string(&e[0]).as_deref())?;
        let severity = SEVERITIES
            .iter()
            .position(|s| Some(s.0) == string(&e[1]).as_deref())?;
        let headline: usize = serde_json::from_str(e[2].get()).ok()?;
        events.push((kind, severity, headline, string(&e[3])?));
    }
    let factors = array(&fields[4])?
        .iter()
        .map(|f| string(f))
        .collect::<Option<Vec<String>>>()?;
    Some(Read {
        label,
        score,
        confidence,
        events,
        factors,
    })
}

fn reference_reply(text: &str, headlines: usize) -> Verdict {
    let Some(Read {
        label,
        score,
        confidence,
        events,
        factors,
    }) = reference_schema(text)
    else {
        return Verdict::Schema;
    };
    if !(score.is_finite() && (-1.0..=1.0).contains(&score)) {
        return Verdict::OutOfRange("score");
    }
    if !(confidence.is_finite() && (0.0..=1.0).contains(&confidence)) {
        return Verdict::OutOfRange("confidence");
    }
    let long = |s: &String| s.chars().count() > MAX_TEXT_CHARS;
    if (label == 0 && score < 0.0)
        || (label == 1 && score > 0.0)
        || events.len() > MAX_EVENTS
        || factors.len() > MAX_KEY_FACTORS
        || factors.iter().any(long)
        || events.iter().any(|e| long(&e.3))
        || events.iter().any(|e| e.2 >= headlines)
    {
        return Verdict::Inconsistent;
    }
    Verdict::Ok(Analysis {
        score,
        confidence,
        events: events
            .iter()
            .map(|&(k, s, headline, _)| DetectedEvent {
                kind: KINDS[k].1,
                severity: SEVERITIES[s].1,
                impact: expected_impact(KINDS[k].1, SEVERITIES[s].1, score),
                headline,
            })
            .collect(),
    })
}

/// The parser and the reference agree (values bit for bit).
fn agrees(text: &str, headlines: usize) -> Result<(), TestCaseError> {
    let got = verdict(parse_reply(text, headlines));
    let want = reference_reply(text, headlines);
    match (&got, &want) {
        (Verdict::Ok(a), Verdict::Ok(b)) => prop_assert!(same_analysis(a, b), "{a:?} != {b:?}"),
        _ => prop_assert_eq!(&got, &want, "text {:?}", text),
    }
    Ok(())
}

/// The first event object of a reply.
fn first_event(json: &mut Json) -> Option<&mut Json> {
    let Json::Obj(fields) = json else { return None };
    match fields.iter_mut().find(|(k, _)| k == "events") {
        Some((_, Json::Arr(events))) => events.first_mut(),
        _ => None,
    }
}

/// A targeted breach of the contract and the verdict it must get.
fn breach(spec: &ReplySpec, which: usize, seed: u64) -> (String, Verdict) {
    let mut rng = Rng::new(seed);
    let mut spec = spec.clone();
    let num = |text: &str| Json::Num(text.to_string());
    let set = |json: &mut Json, key: &str, value: Json| {
        if let Json::Obj(fields) = json {
            for (k, v) in fields.iter_mut() {
                if k == key {
                    *v = value.clone();
                }
            }
        }
    };
    if spec.events.is_empty() {
        spec.events.push(EventSpec {
            kind: 0,
            severity: 0,
            headline: 0,
            description: "x".into(),
        });
    }
    let mut json = spec.json(&mut rng);
    let expect = match which % 14 {
        0 => {
            let bad = *rng.pick(&[
                "1.0000000000000002",
                "-1.0000000000000002",
                "1.5",
                "-2",
                "1e308",
                "1e999",
                "-1E400",
                "100000000000000000000000000",
            ]);
            set(&mut json, "sentiment", Json::Str("neutral".into()));
            set(&mut json, "score", num(bad));
            Verdict::OutOfRange("score")
        }
        1 => {
            let bad = *rng.pick(&["-1e-300", "-0.5", "1.0000000000000002", "2", "1e999", "-1"]);
            set(&mut json, "confidence", num(bad));
            Verdict::OutOfRange("confidence")
        }
        2 => {
            let bad = rng
                .pick(&[
                    Json::Str("0.5".into()),
                    Json::Str("NaN".into()),
                    Json::Null,
                    Json::Bool(true),
                    Json::Arr(vec![num("0.5")]),
                    Json::Obj(vec![("v".into(), num("0.5"))]),
                    num("NaN"),
                    num("Infinity"),
                    num("-Infinity"),
                    num("+0.5"),
                    num(".5"),
                    num("0x10"),
                    num("1."),
                    num("01"),
                ])
                .clone();
            let key = *rng.pick(&["score", "confidence"]);
            set(&mut json, key, bad);
            Verdict::Schema
        }
        3 => {
            let bad = rng
                .pick(&[
                    Json::Str("POSITIVE".into()),
                    Json::Str("Positive".into()),
                    Json::Str("bullish".into()),
                    Json::Str(String::new()),
                    Json::Obj(vec![("positive".into(), Json::Null)]),
                    Json::Arr(vec![Json::Str("positive".into())]),
                    Json::Null,
                    num("1"),
                ])
                .clone();
            set(&mut json, "sentiment", bad);
            Verdict::Schema
        }
        4 => {
            set(&mut json, "sentiment", Json::Str("positive".into()));
            set(&mut json, "score", num("-0.25"));
            Verdict::Inconsistent
        }
        5 => {
            let bad = rng
                .pick(&[
                    Json::Str("hack".into()),
                    Json::Str("Hack".into()),
                    Json::Str("RUG_PULL".into()),
                    Json::Obj(vec![("HACK".into(), Json::Null)]),
                    num("0"),
                ])
                .clone();
            let key = *rng.pick(&["type", "severity"]);
            if let Some(event) = first_event(&mut json) {
                set(event, key, bad);
            }
            Verdict::Schema
        }
        6 => {
            let (bad, expect) = rng
                .pick(&[
                    (num(&spec.headlines.to_string()), Verdict::Inconsistent),
                    (num(&u64::MAX.to_string()), Verdict::Inconsistent),
                    (num("18446744073709551616"), Verdict::Schema),
                    (num("-1"), Verdict::Schema),
                    (num("1.0"), Verdict::Schema),
                    (num("1e0"), Verdict::Schema),
                    (Json::Str("1".into()), Verdict::Schema),
                ])
                .clone();
            if let Some(event) = first_event(&mut json) {
                set(event, "headline", bad);
            }
            expect
        }
        7..=9 => {
            // Remove, add or repeat a key, at the top or in an event.
            let in_event = rng.one_in(2);
            let target = match in_event {
                true => first_event(&mut json),
                false => Some(&mut json),
            };
            if let Some(Json::Obj(fields)) = target {
                let i = rng.below(fields.len());
                match which % 14 {
                    7 => {
                        fields.remove(i);
                    }
                    8 => fields.push(("max_position_pct".into(), num("100"))),
                    _ => {
                        let (key, value) = fields[i].clone();
                        let value = if rng.one_in(2) {
                            value
                        } else {
                            arbitrary(&mut rng, 2)
                        };
                        fields.push((key, value));
                    }
                }
            }
            Verdict::Schema
        }
        10 => {
            let (key, count) = *rng.pick(&[
                ("events", MAX_EVENTS + 1),
                ("key_factors", MAX_KEY_FACTORS + 1),
            ]);
            let item = if key == "events" {
                ReplySpec::event_json(&spec.events[0])
            } else {
                Json::Str("factor".into())
            };
            set(&mut json, key, Json::Arr(vec![item; count]));
            Verdict::Inconsistent
        }
        11 => {
            let long = Json::Str("y".repeat(MAX_TEXT_CHARS + 1));
            set(&mut json, "key_factors", Json::Arr(vec![long]));
            Verdict::Inconsistent
        }
        12 => {
            // The same values as an array, at the top or for an event.
            if rng.one_in(2) {
                if let Json::Obj(fields) = &json {
                    json = Json::Arr(fields.iter().map(|(_, v)| v.clone()).collect());
                }
            } else if let Some(event) = first_event(&mut json) {
                if let Json::Obj(fields) = &*event {
                    *event = Json::Arr(fields.iter().map(|(_, v)| v.clone()).collect());
                }
            }
            Verdict::Schema
        }
        _ => {
            let text = json.shuffled(&mut rng).render(&mut rng);
            let text = match rng.below(4) {
                0 => format!("Here is the analysis: {text}"),
                1 => format!("```json\n{text}\n```"),
                2 => format!("{text} Hope this helps!"),
                _ => {
                    let trimmed = text.trim();
                    let cuts: Vec<usize> = trimmed.char_indices().map(|(i, _)| i).collect();
                    trimmed[..*rng.pick(&cuts)].to_string()
                }
            };
            return (text, Verdict::Schema);
        }
    };
    (json.shuffled(&mut rng).render(&mut rng), expect)
}

proptest! {
    #![proptest_config(config())]
    /// A valid reply reads back as exactly the values generated.
    #[test]
    fn valid_replies_read_exactly(spec in reply_spec()) {
        let text = spec.text();
        let got = parse_reply(&text, spec.headlines);
        let want = spec.expected();
        prop_assert!(
            got.as_ref().is_ok_and(|a| same_analysis(a, &want)),
            "{text}\n got {got:?}\nwant {want:?}"
        );
        agrees(&text, spec.headlines)?;
    }

    /// A targeted breach gets the error it must, never a value.
    #[test]
    fn breaches_of_the_contract_are_errors(spec in reply_spec(), which in 0usize..14, seed in any::<u64>()) {
        let (text, expect) = breach(&spec, which, seed);
        let got = verdict(parse_reply(&text, spec.headlines));
        prop_assert_eq!(&got, &expect, "{}", text);
        agrees(&text, spec.headlines)?;
    }

    /// Damaged replies never panic and get what the reference reader says.
    #[test]
    fn damaged_replies_agree_with_the_reference(spec in reply_spec(), seed in any::<u64>()) {
        let damaged = damage(spec.text().as_bytes(), seed);
        let text = String::from_utf8_lossy(&damaged);
        agrees(&text, spec.headlines)?;
    }
}
