//! Both providers' response bodies: generated, damaged, and of the wrong shape.

use proptest::prelude::*;

use super::reply::{reply_spec, same_analysis};
use super::{array, member, members, nullable, string};
use crate::llm::prompt::Prompt;
use crate::llm::provider::{read_completion, Completion};
use crate::llm::reply::{parse_reply, ReplyError};
use crate::testing::props::{config, damage};
use keel_core::llm_api::AnalystKind;
use keel_core::testing::json::{arbitrary, Json};
use keel_core::testing::Rng;
use serde_json::value::RawValue;

fn prompt() -> Prompt {
    Prompt {
        system: "system",
        user: "user message".into(),
    }
}

/// Token counts at the edges.
fn tokens(rng: &mut Rng) -> u64 {
    match rng.below(4) {
        0 => u64::MAX - rng.below(2) as u64,
        1 => 0,
        _ => rng.next() % 100_000,
    }
}

/// A valid body of `kind`'s API around the reply `text`, and the completion it must read as.
fn body(kind: AnalystKind, text: &str, seed: u64) -> (String, Completion) {
    let mut rng = Rng::new(seed);
    let extra = |rng: &mut Rng, fields: &mut Vec<(String, Json)>| {
        for i in 0..rng.below(3) {
            fields.push((format!("x_extra_{i}"), arbitrary(rng, 3)));
        }
    };
    let (prompt_tokens, reply_tokens) = (tokens(&mut rng), tokens(&mut rng));
    let usage = rng.below(4);
    let reported = match usage {
        0 | 1 => None,
        2 => Some(prompt_tokens.saturating_add(reply_tokens)),
        _ => None,
    };
    let asked = prompt().system.len() + prompt().user.len();
    let mut fields: Vec<(String, Json)> = Vec::new();
    let (text, cut_off) = match kind {
        AnalystKind::Anthropic => {
            // The text split over one to three text blocks, between other blocks.
            let mut blocks = Vec::new();
            let cuts: Vec<usize> = text
                .char_indices()
                .map(|(i, _)| i)
                .chain([text.len()])
                .collect();
            let mut parts = vec![0, text.len()];
            for _ in 0..rng.below(3) {
                parts.push(*rng.pick(&cuts));
            }
            parts.sort_unstable();
            for pair in parts.windows(2) {
                if rng.one_in(3) {
                    blocks.push(Json::Obj(vec![
                        ("type".into(), Json::Str("thinking".into())),
                        ("thinking".into(), Json::Str("hmm".into())),
                    ]));
                }
                let mut block = vec![
                    ("type".into(), Json::Str("text".into())),
                    ("text".into(), Json::Str(text[pair[0]..pair[1]].into())),
                ];
                extra(&mut rng, &mut block);
                blocks.push(Json::Obj(block));
            }
            if rng.one_in(4) {
                blocks.push(Json::Obj(vec![
                    ("type".into(), Json::Str("tool_use".into())),
                    ("input".into(), Json::Obj(vec![])),
                ]));
            }
            fields.push(("content".into(), Json::Arr(blocks)));
            let stop = *rng.pick(&["end_turn", "max_tokens", "stop_sequence", "", "null", "-"]);
            match stop {
                "-" => {}
                "null" => fields.push(("stop_reason".into(), Json::Null)),
                s => fields.push(("stop_reason".into(), Json::Str(s.into()))),
            }
            let mut u = vec![("cache_read_input_tokens".into(), num_u(7))];
            match usage {
                0 => {}
                1 => fields.push(("usage".into(), Json::Null)),
                2 => {
                    u.push(("input_tokens".into(), num_u(prompt_tokens)));
                    u.push(("output_tokens".into(), num_u(reply_tokens)));
                    fields.push(("usage".into(), Json::Obj(u)));
                }
                _ => {
                    u.push(("input_tokens".into(), num_u(prompt_tokens)));
                    fields.push(("usage".into(), Json::Obj(u)));
                }
            }
            fields.push(("type".into(), Json::Str("message".into())));
            fields.push(("role".into(), Json::Str("assistant".into())));
            (text.to_string(), stop == "max_tokens")
        }
        AnalystKind::Openai | AnalystKind::Lexicon => {
            let content_null = rng.one_in(16);
            let mut message = vec![("role".into(), Json::Str("assistant".into()))];
            match (content_null, rng.below(2)) {
                (true, 0) => {}
                (true, _) => message.push(("content".into(), Json::Null)),
                (false, _) => message.push(("content".into(), Json::Str(text.into()))),
            }
            message.push(("refusal".into(), Json::Null));
            extra(&mut rng, &mut message);
            let finish = *rng.pick(&["stop", "length", "content_filter", "null", "-"]);
            let mut choice = vec![
                ("index".into(), num_u(0)),
                ("message".into(), Json::Obj(message)),
                ("logprobs".into(), Json::Null),
            ];
            match finish {
                "-" => {}
                "null" => choice.push(("finish_reason".into(), Json::Null)),
                s => choice.push(("finish_reason".into(), Json::Str(s.into()))),
            }
            let mut choices = vec![Json::Obj(choice)];
            if rng.one_in(4) {
                choices.push(Json::Obj(vec![(
                    "message".into(),
                    Json::Obj(vec![("content".into(), Json::Str("second".into()))]),
                )]));
            }
            fields.push(("choices".into(), Json::Arr(choices)));
            let mut u = vec![("total_tokens".into(), num_u(1))];
            match usage {
                0 => {}
                1 => fields.push(("usage".into(), Json::Null)),
                2 => {
                    u.push(("prompt_tokens".into(), num_u(prompt_tokens)));
                    u.push(("completion_tokens".into(), num_u(reply_tokens)));
                    fields.push(("usage".into(), Json::Obj(u)));
                }
                _ => {
                    u.push(("completion_tokens".into(), num_u(reply_tokens)));
                    fields.push(("usage".into(), Json::Obj(u)));
                }
            }
            fields.push(("object".into(), Json::Str("chat.completion".into())));
            let text = if content_null {
                String::new()
            } else {
                text.to_string()
            };
            (text, finish == "length")
        }
    };
    fields.push(("model".into(), Json::Str("m".into())));
    extra(&mut rng, &mut fields);
    let body = Json::Obj(fields).shuffled(&mut rng).render(&mut rng);
    let tokens = reported.unwrap_or_else(|| (asked + text.len()).div_ceil(4) as u64);
    (
        body,
        Completion {
            text,
            tokens,
            cut_off,
        },
    )
}

