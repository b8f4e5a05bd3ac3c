//! The WebSocket API's answers, without a connection.

use super::*;

const KEY: &str = "key";
const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
const NOW: i64 = 1_700_000_000_000;

fn ctx(signer: &Signer, active: Option<u64>) -> Context<'_> {
    Context {
        api_key: KEY,
        signer,
        server_now: NOW,
        active,
        next_id: 3,
    }
}

/// A subscribe request with `params`, signed with `secret` over its sorted parameters.
fn subscribe(params: Value, secret: &str) -> String {
    let mut params = params.as_object().unwrap().clone();
    let signature = Signer::new(secret).sign(&signature_payload(&params));
    params.insert("signature".into(), Value::String(signature));
    json!({"id": "s", "method": SUBSCRIBE_SIGNATURE, "params": params}).to_string()
}

fn code(response: &WsApiResponse) -> (u16, i64) {
    let error = response.error.as_ref().expect("an error");
    (response.status, error.code)
}

#[test]
fn ping_answers_an_empty_result_with_the_request_id() {
    let signer = Signer::new(SECRET);
    let (response, action) = answer(&ctx(&signer, None), r#"{"id":7,"method":"ping"}"#);
    assert_eq!(response, success(json!(7), json!({})));
    assert_eq!(action, Action::None);
}

#[test]
fn what_is_not_a_request_is_refused_without_closing_anything() {
    let signer = Signer::new(SECRET);
    let (response, _) = answer(&ctx(&signer, None), "{not json");
    assert_eq!(response.id, Value::Null);
    assert_eq!(code(&response), (400, INVALID_JSON));
    let (response, _) = answer(&ctx(&signer, None), r#"{"id":"x","params":{}}"#);
    assert_eq!(response.id, json!("x"));
    assert_eq!(code(&response), (400, codes::MANDATORY_PARAM));
    let (response, action) = answer(&ctx(&signer, None), r#"{"id":1,"method":"order.place"}"#);
    assert_eq!(code(&response), (400, UNSUPPORTED_OPERATION));
    assert_eq!(action, Action::None);
}

#[test]
fn a_subscription_needs_the_key_a_valid_signature_and_a_fresh_timestamp() {
    let signer = Signer::new(SECRET);
    let c = ctx(&signer, None);
    let good = subscribe(json!({"apiKey": KEY, "timestamp": NOW}), SECRET);
    let (response, action) = answer(&c, &good);
    assert_eq!(response, success(json!("s"), json!({"subscriptionId": 3})));
    assert_eq!(action, Action::Subscribe(3));

    let other_key = subscribe(json!({"apiKey": "other", "timestamp": NOW}), SECRET);
    assert_eq!(code(&answer(&c, &other_key).0), (401, codes::BAD_API_KEY));
    let other_secret = subscribe(json!({"apiKey": KEY, "timestamp": NOW}), "not-the-secret");
    assert_eq!(
        code(&answer(&c, &other_secret).0),
        (400, codes::INVALID_SIGNATURE)
    );
    let stale = subscribe(json!({"apiKey": KEY, "timestamp": NOW - 6_000}), SECRET);
    assert_eq!(code(&answer(&c, &stale).0), (400, codes::INVALID_TIMESTAMP));
    let wide = subscribe(
        json!({"apiKey": KEY, "timestamp": NOW - 6_000, "recvWindow": 10000}),
        SECRET,
    );
    assert_eq!(answer(&c, &wide).1, Action::Subscribe(3));
    let ahead = subscribe(json!({"apiKey": KEY, "timestamp": NOW + 2_000}), SECRET);
    assert_eq!(code(&answer(&c, &ahead).0), (400, codes::INVALID_TIMESTAMP));
    let unsigned = json!({"id": 1, "method": SUBSCRIBE_SIGNATURE, "params": {"apiKey": KEY, "timestamp": NOW}});
    let (response, action) = answer(&c, &unsigned.to_string());
    assert_eq!(code(&response), (400, codes::MANDATORY_PARAM));
    assert_eq!(action, Action::None);
    let text = serde_json::to_string(&answer(&c, &other_secret).0).unwrap();
    assert!(!text.contains(SECRET));
}

#[test]
fn one_subscription_per_connection_and_unsubscribe_ends_it() {
    let signer = Signer::new(SECRET);
    let good = subscribe(json!({"apiKey": KEY, "timestamp": NOW}), SECRET);
    let (response, action) = answer(&ctx(&signer, Some(0)), &good);
    assert_eq!(code(&response), (400, SUBSCRIPTION_ACTIVE));
    assert_eq!(action, Action::None);

    let all = json!({"id": 2, "method": UNSUBSCRIBE}).to_string();
    let (response, action) = answer(&ctx(&signer, Some(0)), &all);
    assert_eq!(response, success(json!(2), json!({})));
    assert_eq!(action, Action::Unsubscribe(0));
    assert_eq!(answer(&ctx(&signer, None), &all).1, Action::None);

    let named = |id: u64| {
        json!({"id": 2, "method": UNSUBSCRIBE, "params": {"subscriptionId": id}}).to_string()
    };
    assert_eq!(
        answer(&ctx(&signer, Some(1)), &named(1)).1,
        Action::Unsubscribe(1)
    );
    let (response, action) = answer(&ctx(&signer, Some(1)), &named(0));
    assert_eq!(code(&response), (400, SUBSCRIPTION_INACTIVE));
    assert_eq!(action, Action::None);
}
