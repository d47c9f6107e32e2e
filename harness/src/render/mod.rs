//! Renders a counterexample for people: a timeline that fits a mail (one column per CPU, or one
//! line per event when the columns do not fit), a Mermaid sequence diagram with causality
//! arrows, or JSON.
//!
//! - `story.rs`: what both read: actor labels, event numbers, and the harness's marks in words.
//! - `text.rs`: the header and the two text layouts (`columns`, `events`).
//! - `mermaid.rs`: the Mermaid diagram.

mod mermaid;
mod story;
mod text;

pub use mermaid::mermaid;
pub use text::{timeline_with, Layout, TextOptions};

use std::sync::OnceLock;

use crate::trace::Trace;

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

/// The timeline at 80 columns in the layout that fits (what `kmodel explain` prints to a pipe).
pub fn timeline(t: &Trace, path: Option<&str>) -> String {
    timeline_with(t, path, TextOptions::default())
}

/// The timeline as JSON: actors and events (marks included) in order.
pub fn json(t: &Trace) -> String {
    let v = serde_json::json!({
        "model": t.model,
        "variant": t.variant,
        "property": t.property,
        "message": t.message,
        "engine": t.engine,
        "actors": t.actors,
        "events": t.events,
    });
    serde_json::to_string_pretty(&v).expect("serializes") + "\n"
}