fn num_u(n: u64) -> Json {
    Json::Num(n.to_string())
}

/// `read_completion` as written out from the two APIs' documentation, on serde_json's values.
fn reference_completion(kind: AnalystKind, body: &str) -> Option<Completion> {
    let top: Box<RawValue> = serde_json::from_str(body).ok()?;
    let top = members(top.get())?;
    let total = |usage: Option<Box<RawValue>>, a: &str, b: &str| -> Option<Option<u64>> {
        let Some(usage) = nullable::<Box<RawValue>>(usage)? else {
            return Some(None);
        };
        let usage = members(usage.get())?;
        let a: Option<u64> = nullable(member(&usage, a)?)?;
        let b: Option<u64> = nullable(member(&usage, b)?)?;
        Some(a.zip(b).map(|(a, b)| a.saturating_add(b)))
    };
    let estimate = |text: &str| {
        let p = prompt();
        (p.system.len() + p.user.len() + text.len()).div_ceil(4) as u64
    };
    match kind {
        AnalystKind::Anthropic => {
            let mut text = String::new();
            for block in array(&member(&top, "content")??)? {
                let block = members(block.get())?;
                let kind = string(&member(&block, "type")??)?;
                let part: Option<String> = nullable(member(&block, "text")?)?;
                if kind == "text" {
                    text.push_str(&part?);
                }
            }
            let stop: Option<String> = nullable(member(&top, "stop_reason")?)?;
            let reported = total(member(&top, "usage")?, "input_tokens", "output_tokens")?;
            Some(Completion {
                tokens: reported.unwrap_or_else(|| estimate(&text)),
                cut_off: stop.as_deref() == Some("max_tokens"),
                text,
            })
        }
        AnalystKind::Openai | AnalystKind::Lexicon => {
            let mut first = None;
            for choice in array(&member(&top, "choices")??)? {
                let choice = members(choice.get())?;
                let message = members(member(&choice, "message")??.get())?;
                let content: Option<String> = nullable(member(&message, "content")?)?;
                let finish: Option<String> = nullable(member(&choice, "finish_reason")?)?;
                first.get_or_insert((content, finish));
            }
            let (content, finish) = first?;
            let text = content.unwrap_or_default();
            let reported = total(member(&top, "usage")?, "prompt_tokens", "completion_tokens")?;
            Some(Completion {
                tokens: reported.unwrap_or_else(|| estimate(&text)),
                cut_off: finish.as_deref() == Some("length"),
                text,
            })
        }
    }
}

