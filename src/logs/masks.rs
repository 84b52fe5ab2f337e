//! Built-in generic masks: which parts of a message token are variables.
//!
//! Masking works on token *shape*, never on a vocabulary learned from some system: values
//! (numbers, IPv4/IPv6 addresses with ports, hex, UUIDs, durations, sizes, timestamps,
//! ids such as `blk_-42` or `job_1445_0020`) contain digits, while the words a developer
//! wrote into a format string almost never do. URLs, paths and e-mail addresses are masked
//! even without digits. A masked part becomes `<*>`; the constant parts of a token stay, so
//! `rhost=10.0.0.1` gives `rhost=<*>` and `blk_-42` gives `blk_<*>`. It is a hand-written
//! byte scanner rather than a set of regexes because it runs on every token of every line.

/// The wildcard that replaces a variable.
pub const WILDCARD: &str = "<*>";

/// Size and duration units written apart from their number.
const UNITS: [&str; 24] = [
    "B", "KB", "kB", "MB", "GB", "TB", "PB", "KiB", "MiB", "GiB", "TiB", "b", "kb", "mb", "gb",
    "ns", "us", "µs", "ms", "s", "sec", "secs", "min", "h",
];

/// Characters that separate a token's parts (`key=value`, `host:port`, `f(x)`, `a,b`).
fn is_delim(b: u8) -> bool {
    matches!(
        b,
        b'=' | b':'
            | b','
            | b';'
            | b'('
            | b')'
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'<'
            | b'>'
            | b'/'
            | b'\\'
            | b'@'
            | b'|'
            | b'"'
            | b'\''
            | b'#'
            | b'$'
            | b'&'
            | b'?'
            | b'!'
            | b'*'
    )
}

/// Appends the masked form of `content` to `out`: tokens split on whitespace, each masked,
/// joined by single spaces.
pub fn mask_line(content: &str, out: &mut String) {
    let start = out.len();
    let b = content.as_bytes();
    let mut after_value = false;
    // Calendar words waiting for a neighbouring number (`Sun Jul 10 ...`), by output offset.
    let mut run = [0usize; 4];
    let mut run_len = 0;
    let mut i = 0;
    // One table-driven pass finds the tokens and whether each needs the full masker: most
    // tokens are plain words and are copied as they are.
    while i < b.len() {
        if CLASS[b[i] as usize] & WS != 0 {
            i += 1;
            continue;
        }
        let from = i;
        let mut flags = 0;
        while i < b.len() && CLASS[b[i] as usize] & WS == 0 {
            flags |= CLASS[b[i] as usize];
            i += 1;
        }
        let tok = &content[from..i];
        if after_value && tok.len() <= 5 {
            // `2 MiB` and `3 ms` are one value: the unit joins the number before it.
            let unit = tok.trim_end_matches([',', '.', ';', ':', ')', ']', '}']);
            if UNITS.contains(&unit) {
                out.push_str(&tok[unit.len()..]);
                after_value = false;
                continue;
            }
        }
        if out.len() > start {
            out.push(' ');
        }
        if flags & NEEDS_MASKER == 0 {
            if is_calendar(tok) {
                // A timestamp spelled with day or month names is one variable with its numbers.
                if after_value {
                    out.push_str(WILDCARD);
                    out.push_str(&tok[3..]);
                    continue; // keeps `after_value`
                }
                if run_len < run.len() {
                    run[run_len] = out.len();
                    run_len += 1;
                }
                out.push_str(tok);
                continue;
            }
            run_len = 0;
            if tok.len() >= 12 && flags & NOT_HEX == 0 {
                out.push_str(WILDCARD);
                after_value = true;
            } else {
                out.push_str(tok);
                after_value = false;
            }
            continue;
        }
        let at = out.len();
        mask_valued_token(tok, out);
        after_value = &out[at..] == WILDCARD;
        if after_value {
            for &pos in &run[..run_len] {
                out.replace_range(pos..pos + 3, WILDCARD);
            }
        }
        run_len = 0;
    }
}

const WS: u8 = 1;
const NEEDS_MASKER: u8 = 2;
const NOT_HEX: u8 = 4;

