//! The `keel` binary: parse the command line, set up logging, run the command, map errors
//! to exit codes (0 success, 1 a run failed, 2 a usage or configuration error, 70 the root
//! supervisor gave up and trading was stopped safely).

use std::process::ExitCode;

use clap::Parser;
use keel::cli::{Cli, Command, DataCommand};
use keel::commands;
use keel::settings::SettingsError;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match &cli.command {
        Command::Run(args) => commands::run::run(args, &cli),
        command => {
            let level = cli.log_level.as_deref().unwrap_or("warn");
            let audit = match command {
                Command::Backtest(args) => keel::commands::backtest::audit_sink(args),
                _ => keel::logging::AuditSink::Off,
            };
            match keel::logging::init(cli.log_format, level, None, &audit) {
                Err(error) => Err(error),
                Ok(_guard) => match command {
                    Command::Backtest(args) => commands::backtest::run(args),
                    Command::Sweep(args) => commands::sweep::run(args),
                    Command::Worker(args) => commands::worker::run(args),
                    Command::Chaos(args) => commands::chaos::run(args),
                    Command::SimExchange(args) => commands::sim_exchange::run(args),
                    Command::Data(DataCommand::Inspect(args)) => commands::data::inspect(args),
                    Command::Data(DataCommand::Indicators(args)) => {
                        commands::data::indicators(args)
                    }
                    Command::Data(DataCommand::Fetch(args)) => commands::fetch::run(args),
                    Command::Audit(args) => commands::audit::run(args),
                    Command::Status(args) => commands::control::status(args),
                    Command::Ctl(args) => commands::control::ctl(args),
                    Command::Compact(args) => commands::compact::run(args),
                    Command::Run(_) => unreachable!("handled above"),
                },
            }
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", describe(&error));
            let config_error = error.downcast_ref::<SettingsError>().is_some()
                || error.downcast_ref::<keel::sweep::Refused>().is_some()
                || error
                    .downcast_ref::<keel_sim_exchange::config::ConfigError>()
                    .is_some();
            if config_error {
                ExitCode::from(2)
            } else if error.downcast_ref::<keel::runtime::Escalated>().is_some() {
                // A process manager restarts keel; startup reconciliation takes over.
                ExitCode::from(keel_supervision::ROOT_ESCALATION_EXIT_CODE as u8)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// The error and its causes, each once: most of keel's errors already quote their cause, and
/// printing it again after a colon only makes the line harder to read.
fn describe(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let cause = cause.to_string();
        if text.contains(&cause) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&cause);
    }
    text
}
