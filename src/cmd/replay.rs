//! `kmodel replay`: re-run a trace file and confirm it reproduces the same violation and events.
//! The trace is validated before any engine runs (see `kmodel_harness::replay::validate`), and a
//! watchdog bounds the replay's wall-clock time, so no file can hang it.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use kmodel_harness::replay::replay_trace;
use kmodel_harness::verdict::{failure_line, CheckLabel, Error, Exit};
use kmodel_harness::Model;

use super::{input_error, load};

pub fn run(registry: &'static [&'static dyn Model], file: &Path, timeout: Duration) -> ExitCode {
    let trace = match load(file) {
        Ok(t) => t,
        Err(code) => return code,
    };
    if let Err(e) = super::temp_dir_usable() {
        return input_error(e);
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let t = trace.clone();
    let worker = std::thread::Builder::new()
        .name("replay".into())
        .spawn(move || {
            // Engines catch the model's panics; one that escapes them is the engine's (or the
            // harness's): reported, never the end of the process.
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                replay_trace(registry, &t)
            }))
            .map_err(|p| panic_message(&*p));
            let _ = tx.send(r);
        });
    if let Err(e) = worker {
        return input_error(format!("cannot start the replay: {e}"));
    }
    let result = match rx.recv_timeout(timeout) {
        Ok(Ok(r)) => r,
        Ok(Err(panic)) => {
            let label = CheckLabel::new(&trace.model, &trace.variant).under(&trace.engine);
            eprintln!(
                "kmodel: engine error in {label}: {} (replaying {})",
                one_line(&panic),
                file.display()
            );
            return Exit::Verdict.into();
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            eprintln!(
                "kmodel: error: {}: the replay did not finish within {} (--timeout)",
                file.display(),
                humantime::format_duration(timeout)
            );
            crate::quiet::exit(Exit::Input.code())
        }
        // The replay thread ended without an answer: it panicked outside the engines.
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(Error::ModelPanic(
            "the replay stopped without a result".into(),
        )),
    };
    match result {
        Ok(r) => {
            println!(
                "reproduced {}/{}: [{}] {} ({} events identical, {} under {})",
                trace.model,
                trace.variant,
                trace.property,
                trace.message,
                r.events.len(),
                trace.memory_model,
                trace.engine
            );
            ExitCode::SUCCESS
        }
        Err(e) if e.exit() == Exit::Input => input_error(format!("{}: {e}", file.display())),
        Err(e @ Error::ModelPanic(_)) => {
            let label = CheckLabel::new(&trace.model, &trace.variant).under(&trace.engine);
            eprintln!(
                "kmodel: {} (replaying {})",
                failure_line(&label.to_string(), &e),
                file.display()
            );
            e.exit().into()
        }
        Err(e) => {
            eprintln!("kmodel: {}: {e}", file.display());
            e.exit().into()
        }
    }
}

/// A panic's message.
fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "non-string panic payload".into())
}

/// A message as one line.
fn one_line(msg: &str) -> String {
    msg.split_whitespace().collect::<Vec<_>>().join(" ")
}
