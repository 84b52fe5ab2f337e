//! Token shapes: whether a token's bytes form a value of one kind (a number with a unit, an
//! address, an e-mail, a date word), or a constant that merely holds digits (a protocol
//! version, a name such as `SOCKS5`, a code location). Pure byte predicates, called by the
//! masker on the tokens its byte classes flag.

use super::{ALPHA, DIGIT, HEX, HEX_DASH, NUMERIC, class};

/// A name with digits in it, `SOCKS5`, `sha256`, `utf8`, `IPv4`, `wl0`, `jk2_init`: a word of
/// two letters or more goes first and the digits are not the bulk of it. Such a token is as
/// often a constant (a protocol, an algorithm, an interface) as a value (`bglio11`, `host8`),
/// so it is kept, and the miner decides from how many values fill its place (see
/// `miner::split_enums`). Dotted names with digits (`host8.example.org`, `core.2275`) and
/// hex-like runs (`fe80`, `deadbeef01`) stay values. `word` is the length of the leading
/// alphabetic run and `all` the segment's intersection of byte classes.
pub(super) fn is_digit_name(sb: &[u8], word: usize, all: u32) -> bool {
    if word < 2 || word == sb.len() || !sb[word].is_ascii_digit() || sb.contains(&b'.') {
        return false;
    }
    let digits = sb.iter().filter(|c| c.is_ascii_digit()).count();
    let letters = sb.iter().filter(|c| c.is_ascii_alphabetic()).count();
    let hexlike = all & HEX_DASH != 0 && (digits * 4 >= sb.len() || sb.len() >= 12);
    digits <= letters && !hexlike
}

/// Numbers, hex, UUIDs, timestamps, versions, durations and sizes: a token made of digits
/// and value punctuation, with at most a short unit suffix. `any`/`all` are its [`summary`].
pub(super) fn is_value(b: &[u8], any: u32, all: u32) -> bool {
    if b.len() > 2 && b[0] == b'0' && (b[1] == b'x' || b[1] == b'X') {
        return b[2..].iter().all(u8::is_ascii_hexdigit);
    }
    if any & DIGIT == 0 {
        return false;
    }
    // `12ms`, `3.5s`, `10KB`, `2MiB`, `1e-5`: a unit is a short alphabetic tail.
    let unit = b
        .iter()
        .rev()
        .take(4)
        .take_while(|&&c| class(c) & ALPHA != 0)
        .count();
    if unit <= 3
        && (all & NUMERIC != 0 || b[..b.len() - unit].iter().all(|&c| class(c) & NUMERIC != 0))
    {
        return true;
    }
    // Hex ids and UUIDs: all hex digits and dashes, with enough digits to not be a word.
    all & HEX_DASH != 0 && b.iter().filter(|c| c.is_ascii_digit()).count() * 4 >= b.len().min(16)
        || b.len() >= 12 && all & HEX != 0
}

/// `NAME/1`, `NAME/1.1`: two letters or more, a slash, and a version of at most two short parts.
pub(super) fn is_protocol_version(b: &[u8]) -> bool {
    let Some(slash) = b.iter().position(|&c| c == b'/') else {
        return false;
    };
    let (name, version) = (&b[..slash], &b[slash + 1..]);
    let mut parts = 0;
    let short = version.split(|&c| c == b'.').all(|p| {
        parts += 1;
        is_digits(p) && p.len() <= 2
    });
    name.len() >= 2 && name.iter().all(u8::is_ascii_alphabetic) && short && parts <= 2
}

/// A package-qualified name and a line number, `t.s.TravelServiceImpl#451`: at least one dot
/// before the `#`, so `CPU#0` stays a value.
pub(crate) fn is_code_location(b: &[u8]) -> bool {
    let Some(h) = b.iter().position(|&c| c == b'#') else {
        return false;
    };
    let (name, line) = (&b[..h], &b[h + 1..]);
    is_digits(line)
        && line.len() <= 6
        && name.first().is_some_and(u8::is_ascii_alphabetic)
        && name.contains(&b'.')
        && name.split(|&c| c == b'.').all(|part| {
            !part.is_empty()
                && part
                    .iter()
                    .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'$'))
        })
}

pub(super) fn is_digits(b: &[u8]) -> bool {
    !b.is_empty() && b.iter().all(u8::is_ascii_digit)
}

pub(super) fn is_ipv4(b: &[u8]) -> bool {
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

pub(super) fn is_ipv6(b: &[u8]) -> bool {
    let colons = b.iter().filter(|&&c| c == b':').count();
    colons >= 2
        && b.iter().any(u8::is_ascii_hexdigit)
        && b.iter().all(|&c| c.is_ascii_hexdigit() || c == b':' || c == b'.' || c == b'%')
        && !b.iter().all(|&c| c.is_ascii_digit() || c == b':' || c == b'.') // `12:30:01` is a time
        || colons >= 2 && b.windows(2).any(|w| w == b"::") && b.iter().all(|&c| c.is_ascii_hexdigit() || c == b':')
}

pub(super) fn is_email(b: &[u8]) -> bool {
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

pub(super) fn is_calendar(t: &str) -> bool {
    let b = t.as_bytes();
    if !(b.len() == 3 || b.len() == 4 && b[3] == b',') {
        return false;
    }
    // Lower-cased, the three letters as one number: one comparison per name.
    let key = u32::from_le_bytes([b[0] | 0x20, b[1] | 0x20, b[2] | 0x20, 0]);
    CALENDAR_KEYS.contains(&key)
}

const CALENDAR_KEYS: [u32; 19] = {
    let mut keys = [0u32; 19];
    let mut i = 0;
    while i < 19 {
        let c = CALENDAR[i].as_bytes();
        keys[i] = u32::from_le_bytes([c[0] | 0x20, c[1] | 0x20, c[2] | 0x20, 0]);
        i += 1;
    }
    keys
};
