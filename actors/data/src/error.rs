//! What can go wrong when reading or reshaping market data. Every message names the file.

use std::path::PathBuf;

use crate::model::Interval;

/// A market-data file that cannot be read, or candles that cannot be reshaped.
///
/// Bad individual candle rows are not errors: they are rejected and listed in the
/// [`QualityReport`](super::QualityReport). These errors stop the whole load.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened, read or decompressed.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file's structure is malformed (not a JSON array of rows, a broken CSV header, ...).
    #[error("{}{}: {message}", path.display(), row.map(|r| format!(": row {r}")).unwrap_or_default())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The 1-based data row, when the problem is inside one.
        row: Option<usize>,
        /// What is wrong, with the line and column where known.
        message: String,
    },
    /// The file holds no data rows at all.
    #[error("{} holds no data rows", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// No interval was given and none could be inferred from the timestamps.
    #[error(
        "cannot infer the candle interval of {}: it needs two rows with increasing timestamps; \
         pass the interval explicitly",
        path.display()
    )]
    UnknownInterval {
        /// The file.
        path: PathBuf,
    },
    /// The file name has no extension this loader understands.
    #[error(
        "{}: unknown data format: expected a .json, .csv, .json.gz or .csv.gz file",
        path.display()
    )]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// A resample target that is not a whole multiple of the source interval.
    #[error("cannot resample {from} candles into {to}: {to} is not a whole multiple of {from}")]
    NotAMultiple {
        /// The candles' interval.
        from: Interval,
        /// The requested interval.
        to: Interval,
    },
    /// Candles handed to a reshaping function that do not form one ordered series.
    #[error("cannot resample: {message}")]
    InvalidSeries {
        /// Which candle breaks the series, and how.
        message: String,
    },
}

impl DataError {
    /// A structural error in `path`, optionally inside data row `row`.
    pub(super) fn parse(
        path: &std::path::Path,
        row: Option<usize>,
        message: impl Into<String>,
    ) -> Self {
        DataError::Parse {
            path: path.to_path_buf(),
            row,
            message: message.into(),
        }
    }
}
