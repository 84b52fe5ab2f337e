//! Real Prometheus and VictoriaMetrics servers for the export tests: each on 127.0.0.1, a free
//! port, its own temporary data folder, loaded the way users' data gets there (promtool
//! backfill, `/api/v1/import`), and killed by the PID the test started.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use funnel::sim::openmetrics::{self, RawSeries};

/// Whether `bin` is on PATH. Without it the test skips with a message, except in CI.
pub(crate) fn have(bin: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()));
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{bin} is not installed, and CI=true: .ci/run installs it"
        );
        eprintln!("skipped: {bin} is not installed (apt-get install prometheus victoria-metrics)");
    }
    found
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A server process, killed (by its PID) when dropped.
pub(crate) struct Server {
    child: Child,
    pub(crate) port: u16,
}

impl Server {
    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A minimal HTTP/1.0 request on loopback: (status, body).
pub(crate) fn http(port: u16, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let text = String::from_utf8_lossy(&resp).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map_or("", |x| x.1).to_string();
    (status, body)
}

fn wait_ready(port: u16, path: &str, child: &mut Child) {
    let t0 = Instant::now();
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() && http(port, "GET", path, b"").0 == 200
        {
            return;
        }
        if let Ok(Some(st)) = child.try_wait() {
            panic!("the server exited before it was ready: {st}");
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "server not ready in 60 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The total number of samples the server holds in [first, last] of `series`, counted per
/// metric name (Prometheus refuses one count over all names: `count_over_time` drops them).
pub(crate) fn stored_samples(port: u16, series: &[RawSeries]) -> u64 {
    let lo = series
        .iter()
        .filter_map(|s| s.points.first())
        .map(|p| p.0)
        .min()
        .unwrap();
    let hi = series
        .iter()
        .filter_map(|s| s.points.last())
        .map(|p| p.0)
        .max()
        .unwrap();
    let range = (hi - lo) / 1000 + 1;
    let mut names: Vec<&str> = series.iter().map(|s| s.name.as_str()).collect();
    names.dedup();
    let mut total = 0;
    for name in names {
        let q = format!("sum(count_over_time({name}[{range}s]))");
        let path = format!(
            "/api/v1/query?query={}&time={}.{:03}",
            pct(&q),
            hi / 1000,
            hi % 1000
        );
        let (st, body) = http(port, "GET", &path, b"");
        assert_eq!(st, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        total += v["data"]["result"][0]["value"][1]
            .as_str()
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0) as u64;
    }
    total
}

/// Prometheus over `series`, backfilled with promtool.
pub(crate) fn prometheus(dir: &Path, series: &[RawSeries]) -> Server {
    let om = dir.join("fixture.om");
    let mut f = std::fs::File::create(&om).unwrap();
    openmetrics::write_openmetrics(series, &mut f).unwrap();
    drop(f);
    prometheus_from_file(dir, &om)
}

/// Prometheus over an OpenMetrics file, backfilled with promtool (the file is removed).
pub(crate) fn prometheus_from_file(dir: &Path, om: &Path) -> Server {
    let data = dir.join("data");
    let st = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(om)
        .arg(&data)
        .stdout(Stdio::null())
        .status()
        .expect("promtool");
    assert!(st.success(), "promtool backfill failed");
    let _ = std::fs::remove_file(om);
    prometheus_on(dir)
}

/// Prometheus over the blocks already in `dir/data`.
pub(crate) fn prometheus_on(dir: &Path) -> Server {
    let data = dir.join("data");
    let cfg = dir.join("empty.yml");
    std::fs::write(&cfg, "").unwrap();
    let port = free_port();
    let mut child = Command::new("prometheus")
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--storage.tsdb.retention.time=100y")
        // The default 2 min is too short on a loaded 2-core machine (the benchmark's cluster).
        .arg("--query.timeout=15m")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prometheus");
    wait_ready(port, "/-/ready", &mut child);
    Server { child, port }
}

/// VictoriaMetrics over `series`, loaded through `/api/v1/import`.
pub(crate) fn victoria(dir: &Path, series: &[RawSeries]) -> Server {
    victoria_with(dir, series, &[])
}

/// VictoriaMetrics with extra command-line `flags`.
pub(crate) fn victoria_with(dir: &Path, series: &[RawSeries], flags: &[&str]) -> Server {
    let port = free_port();
    let mut child = Command::new("victoria-metrics")
        .arg(format!("-storageDataPath={}", dir.join("vm").display()))
        .arg(format!("-httpListenAddr=127.0.0.1:{port}"))
        .arg("-retentionPeriod=100y")
        .arg("-search.disableCache")
        .args(flags)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start victoria-metrics");
    wait_ready(port, "/health", &mut child);
    let server = Server { child, port };
    let mut body = Vec::new();
    openmetrics::write_vm_jsonl(series, &mut body).unwrap();
    let (st, text) = http(port, "POST", "/api/v1/import", &body);
    assert_eq!(st, 204, "import: {text}");
    let (st, _) = http(port, "GET", "/internal/force_flush", b"");
    assert_eq!(st, 200);
    server
}
