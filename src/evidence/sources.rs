//! Data quality: when two collectors report the same series differently, decide which one to
//! trust and say why. Monitoring can lie (a mesh dashboard that under-reports its proxies), so
//! the choice rests on physics, not on which source is louder:
//!
//! 1. consistency with the entity's symptoms: a resource series that moves when the service is
//!    visibly degraded (or stays put when it is healthy) agrees with independent evidence;
//! 2. for CPU, tracking the request rate: proxy and app CPU follow load;
//! 3. collectors that read the container's own cgroup counters (cAdvisor, kubelet) over
//!    dashboards that derive or sample them.

use std::collections::BTreeMap;

use crate::align::Series;
use crate::detect::Score;
use crate::model::{Finding, SeriesKey};
use crate::stats;

/// The outcome of resolving one logical series reported by several sources.
#[derive(Debug, Clone)]
pub struct SourceChoice {
    /// The logical key (source = None).
    pub key: SeriesKey,
    /// The index of the trusted series.
    pub trusted: usize,
    /// The finding, when the sources disagree.
    pub finding: Option<Finding>,
}

const CGROUP_COLLECTORS: [&str; 4] = ["cadvisor", "kubelet", "cgroup", "container-runtime"];

/// Picks one series per logical key. `symptomatic(entity)` says whether the entity shows
/// symptoms; `requests(entity)` gives its request-rate series when there is one.
pub fn resolve<'a>(
    series: &[Series],
    scores: &[Score],
    symptomatic: &dyn Fn(&str) -> bool,
    requests: &dyn Fn(&str) -> Option<&'a [f64]>,
) -> Vec<SourceChoice> {
    let mut groups: BTreeMap<SeriesKey, Vec<usize>> = BTreeMap::new();
    for (i, s) in series.iter().enumerate() {
        let mut k = s.key.clone();
        k.source = None;
        groups.entry(k).or_default().push(i);
    }
    groups
        .into_iter()
        .map(|(key, members)| choose(key, &members, series, scores, symptomatic, requests))
        .collect()
}

fn choose<'a>(
    key: SeriesKey,
    members: &[usize],
    series: &[Series],
    scores: &[Score],
    symptomatic: &dyn Fn(&str) -> bool,
    requests: &dyn Fn(&str) -> Option<&'a [f64]>,
) -> SourceChoice {
    if members.len() == 1 {
        return SourceChoice {
            key,
            trusted: members[0],
            finding: None,
        };
    }
    let sick = symptomatic(&key.entity);
    let rps = if key.metric.starts_with("cpu") {
        requests(&key.entity)
    } else {
        None
    };
    let rated: Vec<Rated> = members
        .iter()
        .map(|&i| rate(i, series, scores, sick, rps))
        .collect();
    // The first of the best wins a tie.
    let best = rated
        .iter()
        .copied()
        .fold(rated[0], |b, x| if x.rating > b.rating { x } else { b });
    let finding = most_different(members, best.index, scores).map(|other| {
        let other = rated
            .iter()
            .find(|r| r.index == other)
            .copied()
            .unwrap_or(best);
        disagreement(&key, best, other, series, scores, sick)
    });
    SourceChoice {
        key,
        trusted: best.index,
        finding,
    }
}

/// One source's claim to be trusted.
#[derive(Debug, Clone, Copy)]
struct Rated {
    /// Higher is more trusted; see the module doc for the criteria, in their order of weight.
    rating: f64,
    /// Index into the series.
    index: usize,
    /// Correlation with the request rate (CPU series with a request rate only).
    corr: Option<f64>,
}

/// Rates series `i`: 2 for agreeing with the entity's symptoms, plus its correlation with the
/// request rate, plus 0.5 for a cgroup collector, plus up to 0.001 for a longer baseline (the
/// tie-breaker).
fn rate(i: usize, series: &[Series], scores: &[Score], sick: bool, rps: Option<&[f64]>) -> Rated {
    let sc = &scores[i];
    let moved = sc.up(0.2) || sc.down(0.2);
    let mut r = if moved == sick { 2.0 } else { 0.0 };
    let corr = rps.and_then(|q| stats::correlation(&series[i].values, q));
    r += corr.unwrap_or(0.0);
    if reads_cgroup(&source_name(series, i)) {
        r += 0.5;
    }
    r += 1e-3 * sc.base_n.min(1000) as f64 / 1000.0;
    Rated {
        rating: r,
        index: i,
        corr,
    }
}

/// The source whose incident level differs most from the trusted one's, when by over 25 %.
fn most_different(members: &[usize], trusted: usize, scores: &[Score]) -> Option<usize> {
    let t = &scores[trusted];
    let mut worst: Option<(f64, usize)> = None;
    for &i in members.iter().filter(|&&i| i != trusted) {
        let o = &scores[i];
        let scale = t.level.abs().max(o.level.abs()).max(1e-9);
        let gap = (t.level - o.level).abs() / scale;
        if gap > 0.25 && worst.is_none_or(|(g, _)| gap > g) {
            worst = Some((gap, i));
        }
    }
    worst.map(|(_, i)| i)
}

