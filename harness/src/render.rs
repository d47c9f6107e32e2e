//! Renders a counterexample as a per-CPU timeline (one column per actor, as in kernel
//! changelogs), a Mermaid sequence diagram, or JSON.

use std::fmt::Write;

use crate::trace::Trace;

const MIN_WIDTH: usize = 24;
const MAX_WIDTH: usize = 40;

/// The header lines: what was violated, by which engine, and how to replay it.
fn header(t: &Trace, path: Option<&str>) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}/{}: [{}] VIOLATED", t.model, t.variant, t.property);
    if !t.claim.is_empty() {
        let _ = writeln!(s, "claim:   {}", t.claim);
    }
    let _ = writeln!(s, "found:   {}", t.message);
    let plural = |n: u32, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    // loom's bound limits loom's own count (a switch away from the running thread at one of
    // its schedule points); the harness counts switches at harness operations, which can be
    // more. Say which count is which, so the bound and the count never contradict each other.
    let pre = match (t.replay.engine_preemptions(), t.schedule.preemptions) {
        (Some(l), Some(h)) if l != h => format!(
            "{} (loom's count; {} at harness operations)",
            plural(l, "preemption", "preemptions"),
            plural(h, "switch", "switches")
        ),
        (Some(l), _) => plural(l, "preemption", "preemptions"),
        (None, Some(h)) => plural(h, "preemption", "preemptions"),
        (None, None) => "preemptions unknown".to_string(),
    };
    let subtree = t
        .found_in_subtree
        .map_or(String::new(), |i| format!(" of subtree {i}"));
    let _ = writeln!(
        s,
        "engine:  {} [{}], memory model {}; execution {}{subtree}; {}, {} steps",
        t.engine, t.engine_version, t.memory_model, t.found_at_execution, pre, t.schedule.steps
    );
    if !t.params.is_empty() {
        let p: Vec<String> = t.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(s, "params:  {}", p.join(" "));
    }
    if let Some(path) = path {
        let _ = writeln!(s, "replay:  kmodel replay {path}");
    }
    s
}

/// Word-wraps `text` to `width` columns (long words are cut).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![];
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word = word.to_string();
        while word.chars().count() > width {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(head);
        }
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Actors that appear in the timeline, in actor order (main only if it logged something).
fn columns(t: &Trace) -> Vec<usize> {
    (0..t.actors.len())
        .filter(|&a| a != 0 || t.events.iter().any(|e| e.actor == 0))
        .collect()
}

fn event_text(e: &crate::rt::Event) -> String {
    if e.violation {
        format!("*** VIOLATION {}", e.text)
    } else {
        format!("{}: {}", e.func, e.text)
    }
}

/// The per-CPU timeline: one column per actor, one row per event, in execution order.
pub fn timeline(t: &Trace, path: Option<&str>) -> String {
    let mut out = header(t, path);
    out.push('\n');
    let cols = columns(t);
    let longest = t
        .events
        .iter()
        .map(|e| event_text(e).chars().count())
        .max()
        .unwrap_or(0);
    let width = longest.clamp(MIN_WIDTH, MAX_WIDTH);
    let pad = |s: &str| format!("{s:<width$}");
    let row = |cells: Vec<String>| cells.join(" | ").trim_end().to_string() + "\n";

    out += &row(cols.iter().map(|&a| pad(&t.actors[a])).collect());
    out += &row(cols.iter().map(|_| "-".repeat(width)).collect());
    for e in &t.events {
        let lines = wrap(&event_text(e), width);
        for line in lines {
            out += &row(cols
                .iter()
                .map(|&a| if a == e.actor { pad(&line) } else { pad("") })
                .collect());
        }
    }
    out
}

/// Mermaid `sequenceDiagram`: one participant per actor, one note per event.
pub fn mermaid(t: &Trace) -> String {
    let esc = |s: &str| s.replace('#', "#35;").replace(';', "#59;");
    let mut out = String::from("sequenceDiagram\n");
    let _ = writeln!(
        out,
        "    title {}/{}: {} violated",
        t.model, t.variant, t.property
    );
    for a in columns(t) {
        let _ = writeln!(out, "    participant A{a} as {}", esc(&t.actors[a]));
    }
    for e in &t.events {
        let text = esc(&event_text(e));
        if e.violation {
            let _ = writeln!(
                out,
                "    rect rgb(255, 200, 200)\n    Note over A{}: {text}\n    end",
                e.actor
            );
        } else {
            let _ = writeln!(out, "    Note over A{}: {text}", e.actor);
        }
    }
    out
}

/// The timeline as JSON: actors and events in order.
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
