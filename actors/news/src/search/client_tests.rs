//! The search client against a loopback server.

use keel_core::strategy::llm::SearchConfig;

use super::results::tests::TAVILY;
use super::{SearchClient, SearchError};
use crate::llm::ApiKey;
use crate::testing::{FakeResponse, FakeServer};

const KEY: &str = "tvly-secret-key-123";

fn config(base_url: &str) -> SearchConfig {
    SearchConfig {
        base_url: Some(base_url.to_string()),
        max_results: 2,
        max_chars: 40,
        timeout_secs: 5.0,
        max_retries: 2,
        ..SearchConfig::default()
    }
}

fn client(cfg: &SearchConfig, key: ApiKey) -> SearchClient {
    SearchClient::new(cfg, key).unwrap()
}

#[actix_rt::test]
async fn the_request_carries_the_query_day_and_key() {
    let server = FakeServer::scripted(vec![FakeResponse::json(200, TAVILY)]);
    // A trailing slash on the base is dropped.
    let cfg = config(&format!("{}/", server.url()));
    let client = client(&cfg, ApiKey::new(KEY));
    let hits = client.search("BTC news", "2024-03-05").await.unwrap();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].url, "https://news.example/btc-etf");
    assert!(hits[0].content.chars().count() <= 40);
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/search")
    );
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.header("authorization"),
        Some(&*format!("Bearer {KEY}"))
    );
    assert_eq!(
        request.json().unwrap(),
        serde_json::json!({
            "query": "BTC news",
            "topic": "news",
            "max_results": 2,
            "end_date": "2024-03-05",
            "include_answer": false,
            "include_raw_content": false,
        })
    );
    assert_eq!(client.requests(), 1);
}

#[actix_rt::test]
async fn no_key_sends_no_authorization() {
    let server = FakeServer::scripted(vec![FakeResponse::json(200, TAVILY)]);
    let cfg = config(&server.url());
    let client = SearchClient::new(&cfg, ApiKey::none()).unwrap();
    client.search("ETH news", "2024-03-05").await.unwrap();
    assert_eq!(server.requests()[0].header("authorization"), None);
    assert_eq!(server.requests()[0].path, "/search");
}

#[actix_rt::test]
async fn a_503_is_retried() {
    let server = FakeServer::scripted(vec![
        FakeResponse::json(503, r#"{"detail":"busy"}"#).header("retry-after", "0"),
        FakeResponse::json(200, TAVILY),
    ]);
    let client = SearchClient::new(&config(&server.url()), ApiKey::none()).unwrap();
    let hits = client.search("BTC news", "2024-03-05").await.unwrap();
    assert_eq!(hits.len(), 2);
    assert_eq!((client.requests(), server.hits()), (2, 2));
}

#[actix_rt::test]
async fn a_401_is_not_retried_and_hides_the_key() {
    let echo = format!(r#"{{"detail":{{"error":"Unauthorized: invalid key {KEY}"}}}}"#);
    let server = FakeServer::scripted(vec![FakeResponse::json(401, &echo)]);
    let client = client(&config(&server.url()), ApiKey::new(KEY));
    let err = client.search("BTC news", "2024-03-05").await.unwrap_err();
    assert!(
        matches!(err, SearchError::Status { status: 401, .. }),
        "{err:?}"
    );
    let (shown, debug) = (err.to_string(), format!("{err:?} {client:?}"));
    assert!(
        !shown.contains(KEY) && !debug.contains(KEY),
        "{shown} {debug}"
    );
    assert!(shown.contains("invalid key <redacted>"), "{shown}");
    assert_eq!((client.requests(), server.hits()), (1, 1));
}

#[actix_rt::test]
async fn an_invalid_answer_is_not_retried() {
    let server = FakeServer::scripted(vec![FakeResponse::json(200, r#"{"results":{}}"#)]);
    let client = SearchClient::new(&config(&server.url()), ApiKey::none()).unwrap();
    let err = client.search("BTC news", "2024-03-05").await.unwrap_err();
    assert!(err.to_string().contains("expected an array"), "{err}");
    assert_eq!(server.hits(), 1);
}

#[test]
fn a_client_needs_a_base_url_and_a_duration() {
    let cfg = SearchConfig::default();
    assert_eq!(
        SearchClient::new(&cfg, ApiKey::none()).unwrap_err(),
        SearchError::NoBaseUrl
    );
    let cfg = SearchConfig {
        timeout_secs: f64::NAN,
        ..config("http://127.0.0.1:9")
    };
    let err = SearchClient::new(&cfg, ApiKey::none()).unwrap_err();
    assert!(err.to_string().contains("timeout_secs"), "{err}");
}
