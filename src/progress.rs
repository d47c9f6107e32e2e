//! Progress on stderr for long runs (`check`, `explore`, `bench`, `report`): on a terminal an
//! indicatif spinner naming the running work; otherwise (CI logs) a start line, a status line
//! every few seconds and a finish line; nothing with `-q`. Never part of stdout, never timed in
//! tests.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// How often a non-terminal run prints its status.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

static QUIET: AtomicBool = AtomicBool::new(false);

/// `-q`: no progress at all.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Relaxed);
}

/// One long-running piece of work and its status line.
pub struct Progress {
    inner: Option<Arc<Inner>>,
    /// Dropping it stops the plain-line ticker.
    stop: Option<Sender<()>>,
}

/// The widest progress line a log gets (README: output fits 100 columns in a log or a mail).
const LOG_WIDTH: usize = 100;

struct Inner {
    what: String,
    status: Mutex<String>,
    bar: Option<ProgressBar>,
    start: Instant,
}

impl Inner {
    /// The status as a log prints it: one line, or, past [`LOG_WIDTH`] columns, its
    /// `; `-separated parts (one per running worker) on indented lines of their own.
    fn line(&self) -> String {
        let status = self.status.lock().expect("status").clone();
        let when = elapsed(self.start.elapsed());
        let one = format!("kmodel: {}: {status} ({when})", self.what);
        if one.chars().count() <= LOG_WIDTH {
            return one;
        }
        let mut parts = status.split("; ");
        let mut out = format!(
            "kmodel: {}: {} ({when})",
            self.what,
            parts.next().unwrap_or_default()
        );
        for p in parts {
            out += "\n  ";
            out += p;
        }
        out
    }
}

impl Progress {
    /// Starts reporting on `what` ("check: 40 checks in 2 worker processes").
    pub fn start(what: impl Into<String>) -> Progress {
        if QUIET.load(Relaxed) {
            return Progress {
                inner: None,
                stop: None,
            };
        }
        let what = what.into();
        let terminal = crate::quiet::stderr_is_terminal();
        let bar = terminal.then(|| {
            let bar = ProgressBar::with_draw_target(None, crate::quiet::progress_target());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {prefix}: {msg} ({elapsed})")
                    .expect("valid template"),
            );
            bar.set_prefix(what.clone());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        let inner = Arc::new(Inner {
            what,
            status: Mutex::new("started".into()),
            bar,
            start: Instant::now(),
        });
        let mut stop = None;
        if !terminal {
            eprintln!("{}", inner.line());
            let (tx, rx) = channel::<()>();
            let ticker = inner.clone();
            std::thread::spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = rx.recv_timeout(PLAIN_EVERY) {
                    eprintln!("{}", ticker.line());
                }
            });
            stop = Some(tx);
        }
        Progress {
            inner: Some(inner),
            stop,
        }
    }

    /// Replaces the status ("mmcid/v3 under loom, bound 1: 12,000 executions (3,100/s)").
    pub fn set(&self, status: impl Into<String>) {
        self.status().set(status)
    }

    /// A handle on the status for callbacks that outlive a borrow.
    pub fn status(&self) -> Status {
        Status(self.inner.clone())
    }

    /// Ends the report with `outcome` ("done: 40 checks"): one line unless on a terminal.
    pub fn finish(mut self, outcome: impl Into<String>) {
        self.stop.take();
        let Some(i) = self.inner.take() else {
            return;
        };
        match &i.bar {
            Some(bar) => bar.finish_and_clear(),
            None => {
                *i.status.lock().expect("status") = outcome.into();
                eprintln!("{}", i.line());
            }
        }
    }
}

/// Sets a [`Progress`]'s status from anywhere (engine callbacks); does nothing once it ended.
#[derive(Clone)]
pub struct Status(Option<Arc<Inner>>);

impl Status {
    pub fn set(&self, status: impl Into<String>) {
        let Some(i) = &self.0 else {
            return;
        };
        let status = status.into();
        if let Some(bar) = &i.bar {
            bar.set_message(status.clone());
        }
        *i.status.lock().expect("status") = status;
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = self.inner.as_ref().and_then(|i| i.bar.as_ref()) {
            bar.finish_and_clear();
        }
    }
}

/// "1m05s", "4.2s".
pub fn elapsed(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.1}s")
    } else {
        format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

/// A count with thousands separators ("12,345").
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "N executions (R/s)" and, when the total is known, ", ETA T".
pub fn rate(n: u64, total: Option<u64>, since: Instant) -> String {
    let secs = since.elapsed().as_secs_f64();
    let per_sec = if secs > 0.0 { n as f64 / secs } else { 0.0 };
    let mut s = format!("{} executions ({}/s)", count(n), count(per_sec as u64));
    if let Some(total) = total.filter(|&t| t > n && per_sec > 0.0) {
        let left = (total - n) as f64 / per_sec;
        s += &format!(
            " of {}, ETA {}",
            count(total),
            elapsed(Duration::from_secs_f64(left))
        );
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_have_separators() {
        assert_eq!(super::count(0), "0");
        assert_eq!(super::count(999), "999");
        assert_eq!(super::count(1000), "1,000");
        assert_eq!(super::count(1234567), "1,234,567");
    }
}
