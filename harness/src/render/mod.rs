//! Renders a counterexample for people: a timeline that fits a mail (one column per CPU, or one
//! line per event when the columns do not fit), a Mermaid sequence diagram with causality
//! arrows, or JSON.
//!
//! - `story.rs`: what both read: actor labels, event numbers, and the harness's marks in words.
//! - `text.rs`: the header and the two text layouts (`columns`, `events`).
//! - `mermaid.rs`: the Mermaid diagram.
//! - `program.rs`: the command that printed follow-up commands name.

mod mermaid;
mod program;
mod story;
mod text;

pub use mermaid::mermaid;
pub use program::{program, set_program};
pub use text::{timeline_with, Layout, TextOptions};

use crate::trace::Trace;

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
