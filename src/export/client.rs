//! The Prometheus HTTP API client: `query_range` split into chunks under the servers'
//! points-per-series limits, `query` for raw samples, errors that name the URL and the query.
//! Credentials come from the environment and never appear in a message.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant as Clock;

use serde::Deserialize;

use super::ExportError;

/// Points per series per request: under Prometheus' 11,000 (VictoriaMetrics allows 30,000).
pub const MAX_POINTS: i64 = 10_000;

/// Environment variables holding credentials.
pub const ENV_TOKEN: &str = "FUNNEL_PROM_BEARER_TOKEN";
/// Basic-auth user.
pub const ENV_USER: &str = "FUNNEL_PROM_USER";
/// Basic-auth password.
pub const ENV_PASSWORD: &str = "FUNNEL_PROM_PASSWORD";

/// One result series: labels and (epoch ms, value) points, non-finite values dropped.
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// Labels, `__name__` included when the server kept it.
    pub labels: BTreeMap<String, String>,
    /// Points in time order.
    pub points: Vec<(i64, f64)>,
}

/// Counters for the summary and the benchmark.
#[derive(Debug, Default)]
pub struct Stats {
    /// HTTP requests sent.
    pub requests: AtomicU64,
    /// Response bytes.
    pub bytes: AtomicU64,
    /// Microseconds waiting for responses (summed over concurrent requests).
    pub wait_us: AtomicU64,
    /// Microseconds parsing JSON.
    pub parse_us: AtomicU64,
}

#[derive(Debug, Clone)]
enum Auth {
    None,
    Bearer(String),
    Basic(String, String),
}

/// A Prometheus-compatible endpoint.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    headers: Vec<(String, String)>,
    auth: Auth,
    /// Counters.
    pub stats: Arc<Stats>,
}

#[derive(Deserialize)]
struct Response {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    result: Vec<RawSeries>,
}

#[derive(Deserialize)]
struct RawSeries {
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<(f64, String)>,
}

