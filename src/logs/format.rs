//! Header formats in the Loghub/LOGPAI `log_format` convention.
//!
//! A format such as `<Date> <Time> <Level> <Component>: <Content>` names fields in angle
//! brackets; the text between fields is a regular expression (so `\[<Pid>\]` and
//! `(\[<PID>\])?` work) in which runs of spaces match any whitespace. Each field matches
//! lazily (`.*?`) and the whole pattern is anchored at both ends, exactly as LOGPAI builds
//! it, so a format written for the Loghub benchmark isolates the same `<Content>` here.

use super::header::Header;
use regex::bytes::{CaptureLocations, Regex};
use std::fmt;

/// Why a format string was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatError {
    /// The format has no `<Content>` field, so there is no message to mine.
    NoContent,
    /// A field name appears twice; the second would shadow the first.
    DuplicateField(String),
    /// `<>` or a name with whitespace.
    BadFieldName(String),
    /// The literal text between fields is not a valid regular expression.
    Regex(String),
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::NoContent => write!(f, "log format has no <Content> field"),
            FormatError::DuplicateField(n) => write!(f, "log format repeats the field <{n}>"),
            FormatError::BadFieldName(n) => write!(f, "log format has an invalid field name <{n}>"),
            FormatError::Regex(e) => write!(f, "log format is not a valid pattern: {e}"),
        }
    }
}

impl std::error::Error for FormatError {}

/// A compiled header format.
#[derive(Debug, Clone)]
pub struct LogFormat {
    source: String,
    regex: Regex,
    /// Field names in order; field `i` is the regex group named `f{i}`.
    fields: Vec<String>,
    /// Capture-group index of each field (literal text may add its own groups).
    group_of_field: Vec<usize>,
    content: usize,
    /// When `<Content>` ends the format, the header alone (no `$`): the content is the rest of
    /// the line. Same leftmost-first result as the full pattern, because a trailing lazy
    /// `.*?$` matches any remainder, but the engine only scans the header.
    header: Option<Regex>,
    /// A faster matcher for `header` when the format is plain enough (see `header`).
    fast: Option<Header>,
}

impl LogFormat {
    /// Compiles a LOGPAI-style format string.
    pub fn parse(format: &str) -> Result<LogFormat, FormatError> {
        let mut pattern = String::from("^");
        let mut fields: Vec<String> = Vec::new();
        let mut rest = format;
        while let Some(open) = rest.find('<') {
            // A field is `<name>` with no `<`/`>` inside; a lone `<` is literal text.
            let after = &rest[open + 1..];
            let Some(close) = after
                .find(['<', '>'])
                .filter(|&c| after.as_bytes()[c] == b'>')
            else {
                push_literal(&mut pattern, &rest[..open + 1]);
                rest = after;
                continue;
            };
            push_literal(&mut pattern, &rest[..open]);
            let name = after[..close].trim();
            if name.is_empty() || name.chars().any(char::is_whitespace) {
                return Err(FormatError::BadFieldName(name.to_string()));
            }
            if fields.iter().any(|f| f == name) {
                return Err(FormatError::DuplicateField(name.to_string()));
            }
            // Synthetic group names: field names need not be valid regex group names.
            // Byte-wise `.` keeps the automaton small (a Unicode `.` is a UTF-8 decoder per field).
            pattern.push_str(&format!("(?P<f{}>(?s-u:.)*?)", fields.len()));
            fields.push(name.to_string());
            rest = &after[close + 1..];
        }
        let header_pattern = (rest.is_empty() && fields.last().is_some_and(|f| f == "Content"))
            .then(|| pattern[..pattern.rfind("(?P<f").unwrap_or(pattern.len())].to_string());
        push_literal(&mut pattern, rest);
        pattern.push('$');
        let content = fields
            .iter()
            .position(|f| f == "Content")
            .ok_or(FormatError::NoContent)?;
        let regex = Regex::new(&pattern).map_err(|e| FormatError::Regex(e.to_string()))?;
        let names: Vec<Option<&str>> = regex.capture_names().collect();
        let group_of_field = (0..fields.len())
            .map(|i| {
                let want = format!("f{i}");
                names
                    .iter()
                    .position(|n| *n == Some(want.as_str()))
                    .unwrap_or(0)
            })
            .collect();
        let header = match header_pattern {
            Some(p) => Some(Regex::new(&p).map_err(|e| FormatError::Regex(e.to_string()))?),
            None => None,
        };
        let fast = header.as_ref().and_then(|_| Header::compile(format));
        Ok(LogFormat {
            fast,
            source: format.to_string(),
            regex,
            fields,
            group_of_field,
            content,
            header,
        })
    }

    /// The format string this was compiled from.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Field names in the order they appear.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// Reusable capture storage for [`LogFormat::content_with`], to avoid one allocation per line.
    pub fn locations(&self) -> CaptureLocations {
        self.regex.capture_locations()
    }

