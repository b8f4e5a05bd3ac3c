//! The desk: the control plane's side on the actors' thread. The HTTP handlers run on
//! actix-web's threads and cannot touch the actors (they live on one thread, reached through
//! `Rc`s); they send each command here over a channel and await the answer.

use keel_actors::board::RiskView;
use keel_actors::messages::{FlattenAll, Operate};
use keel_actors::runtime::{ActorHandle, Inbox, Inflight};
use keel_core::risk::OperatorCommand;
use tokio::sync::{mpsc, oneshot};
use tracing::{info, warn};

/// What the run gives the desk.
pub struct DeskParts {
    /// Every supervised actor, by the name the supervision reports use.
    pub actors: Vec<ActorHandle>,
    /// Risk, which applies the operator's commands.
    pub risk: Inbox<Operate>,
    /// The order manager, which flattens at once when told.
    pub order_manager: Inbox<FlattenAll>,
    /// The pipeline's in-flight count (a flatten is a step of it).
    pub inflight: Inflight,
}

/// A command for the desk.
#[derive(Debug, Clone)]
pub(super) enum Call {
    /// Is the actors' thread answering?
    Ping,
    /// Kill this actor for real (its supervisor starts a fresh instance).
    Kill(String),
    /// A command for risk.
    Operate(OperatorCommand),
}

/// The desk's answer.
#[derive(Debug, Clone)]
pub(super) enum Answer {
    /// The actors' thread answers.
    Pong,
    /// The kill is on its way (at the actor's next turn).
    Killed,
    /// No actor has that name; these do.
    UnknownActor(Vec<String>),
    /// Risk's switches after the command (`None`: risk could not answer).
    Risk(Option<RiskView>),
}

/// A command and where its answer goes.
pub(super) type Request = (Call, oneshot::Sender<Answer>);

/// Sends commands to the desk.
pub(super) type DeskSender = mpsc::UnboundedSender<Request>;

/// Starts the desk on the current (the actors') thread; it ends when every sender is gone.
pub(super) fn start_desk(parts: DeskParts) -> DeskSender {
    let (tx, mut rx) = mpsc::unbounded_channel::<Request>();
    actix_rt::spawn(async move {
        while let Some((call, reply)) = rx.recv().await {
            match call {
                Call::Ping => {
                    let _ = reply.send(Answer::Pong);
                }
                Call::Kill(name) => {
                    let _ = reply.send(kill(&parts.actors, &name));
                }
                Call::Operate(command) => {
                    // Risk answers after the messages queued before it: await it apart, so
                    // that a ping meanwhile is answered at once.
                    let risk = parts.risk.clone();
                    let flatten = (command == OperatorCommand::Flatten)
                        .then(|| (parts.order_manager.clone(), parts.inflight.clone()));
                    actix_rt::spawn(async move {
                        let view = risk.ask(Operate(command)).await.ok().flatten();
                        match (&view, flatten) {
                            (None, _) => {
                                warn!(?command, "risk could not apply the operator's command")
                            }
                            // Halted first (no entry can follow), then every position closes
                            // now; risk closes what is left at the next bar close too.
                            (Some(_), Some((om, inflight))) => om.send(FlattenAll {
                                ticket: inflight.ticket(),
                            }),
                            (Some(_), None) => {}
                        }
                        let _ = reply.send(Answer::Risk(view));
                    });
                }
            }
        }
    });
    tx
}

fn kill(actors: &[ActorHandle], name: &str) -> Answer {
    match actors.iter().find(|a| a.name() == name) {
        Some(actor) => {
            warn!(
                actor = name,
                "killed by an operator (control plane): its supervisor starts a fresh instance"
            );
            actor.kill();
            Answer::Killed
        }
        None => {
            info!(actor = name, "kill refused: no actor has that name");
            Answer::UnknownActor(actors.iter().map(|a| a.name().to_string()).collect())
        }
    }
}
