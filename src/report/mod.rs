//! Report: writes `verdict.json`, `postmortem.md` and `charts/*.svg` for one analysis.

pub mod bars;
pub mod charts;
pub mod logs;
pub mod markdown;
pub mod narrative;
pub mod remediation;
mod svg;

use std::fs;
use std::path::Path;

use crate::error::{Error, Result};
use crate::pipeline::Analysis;

/// What a report folder holds; an existing `out` holding anything else is not replaced.
pub const ENTRIES: [&str; 3] = ["postmortem.md", "verdict.json", "charts"];

/// Writes every output into `out`, atomically: the report is written beside `out` and renamed
/// onto it once complete, replacing a previous report whole (see [`crate::output`]). Returns
/// the chart files written.
///
/// # Errors
/// `out` holds files a report does not, a file cannot be written or a chart cannot be drawn.
pub fn write(an: &Analysis, out: &Path) -> Result<Vec<String>> {
    crate::output::check_owned(out, &ENTRIES).map_err(|e| Error::io(out, e))?;
    let staged = crate::output::Staged::dir(out).map_err(|e| Error::io(out, e))?;
    let written = write_into(an, staged.path())?;
    staged.commit().map_err(|e| Error::io(out, e))?;
    Ok(written)
}

fn write_into(an: &Analysis, out: &Path) -> Result<Vec<String>> {
    fs::create_dir_all(out.join("charts")).map_err(|e| Error::io(out, e))?;
    let verdict_path = out.join("verdict.json");
    fs::write(&verdict_path, an.verdict.to_json()).map_err(|e| Error::io(&verdict_path, e))?;
    let mut models = Vec::new();
    if let Some(c) = charts::alert(&an.ctx) {
        models.push(c);
    }
    if let Some(c) = charts::root_cause(&an.ctx, &an.verdict) {
        models.push(c);
    }
    if let Some(c) = charts::eliminated_storage(&an.ctx, &an.verdict) {
        models.push(c);
    }
    if let Some(c) = logs::chart(&an.ctx) {
        models.push(c);
    }
    let mut written = Vec::new();
    for c in &models {
        svg::render(c, &out.join("charts").join(&c.file))?;
        written.push((c.file.clone(), c.title.clone()));
    }
    let log_chart = written
        .iter()
        .find(|w| w.0 == "logs.svg")
        .map(|w| w.0.as_str());
    let log_section = logs::section(&an.ctx, log_chart);
    let md = markdown::render(an, &written, log_section.as_deref());
    let md_path = out.join("postmortem.md");
    fs::write(&md_path, md).map_err(|e| Error::io(&md_path, e))?;
    Ok(written.into_iter().map(|w| w.0).collect())
}
