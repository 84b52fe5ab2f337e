//! funnel: an offline postmortem analyzer.
//!
//! The pipeline, one module per stage:
//! [`archive`] (ingest Parquet + incident.toml) → [`align`] (one grid, baseline and incident
//! windows) → [`detect`] (robust anomaly scores) → [`evidence`] (scope, trusted sources, the
//! facts rules read) → [`rules`] (the funnel: support or eliminate each hypothesis) →
//! [`verdict`] (ranking, root cause, trigger) → [`report`] (postmortem.md, charts, verdict.json).

#![warn(missing_docs)]
// Bad input is an error, never a panic; the few invariants left carry a justification.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod align;
#[cfg(test)]
mod architecture;
pub mod archive;
pub mod attach;
pub mod detect;
pub mod error;
pub mod evidence;
pub mod export;
mod hashing;
pub mod import;
pub mod logs;
pub mod mine;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod report;
pub mod rules;
pub mod sim;
pub mod stats;
pub mod verdict;

pub use error::{Error, Result};