fn source_name(series: &[Series], i: usize) -> String {
    series[i]
        .key
        .source
        .clone()
        .unwrap_or_else(|| "unlabelled".into())
}

fn reads_cgroup(source: &str) -> bool {
    CGROUP_COLLECTORS
        .iter()
        .any(|c| source.to_ascii_lowercase().contains(c))
}

/// The `metric-disagreement` finding: what each source reports and why `trusted` won.
fn disagreement(
    key: &SeriesKey,
    trusted: Rated,
    other: Rated,
    series: &[Series],
    scores: &[Score],
    sick: bool,
) -> Finding {
    let (t, o) = (&scores[trusted.index], &scores[other.index]);
    let (tn, on) = (
        source_name(series, trusted.index),
        source_name(series, other.index),
    );
    // Independent reasons first: agreeing with the latency evidence alone would be
    // circular, since that evidence is what the series is used to explain.
    let mut why = Vec::new();
    if reads_cgroup(&tn) {
        why.push("it reads the container's own cgroup counters".into());
    }
    if let (Some(ct), Some(co)) = (trusted.corr, other.corr) {
        why.push(format!(
            "it tracks the request rate (r = {ct:.2} against {co:.2})"
        ));
    }
    if (t.up(0.2) || t.down(0.2)) == sick {
        why.push(if sick {
            format!(
                "it agrees with the latency evidence ({} is degraded and this series moved {})",
                key.entity,
                t.pct()
            )
        } else {
            format!(
                "it agrees with the other evidence ({} is healthy)",
                key.entity
            )
        });
    }
    if why.is_empty() {
        why.push("it has the more complete record".into());
    }
    Finding {
        kind: "metric-disagreement".into(),
        entity: key.entity.clone(),
        detail: format!(
            "{}: `{on}` reports {} (median, incident window) where `{tn}` reports {} (baseline medians {} vs {}); trusted `{tn}` because {}",
            plain_label(key),
            fmt_val(&key.metric, o.level),
            fmt_val(&key.metric, t.level),
            fmt_val(&key.metric, o.base),
            fmt_val(&key.metric, t.base),
            why.join(" and ")
        ),
    }
}

fn plain_label(k: &SeriesKey) -> String {
    let scope = k
        .pod
        .clone()
        .unwrap_or_else(|| format!("{} (all pods)", k.entity));
    format!("{} {} {}", scope, k.container, k.metric)
}

/// A short human name for a vocabulary metric ("server latency", "network errors").
#[must_use]
pub fn metric_label(metric: &str) -> String {
    match metric {
        "latency_p99_ms" => "p99 latency".into(),
        "latency_avg_ms" => "average latency".into(),
        "requests_per_s" => "requests".into(),
        "errors_per_s" => "errors".into(),
        "server_latency_ms" => "server latency".into(),
        "slow_queries_per_s" => "slow queries".into(),
        "cpu_utilization" => "CPU".into(),
        "net_errors_per_s" => "network errors".into(),
        "dep_latency_ms" => "client-side latency".into(),
        "dep_errors_per_s" => "client-side errors".into(),
        "cpu_cores" => "CPU".into(),
        "mem_rss_bytes" => "RSS".into(),
        other => other.replace('_', " "),
    }
}

/// Milliseconds with the precision their size needs, for the report: a sub-millisecond Redis
/// call is `0.40 ms`, never `0 ms`, and a 6.1 ms MySQL call keeps its tenth.
#[must_use]
pub fn fmt_millis(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 || a >= 10.0 {
        format!("{v:.0} ms")
    } else if a >= 1.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.2} ms")
    }
}

/// A value with the unit its metric name implies, for evidence text.
#[must_use]
pub fn fmt_val(metric: &str, v: f64) -> String {
    fmt_unit(metric, v, fmt_millis)
}

