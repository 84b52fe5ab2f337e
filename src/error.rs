//! The library's error type. Every variant names the file it is about; the binary maps all of
//! them to exit code 2 (bad input or unwritable output), never to a panic.

use std::path::PathBuf;

/// A `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong between an archive on disk and a written report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}: {err}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error (in the message, not chained, so `{:#}` prints it once).
        err: std::io::Error,
    },
    /// A Parquet file is corrupt, truncated or not Parquet at all.
    #[error("{}: not a readable Parquet file ({message})", path.display())]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What polars reported.
        message: String,
    },
    /// A column is missing or has the wrong type.
    #[error("{}: column `{column}`: {message}", path.display())]
    Column {
        /// The file.
        path: PathBuf,
        /// The column as the file names it.
        column: String,
        /// What was found and what was expected.
        message: String,
    },
    /// Any other problem with the input (incident.toml, an empty window, a missing folder).
    #[error("{}: {message}", path.display())]
    Input {
        /// The file or folder.
        path: PathBuf,
        /// What is wrong and what was expected.
        message: String,
    },
    /// A chart could not be drawn.
    #[error("chart {}: {message}", path.display())]
    Chart {
        /// The SVG file.
        path: PathBuf,
        /// What plotters reported.
        message: String,
    },
}

impl Error {
    pub(crate) fn input(path: impl Into<PathBuf>, message: impl Into<String>) -> Error {
        Error::Input {
            path: path.into(),
            message: message.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, err: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            err,
        }
    }
}
