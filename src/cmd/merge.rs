//! `kmodel merge`: combine the `--json` reports of `kmodel check --shard K/N` runs (one per
//! process or CI machine) into one verdict table, as if one run had explored everything.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use kmodel_harness::model::lookup;
use kmodel_harness::verdict::{merge_shards, VariantReport};
use kmodel_harness::{replay, Model};

use super::check::{finish, Finish, Output};
use super::input_error;
use crate::json::CheckOutput;

#[derive(clap::Args)]
pub struct MergeArgs {
    /// JSON files written by `kmodel check --shard K/N --json`.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print the merged reports as JSON.
    #[arg(long)]
    json: bool,
    /// Directory for counterexample traces.
    #[arg(long, default_value = "target/kmodel/traces")]
    out: PathBuf,
    /// Overwrite trace files that exist with different contents.
    #[arg(long)]
    force: bool,
    /// Accept a partial run (exit 0 instead of 3), as `kmodel check --allow-partial`.
    #[arg(long)]
    allow_partial: bool,
}

pub fn run(registry: &[&'static dyn Model], args: MergeArgs) -> ExitCode {
    let started = Instant::now();
    if let Err(e) = super::writable_dir(&args.out) {
        return input_error(e);
    }
    let mut shards = vec![];
    for f in &args.files {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => return input_error(format!("{}: {e}", f.display())),
        };
        match CheckOutput::parse(&text) {
            Ok(r) => {
                if let Err(e) = validate(registry, &r) {
                    return input_error(format!("{}: {e}", f.display()));
                }
                shards.push(r)
            }
            Err(e) => {
                return input_error(format!(
                    "{}: not the --json output of kmodel check: {e}",
                    f.display()
                ))
            }
        }
    }
    let reports = match merge(shards) {
        Ok(r) => r,
        Err(e) => return input_error(e),
    };
    // The shards ran side by side: their wall time is the longest one.
    let wall: f64 = reports.iter().map(|r| r.elapsed_secs).sum();
    let started = Instant::now()
        .checked_sub(Duration::from_secs_f64(wall))
        .unwrap_or(started);
    let output = if args.json {
        Output::Json
    } else {
        Output::Table
    };
    finish(
        reports,
        Finish {
            registry,
            out: &args.out,
            force: args.force,
            output,
            started,
            allow_partial: args.allow_partial,
            strict: false,
        },
    )
}

/// Checks a shard report against the registry as a trace file is checked: the model and
/// variant exist, and every trace in it names a known property with parameters in range, a
/// valid scene and well-formed replay data, recorded against the current model source.
fn validate(registry: &[&'static dyn Model], reports: &[VariantReport]) -> Result<(), String> {
    for r in reports {
        lookup(registry, &format!("{}/{}", r.model, r.variant))?;
        for p in &r.properties {
            if let Some(t) = &p.trace {
                if (t.model.as_str(), t.variant.as_str()) != (r.model.as_str(), r.variant.as_str())
                {
                    return Err(format!(
                        "the trace of [{}] names {}/{} in a report of {}/{}",
                        p.property, t.model, t.variant, r.model, r.variant
                    ));
                }
                replay::validate(registry, t)
                    .map_err(|e| format!("{}/{} [{}]: {e}", r.model, r.variant, p.property))?;
            }
        }
    }
    Ok(())
}

/// Merges shard runs report by report, keyed by (model, variant, engine); each check must come
/// from every shard K/N exactly once.
pub fn merge(shards: Vec<Vec<VariantReport>>) -> Result<Vec<VariantReport>, String> {
    let key = |r: &VariantReport| {
        (
            r.model.clone(),
            r.variant.clone(),
            r.engine.to_string(),
            r.params.clone(),
        )
    };
    let mut order = vec![];
    let mut groups: BTreeMap<_, Vec<VariantReport>> = BTreeMap::new();
    for shard in shards {
        for r in shard {
            let k = key(&r);
            if !groups.contains_key(&k) {
                order.push(k.clone());
            }
            groups.entry(k).or_default().push(r);
        }
    }
    order
        .into_iter()
        .map(|k| merge_shards(groups.remove(&k).unwrap_or_default()))
        .collect()
}
