//! The control plane's endpoints (actix-web).

use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use keel_core::risk::OperatorCommand;
use serde_json::json;
use tokio::sync::oneshot;
use tracing::{info, warn};

use super::auth::{check, Refusal};
use super::desk::{Answer, Call};
use super::plane::{Phase, Shared};
use super::status::Status;

/// How long a command waits for the actors (risk answers after what is queued before it).
const COMMAND_DEADLINE: Duration = Duration::from_secs(30);

/// Every endpoint.
pub(super) fn routes(config: &mut web::ServiceConfig) {
    super::dashboard::routes(config);
    config
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics))
        .route("/status", web::get().to(status))
        .route("/halt", web::post().to(halt))
        .route("/resume", web::post().to(resume))
        .route("/flatten", web::post().to(flatten))
        .route("/kill-switch/reset", web::post().to(reset_kill_switch))
        .route("/actors/{name}/kill", web::post().to(kill))
        .default_service(web::to(no_such_endpoint));
}

/// The endpoints, for the answer to any other request.
const ENDPOINTS: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/events"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/status"),
    ("POST", "/halt"),
    ("POST", "/resume"),
    ("POST", "/flatten"),
    ("POST", "/kill-switch/reset"),
    ("POST", "/actors/{name}/kill"),
];

/// Any other method or path: 405 for a known path, else 404, saying what there is (actix's
/// own answers have no body).
async fn no_such_endpoint(request: HttpRequest) -> HttpResponse {
    let path = request.path();
    let kill = path
        .strip_prefix("/actors/")
        .and_then(|rest| rest.strip_suffix("/kill"))
        .is_some_and(|name| !name.contains('/'));
    let known = kill || ENDPOINTS.iter().any(|(_, p)| *p == path);
    let endpoints: Vec<String> = ENDPOINTS.iter().map(|(m, p)| format!("{m} {p}")).collect();
    let (mut reply, error) = if known {
        (
            HttpResponse::MethodNotAllowed(),
            format!("{} is not allowed on {path}", request.method()),
        )
    } else {
        (HttpResponse::NotFound(), format!("no endpoint {path}"))
    };
    reply.json(json!({ "error": error, "endpoints": endpoints }))
}

fn unavailable(why: impl Into<String>) -> HttpResponse {
    HttpResponse::ServiceUnavailable().json(json!({ "error": why.into() }))
}

fn not_attached() -> HttpResponse {
    unavailable("the run is not trading: starting or over")
}

/// Asks the desk, waiting at most `deadline`.
async fn ask(shared: &Shared, call: Call, deadline: Duration) -> Result<Answer, String> {
    let run = shared
        .attached()
        .ok_or("the run is not trading: starting or over")?;
    let (tx, rx) = oneshot::channel();
    run.desk
        .send((call, tx))
        .map_err(|_| "the run is over".to_string())?;
    match tokio::time::timeout(deadline, rx).await {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(_)) => Err("the run ended before answering".into()),
        Err(_) => Err(format!(
            "the actors did not answer within {} ms",
            deadline.as_millis()
        )),
    }
}

async fn healthz(shared: web::Data<Shared>) -> HttpResponse {
    match shared.phase() {
        // Alive: reconciling with the venue can take a while, and a restart would not help.
        Phase::Starting => HttpResponse::Ok().json(json!({ "status": "starting" })),
        Phase::Over => unavailable("the run is over"),
        Phase::Running(run) => {
            if let Some(why) = run.board.trading_stopped() {
                return unavailable(format!("trading stopped: {why}"));
            }
            match ask(&shared, Call::Ping, shared.health_deadline).await {
                Ok(_) => HttpResponse::Ok().json(json!({ "status": "ok" })),
                Err(why) => unavailable(why),
            }
        }
    }
}

async fn readyz(shared: web::Data<Shared>) -> HttpResponse {
    let problems = super::readiness::problems(&shared.phase());
    if problems.is_empty() {
        HttpResponse::Ok().json(json!({ "ready": true }))
    } else {
        HttpResponse::ServiceUnavailable().json(json!({ "ready": false, "reasons": problems }))
    }
}

