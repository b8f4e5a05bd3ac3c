//! The `keel` binary: parse the command line, set up logging, run the command, map errors
//! to exit codes (0 success, 1 a run failed, 2 a usage or configuration error).

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use keel::cli::{Cli, Command, DataCommand, LogFormat};
use keel::commands;
use keel::settings::SettingsError;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = match cli.command {
        Command::Run(_) => "info",
        _ => "warn",
    };
    init_logging(
        cli.log_format,
        cli.log_level.as_deref().unwrap_or(default_level),
    );
    let outcome = match &cli.command {
        Command::Run(args) => commands::run::run(args),
        Command::Backtest(args) => commands::backtest::run(args),
        Command::Data(DataCommand::Inspect(args)) => commands::data::inspect(args),
        Command::Data(DataCommand::Indicators(args)) => commands::data::indicators(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            if error.downcast_ref::<SettingsError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

fn init_logging(format: LogFormat, level: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    // Colours only for a person at a terminal, never into files or pipes.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
