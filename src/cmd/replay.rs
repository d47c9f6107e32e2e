//! `kmodel replay`: re-run a trace file and confirm it reproduces the same violation and events.

use std::path::Path;
use std::process::ExitCode;

use kmodel_harness::check::replay_trace;
use kmodel_harness::Model;

use super::{input_error, load};

pub fn run(registry: &[&'static Model], file: &Path) -> ExitCode {
    let trace = match load(file) {
        Ok(t) => t,
        Err(code) => return code,
    };
    match replay_trace(registry, &trace) {
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
        Err(e) if e.is_input_error() => input_error(format!("{}: {e}", file.display())),
        Err(e) => {
            eprintln!("kmodel: {}: {e}", file.display());
            ExitCode::from(1)
        }
    }
}
