//! Corrupt Parquet is bad input, even where the decoder panics on it.
//!
//! polars-parquet asserts on some corrupt pages instead of returning an error (a dictionary
//! page whose indices are shorter than its header claims, found by the fuzzer: see
//! tests/fuzz-regressions/). Each decode of a file's bytes runs under [`decode`], which turns
//! such a panic into [`Error::Parquet`] naming the file. While it runs, [`quiet`] tells the
//! binary's panic hook that the panic is handled, so no bug report is asked for.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use crate::error::Error;

thread_local! {
    static GUARDED: Cell<u32> = const { Cell::new(0) };
}

/// True while this thread decodes under [`decode`]: a panic here becomes an input error.
#[must_use]
pub fn quiet() -> bool {
    GUARDED.with(Cell::get) > 0
}

/// Runs `f`, a decode of `path`'s bytes on this thread; a panic inside becomes an error.
pub(crate) fn decode<T>(path: &Path, f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    GUARDED.with(|g| g.set(g.get() + 1));
    // The closure's state is dropped whole on a panic (a reader of a corrupt file); nothing
    // half-updated outlives it.
    let r = catch_unwind(AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(g.get().saturating_sub(1)));
    r.unwrap_or_else(|p| {
        let what = p
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        Err(Error::Parquet {
            path: path.to_path_buf(),
            message: format!(
                "corrupt data: the decoder failed ({})",
                super::columns::first_line(&what)
            ),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_is_an_error_naming_the_file_and_quiet_only_inside() {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let r: Result<(), Error> = decode(Path::new("x/logs.parquet"), || {
            assert!(quiet());
            panic!("assertion `left == right` failed")
        });
        std::panic::set_hook(prev);
        assert!(!quiet());
        let msg = r.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("x/logs.parquet"), "{msg}");
        assert!(msg.contains("corrupt data"), "{msg}");
        assert!(decode(Path::new("y"), || Ok(3)).is_ok_and(|v| v == 3));
    }
}