async fn metrics(shared: web::Data<Shared>) -> HttpResponse {
    let Some(run) = shared.attached() else {
        return not_attached();
    };
    match super::metrics::render(&run.health, &run.board, shared.started) {
        Ok(text) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, super::metrics::CONTENT_TYPE))
            .body(text),
        Err(_) => HttpResponse::InternalServerError().json(json!({ "error": "encoding failed" })),
    }
}

async fn status(shared: web::Data<Shared>) -> HttpResponse {
    match shared.attached() {
        Some(run) => HttpResponse::Ok().json(Status::collect(&run, shared.started)),
        None => not_attached(),
    }
}

/// Checks the bearer token; logs the call (never the token). The answer when it is refused.
fn refused(shared: &Shared, request: &HttpRequest, endpoint: &str) -> Option<HttpResponse> {
    let peer = request
        .peer_addr()
        .map_or_else(|| "unknown".to_string(), |a| a.to_string());
    let header = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|h| h.as_bytes());
    match check(shared.token.as_ref(), header) {
        Ok(()) => {
            info!(endpoint, %peer, "control command received");
            None
        }
        Err(Refusal::NoTokenConfigured) => {
            warn!(endpoint, %peer, "control command refused: no token is configured");
            Some(HttpResponse::Forbidden().json(json!({
                "error": "commands are off: keel was started without a control token (control.token_env)"
            })))
        }
        Err(Refusal::BadToken) => {
            warn!(endpoint, %peer, "control command refused: missing or wrong bearer token");
            Some(
                HttpResponse::Unauthorized()
                    .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
                    .json(json!({ "error": "a valid bearer token is required" })),
            )
        }
    }
}

async fn operate(
    shared: web::Data<Shared>,
    request: HttpRequest,
    endpoint: &str,
    command: OperatorCommand,
) -> HttpResponse {
    if let Some(refusal) = refused(&shared, &request, endpoint) {
        return refusal;
    }
    match ask(&shared, Call::Operate(command), COMMAND_DEADLINE).await {
        Ok(Answer::Risk(Some(risk))) => HttpResponse::Ok().json(json!({
            "command": command,
            "risk": risk,
        })),
        Ok(_) => unavailable("risk could not apply the command (see the supervision events)"),
        Err(why) => unavailable(why),
    }
}

async fn halt(shared: web::Data<Shared>, request: HttpRequest) -> HttpResponse {
    operate(shared, request, "/halt", OperatorCommand::Halt).await
}

async fn resume(shared: web::Data<Shared>, request: HttpRequest) -> HttpResponse {
    operate(shared, request, "/resume", OperatorCommand::Resume).await
}

async fn flatten(shared: web::Data<Shared>, request: HttpRequest) -> HttpResponse {
    operate(shared, request, "/flatten", OperatorCommand::Flatten).await
}

async fn reset_kill_switch(shared: web::Data<Shared>, request: HttpRequest) -> HttpResponse {
    operate(
        shared,
        request,
        "/kill-switch/reset",
        OperatorCommand::ResetKillSwitch,
    )
    .await
}

async fn kill(
    shared: web::Data<Shared>,
    request: HttpRequest,
    name: Result<web::Path<String>, actix_web::Error>,
) -> HttpResponse {
    if let Some(refusal) = refused(&shared, &request, "/actors/{name}/kill") {
        return refusal;
    }
    // A name that does not decode (not UTF-8) names no actor; actix's answer has no body.
    let Ok(name) = name.map(web::Path::into_inner) else {
        return HttpResponse::NotFound().json(json!({
            "error": format!("no actor is called {}", request.match_info().query("name")),
        }));
    };
    match ask(&shared, Call::Kill(name.clone()), COMMAND_DEADLINE).await {
        Ok(Answer::Killed) => HttpResponse::Accepted().json(json!({
            "actor": name,
            "killed": true,
            "message": "killed; its supervisor starts a fresh instance (see /status)",
        })),
        Ok(Answer::UnknownActor(known)) => HttpResponse::NotFound().json(json!({
            "error": format!("no actor is called {name}"),
            "actors": known,
        })),
        Ok(_) => unavailable("unexpected answer"),
        Err(why) => unavailable(why),
    }
}
