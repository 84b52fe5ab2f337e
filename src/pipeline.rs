//! The whole analysis of one archive, from folder to verdict: the library's main entry point.

use std::path::Path;

use crate::error::Result;
use crate::evidence::Context;
use crate::verdict::Verdict;
use crate::{align, archive, rules, verdict};

/// Analysis options.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Grid step in ms; default the median sampling interval.
    pub step_ms: Option<i64>,
    /// Refuse an archive estimated to need more bytes than this ([`archive::budget`]).
    pub max_memory: Option<u64>,
}

/// What was read, for the report header.
#[derive(Debug, Clone)]
pub struct SourceInfo {
    /// The archive path as given.
    pub dir: String,
    /// Metric files read.
    pub metric_files: usize,
    /// Metric samples inside the windows.
    pub metric_rows: usize,
    /// Log lines inside the windows.
    pub log_lines: usize,
    /// Event rows read (0 when the archive has no events table).
    pub events: usize,
}

/// One analysed incident.
#[derive(Debug)]
pub struct Analysis {
    /// The evidence.
    pub ctx: Context,
    /// The verdict.
    pub verdict: Verdict,
    /// What was read.
    pub source: SourceInfo,
}

/// Debug builds only: `FUNNEL_INJECT_PANIC=TEXT` panics inside a rayon task while analysing an
/// archive whose path contains TEXT, so the CLI tests can prove that a bug anywhere ends in
/// exit code 101 with a bug-report message. Release builds do not carry it.
#[cfg(debug_assertions)]
fn inject_panic(dir: &Path) {
    let Some(t) = std::env::var_os("FUNNEL_INJECT_PANIC") else {
        return;
    };
    if dir.to_string_lossy().contains(&*t.to_string_lossy()) {
        rayon::join(
            || (),
            || panic!("injected panic (FUNNEL_INJECT_PANIC) for {}", dir.display()),
        );
    }
}

/// Reads, aligns, scores and judges one archive.
///
/// # Errors
/// Any bad input, named by file and column.
pub fn analyze(dir: &Path, opts: &Options) -> Result<Analysis> {
    #[cfg(debug_assertions)]
    inject_panic(dir);
    let mut clock = Phases::new();
    if let Some(limit) = opts.max_memory {
        archive::budget::check(dir, limit)?;
    }
    let a = archive::load(dir)?;
    clock.lap("read");
    let mut aligned = align::align(&a.metrics.series, &a.windows, opts.step_ms);
    align::add_entity_rollups(&mut aligned);
    clock.lap("align");
    let source = SourceInfo {
        dir: dir.display().to_string(),
        metric_files: a.metrics.files,
        metric_rows: a.metrics.rows,
        log_lines: a.logs.len(),
        events: a.events.as_ref().map_or(0, Vec::len),
    };
    let lines = a.logs.lines();
    let mut logs = crate::logs::evidence::analyze(
        &lines,
        &aligned.grid,
        &aligned.baseline,
        &aligned.incident,
        aligned.alert,
    );
    let pending = logs.pending_samples();
    logs.fill_samples(&a.logs.messages(&pending)?);
    clock.lap("logs");
    let ctx = Context::build(
        a.id,
        a.spec,
        a.windows,
        aligned,
        &a.metrics.pod_nodes,
        a.events,
        logs,
    );
    clock.lap("evidence");
    let hyps = rules::enumerate(&ctx);
    let outcomes = rules::run_all(&ctx, &hyps);
    clock.lap("rules");
    let mut verdict = verdict::decide(&ctx, hyps, outcomes);
    verdict.attach_outage(&ctx);
    clock.lap("verdict");
    clock.report(&ctx.id);
    Ok(Analysis {
        ctx,
        verdict,
        source,
    })
}

/// Wall time per phase, printed to stderr when `FUNNEL_TIMINGS` is set: where an analysis
/// spends its time, measured on the build and the archives at hand rather than guessed.
struct Phases {
    on: bool,
    last: std::time::Instant,
    laps: Vec<(&'static str, f64)>,
}

impl Phases {
    fn new() -> Phases {
        Phases {
            on: std::env::var_os("FUNNEL_TIMINGS").is_some(),
            last: std::time::Instant::now(),
            laps: Vec::new(),
        }
    }

    fn lap(&mut self, name: &'static str) {
        if self.on {
            let now = std::time::Instant::now();
            self.laps
                .push((name, now.duration_since(self.last).as_secs_f64() * 1e3));
            self.last = now;
        }
    }

    fn report(&self, id: &str) {
        if self.on {
            let parts: Vec<String> = self
                .laps
                .iter()
                .map(|(n, ms)| format!("{n} {ms:.1} ms"))
                .collect();
            // A diagnostic: a closed stderr must not end the analysis.
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr().lock(),
                "timings {id}: {}",
                parts.join(", ")
            );
        }
    }
}
