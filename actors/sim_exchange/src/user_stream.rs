//! `GET /ws-api/v3`: the WebSocket API's user data stream, as Binance serves it since the
//! REST listenKey flow was retired (PROTOCOLS.md, "User data stream"). A connection sends
//! JSON requests (see [`requests`]); once subscribed it receives every account event the
//! venue publishes, as `{"subscriptionId": N, "event": {…}}`. Events are published only
//! after the state they describe is written (`App::save`), in the order of the changes.
//!
//! Keep-alive as the market streams: server pings, a connection that stops ponging is
//! closed, and the `drop_ws` fault closes it too. A subscriber that falls more than
//! [`CHANNEL_CAPACITY`] batches behind is closed rather than left with a gap: its client
//! reconnects and back-fills over REST.

pub mod requests;

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::web::{self, Data, Payload};
use actix_web::{HttpRequest, HttpResponse};
use actix_ws::{CloseCode, CloseReason, Message, MessageStream, Session};
use keel_binance::wire::user::{UserEvent, UserEventFrame};
use tokio::sync::broadcast::{self, error::RecvError};

use self::requests::{Action, Context};
use super::streams::WsEvent;
use super::App;

/// The events of one persisted change set (one request, or one bar), in order.
pub type UserBatch = Arc<Vec<UserEvent>>;

/// How many batches a subscriber may fall behind before its connection is closed.
pub const CHANNEL_CAPACITY: usize = 4096;

/// The route `/ws-api/v3`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/ws-api/v3", web::get().to(connect));
}

/// The connection's subscription.
struct Subscription {
    id: u64,
    events: broadcast::Receiver<UserBatch>,
}

async fn connect(
    app: Data<App>,
    req: HttpRequest,
    body: Payload,
) -> actix_web::Result<HttpResponse> {
    let (response, session, incoming) = actix_ws::handle(&req, body)?;
    tracing::info!("websocket api connected");
    actix_web::rt::spawn(async move {
        let reason = serve(app, session, incoming).await;
        tracing::info!(reason, "websocket api closed");
    });
    Ok(response)
}

/// The next batch of the subscription; never, without one.
async fn next_batch(subscription: &mut Option<Subscription>) -> Result<UserBatch, RecvError> {
    match subscription {
        Some(s) => s.events.recv().await,
        None => std::future::pending().await,
    }
}

/// Serves one connection until it closes; returns why.
async fn serve(app: Data<App>, mut session: Session, mut incoming: MessageStream) -> &'static str {
    let mut faults = app.events.subscribe();
    let mut subscription: Option<Subscription> = None;
    let mut next_id: u64 = 0;
    let ping_every = Duration::from_millis(app.settings.websocket.ping_interval_ms);
    let pong_timeout = Duration::from_millis(app.settings.websocket.pong_timeout_ms);
    let mut ping = actix_web::rt::time::interval(ping_every);
    ping.tick().await;
    let mut last_pong = Instant::now();
    loop {
        tokio::select! {
            _ = ping.tick() => {
                if last_pong.elapsed() > pong_timeout {
                    let _ = session.close(None).await;
                    return "no pong within the timeout";
                }
                if session.ping(b"keel-sim").await.is_err() {
                    return "closed";
                }
            }
            event = faults.recv() => match event {
                Ok(WsEvent::Drop) => {
                    let _ = session.close(None).await;
                    return "dropped by the drop_ws fault";
                }
                // Market bars are not this endpoint's.
                Ok(WsEvent::Bar(_)) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return "server stopping",
            },
            batch = next_batch(&mut subscription) => match batch {
                Ok(events) => {
                    let id = subscription.as_ref().map_or(0, |s| s.id);
                    for event in events.iter() {
                        if !send_event(&mut session, id, event.clone()).await {
                            return "closed";
                        }
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "a user data stream subscriber lags: closing its connection (it reconnects and back-fills over REST)");
                    let reason = CloseReason {
                        code: CloseCode::Again,
                        description: Some("user data stream subscriber lagged; reconnect".into()),
                    };
                    let _ = session.close(Some(reason)).await;
                    return "lagged";
                }
                Err(RecvError::Closed) => return "server stopping",
            },
            msg = incoming.recv() => match msg {
                Some(Ok(Message::Ping(bytes))) => {
                    if session.pong(&bytes).await.is_err() {
                        return "closed";
                    }
                }
                Some(Ok(Message::Pong(_))) => last_pong = Instant::now(),
                Some(Ok(Message::Text(text))) => {
                    let ctx = Context {
                        api_key: &app.settings.api_key,
                        signer: &app.signer,
                        server_now: app.server_ms(),
                        active: subscription.as_ref().map(|s| s.id),
                        next_id,
                    };
                    let (response, action) = requests::answer(&ctx, &text);
                    if let Some(error) = &response.error {
                        tracing::info!(code = error.code, msg = %error.msg, "websocket api request refused");
                    }
                    let ended = match action {
                        Action::None => None,
                        Action::Subscribe(id) => {
                            // Before the answer: every event published after it is forwarded.
                            subscription = Some(Subscription { id, events: app.user_events.subscribe() });
                            next_id = id + 1;
                            tracing::info!(subscription_id = id, "user data stream subscribed");
                            None
                        }
                        Action::Unsubscribe(id) => {
                            subscription = None;
                            tracing::info!(subscription_id = id, "user data stream unsubscribed");
                            Some(id)
                        }
                    };
                    if !send_json(&mut session, &response).await {
                        return "closed";
                    }
                    if let Some(id) = ended {
                        let ended = UserEvent::Terminated { event_time: app.server_ms() };
                        if !send_event(&mut session, id, ended).await {
                            return "closed";
                        }
                    }
                }
                Some(Ok(Message::Close(_))) | None => return "closed by the client",
                Some(Err(e)) => {
                    tracing::info!(error = %e, "websocket api protocol error");
                    return "protocol error";
                }
                Some(Ok(_)) => {}
            },
        }
    }
}

/// Sends `event` of subscription `id`; false once the connection is gone.
async fn send_event(session: &mut Session, id: u64, event: UserEvent) -> bool {
    let frame = UserEventFrame {
        subscription_id: id,
        event,
    };
    send_json(session, &frame).await
}

/// Sends `value` as a text message; false once the connection is gone.
async fn send_json(session: &mut Session, value: &impl serde::Serialize) -> bool {
    match serde_json::to_string(value) {
        Ok(text) => session.text(text).await.is_ok(),
        Err(e) => {
            // Not reachable with the wire types; skipped rather than fatal.
            tracing::error!(error = %e, "cannot serialise a websocket api message");
            true
        }
    }
}
