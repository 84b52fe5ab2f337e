//! Reading attached files: a peek at the start for format detection, and JSON read as a
//! stream of values (JSON lines line by line, or one or more whole documents), so memory
//! follows the largest value, not the file.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde::de::DeserializeOwned;

use crate::error::Error;

/// How much of a file detection looks at.
const PEEK: usize = 64 * 1024;

/// The first bytes of a file, lossily decoded, for detection.
///
/// # Errors
/// The file cannot be read.
pub fn peek(path: &Path) -> Result<String, Error> {
    let mut buf = Vec::with_capacity(PEEK);
    File::open(path)
        .map_err(|e| Error::io(path, e))?
        .take(PEEK as u64)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(path, e))?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// Where a value sits in its file, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loc {
    /// 1-based line of a JSON-lines file.
    Line(usize),
    /// 1-based index of a whole document in a file of one or more.
    Doc(usize),
}

impl std::fmt::Display for Loc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Loc::Line(n) => write!(f, "line {n}"),
            Loc::Doc(n) => write!(f, "document {n}"),
        }
    }
}

/// An error about `path` at `loc`.
pub fn at(path: &Path, loc: Loc, message: impl std::fmt::Display) -> Error {
    Error::input(path, format!("{loc}: {message}"))
}

fn buffered(path: &Path) -> Result<BufReader<File>, Error> {
    Ok(BufReader::with_capacity(
        1 << 20,
        File::open(path).map_err(|e| Error::io(path, e))?,
    ))
}

/// Whether the first non-blank line of `head` is a whole JSON value (a JSON-lines file)
/// rather than the start of a pretty-printed document.
#[must_use]
pub fn is_json_lines(head: &str) -> bool {
    head.lines()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| serde_json::from_str::<serde::de::IgnoredAny>(l).is_ok())
}

/// Whether a file starting with `head` (its [`peek`]) is read a line at a time: JSON lines, or
/// compact documents each on a line of its own longer than the peek (`curl` of a trace API,
/// `json.dumps` per batch). A pretty-printed document starts with a short line; one that does
/// not is parsed line by line from memory, several times faster than serde's reader, which goes
/// byte by byte through `Read`.
#[must_use]
pub fn one_value_per_line(head: &str) -> bool {
    let first_line_runs_on = head.len() >= PEEK && !head.trim_start().contains('\n');
    first_line_runs_on || is_json_lines(head)
}

/// Calls `each` on every value of `path`: one per non-blank line when `lines`, else every
/// top-level document (one, or several concatenated as paginated exports are). A syntax error
/// (a truncated file, say) names the line and column.
///
/// # Errors
/// The file cannot be read, a value does not parse as `T`, or `each` fails.
pub fn each_value<T: DeserializeOwned>(
    path: &Path,
    lines: bool,
    mut each: impl FnMut(T, Loc) -> Result<(), Error>,
) -> Result<(), Error> {
    if lines {
        return each_line(path, |line, n| {
            let line = line.trim();
            if line.is_empty() {
                return Ok(());
            }
            each(json_line(path, n, line)?, Loc::Line(n))
        });
    }
    let stream = serde_json::Deserializer::from_reader(buffered(path)?).into_iter::<T>();
    for (i, v) in stream.enumerate() {
        let v = v.map_err(|e| syntax(path, &e))?;
        each(v, Loc::Doc(i + 1))?;
    }
    Ok(())
}

/// The JSON value on line `n` of `path`, borrowing from the line where the type lets it.
///
/// # Errors
/// The line is not a whole value of type `T`; the message says whether it was cut short.
pub fn json_line<'a, T: serde::Deserialize<'a>>(
    path: &Path,
    n: usize,
    line: &'a str,
) -> Result<T, Error> {
    serde_json::from_str::<T>(line).map_err(|e| {
        let what = if e.is_eof() {
            "truncated JSON (the line ends inside a value)".to_string()
        } else {
            format!("not the expected JSON ({e})")
        };
        at(path, Loc::Line(n), what)
    })
}

