//! Built-in generic masks: which parts of a message token are variables.
//!
//! Masking works on token *shape*, never on a vocabulary learned from some system: values
//! (numbers, IPv4/IPv6 addresses with ports, hex, UUIDs, durations, sizes, timestamps,
//! ids such as `blk_-42` or `job_1445_0020`) contain digits, while the words a developer
//! wrote into a format string almost never do. URLs, paths and e-mail addresses are masked
//! even without digits. A masked part becomes `<*>`; the constant parts of a token stay, so
//! `rhost=10.0.0.1` gives `rhost=<*>` and `blk_-42` gives `blk_<*>`. One shape with digits
//! is kept: a statement's place in the source (`t.s.TravelServiceImpl#457`, see
//! `is_code_location`), which names the statement rather than a value. It is a hand-written
//! byte scanner rather than a set of regexes because it runs on every token of every line.

mod shapes;

pub(crate) use shapes::is_code_location;
use shapes::{
    is_calendar, is_digit_name, is_digits, is_email, is_ipv4, is_ipv6, is_protocol_version,
    is_value,
};

/// The wildcard that replaces a variable.
pub const WILDCARD: &str = "<*>";

/// Size and duration units written apart from their number.
const UNITS: [&str; 24] = [
    "B", "KB", "kB", "MB", "GB", "TB", "PB", "KiB", "MiB", "GiB", "TiB", "b", "kb", "mb", "gb",
    "ns", "us", "µs", "ms", "s", "sec", "secs", "min", "h",
];

/// Characters that separate a token's parts (`key=value`, `host:port`, `f(x)`, `a,b`).
const DELIMS: &[u8] = b"=:,;()[]{}<>/\\@|\"'#$&?!*";

// Byte classes. A token is scanned once, and the union (`any`) and intersection (`all`) of its
// bytes' classes answer most of the questions the masker asks without another pass.
/// ASCII whitespace: separates tokens.
const WS: u32 = 1;
/// A digit or one of `/ @ \`: the token may hold a value, path or address.
const VALUED: u32 = 1 << 1;
const HEX: u32 = 1 << 2;
const DIGIT: u32 = 1 << 3;
/// Digits and `. , : - + _ T`.
const NUMERIC: u32 = 1 << 4;
/// Alphanumerics and `. - + _`.
const WORD: u32 = 1 << 5;
/// `/ \ @ ]`.
const SLASHY: u32 = 1 << 6;
/// `( ) = ,`, which a path does not hold.
const NOT_PATH: u32 = 1 << 7;
const DELIM: u32 = 1 << 8;
/// Hex digits and `-`.
const HEX_DASH: u32 = 1 << 9;
const COLON: u32 = 1 << 10;
const FSLASH: u32 = 1 << 11;
const AT: u32 = 1 << 12;
const CLOSE: u32 = 1 << 13;
/// Hex digits and `: . %`, all an IPv6 address may hold.
const IPV6: u32 = 1 << 14;
/// Punctuation that may wrap a value: opening and closing.
const LEAD: u32 = 1 << 15;
const TRAIL: u32 = 1 << 16;
const ALPHA: u32 = 1 << 17;
/// `#`, which a code location (`a.B#12`) holds.
const HASH: u32 = 1 << 18;

