//! Worker processes: `kmodel check`, `kmodel bench` and `kmodel report` hand items of work to
//! copies of this same command started with `--worker` (loom explorations do not scale over
//! threads of one process: loom maps a fresh stack per thread per execution, and the munmap TLB
//! shootdowns serialize threads of one process).
//!
//! One protocol: the parent writes an item number per line on a worker's stdin, as soon as the
//! worker answered the previous one; the worker may send progress lines (`executions N`,
//! `pass K`) while working, then answers with one JSON line on stdout; it exits when stdin
//! closes. (Kept by hand: a line protocol over pipes is ~100 lines here, while the crates that
//! offer process pools bring an async runtime or their own serialization and still need the
//! re-exec and stderr handling below.)

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Mutex;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// What the parent hears from its workers, for progress reports.
#[derive(Clone, Copy, Debug)]
pub enum Tick {
    /// Worker `worker` started on `item`.
    Started { worker: usize, item: usize },
    /// It has run `n` executions of its item so far.
    Executions { worker: usize, n: u64 },
    /// It started loom's pass with preemption bound `bound`.
    Pass { worker: usize, bound: u32 },
    /// Worker `worker` answered its item; `answered` items are done in all.
    Done { worker: usize, answered: usize },
}

/// Worker side: tells the parent how many executions the current item has run.
pub fn send_executions(n: u64) {
    let _ = writeln!(std::io::stdout().lock(), "executions {n}");
}

/// Worker side: tells the parent loom started the pass with preemption bound `bound`.
pub fn send_pass(bound: u32) {
    let _ = writeln!(std::io::stdout().lock(), "pass {bound}");
}

/// Parent side: runs `items` (in this order) in `jobs` workers, calling `progress` with what
/// they report; returns the answers by item. `what` names an item in errors.
pub fn run<T: DeserializeOwned + Send>(
    jobs: usize,
    items: Vec<usize>,
    what: &str,
    progress: impl Fn(Tick) + Sync,
) -> Result<BTreeMap<usize, T>, String> {
    let queue = Mutex::new(items.into_iter());
    let done = Mutex::new(BTreeMap::new());
    std::thread::scope(|scope| -> Result<(), String> {
        let mut handles = vec![];
        for worker in 0..jobs {
            let mut child = spawn(&["--worker"])?;
            let (queue, done, progress) = (&queue, &done, &progress);
            handles.push(scope.spawn(move || -> Result<(), String> {
                let mut stdin = child.stdin.take().expect("piped");
                let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
                loop {
                    let Some(i) = queue.lock().expect("queue").next() else {
                        break;
                    };
                    writeln!(stdin, "{i}").map_err(|e| format!("worker: {e}"))?;
                    progress(Tick::Started { worker, item: i });
                    let mut line = String::new();
                    loop {
                        line.clear();
                        stdout
                            .read_line(&mut line)
                            .map_err(|e| format!("worker: {e}"))?;
                        let tick = line.trim_end().split_once(' ').and_then(|(k, v)| match k {
                            "executions" => v.parse().ok().map(|n| Tick::Executions { worker, n }),
                            "pass" => v.parse().ok().map(|bound| Tick::Pass { worker, bound }),
                            _ => None,
                        });
                        match tick {
                            Some(t) => progress(t),
                            None => break,
                        }
                    }
                    let answer: T = serde_json::from_str(&line)
                        .map_err(|_| format!("a worker process failed on {what} {i}"))?;
                    let mut done = done.lock().expect("done");
                    done.insert(i, answer);
                    progress(Tick::Done {
                        worker,
                        answered: done.len(),
                    });
                }
                drop(stdin);
                child.wait().map_err(|e| format!("worker: {e}"))?;
                Ok(())
            }));
        }
        handles.into_iter().try_for_each(|h| {
            h.join()
                .map_err(|_| "a worker thread panicked".to_string())?
        })
    })?;
    Ok(done.into_inner().expect("done"))
}

/// Worker side: answers each item number read from stdin with `answer(item)` as one JSON line,
/// until stdin closes. An error is an input error (exit 2); the parent reports the item.
pub fn serve<T: Serialize>(mut answer: impl FnMut(usize) -> Result<T, String>) -> ExitCode {
    // Not locked across `answer`: progress lines come from the engine's threads meanwhile.
    let out = std::io::stdout();
    for line in std::io::stdin().lock().lines().map_while(Result::ok) {
        let Ok(i) = line.trim().parse::<usize>() else {
            return crate::cmd::input_error(format!("worker: bad item number '{line}'"));
        };
        let json = match answer(i) {
            Ok(a) => serde_json::to_string(&a).expect("answers serialize"),
            Err(e) => return crate::cmd::input_error(e),
        };
        let mut out = out.lock();
        if writeln!(out, "{json}").and_then(|_| out.flush()).is_err() {
            break;
        }
    }
    ExitCode::SUCCESS
}

/// Starts this command again with `extra` arguments, stdin and stdout piped. Its stderr is
/// forwarded to ours by a thread (the worker drops the engines' own lines itself, unless
/// verbose: see `quiet`).
fn spawn(extra: &[&str]) -> Result<Child, String> {
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
        eprintln!("{line}");
    }
}
