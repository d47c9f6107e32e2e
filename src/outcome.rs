//! How a run's outcome is told on stderr, for `check`, `merge` and `explore` alike.

use kmodel_harness::verdict::{failure_line, RunOutcome};

/// The outcome's lines on stderr: each failed check, the unexpected verdicts, findings, why the
/// run is inconclusive, and files that could not be written.
pub(crate) fn report_outcome(outcome: &RunOutcome, allow_partial: bool, strict: bool) {
    for (label, e) in &outcome.failed {
        eprintln!("kmodel: {}", failure_line(label, e));
    }
    if !outcome.unexpected.is_empty() {
        eprintln!(
            "kmodel: UNEXPECTED verdicts in: {}",
            outcome.unexpected.join(", ")
        );
    }
    if !outcome.findings.is_empty() {
        eprintln!(
            "kmodel: {} (no verdicts declared for these parameters{}): {}",
            if strict { "FINDINGS" } else { "findings" },
            if strict {
                "; --strict fails on them"
            } else {
                ""
            },
            outcome.findings.join("; ")
        );
    }
    if !outcome.unexpected(strict) && !outcome.inconclusive.is_empty() {
        for why in &outcome.inconclusive {
            eprintln!("kmodel: inconclusive: {why}");
        }
        if !allow_partial {
            eprintln!(
                "kmodel: inconclusive run (exit 3): a budget, cap or empty run left declared verdicts unestablished; --allow-partial accepts it"
            );
        }
    }
    for line in &outcome.io {
        eprintln!("kmodel: error: {line}");
    }
}
