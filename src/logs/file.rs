//! `funnel logs`: mine a plain-text log file and write one CSV row per line.
//!
//! The file is streamed in large blocks of whole lines (memory holds one block plus four bytes
//! per line and the distinct masked messages), each line's `<Content>` is masked and
//! deduplicated on the fly, and the CSV is written from a pre-rendered tail per template.

use super::distinct::Distinct;
use super::format::{FormatError, LogFormat};
use super::miner::{MinerConfig, mine_distinct};
use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

/// What [`mine_file_to_csv`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileStats {
    /// Input lines, each written as one CSV row.
    pub lines: usize,
    /// Distinct templates.
    pub templates: usize,
    /// Lines that did not match `--format` and were mined whole (0 without a format).
    pub unmatched: usize,
}

/// Why a log file could not be mined.
#[derive(Debug, thiserror::Error)]
pub enum LogFileError {
    /// The log file could not be opened or read.
    #[error("cannot read log file {}: {err}", path.display())]
    Read {
        /// The log file.
        path: PathBuf,
        /// The OS error.
        err: std::io::Error,
    },
    /// The `--format` string was rejected.
    #[error("bad --format '{format}' for log file {}: {reason}", path.display())]
    Format {
        /// The log file it was meant for.
        path: PathBuf,
        /// The format as given.
        format: String,
        /// What is wrong with it.
        reason: FormatError,
    },
    /// The CSV could not be created or written.
    #[error("cannot write template CSV {}: {err}", path.display())]
    Write {
        /// The CSV file.
        path: PathBuf,
        /// The OS error.
        err: std::io::Error,
    },
}

/// Bytes read at a time; a longer line grows the buffer. Small enough that the buffers stay in
/// few pages: fresh pages cost a fault each, and faults are dear in a VM.
const BLOCK: usize = 1 << 18;

/// Mines a plain-text log file and writes `line_id,template_id,template` (header row, line_id 1-based) to `out`.
///
/// With `format`, each line's `<Content>` is mined; a line that does not match is mined
/// whole. Invalid UTF-8 is replaced (U+FFFD), a `\r` before `\n` is dropped, and an empty
/// file writes just the header row.
pub fn mine_file_to_csv(
    input: &Path,
    format: Option<&str>,
    out: &Path,
    cfg: &MinerConfig,
) -> Result<FileStats, LogFileError> {
    let read_err = |err| LogFileError::Read {
        path: input.to_path_buf(),
        err,
    };
    let write_err = |err| LogFileError::Write {
        path: out.to_path_buf(),
        err,
    };
    let fmt = format
        .map(|f| {
            LogFormat::parse(f).map_err(|reason| LogFileError::Format {
                path: input.to_path_buf(),
                format: f.to_string(),
                reason,
            })
        })
        .transpose()?;
    let mut file = File::open(input).map_err(read_err)?;

    let mut lines = Lines::new(fmt.as_ref());
    let mut buf = vec![0u8; BLOCK];
    let mut filled = 0;
    loop {
        if filled == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = match file.read(&mut buf[filled..]) {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_err(e)),
        };
        filled += n;
        if n == 0 {
            lines.block(&buf[..filled], true);
            break;
        }
        // Whole lines only; the partial last line waits for the next read.
        if let Some(nl) = buf[..filled].iter().rposition(|&b| b == b'\n') {
            lines.block(&buf[..=nl], false);
            buf.copy_within(nl + 1..filled, 0);
            filled -= nl + 1;
        }
    }
    drop(buf);

    let unmatched = lines.unmatched;
    let mined = mine_distinct(lines.distinct, cfg);
    // Written beside `out` and renamed onto it once complete: a failed or killed run leaves
    // the previous CSV, never a truncated one.
    let staged = crate::output::Staged::file(out).map_err(write_err)?;
    let mut csv = File::create(staged.path()).map_err(write_err)?;
    write_csv(&mut csv, &mined.cluster_of_line, &mined.templates).map_err(write_err)?;
    drop(csv);
    staged.commit().map_err(write_err)?;
    Ok(FileStats {
        lines: mined.cluster_of_line.len(),
        templates: mined.templates.len(),
        unmatched,
    })
}

/// Splits blocks of whole lines and feeds each line's content to the miner.
struct Lines<'f> {
    format: Option<&'f LogFormat>,
    locs: Option<regex::bytes::CaptureLocations>,
    distinct: Distinct,
    unmatched: usize,
}

impl<'f> Lines<'f> {
    fn new(format: Option<&'f LogFormat>) -> Self {
        Lines {
            format,
            locs: format.map(LogFormat::locations),
            distinct: Distinct::default(),
            unmatched: 0,
        }
    }

    /// `block` ends with `\n` unless it is the end of the file.
    fn block(&mut self, block: &[u8], last: bool) {
        match std::str::from_utf8(block) {
            Ok(text) => self.text(text, last),
            // A `\n` never belongs to an invalid sequence, so replacing per block is the same
            // as replacing in the whole file.
            Err(_) => self.text(&String::from_utf8_lossy(block), last),
        }
    }

