//! Recording what `kmodel check` reached in each model's results file under `--out` (see
//! `kmodel_harness::results`), which `kmodel report` renders from.

use std::path::Path;

use kmodel_harness::file::write_atomic;
use kmodel_harness::model::Model;
use kmodel_harness::results::{self, Results, ResultsError};
use kmodel_harness::verdict::VariantReport;

/// Adds `reports` (whole, unsharded checks) to the results of their models under `out`: a
/// results file recorded from another model source is started afresh. A file that cannot be
/// written is an error (exit 2), as for traces; a damaged file is refused unless `force`.
pub fn record(
    registry: &[&'static dyn Model],
    reports: &[VariantReport],
    out: &Path,
    force: bool,
) -> Result<(), String> {
    for &model in registry {
        let mine: Vec<&VariantReport> =
            reports.iter().filter(|r| r.model == model.name()).collect();
        if mine.is_empty() {
            continue;
        }
        let mut recorded = match Results::load(out, model) {
            Ok(r) => r,
            Err(e @ ResultsError::Unreadable(..)) if !force => return Err(damaged(&e)),
            Err(_) => Results::new(model),
        };
        for r in mine.into_iter().filter(|r| r.error.is_none()) {
            recorded.record(model, r);
        }
        let path = results::path(out, model.name());
        let json = recorded.to_json();
        if std::fs::read_to_string(&path).ok().as_deref() == Some(json.as_str()) {
            continue;
        }
        std::fs::create_dir_all(path.parent().expect("has a parent"))
            .and_then(|_| write_atomic(&path, json.as_bytes()))
            .map_err(|e| format!("{}: cannot write check results: {e}", path.display()))?;
    }
    Ok(())
}

/// Refuses, before any check runs, to record into a damaged results file of one of `models`
/// under `out` (unless `force`): it would be replaced by the few checks of this run.
pub fn refuse_damaged(
    models: impl IntoIterator<Item = &'static dyn Model>,
    out: &Path,
    force: bool,
) -> Result<(), String> {
    if force {
        return Ok(());
    }
    for model in models {
        if let Err(e @ ResultsError::Unreadable(..)) = Results::load(out, model) {
            return Err(damaged(&e));
        }
    }
    Ok(())
}

fn damaged(e: &ResultsError) -> String {
    format!("{e}; refused: the results file is damaged and would lose its other checks (--force starts it afresh)")
}
