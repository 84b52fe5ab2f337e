//! `funnel logs`: mine a plain-text log file into templates.

use std::path::PathBuf;

use clap::Args;

use super::Exit;
use funnel::logs::{file::mine_file_to_csv, miner::MinerConfig};

#[derive(Debug, Args)]
pub(crate) struct LogsArgs {
    /// A plain-text log file (any line ending; invalid UTF-8 is read lossily).
    log_file: PathBuf,
    /// The line layout, Loghub style: `<Date> <Time> <Level> <Component>: <Content>`. Only
    /// <Content> is mined; text between fields is a regex in which spaces match any whitespace.
    /// Lines that do not match are mined whole. Default: the whole line is the message.
    #[arg(long)]
    format: Option<String>,
    /// Where to write `line_id,template_id,template` (one row per input line, line_id 1-based).
    #[arg(long, short)]
    out: PathBuf,
}

pub(crate) fn run(a: &LogsArgs) -> anyhow::Result<Exit> {
    let stats = mine_file_to_csv(
        &a.log_file,
        a.format.as_deref(),
        &a.out,
        &MinerConfig::default(),
    )?;
    say!(
        "{} lines, {} templates{}; wrote {}",
        stats.lines,
        stats.templates,
        if stats.unmatched > 0 {
            format!(
                ", {} lines did not match --format and were mined whole",
                stats.unmatched
            )
        } else {
            String::new()
        },
        a.out.display()
    )?;
    Ok(Exit::Ok)
}
