//! `funnel export prometheus`: archives from a Prometheus-compatible HTTP API.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};

use super::Exit;
use funnel::export::{self, AlertRequest, Source, client::Client, profile::Profile};
use funnel::model::{Instant, WindowSpec};

#[derive(Debug, Subcommand)]
pub(crate) enum ExportCommand {
    /// Export from Prometheus, VictoriaMetrics, Thanos Query or Mimir/Cortex (path prefix in
    /// --url).
    ///
    /// One alert: --alert ENTITY/METRIC --fired-at T. A history: --incidents QUERY --from T
    /// --to T writes one archive per firing episode (an episode ends after 5 minutes without
    /// the series) and skips archives already complete. Credentials come from the environment
    /// only: FUNNEL_PROM_BEARER_TOKEN, or FUNNEL_PROM_USER and FUNNEL_PROM_PASSWORD; they are
    /// never printed nor written. See docs/export.md.
    ///
    /// Example: funnel export prometheus --url http://127.0.0.1:9090 --alert
    /// live-api/latency_p99_ms --fired-at 2024-05-01T14:02:00Z --out archives/live-rt-jitter
    Prometheus(PromArgs),
}

#[derive(Debug, Args)]
pub(crate) struct PromArgs {
    /// The HTTP API root, e.g. http://127.0.0.1:9090 or https://mimir/prometheus.
    #[arg(long)]
    url: String,
    /// The alert, ENTITY/METRIC in the archive vocabulary.
    #[arg(long, requires = "fired_at", conflicts_with = "incidents")]
    alert: Option<String>,
    /// When the alert fired (RFC 3339).
    #[arg(long, value_parser = parse_time)]
    fired_at: Option<Instant>,
    /// Incident window start (default fired-at − 15 min).
    #[arg(long, value_parser = parse_time)]
    start: Option<Instant>,
    /// Incident window end (default fired-at + 15 min).
    #[arg(long, value_parser = parse_time)]
    end: Option<Instant>,
    /// Baseline start (default start − 60 min).
    #[arg(long, value_parser = parse_time)]
    baseline_start: Option<Instant>,
    /// A PromQL selector of firing alerts, e.g. 'ALERTS{alertstate="firing"}'.
    #[arg(long, requires_all = ["from", "to"])]
    incidents: Option<String>,
    /// Start of the --incidents range.
    #[arg(long, value_parser = parse_time)]
    from: Option<Instant>,
    /// End of the --incidents range.
    #[arg(long, value_parser = parse_time)]
    to: Option<Instant>,
    /// Only this namespace (a regex).
    #[arg(long)]
    namespace: Option<String>,
    /// Resolution, e.g. 15s; default the scrape interval found in the data.
    #[arg(long, value_parser = super::parse_duration)]
    step: Option<i64>,
    /// `kube-prometheus` (built in) or a profile TOML file.
    #[arg(long, default_value = "kube-prometheus")]
    profile: String,
    /// An extra HTTP header, 'Name: value' (repeatable), e.g. 'X-Scope-OrgID: team-a'.
    #[arg(long = "header")]
    headers: Vec<String>,
    /// Queries in flight at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// The archive folder (--alert) or the root of one folder per episode (--incidents).
    #[arg(long, short)]
    out: PathBuf,
}

fn parse_time(s: &str) -> Result<Instant, String> {
    Instant::parse(s).ok_or_else(|| format!("`{s}` is not a time such as 2024-05-01T14:02:00Z"))
}

fn header(h: &str) -> anyhow::Result<(String, String)> {
    let Some((k, v)) = h.split_once(':') else {
        bail!("--header `{h}`: expected 'Name: value'");
    };
    Ok((k.trim().to_string(), v.trim().to_string()))
}

pub(crate) fn run(cmd: &ExportCommand) -> anyhow::Result<Exit> {
    let ExportCommand::Prometheus(a) = cmd;
    let headers = a
        .headers
        .iter()
        .map(|h| header(h))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let profile = Profile::load(&a.profile).map_err(anyhow::Error::msg)?;
    let src = Source {
        client: Client::new(&a.url, &headers)?,
        profile,
        profile_name: a.profile.clone(),
        namespace: a.namespace.clone(),
        step_ms: a.step,
        concurrency: a.concurrency,
    };
    if let Some(q) = &a.incidents {
        return incidents(a, &src, q);
    }
    let Some(alert) = &a.alert else {
        bail!("give --alert ENTITY/METRIC --fired-at T, or --incidents QUERY --from T --to T");
    };
    let Some((entity, metric)) = alert.rsplit_once('/') else {
        bail!("--alert `{alert}`: expected ENTITY/METRIC, e.g. live-api/latency_p99_ms");
    };
    let req = AlertRequest {
        entity: entity.into(),
        metric: metric.into(),
        fired_at: a.fired_at.context("--fired-at is required with --alert")?,
        window: WindowSpec {
            start: a.start,
            end: a.end,
            baseline_start: a.baseline_start,
            baseline_end: None,
        },
        id: None,
    };
    let s = export::export_alert(&src, &req, &a.out)?;
    let secs = |ms: u64| ms as f64 / 1000.0;
    if s.unmapped_entries > 0 {
        say!(
            "warning: {} series of the profile's entry query name no gateway or service its \
             templates know; those gateways are left out of the topology",
            s.unmapped_entries
        )?;
    }
    say!(
        "exported {}: {} series, {} samples, {} events from {} queries ({} requests, {:.1} MB, \
         step {} s); time: queries {:.2} s (server wait {:.2} s and parsing {:.2} s, summed over \
         requests), rows {:.2} s, writing {:.2} s",
        a.out.display(),
        s.series,
        s.samples,
        s.events,
        s.queries,
        s.requests,
        s.bytes as f64 / 1e6,
        s.step_ms as f64 / 1000.0,
        secs(s.server_ms),
        secs(s.wait_ms),
        secs(s.parse_ms),
        secs(s.rows_ms),
        secs(s.write_ms),
    )?;
    let slowest: Vec<String> = s
        .slowest
        .iter()
        .map(|(ms, name)| format!("{name} {:.2} s", secs(*ms)))
        .collect();
    if !slowest.is_empty() {
        say!("slowest queries: {}", slowest.join(", "))?;
    }
    Ok(Exit::Ok)
}

fn incidents(a: &PromArgs, src: &Source, query: &str) -> anyhow::Result<Exit> {
    let (Some(from), Some(to)) = (a.from, a.to) else {
        bail!("--incidents needs --from and --to");
    };
    let pb = super::progress(0, "episodes");
    let s = export::incidents::export_incidents(src, query, from, to, &a.out, &|done, n| {
        pb.set_length(n as u64);
        pb.set_position(done as u64);
    })?;
    pb.finish_and_clear();
    for (name, err) in &s.failed {
        say!("{name}: {err}")?;
    }
    say!(
        "{} episodes: {} written, {} already complete, {} failed ({} samples)",
        s.written.len() + s.skipped.len() + s.failed.len(),
        s.written.len(),
        s.skipped.len(),
        s.failed.len(),
        s.totals.samples
    )?;
    Ok(if s.failed.is_empty() {
        Exit::Ok
    } else {
        Exit::Failures
    })
}
