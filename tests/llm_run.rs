//! `keel run` as documented with a model analyst: `config/llm-local.toml` pointed at a fake
//! OpenAI-compatible server on loopback, then `keel backtest` replaying the cache.

mod common;

use keel_news::testing::{FakeRequest, FakeResponse, FakeServer};
use serde_json::json;

fn model(_: &FakeRequest, _: usize) -> FakeResponse {
    let content = json!({
        "sentiment": "negative", "score": -0.4, "confidence": 0.6,
        "events": [], "key_factors": ["regulation"],
    });
    let body = json!({
        "choices": [{"message": {"content": content.to_string()}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 250, "completion_tokens": 40},
    });
    FakeResponse::json(200, &body.to_string())
}

fn keel(args: &[&str]) -> std::process::Output {
    let mut command = common::process::keel(args);
    command.env_remove("KEEL_TEST_UNSET_KEY");
    common::process::run(command, &format!("keel {}", args[0]))
}

#[test]
fn keel_run_records_from_a_local_server_and_the_backtest_replays_it() {
    let server = FakeServer::start(model);
    let dir = tempfile::tempdir().unwrap();
    let config = common::llm_local_config(dir.path(), &server.url());
    let config = config.to_str().unwrap();

    let run = keel(&["run", "--config", config]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    assert!(String::from_utf8_lossy(&run.stdout).contains("Final equity"));
    assert!(
        stderr.contains("recording: cache misses are sent to the provider"),
        "{stderr}"
    );
    assert!(stderr.contains("sentiment summary"), "{stderr}");
    let calls = server.hits();
    assert!(calls > 0, "the model was asked");
    assert!(server
        .requests()
        .iter()
        .all(|r| r.path == "/v1/chat/completions"));

    let backtest = keel(&["backtest", "--config", config]);
    assert_eq!(
        backtest.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&backtest.stderr)
    );
    assert_eq!(server.hits(), calls, "the backtest replayed the cache");
}

#[test]
fn a_missing_api_key_variable_is_a_configuration_error() {
    let server = FakeServer::start(model);
    let dir = tempfile::tempdir().unwrap();
    let config = common::llm_local_config(dir.path(), &server.url());
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "model = \"llama3.1\"",
        "model = \"llama3.1\"\napi_key_env = \"KEEL_TEST_UNSET_KEY\"",
    );
    std::fs::write(&config, text).unwrap();
    let run = keel(&["run", "--config", config.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("sentiment.llm.api_key_env") && stderr.contains("KEEL_TEST_UNSET_KEY"),
        "{stderr}"
    );
    assert_eq!(server.hits(), 0);
}

#[test]
fn the_model_analysts_requests_and_tokens_are_in_the_metrics() {
    let server = FakeServer::start(model);
    let dir = tempfile::tempdir().unwrap();
    let config = common::llm_local_config(dir.path(), &server.url());
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("at_end = \"exit\"", "at_end = \"wait\"");
    std::fs::write(&config, text).unwrap();
    let command = common::process::keel(&["run", "--config", config.to_str().unwrap()]);
    let mut keel = common::process::Process::start(command, "keel run");
    let url = format!(
        "http://{}/metrics",
        keel.control_addr(&dir.path().join("store"))
    );
    let sample = |text: &str, name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or(0.0)
    };
    // The replay ends and keel waits: every request is counted by then.
    keel.wait_for_stderr("waiting for SIGINT or SIGTERM");
    let metrics = reqwest::blocking::get(&url).unwrap().text().unwrap();
    let accepted = sample(&metrics, "keel_llm_requests_total{outcome=\"accepted\"}");
    assert!(accepted > 0.0, "{metrics}");
    assert_eq!(
        accepted as usize,
        server.hits(),
        "every call the fake model answered is counted once"
    );
    assert_eq!(
        sample(&metrics, "keel_llm_tokens_total"),
        290.0 * accepted,
        "250 prompt + 40 completion tokens per call"
    );
    keel.signal("TERM");
    assert_eq!(keel.finish().status.code(), Some(0));
}
