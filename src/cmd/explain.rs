//! `kmodel explain`: print a trace as a timeline that fits the terminal (or `--width`), in one
//! column per CPU or one line per event, or as Mermaid / JSON. A trace this kmodel cannot vouch
//! for (stale, or naming an unknown model, variant, property or parameter) is refused with exit
//! 2, or rendered under a loud warning with `--force`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use kmodel_harness::render::{self, Layout, TextOptions};
use kmodel_harness::verdict::Error;
use kmodel_harness::{replay, Model};

use super::{input_error, load, whole};

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Mermaid,
    Json,
}

/// The text layouts (`--layout`).
#[derive(Clone, Copy, ValueEnum)]
pub enum LayoutArg {
    /// One column per actor.
    Columns,
    /// One line per event, labelled with its actor.
    Events,
    /// Columns when each gets 24 characters or more, else events.
    Auto,
}

/// The narrowest and widest text timeline (`--width`).
const MIN_WIDTH: u64 = 40;
const MAX_WIDTH: u64 = 10_000;

#[derive(Args)]
pub struct ExplainArgs {
    file: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Columns the text timeline may use (default: the terminal's width, 80 when stdout is not
    /// a terminal; at least 40).
    #[arg(long, value_parser = whole::<usize>(MIN_WIDTH..=MAX_WIDTH), allow_hyphen_values = true)]
    width: Option<usize>,
    /// Text layout.
    #[arg(long, value_enum, default_value_t = LayoutArg::Auto)]
    layout: LayoutArg,
    /// Render a stale trace, or one naming a model, variant or property this kmodel does not
    /// have (with a warning on stderr); without it such traces are refused (exit 2).
    #[arg(long)]
    force: bool,
}

pub fn run(registry: &[&'static dyn Model], a: ExplainArgs) -> ExitCode {
    let file = a.file.as_path();
    let trace = match load(file) {
        Ok(t) => t,
        Err(code) => return code,
    };
    if let Err(e) = replay::validate(registry, &trace) {
        let what = match e {
            Error::Stale { .. } => "the model changed since this trace was recorded",
            _ => "this trace does not match the models of this kmodel",
        };
        if !a.force {
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
    let width = a.width.unwrap_or_else(|| {
        if std::io::stdout().is_terminal() {
            textwrap::termwidth()
        } else {
            80
        }
    });
    let layout = match a.layout {
        LayoutArg::Columns => Layout::Columns,
        LayoutArg::Events => Layout::Events,
        LayoutArg::Auto => Layout::Auto,
    };
    let out = match a.format {
        Format::Text => render::timeline_with(
            &trace,
            Some(&file.display().to_string()),
            TextOptions { width, layout },
        ),
        Format::Mermaid => render::mermaid(&trace),
        Format::Json => render::json(&trace),
    };
    print!("{out}");
    ExitCode::SUCCESS
}