/// Byte classes for [`mask_line`]'s scan: ASCII whitespace; digits and `/ @ \` (which start a
/// value, path or address); anything that is not a hex digit.
const CLASS: [u8; 256] = {
    let mut t = [NOT_HEX; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_whitespace() {
            t[c] |= WS;
        }
        if b.is_ascii_digit() || b == b'/' || b == b'@' || b == b'\\' {
            t[c] |= NEEDS_MASKER;
        }
        if b.is_ascii_hexdigit() {
            t[c] &= !NOT_HEX;
        }
        c += 1;
    }
    t
};

/// Appends the masked form of one whitespace-free token to `out`.
pub fn mask_token(tok: &str, out: &mut String) {
    let b = tok.as_bytes();
    let mut plain = true;
    for &c in b {
        plain &= !(c.is_ascii_digit() || matches!(c, b'/' | b'@' | b'\\'));
    }
    if plain {
        if is_long_hex(b) {
            out.push_str(WILDCARD);
        } else {
            out.push_str(tok);
        }
        return;
    }
    mask_valued_token(tok, out);
}

/// [`mask_token`] for a token known to hold a digit or one of `/ @ \`.
fn mask_valued_token(tok: &str, out: &mut String) {
    let b = tok.as_bytes();
    // Wrapping punctuation belongs to the message, not to the value: `(TID 7)` -> `<*>)`.
    let lead = b
        .iter()
        .take_while(|&&c| matches!(c, b'(' | b'[' | b'{' | b'<' | b'"' | b'\''))
        .count();
    let trail = b[lead..]
        .iter()
        .rev()
        .take_while(|&&c| {
            matches!(
                c,
                b')' | b']' | b'}' | b'>' | b'"' | b'\'' | b',' | b'.' | b';' | b':' | b'!' | b'?'
            )
        })
        .count();
    let core = &tok[lead..tok.len() - trail];
    if core.is_empty() {
        out.push_str(tok);
        return;
    }
    out.push_str(&tok[..lead]);
    mask_core(core, out);
    out.push_str(&tok[tok.len() - trail..]);
}

fn mask_core(core: &str, out: &mut String) {
    let b = core.as_bytes();
    let (mut colon, mut slash, mut other) = (false, false, false);
    for &c in b {
        colon |= c == b':';
        slash |= matches!(c, b'/' | b'\\' | b'@' | b']');
        other |= !(c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'+' | b'_'));
    }
    if !other {
        // Only word characters and value punctuation: a number, id or version, or a word part.
        return if is_value(b) {
            out.push_str(WILDCARD)
        } else {
            mask_segments(core, out)
        };
    }
    let has = |c: u8| (colon || slash) && b.contains(&c);
    if let Some(i) = if has(b':') && has(b'/') {
        core.find("://")
    } else {
        None
    } {
        // The scheme says what kind of thing it is; the rest is the value.
        if i > 0
            && b[..i]
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'.' | b'-'))
        {
            out.push_str(&core[..i + 3]);
        }
        out.push_str(WILDCARD);
        return;
    }
    let bracketed = if has(b']') {
        core.split_once("]:")
    } else {
        None
    };
    if bracketed.is_some_and(|(host, port)| is_ipv6(host.as_bytes()) && is_digits(port.as_bytes()))
    {
        out.push_str("<*>]:<*>");
        return;
    }
    let port_at = if colon { core.rfind(':') } else { None };
    if port_at.is_some_and(|at| is_ipv4(&b[..at]) && is_digits(&b[at + 1..])) {
        out.push_str("<*>:<*>");
        return;
    }
    if slash && (is_path(b) || is_email(b)) || colon && is_ipv6(b) || is_value(b) {
        out.push_str(WILDCARD);
        return;
    }
    mask_segments(core, out);
}

/// Masks each delimiter-separated part that holds a value, keeping the delimiters and the
/// constant parts.
fn mask_segments(core: &str, out: &mut String) {
    let b = core.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if is_delim(b[i]) {
            let j = i + b[i..].iter().take_while(|&&c| is_delim(c)).count();
            out.push_str(&core[i..j]);
            i = j;
            continue;
        }
        let j = i + b[i..].iter().take_while(|&&c| !is_delim(c)).count();
        mask_segment(&core[i..j], out);
        i = j;
    }
}

