//! How `kmodel check` and `kmodel merge` print their reports: the verdict table (or JSON, or a
//! Markdown matrix), the counterexample traces written, and the summary lines.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use kmodel_harness::verdict::{Agreement, FoundAt, RunOutcome, VariantReport};
use kmodel_harness::{Expect, Model, DATA_RACE};

use crate::json::CheckOutput;
use crate::outcome::report_outcome;
use crate::table;
use crate::traces::write_traces;

/// How `kmodel check` and `kmodel merge` print their reports.
#[derive(Clone, Copy)]
pub enum Output {
    Table,
    Json,
    Markdown,
}

/// How [`finish`] writes and judges a run.
pub struct Finish<'a> {
    pub registry: &'a [&'static dyn Model],
    /// Where traces go.
    pub out: &'a Path,
    /// Overwrite traces that differ.
    pub force: bool,
    pub output: Output,
    pub started: Instant,
    /// Exit 0 instead of 3 for an inconclusive run.
    pub allow_partial: bool,
    /// Exit 1 for violations found where no verdict is declared (non-default parameters).
    pub strict: bool,
}

/// Writes the traces, prints the reports, and returns the exit code of their
/// [`RunOutcome`] (the README's contract). Every failure is also one line on stderr.
pub fn finish(reports: Vec<VariantReport>, how: Finish) -> ExitCode {
    let Finish {
        registry,
        out,
        force,
        output,
        started,
        allow_partial,
        strict,
    } = how;
    let traces = write_traces(
        registry,
        reports
            .iter()
            .flat_map(|r| r.properties.iter())
            .filter_map(|p| p.trace.as_ref()),
        out,
        force,
    );
    let mut outcome = RunOutcome::of_checks(&reports);
    outcome.io.clone_from(&traces.failed);
    match output {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&CheckOutput::new(reports.clone()))
                .expect("reports serialize")
        ),
        Output::Markdown => print!("{}", table::markdown_matrix(&reports)),
        Output::Table => {
            print!("{}", verdict_table(&reports));
            println!();
            for line in &traces.listed {
                println!("{line}");
            }
            summary(&reports, &outcome, started.elapsed());
        }
    }
    for line in &traces.kept {
        eprintln!("kmodel: warning: {line}");
    }
    report_outcome(&outcome, allow_partial, strict);
    outcome.exit_code(allow_partial, strict).into()
}