    fn text(&mut self, text: &str, last: bool) {
        let mut rest = text;
        while !rest.is_empty() {
            let (line, next) = match rest.find('\n') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None if last => (rest, ""),
                None => break,
            };
            rest = next;
            let line = line.strip_suffix('\r').unwrap_or(line);
            let content = match (self.format, self.locs.as_mut()) {
                (Some(f), Some(locs)) => f.content_with(locs, line).unwrap_or_else(|| {
                    self.unmatched += 1;
                    line
                }),
                _ => line,
            };
            self.distinct.push(content);
        }
    }
}

/// Writes the header and one row per line; each template's `,id,"template"\n` is rendered once.
fn write_csv(out: &mut File, cluster_of_line: &[u32], templates: &[String]) -> std::io::Result<()> {
    let tails: Vec<Vec<u8>> = templates
        .iter()
        .enumerate()
        .map(|(id, t)| {
            let mut tail = format!(",{id},").into_bytes();
            if t.contains(['"', ',', '\n', '\r']) {
                tail.push(b'"');
                tail.extend_from_slice(t.replace('"', "\"\"").as_bytes());
                tail.push(b'"');
            } else {
                tail.extend_from_slice(t.as_bytes());
            }
            tail.push(b'\n');
            tail
        })
        .collect();
    let mut buf: Vec<u8> = Vec::with_capacity(2 * BLOCK);
    buf.extend_from_slice(b"line_id,template_id,template\n");
    // The line number as ASCII digits, incremented in place: `digits[first..]` is the number.
    let mut digits = [b'0'; 20];
    let mut first = digits.len() - 1;
    for &c in cluster_of_line {
        increment(&mut digits, &mut first);
        buf.extend_from_slice(&digits[first..]);
        buf.extend_from_slice(&tails[c as usize]);
        if buf.len() >= BLOCK {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    out.write_all(&buf)?;
    out.flush()
}

/// Adds one to the decimal number in `digits[*first..]`, widening it on a carry out.
fn increment(digits: &mut [u8; 20], first: &mut usize) {
    let mut i = digits.len() - 1;
    loop {
        if digits[i] < b'9' {
            digits[i] += 1;
            break;
        }
        digits[i] = b'0';
        if i == 0 {
            break; // 10^20 lines: unreachable
        }
        i -= 1;
    }
    *first = (*first).min(i);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &[u8], format: Option<&str>) -> (String, FileStats) {
        let dir = tempfile::tempdir().unwrap();
        let (log, csv) = (dir.path().join("in.log"), dir.path().join("out.csv"));
        std::fs::write(&log, input).unwrap();
        let stats = mine_file_to_csv(&log, format, &csv, &MinerConfig::default()).unwrap();
        let text = std::fs::read_to_string(&csv).unwrap();
        (text, stats)
    }

    #[test]
    fn empty_file_writes_the_header() {
        let (csv, stats) = run(b"", None);
        assert_eq!(csv, "line_id,template_id,template\n");
        assert_eq!(stats, FileStats::default());
    }

    #[test]
    fn crlf_lossy_unmatched_and_quoting() {
        let input = b"2024 INFO: took 3 ms\r\nnot a header, at all\n2024 INFO: took 5 ms\r\n\xff\xfe say \"hi\" 7";
        let (csv, stats) = run(input, Some("<Date> <Level>: <Content>"));
        assert_eq!(
            csv,
            "line_id,template_id,template\n1,0,took <*>\n2,1,\"not a header, at all\"\n\
             3,0,took <*>\n4,2,\"\u{fffd}\u{fffd} say \"\"hi\"\" <*>\"\n"
        );
        assert_eq!(
            stats,
            FileStats {
                lines: 4,
                templates: 3,
                unmatched: 2
            }
        );
    }

    #[test]
    fn long_lines_and_many_rows() {
        let mut input = "x".repeat(3 * BLOCK).into_bytes();
        input.push(b'\n');
        for i in 0..12_345 {
            input.extend_from_slice(format!("job {i} done\n").as_bytes());
        }
        let (csv, stats) = run(&input, None);
        assert_eq!(stats.lines, 12_346);
        assert!(csv.ends_with("\n12346,1,job <*> done\n"));
        assert!(csv.contains("\n9,1,job <*> done\n10,1,job <*> done\n11,1,"));
        assert!(csv.contains("\n99,1,job <*> done\n100,1,"));
    }

    #[test]
    fn errors_name_the_file() {
        let missing = Path::new("/nonexistent/funnel/x.log");
        let cfg = MinerConfig::default();
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("x.csv");
        let e = mine_file_to_csv(missing, None, &csv, &cfg).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("cannot read log file /nonexistent/funnel/x.log: "),
            "{e}"
        );
        let e = mine_file_to_csv(missing, Some("<Date>"), &csv, &cfg).unwrap_err();
        assert_eq!(
            e.to_string(),
            "bad --format '<Date>' for log file /nonexistent/funnel/x.log: log format has no <Content> field"
        );
        let log = dir.path().join("err.log");
        std::fs::write(&log, "a\n").unwrap();
        // A folder inside a file cannot be created, even by root.
        let under_file = log.join("out.csv");
        let e = mine_file_to_csv(&log, None, &under_file, &cfg).unwrap_err();
        assert!(
            e.to_string().starts_with(&format!(
                "cannot write template CSV {}: ",
                under_file.display()
            )),
            "{e}"
        );
    }
}
