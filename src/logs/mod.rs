//! Logs as evidence: a template miner (masks → fixed-depth clustering → two-pass labelling),
//! the Loghub `log_format` convention for plain-text files, and per-entity template statistics
//! against the baseline (new and surging templates, errors weighed higher). `label` runs the
//! same miner once over a whole export at import, so archives can carry each line's template.

mod distinct;
pub mod evidence;
mod fall;
pub mod file;
pub mod format;
mod header;
pub mod label;
pub mod masks;
pub mod miner;
pub mod words;

pub use evidence::{LogEvidence, TemplateStat};
