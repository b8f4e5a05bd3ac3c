//! The control plane of `keel run` (DESIGN §9): health and readiness for a process manager,
//! Prometheus metrics, a JSON status, a live dashboard in the browser, and token-protected
//! commands (kill an actor, halt, resume, flatten, reset the kill switch).
//!
//! It runs on actix-web's own thread and reads what the run publishes (the health registry
//! and the [`Board`](keel_actors::board::Board)), so that a scrape never waits in an actor's
//! mailbox. Commands go to the [`desk`], a task on the actors' thread, over a channel.

mod auth;
pub mod client;
mod dashboard;
mod desk;
mod http;
mod metrics;
mod plane;
mod readiness;
pub mod status;

pub use desk::DeskParts;
pub use metrics::render as render_metrics;
pub use plane::{ControlOptions, ControlPlane, Token, ADDR_FILE};
pub use status::unix_ms;
