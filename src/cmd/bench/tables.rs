//! What `kmodel bench` prints and writes: the tables, the per-engine summary, the Markdown
//! summary and the scaling plot.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use kmodel_harness::engine::defaults;
use kmodel_harness::engine::{EngineKind, EngineSpec};

use super::cases::{FIRST_ENGINES, HOLDS_BOUNDS, SCALING_MODEL, SCALING_VARIANT};
use super::data::{Results, Row, Run};
use crate::{svg, table};

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// "med 23 (4-97), 0.01s" over the runs that found it, and how many did.
fn first_cell(runs: &[Run]) -> String {
    let hits: Vec<&Run> = runs.iter().filter(|r| r.found).collect();
    if hits.is_empty() {
        let n = runs.iter().map(|r| r.executions).max().unwrap_or(0);
        return format!("not found ({n} ex)");
    }
    let mut ex: Vec<f64> = hits.iter().map(|r| r.executions as f64).collect();
    let mut secs: Vec<f64> = hits.iter().map(|r| r.secs).collect();
    let (lo, hi) = (
        ex.iter().cloned().fold(f64::MAX, f64::min),
        ex.iter().cloned().fold(0.0, f64::max),
    );
    let (m, t) = (median(&mut ex), median(&mut secs));
    if runs.len() == 1 {
        return format!("{m:.0} ex, {t:.2}s");
    }
    format!(
        "{m:.0} ({lo:.0}-{hi:.0}) {}/{}, {t:.2}s",
        hits.len(),
        runs.len()
    )
}

pub fn render(r: &Results) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "kmodel bench on {}; {}", r.machine, r.settings);
    let _ = writeln!(
        s,
        "\nTime to the first counterexample (executions: median (min-max) found/runs, median time)"
    );
    let mut firsts: BTreeMap<(String, String), BTreeMap<String, String>> = BTreeMap::new();
    let mut order = vec![];
    for row in &r.rows {
        if let Row::First {
            target,
            property,
            engine,
            runs,
        } = row
        {
            let key = (target.clone(), property.clone());
            if !firsts.contains_key(&key) {
                order.push(key.clone());
            }
            firsts
                .entry(key)
                .or_default()
                .insert(engine.clone(), first_cell(runs));
        }
    }
    let rows: Vec<Vec<String>> = order
        .iter()
        .map(|k| {
            let cells = &firsts[k];
            let mut row = vec![k.0.clone(), k.1.clone()];
            row.extend(
                FIRST_ENGINES
                    .iter()
                    .map(|e| cells.get(e.name()).cloned().unwrap_or("-".into())),
            );
            row
        })
        .collect();
    let mut head = vec!["MODEL/VARIANT", "PROPERTY"];
    head.extend(FIRST_ENGINES.map(EngineKind::name));
    s += &table::render(&head, &rows, &[0]);

    let _ = writeln!(s, "\nDesigns that hold: loom executions and time per preemption bound (a bound runs only if the smaller one finished); shuttle-pct throughput");
    let pct = EngineKind::ShuttlePct.name();
    let mut holds: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut order = vec![];
    for row in &r.rows {
        if let Row::Holds {
            target,
            engine,
            executions,
            secs,
            complete,
            explored,
        } = row
        {
            if !holds.contains_key(target) {
                order.push(target.clone());
            }
            let cell = if *engine == pct {
                format!("{:.0}/s", *executions as f64 / secs.max(1e-9))
            } else if *complete {
                format!("{executions} ex, {secs:.1}s")
            } else {
                explored.clone()
            };
            holds
                .entry(target.clone())
                .or_default()
                .insert(engine.clone(), cell);
        }
    }
    let mut cols: Vec<String> = HOLDS_BOUNDS
        .iter()
        .map(|&preemption_bound| EngineSpec::Loom { preemption_bound }.label())
        .collect();
    cols.push(pct.to_string());
    let rows: Vec<Vec<String>> = order
        .iter()
        .map(|t| {
            let mut row = vec![t.clone()];
            row.extend(
                cols.iter()
                    .map(|c| holds[t].get(c).cloned().unwrap_or("-".into())),
            );
            row
        })
        .collect();
    let mut head = vec!["MODEL/VARIANT"];
    head.extend(cols.iter().map(String::as_str));
    s += &table::render(&head, &rows, &[0]);

    let _ = writeln!(s, "\nHarness overhead: the same model raw against the engine and through kmodel (median of 5)");
    let rows: Vec<Vec<String>> = r
        .overhead
        .iter()
        .map(|o| {
            vec![
                o.engine.clone(),
                o.executions.to_string(),
                format!("{:.3}s", o.raw_secs),
                format!("{:.3}s", o.kmodel_secs),
                format!("{:.2}x", o.ratio()),
            ]
        })
        .collect();
    s += &table::render(
        &["ENGINE", "EXECUTIONS", "RAW", "KMODEL", "RATIO"],
        &rows,
        &[0],
    );

    let _ = writeln!(
        s,
        "\nScaling: {SCALING_MODEL}/{SCALING_VARIANT} under loom k={} as one parameter grows",
        defaults::PREEMPTIONS
    );
    let rows: Vec<Vec<String>> = r
        .rows
        .iter()
        .filter_map(|row| match row {
            Row::Scaling {
                param,
                value,
                executions,
                secs,
                complete,
            } => Some(vec![
                format!("{param}={value}"),
                format!("{}{executions}", if *complete { "" } else { ">" }),
                format!("{secs:.2}s"),
            ]),
            _ => None,
        })
        .collect();
    s += &table::render(&["PARAMETER", "EXECUTIONS", "TIME"], &rows, &[0]);
    let _ = writeln!(s, "\n{}", summary_text(r));
    s
}

