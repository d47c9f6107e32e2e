//! Keeping the engines quiet: loom and shuttle print advice and per-schedule lines of their own
//! ("Test deadlocked, and SHUTTLE_CAPTURE_BACKTRACE is not set ...", "test panicked in task
//! ...") straight to the process's stderr, and Rust prints panics (with a backtrace under
//! `RUST_BACKTRACE=1`). kmodel turns all of these into verdicts, traces and one-line errors of
//! its own, so unless it runs verbose (`-v`, or `KMODEL_VERBOSE=1`) it:
//! - keeps the harness's panic hook from printing model panics (each one is reported as
//!   "model error in MODEL/VARIANT under ENGINE: MESSAGE");
//! - on Linux, routes file descriptor 2 through a filter thread that drops the engines' lines
//!   and forwards everything else unchanged (progress bars draw to the original stderr).

use std::sync::OnceLock;

use indicatif::ProgressDrawTarget;

/// `KMODEL_VERBOSE` set to anything but "" or "0".
pub fn verbose_from_env() -> bool {
    std::env::var("KMODEL_VERBOSE").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Sets up quiet (or verbose) output for this process.
pub fn install(verbose: bool) {
    kmodel_harness::engine::install_panic_hook();
    kmodel_harness::engine::set_panic_output(verbose);
    if !verbose {
        filter::install();
    }
}

/// Drops only the engines' own lines from stderr (unless `KMODEL_VERBOSE` is set); panics still
/// print. The `cargo test` integration uses it, so a green suite's log is not
/// a wall of "Test deadlocked" lines from expected deadlocks.
pub fn install_engine_filter() {
    if !verbose_from_env() {
        filter::install();
    }
}

/// Flushes what the stderr filter holds and restores stderr; call before the process exits.
pub fn finish() {
    filter::finish();
}

/// Exits the process now with `code`, after [`finish`].
pub fn exit(code: u8) -> ! {
    finish();
    std::process::exit(i32::from(code))
}

/// Where progress bars draw: the terminal behind stderr, or nowhere when stderr is not one.
pub fn progress_target() -> ProgressDrawTarget {
    filter::progress_target().unwrap_or_else(ProgressDrawTarget::stderr)
}

/// Whether stderr (before the filter took it over) is a terminal.
pub fn stderr_is_terminal() -> bool {
    filter::stderr_is_terminal()
        .unwrap_or_else(|| std::io::IsTerminal::is_terminal(&std::io::stderr()))
}

/// Lines the engines print on their own, dropped unless verbose.
const DROPPED: &[&[u8]] = &[
    b"Test deadlocked, and SHUTTLE_CAPTURE_BACKTRACE is not set",
    b"test panicked in task '",
    b"Task failed, serializing schedule",
];

/// Whether `line` is (or may still become, while incomplete) one of [`DROPPED`].
fn may_drop(line: &[u8]) -> bool {
    DROPPED
        .iter()
        .any(|p| p.starts_with(line) || line.starts_with(p))
}

/// The line filter itself: bytes in, bytes to forward out. A line is held back only while it
/// may still turn out to be a dropped one; everything else passes at once (progress bars
/// redraw without newlines).
#[derive(Default)]
struct LineFilter {
    held: Vec<u8>,
    passing: bool,
}

impl LineFilter {
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        for &b in bytes {
            if self.passing {
                out.push(b);
                self.passing = b != b'\n';
                continue;
            }
            self.held.push(b);
            if b == b'\n' {
                let line = &self.held[..self.held.len() - 1];
                if !DROPPED.iter().any(|p| line.starts_with(p)) {
                    out.extend_from_slice(&self.held);
                }
                self.held.clear();
            } else if !may_drop(&self.held) {
                out.append(&mut self.held);
                self.passing = true;
            }
        }
    }

    fn end(&mut self, out: &mut Vec<u8>) {
        if !DROPPED.iter().any(|p| self.held.starts_with(p)) {
            out.append(&mut self.held);
        }
        self.held.clear();
    }
}

#[cfg(target_os = "linux")]
mod filter {
    use std::fs::File;
    use std::io::{Read, Write};
    use std::mem::ManuallyDrop;
    use std::os::fd::FromRawFd;
    use std::sync::Mutex;
    use std::thread::JoinHandle;
    use std::time::Duration;

    use indicatif::{ProgressDrawTarget, TermLike};

    use super::{LineFilter, OnceLock};

    type CInt = std::ffi::c_int;
    const F_DUPFD_CLOEXEC: CInt = 1030;
    const O_CLOEXEC: CInt = 0o2_000_000;
    const STDERR: CInt = 2;

    extern "C" {
        fn fcntl(fd: CInt, cmd: CInt, arg: CInt) -> CInt;
        fn dup2(old: CInt, new: CInt) -> CInt;
        fn pipe2(fds: *mut CInt, flags: CInt) -> CInt;
        fn close(fd: CInt) -> CInt;
        fn isatty(fd: CInt) -> CInt;
    }

    struct Installed {
        /// The original stderr (close-on-exec).
        saved: CInt,
        tty: bool,
        thread: Mutex<Option<JoinHandle<()>>>,
    }

    static INSTALLED: OnceLock<Installed> = OnceLock::new();

    /// A `File` view of a descriptor this module owns (never closed through it).
    fn file(fd: CInt) -> ManuallyDrop<File> {
        // SAFETY: `fd` is open for the life of the process (the saved stderr or the pipe).
        ManuallyDrop::new(unsafe { File::from_raw_fd(fd) })
    }

