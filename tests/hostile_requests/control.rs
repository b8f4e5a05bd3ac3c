//! Hostile requests to `keel run`'s control plane: any method on any path, bearer tokens that
//! are wrong, malformed or not UTF-8, junk bodies and content types.

use std::cell::RefCell;
use std::time::Duration;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;

use super::raw_http::{self, encode};
use super::venue::hostile_value;

/// The token the run is started with.
pub const TOKEN: &str = "hostile-test-control-token";

/// The bearer header sent.
#[derive(Debug, Clone)]
pub enum Auth {
    None,
    /// The right token; downgraded to a wrong one where it would change the run.
    Correct,
    /// Anything else.
    Raw(Vec<u8>),
}

/// One hostile request.
#[derive(Debug, Clone)]
pub struct Hostile {
    method: &'static str,
    path: String,
    auth: Auth,
    content_type: Option<String>,
    body: Vec<u8>,
}

fn path() -> impl Strategy<Value = String> {
    let fixed = select(vec![
        "/healthz",
        "/readyz",
        "/metrics",
        "/status",
        "/halt",
        "/resume",
        "/flatten",
        "/kill-switch/reset",
        "/kill-switch",
        "/",
        "/dashboard.js",
        "/dashboard.css",
        "/actors//kill",
        "/actors/risk/kill/again",
        "/actors/risk",
        "//halt",
        "/halt/",
        "/HALT",
        "/status/../halt",
        "/%FF%FE",
        "/%00",
        "/*",
        "/nope",
    ]);
    prop_oneof![
        4 => fixed.prop_map(str::to_string),
        2 => "\\PC{1,30}".prop_map(|s| format!("/actors/no-such-{}/kill", encode(&s))),
        1 => "\\PC{0,30}".prop_map(|s| format!("/{}", encode(&s))),
        1 => (select(vec!["/status", "/halt", "/metrics"]), hostile_value())
            .prop_map(|(p, q)| format!("{p}?{}={}", encode(&q), encode(&q))),
    ]
}

fn auth() -> impl Strategy<Value = Auth> {
    let raw = prop_oneof![
        select(vec![
            "Bearer wrong".to_string(),
            format!("Bearer {TOKEN}x"),
            format!("Bearer {}", &TOKEN[1..]),
            format!("bearer {TOKEN}"),
            format!("Bearer  {TOKEN}"),
            TOKEN.to_string(),
            "Bearer".to_string(),
            "Bearer ".to_string(),
            "Basic dXNlcjpwYXNz".to_string(),
            format!("Bearer {}", "a".repeat(6000)),
        ])
        .prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..60).prop_map(|bytes| {
            // Any byte HTTP allows in a header value (tab, visible ASCII, and bytes over
            // 0x7f, which are not UTF-8 on their own): others never reach the handlers.
            let mut v: Vec<u8> = b"Bearer ".to_vec();
            v.extend(
                bytes
                    .into_iter()
                    .filter(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f)),
            );
            v
        }),
    ];
    prop_oneof![1 => Just(Auth::None), 1 => Just(Auth::Correct), 3 => raw.prop_map(Auth::Raw)]
}

/// A hostile request to the control plane.
pub fn hostile() -> impl Strategy<Value = Hostile> {
    let body = prop_oneof![
        2 => Just(Vec::new()),
        1 => proptest::collection::vec(any::<u8>(), 1..2000),
        1 => hostile_value().prop_map(String::into_bytes),
        1 => Just(br#"{"command":"halt","token":null}"#.to_vec()),
    ];
    (
        select(vec![
            "GET", "GET", "POST", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "FOO",
        ]),
        path(),
        auth(),
        proptest::option::of(select(vec![
            "application/json".to_string(),
            "text/plain".to_string(),
            "multipart/form-data; boundary=".to_string(),
            "application/x-www-form-urlencoded".to_string(),
            "\u{fffd}/\u{fffd}".to_string(),
        ])),
        body,
    )
        .prop_map(|(method, path, auth, content_type, body)| Hostile {
            method,
            path,
            auth,
            content_type,
            body,
        })
}

impl Hostile {
    /// Whether the request would act on the run if its token were right.
    fn commands(&self) -> bool {
        self.method == "POST" && !self.path.starts_with("/actors/no-such-")
    }

    /// A streaming endpoint (never finishes): not sent.
    fn streams(&self) -> bool {
        self.path.starts_with("/events")
    }

    /// Probes answer 503 when the run is unhealthy or not ready: not a refusal.
    fn probe(&self) -> bool {
        self.method == "GET" && matches!(self.path.as_str(), "/healthz" | "/readyz")
    }

    fn bytes(&self) -> Vec<u8> {
        let mut headers = Vec::new();
        match &self.auth {
            Auth::None => {}
            Auth::Correct if self.commands() => {
                headers.push(("Authorization", b"Bearer wrong".to_vec()))
            }
            Auth::Correct => headers.push(("Authorization", format!("Bearer {TOKEN}").into())),
            Auth::Raw(v) => headers.push(("Authorization", v.clone())),
        }
        if let Some(ct) = &self.content_type {
            headers.push(("Content-Type", ct.clone().into_bytes()));
        }
        raw_http::request(self.method, &self.path, &headers, &self.body)
    }
}

/// What the fuzzing saw.
#[derive(Debug, Default)]
pub struct Seen {
    pub cases: u32,
    pub max_latency: Duration,
    pub statuses: std::collections::BTreeMap<u16, u32>,
}

/// Runs proptest's cases of [`hostile`] against the control plane at `addr`: every answer
/// but a probe's is below 500, and every 4xx says why in a JSON `error`.
pub fn fuzz(addr: &str) -> Seen {
    let seen = RefCell::new(Seen::default());
    let mut runner = TestRunner::new(Config {
        failure_persistence: None,
        ..Config::default()
    });
    let outcome = runner.run(&hostile(), |case| {
        if case.streams() {
            return Ok(());
        }
        let reply = raw_http::exchange(addr, case.bytes()).map_err(TestCaseError::fail)?;
        let mut seen = seen.borrow_mut();
        seen.cases += 1;
        seen.max_latency = seen.max_latency.max(reply.took);
        *seen.statuses.entry(reply.status).or_default() += 1;
        if case.probe() {
            prop_assert!(matches!(reply.status, 200 | 503), "{}", reply.status);
            return Ok(());
        }
        prop_assert!(
            reply.status < 500,
            "garbage got a 5xx: {}\n{}",
            reply.head,
            reply.text()
        );
        if reply.status >= 400 {
            let error = reply.json().and_then(|v| v.get("error").cloned());
            prop_assert!(
                matches!(error, Some(Value::String(_))),
                "a refusal that does not say why: {}\n{:?}",
                reply.head,
                reply.text()
            );
        }
        Ok(())
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
    seen.into_inner()
}

use proptest::test_runner::TestCaseError;
