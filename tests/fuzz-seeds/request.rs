//! The export the answers in `export/` were recorded for, shared by the test that records
//! them (tests/cli/export.rs) and the fuzzer that replays them (examples/fuzz), so the two
//! cannot drift apart: the seed incident's alert, step 60 s, 30 minutes of baseline (to keep
//! the files small).

use funnel::export::{AlertRequest, Source, client::Client, profile::Profile};
use funnel::model::{Instant, WindowSpec};

/// When the seed incident's alert fired.
pub const FIRED_AT: &str = "2024-05-01T14:02:00Z";

/// The export's source (answered by `client`) and request.
pub fn seed_export(client: Client) -> Result<(Source, AlertRequest), String> {
    let at = |t: &str| Instant::parse(t).ok_or_else(|| format!("bad seed time {t}"));
    let src = Source {
        client,
        profile: Profile::load("kube-prometheus")?,
        profile_name: "kube-prometheus".into(),
        namespace: None,
        step_ms: Some(60_000),
        concurrency: 4,
    };
    let req = AlertRequest {
        entity: "live-api".into(),
        metric: "latency_p99_ms".into(),
        fired_at: at(FIRED_AT)?,
        window: WindowSpec {
            baseline_start: Some(at("2024-05-01T13:17:00Z")?),
            ..WindowSpec::default()
        },
        id: None,
    };
    Ok((src, req))
}
