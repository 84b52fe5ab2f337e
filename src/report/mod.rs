//! Report: writes `verdict.json`, `postmortem.md` and `charts/*.svg` (each with a `.png` twin)
//! for one analysis.

pub mod actions;
pub mod bars;
pub mod charts;
pub mod condition;
pub mod confidence;
pub mod coverage;
pub mod font;
pub mod history;
pub mod impact;
pub mod logs;
pub mod markdown;
pub mod mechanism;
pub mod narrative;
pub mod png;
pub mod remediation;
pub mod sections;
mod svg;
pub mod timeline;
pub mod unknowns;

#[cfg(test)]
mod tests;

use std::fs;
use std::path::Path;

use crate::error::{Error, Result};
use crate::pipeline::Analysis;

/// What a report folder holds; an existing `out` holding anything else is not replaced.
pub const ENTRIES: [&str; 3] = ["postmortem.md", "verdict.json", "charts"];

/// Marks the timing model's onset and trigger start on every chart, and notes when the data
/// ends with the incident still ongoing.
fn mark_timing(an: &Analysis, models: &mut [charts::Chart]) {
    let t = an.verdict.timing(&an.ctx);
    for c in models {
        c.markers.retain(|m| m.1 != "onset");
        if let Some(o) = &t.onset {
            c.markers.push((o.at, "onset".into()));
        }
        if let Some(tr) = &t.trigger {
            c.markers.push((tr.at, "trigger".into()));
        }
        c.markers.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        if t.ongoing() {
            c.note = Some("data ends: incident still ongoing".into());
        }
    }
}

/// Writes every output into `out`, atomically: the report is written beside `out` and renamed
/// onto it once complete, replacing a previous report whole (see [`crate::output`]). Returns
/// the chart files written.
///
/// # Errors
/// `out` holds files a report does not, a file cannot be written or a chart cannot be drawn.
pub fn write(an: &Analysis, out: &Path) -> Result<Vec<String>> {
    write_with(an, out, None)
}

/// [`write`], with a "Seen before" section from a mined history when one is given.
///
/// # Errors
/// `out` holds files a report does not, a file cannot be written or a chart cannot be drawn.
pub fn write_with(
    an: &Analysis,
    out: &Path,
    history: Option<&history::History>,
) -> Result<Vec<String>> {
    crate::output::check_owned(out, &ENTRIES).map_err(|e| Error::io(out, e))?;
    let staged = crate::output::Staged::dir(out).map_err(|e| Error::io(out, e))?;
    let written = write_into(an, staged.path(), history)?;
    staged.commit().map_err(|e| Error::io(out, e))?;
    Ok(written)
}

fn write_into(
    an: &Analysis,
    out: &Path,
    history: Option<&history::History>,
) -> Result<Vec<String>> {
    fs::create_dir_all(out.join("charts")).map_err(|e| Error::io(out, e))?;
    let verdict_path = out.join("verdict.json");
    let json = an.verdict.to_json().map_err(|e| Error::Input {
        path: verdict_path.clone(),
        message: format!("cannot serialise the verdict: {e}"),
    })?;
    fs::write(&verdict_path, json).map_err(|e| Error::io(&verdict_path, e))?;
    let mut models = Vec::new();
    if let Some(c) = charts::alert(&an.ctx) {
        models.push(c);
    }
    if let Some(c) = charts::root_cause(&an.ctx, &an.verdict) {
        models.push(c);
    }
    models.extend(charts::eliminated_storage(&an.ctx, &an.verdict));
    if let Some(c) = logs::chart(&an.ctx) {
        models.push(c);
    }
    mark_timing(an, &mut models);
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
    let seen = history.map(|h| history::section(h, an, out));
    let md = markdown::render(an, &written, log_section.as_deref(), seen.as_deref());
    let md_path = out.join("postmortem.md");
    fs::write(&md_path, md).map_err(|e| Error::io(&md_path, e))?;
    Ok(written.into_iter().map(|w| w.0).collect())
}
