//! `keel run`: the long-running runtime. Replays the configured data through the supervised
//! actor pipeline, logging every decision, journalling the order manager, and prints a
//! summary when the data ends (or, for a paper run, when SIGINT/SIGTERM arrives).

use anyhow::Context;
use keel_actors::feed::Pace;
use tracing::info;

use crate::alerts::{deliver_once, Alert, AlertKind, AlertOptions};
use crate::backtest::{live_inputs, load_inputs};
use crate::cli::{Cli, RunArgs};
use crate::control::ControlOptions;
use crate::logging::AuditSink;
use crate::report::{compute_metrics, render_table, write_reports};
use crate::runtime::{run_actors, RunOptions};
use crate::settings::{FeedMode, Settings, SettingsError};
use keel_core::config_check::ConfigError;
use keel_core::strategy::StrategyKind;
use keel_news::llm::{AnalysisMode, AnalystKind, ApiKey};

/// A `record` run of a model (the sentiment analyst's, the `llm` strategy's and its search)
/// needs each key variable it names: a missing one is a configuration error (exit code 2),
/// found before any data is read.
fn check_api_key(settings: &Settings, origin: &str) -> Result<(), SettingsError> {
    let sentiment = &settings.sentiment;
    let strategy = &settings.strategy.llm;
    let recording_strategy =
        settings.strategy.kind == StrategyKind::Llm && strategy.mode == AnalysisMode::Record;
    let needed = [
        (
            sentiment.analyst != AnalystKind::Lexicon && sentiment.mode == AnalysisMode::Record,
            "sentiment.llm.api_key_env",
            sentiment.llm.api_key_env.as_deref(),
        ),
        (
            recording_strategy,
            "strategy.llm.api.api_key_env",
            strategy.api.api_key_env.as_deref(),
        ),
        (
            recording_strategy && strategy.search.enabled(),
            "strategy.llm.search.api_key_env",
            strategy.search.api_key_env.as_deref(),
        ),
    ];
    for (_, key, var) in needed.into_iter().filter(|(needed, _, _)| *needed) {
        ApiKey::from_env(var).map_err(|e| SettingsError::Invalid {
            origin: origin.to_string(),
            problem: ConfigError::new(key, e.to_string()),
        })?;
    }
    Ok(())
}

/// Runs `keel run`.
pub fn run(args: &RunArgs, cli: &Cli) -> anyhow::Result<()> {
    let mut settings = super::load_settings(args.config.as_deref())?;
    if args.print_tree {
        let tree = settings.tree()?;
        print!(
            "{}",
            tree.render(&settings.supervision, &settings.hangs.deadlines())
        );
        println!("not yet supervised: the feed");
        return Ok(());
    }
    if let Some(store) = &args.store {
        settings.run.store = store.clone();
    }
    if let Some(listen) = &args.control_listen {
        settings.control.listen = listen.clone();
        settings
            .control
            .listen_addr()
            .map_err(|problem| SettingsError::Invalid {
                origin: "--control-listen".to_string(),
                problem,
            })?;
    }
    let level = cli.log_level.as_deref().unwrap_or("info");
    let audit = match &args.audit {
        Some(path) => AuditSink::File {
            path: path.clone(),
            append: true,
        },
        None => AuditSink::BesideLog,
    };
    let _log = crate::logging::init(cli.log_format, level, Some(&settings.log), &audit)?;
    let origin = args
        .config
        .as_ref()
        .map_or("(embedded default)".to_string(), |p| {
            p.display().to_string()
        });
    info!(config = %origin, strategy = settings.strategy.kind.name(), store = %settings.run.store.display(), "keel run starting");
    check_api_key(&settings, &origin)?;
    if let Some(binance) = &settings.binance {
        // The venue's key and secret must be in the environment: a configuration error.
        binance
            .client_config()
            .map_err(|problem| SettingsError::Invalid {
                origin: origin.clone(),
                problem,
            })?;
    }
    let inputs = match settings.binance {
        Some(_) => live_inputs(&settings)?,
        None => load_inputs(&settings)?,
    };
    info!(
        symbols = inputs.symbols.len(),
        candles = inputs.candles.len(),
        headlines = inputs.headlines.len(),
        "replay starting"
    );
    let pace = match settings.run.feed {
        FeedMode::Lockstep => Pace::Lockstep,
        FeedMode::Paced => Pace::Paced {
            speedup: settings.run.speedup,
        },
    };
    let control =
        ControlOptions::from_settings(&settings).map_err(|problem| SettingsError::Invalid {
            origin: origin.clone(),
            problem,
        })?;
    let alerts = settings
        .alerts
        .webhooks()
        .map_err(|problem| SettingsError::Invalid {
            origin: origin.clone(),
            problem,
        })?;
    let alerts = AlertOptions {
        settings: settings.alerts.clone(),
        webhooks: alerts,
    };
    let options = RunOptions {
        alerts: Some(alerts.clone()),
        control,
        store: Some(settings.run.store.clone()),
        pace: Some(pace),
        stop_after: args.stop_after,
        ..RunOptions::default()
    };
    let report = run_actors(&settings, inputs, options).inspect_err(|error| {
        let text = format!("{error:#}");
        if text.contains("trading halted") && !alerts.webhooks.is_empty() {
            deliver_once(&alerts, &Alert::new(AlertKind::ReconciliationHalt, text));
        }
    })?;
    let metrics = compute_metrics(&report.result);
    let state = if report.outcome.completed {
        "end of data: run complete"
    } else {
        "stopped: run interrupted"
    };
    info!(
        trades = report.result.trades.len(),
        orders = report.result.orders_submitted,
        final_equity = %report.result.equity_curve.last().map(|p| p.equity).unwrap_or_default(),
        "{state}"
    );
    println!("{}", render_table(&report.result, &metrics));
    if let Some(dir) = &args.out {
        write_reports(dir, &report.result, &metrics)
            .with_context(|| format!("writing the reports into {}", dir.display()))?;
        println!("reports written to {}", dir.display());
    }
    Ok(())
}
