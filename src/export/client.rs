//! The Prometheus HTTP API client: `query_range` split into chunks under the servers'
//! points-per-series limits, `query` for raw samples, errors that name the URL and the query.
//! Credentials come from the environment and never appear in a message.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
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
    /// Replayed requests with no recorded answer (answered as empty): recorded answers that
    /// no longer match the profile's queries show here rather than as a quietly empty export.
    pub unanswered: AtomicU64,
}

#[derive(Debug, Clone)]
enum Auth {
    None,
    Bearer(String),
    Basic(String, String),
}

/// One answer of the server: what was asked (API path and query) and what came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// API path, e.g. `/api/v1/query_range`.
    pub path: String,
    /// The PromQL.
    pub query: String,
    /// HTTP status.
    pub status: u16,
    /// Response body.
    pub body: Vec<u8>,
}

impl Answer {
    /// As a file: `STATUS PATH`, the query as a JSON string, then the body, one line each.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let query = serde_json::Value::from(self.query.as_str());
        let mut out = format!("{} {}\n{query}\n", self.status, self.path).into_bytes();
        out.extend_from_slice(&self.body);
        out
    }

    /// The inverse of [`Answer::encode`]; None when the first two lines are not its shape.
    #[must_use]
    pub fn decode(bytes: &[u8]) -> Option<Answer> {
        let mut parts = bytes.splitn(3, |&b| b == b'\n');
        let head = std::str::from_utf8(parts.next()?).ok()?;
        let (status, path) = head.split_once(' ')?;
        let query: String = serde_json::from_slice(parts.next()?).ok()?;
        Some(Answer {
            path: path.to_string(),
            query,
            status: status.parse().ok()?,
            body: parts.next().unwrap_or_default().to_vec(),
        })
    }
}

/// Where answers come from.
#[derive(Debug, Clone)]
enum Transport {
    Http(reqwest::Client),
    /// Answers recorded before, looked up by path and query: an export replayed offline, as
    /// the fuzzer does with mutated answers.
    Replay(Arc<[Answer]>),
}

/// A Prometheus-compatible endpoint.
#[derive(Debug, Clone)]
pub struct Client {
    transport: Transport,
    base: String,
    headers: Vec<(String, String)>,
    auth: Auth,
    recorder: Option<Arc<Mutex<Vec<Answer>>>>,
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
            transport: Transport::Http(http),
            base: url.trim_end_matches('/').to_string(),
            headers: headers.to_vec(),
            auth,
            recorder: None,
            stats: Arc::default(),
        })
    }

    /// A client that sends nothing: each query gets the first of `answers` with its path and
    /// query, and a query with none gets an empty result (counted in `stats.unanswered`).
    /// `url` only names the source in messages.
    #[must_use]
    pub fn replay(url: &str, answers: Vec<Answer>) -> Client {
        Client {
            transport: Transport::Replay(answers.into()),
            base: url.trim_end_matches('/').to_string(),
            headers: Vec::new(),
            auth: Auth::None,
            recorder: None,
            stats: Arc::default(),
        }
    }

    /// From now on every answer is also appended to the returned list, for replaying later.
    pub fn record(&mut self) -> Arc<Mutex<Vec<Answer>>> {
        self.recorder.get_or_insert_with(Arc::default).clone()
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
        let clock = Clock::now();
        let (status, body) = match &self.transport {
            Transport::Http(http) => self
                .send(http, &url, form)
                .await
                .map_err(|message| server_error(&url, query, message))?,
            Transport::Replay(answers) => replayed(answers, path, query).unwrap_or_else(|| {
                self.stats.unanswered.fetch_add(1, Ordering::Relaxed);
                (200, EMPTY_MATRIX.to_vec())
            }),
        };
        let st = &self.stats;
        st.requests.fetch_add(1, Ordering::Relaxed);
        st.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
        st.wait_us
            .fetch_add(clock.elapsed().as_micros() as u64, Ordering::Relaxed);
        if let Some(Ok(mut log)) = self.recorder.as_ref().map(|r| r.lock()) {
            log.push(Answer {
                path: path.to_string(),
                query: query.to_string(),
                status,
                body: body.clone(),
            });
        }
        let clock = Clock::now();
        let answer = answer(&url, query, status, &body);
        st.parse_us
            .fetch_add(clock.elapsed().as_micros() as u64, Ordering::Relaxed);
        answer
    }

    /// One POST over HTTP: the status and body, or why there is none.
    async fn send(
        &self,
        http: &reqwest::Client,
        url: &str,
        form: &[(&str, String)],
    ) -> Result<(u16, Vec<u8>), String> {
        let mut req = http.post(url).form(form);
        for (k, v) in &self.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        req = match &self.auth {
            Auth::None => req,
            Auth::Bearer(t) => req.bearer_auth(t),
            Auth::Basic(u, p) => req.basic_auth(u, Some(p)),
        };
        let resp = req.send().await.map_err(|e| {
            format!(
                "cannot reach the server ({})",
                root_cause(&e as &dyn std::error::Error)
            )
        })?;
        let status = resp.status().as_u16();
        let body = resp
            .bytes()
            .await
            .map_err(|e| format!("reading the response: {e}"))?;
        Ok((status, body.to_vec()))
    }
}

