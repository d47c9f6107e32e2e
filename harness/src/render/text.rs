//! The text timeline: a header, then either one column per actor (as in kernel changelogs) or
//! one line per event (`12 CPU1  exit_mm: current->mm = NULL`) when the columns do not fit the
//! width. Everything is wrapped to the width with `textwrap`, so it pastes into an 80-column mail.

use std::fmt::Write;

use textwrap::{Options, WordSeparator, WordSplitter};

use super::story::{title, Row, Story};
use crate::trace::Trace;

/// Narrowest column the columns layout accepts before `auto` switches to events.
const MIN_COLUMN: usize = 24;
/// Widest column (longer texts wrap).
const MAX_COLUMN: usize = 40;
const SEP: &str = " | ";

/// Which text layout to print.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Layout {
    /// One column per actor.
    Columns,
    /// One line per event, labelled with its actor.
    Events,
    /// Columns when each column gets at least 24 characters, else events.
    #[default]
    Auto,
}

/// How to print a timeline.
#[derive(Clone, Copy, Debug)]
pub struct TextOptions {
    /// Columns available (the header and both layouts wrap to it).
    pub width: usize,
    pub layout: Layout,
}

impl Default for TextOptions {
    fn default() -> Self {
        TextOptions {
            width: 80,
            layout: Layout::Auto,
        }
    }
}

/// `text` wrapped to `width` at spaces (textwrap), later lines indented by `indent`. A word
/// longer than a line is broken between tokens (before or after punctuation: `p->|pi_lock`,
/// `cond|=1`); an identifier longer than the line after an underscore
/// (`smp_call_function_many_|cond`, `TASK_|UNINTERRUPTIBLE`), so a timeline never wraps inside
/// one of its words. textwrap cannot do either itself: its word splitters hyphenate and its
/// `break_words` cuts at the width.
fn wrap(text: &str, width: usize, indent: &str) -> Vec<String> {
    let width = width.max(indent.len() + 8);
    let o = Options::new(width)
        .subsequent_indent(indent)
        .word_separator(WordSeparator::AsciiSpace)
        .word_splitter(WordSplitter::NoHyphenation)
        .break_words(false);
    let mut out = vec![];
    for line in textwrap::wrap(text, o) {
        let mut line = line.into_owned();
        while line.chars().count() > width {
            let cut = token_break(&line, width, indent.len());
            let rest = line.split_off(cut);
            out.push(line);
            line = format!("{indent}{rest}");
        }
        out.push(line);
    }
    out
}

/// Where to break an over-long line: the last token boundary at or before `width` (and after
/// the indent), else the last underscore inside the identifier there, else `width` itself (an
/// identifier word longer than the line).
fn token_break(line: &str, width: usize, indent: usize) -> usize {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let idx: Vec<(usize, char)> = line.char_indices().collect();
    let at = |i: usize| idx.get(i).map_or(line.len(), |&(b, _)| b);
    let last = |ok: &dyn Fn(char, char) -> bool| {
        (indent + 1..=width.min(idx.len() - 1))
            .rev()
            .find(|&i| ok(idx[i - 1].1, idx[i].1))
    };
    last(&|a, b| !(ident(a) && ident(b)))
        .or_else(|| last(&|a, b| a == '_' && b != '_'))
        .map_or(at(width), at)
}

/// A `label:` line of the header, wrapped with its continuation under the value.
fn field(out: &mut String, label: &str, value: &str, width: usize) {
    let first = format!("{label:<9}{value}");
    let o = Options::new(width)
        .subsequent_indent("         ")
        .word_separator(WordSeparator::AsciiSpace)
        .word_splitter(WordSplitter::NoHyphenation);
    for l in textwrap::wrap(&first, o) {
        let _ = writeln!(out, "{l}");
    }
}

/// The header lines: what was violated, by which engine, and how to replay it.
fn header(t: &Trace, path: Option<&str>, width: usize) -> String {
    let mut s = String::new();
    let title = format!("{}/{}: [{}] VIOLATED", t.model, t.variant, t.property);
    for l in wrap(&title, width, "  ") {
        let _ = writeln!(s, "{l}");
    }
    if !t.claim.is_empty() {
        field(&mut s, "claim:", &t.claim, width);
    }
    field(&mut s, "found:", &t.message, width);
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
    let engine = format!(
        "{} [{}], memory model {}; execution {}{subtree}; {}, {} steps",
        t.engine, t.engine_version, t.memory_model, t.found_at_execution, pre, t.schedule.steps
    );
    field(&mut s, "engine:", &engine, width);
    if !t.params.is_empty() {
        let p: Vec<String> = t.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        field(&mut s, "params:", &p.join(" "), width);
    }
    if let Some(path) = path {
        // A path is never broken: too long for one line, it goes on the next (as a shell
        // continuation, so the two lines still paste into a shell).
        let cmd = format!("{} replay", super::program::program());
        if 9 + cmd.len() + 1 + path.chars().count() <= width {
            let _ = writeln!(s, "replay:  {cmd} {path}");
        } else {
            let _ = writeln!(s, "replay:  {cmd} \\\n         {path}");
        }
    }
    s
}

