//! A run's outcome: what every check or sweep of one command reached, reduced to the README's
//! exit-code contract ([`RunOutcome::exit_code`]), for `check`, `merge`, `explore` and the
//! test helpers alike.

use super::exit::Exit;
use super::report::VariantReport;
use crate::sweep::SweepReport;

/// What one command's checks (or sweeps) reached, each failure named by its check.
#[derive(Clone, Debug, Default)]
pub struct RunOutcome {
    /// Checks with no verdict (a model panic, an engine refusal, a counterexample that did not
    /// replay), each as "LABEL: error" with its kind.
    pub failed: Vec<(String, super::Error)>,
    /// Checks whose verdicts differ from the declared ones (not counting the failed ones).
    pub unexpected: Vec<String>,
    /// Violations where nothing is declared (non-default parameters): "LABEL: p, q".
    pub findings: Vec<String>,
    /// Why each inconclusive check is: "LABEL: what was explored; what is unestablished".
    pub inconclusive: Vec<String>,
    /// Files that could not be written (traces, results).
    pub io: Vec<String>,
}

impl RunOutcome {
    /// The outcome of `kmodel check` / `merge` reports.
    pub fn of_checks(reports: &[VariantReport]) -> Self {
        let mut o = RunOutcome::default();
        if reports.is_empty() {
            o.inconclusive
                .push("no check report: nothing was checked".into());
        }
        for r in reports {
            let label = r.label().to_string();
            if let Some(e) = &r.error {
                o.failed.push((label.clone(), e.clone()));
            } else if !r.properties.as_expected() {
                o.unexpected.push(label.clone());
            }
            let findings: Vec<&str> = r.properties.findings().map(|p| p.as_str()).collect();
            if !findings.is_empty() {
                o.findings.push(format!("{label}: {}", findings.join(", ")));
            }
            if let Some(why) = r.inconclusive_why() {
                o.inconclusive.push(why);
            }
        }
        o
    }

    /// The outcome of `kmodel explore` sweeps.
    pub fn of_sweeps(reports: &[SweepReport]) -> Self {
        let mut o = RunOutcome::default();
        if reports.is_empty() {
            o.inconclusive
                .push("no sweep report: nothing was explored".into());
        }
        for r in reports {
            let label = r.label().to_string();
            if let Some(e) = &r.error {
                o.failed.push((label.clone(), e.clone()));
            } else if !r.properties.as_expected() {
                o.unexpected.push(label.clone());
            }
            if let Some(why) = r.inconclusive_why() {
                o.inconclusive.push(why);
            }
        }
        o
    }

    /// Whether some verdict differs or some check failed (with `strict`, also a finding).
    pub fn unexpected(&self, strict: bool) -> bool {
        !self.failed.is_empty()
            || !self.unexpected.is_empty()
            || (strict && !self.findings.is_empty())
    }

    /// The exit code: 2 when a file could not be written, else 1 when a verdict differs or a
    /// check failed (with `strict`: also a finding where nothing is declared), else 3 when the
    /// run was inconclusive (unless `allow_partial`), else 0.
    pub fn exit_code(&self, allow_partial: bool, strict: bool) -> Exit {
        if !self.io.is_empty() {
            Exit::Input
        } else if self.unexpected(strict) {
            Exit::Verdict
        } else if !self.inconclusive.is_empty() && !allow_partial {
            Exit::Inconclusive
        } else {
            Exit::Ok
        }
    }
}

/// The label of a failed check's one stderr line: `model error in LABEL: <panic message>` for a
/// model panic, `error in LABEL: <error>` otherwise.
pub fn failure_line(label: &str, e: &super::Error) -> String {
    match e {
        super::Error::ModelPanic(m) => format!("model error in {label}: {m}"),
        other => format!("error in {label}: {other}"),
    }
}
