//! The metric vocabulary of archive format v1, with canonical units and unit conversion.
//!
//! Names outside the vocabulary are kept but reach rules only through `[metric_aliases]`.

/// The physical dimension of a vocabulary metric; decides which unit names convert to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    /// Milliseconds.
    Millis,
    /// Events per second.
    Rate,
    /// A plain count.
    Count,
    /// CPU cores.
    Cores,
    /// Bytes.
    Bytes,
    /// A 0..1 fraction.
    Ratio,
}

impl Dimension {
    /// The canonical unit's name, as the spec writes it.
    #[must_use]
    pub fn unit(self) -> &'static str {
        match self {
            Dimension::Millis => "ms",
            Dimension::Rate => "1/s",
            Dimension::Count => "count",
            Dimension::Cores => "cores",
            Dimension::Bytes => "bytes",
            Dimension::Ratio => "0..1",
        }
    }

    /// Unit names accepted for this dimension, with the factor to the canonical unit.
    #[must_use]
    pub fn units(self) -> &'static [(&'static str, f64)] {
        match self {
            Dimension::Millis => &[
                ("ms", 1.0),
                ("s", 1000.0),
                ("us", 1e-3),
                ("µs", 1e-3),
                ("ns", 1e-6),
                ("min", 60_000.0),
            ],
            Dimension::Rate => &[
                ("1/s", 1.0),
                ("per_s", 1.0),
                ("rps", 1.0),
                ("ops", 1.0),
                ("1/min", 1.0 / 60.0),
                ("per_min", 1.0 / 60.0),
            ],
            Dimension::Count => &[("count", 1.0), ("1", 1.0)],
            Dimension::Cores => &[("cores", 1.0), ("m", 1e-3), ("millicores", 1e-3)],
            Dimension::Bytes => &[
                ("bytes", 1.0),
                ("B", 1.0),
                ("KiB", 1024.0),
                ("Ki", 1024.0),
                ("MiB", 1_048_576.0),
                ("Mi", 1_048_576.0),
                ("GiB", 1_073_741_824.0),
                ("Gi", 1_073_741_824.0),
                ("KB", 1e3),
                ("MB", 1e6),
                ("GB", 1e9),
            ],
            Dimension::Ratio => &[
                ("0..1", 1.0),
                ("ratio", 1.0),
                ("%", 0.01),
                ("percent", 0.01),
            ],
        }
    }
}

/// Every vocabulary metric and its dimension.
pub const VOCABULARY: &[(&str, Dimension)] = &[
    ("latency_avg_ms", Dimension::Millis),
    ("latency_p99_ms", Dimension::Millis),
    ("requests_per_s", Dimension::Rate),
    ("errors_per_s", Dimension::Rate),
    ("goroutines", Dimension::Count),
    ("cpu_cores", Dimension::Cores),
    ("cpu_limit_cores", Dimension::Cores),
    ("mem_rss_bytes", Dimension::Bytes),
    ("mem_cache_bytes", Dimension::Bytes),
    ("mem_limit_bytes", Dimension::Bytes),
    ("restarts", Dimension::Count),
    ("dep_latency_ms", Dimension::Millis),
    ("dep_errors_per_s", Dimension::Rate),
    ("server_latency_ms", Dimension::Millis),
    ("slow_queries_per_s", Dimension::Rate),
    ("cpu_utilization", Dimension::Ratio),
    ("connections", Dimension::Count),
    ("net_errors_per_s", Dimension::Rate),
];

/// Whether a vocabulary metric is client-side: what an entity sees of the calls it makes
/// (`target` names the dependency called, when known).
#[must_use]
pub fn is_client_side(metric: &str) -> bool {
    matches!(metric, "dep_latency_ms" | "dep_errors_per_s")
}

/// The dimension of a vocabulary metric, or None for names outside it.
#[must_use]
pub fn dimension(metric: &str) -> Option<Dimension> {
    VOCABULARY
        .iter()
        .find(|(m, _)| *m == metric)
        .map(|(_, d)| *d)
}

/// The factor converting `unit` into the canonical unit of `metric`.
///
/// # Errors
/// The accepted unit names when `unit` is not one of them.
pub fn unit_factor(metric: &str, unit: &str) -> Result<f64, String> {
    let Some(dim) = dimension(metric) else {
        return Err(format!(
            "metric `{metric}` is outside the vocabulary, so no unit can be converted for it"
        ));
    };
    dim.units()
        .iter()
        .find(|(u, _)| *u == unit.trim())
        .map(|(_, f)| *f)
        .ok_or_else(|| {
            let names: Vec<&str> = dim.units().iter().map(|(u, _)| *u).collect();
            format!(
                "unknown unit `{unit}` for `{metric}` (expected one of: {})",
                names.join(", ")
            )
        })
}

/// True for latency-like symptom metrics a user would alert on.
#[must_use]
pub fn is_latency(metric: &str) -> bool {
    matches!(metric, "latency_avg_ms" | "latency_p99_ms")
}

/// The level a log level word names, in the format's spelling (`error`, `warn`, `info`,
/// `debug`), for the words loggers use in any case (`FATAL`, `Warning`, `notice`, `trace`, ...);
/// `None` for a word that names no level. Compared without copying: this runs once per line.
#[must_use]
pub fn log_level(word: &str) -> Option<&'static str> {
    const LEVELS: [(&str, &[&str]); 4] = [
        (
            "error",
            &[
                "error", "err", "fatal", "critical", "crit", "panic", "emerg", "alert",
            ],
        ),
        ("warn", &["warn", "warning"]),
        ("info", &["info", "notice", "information"]),
        ("debug", &["debug", "trace", "verbose"]),
    ];
    LEVELS
        .iter()
        .find(|(_, words)| words.iter().any(|w| w.eq_ignore_ascii_case(word)))
        .map(|(level, _)| *level)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_known_units() {
        assert_eq!(unit_factor("latency_p99_ms", "s"), Ok(1000.0));
        assert_eq!(unit_factor("cpu_cores", "m"), Ok(0.001));
        assert_eq!(unit_factor("mem_rss_bytes", "MiB"), Ok(1_048_576.0));
        assert_eq!(unit_factor("cpu_utilization", "%"), Ok(0.01));
    }

    #[test]
    fn unknown_units_name_the_accepted_ones() {
        let e = unit_factor("latency_p99_ms", "fortnights").unwrap_err();
        assert!(e.contains("fortnights") && e.contains("ms, s"), "{e}");
        assert!(unit_factor("my_metric", "s").is_err());
    }
}
