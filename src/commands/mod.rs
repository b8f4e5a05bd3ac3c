//! One file per command: each turns parsed arguments into work and a printed result.

pub mod audit;
pub mod backtest;
pub mod chaos;
pub mod compact;
pub mod control;
pub mod data;
pub mod fetch;
pub mod run;
pub mod sim_exchange;
mod soak;
pub mod sweep;
pub mod worker;

use std::path::Path;

use crate::settings::{Settings, SettingsError};

/// Loads `--config`, or the embedded default when absent.
pub fn load_settings(path: Option<&Path>) -> Result<Settings, SettingsError> {
    match path {
        Some(path) => Settings::load(path),
        None => Settings::embedded_default(),
    }
}
