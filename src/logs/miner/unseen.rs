//! Shapes of log systems the miner was not tuned on, written from what such logs look like
//! (a desktop proxy client, OpenSSH, Windows CBS, Android, an HPC cluster, BlueGene/L and
//! Thunderbird syslogs, a phone health app), never copied from a benchmark. Each case says
//! which lines are one statement; the miner must group them exactly so.

use super::*;

/// A small deterministic generator, so cases hold many hosts, users and numbers.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.next(xs.len() as u64) as usize]
    }

    fn ip(&mut self) -> String {
        let mut o = || self.next(254) + 1;
        format!("{}.{}.{}.{}", o(), o(), o(), o())
    }
}

/// Lines and the statement each came from.
type Case = Vec<(String, &'static str)>;

/// Asserts that lines of one statement share a cluster and lines of two statements do not.
fn assert_grouped(case: &Case) {
    let lines: Vec<&str> = case.iter().map(|(l, _)| l.as_str()).collect();
    let m = mine(&lines, &MinerConfig::default());
    let mut cluster_of: FastMap<&str, u32> = FastMap::default();
    let mut statement_of: FastMap<u32, &str> = FastMap::default();
    for (i, (line, st)) in case.iter().enumerate() {
        let c = m.cluster_of_line[i];
        let t = &m.templates[c as usize];
        let first = *cluster_of.entry(st).or_insert(c);
        assert_eq!(first, c, "statement {st} split: {line:?} -> {t:?}");
        let other = *statement_of.entry(c).or_insert(st);
        assert_eq!(other, *st, "{other} and {st} merged into {t:?} ({line:?})");
    }
}

#[test]
fn proxy_client_protocols_with_digits_stay_apart() {
    let mut r = Rng(1);
    let hosts = [
        "www.example.com",
        "cdn.video.net",
        "mail.corp.org",
        "api.maps.io",
    ];
    let case: Case = (0..400)
        .map(|i| {
            let host = format!("{}:{}", r.pick(&hosts), r.pick(&["443", "80", "5228"]));
            let proxy = "proxy.cse.example.edu:5070";
            match i % 5 {
                0 | 1 => (format!("{host} open through proxy {proxy} HTTPS"), "https"),
                2 => (format!("{host} open through proxy {proxy} SOCKS5"), "socks5"),
                3 => {
                    let (sent, recv) = (r.next(5000), r.next(90000));
                    let kb = |n: u64| format!("{n} bytes ({}.{:02} KB)", n / 1024, n % 100);
                    let life = format!("{:02}:{:02}", r.next(60), r.next(60));
                    match i / 5 % 3 {
                        0 => (format!("{host} close, {sent} bytes sent, {recv} bytes received, lifetime {life}"), "close"),
                        1 => (format!("{host} close, {} sent, {recv} bytes received, lifetime {life}", kb(sent)), "close-kb-sent"),
                        _ => (format!("{host} close, {sent} bytes sent, {} received, lifetime {life}", kb(recv)), "close-kb-received"),
                    }
                }
                _ => (
                    format!(
                        "{host} error : Could not connect through proxy {proxy} - Proxy server cannot establish a connection with the target, status code {}",
                        r.pick(&["403", "404", "502"])
                    ),
                    "error",
                ),
            }
        })
        .collect();
    assert_grouped(&case);
    let m = mine(&[&case[0].0, &case[2].0], &MinerConfig::default());
    assert!(m.templates.iter().any(|t| t.ends_with(" SOCKS5")), "{m:?}");
}

#[test]
fn openssh_users_are_values_and_ssh2_a_constant() {
    let mut r = Rng(2);
    let users = [
        "admin", "test", "oracle", "guest", "user", "ftp", "pi", "git", "nagios", "ubnt", "support",
    ];
    let case: Case = (0..500)
        .map(|i| {
            let (ip, port) = (r.ip(), 1024 + r.next(60000));
            match i % 6 {
                0 => (format!("Failed password for root from {ip} port {port} ssh2"), "failed-root"),
                1 => (
                    format!("Failed password for invalid user {} from {ip} port {port} ssh2", r.pick(&users)),
                    "failed-invalid",
                ),
                2 => (format!("Invalid user {} from {ip}", r.pick(&users)), "invalid"),
                3 => (format!("Received disconnect from {ip}: 11: Bye Bye [preauth]"), "bye"),
                4 => (format!("Connection closed by {ip} [preauth]"), "closed"),
                _ => (
                    format!("pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}  user=root"),
                    "pam",
                ),
            }
        })
        .collect();
    assert_grouped(&case);
}

#[test]
fn windows_servicing_sessions_and_packages() {
    let mut r = Rng(3);
    let case: Case = (0..300)
        .map(|i| match i % 4 {
            0 => (
                format!(
                    "Session: {}_{} initialized by client WindowsUpdateAgent.",
                    30_000_000 + r.next(999_999),
                    3_000_000_000 + r.next(999_999_999)
                ),
                "session",
            ),
            1 => (
                format!(
                    "Read out cached package applicability for package: Package_for_KB{}~31bf3856ad364e35~amd64~~6.1.1.{}, ApplicableState: {}, CurrentState:{}",
                    2_000_000 + r.next(999_999),
                    r.next(9),
                    r.pick(&["112", "80", "0"]),
                    r.pick(&["112", "0"])
                ),
                "applicability",
            ),
            2 => (
                "SQM: Failed to start standard sample upload. [HRESULT = 0x80004005 - E_FAIL]".into(),
                "sqm",
            ),
            _ => (
                format!(
                    "Loaded Servicing Stack v6.1.7601.{} with Core: C:\\Windows\\winsxs\\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_6.1.7601.{}_none_681aa442f6fed7f0\\cbscore.dll",
                    23000 + r.next(999),
                    23000 + r.next(999)
                ),
                "stack",
            ),
        })
        .collect();
    assert_grouped(&case);
}

#[test]
fn android_framework_lines() {
    let mut r = Rng(4);
    let apps = [
        "com.android.systemui",
        "com.tencent.mm",
        "com.example.shop",
        "android",
    ];
    let case: Case = (0..400)
        .map(|i| {
            let (lock, uid, pid) = (r.next(999_999_999), 10000 + r.next(99), 1000 + r.next(9000));
            match i % 4 {
                0 => (
                    format!("acquire lock={lock}, flags=0x1, tag=\"View Lock\", name={}, ws=null, uid={uid}, pid={pid}", r.pick(&apps)),
                    "acquire",
                ),
                1 => (
                    format!("release:lock={lock}, flg=0x0, tag=\"View Lock\", name={}, ws=null, uid={uid}, pid={pid}", r.pick(&apps)),
                    "release",
                ),
                2 => (
                    format!(
                        "Skipping AppWindowToken{{{:x} token=Token{{{:x} ActivityRecord{{{:x} u0 {}/.MainActivity t{}}}}}}} -- going to hide",
                        r.next(1 << 28),
                        r.next(1 << 28),
                        r.next(1 << 28),
                        r.pick(&apps),
                        r.next(900)
                    ),
                    "skipping",
                ),
                _ => (format!("interceptKeyBeforeQueueing: key {} , result : 1", r.next(30)), "key"),
            }
        })
        .collect();
    assert_grouped(&case);
}

#[test]
fn hpc_and_bluegene_node_names_are_values() {
    let mut r = Rng(5);
    let case: Case = (0..500)
        .map(|i| match i % 5 {
            0 => (
                format!("NFS Mount failed on bglio{}, slept {} seconds, retrying ({})", r.next(64), r.next(9), r.next(5)),
                "nfs",
            ),
            1 => (format!("generating core.{}", r.next(9000)), "core"),
            2 => (
                format!("CE sym {}, at 0x{:08x}, mask 0x{:02x}", r.next(32), r.next(1 << 31), r.next(255)),
                "ce",
            ),
            3 => (
                format!(
                    "Component State Change: Component \\042alt{}\\042 is in the unavailable state (HWID={})",
                    r.next(2),
                    r.next(4000)
                ),
                "state",
            ),
            _ => (format!("ServerFileSystem domain storage{} fails", r.next(500)), "fails"),
        })
        .collect();
    assert_grouped(&case);
}

#[test]
fn thunderbird_syslog_services() {
    let mut r = Rng(6);
    let case: Case = (0..400)
        .map(|i| {
            let mac: Vec<String> = (0..6).map(|_| format!("{:02x}", r.next(256))).collect();
            match i % 5 {
                0 => (
                    format!("DHCPREQUEST for {} from {} via eth1", r.ip(), mac.join(":")),
                    "request",
                ),
                1 => (
                    format!("DHCPACK on {} to {} via eth1", r.ip(), mac.join(":")),
                    "ack",
                ),
                2 => (
                    format!("synchronized to {}, stratum {}", r.ip(), 2 + r.next(2)),
                    "ntp",
                ),
                3 => (
                    format!(
                        "Accepted publickey for root from {} port {} ssh2",
                        r.ip(),
                        r.next(60000)
                    ),
                    "accepted",
                ),
                _ => (
                    format!("session opened for user root by (uid={})", r.next(2)),
                    "session",
                ),
            }
        })
        .collect();
    assert_grouped(&case);
}

#[test]
fn health_app_counters() {
    let mut r = Rng(7);
    let case: Case = (0..400)
        .map(|i| {
            let ts = 1_514_038_000_000u64 + r.next(9_000_000);
            match i % 5 {
                0 => (
                    format!("onStandStepChanged {}", 3000 + r.next(900)),
                    "stand",
                ),
                1 => (
                    format!("onExtend:{ts} {} {} {}", r.next(20), r.next(2), r.next(9)),
                    "extend",
                ),
                2 => (
                    format!(
                        "setTodayTotalDetailSteps={ts}##{}##{}##{}##{}##{}",
                        r.next(9999),
                        r.next(999999),
                        r.next(9999),
                        r.next(99999),
                        r.next(99999999)
                    ),
                    "steps",
                ),
                3 => (
                    format!(
                        "REPORT : {} {} {} {}",
                        r.next(9999),
                        r.next(9999),
                        r.next(999999),
                        r.next(999)
                    ),
                    "report",
                ),
                _ => (
                    format!(
                        "calculateCaloriesWithCache totalCalories={}",
                        r.next(200000)
                    ),
                    "calories",
                ),
            }
        })
        .collect();
    assert_grouped(&case);
}

#[test]
fn verbs_and_states_split_and_a_long_tail_merges() {
    let mut r = Rng(8);
    let verbs = ["GET", "POST", "PUT", "DELETE"];
    let names = [
        "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
    ];
    let case: Case = (0..600)
        .map(|i| match i % 3 {
            0 => {
                let v = verbs[i / 3 % 4];
                (
                    format!(
                        "request {v} /api/items/{} took {} ms",
                        r.next(99),
                        r.next(900)
                    ),
                    v,
                )
            }
            1 => {
                let s = ["OPEN", "CLOSED"][r.next(2) as usize];
                (format!("circuit breaker payments now {s}"), s)
            }
            _ => (format!("login ok for user {}", r.pick(&names)), "login"),
        })
        .collect();
    assert_grouped(&case);
}
