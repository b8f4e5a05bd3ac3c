//! A connection to NATS with keel's streams and object bucket in place: what both the
//! coordinator and the workers start from.

use std::time::Duration;

use async_nats::jetstream::context::{CreateStreamErrorKind, GetStreamErrorKind};
use async_nats::jetstream::ErrorCode;
use async_nats::jetstream::{self, stream};

use super::{CellQueue, DistributedError, Objects, Results};

/// How the streams are created. Applied when they are created; an existing stream keeps its
/// own values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// How long the streams remember message ids to drop republished cells and results.
    /// Default one hour.
    pub duplicate_window: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            duplicate_window: Duration::from_secs(3600),
        }
    }
}

/// A connection to a JetStream-enabled NATS server, with the cell queue, the results and the
/// object bucket ensured.
#[derive(Clone)]
pub struct Transport {
    cells: CellQueue,
    results: Results,
    objects: Objects,
}

/// Connects to `url` (e.g. `nats://127.0.0.1:4222`) with the default [`Settings`].
pub async fn connect(url: &str) -> Result<Transport, DistributedError> {
    connect_with(url, Settings::default()).await
}

/// Connects to `url` and gets or creates `KEEL_CELLS`, `KEEL_RESULTS` and the `keel-objects`
/// bucket; an existing stream whose retention or subjects differ from keel's is an
/// [`DistributedError::Incompatible`] error.
pub async fn connect_with(url: &str, settings: Settings) -> Result<Transport, DistributedError> {
    let client = async_nats::ConnectOptions::new()
        .name("keel")
        .connect(url)
        .await
        .map_err(|source| DistributedError::Connect {
            url: url.to_string(),
            source,
        })?;
    let jetstream = jetstream::new(client);
    Ok(Transport {
        cells: CellQueue::ensure(&jetstream, &settings).await?,
        results: Results::ensure(&jetstream, &settings).await?,
        objects: Objects::ensure(&jetstream).await?,
    })
}

impl Transport {
    /// The work queue of cells.
    pub fn cells(&self) -> &CellQueue {
        &self.cells
    }

    /// The stored results.
    pub fn results(&self) -> &Results {
        &self.results
    }

    /// The objects (candle files, ...) by content hash.
    pub fn objects(&self) -> &Objects {
        &self.objects
    }
}

/// A stream `name` stored in files, over the subjects under `prefix` (`keel.cells` takes
/// `keel.cells.>`), with `retention` and the settings' duplicate window.
pub(crate) fn file_stream(
    name: &str,
    prefix: &str,
    retention: stream::RetentionPolicy,
    settings: &Settings,
) -> stream::Config {
    stream::Config {
        name: name.to_string(),
        subjects: vec![format!("{prefix}.>")],
        retention,
        storage: stream::StorageType::File,
        duplicate_window: settings.duplicate_window,
        ..Default::default()
    }
}

/// Gets stream `config.name`, creating it with `config` when it does not exist; an existing
/// one must have the same retention and at least `config`'s subjects.
pub(crate) async fn ensure_stream(
    jetstream: &jetstream::Context,
    config: stream::Config,
) -> Result<stream::Stream, DistributedError> {
    let name = config.name.clone();
    match jetstream.get_stream(&name).await {
        Ok(stream) => {
            check_stream(&config, &stream.cached_info().config)?;
            return Ok(stream);
        }
        Err(e) if !matches!(e.kind(), GetStreamErrorKind::JetStream(ref j) if j.error_code() == ErrorCode::STREAM_NOT_FOUND) =>
        {
            return Err(DistributedError::nats(format!("reading stream {name}"), e));
        }
        Err(_) => {}
    }
    match jetstream.create_stream(config.clone()).await {
        Ok(stream) => {
            tracing::info!(stream = %name, "created JetStream stream");
            Ok(stream)
        }
        // Another process created it since: same checks as above.
        Err(e) if matches!(e.kind(), CreateStreamErrorKind::JetStream(ref j) if j.error_code() == ErrorCode::STREAM_NAME_EXIST) =>
        {
            let stream = jetstream
                .get_stream(&name)
                .await
                .map_err(|e| DistributedError::nats(format!("reading stream {name}"), e))?;
            check_stream(&config, &stream.cached_info().config)?;
            Ok(stream)
        }
        Err(e) => Err(DistributedError::nats(format!("creating stream {name}"), e)),
    }
}

/// Whether an existing stream `found` can serve as `wanted`.
fn check_stream(wanted: &stream::Config, found: &stream::Config) -> Result<(), DistributedError> {
    let subjects_ok = wanted.subjects.iter().all(|s| found.subjects.contains(s));
    if wanted.retention == found.retention && subjects_ok {
        return Ok(());
    }
    Err(DistributedError::Incompatible {
        what: format!("stream {}", wanted.name),
        expected: format!(
            "retention {:?} and subjects {:?}",
            wanted.retention, wanted.subjects
        ),
        found: format!(
            "retention {:?} and subjects {:?}",
            found.retention, found.subjects
        ),
    })
}