fn mask_segment(seg: &str, out: &mut String) {
    let b = seg.as_bytes();
    if !b.iter().any(u8::is_ascii_digit) {
        if is_long_hex(b) {
            out.push_str(WILDCARD);
        } else {
            out.push_str(seg);
        }
        return;
    }
    // Ids name their kind with a leading word: `blk_-42`, `attempt_1_0020_m_7`, `MININT-AB1`.
    let word = b.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    if word > 0 && word + 1 < b.len() && matches!(b[word], b'_' | b'-') {
        out.push_str(&seg[..=word]);
    }
    out.push_str(WILDCARD);
}

/// Numbers, hex, UUIDs, timestamps, versions, durations and sizes: a token made of digits
/// and value punctuation, with at most a short unit suffix.
fn is_value(b: &[u8]) -> bool {
    if b.len() > 2 && b[0] == b'0' && (b[1] == b'x' || b[1] == b'X') {
        return b[2..].iter().all(u8::is_ascii_hexdigit);
    }
    let body = b.len()
        - b.iter()
            .rev()
            .take_while(|c| c.is_ascii_alphabetic())
            .count();
    let (num, unit) = b.split_at(body);
    let digits = num.iter().filter(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return false;
    }
    let numeric = num.iter().all(|&c| {
        c.is_ascii_digit() || matches!(c, b'.' | b',' | b':' | b'-' | b'+' | b'_' | b'T')
    });
    // `12ms`, `3.5s`, `10KB`, `2MiB`, `1e-5`: a unit is a short alphabetic tail.
    if numeric && unit.len() <= 3 {
        return true;
    }
    // Hex ids and UUIDs: all hex digits and dashes, with enough digits to not be a word.
    b.iter().all(|&c| c.is_ascii_hexdigit() || c == b'-') && digits * 4 >= b.len().min(16)
        || is_long_hex(b)
}

fn is_long_hex(b: &[u8]) -> bool {
    b.len() >= 12 && b.iter().all(u8::is_ascii_hexdigit)
}

fn is_digits(b: &[u8]) -> bool {
    !b.is_empty() && b.iter().all(u8::is_ascii_digit)
}

fn is_ipv4(b: &[u8]) -> bool {
    let parts = b.split(|&c| c == b'.');
    let mut n = 0;
    for p in parts {
        if !is_digits(p) || p.len() > 3 {
            return false;
        }
        n += 1;
    }
    n == 4
}

fn is_ipv6(b: &[u8]) -> bool {
    let colons = b.iter().filter(|&&c| c == b':').count();
    colons >= 2
        && b.iter().any(u8::is_ascii_hexdigit)
        && b.iter().all(|&c| c.is_ascii_hexdigit() || c == b':' || c == b'.' || c == b'%')
        && !b.iter().all(|&c| c.is_ascii_digit() || c == b':' || c == b'.') // `12:30:01` is a time
        || colons >= 2 && b.windows(2).any(|w| w == b"::") && b.iter().all(|&c| c.is_ascii_hexdigit() || c == b':')
}

fn is_path(b: &[u8]) -> bool {
    let rooted = b.len() > 1
        && (b[0] == b'/' || b.starts_with(b"~/") || b.starts_with(b"./") || b.starts_with(b"../"));
    let windows = b.len() > 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'\\';
    (rooted || windows)
        && b[1..]
            .iter()
            .all(|&c| !matches!(c, b'(' | b')' | b'=' | b','))
}

fn is_email(b: &[u8]) -> bool {
    let Some(at) = b.iter().position(|&c| c == b'@') else {
        return false;
    };
    let word = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'+');
    let (user, host) = (&b[..at], &b[at + 1..]);
    !user.is_empty()
        && user.iter().all(word)
        && host.contains(&b'.')
        && host.iter().all(word)
        && host.first().is_some_and(u8::is_ascii_alphanumeric)
}

