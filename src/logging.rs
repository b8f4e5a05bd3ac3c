//! Logs: human-readable lines (coloured only on a terminal) or JSON on stderr, plus, for
//! `keel run`, a rotating log file in the same format without colours. Every line an actor
//! writes carries its `actor` and `symbol` span fields.

use std::io::IsTerminal;

use anyhow::Context;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation as Rolling};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer, Registry};

use crate::cli::LogFormat;
use crate::settings::{LogSettings, Rotation};

/// Keeps the log file's writer thread alive; drop it last (it flushes on drop).
#[must_use = "dropping the guard stops file logging"]
pub struct LogGuard {
    _worker: Option<WorkerGuard>,
}

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

fn layer<W>(format: LogFormat, ansi: bool, writer: W) -> BoxedLayer
where
    W: for<'w> fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let base = fmt::layer().with_writer(writer).with_ansi(ansi);
    match format {
        LogFormat::Text => base.boxed(),
        LogFormat::Json => base.json().boxed(),
    }
}

/// Sets up logging. `level` is a tracing filter; RUST_LOG overrides it.
pub fn init(
    format: LogFormat,
    level: &str,
    file: Option<&LogSettings>,
) -> anyhow::Result<LogGuard> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let mut layers = vec![layer(
        format,
        std::io::stderr().is_terminal(),
        std::io::stderr,
    )];
    let mut guard = None;
    if let Some(dir) = file.and_then(|f| f.dir.as_ref().map(|d| (d, f))) {
        let (dir, settings) = dir;
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the log directory {}", dir.display()))?;
        let appender = RollingFileAppender::builder()
            .rotation(match settings.rotation {
                Rotation::Hourly => Rolling::HOURLY,
                Rotation::Daily => Rolling::DAILY,
                Rotation::Never => Rolling::NEVER,
            })
            .filename_prefix("keel")
            .filename_suffix("log")
            .max_log_files(settings.keep_files)
            .build(dir)
            .with_context(|| format!("opening a log file in {}", dir.display()))?;
        let (writer, worker) = tracing_appender::non_blocking(appender);
        layers.push(layer(format, false, writer));
        guard = Some(worker);
    }
    tracing_subscriber::registry()
        .with(layers)
        .with(filter)
        .try_init()
        .context("installing the log subscriber")?;
    Ok(LogGuard { _worker: guard })
}
