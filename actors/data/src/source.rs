//! Reading a data file into memory: the format from its extension, gzip undone.

use std::io::Read;
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::DataError;

/// The row format of a data file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    /// A JSON array of arrays (freqtrade).
    Json,
    /// CSV with a header line.
    Csv,
}

/// The format of `path` and whether it is gzipped, from its extension (case-insensitive).
pub(super) fn format_of(path: &Path) -> Result<(Format, bool), DataError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let (name, gzipped) = match name.strip_suffix(".gz") {
        Some(inner) => (inner, true),
        None => (name.as_str(), false),
    };
    if name.ends_with(".json") {
        Ok((Format::Json, gzipped))
    } else if name.ends_with(".csv") {
        Ok((Format::Csv, gzipped))
    } else {
        Err(DataError::UnknownFormat {
            path: path.to_path_buf(),
        })
    }
}

/// The whole text of `path`, decompressed if `gzipped`. It must be UTF-8.
pub(super) fn read_text(path: &Path, gzipped: bool) -> Result<String, DataError> {
    let io = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let bytes = std::fs::read(path).map_err(io)?;
    let bytes = if gzipped {
        let mut out = Vec::with_capacity(bytes.len() * 8);
        MultiGzDecoder::new(bytes.as_slice())
            .read_to_end(&mut out)
            .map_err(io)?;
        out
    } else {
        bytes
    };
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        DataError::parse(
            path,
            None,
            format!("not UTF-8 text (invalid byte at offset {at})"),
        )
    })
}
