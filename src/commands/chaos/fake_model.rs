//! The model `keel chaos` plays when the settings name a model analyst in `record` mode: an
//! OpenAI- and Anthropic-compatible server on a free loopback port, in its own thread, so a
//! chaos run never spends a real provider's tokens nor depends on one being up.
//!
//! Its answers are valid replies whose score is a hash of the request's headlines, so the
//! calm and the chaos run get the same analysis for the same window. In the chaos run, one
//! request in every `--model-fault-every` gets a fault instead, its kind drawn with the seed:
//! a 429, a 503, an answer held past the client's timeout, or prose instead of the JSON
//! object asked for.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use serde_json::{json, Value};

/// One fault the fake model answers a request with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum ModelFault {
    /// HTTP 429 with `Retry-After: 0`: the client retries.
    RateLimited,
    /// HTTP 503: the client retries.
    ServerError,
    /// No answer until after the client's timeout: the client gives up and retries.
    Timeout,
    /// HTTP 200 whose content is prose, not the JSON object asked for: the reply must be
    /// rejected (a counted failure, never a signal), and it is not retried.
    Prose,
}

impl ModelFault {
    /// Every kind.
    pub const ALL: [ModelFault; 4] = [
        ModelFault::RateLimited,
        ModelFault::ServerError,
        ModelFault::Timeout,
        ModelFault::Prose,
    ];

    /// Its name in the report and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ModelFault::RateLimited => "rate-limited",
            ModelFault::ServerError => "server-error",
            ModelFault::Timeout => "timeout",
            ModelFault::Prose => "prose",
        }
    }

    /// Whether the client retries it, so that the analysis is the calm run's.
    pub fn retried(self) -> bool {
        self != ModelFault::Prose
    }
}

/// When faults are answered: every `every`-th request, the kind drawn from `kinds` with
/// `seed`.
#[derive(Debug, Clone)]
pub struct ModelFaultPlan {
    /// Requests between two faults (at least 2, so that a retry is never struck again at
    /// once).
    pub every: u64,
    /// The kinds drawn from.
    pub kinds: Vec<ModelFault>,
    /// The draw's seed.
    pub seed: u64,
    /// How long a timeout fault holds its answer: longer than the client waits.
    pub hold: Duration,
}

impl ModelFaultPlan {
    /// The fault of request `n` (from 1), if any.
    fn fault(&self, n: u64) -> Option<ModelFault> {
        if self.kinds.is_empty() || self.every == 0 || !n.is_multiple_of(self.every) {
            return None;
        }
        let draw = splitmix(self.seed ^ n);
        Some(self.kinds[(draw % self.kinds.len() as u64) as usize])
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// What the fake model answered since the counts were last taken.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelCounts {
    /// HTTP requests received.
    pub requests: u64,
    /// Valid replies sent.
    pub valid: u64,
    /// Faults answered, by kind.
    pub faults: BTreeMap<ModelFault, u64>,
}

impl ModelCounts {
    /// Faults of every kind.
    pub fn total_faults(&self) -> u64 {
        self.faults.values().sum()
    }

    /// Garbage replies sent (answers the client takes as replies and must reject).
    pub fn garbage(&self) -> u64 {
        self.faults.get(&ModelFault::Prose).copied().unwrap_or(0)
    }
}

#[derive(Default)]
struct State {
    plan: Option<ModelFaultPlan>,
    counts: ModelCounts,
}

/// The running fake model; stopped when dropped.
pub struct FakeModel {
    url: String,
    state: Arc<Mutex<State>>,
    server: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeModel {
    /// Starts it on `127.0.0.1:0`.
    pub fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(Mutex::new(State::default()));
        let data = web::Data::from(state.clone());
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("fake-model".into())
            .spawn(move || {
                let system = actix_web::rt::System::new();
                let served = system.block_on(async move {
                    let server = HttpServer::new(move || {
                        App::new()
                            .app_data(data.clone())
                            .route("/v1/chat/completions", web::post().to(openai))
                            .route("/v1/messages", web::post().to(anthropic))
                    })
                    .workers(1)
                    .disable_signals()
                    .shutdown_timeout(0)
                    .listen(listener)?
                    .run();
                    let _ = handle_tx.send(server.handle());
                    server.await
                });
                if let Err(e) = served {
                    tracing::error!(error = %e, "the fake model stopped");
                }
            })?;
        let server = handle_rx
            .recv_timeout(Duration::from_secs(60))
            .map_err(|_| anyhow::anyhow!("the fake model did not start"))?;
        tracing::info!(%url, "keel chaos plays the model on loopback");
        Ok(Self {
            url,
            state,
            server,
            thread: Some(thread),
        })
    }

