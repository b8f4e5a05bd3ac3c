//! The two wire formats: OpenAI-compatible chat completions and Anthropic messages.
//! Pure: builds request bodies and reads response bodies; the HTTP is in [`super::http`].

use serde::Deserialize;
use serde_json::{json, Value};

use super::prompt::Prompt;
use super::strict_json::Object;
use keel_core::llm_api::{AnalystKind, LlmConfig};

/// The `anthropic-version` header value.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// What one request sends (the API key is added by the HTTP client, never stored here).
#[derive(Debug, Clone, PartialEq)]
pub struct WireRequest {
    /// The full endpoint URL.
    pub url: String,
    /// The JSON body.
    pub body: Value,
    /// Headers besides the key and the content type.
    pub headers: Vec<(&'static str, &'static str)>,
}

/// A model's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// The reply text (expected to be the JSON object of the contract).
    pub text: String,
    /// Prompt and reply tokens, as reported (or estimated at 4 characters a token).
    pub tokens: u64,
    /// Whether the model stopped at `max_tokens` (the reply is then cut off).
    pub cut_off: bool,
}

/// The request for `prompt` to `kind`'s API at `base_url` (no trailing slash).
pub fn wire_request(
    kind: AnalystKind,
    base_url: &str,
    cfg: &LlmConfig,
    prompt: &Prompt,
) -> WireRequest {
    let model = cfg.model_name();
    match kind {
        AnalystKind::Anthropic => WireRequest {
            url: format!("{base_url}/v1/messages"),
            body: json!({
                "model": model,
                "max_tokens": cfg.max_tokens,
                "temperature": cfg.temperature,
                "system": prompt.system,
                "messages": [{"role": "user", "content": prompt.user}],
            }),
            headers: vec![("anthropic-version", ANTHROPIC_VERSION)],
        },
        // The lexicon never reaches the wire; treat anything else as OpenAI-compatible.
        AnalystKind::Openai | AnalystKind::Lexicon => WireRequest {
            url: format!("{base_url}/v1/chat/completions"),
            body: json!({
                "model": model,
                "messages": [
                    {"role": "system", "content": prompt.system},
                    {"role": "user", "content": prompt.user},
                ],
                "temperature": cfg.temperature,
                "max_tokens": cfg.max_tokens,
                "response_format": {"type": "json_object"},
            }),
            headers: Vec::new(),
        },
    }
}

// Every object of a body is read with `Object` (never from an array of its fields); unknown
// fields are ignored (providers add them all the time), known ones must have their type.

#[derive(Deserialize)]
struct OpenAiReply {
    choices: Vec<Object<OpenAiChoice>>,
    #[serde(default)]
    usage: Option<Object<OpenAiUsage>>,
}

