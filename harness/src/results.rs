//! Check results on disk: the verdicts `kmodel check` reached for one model, kept next to its
//! traces (`<dir>/<model>/results.json`) and keyed by the model's source hash, so `kmodel
//! report` renders the dossier without exploring again and can tell when they are stale.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::EngineSpec;
use crate::model::Model;
use crate::verdict::{FoundAt, VariantReport};

/// Identifies kmodel results files.
pub const FORMAT: &str = "kmodel-results";
/// Current results format version.
pub const VERSION: u32 = 1;
/// The results file's name inside a model's trace folder.
pub const FILE: &str = "results.json";

/// Whether `path` is a results file (trace walkers skip it).
pub fn is_results_file(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == FILE)
}

/// Where the results of `model` live under a traces directory.
pub fn path(dir: &Path, model: &str) -> PathBuf {
    dir.join(model).join(FILE)
}

/// The verdicts of one model's checks, one report per (variant, engine settings, parameters);
/// the latest check of each replaces the earlier one.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Results {
    pub format: String,
    pub version: u32,
    pub model: String,
    /// [`Model::source_hash`] of the model that produced them.
    pub source_hash: String,
    /// Without traces (those are the files beside this one) and without timings (the file is
    /// committed and must not change when nothing but the machine's speed did).
    pub reports: Vec<VariantReport>,
}

/// Why results cannot be used; each renders as one line.
#[derive(Debug, PartialEq, Eq)]
pub enum ResultsError {
    Missing(String),
    Unreadable(String, String),
    Stale {
        file: String,
        recorded: String,
        current: String,
    },
    /// Checks the caller needs that the file does not have.
    Incomplete(String, Vec<String>),
}

impl std::fmt::Display for ResultsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResultsError::Missing(p) => write!(f, "{p}: no check results"),
            ResultsError::Unreadable(p, e) => write!(f, "{p}: not a kmodel results file: {e}"),
            ResultsError::Stale {
                file,
                recorded,
                current,
            } => write!(
                f,
                "{file}: results are stale (model source {recorded}, now {current})"
            ),
            ResultsError::Incomplete(p, missing) => {
                write!(f, "{p}: no results for {}", missing.join(", "))
            }
        }
    }
}

impl Results {
    /// An empty record for `model` as it is now.
    pub fn new(model: &dyn Model) -> Results {
        Results {
            format: FORMAT.into(),
            version: VERSION,
            model: model.name().into(),
            source_hash: model.source_hash(),
            reports: vec![],
        }
    }

    /// Reads the results of `model` under `dir`, refusing a missing, unreadable or stale file.
    pub fn load(dir: &Path, model: &dyn Model) -> Result<Results, ResultsError> {
        let p = path(dir, model.name());
        let shown = p.display().to_string();
        let text = std::fs::read_to_string(&p).map_err(|_| ResultsError::Missing(shown.clone()))?;
        let r: Results = serde_json::from_str(&text)
            .map_err(|e| ResultsError::Unreadable(shown.clone(), e.to_string()))?;
        if r.format != FORMAT || r.version != VERSION || r.model != model.name() {
            return Err(ResultsError::Unreadable(
                shown,
                format!(
                    "expected format {FORMAT} version {VERSION} of model {}",
                    model.name()
                ),
            ));
        }
        let current = model.source_hash();
        if r.source_hash != current {
            return Err(ResultsError::Stale {
                file: shown,
                recorded: r.source_hash,
                current,
            });
        }
        Ok(r)
    }

    /// The report of `variant` under `engine` with `params`, if recorded.
    pub fn find(
        &self,
        variant: &str,
        engine: &EngineSpec,
        params: &BTreeMap<String, u32>,
    ) -> Option<&VariantReport> {
        self.reports
            .iter()
            .find(|r| r.variant == variant && r.engine == *engine && r.params == *params)
    }

    /// Records `report` (a whole, unsharded check of this model), replacing the earlier report
    /// of the same check, and keeps the reports in the model's variant order.
    pub fn record(&mut self, model: &dyn Model, report: &VariantReport) {
        let mut r = report.clone();
        r.elapsed_secs = 0.0;
        for p in r.properties.iter_mut() {
            p.trace = None;
            if let Some(f) = &mut p.found_at {
                *f = FoundAt {
                    execution: f.execution,
                    seconds: 0.0,
                };
            }
        }
        self.reports
            .retain(|x| !(x.variant == r.variant && x.engine == r.engine && x.params == r.params));
        self.reports.push(r);
        let rank = |v: &str| model.variants().into_iter().position(|x| x.name == v);
        self.reports.sort_by(|a, b| {
            (rank(&a.variant), a.engine.name(), &a.params).cmp(&(
                rank(&b.variant),
                b.engine.name(),
                &b.params,
            ))
        });
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("results serialize");
        s.push('\n');
        s
    }
}
