//! `kmodel explain`: print a trace as a per-CPU timeline (or Mermaid / JSON).

use std::path::Path;
use std::process::ExitCode;

use clap::ValueEnum;
use kmodel_harness::render;

use super::load;

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Mermaid,
    Json,
}

pub fn run(file: &Path, format: Format) -> ExitCode {
    let trace = match load(file) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let out = match format {
        Format::Text => render::timeline(&trace, Some(&file.display().to_string())),
        Format::Mermaid => render::mermaid(&trace),
        Format::Json => render::json(&trace),
    };
    print!("{out}");
    ExitCode::SUCCESS
}
