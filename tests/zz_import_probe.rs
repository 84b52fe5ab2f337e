//! Temporary probe (deleted after use): compiles tests/cli/import.rs on its own.
#[path = "cli/import.rs"]
mod import;