/// The verdicts, one block per check: a line naming the check and what it explored, then a
/// row per property (declared, observed, where the first violation was found), aligned over
/// all blocks.
fn verdict_table(reports: &[VariantReport]) -> String {
    const HEADER: [&str; 4] = ["  PROPERTY", "DECLARED", "OBSERVED", "FIRST VIOLATION"];
    let mut blocks: Vec<(&str, String, Vec<Vec<String>>)> = vec![];
    for r in reports {
        let what = r.label().with_settings();
        if let Some(why) = &r.skipped {
            blocks.push((&r.model, format!("{what}: skipped: {why}"), vec![]));
            continue;
        }
        let mut head = format!("{what}: {} ({:.2}s)", r.explored, r.elapsed_secs);
        if let Some(e) = &r.error {
            head += &format!("; ERROR: {e}");
        }
        let mut rows = vec![];
        for p in r.properties.iter() {
            let declared = match (&p.agreement, p.expected) {
                (Agreement::Undeclared, _) => "- (params)".to_string(),
                (_, Some(e)) => e.to_string(),
                (_, None) => "undeclared".to_string(),
            };
            let observed = match (p.violated, &p.agreement) {
                (true, Agreement::Undeclared) => "Violated  (finding)".to_string(),
                (true, Agreement::Unexpected) => "Violated  UNEXPECTED".to_string(),
                (false, Agreement::Unexpected) => "Holds  UNEXPECTED".to_string(),
                (false, Agreement::NotReached) => "not reached".to_string(),
                (true, _) => "Violated".to_string(),
                (false, _) if p.property == DATA_RACE && !r.engine.kind().sees_races() => {
                    if r.engine.kind().real_threads() {
                        "not checked (real threads)".to_string()
                    } else {
                        "not checked under SC".to_string()
                    }
                }
                (false, _) if r.partial() => "not violated (partial)".to_string(),
                (false, _) => "Holds".to_string(),
            };
            let found = match (p.found_at, p.found_in) {
                (Some(FoundAt { execution, seconds }), Some(key)) if key.subtree > 0 => format!(
                    "execution {execution} of subtree {} ({seconds:.2}s)",
                    key.subtree
                ),
                (Some(FoundAt { execution, seconds }), _) => {
                    format!("execution {execution} ({seconds:.2}s)")
                }
                _ => String::new(),
            };
            rows.push(vec![format!("  {}", p.property), declared, observed, found]);
        }
        blocks.push((&r.model, head, rows));
    }
    // Every column at its content's width within one model (a header per model): a squeezed
    // FIRST VIOLATION column wrapped to a character per line in logs, and one model's long
    // names would widen every other model's table. Never broken mid-word.
    let mut out = String::new();
    for group in blocks.chunk_by(|a, b| a.0 == b.0) {
        let width = |i: usize| {
            group
                .iter()
                .flat_map(|(_, _, rows)| rows.iter().map(move |r| r[i].chars().count()))
                .chain(std::iter::once(HEADER[i].len()))
                .max()
                .map(|w| w as u16)
        };
        let widths = [width(0), width(1), width(2), width(3)];
        out += &table::render_fixed(Some(&HEADER), &[], &widths);
        // A check's heading line wraps at 100 columns (a log or a mail), between words only.
        let wrap = textwrap::Options::new(100)
            .subsequent_indent("    ")
            .break_words(false);
        for (_, head, rows) in group {
            for line in textwrap::wrap(head, &wrap) {
                out += &line;
                out.push('\n');
            }
            if !rows.is_empty() {
                out += &table::render_fixed(None, rows, &widths);
            }
        }
    }
    out
}

fn summary(reports: &[VariantReport], outcome: &RunOutcome, elapsed: Duration) {
    let mut per_engine: BTreeMap<&str, (u64, f64)> = BTreeMap::new();
    for r in reports {
        let e = per_engine.entry(r.engine.name()).or_default();
        e.0 += r.executions;
        e.1 += r.elapsed_secs;
    }
    for (engine, (n, secs)) in per_engine {
        let memory = reports
            .iter()
            .find(|r| r.engine.name() == engine)
            .map_or("", |r| r.memory_model.as_str());
        println!(
            "{engine}: {n} executions in {secs:.1}s of exploration ({:.0}/s per worker), memory model {memory}",
            if secs > 0.0 { n as f64 / secs } else { 0.0 }
        );
    }
    let declared_violations = reports
        .iter()
        .flat_map(|r| r.properties.iter())
        .filter(|p| {
            p.violated && p.agreement != Agreement::Undeclared && p.expected != Some(Expect::Holds)
        })
        .count();
    println!(
        "{} checks, {declared_violations} expected violations found, total {:.1}s",
        reports.len(),
        elapsed.as_secs_f64()
    );
    let unexpected: Vec<&str> = (outcome.failed.iter().map(|(label, _)| label.as_str()))
        .chain(outcome.unexpected.iter().map(String::as_str))
        .collect();
    if !unexpected.is_empty() {
        println!("UNEXPECTED verdicts in: {}", unexpected.join(", "));
    } else if !outcome.inconclusive.is_empty() {
        println!("inconclusive: some declared verdicts were not established (see stderr)");
    } else if !outcome.findings.is_empty() {
        println!("findings where no verdict is declared for these parameters (see stderr)");
    } else if reports
        .iter()
        .flat_map(|r| r.properties.iter())
        .any(|p| p.agreement == Agreement::Undeclared)
    {
        println!("no violations; no verdicts are declared for these parameters");
    } else {
        println!("all verdicts as declared");
    }
}