fn syntax(path: &Path, e: &serde_json::Error) -> Error {
    let what = if e.is_eof() {
        "truncated JSON: the file ends inside a value".to_string()
    } else {
        format!("not the expected JSON: {e}")
    };
    Error::input(
        path,
        format!("line {} column {}: {what}", e.line(), e.column()),
    )
}

/// Every line of a text file with its 1-based number.
///
/// # Errors
/// The file cannot be read or is not UTF-8 at some line.
pub fn each_line(
    path: &Path,
    mut each: impl FnMut(&str, usize) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut r = buffered(path)?;
    let mut buf = String::new();
    let mut n = 0;
    loop {
        buf.clear();
        n += 1;
        match r.read_line(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(_) => each(buf.trim_end_matches(['\n', '\r']), n)?,
            Err(e) => return Err(at(path, Loc::Line(n), format!("unreadable ({e})"))),
        }
    }
}

/// Epoch nanoseconds from a decimal string or number, refusing values whose magnitude says
/// another unit (a 13-digit value is milliseconds, not nanoseconds).
///
/// # Errors
/// A message saying what was found and what was expected.
pub fn epoch_ns(raw: &str, what: &str) -> Result<i64, String> {
    let v: i64 = raw
        .trim()
        .parse()
        .map_err(|_| format!("{what} `{raw}` is not an integer of epoch nanoseconds"))?;
    // Epoch ns of any date after 2001 has 19 digits; µs 16, ms 13, s 10.
    let unit = match v.unsigned_abs() {
        0 => return Ok(0),
        n if n >= 100_000_000_000_000_000 => return Ok(v),
        n if n >= 100_000_000_000_000 => "microseconds",
        n if n >= 100_000_000_000 => "milliseconds",
        _ => "seconds",
    };
    Err(format!(
        "{what} `{raw}` looks like epoch {unit}, where nanoseconds are expected (19 digits)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nanoseconds_are_told_from_other_units() {
        assert_eq!(
            epoch_ns("1714572120123456789", "ts"),
            Ok(1_714_572_120_123_456_789)
        );
        let e = epoch_ns("1714572120123", "ts").unwrap_err();
        assert!(e.contains("milliseconds"), "{e}");
        assert!(
            epoch_ns("1714572120", "ts")
                .unwrap_err()
                .contains("seconds")
        );
        assert!(epoch_ns("soon", "ts").is_err());
    }

    #[test]
    fn json_lines_are_told_from_documents() {
        assert!(is_json_lines("{\"a\":1}\n{\"a\":2}\n"));
        assert!(!is_json_lines("{\n  \"a\": 1\n}\n"));
    }

    #[test]
    fn compact_documents_longer_than_the_peek_are_read_a_line_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.json");
        let long = format!("{{\"a\":\"{}\"}}", "x".repeat(PEEK));
        std::fs::write(&p, format!("{long}\n{long}")).unwrap();
        assert!(one_value_per_line(&peek(&p).unwrap()));
        let mut n = 0;
        each_value::<serde_json::Value>(&p, true, |_, _| {
            n += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(n, 2);
        std::fs::write(&p, format!("{{\n  \"a\": \"{}\"\n}}\n", "x".repeat(PEEK))).unwrap();
        assert!(!one_value_per_line(&peek(&p).unwrap()));
        std::fs::write(&p, "{\"a\":1}\n{\"a\":2}\n").unwrap();
        assert!(one_value_per_line(&peek(&p).unwrap()));
    }

    #[test]
    fn truncated_json_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.json");
        std::fs::write(&p, "{\"a\":1}\n{\"a\":").unwrap();
        let e = each_value::<serde_json::Value>(&p, true, |_, _| Ok(()))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("x.json") && e.contains("line 2") && e.contains("truncated"),
            "{e}"
        );
        let e = each_value::<serde_json::Value>(&p, false, |_, _| Ok(()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("truncated"), "{e}");
    }
}