const CLASS: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        let mut k = 0;
        if b.is_ascii_whitespace() {
            k |= WS;
        }
        if b.is_ascii_digit() || matches!(b, b'/' | b'@' | b'\\') {
            k |= VALUED;
        }
        if b.is_ascii_hexdigit() {
            k |= HEX | HEX_DASH | IPV6;
        }
        if b.is_ascii_digit() {
            k |= DIGIT | NUMERIC;
        }
        if b.is_ascii_alphabetic() {
            k |= ALPHA;
        }
        if matches!(b, b'.' | b',' | b':' | b'-' | b'+' | b'_' | b'T') {
            k |= NUMERIC;
        }
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+' | b'_') {
            k |= WORD;
        }
        if matches!(b, b'/' | b'\\' | b'@' | b']') {
            k |= SLASHY;
        }
        if matches!(b, b'(' | b')' | b'=' | b',') {
            k |= NOT_PATH;
        }
        let mut d = 0;
        while d < DELIMS.len() {
            if DELIMS[d] == b {
                k |= DELIM;
            }
            d += 1;
        }
        if b == b'-' {
            k |= HEX_DASH;
        }
        if b == b':' {
            k |= COLON;
        }
        if b == b'/' {
            k |= FSLASH;
        }
        if b == b'@' {
            k |= AT;
        }
        if b == b']' {
            k |= CLOSE;
        }
        if b == b'#' {
            k |= HASH;
        }
        if matches!(b, b':' | b'.' | b'%') {
            k |= IPV6;
        }
        if matches!(b, b'(' | b'[' | b'{' | b'<' | b'"' | b'\'') {
            k |= LEAD;
        }
        if matches!(
            b,
            b')' | b']' | b'}' | b'>' | b'"' | b'\'' | b',' | b'.' | b';' | b':' | b'!' | b'?'
        ) {
            k |= TRAIL;
        }
        t[c] = k;
        c += 1;
    }
    t
};

fn class(c: u8) -> u32 {
    CLASS[c as usize]
}

