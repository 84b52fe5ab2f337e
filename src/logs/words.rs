//! The log vocabulary: the words that make a line an error, a warning or a failed call, and
//! the ones that report an OOM kill. One list per meaning, matched as words: a keyword counts
//! where a word starts (after a non-letter, at a camelCase hump as in `ReadTimeoutException`,
//! or inside an upper-case code such as `ECONNREFUSED`), so "eof" does not match "thereof" nor
//! "reset" "preset". Plurals and suffixes still match ("errors", "timeouts").

/// Words of a line that failed: an error whatever its level field says.
pub const ERROR: &[&str] = &[
    "panic",
    "fatal",
    "exception",
    "error",
    "oomkilled",
    "out of memory",
];

/// Words of a line that warns: trouble that may not have failed the request.
pub const WARN: &[&str] = &[
    "timeout",
    "timed out",
    "deadline exceeded",
    "refused",
    "reset",
    "warn",
    "retry",
];

/// Words of a failed call: timeouts, resets, refusals, deadlines, a peer gone.
pub const FAILED_CALL: &[&str] = &[
    "timeout",
    "timed out",
    "deadline exceeded",
    "connection reset",
    "refused",
    "unavailable",
    "upstream connect error",
    "broken pipe",
    "eof",
];

/// Words of an OOM kill, by the kernel, the kubelet or the runtime.
pub const OOM: &[&str] = &[
    "oomkilled",
    "out of memory",
    "outofmemoryerror",
    "cannot allocate memory",
    "oom-kill",
    "oom killer",
];

/// Whether `text` mentions any of `words` (lower-case) as a word.
#[must_use]
pub fn mentions_any(text: &str, words: &[&str]) -> bool {
    Text::new(text).mentions_any(words)
}

/// A text lower-cased once, to be asked about several word lists (a log line per row).
pub struct Text<'a> {
    raw: &'a [u8],
    /// `raw` lower-cased (ASCII, so byte offsets agree).
    lower: String,
}

impl<'a> Text<'a> {
    /// Lower-cases `text` once.
    #[must_use]
    pub fn new(text: &'a str) -> Text<'a> {
        Text {
            raw: text.as_bytes(),
            lower: text.to_ascii_lowercase(),
        }
    }

    /// Whether the text mentions any of `words` (lower-case) as a word.
    #[must_use]
    pub fn mentions_any(&self, words: &[&str]) -> bool {
        words.iter().any(|w| {
            !w.is_empty()
                && self
                    .lower
                    .match_indices(w)
                    .any(|(i, _)| starts_word(self.raw, i))
        })
    }
}

fn starts_word(b: &[u8], i: usize) -> bool {
    let Some(&prev) = i.checked_sub(1).and_then(|p| b.get(p)) else {
        return true;
    };
    let cur = b[i];
    !prev.is_ascii_alphanumeric()
        || (prev.is_ascii_lowercase() && cur.is_ascii_uppercase())
        || (prev.is_ascii_uppercase() && cur.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_match_where_words_start() {
        assert!(mentions_any("unexpected EOF", FAILED_CALL));
        assert!(!mentions_any("the rest thereof", FAILED_CALL));
        assert!(mentions_any("read: connection reset by peer", WARN));
        assert!(!mentions_any("loaded preset 3", WARN));
        assert!(mentions_any("java.net.SocketTimeoutException", FAILED_CALL));
        assert!(mentions_any("dial tcp: ECONNREFUSED", FAILED_CALL));
        assert!(mentions_any("raised IOError: disk", ERROR));
        assert!(mentions_any("3 errors in batch", ERROR));
        assert!(mentions_any("java.lang.OutOfMemoryError: heap", OOM));
        assert!(mentions_any("container app OOMKilled (exit 137)", OOM));
        assert!(!mentions_any("terror alert level", ERROR));
    }
}