    /// Its base URL (`sentiment.llm.base_url`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Answers with faults per `plan` from now on (none with `None`), with fresh counts;
    /// returns the counts until now.
    pub fn begin(&self, plan: Option<ModelFaultPlan>) -> ModelCounts {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.plan = plan;
        std::mem::take(&mut state.counts)
    }
}

impl Drop for FakeModel {
    fn drop(&mut self) {
        // Stopping waits for nothing: the future is dropped, the thread's system ends.
        drop(self.server.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What the next request gets: a fault, or a valid reply.
fn next_answer(state: &Mutex<State>) -> (Option<ModelFault>, Duration) {
    let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
    state.counts.requests += 1;
    let n = state.counts.requests;
    let plan = state.plan.clone();
    let fault = plan.as_ref().and_then(|p| p.fault(n));
    match fault {
        Some(kind) => *state.counts.faults.entry(kind).or_default() += 1,
        None => state.counts.valid += 1,
    }
    (fault, plan.map_or(Duration::ZERO, |p| p.hold))
}

/// The analysis of a request: a score in [-0.6, 0.6] from a hash of its text (the prompt's
/// headlines), its label agreeing with it.
fn analysis(request: &Value) -> String {
    let text = request.to_string();
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let score = ((hash % 13) as f64 - 6.0) / 10.0;
    let sentiment = match score {
        s if s > 0.0 => "positive",
        s if s < 0.0 => "negative",
        _ => "neutral",
    };
    json!({
        "sentiment": sentiment, "score": score, "confidence": 0.7,
        "events": [], "key_factors": ["played by keel chaos"],
    })
    .to_string()
}

const PROSE: &str = "Looking at these headlines, I would say the market feels cautiously bullish.";

/// The fault's answer, or `None` for the valid one (after holding it, for a timeout).
async fn faulted(fault: Option<ModelFault>, hold: Duration) -> Option<HttpResponse> {
    match fault? {
        ModelFault::RateLimited => Some(
            HttpResponse::TooManyRequests()
                .insert_header(("Retry-After", "0"))
                .json(json!({"error": {"message": "Rate limit reached (played by keel chaos)"}})),
        ),
        ModelFault::ServerError => Some(
            HttpResponse::ServiceUnavailable()
                .json(json!({"error": {"message": "overloaded (played by keel chaos)"}})),
        ),
        ModelFault::Timeout => {
            actix_web::rt::time::sleep(hold).await;
            None
        }
        ModelFault::Prose => None,
    }
}

async fn openai(state: web::Data<Mutex<State>>, request: web::Json<Value>) -> HttpResponse {
    let (fault, hold) = next_answer(&state);
    if let Some(answer) = faulted(fault, hold).await {
        return answer;
    }
    let content = match fault {
        Some(ModelFault::Prose) => PROSE.to_string(),
        _ => analysis(&request),
    };
    HttpResponse::Ok().json(json!({
        "choices": [{"message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 250, "completion_tokens": 40},
    }))
}

async fn anthropic(state: web::Data<Mutex<State>>, request: web::Json<Value>) -> HttpResponse {
    let (fault, hold) = next_answer(&state);
    if let Some(answer) = faulted(fault, hold).await {
        return answer;
    }
    let text = match fault {
        Some(ModelFault::Prose) => PROSE.to_string(),
        _ => analysis(&request),
    };
    HttpResponse::Ok().json(json!({
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 250, "output_tokens": 40},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_strikes_every_nth_request_with_a_seeded_kind() {
        let plan = ModelFaultPlan {
            every: 3,
            kinds: ModelFault::ALL.to_vec(),
            seed: 7,
            hold: Duration::ZERO,
        };
        let struck: Vec<u64> = (1..=12).filter(|n| plan.fault(*n).is_some()).collect();
        assert_eq!(struck, [3, 6, 9, 12]);
        let again: Vec<_> = (1..=300).map(|n| plan.fault(n)).collect();
        assert_eq!(again, (1..=300).map(|n| plan.fault(n)).collect::<Vec<_>>());
        for kind in ModelFault::ALL {
            assert!(again.contains(&Some(kind)), "{kind:?} never drawn");
        }
    }

    #[test]
    fn the_same_request_gets_the_same_valid_analysis() {
        let request = json!({"messages": [{"role": "user", "content": "BTC ETF approved"}]});
        assert_eq!(analysis(&request), analysis(&request));
        let reply: Value = serde_json::from_str(&analysis(&request)).unwrap();
        let score = reply["score"].as_f64().unwrap();
        let label = reply["sentiment"].as_str().unwrap();
        assert!((-0.6..=0.6).contains(&score));
        assert_eq!(label == "positive", score > 0.0);
        assert_eq!(label == "negative", score < 0.0);
    }
}