#[derive(Deserialize)]
struct OpenAiChoice {
    message: Object<OpenAiMessage>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct OpenAiMessage {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct AnthropicReply {
    content: Vec<Object<AnthropicBlock>>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: Option<Object<AnthropicUsage>>,
}

#[derive(Deserialize)]
struct AnthropicBlock {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize)]
struct OpenAiUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct AnthropicUsage {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
}

/// Prompt plus reply tokens, when both are reported (saturating: a server's numbers are input
/// too, and `u64::MAX + 1` must not panic).
fn total(prompt: Option<u64>, reply: Option<u64>) -> Option<u64> {
    Some(prompt?.saturating_add(reply?))
}

/// Tokens estimated from text length when the server reports no usage.
fn estimate_tokens(prompt: &Prompt, reply: &str) -> u64 {
    let chars = prompt.system.len() + prompt.user.len() + reply.len();
    chars.div_ceil(4) as u64
}

/// The reported tokens, or the estimate when the body reports no (or only half the) usage.
fn tokens(reported: Option<u64>, prompt: &Prompt, text: &str) -> u64 {
    reported.unwrap_or_else(|| estimate_tokens(prompt, text))
}

/// Reads a successful (2xx) response body of `kind`'s API.
///
/// A body that is not the API's JSON (wrong types included) is an error. A message without
/// content (OpenAI's `null` content, Anthropic's empty `content`) is an empty text, which the
/// reply contract then refuses ([`super::parse_reply`]): a rejected reply, never a score.
pub fn read_completion(
    kind: AnalystKind,
    body: &[u8],
    prompt: &Prompt,
) -> Result<Completion, String> {
    match kind {
        AnalystKind::Anthropic => {
            let Object(reply): Object<AnthropicReply> = serde_json::from_slice(body)
                .map_err(|e| format!("not an Anthropic messages response: {e}"))?;
            let mut text = String::new();
            for Object(block) in reply.content.iter().filter(|b| b.0.kind == "text") {
                let part = block
                    .text
                    .as_deref()
                    .ok_or("not an Anthropic messages response: a text block without `text`")?;
                text.push_str(part);
            }
            Ok(Completion {
                cut_off: reply.stop_reason.as_deref() == Some("max_tokens"),
                tokens: tokens(
                    reply
                        .usage
                        .and_then(|Object(u)| total(u.input_tokens, u.output_tokens)),
                    prompt,
                    &text,
                ),
                text,
            })
        }
        AnalystKind::Openai | AnalystKind::Lexicon => {
            let Object(reply): Object<OpenAiReply> = serde_json::from_slice(body)
                .map_err(|e| format!("not a chat completions response: {e}"))?;
            let Object(choice) = reply
                .choices
                .into_iter()
                .next()
                .ok_or("chat completions response without choices")?;
            let text = choice.message.0.content.unwrap_or_default();
            Ok(Completion {
                cut_off: choice.finish_reason.as_deref() == Some("length"),
                tokens: tokens(
                    reply
                        .usage
                        .and_then(|Object(u)| total(u.prompt_tokens, u.completion_tokens)),
                    prompt,
                    &text,
                ),
                text,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt() -> Prompt {
        Prompt {
            system: "sys",
            user: "user".into(),
        }
    }

    fn cfg() -> LlmConfig {
        LlmConfig {
            model: Some("m1".into()),
            ..LlmConfig::default()
        }
    }

    #[test]
    fn openai_request_and_reply() {
        let req = wire_request(AnalystKind::Openai, "http://h:1", &cfg(), &prompt());
        assert_eq!(req.url, "http://h:1/v1/chat/completions");
        assert_eq!(req.body["model"], "m1");
        assert_eq!(req.body["messages"][0]["role"], "system");
        assert_eq!(req.body["messages"][1]["content"], "user");
        assert_eq!(req.body["response_format"]["type"], "json_object");
        assert_eq!(req.body["max_tokens"], 400);
        let body = br#"{"choices":[{"message":{"role":"assistant","content":"{}"},"finish_reason":"stop"}],
                        "usage":{"prompt_tokens":100,"completion_tokens":20,"total_tokens":120}}"#;
        let c = read_completion(AnalystKind::Openai, body, &prompt()).unwrap();
        assert_eq!((c.text.as_str(), c.tokens, c.cut_off), ("{}", 120, false));
        let cut = br#"{"choices":[{"message":{"content":"{\"sent"},"finish_reason":"length"}]}"#;
        let c = read_completion(AnalystKind::Openai, cut, &prompt()).unwrap();
        assert!(c.cut_off);
        assert_eq!(c.tokens, 4, "estimated: 17 characters");
    }

    #[test]
    fn anthropic_request_and_reply() {
        let req = wire_request(AnalystKind::Anthropic, "http://h:1", &cfg(), &prompt());
        assert_eq!(req.url, "http://h:1/v1/messages");
        assert_eq!(req.body["system"], "sys");
        assert_eq!(req.body["messages"][0]["role"], "user");
        assert_eq!(req.headers, vec![("anthropic-version", "2023-06-01")]);
        let body = br#"{"content":[{"type":"text","text":"{\"a\":"},{"type":"text","text":"1}"}],
                        "stop_reason":"end_turn","usage":{"input_tokens":50,"output_tokens":7}}"#;
        let c = read_completion(AnalystKind::Anthropic, body, &prompt()).unwrap();
        assert_eq!(
            (c.text.as_str(), c.tokens, c.cut_off),
            ("{\"a\":1}", 57, false)
        );
    }

    #[test]
    fn foreign_bodies_are_errors() {
        let err = read_completion(AnalystKind::Openai, b"<html>oops</html>", &prompt());
        assert!(err.unwrap_err().contains("not a chat completions response"));
        let err = read_completion(AnalystKind::Openai, br#"{"choices":[]}"#, &prompt());
        assert!(err.unwrap_err().contains("without choices"));
    }
}
