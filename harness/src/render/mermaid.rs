//! The Mermaid `sequenceDiagram`: one participant per actor, a short note per event, and
//! arrows for causality: lock hand-overs, wake-ups (an IPI in the ipi-mask model is the wake-up
//! of the handler, labelled with the sender's `send_call_function_single_ipi`), and reads from
//! another CPU's store (a crossed arrow for the newer store a weak-memory read missed).
//!
//! Mermaid's grammar ends a message at `;` and `#` (and `#...;` is an entity), so the text is
//! written without them: `;` becomes `,`, a model's `#` becomes `no.`, and the event numbers
//! the marks refer to (`#12` in the text timeline) are written `[12]`, as the notes number them.

use std::fmt::Write;

use super::story::{title, Row, Story};
use crate::rt::{Event, Mark, Store};
use crate::trace::Trace;

/// Longest note line before it wraps (`<br/>`).
const NOTE_WIDTH: usize = 48;

/// Text Mermaid parses inside a message or note (a model's text: `#` is not an event number).
fn clean(s: &str) -> String {
    clean_with(s, false)
}

/// As [`clean`], for the harness's own phrases: `#n` is event number `n`.
fn clean_with(s: &str, refs: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ';' => out.push(','),
            '#' if refs && chars.peek().is_some_and(char::is_ascii_digit) => {
                out.push('[');
                while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                    out.push(d);
                    chars.next();
                }
                out.push(']');
            }
            '#' => out.push_str("no."),
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn note(e: &Event, num: usize) -> String {
    let text = if e.violation {
        format!("[{num}] VIOLATION {}", e.text)
    } else {
        format!("[{num}] {}: {}", e.func, e.text)
    };
    let text = clean(&text);
    textwrap::wrap(&text, NOTE_WIDTH).join("<br/>")
}

/// Mermaid `sequenceDiagram` of the trace.
pub fn mermaid(t: &Trace) -> String {
    let s = Story::new(t);
    let p = |a: usize| format!("A{a}");
    let mut out = String::from("sequenceDiagram\n");
    let _ = writeln!(
        out,
        "    title {}",
        clean(&format!(
            "{}/{}: {} violated",
            t.model, t.variant, t.property
        ))
    );
    let mut participants = s.shown.clone();
    participants.extend(&s.verdict_only);
    participants.sort_unstable();
    for &a in &participants {
        let _ = writeln!(out, "    participant {} as {}", p(a), clean(&title(t, a)));
    }
    let from_store = |st: &Store, to: usize, what: &str, arrow: &str, out: &mut String| {
        if st.by.actor != to && s.shown.contains(&st.by.actor) {
            let at = s
                .resolve(st.by)
                .map_or(String::new(), |n| format!(" [{n}]"));
            let _ = writeln!(out, "    {}{arrow}{}: {what}{at}", p(st.by.actor), p(to));
        }
    };
    for r in &s.rows {
        match r {
            Row::Step { actor, num, e } => {
                let text = note(e, *num);
                if e.violation {
                    let _ = writeln!(
                        out,
                        "    rect rgb(255, 200, 200)\n    Note over {}: {text}\n    end",
                        p(*actor)
                    );
                } else {
                    let _ = writeln!(out, "    Note over {}: {text}", p(*actor));
                }
            }
            Row::Mark { actor, mark, text } => match mark {
                Mark::HandOver { from } if s.shown.contains(&from.actor) => {
                    let _ = writeln!(
                        out,
                        "    {}-->>{}: lock hand-over",
                        p(from.actor),
                        p(*actor)
                    );
                }
                Mark::Woken { by: Some(by) } if s.shown.contains(&by.actor) => {
                    let why = s
                        .resolve(*by)
                        .and_then(|n| {
                            s.rows.iter().find_map(|r| match r {
                                Row::Step { num, e, .. } if *num == n => Some(e.func.as_str()),
                                _ => None,
                            })
                        })
                        .map_or(String::new(), |f| format!(" ({f})"));
                    let _ = writeln!(
                        out,
                        "    {}-->>{}: wake-up{}",
                        p(by.actor),
                        p(*actor),
                        clean(&why)
                    );
                }
                Mark::ReadsFrom { from, missed } => {
                    if let Some(st) = from {
                        from_store(st, *actor, "reads-from", "-)", &mut out);
                    }
                    if let Some(st) = missed {
                        from_store(st, *actor, "misses newer store", "--x", &mut out);
                    }
                    if from.is_none() {
                        let _ =
                            writeln!(out, "    Note over {}: reads the initial value", p(*actor));
                    }
                }
                _ => {
                    let short = text.trim_start_matches(['~', '.', '<', '^', ' ']);
                    let _ = writeln!(
                        out,
                        "    Note over {}: {}",
                        p(*actor),
                        clean_with(short, true)
                    );
                }
            },
        }
    }
    out
}