const CALENDAR: [&str; 19] = [
    "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn is_calendar(t: &str) -> bool {
    let t = t.strip_suffix(',').unwrap_or(t);
    t.len() == 3
        && t.as_bytes()[0].is_ascii_alphabetic()
        && CALENDAR.iter().any(|c| c.eq_ignore_ascii_case(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> String {
        let mut out = String::new();
        mask_line(s, &mut out);
        out
    }

    #[test]
    fn numbers() {
        assert_eq!(
            m("took 12 and -3 and 0.25 and +7 and 1e-5"),
            "took <*> and <*> and <*> and <*> and <*>"
        );
        assert_eq!(m("(TID 7)."), "(TID <*>).");
    }

    #[test]
    fn addresses() {
        assert_eq!(m("from 10.251.73.220:50010 ok"), "from <*>:<*> ok");
        assert_eq!(m("rhost=218.188.2.4"), "rhost=<*>");
        assert_eq!(m("ip 192.168.0.1"), "ip <*>");
        assert_eq!(
            m("addr fe80::1ff:fe23:4567:890a and ::1"),
            "addr <*> and <*>"
        );
        assert_eq!(m("[2001:db8::1]:8080"), "[<*>]:<*>");
    }

    #[test]
    fn hex_and_ids() {
        assert_eq!(m("at 0x7fff5fbff8a8 and 0xDEAD"), "at <*> and <*>");
        assert_eq!(m("req 113d3a99c3da401fbd62cc2caa5b96d2"), "req <*>");
        assert_eq!(m("id deadbeefcafebabe"), "id <*>");
        assert_eq!(m("blk_-6952295868487656571 blk_38865"), "blk_<*> blk_<*>");
        assert_eq!(m("attempt_1445144423722_0020_m_000000_0"), "attempt_<*>");
        assert_eq!(m("host MININT-FNANLI5"), "host MININT-<*>");
    }

    #[test]
    fn uuids() {
        assert_eq!(
            m("instance 38101a0b-2096-447d-96ea-a692162415ae"),
            "instance <*>"
        );
        assert_eq!(m("req-38101a0b-2096-447d-96ea-a692162415ae"), "req-<*>");
    }

    #[test]
    fn paths_urls_emails() {
        assert_eq!(m("ok /etc/httpd/conf/workers2.properties"), "ok <*>");
        assert_eq!(m("open /var/log/messages"), "open <*>");
        assert_eq!(m("C:\\Windows\\x.dll"), "<*>");
        assert_eq!(m("to hdfs://host:9000/user/x"), "to hdfs://<*>");
        assert_eq!(m("see https://example.com/a?b=c"), "see https://<*>");
        assert_eq!(m("mail bob.smith@example.org now"), "mail <*> now");
    }

    #[test]
    fn durations_and_sizes() {
        assert_eq!(m("in 12ms or 3.5s or 2h"), "in <*> or <*> or <*>");
        assert_eq!(m("wrote 10KB of 2 MiB, 4GiB"), "wrote <*> of <*>, <*>");
        assert_eq!(m("(size 3.0 B, free 2 KB)"), "(size <*>, free <*>)");
        assert_eq!(m("B 2 b"), "B <*>");
    }

    #[test]
    fn timestamps() {
        assert_eq!(m("at 2017-05-16 00:00:00.008"), "at <*> <*>");
        assert_eq!(m("at 2017-05-16T00:00:00Z"), "at <*>");
        assert_eq!(m("at Sun Jul 10 03:55:15 2005"), "at <*> <*> <*> <*> <*>");
        assert_eq!(m("May I come in"), "May I come in");
    }

    #[test]
    fn key_value_keeps_key() {
        assert_eq!(
            m("uid=0 euid=0 tty=NODEVssh"),
            "uid=<*> euid=<*> tty=NODEVssh"
        );
        assert_eq!(m("<memory:1024, vCores:1>"), "<memory:<*>, vCores:<*>>");
    }

    #[test]
    fn words_untouched_and_odd_input() {
        assert_eq!(m("Registered BlockManager"), "Registered BlockManager");
        assert_eq!(m(""), "");
        assert_eq!(m("   "), "");
        assert_eq!(m("é 𝄞 ((( ))) :: 0x"), "é 𝄞 ((( ))) :: <*>");
        let huge = "a1 ".repeat(100_000);
        assert_eq!(m(&huge).len(), 100_000 * 4 - 1);
    }
}
