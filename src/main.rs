//! The `funnel` binary: parse arguments, run, map errors to exit codes.
//!
//! Exit codes: 0 success (a closed stdout or stderr pipe included), 1 regressions or failed
//! incidents, 2 bad input, 101 a bug (a panic anywhere, rayon threads included), 130 `mine`
//! stopped by SIGINT/SIGTERM with its journal saved.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod cli;

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser;

/// Set by the panic hook: a panic caught on the way (one incident of `mine`, which becomes an
/// error row so the other archives are still analysed) still ends the process with 101.
static PANICKED: AtomicBool = AtomicBool::new(false);

/// Exit code of a bug, as Rust's own for an uncaught panic.
const BUG: u8 = 101;

fn main() -> ExitCode {
    install_panic_hook();
    let result = std::panic::catch_unwind(|| cli::run(cli::Args::parse()));
    let code = match result {
        Err(_) => return ExitCode::from(BUG),
        Ok(r) => exit_code(r),
    };
    if PANICKED.load(Ordering::SeqCst) {
        return ExitCode::from(BUG);
    }
    code
}

fn exit_code(r: anyhow::Result<cli::Exit>) -> ExitCode {
    match r {
        Ok(cli::Exit::Ok) => ExitCode::SUCCESS,
        Ok(cli::Exit::Failures) => ExitCode::from(1),
        Ok(cli::Exit::Interrupted) => ExitCode::from(130),
        Err(e) => {
            // A closed pipe (`funnel rules | head`) is not an error worth reporting.
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            // stderr may be closed too; nothing is left to tell then.
            let _ = writeln!(std::io::stderr().lock(), "error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Prints the default panic message, then what it means and what to send: the command line
/// names the input. Runs on whichever thread panicked.
fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // A decoder's panic on a corrupt file, caught and reported as bad input.
        if funnel::archive::guard::quiet() {
            return;
        }
        default(info);
        PANICKED.store(true, Ordering::SeqCst);
        let args: Vec<String> = std::env::args_os()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let _ = writeln!(
            std::io::stderr().lock(),
            "funnel hit a bug (the panic above), not a problem with your input. Please report \
             it with this command line and, if you can share it, the input it names:\n  {}",
            args.join(" ")
        );
    }));
}