/// Per engine: how many expected violations it found, and the median time to the first one.
fn engine_summary(r: &Results) -> Vec<(String, usize, usize, f64, f64)> {
    FIRST_ENGINES
        .iter()
        .map(|e| {
            let (mut found, mut total, mut secs, mut ex) = (0, 0, vec![], vec![]);
            for row in &r.rows {
                if let Row::First { engine, runs, .. } = row {
                    if engine == e.name() {
                        total += 1;
                        let hits: Vec<&Run> = runs.iter().filter(|r| r.found).collect();
                        if hits.len() * 2 > runs.len() {
                            found += 1;
                        }
                        let mut s: Vec<f64> = hits.iter().map(|r| r.secs).collect();
                        let mut x: Vec<f64> = hits.iter().map(|r| r.executions as f64).collect();
                        if !s.is_empty() {
                            secs.push(median(&mut s));
                            ex.push(median(&mut x));
                        }
                    }
                }
            }
            (
                e.name().to_string(),
                found,
                total,
                median(&mut ex),
                median(&mut secs),
            )
        })
        .collect()
}

fn summary_text(r: &Results) -> String {
    let mut s = String::new();
    for (e, found, total, ex, secs) in engine_summary(r) {
        let _ = writeln!(
            s,
            "{e}: found {found} of {total} expected violations (in most runs); median {ex:.0} executions, {secs:.3}s to the first"
        );
    }
    let _ = write!(s, "bench total {:.0}s", r.total_secs);
    s
}

pub fn summary_markdown(r: &Results) -> String {
    let mut s = format!(
        "Measured by `kmodel bench` on {}; {}.\n\n",
        r.machine, r.settings
    );
    s += "| engine | expected violations found | median executions to first | median time to first |\n|---|---|---|---|\n";
    for (e, found, total, ex, secs) in engine_summary(r) {
        let _ = writeln!(
            s,
            "| {e} | {found} / {total} | {ex:.0} | {:.1} ms |",
            secs * 1000.0
        );
    }
    s += "\n| harness overhead | executions | raw | through kmodel | ratio |\n|---|---|---|---|---|\n";
    for o in &r.overhead {
        let _ = writeln!(
            s,
            "| {} | {} | {:.3} s | {:.3} s | {:.2}x |",
            o.engine,
            o.executions,
            o.raw_secs,
            o.kmodel_secs,
            o.ratio()
        );
    }
    s
}

pub fn scaling_svg(r: &Results) -> String {
    let mut series: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for row in &r.rows {
        if let Row::Scaling {
            param,
            value,
            executions,
            ..
        } = row
        {
            series
                .entry(param.clone())
                .or_default()
                .push((f64::from(*value), *executions as f64));
        }
    }
    svg::log_plot(
        &format!(
            "{SCALING_MODEL}/{SCALING_VARIANT}: loom executions (k={}) as one parameter grows",
            defaults::PREEMPTIONS
        ),
        "parameter value",
        "executions (log scale)",
        &series,
    )
}
