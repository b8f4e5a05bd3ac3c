//! `keel sim-exchange`: runs the Binance-speaking sim venue (see `docs/sim-exchange.md`).

use crate::cli::SimExchangeArgs;
use keel_sim_exchange::config::Settings;

/// Loads the config and serves until SIGTERM/SIGINT.
pub fn run(args: &SimExchangeArgs) -> anyhow::Result<()> {
    let settings = Settings::load(&args.config, args.listen.as_deref(), args.state.as_deref())?;
    keel_sim_exchange::run(settings)
}