/// A step's line; tabs (a /proc line's `Cpus_active_mm:\t...`) become spaces, which the
/// wrapping measures.
fn step_text(e: &crate::rt::Event) -> String {
    let s = if e.violation {
        format!("*** VIOLATION {}", e.text)
    } else {
        format!("{}: {}", e.func, e.text)
    };
    s.replace('\t', " ")
}

/// The timeline in the chosen layout, wrapped to the width.
pub fn timeline_with(t: &Trace, path: Option<&str>, o: TextOptions) -> String {
    let story = Story::new(t);
    let width = o.width.max(40);
    let mut out = header(t, path, width);
    out.push('\n');
    let gutter = story
        .rows
        .iter()
        .filter(|r| matches!(r, Row::Step { .. }))
        .count()
        .to_string()
        .len();
    let k = story.shown.len().max(1);
    let fit = (width.saturating_sub(gutter + 1 + SEP.len() * (k - 1))) / k;
    let layout = match o.layout {
        Layout::Auto if fit >= MIN_COLUMN => Layout::Columns,
        Layout::Auto => Layout::Events,
        l => l,
    };
    if layout == Layout::Columns {
        columns(&story, &mut out, gutter, fit.clamp(12, MAX_COLUMN));
    } else {
        events(&story, &mut out, gutter, width);
    }
    out
}

/// One column per shown actor; a left gutter numbers the events (marks refer to `#n`).
fn columns(s: &Story, out: &mut String, gutter: usize, colw: usize) {
    let idx = |a: usize| s.shown.iter().position(|&x| x == a);
    let full = colw * s.shown.len() + SEP.len() * (s.shown.len() - 1);
    let emit = |out: &mut String, num: &str, col: usize, lines: Vec<String>| {
        for (i, line) in lines.iter().enumerate() {
            let n = if i == 0 { num } else { "" };
            let cells: Vec<String> = (0..s.shown.len())
                .map(|c| format!("{:<colw$}", if c == col { line.as_str() } else { "" }))
                .collect();
            let _ = writeln!(out, "{n:>gutter$} {}", cells.join(SEP).trim_end());
        }
    };
    // The header row: each actor's name wrapped in its column.
    let names: Vec<Vec<String>> = s
        .shown
        .iter()
        .map(|&a| wrap(&title(s.t, a), colw, ""))
        .collect();
    let depth = names.iter().map(Vec::len).max().unwrap_or(1);
    for i in 0..depth {
        let cells: Vec<String> = names
            .iter()
            .map(|n| format!("{:<colw$}", n.get(i).map_or("", String::as_str)))
            .collect();
        let _ = writeln!(out, "{:gutter$} {}", "", cells.join(SEP).trim_end());
    }
    let rule: Vec<String> = s.shown.iter().map(|_| "-".repeat(colw)).collect();
    let _ = writeln!(out, "{:gutter$} {}", "", rule.join(SEP));
    for r in &s.rows {
        match (r, idx(r.actor())) {
            (Row::Step { num, e, .. }, Some(col)) => {
                emit(out, &num.to_string(), col, wrap(&step_text(e), colw, ""))
            }
            (Row::Mark { text, .. }, Some(col)) => emit(out, "", col, wrap(text, colw, "   ")),
            // An actor with no column (it only holds the verdict): across the width.
            (Row::Step { actor, num, e }, None) => {
                let text = format!("{}: {}", s.label(*actor), step_text(e));
                for (i, line) in wrap(&text, full, "   ").iter().enumerate() {
                    let n = if i == 0 {
                        num.to_string()
                    } else {
                        String::new()
                    };
                    let _ = writeln!(out, "{n:>gutter$} {line}");
                }
            }
            (Row::Mark { .. }, None) => {}
        }
    }
}

/// One line per event: `12 CPU1  func: text`, continuation lines under the text.
fn events(s: &Story, out: &mut String, gutter: usize, width: usize) {
    let lw = s
        .shown
        .iter()
        .chain(&s.verdict_only)
        .map(|&a| s.labels[a].len())
        .max()
        .unwrap_or(4);
    let mut legend = s.shown.clone();
    legend.extend(&s.verdict_only);
    legend.sort_unstable();
    for &a in &legend {
        let full = title(s.t, a);
        if s.labels[a] != full {
            let line = format!("{:<lw$} = {full}", s.labels[a]);
            for l in wrap(&line, width, &" ".repeat(lw + 3)) {
                let _ = writeln!(out, "{l}");
            }
        }
    }
    out.push('\n');
    let indent = " ".repeat(gutter + 1 + lw + 2);
    let mut emit = |num: &str, actor: usize, text: &str, extra: &str| {
        let first = format!("{num:>gutter$} {:<lw$}  {extra}{text}", s.labels[actor]);
        let cont = format!("{indent}{extra}");
        for l in wrap(&first, width, &cont) {
            let _ = writeln!(out, "{}", l.trim_end());
        }
    };
    for r in &s.rows {
        match r {
            Row::Step { actor, num, e } => emit(&num.to_string(), *actor, &step_text(e), ""),
            Row::Mark { actor, text, .. } => emit("", *actor, text, "   "),
        }
    }
}