    /// The `<Content>` of `line`, or `None` when the line does not match the format.
    pub fn content<'a>(&self, line: &'a str) -> Option<&'a str> {
        self.content_with(&mut self.locations(), line)
    }

    /// Like [`LogFormat::content`], reusing `locs` from [`LogFormat::locations`].
    pub fn content_with<'a>(&self, locs: &mut CaptureLocations, line: &'a str) -> Option<&'a str> {
        match &self.header {
            Some(h) => {
                let line = line.trim();
                let end = match self.fast.as_ref().and_then(|f| f.end(line.as_bytes())) {
                    Some(end) => end,
                    None => h.find(line.as_bytes())?.end(),
                };
                line.get(end..)
            }
            None => self.group(locs, line, self.content),
        }
    }

    /// The value of field `name` in `line`; `None` when the line does not match or the
    /// format has no such field (an optional group that did not take part also gives `None`).
    pub fn field<'a>(&self, line: &'a str, name: &str) -> Option<&'a str> {
        let idx = self.fields.iter().position(|f| f == name)?;
        self.group(&mut self.locations(), line, idx)
    }

    fn group<'a>(&self, locs: &mut CaptureLocations, line: &'a str, idx: usize) -> Option<&'a str> {
        // LOGPAI matches `line.strip()`; trimming also absorbs a stray `\r` from CRLF files.
        let line = line.trim();
        self.regex.captures_read(locs, line.as_bytes())?;
        let (s, e) = locs.get(self.group_of_field[idx])?;
        // Byte-wise fields could in principle split a character; such a line does not match.
        line.get(s..e)
    }
}

/// Appends literal format text; runs of spaces become `\s+` as in LOGPAI.
fn push_literal(pattern: &mut String, lit: &str) {
    let mut in_spaces = false;
    for ch in lit.chars() {
        if ch == ' ' {
            if !in_spaces {
                pattern.push_str(r"\s+");
            }
            in_spaces = true;
        } else {
            pattern.push(ch);
            in_spaces = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_header() {
        let f = LogFormat::parse("<Date> <Time> <Level> <Component>: <Content>").unwrap();
        let line = "17/06/09 20:10:40 INFO spark.SecurityManager: Changing view acls to: yarn,curi";
        assert_eq!(f.content(line), Some("Changing view acls to: yarn,curi"));
        assert_eq!(f.field(line, "Component"), Some("spark.SecurityManager"));
        assert_eq!(f.field(line, "Nope"), None);
        assert_eq!(f.fields().len(), 5);
    }

    #[test]
    fn escaped_brackets_and_whitespace_runs() {
        let f = LogFormat::parse(r"<Date> <Time> <Level> \[<Process>\] <Component>: <Content>")
            .unwrap();
        let line = "2015-10-18 18:01:47,978 INFO  [main]   org.a.B: Created thing\r";
        assert_eq!(f.field(line, "Process"), Some("main"));
        assert_eq!(f.content(line), Some("Created thing"));
    }

    #[test]
    fn optional_group() {
        let f =
            LogFormat::parse(r"<Month> <Date> <Time> <Level> <Component>(\[<PID>\])?: <Content>")
                .unwrap();
        let with = "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown";
        assert_eq!(f.field(with, "PID"), Some("19939"));
        assert_eq!(f.field(with, "Component"), Some("sshd(pam_unix)"));
        assert_eq!(f.content(with), Some("check pass; user unknown"));
        let without = "Jun 15 04:06:18 combo kernel: Linux version 2.6";
        assert_eq!(f.field(without, "PID"), None);
        assert_eq!(f.content(without), Some("Linux version 2.6"));
    }

    #[test]
    fn non_matching_lines() {
        let f = LogFormat::parse(r"\[<Time>\] \[<Level>\] <Content>").unwrap();
        assert_eq!(f.content("no brackets here"), None);
        assert_eq!(f.content(""), None);
        // LOGPAI strips the line first, so a header with nothing after it does not match.
        assert_eq!(f.content("[t] [error] "), None);
        assert_eq!(f.content("[t] [error] x"), Some("x"));
    }

    #[test]
    fn errors() {
        assert_eq!(
            LogFormat::parse("<Date> <Time>").unwrap_err(),
            FormatError::NoContent
        );
        assert!(matches!(
            LogFormat::parse("<A> <A> <Content>"),
            Err(FormatError::DuplicateField(_))
        ));
        assert!(matches!(
            LogFormat::parse("<> <Content>"),
            Err(FormatError::BadFieldName(_))
        ));
        assert!(matches!(
            LogFormat::parse("(<A> <Content>"),
            Err(FormatError::Regex(_))
        ));
        // A lone `<` is literal text, not a field.
        let f = LogFormat::parse("<A> < <Content>").unwrap();
        assert_eq!(f.content("x < y"), Some("y"));
    }

    #[test]
    fn header_shortcut_agrees_with_full_pattern() {
        let f =
            LogFormat::parse(r"<Date> <Time> - <Level>  \[<Node>:<Component>@<Id>\] - <Content>")
                .unwrap();
        assert!(f.header.is_some());
        for line in [
            "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200",
            "2015-07-29 17:41:44,747 - INFO  [a:b@1] - x - y [c:d@2] - z",
            "2015-07-29 17:41:44,747 - INFO  [a:b@1] -",
            "garbage",
        ] {
            let full = f.group(&mut f.locations(), line, f.content);
            assert_eq!(f.content(line), full, "{line}");
        }
    }

    #[test]
    fn content_is_lazy_and_anchored() {
        let f = LogFormat::parse("<Level>: <Content>").unwrap();
        assert_eq!(f.content("WARN: a: b"), Some("a: b"));
        assert_eq!(f.field("WARN: a: b", "Level"), Some("WARN"));
    }
}
