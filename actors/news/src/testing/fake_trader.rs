//! A stand-in for a model that trades, for tests and benchmarks of the `llm` strategy: its
//! answer is a function of the decision context alone (so a replay of a recorded run must
//! reproduce it), read back from the request the way a model would read it.

use serde_json::{json, Value};

use super::{FakeRequest, FakeResponse};

/// The decision context of an OpenAI-compatible request: the user message's line that is a
/// JSON object (`Value::Null` when there is none).
pub fn decision_context(request: &FakeRequest) -> Value {
    let body = request.json().unwrap_or_default();
    let user = body["messages"][1]["content"].as_str().unwrap_or_default();
    user.lines()
        .find_map(|line| {
            serde_json::from_str::<Value>(line)
                .ok()
                .filter(Value::is_object)
        })
        .unwrap_or_default()
}

/// A chat completion whose content is `content`, reporting 900 prompt and 60 reply tokens.
pub fn completion(content: &str) -> FakeResponse {
    let body = json!({
        "choices": [{"message": {"content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 900, "completion_tokens": 60},
    });
    FakeResponse::json(200, &body.to_string())
}

/// Buys a bar that rose more than 0.3% (stop 3% below the close, target 5% above), closes a
/// held position on a bar that fell more than 0.3%, and otherwise holds.
pub fn fake_trader(request: &FakeRequest, _: usize) -> FakeResponse {
    let context = decision_context(request);
    let last = context["candles"]["return_last_pct"]
        .as_f64()
        .unwrap_or(0.0);
    let close: f64 = context["close"]
        .as_str()
        .and_then(|c| c.parse().ok())
        .unwrap_or(0.0);
    let held = !context["position"].is_null();
    let cents = |x: f64| (x * 100.0).round() / 100.0;
    let decision = if !held && last > 0.3 {
        json!({"action": "buy", "confidence": 0.8, "stop": cents(close * 0.97),
               "take_profit": cents(close * 1.05), "horizon_bars": 12,
               "reasons": ["rising bar", "room to the target"]})
    } else if held && last < -0.3 {
        json!({"action": "close", "confidence": 0.7, "stop": null, "take_profit": null,
               "horizon_bars": null, "reasons": ["falling bar"]})
    } else {
        json!({"action": "hold", "confidence": 0.5, "reasons": ["nothing to do"]})
    };
    completion(&decision.to_string())
}