fn provider() -> impl Strategy<Value = AnalystKind> {
    prop_oneof![Just(AnalystKind::Openai), Just(AnalystKind::Anthropic)]
}

proptest! {
    #![proptest_config(config())]
    /// Both providers: a valid body reads as exactly its completion, and the reply inside it
    /// as exactly its analysis.
    #[test]
    fn valid_bodies_read_exactly(kind in provider(), spec in reply_spec(), seed in any::<u64>()) {
        let (body, want) = body(kind, &spec.text(), seed);
        let got = read_completion(kind, body.as_bytes(), &prompt());
        prop_assert_eq!(got, Ok(want.clone()), "{}", body);
        prop_assert_eq!(reference_completion(kind, &body), Some(want.clone()));
        if !want.text.is_empty() {
            let analysis = parse_reply(&want.text, spec.headlines);
            prop_assert!(analysis.is_ok_and(|a| same_analysis(&a, &spec.expected())));
        } else {
            prop_assert!(matches!(parse_reply(&want.text, spec.headlines), Err(ReplyError::Schema(_))));
        }
    }

    /// Damaged bodies never panic; a UTF-8 one reads as the reference says.
    #[test]
    fn damaged_bodies_agree_with_the_reference(kind in provider(), spec in reply_spec(), seeds in any::<(u64, u64)>()) {
        let (body, _) = body(kind, &spec.text(), seeds.0);
        let damaged = damage(body.as_bytes(), seeds.1);
        let got = read_completion(kind, &damaged, &prompt());
        // Not UTF-8: serde_json skips ignored strings without decoding them, so an unknown
        // field may hold anything; nothing to compare but that it did not panic.
        if let Ok(text) = std::str::from_utf8(&damaged) {
            prop_assert_eq!(got.ok(), reference_completion(kind, text), "{}", text);
        }
    }
}

/// Wrong types and shapes the generators hit only by chance.
#[test]
fn bodies_of_the_wrong_shape_are_errors() {
    let p = prompt();
    let openai = |body: &str| read_completion(AnalystKind::Openai, body.as_bytes(), &p);
    let anthropic = |body: &str| read_completion(AnalystKind::Anthropic, body.as_bytes(), &p);
    for bad in [
        r#"{"choices":[{"message":["{}"]}]}"#,
        r#"{"choices":[[{"content":"{}"},"stop"]]}"#,
        r#"[[{"message":{"content":"{}"}}]]"#,
        r#"{"choices":[{"message":{"content":5}}]}"#,
        r#"{"choices":[{"message":{"content":"{}"},"finish_reason":1}]}"#,
        r#"{"choices":[{"message":{"content":"{}"}}],"usage":{"prompt_tokens":-1}}"#,
        r#"{"choices":[{"message":{"content":"{}"}}],"usage":{"prompt_tokens":18446744073709551616}}"#,
        r#"{"choices":[{"message":{"content":"{}"}}],"choices":[]}"#,
        r#"{"choices":[{"message":{"content":"{}","content":"{}"}}]}"#,
        r#"{"choices":{}}"#,
    ] {
        assert!(openai(bad).is_err(), "{bad}");
    }
    for bad in [
        r#"{"content":[{"type":"text"}]}"#,
        r#"{"content":[{"type":"text","text":null}]}"#,
        r#"{"content":[["text","{}"]]}"#,
        r#"{"content":"{}"}"#,
        r#"{"content":[{"type":"text","text":"{}"}],"usage":{"input_tokens":1.5}}"#,
    ] {
        assert!(anthropic(bad).is_err(), "{bad}");
    }
    // Hostile token counts saturate instead of overflowing.
    let max = format!(
        r#"{{"choices":[{{"message":{{"content":"{{}}"}}}}],"usage":{{"prompt_tokens":{0},"completion_tokens":{0}}}}}"#,
        u64::MAX
    );
    assert_eq!(openai(&max).map(|c| c.tokens), Ok(u64::MAX));
}
