//! The command that printed follow-up commands name: `kmodel`, or a user crate's own binary.

use std::sync::OnceLock;

static PROGRAM: OnceLock<String> = OnceLock::new();

/// Names the command the printed follow-up commands use (`kmodel`, or a user crate's own
/// binary, `sleepwake-model`); set once by the command line at start.
pub fn set_program(name: &str) {
    let _ = PROGRAM.set(name.to_string());
}

/// The command the printed follow-up commands use (`kmodel` unless [`set_program`] said).
pub fn program() -> &'static str {
    PROGRAM.get().map_or("kmodel", String::as_str)
}
