//! The actor runtime: the same stages as the backtest, each inside an actix actor, fed by the
//! replay feed. In lockstep (and paced) mode it produces exactly the backtest's orders,
//! fills and P&L.

mod chaos;
mod decisions;
mod news;
mod recovery;
mod remote;
mod user_news;
mod venue_agreement;
mod wiring;

pub use chaos::{ChaosKills, ChaosOptions};

pub use recovery::{check_journal, fingerprint};

pub use remote::{open_remote, RemoteStart};
pub use venue_agreement::{check_venue_agreement, VenueAgreement};
pub use wiring::{run_actors, CandleStream, Escalated, RunOptions, RunReport};