    pub fn install() {
        if INSTALLED.get().is_some() {
            return;
        }
        // SAFETY: plain descriptor calls; every result is checked before use.
        let (saved, tty, read) = unsafe {
            let tty = isatty(STDERR) == 1;
            let saved = fcntl(STDERR, F_DUPFD_CLOEXEC, 3);
            if saved < 0 {
                return;
            }
            let mut fds: [CInt; 2] = [-1, -1];
            if pipe2(fds.as_mut_ptr(), O_CLOEXEC) != 0 {
                close(saved);
                return;
            }
            // fd 2 itself is not close-on-exec (dup2 clears the flag): children that inherit
            // stderr write through the filter too.
            if dup2(fds[1], STDERR) < 0 {
                close(fds[0]);
                close(fds[1]);
                close(saved);
                return;
            }
            close(fds[1]);
            (saved, tty, fds[0])
        };
        let thread = std::thread::Builder::new()
            .name("kmodel-stderr".into())
            .spawn(move || {
                let mut input = file(read);
                let mut output = file(saved);
                let mut filter = LineFilter::default();
                let mut buf = [0u8; 8192];
                let mut out = vec![];
                loop {
                    match input.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => filter.feed(&buf[..n], &mut out),
                    }
                    let _ = output.write_all(&out);
                    out.clear();
                }
                filter.end(&mut out);
                let _ = output.write_all(&out);
                // SAFETY: the read end is only used by this thread.
                unsafe { close(read) };
            });
        let Ok(thread) = thread else {
            // SAFETY: put the original stderr back.
            unsafe { dup2(saved, STDERR) };
            return;
        };
        let _ = INSTALLED.set(Installed {
            saved,
            tty,
            thread: Mutex::new(Some(thread)),
        });
    }

    pub fn finish() {
        let Some(i) = INSTALLED.get() else {
            return;
        };
        let _ = std::io::stderr().flush();
        // Closing our last write end ends the filter thread once it forwarded everything.
        // SAFETY: restores the original descriptor 2.
        unsafe { dup2(i.saved, STDERR) };
        let handle = i.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(h) = handle {
            // A child that inherited the pipe may keep it open: do not wait for it forever.
            let deadline = std::time::Instant::now() + Duration::from_secs(2);
            while !h.is_finished() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
            if h.is_finished() {
                let _ = h.join();
            }
        }
    }

    pub fn stderr_is_terminal() -> Option<bool> {
        INSTALLED.get().map(|i| i.tty)
    }

    pub fn progress_target() -> Option<ProgressDrawTarget> {
        let i = INSTALLED.get()?;
        Some(if i.tty {
            ProgressDrawTarget::term_like(Box::new(SavedStderr(i.saved)))
        } else {
            ProgressDrawTarget::hidden()
        })
    }

    /// The original stderr (a terminal), for progress bars.
    #[derive(Debug)]
    struct SavedStderr(CInt);

    impl SavedStderr {
        fn put(&self, s: &str) -> std::io::Result<()> {
            let mut f = file(self.0);
            f.write_all(s.as_bytes())
        }
    }

    impl TermLike for SavedStderr {
        fn width(&self) -> u16 {
            std::env::var("COLUMNS")
                .ok()
                .and_then(|c| c.parse().ok())
                .unwrap_or(100)
        }
        fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
            if n > 0 {
                self.put(&format!("\x1b[{n}A"))?;
            }
            Ok(())
        }
        fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
            if n > 0 {
                self.put(&format!("\x1b[{n}B"))?;
            }
            Ok(())
        }
        fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
            if n > 0 {
                self.put(&format!("\x1b[{n}C"))?;
            }
            Ok(())
        }
        fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
            if n > 0 {
                self.put(&format!("\x1b[{n}D"))?;
            }
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.put(&format!("{s}\n"))
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            self.put(s)
        }
        fn clear_line(&self) -> std::io::Result<()> {
            self.put("\r\x1b[2K")
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod filter {
    use indicatif::ProgressDrawTarget;

    pub fn install() {}
    pub fn finish() {}
    pub fn stderr_is_terminal() -> Option<bool> {
        None
    }
    pub fn progress_target() -> Option<ProgressDrawTarget> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::LineFilter;

    fn run(chunks: &[&str]) -> String {
        let mut f = LineFilter::default();
        let mut out = vec![];
        for c in chunks {
            f.feed(c.as_bytes(), &mut out);
        }
        f.end(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn drops_engine_lines_and_keeps_the_rest() {
        let deadlock = "Test deadlocked, and SHUTTLE_CAPTURE_BACKTRACE is not set. If ...\n";
        assert_eq!(run(&[deadlock, "kmodel: error: x\n"]), "kmodel: error: x\n");
        // Split anywhere, including inside the dropped prefix.
        assert_eq!(run(&["Test dead", &deadlock[9..], "a\n"]), "a\n");
        assert_eq!(run(&["Test de", "bugging\n"]), "Test debugging\n");
        // Progress bar redraws pass at once, without a newline.
        let mut f = LineFilter::default();
        let mut out = vec![];
        f.feed(b"\r\x1b[2K 12 executions", &mut out);
        assert_eq!(out, b"\r\x1b[2K 12 executions");
    }
}
