//! `kmodel explain`: print a trace as a per-CPU timeline (or Mermaid / JSON). A trace this
//! kmodel cannot vouch for (stale, or naming an unknown model, variant, property or parameter)
//! is refused with exit 2, or rendered under a loud warning with `--force`.

use std::path::Path;
use std::process::ExitCode;

use clap::ValueEnum;
use kmodel_harness::check::ReplayError;
use kmodel_harness::{render, replay, Model};

use super::{input_error, load};

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Mermaid,
    Json,
}

pub fn run(registry: &[&'static Model], file: &Path, format: Format, force: bool) -> ExitCode {
    let trace = match load(file) {
        Ok(t) => t,
        Err(code) => return code,
    };
    if let Err(e) = replay::validate(registry, &trace) {
        let what = match e {
            ReplayError::Stale { .. } => "the model changed since this trace was recorded",
            _ => "this trace does not match the models of this kmodel",
        };
        if !force {
            return input_error(format!(
                "{}: {e} (--force renders it anyway)",
                file.display()
            ));
        }
        eprintln!(
            "kmodel: WARNING: {}: {e}\nkmodel: WARNING: {what}: the timeline below may not describe any execution of the current model",
            file.display()
        );
    }
    let out = match format {
        Format::Text => render::timeline(&trace, Some(&file.display().to_string())),
        Format::Mermaid => render::mermaid(&trace),
        Format::Json => render::json(&trace),
    };
    print!("{out}");
    ExitCode::SUCCESS
}
