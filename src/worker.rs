//! Worker processes: `kmodel check` and `kmodel bench` run parts of their work in copies of
//! this same command (loom explorations do not scale over threads of one process).

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};

/// Starts this command again with `extra` arguments, stdin and stdout piped. Its stderr is
/// forwarded to ours by a thread, without the line shuttle prints for every deadlocked schedule
/// (the deadlock is already a verdict in the table).
pub fn spawn(extra: &[&str]) -> Result<Child, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find kmodel itself: {e}"))?;
    let mut child = Command::new(exe)
        .args(std::env::args().skip(1))
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start a worker: {e}"))?;
    let stderr = child.stderr.take().expect("piped");
    // Drained at once: a full pipe would stall the worker.
    std::thread::spawn(move || forward_stderr(stderr));
    Ok(child)
}

fn forward_stderr(stderr: impl Read) {
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        if !line.starts_with("Test deadlocked, and SHUTTLE_CAPTURE_BACKTRACE is not set") {
            eprintln!("{line}");
        }
    }
}
