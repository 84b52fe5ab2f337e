//! Memory bound: an archive too large for the memory allowed is refused before it is read,
//! with a message saying how large, what limit and which flag, rather than being killed by the
//! OOM killer half-way.
//!
//! The estimate comes from the Parquet footers alone (row and column counts, uncompressed
//! sizes), so it costs one footer parse per file. What an analysis holds: every metric sample
//! as a series (timestamp and value) and again on the aligned grid, one index entry per log
//! line, the events, plus the largest single file decoded whole while it is read. It errs on
//! the large side: ~32 bytes per metric row, where the large-archive benchmark (20.4 M rows)
//! measured ~23 bytes of peak RSS per row; plus a fixed 32 MiB for what any analysis holds
//! (the bundled archive, 113k rows, peaks ~39 MiB above the process's start in a debug build).

use std::path::Path;

use polars::prelude::ParquetReader;
use polars::prelude::SerReader as _;

use super::{columns, guard};
use crate::error::Error;

/// Bytes per metric sample: a series' ts and value, and its aligned grid point.
const PER_SAMPLE: u64 = 2 * 16;
/// Bytes per log line in the log index, and per event row (strings held whole).
const PER_LOG: u64 = 16;
const PER_EVENT: u64 = 96;
/// Bytes per decoded cell (an Arrow value or view) while a file is read.
const PER_CELL: u64 = 16;
/// What any analysis holds whatever the archive's size: grids, evidence, report, charts.
const FIXED: u64 = 32 << 20;

/// What an archive will take in memory, estimated from its footers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Footprint {
    /// Rows claimed by the footers, all tables.
    pub rows: u64,
    /// Parquet files whose footer was read.
    pub files: usize,
    /// Estimated peak bytes of an analysis.
    pub bytes: u64,
}

/// Estimates `dir`'s footprint. Files whose footer cannot be read are left out: reading the
/// archive reports them properly, by file.
///
/// # Errors
/// A table folder that cannot be listed.
pub fn footprint(dir: &Path) -> Result<Footprint, Error> {
    let mut f = Footprint {
        bytes: FIXED,
        ..Footprint::default()
    };
    let mut largest_file = 0u64;
    for (table, per_row) in [
        ("metrics", PER_SAMPLE),
        ("logs", PER_LOG),
        ("events", PER_EVENT),
    ] {
        let d = dir.join(table);
        if !d.is_dir() {
            continue;
        }
        for path in columns::parquet_files(&d)? {
            let Some((rows, cols, raw)) = footer(&path) else {
                continue;
            };
            f.rows = f.rows.saturating_add(rows);
            f.files += 1;
            f.bytes = f.bytes.saturating_add(rows.saturating_mul(per_row));
            let decoded = rows
                .saturating_mul(cols)
                .saturating_mul(PER_CELL)
                .saturating_add(raw);
            largest_file = largest_file.max(decoded);
        }
    }
    f.bytes = f.bytes.saturating_add(largest_file);
    Ok(f)
}

/// Rows, columns and uncompressed bytes from a file's footer; `None` if it does not parse.
fn footer(path: &Path) -> Option<(u64, u64, u64)> {
    let file = std::fs::File::open(path).ok()?;
    let mut reader = ParquetReader::new(file);
    guard::decode(path, || {
        let m = reader.get_metadata().map_err(columns::parquet_err(path))?;
        let raw: usize = m.row_groups.iter().map(|g| g.total_byte_size()).sum();
        let cols = m.schema_descr.columns().len();
        Ok((m.num_rows as u64, cols as u64, raw as u64))
    })
    .ok()
}

/// Refuses `dir` when its estimated footprint exceeds `limit` bytes.
///
/// # Errors
/// The archive is too large (named, with its size, the limit and the flag), or a table folder
/// cannot be listed.
pub fn check(dir: &Path, limit: u64) -> Result<(), Error> {
    let f = footprint(dir)?;
    if f.bytes <= limit {
        return Ok(());
    }
    Err(Error::input(
        dir,
        format!(
            "too large for the memory allowed: about {} to analyse ({} rows in {} Parquet files), over the {} limit; raise it with --max-memory (e.g. --max-memory {}M), or split the archive",
            human(f.bytes),
            f.rows,
            f.files,
            human(limit),
            (f.bytes.saturating_mul(5) / 4).div_ceil(1 << 20),
        ),
    ))
}

/// `512M`, `4G`, `1.5GiB`, `2000000` (bytes) → bytes.
///
/// # Errors
/// Not a number with an optional K/M/G/T suffix (powers of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    let num_end = lower
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(lower.len());
    let (num, unit) = lower.split_at(num_end);
    let shift = match unit.trim().trim_end_matches("ib").trim_end_matches('b') {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        _ => return Err(format!("`{t}` is not a size such as 512M or 4G")),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{t}` is not a size such as 512M or 4G"))?;
    let bytes = n * (1u64 << shift) as f64;
    if !bytes.is_finite() || bytes < 1.0 {
        return Err(format!("`{t}`: the limit must be at least one byte"));
    }
    Ok(bytes as u64)
}

/// Bytes as `1.5 GiB`.
#[must_use]
pub fn human(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// The memory this process may use: the smaller of the machine's RAM and its cgroup's limit;
/// `None` when neither can be read.
#[must_use]
pub fn machine_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        m.lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
    });
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok());
    match (meminfo, cgroup) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The default limit for each of `workers` analyses at once: half the memory, shared.
#[must_use]
pub fn default_limit(workers: usize) -> Option<u64> {
    machine_memory().map(|m| m / 2 / workers.max(1) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("4g"), Ok(4 << 30));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("2000"), Ok(2000));
        assert_eq!(parse_size("8 KB"), Ok(8 << 10));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("4X").is_err());
        assert!(parse_size("0").is_err());
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(3 << 29), "1.5 GiB");
    }

    #[test]
    fn the_bundled_archive_fits_a_gigabyte_and_not_a_megabyte() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/incidents/live-rt-jitter");
        let f = footprint(&dir).expect("footprint");
        assert_eq!(f.files, 4);
        assert!(f.rows > 100_000, "{f:?}");
        assert!(check(&dir, 1 << 30).is_ok());
        let msg = check(&dir, 1 << 20).err().map(|e| e.to_string());
        let msg = msg.unwrap_or_default();
        assert!(msg.contains("--max-memory"), "{msg}");
        assert!(msg.contains("1.0 MiB limit"), "{msg}");
        assert!(msg.contains("live-rt-jitter"), "{msg}");
    }
}
