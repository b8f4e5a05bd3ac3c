//! Logs: human-readable lines (coloured only on a terminal) or JSON on stderr, plus, for
//! `keel run`, a rotating log file in the same format without colours. Every line an actor
//! writes carries its `actor` and `symbol` span fields.
//!
//! The audit trail (the stages' [`DomainEvent`](keel_model::DomainEvent)s on the
//! [`keel_core::audit::TARGET`] target) goes to its own file, one JSON object per line,
//! and never to stderr or the log file.

use std::fs::OpenOptions;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use keel_core::audit;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_appender::rolling::{RollingFileAppender, Rotation as Rolling};
use tracing_subscriber::filter::{filter_fn, FilterExt, Targets};
use tracing_subscriber::layer::{Context as LayerContext, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer, Registry};

use crate::cli::LogFormat;
use crate::settings::{LogSettings, Rotation};

/// Keeps the log and audit files' writer threads alive; drop it last (they flush on drop).
#[must_use = "dropping the guard stops file logging"]
pub struct LogGuard {
    _workers: Vec<WorkerGuard>,
}

/// Where the audit trail goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditSink {
    /// Nowhere: audit events are not even built.
    Off,
    /// One file (`--audit FILE`), appended to (a resumed run continues its trail) or
    /// truncated first (a backtest's trail is that backtest's only).
    File {
        /// The file.
        path: PathBuf,
        /// Append rather than truncate.
        append: bool,
    },
    /// `keel-audit.<date>.jsonl` in the log directory, rotating like the log, when the run
    /// logs to files; nowhere otherwise.
    BesideLog,
}

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

fn layer<W>(format: LogFormat, ansi: bool, writer: W, level: &str) -> BoxedLayer
where
    W: for<'w> fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    // RUST_LOG overrides `level`; audit events never reach the ordinary log.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(level))
        .and(filter_fn(|meta| meta.target() != audit::TARGET));
    let base = fmt::layer().with_writer(writer).with_ansi(ansi);
    match format {
        LogFormat::Text => base.with_filter(filter).boxed(),
        LogFormat::Json => base.json().with_filter(filter).boxed(),
    }
}

fn rolling(
    settings: &LogSettings,
    dir: &Path,
    prefix: &str,
    suffix: &str,
) -> anyhow::Result<RollingFileAppender> {
    RollingFileAppender::builder()
        .rotation(match settings.rotation {
            Rotation::Hourly => Rolling::HOURLY,
            Rotation::Daily => Rolling::DAILY,
            Rotation::Never => Rolling::NEVER,
        })
        .filename_prefix(prefix)
        .filename_suffix(suffix)
        .max_log_files(settings.keep_files)
        .build(dir)
        .with_context(|| format!("opening a {suffix} file in {}", dir.display()))
}

/// Sets up logging. `level` is a tracing filter; RUST_LOG overrides it. `file` adds the
/// rotating log file (when it names a directory); `audit` says where the audit trail goes.
pub fn init(
    format: LogFormat,
    level: &str,
    file: Option<&LogSettings>,
    audit_sink: &AuditSink,
) -> anyhow::Result<LogGuard> {
    let mut layers = vec![layer(
        format,
        std::io::stderr().is_terminal(),
        std::io::stderr,
        level,
    )];
    let mut workers = Vec::new();
    let log_dir = file.and_then(|f| f.dir.as_deref().map(|d| (d, f)));
    if let Some((dir, settings)) = log_dir {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the log directory {}", dir.display()))?;
        let (writer, worker) =
            tracing_appender::non_blocking(rolling(settings, dir, "keel", "log")?);
        layers.push(layer(format, false, writer, level));
        workers.push(worker);
    }
    let audit_writer = match (audit_sink, log_dir) {
        (AuditSink::Off, _) | (AuditSink::BesideLog, None) => None,
        (AuditSink::BesideLog, Some((dir, settings))) => Some(non_blocking_lossless(rolling(
            settings,
            dir,
            "keel-audit",
            "jsonl",
        )?)),
        (AuditSink::File { path, append }, _) => {
            Some(non_blocking_lossless(open_audit_file(path, *append)?))
        }
    };
    if let Some((writer, worker)) = audit_writer {
        layers.push(audit_layer(writer).boxed());
        workers.push(worker);
    }
    tracing_subscriber::registry()
        .with(layers)
        .try_init()
        .context("installing the log subscriber")?;
    Ok(LogGuard { _workers: workers })
}

/// A writer thread that blocks rather than drop a line when it falls behind: the audit
/// trail must be complete.
fn non_blocking_lossless<W: Write + Send + 'static>(
    writer: W,
) -> (tracing_appender::non_blocking::NonBlocking, WorkerGuard) {
    NonBlockingBuilder::default().lossy(false).finish(writer)
}

fn open_audit_file(path: &Path, append: bool) -> anyhow::Result<std::fs::File> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating the audit directory {}", parent.display()))?;
    }
    OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(path)
        .with_context(|| format!("opening the audit file {}", path.display()))
}

/// The layer that writes each audit event's JSON object as one line into `writer`, and
/// nothing else. Tests install it with `tracing::subscriber::with_default`.
pub fn audit_layer<S, W>(writer: W) -> impl Layer<S> + Send + Sync
where
    S: Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    W: for<'w> fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    AuditLayer { writer }.with_filter(Targets::new().with_target(audit::TARGET, Level::INFO))
}

struct AuditLayer<W> {
    writer: W,
}

impl<S, W> Layer<S> for AuditLayer<W>
where
    S: Subscriber,
    W: for<'w> fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    fn on_event(&self, event: &Event<'_>, _: LayerContext<'_, S>) {
        let mut line = JsonField(None);
        event.record(&mut line);
        if let Some(mut json) = line.0 {
            json.push('\n');
            // One write per line, so lines never interleave. Nothing to report an error to
            // from inside the log.
            let _ = self.writer.make_writer().write_all(json.as_bytes());
        }
    }
}

/// The audit field's value.
struct JsonField(Option<String>);

impl Visit for JsonField {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == audit::FIELD {
            self.0 = Some(value.to_string());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == audit::FIELD && self.0.is_none() {
            self.0 = Some(format!("{value:?}"));
        }
    }
}
