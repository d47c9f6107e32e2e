//! Recording what `kmodel check` reached in each model's results file under `--out` (see
//! `kmodel_harness::results`), which `kmodel report` renders from.

use std::path::Path;

use kmodel_harness::model::Model;
use kmodel_harness::results::{self, Results};
use kmodel_harness::verdict::VariantReport;

/// Adds `reports` (whole, unsharded checks) to the results of their models under `out`: a
/// results file recorded from another model source is started afresh. A file that cannot be
/// written is an error (exit 2), as for traces.
pub fn record(
    registry: &[&'static dyn Model],
    reports: &[VariantReport],
    out: &Path,
) -> Result<(), String> {
    for &model in registry {
        let mine: Vec<&VariantReport> =
            reports.iter().filter(|r| r.model == model.name()).collect();
        if mine.is_empty() {
            continue;
        }
        let mut recorded = Results::load(out, model).unwrap_or_else(|_| Results::new(model));
        for r in mine.into_iter().filter(|r| r.error.is_none()) {
            recorded.record(model, r);
        }
        let path = results::path(out, model.name());
        let json = recorded.to_json();
        if std::fs::read_to_string(&path).ok().as_deref() == Some(json.as_str()) {
            continue;
        }
        std::fs::create_dir_all(path.parent().expect("has a parent"))
            .and_then(|_| std::fs::write(&path, json))
            .map_err(|e| format!("{}: cannot write check results: {e}", path.display()))?;
    }
    Ok(())
}
