//! Merging the reports of one (model, variant, engine) explored in shards (see
//! [`engine::Shard`]) into the report one process would have written.

use super::judge::{judge, weaker, Agreement, Scope};
use super::report::VariantReport;
use crate::engine;

/// Merges the reports of one (model, variant, engine) explored in shards: executions add up,
/// each property keeps its earliest finding (and trace), and verdicts are judged again over
/// the merged coverage.
pub fn merge_shards(shards: Vec<VariantReport>) -> Result<VariantReport, String> {
    let Some(first) = shards.first() else {
        return Err("no reports to merge".into());
    };
    let n = first.shard.count;
    let mut seen: Vec<u32> = shards.iter().map(|r| r.shard.index).collect();
    seen.sort_unstable();
    if shards.iter().any(|r| r.shard.count != n) || seen != (0..n).collect::<Vec<_>>() {
        let got: Vec<String> = shards.iter().map(|r| r.shard.to_string()).collect();
        return Err(format!(
            "{}: shards {} do not make up one search (need each of 0/{n} .. {}/{n} once)",
            first.label(),
            got.join(", "),
            n.saturating_sub(1)
        ));
    }
    let mut shards = shards.into_iter();
    let mut merged = shards.next().expect("not empty");
    merged.shard = engine::Shard::ALL;
    for s in shards {
        merged.executions += s.executions;
        merged.elapsed_secs = merged.elapsed_secs.max(s.elapsed_secs);
        merged.error = merged.error.or(s.error);
        merged.coverage = match (merged.coverage, s.coverage) {
            (Some(a), Some(b)) => Some(weaker(&merged.engine, a, b)),
            (a, b) => a.or(b),
        };
        for p in s.properties {
            match merged.properties.get_mut(p.property) {
                Some(m) if p.violated && (!m.violated || p.found_in < m.found_in) => *m = p,
                Some(_) => {}
                None => merged.properties.push(p),
            }
        }
    }
    if let Some(coverage) = &merged.coverage {
        merged.explored = merged.engine.describe(coverage, merged.executions);
        for p in merged.properties.iter_mut() {
            if p.agreement != Agreement::Undeclared {
                p.agreement = judge(
                    p.property,
                    p.expected,
                    p.violated,
                    &merged.engine,
                    Scope::Check(coverage),
                );
            }
        }
    }
    Ok(merged)
}
