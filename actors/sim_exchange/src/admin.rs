//! `/admin`: test and ops endpoints, unauthenticated (listen on loopback only). They are not
//! weighed, delayed or faulted.

use crate::unpoisoned;
use std::sync::atomic::Ordering;

use actix_web::web::{self, Bytes, Data};
use actix_web::HttpResponse;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;

use super::faults::FaultPatch;
use super::streams::WsEvent;
use super::App;

/// The routes under `/admin`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin")
            .wrap_fn(crate::body_deadline::with_body_deadline)
            .route("/submissions", web::get().to(submissions))
            .route("/faults", web::get().to(get_faults))
            .route("/faults", web::post().to(set_faults))
            .route("/replay", web::get().to(replay_status))
            .route("/replay", web::post().to(set_replay))
            .route("/step", web::post().to(step)),
    );
}

/// The JSON body, or the 400 answer naming what is wrong.
fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, Box<HttpResponse>> {
    serde_json::from_slice(body).map_err(|e| {
        tracing::info!(error = %e, "bad admin request");
        Box::new(HttpResponse::BadRequest().json(json!({"error": e.to_string()})))
    })
}

async fn submissions(app: Data<App>) -> HttpResponse {
    let venue = unpoisoned(&app.venue);
    HttpResponse::Ok().json(&venue.state.submissions)
}

async fn get_faults(app: Data<App>) -> HttpResponse {
    HttpResponse::Ok().json(&*unpoisoned(&app.faults))
}

async fn set_faults(app: Data<App>, body: Bytes) -> HttpResponse {
    let patch: FaultPatch = match parse(&body) {
        Ok(p) => p,
        Err(e) => return *e,
    };
    let faults = {
        let mut faults = unpoisoned(&app.faults);
        if let Err(e) = faults.apply(&patch) {
            return HttpResponse::BadRequest().json(json!({"error": e}));
        }
        faults.clone()
    };
    if let Some(secs) = patch.ban_s {
        unpoisoned(&app.weights).ban(App::wall_ms(), secs);
    }
    if patch.drop_ws == Some(true) {
        let _ = app.events.send(WsEvent::Drop);
    }
    tracing::info!(?patch, "faults changed");
    HttpResponse::Ok().json(faults)
}

fn status(app: &App) -> serde_json::Value {
    let venue = unpoisoned(&app.venue);
    let last: serde_json::Map<String, serde_json::Value> = venue
        .markets
        .iter()
        .enumerate()
        .map(|(m, market)| {
            let open = venue.closed_bars(m).last().map(|c| c.open_time.0);
            (market.symbol.as_str().to_string(), json!(open))
        })
        .collect();
    json!({
        "paused": app.paused.load(Ordering::SeqCst),
        "cursor": venue.state.cursor,
        "bars": venue.merged.len(),
        "exhausted": venue.exhausted(),
        "lastClosedOpenTime": last,
    })
}

async fn replay_status(app: Data<App>) -> HttpResponse {
    HttpResponse::Ok().json(status(&app))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Pause {
    paused: bool,
}

async fn set_replay(app: Data<App>, body: Bytes) -> HttpResponse {
    match parse::<Pause>(&body) {
        Ok(p) => {
            // Under the step lock: once answered, no paused tick can still land.
            let _serial = app.step_lock.lock().await;
            app.paused.store(p.paused, Ordering::SeqCst);
            tracing::info!(paused = p.paused, "replay clock");
            HttpResponse::Ok().json(status(&app))
        }
        Err(e) => *e,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    bars: usize,
}

async fn step(app: Data<App>, body: Bytes) -> HttpResponse {
    let n = match parse::<Step>(&body) {
        Ok(s) => s.bars,
        Err(e) => return *e,
    };
    let done = super::replay::step(&app, n).await;
    HttpResponse::Ok().json(json!({
        "stepped": done.bars,
        "cursor": done.cursor,
        "exhausted": done.exhausted,
    }))
}