/// The recorded answer to `query` at `path`, if any (a query with none is answered as a
/// server without the data would: success, no series).
fn replayed(answers: &[Answer], path: &str, query: &str) -> Option<(u16, Vec<u8>)> {
    answers
        .iter()
        .find(|a| a.path == path && a.query == query)
        .map(|a| (a.status, a.body.clone()))
}

const EMPTY_MATRIX: &[u8] = br#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;

fn server_error(url: &str, query: &str, message: String) -> ExportError {
    ExportError::Server {
        url: url.to_string(),
        query: query.to_string(),
        message,
    }
}

/// One answer of the HTTP API (`status`, `body`) as series; errors name `url` and `query`.
///
/// # Errors
/// 401/403, a body that is not an API response, an error answer, or a result that is not a
/// matrix.
pub fn answer(
    url: &str,
    query: &str,
    status: u16,
    body: &[u8],
) -> Result<Vec<Series>, ExportError> {
    let err = |message: String| server_error(url, query, message);
    if status == 401 || status == 403 {
        return Err(ExportError::Auth {
            url: url.to_string(),
            status,
        });
    }
    let success = (200..300).contains(&status);
    let parsed = match serde_json::from_slice::<Response>(body) {
        Ok(r) => r,
        Err(e) if success => return Err(err(format!("not a Prometheus API response ({e})"))),
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let text: String = text.trim().chars().take(300).collect();
            return Err(err(format!("HTTP {}: {text}", status_text(status))));
        }
    };
    if parsed.status != "success" || !success {
        return Err(err(format!(
            "HTTP {}: {}: {}",
            status_text(status),
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

/// `503 Service Unavailable`, or the bare number when it has no reason phrase.
fn status_text(status: u16) -> String {
    match reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(reason) => format!("{status} {reason}"),
        None => status.to_string(),
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

/// The server refused a query for its size, not for what it asks: the samples it would load
/// (Prometheus' and Thanos' `--query.max-samples`, VictoriaMetrics'
/// `-search.maxSamplesPerQuery`) or the points per series it would return (Prometheus' 11,000,
/// VictoriaMetrics' `-search.maxPointsPerTimeseries`). Asked for less at a time, it answers.
fn too_many_samples(e: &ExportError) -> bool {
    const SIZE_LIMITS: [&str; 4] = [
        "too many samples",
        "-search.maxSamplesPerQuery",
        "-search.maxPointsPerTimeseries",
        "exceeded maximum resolution",
    ];
    matches!(e, ExportError::Server { message, .. } if SIZE_LIMITS.iter().any(|m| message.contains(m)))
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
        assert!(too_many_samples(&err(
            "HTTP 422: 422: error when executing query=\"m\": cannot execute query: cannot select more than -search.maxSamplesPerQuery=50 samples; possible solutions: ..."
        )));
        assert!(too_many_samples(&err(
            "HTTP 422: 422: error when executing query=\"m\": too many points for the given step=15000: 241; cannot exceed -search.maxPointsPerTimeseries=40"
        )));
        assert!(too_many_samples(&err(
            "HTTP 400: bad_data: exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"
        )));
        assert!(!too_many_samples(&err("HTTP 400: bad_data: parse error")));
    }

    #[test]
    fn credentials_in_the_url_are_refused_without_echoing_them() {
        let e = Client::new("http://bob:hunter2@127.0.0.1:9", &[]).unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert_eq!(secs(1_714_570_260_500), "1714570260.500");
    }

    fn msg(status: u16, body: &str) -> String {
        answer("http://h/api/v1/query_range", "up", status, body.as_bytes())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn every_failed_answer_names_the_url_and_query_and_says_what_came_back() {
        let proxy = msg(502, "<html><body>Bad gateway</body></html>");
        assert!(
            proxy.contains("http://h/api/v1/query_range: query `up`"),
            "{proxy}"
        );
        assert!(proxy.contains("HTTP 502 Bad Gateway: <html>"), "{proxy}");
        let limit = msg(
            422,
            r#"{"status":"error","errorType":"execution","error":"too many samples"}"#,
        );
        assert!(
            limit.ends_with("HTTP 422 Unprocessable Entity: execution: too many samples"),
            "{limit}"
        );
        assert!(msg(200, "{").contains("not a Prometheus API response"));
        assert!(msg(200, r#"{"status":"success"}"#).contains("without data"));
        let vector = msg(
            200,
            r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
        );
        assert!(
            vector.contains("expected a matrix result, got `vector`"),
            "{vector}"
        );
        assert!(matches!(
            answer("u", "q", 401, b""),
            Err(ExportError::Auth { status: 401, .. })
        ));
    }

    #[test]
    fn a_replayed_client_answers_what_was_recorded_and_nothing_else() {
        let rec = Answer {
            path: "/api/v1/query".into(),
            query: "up[10m]".into(),
            status: 200,
            body: br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"job":"a"},"values":[[1,"2"]]}]}}"#.to_vec(),
        };
        let answers = [rec];
        assert_eq!(
            replayed(&answers, "/api/v1/query", "up[10m]").map(|a| a.1),
            Some(answers[0].body.clone())
        );
        assert_eq!(replayed(&answers, "/api/v1/query_range", "up[10m]"), None);
        let series = answer("u", "q", 200, &answers[0].body).unwrap();
        assert_eq!(
            Answer::decode(&answers[0].encode()).as_ref(),
            Some(&answers[0])
        );
        assert_eq!(series[0].points, [(1000, 2.0)]);
    }
}