impl Client {
    /// A client for `url` (path prefix kept), with extra headers and credentials from the
    /// environment.
    ///
    /// # Errors
    /// A URL that is not http(s), or that carries credentials.
    pub fn new(url: &str, headers: &[(String, String)]) -> Result<Client, ExportError> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| ExportError::Input(format!("--url: not a URL ({e})")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ExportError::Input(format!(
                "--url: expected an http:// or https:// URL, got scheme `{}`",
                parsed.scheme()
            )));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(ExportError::Input(format!(
                "--url: credentials in the URL are not accepted; set {ENV_TOKEN}, or {ENV_USER} and {ENV_PASSWORD}"
            )));
        }
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let auth = match (env(ENV_TOKEN), env(ENV_USER)) {
            (Some(t), _) => Auth::Bearer(t),
            (None, Some(u)) => Auth::Basic(u, env(ENV_PASSWORD).unwrap_or_default()),
            (None, None) => Auth::None,
        };
        let http = reqwest::Client::builder()
            .build()
            .map_err(|e| ExportError::Input(format!("HTTP client: {e}")))?;
        Ok(Client {
            http,
            base: url.trim_end_matches('/').to_string(),
            headers: headers.to_vec(),
            auth,
            stats: Arc::default(),
        })
    }

    /// The URL as given (it never holds credentials).
    #[must_use]
    pub fn url(&self) -> &str {
        &self.base
    }

    /// `query_range` over [start, end] (ms, both evaluated) at `step` ms, in chunks.
    ///
    /// # Errors
    /// The server is unreachable or answers an error.
    pub async fn query_range(
        &self,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Vec<Series>, ExportError> {
        let mut by_labels: BTreeMap<BTreeMap<String, String>, Vec<(i64, f64)>> = BTreeMap::new();
        let mut from = start;
        let mut points = MAX_POINTS;
        while from <= end {
            let to = (from + (points - 1) * step).min(end);
            let form = [
                ("query", query.to_string()),
                ("start", secs(from)),
                ("end", secs(to)),
                ("step", secs(step)),
            ];
            match self.post("/api/v1/query_range", query, &form).await {
                Ok(answer) => {
                    for s in answer {
                        by_labels.entry(s.labels).or_default().extend(s.points);
                    }
                    from = to + step;
                }
                // Over the server's samples-per-query limit (Prometheus' --query.max-samples,
                // 50 M by default): ask for half the range at a time.
                Err(e) if points > 1 && too_many_samples(&e) => points = (to - from) / step / 2 + 1,
                Err(e) => return Err(e),
            }
        }
        Ok(by_labels
            .into_iter()
            .map(|(labels, points)| Series { labels, points })
            .collect())
    }

    /// An instant query at `t` ms; a range selector gives raw samples.
    ///
    /// # Errors
    /// The server is unreachable or answers an error.
    pub async fn query(&self, query: &str, t: i64) -> Result<Vec<Series>, ExportError> {
        let form = [("query", query.to_string()), ("time", secs(t))];
        self.post("/api/v1/query", query, &form).await
    }

    async fn post(
        &self,
        path: &str,
        query: &str,
        form: &[(&str, String)],
    ) -> Result<Vec<Series>, ExportError> {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.post(&url).form(form);
        for (k, v) in &self.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        req = match &self.auth {
            Auth::None => req,
            Auth::Bearer(t) => req.bearer_auth(t),
            Auth::Basic(u, p) => req.basic_auth(u, Some(p)),
        };
        let clock = Clock::now();
        let err = |message: String| ExportError::Server {
            url: url.clone(),
            query: query.to_string(),
            message,
        };
        let resp = req.send().await.map_err(|e| {
            err(format!(
                "cannot reach the server ({})",
                root_cause(&e as &dyn std::error::Error)
            ))
        })?;
        let status = resp.status();
        let body = resp
            .bytes()
            .await
            .map_err(|e| err(format!("reading the response: {e}")))?;
        let st = &self.stats;
        st.requests.fetch_add(1, Ordering::Relaxed);
        st.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
        st.wait_us
            .fetch_add(clock.elapsed().as_micros() as u64, Ordering::Relaxed);
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Err(ExportError::Auth {
                url,
                status: status.as_u16(),
            });
        }
        let clock = Clock::now();
        let parsed: Result<Response, _> = serde_json::from_slice(&body);
        st.parse_us
            .fetch_add(clock.elapsed().as_micros() as u64, Ordering::Relaxed);
        let parsed = match parsed {
            Ok(r) => r,
            Err(e) if status.is_success() => {
                return Err(err(format!("not a Prometheus API response ({e})")));
            }
            Err(_) => {
                let text = String::from_utf8_lossy(&body);
                let text: String = text.trim().chars().take(300).collect();
                return Err(err(format!("HTTP {status}: {text}")));
            }
        };
        if parsed.status != "success" || !status.is_success() {
            return Err(err(format!(
                "HTTP {}: {}: {}",
                status.as_u16(),
                parsed.error_type.as_deref().unwrap_or("error"),
                parsed.error.as_deref().unwrap_or("(no message)")
            )));
        }
        let data = parsed
            .data
            .ok_or_else(|| err("a success response without data".into()))?;
        if data.result_type != "matrix" {
            return Err(err(format!(
                "expected a matrix result, got `{}`",
                data.result_type
            )));
        }
        Ok(data.result.into_iter().map(convert).collect())
    }
}

fn convert(r: RawSeries) -> Series {
    let points = r
        .values
        .into_iter()
        .filter_map(|(t, v)| {
            let v: f64 = v.parse().ok()?;
            v.is_finite().then_some(((t * 1000.0).round() as i64, v))
        })
        .collect();
    Series {
        labels: r.metric,
        points,
    }
}

/// The server refused a query for the samples it would load, not for what it asks.
fn too_many_samples(e: &ExportError) -> bool {
    matches!(e, ExportError::Server { message, .. } if message.contains("too many samples"))
}

fn secs(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

fn root_cause(e: &dyn std::error::Error) -> String {
    let mut e = e;
    while let Some(s) = e.source() {
        e = s;
    }
    e.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_values_are_missing_not_zero() {
        let r: RawSeries = serde_json::from_str(
            r#"{"metric":{"a":"b"},"values":[[1.5,"1"],[2,"NaN"],[3,"+Inf"],[4,"-Inf"],[5.001,"0"]]}"#,
        )
        .unwrap();
        assert_eq!(convert(r).points, [(1500, 1.0), (5001, 0.0)]);
    }

    #[test]
    fn a_query_over_the_sample_limit_is_split_not_fatal() {
        let err = |m: &str| ExportError::Server {
            url: "u".into(),
            query: "q".into(),
            message: m.into(),
        };
        assert!(too_many_samples(&err(
            "HTTP 422: execution: query processing would load too many samples into memory in query execution"
        )));
        assert!(!too_many_samples(&err("HTTP 400: bad_data: parse error")));
    }

    #[test]
    fn credentials_in_the_url_are_refused_without_echoing_them() {
        let e = Client::new("http://bob:hunter2@127.0.0.1:9", &[]).unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert_eq!(secs(1_714_570_260_500), "1714570260.500");
    }
}