/// Union and intersection of the classes of `b`'s bytes.
fn summary(b: &[u8]) -> (u32, u32) {
    b.iter().fold((0, u32::MAX), |(any, all), &c| {
        (any | class(c), all & class(c))
    })
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
    // One table-driven pass finds the tokens and what their bytes are like: most tokens are
    // plain words and are copied as they are.
    while i < b.len() {
        if class(b[i]) & WS != 0 {
            i += 1;
            continue;
        }
        let from = i;
        let (mut any, mut all) = (0, u32::MAX);
        while i < b.len() {
            let k = class(b[i]);
            if k & WS != 0 {
                break;
            }
            any |= k;
            all &= k;
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
        if any & VALUED == 0 {
            if tok.len() <= 4 && is_calendar(tok) {
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
            if tok.len() >= 12 && all & HEX != 0 {
                out.push_str(WILDCARD);
                after_value = true;
            } else {
                out.push_str(tok);
                after_value = false;
            }
            continue;
        }
        let at = out.len();
        mask_valued_token(tok, any, all, out);
        after_value = &out[at..] == WILDCARD;
        if after_value {
            for &pos in &run[..run_len] {
                out.replace_range(pos..pos + 3, WILDCARD);
            }
        }
        run_len = 0;
    }
}

/// Appends the masked form of one whitespace-free token to `out`.
pub fn mask_token(tok: &str, out: &mut String) {
    let (any, all) = summary(tok.as_bytes());
    if any & VALUED == 0 {
        if tok.len() >= 12 && all & HEX != 0 {
            out.push_str(WILDCARD);
        } else {
            out.push_str(tok);
        }
        return;
    }
    mask_valued_token(tok, any, all, out);
}

/// [`mask_token`] for a token known to hold a digit or one of `/ @ \`, given its
/// [`summary`].
fn mask_valued_token(tok: &str, any: u32, all: u32, out: &mut String) {
    let b = tok.as_bytes();
    if class(b[0]) & LEAD == 0 && class(b[b.len() - 1]) & TRAIL == 0 {
        return mask_core(tok, any, all, out);
    }
    // Wrapping punctuation belongs to the message, not to the value: `(TID 7)` -> `<*>)`.
    let lead = b.iter().take_while(|&&c| class(c) & LEAD != 0).count();
    let trail = b[lead..]
        .iter()
        .rev()
        .take_while(|&&c| class(c) & TRAIL != 0)
        .count();
    let core = &tok[lead..tok.len() - trail];
    if core.is_empty() {
        out.push_str(tok);
        return;
    }
    out.push_str(&tok[..lead]);
    let (any, all) = summary(core.as_bytes());
    mask_core(core, any, all, out);
    out.push_str(&tok[tok.len() - trail..]);
}

/// Masks a token stripped of wrapping punctuation, given its [`summary`].
fn mask_core(core: &str, any: u32, all: u32, out: &mut String) {
    let b = core.as_bytes();
    if all & WORD != 0 {
        // Only word characters and value punctuation: a number, id or version, or a word part.
        return if is_value(b, any, all) {
            out.push_str(WILDCARD)
        } else {
            mask_segments(core, any, all, out)
        };
    }
    let colon = any & COLON != 0;
    let url = if colon && any & FSLASH != 0 {
        find_colon_then(b, b"//")
    } else {
        None
    };
    if let Some(i) = url {
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
    if colon && any & CLOSE != 0 {
        let bracketed = b.windows(2).position(|w| w == b"]:");
        if bracketed.is_some_and(|i| is_ipv6(&b[..i]) && is_digits(&b[i + 2..])) {
            out.push_str("<*>]:<*>");
            return;
        }
    }
    if colon {
        let at = b.iter().rposition(|&c| c == b':').unwrap_or(0);
        if is_digits(&b[at + 1..]) && is_ipv4(&b[..at]) {
            out.push_str("<*>:<*>");
            return;
        }
    }
    if any & FSLASH != 0 && is_protocol_version(b) {
        // `HTTP/1.1`, `SPDY/3`: a protocol and its version, text rather than a value.
        out.push_str(core);
        return;
    }
    if any & HASH != 0 && is_code_location(b) {
        // `o.s.OrderServiceImpl#342` names one statement in the source: two statements of a
        // class share their text often enough (`#451`, `#457`), and a fault shows as one of
        // them falling silent, so the line number is part of the template.
        out.push_str(core);
        return;
    }
    let path = || {
        let rooted = b.len() > 1
            && (b[0] == b'/'
                || b.starts_with(b"~/")
                || b.starts_with(b"./")
                || b.starts_with(b"../"));
        let windows = b.len() > 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'\\';
        (rooted || windows) && any & NOT_PATH == 0
    };
    if any & SLASHY != 0 && (path() || any & AT != 0 && is_email(b))
        || colon && all & IPV6 != 0 && is_ipv6(b)
        || is_value(b, any, all)
    {
        out.push_str(WILDCARD);
        return;
    }
    mask_segments(core, any, all, out);
}

/// Index of the first `:` in `b` followed by `then`.
fn find_colon_then(b: &[u8], then: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(k) = b[from..].iter().position(|&c| c == b':') {
        if b[from + k + 1..].starts_with(then) {
            return Some(from + k);
        }
        from += k + 1;
    }
    None
}

/// Masks each delimiter-separated part that holds a value, keeping the delimiters and the
/// constant parts.
fn mask_segments(core: &str, any: u32, all: u32, out: &mut String) {
    if any & DELIM == 0 {
        return mask_segment(core, any, all, out);
    }
    let b = core.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        if class(b[i]) & DELIM != 0 {
            while i < b.len() && class(b[i]) & DELIM != 0 {
                i += 1;
            }
            out.push_str(&core[start..i]);
            continue;
        }
        let (mut any, mut all) = (0, u32::MAX);
        while i < b.len() && class(b[i]) & DELIM == 0 {
            any |= class(b[i]);
            all &= class(b[i]);
            i += 1;
        }
        mask_segment(&core[start..i], any, all, out);
    }
}

/// Masks one delimiter-free part of a token, given its [`summary`].
fn mask_segment(seg: &str, any: u32, all: u32, out: &mut String) {
    if any & DIGIT == 0 {
        // No digit: a word, unless it is a long run of hex digits.
        if seg.len() >= 12 && all & HEX != 0 {
            out.push_str(WILDCARD);
        } else {
            out.push_str(seg);
        }
        return;
    }
    let sb = seg.as_bytes();
    let word = sb.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    if is_digit_name(sb, word, all) {
        out.push_str(seg);
        return;
    }
    // Ids name their kind with a leading word: `blk_-42`, `attempt_1_0020_m_7`, `MININT-AB1`.
    if word > 0 && word + 1 < sb.len() && matches!(sb[word], b'_' | b'-') {
        out.push_str(&seg[..=word]);
    }
    out.push_str(WILDCARD);
}

#[cfg(test)]
mod tests;