fn fmt_unit(metric: &str, v: f64, millis: fn(f64) -> String) -> String {
    if !v.is_finite() {
        return "no data".into();
    }
    match crate::model::vocab::dimension(metric) {
        Some(crate::model::vocab::Dimension::Millis) => millis(v),
        Some(crate::model::vocab::Dimension::Cores) => format!("{v:.2} cores"),
        Some(crate::model::vocab::Dimension::Bytes) => format!("{:.0} MiB", v / 1_048_576.0),
        Some(crate::model::vocab::Dimension::Ratio) => format!("{:.0}%", v * 100.0),
        Some(crate::model::vocab::Dimension::Rate) if v.abs() >= 100.0 => format!("{v:.0}/s"),
        Some(crate::model::vocab::Dimension::Rate) => format!("{v:.1}/s"),
        // Outside the vocabulary, a name ending in `_ms` still says its unit.
        None if metric.ends_with("_ms") => millis(v),
        Some(crate::model::vocab::Dimension::Count) | None => {
            if v.abs() >= 100.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.2}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{SourceChoice, fmt_millis, fmt_val, resolve};
    use crate::align::Series;
    use crate::detect::score;
    use crate::model::SeriesKey;

    /// 40 one-minute buckets: baseline 0..20, incident 20..40, a step at bucket 24 when
    /// `to` differs from `from`, with a small deterministic wobble so MAD is not zero.
    fn values(from: f64, to: f64) -> Vec<f64> {
        (0..40)
            .map(|i| {
                let w = 1.0 + 0.02 * (((i * 7) % 5) as f64 - 2.0) / 2.0;
                if i >= 24 { to * w } else { from * w }
            })
            .collect()
    }

    fn series(metric: &str, source: &str, v: Vec<f64>) -> Series {
        let key = SeriesKey {
            source: Some(source.into()),
            ..SeriesKey::entity("api", metric)
        };
        Series { key, values: v }
    }

    fn choose(all: &[Series], sick: bool, rps: Option<&[f64]>) -> SourceChoice {
        let scores: Vec<_> = all
            .iter()
            .map(|s| score(&s.values, 0..20, 20..40, 60_000))
            .collect();
        let mut out = resolve(all, &scores, &|_| sick, &|_| rps);
        assert_eq!(out.len(), 1, "one logical series");
        out.remove(0)
    }

    fn trusted(all: &[Series], c: &SourceChoice) -> String {
        all[c.trusted].key.source.clone().unwrap_or_default()
    }

    #[test]
    fn one_source_is_trusted_without_a_finding() {
        let all = [series("mem_rss_bytes", "prom", values(1.0, 2.0))];
        let c = choose(&all, true, None);
        assert_eq!((c.trusted, c.finding.is_none()), (0, true));
    }

    #[test]
    fn a_degraded_service_trusts_the_source_that_moved() {
        let all = [
            series("mem_rss_bytes", "dash", values(1.0, 1.0)),
            series("mem_rss_bytes", "prom", values(1.0, 2.0)),
        ];
        let c = choose(&all, true, None);
        assert_eq!(trusted(&all, &c), "prom");
        let f = c.finding.expect("the sources disagree");
        assert!(
            f.detail.contains("agrees with the latency evidence"),
            "{}",
            f.detail
        );
    }

    #[test]
    fn a_healthy_service_trusts_the_source_that_stayed_put() {
        let all = [
            series("mem_rss_bytes", "dash", values(1.0, 1.0)),
            series("mem_rss_bytes", "prom", values(1.0, 2.0)),
        ];
        assert_eq!(trusted(&all, &choose(&all, false, None)), "dash");
    }

    #[test]
    fn cpu_that_tracks_the_request_rate_wins() {
        let rps: Vec<f64> = (0..40).map(|i| 100.0 + 10.0 * (i % 7) as f64).collect();
        let tracking: Vec<f64> = rps.iter().map(|r| 0.01 * r).collect();
        // Under-reported and unrelated to load, as a dashboard sampling a capped proxy.
        let capped: Vec<f64> = (0..40).map(|i| 0.6 + 0.05 * ((i * 3) % 4) as f64).collect();
        let all = [
            series("cpu_cores", "dash", capped),
            series("cpu_cores", "prom", tracking),
        ];
        let c = choose(&all, false, Some(&rps));
        assert_eq!(trusted(&all, &c), "prom");
        let f = c.finding.expect("the sources disagree");
        assert!(f.detail.contains("tracks the request rate"), "{}", f.detail);
    }

    #[test]
    fn cgroup_counters_win_when_the_physics_does_not_decide() {
        let all = [
            series("cpu_cores", "mesh-dashboard", values(1.0, 1.0)),
            series("cpu_cores", "cadvisor", values(2.0, 2.0)),
        ];
        let c = choose(&all, false, None);
        assert_eq!(trusted(&all, &c), "cadvisor");
        let f = c.finding.expect("a 2x gap is a disagreement");
        assert!(f.detail.contains("cgroup counters"), "{}", f.detail);
    }

    #[test]
    fn sources_within_a_quarter_do_not_disagree() {
        let all = [
            series("cpu_cores", "a", values(1.0, 1.0)),
            series("cpu_cores", "b", values(1.1, 1.1)),
        ];
        assert!(choose(&all, false, None).finding.is_none());
    }

    #[test]
    fn millis_keep_the_precision_their_size_needs() {
        assert_eq!(fmt_millis(0.404), "0.40 ms");
        assert_eq!(fmt_millis(6.12), "6.1 ms");
        assert_eq!(fmt_millis(64.4), "64 ms");
        assert_eq!(fmt_millis(0.0), "0 ms");
        assert_eq!(fmt_val("latency_p99_ms", 0.42), "0.42 ms");
        assert_eq!(fmt_val("latency_p99_ms", 6.12), "6.1 ms");
        // A unitless count is never dressed as milliseconds.
        assert_eq!(fmt_val("goroutines", 3400.0), "3400");
    }
}
