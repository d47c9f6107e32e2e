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

    s += &anchor_table(r);
    let _ = writeln!(s, "\nDesigns that hold: dpor (every interleaving up to equivalence, SC, no preemption bound) and loom executions and time per preemption bound (a bound runs only if the smaller one finished); shuttle-pct throughput");
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
            } else if *engine == EngineSpec::Dpor.label() {
                format!("not complete in {secs:.0}s ({executions} ex)")
            } else {
                explored.clone()
            };
            holds
                .entry(target.clone())
                .or_default()
                .insert(engine.clone(), cell);
        }
    }
    let mut cols: Vec<String> = vec![EngineSpec::Dpor.label()];
    cols.extend(
        (HOLDS_BOUNDS.iter())
            .map(|&preemption_bound| EngineSpec::Loom { preemption_bound }.label()),
    );
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
    s += &sweep_table(r);

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

/// dpor beside SPIN on the same scene.
fn anchor_rows(r: &Results) -> Vec<Vec<String>> {
    (r.rows.iter())
        .filter_map(|row| match row {
            Row::Anchor {
                target,
                tool,
                what,
                verdict,
                count,
                secs,
                ..
            } => Some(vec![
                target.clone(),
                tool.clone(),
                what.clone(),
                verdict.clone(),
                count.map_or("-".into(), |n| n.to_string()),
                secs.map_or("-".into(), |t| format!("{t:.2}s")),
            ]),
            _ => None,
        })
        .collect()
}

const ANCHOR_HEAD: [&str; 6] = [
    "SCENE",
    "TOOL",
    "CHECKS",
    "VERDICT",
    "EXECUTIONS / STATES",
    "TIME",
];
const ANCHOR_TITLE: &str =
    "dpor beside SPIN (Promela abstraction of the same scene; SPIN: stored states, pan's wall time)";

fn anchor_table(r: &Results) -> String {
    titled(ANCHOR_TITLE, &ANCHOR_HEAD, &anchor_rows(r))
}

/// A table under its title line, or nothing when it has no rows.
fn titled(title: &str, head: &[&str], rows: &[Vec<String>]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    format!("\n{title}\n{}", table::render(head, rows, &[0]))
}

/// A Markdown table.
fn markdown(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut s = format!("| {} |\n|{}\n", head.join(" | "), "---|".repeat(head.len()));
    for row in rows {
        let _ = writeln!(s, "| {} |", row.join(" | "));
    }
    s
}

/// Scenes per second of one sweep row.
fn rate(scenes: u64, secs: f64) -> f64 {
    scenes as f64 / secs.max(1e-9)
}

/// Exhaustive sweep throughput per model: dpor against loom k<=2 on the same scenes.
fn sweep_rows(r: &Results) -> Vec<Vec<String>> {
    let mut by: BTreeMap<String, Vec<&Row>> = BTreeMap::new();
    for row in &r.rows {
        if let Row::Sweep { target, .. } = row {
            by.entry(target.clone()).or_default().push(row);
        }
    }
    let mut rows = vec![];
    for (target, sweeps) in &by {
        let mut dpor_rate = None;
        for row in sweeps {
            let Row::Sweep {
                engine,
                bounds,
                scenes_total,
                scenes,
                executions,
                secs,
                complete,
                ..
            } = row
            else {
                continue;
            };
            let here = rate(*scenes, *secs);
            let ratio = match dpor_rate {
                None => {
                    dpor_rate = Some(here);
                    "-".to_string()
                }
                Some(d) => format!("dpor {:.1}x", d / here.max(1e-9)),
            };
            rows.push(vec![
                target.clone(),
                engine.clone(),
                bounds.clone(),
                format!(
                    "{scenes} of {scenes_total}{}",
                    if *complete { "" } else { " (budget)" }
                ),
                executions.to_string(),
                format!("{secs:.1}s"),
                format!("{here:.1}"),
                ratio,
            ]);
        }
    }
    rows
}

const SWEEP_HEAD: [&str; 8] = [
    "MODEL/VARIANT",
    "ENGINE",
    "BOUNDS (CPUs/actors/ops/set-up)",
    "SCENES",
    "EXECUTIONS",
    "TIME",
    "SCENES/S",
    "SPEED-UP",
];
const SWEEP_TITLE: &str = "Exhaustive sweeps: each model's default bounds under dpor (budgeted), then dpor and loom k<=2 over the scenes dpor completed";

fn sweep_table(r: &Results) -> String {
    titled(SWEEP_TITLE, &SWEEP_HEAD, &sweep_rows(r))
}

/// dpor's proofs of the variants with a Holds property.
fn proof_rows(r: &Results) -> Vec<Vec<String>> {
    let dpor = EngineSpec::Dpor.label();
    (r.rows.iter())
        .filter_map(|row| match row {
            Row::Holds {
                target,
                engine,
                executions,
                secs,
                complete,
                ..
            } if *engine == dpor => Some(vec![
                target.clone(),
                if *complete { "yes" } else { "no" }.into(),
                executions.to_string(),
                if *complete {
                    format!("{secs:.2}s")
                } else {
                    format!("not complete in {secs:.0}s")
                },
            ]),
            _ => None,
        })
        .collect()
}

/// dpor's time to each expected violation against shuttle-pct's median over seeds: how many
/// dpor found within twice the median, of those both found.
fn dpor_against_pct(r: &Results) -> (usize, usize) {
    // Per (target, property): dpor's and shuttle-pct's median seconds, where most runs found it.
    type Times = (Option<f64>, Option<f64>);
    let mut by: BTreeMap<(&str, &str), Times> = BTreeMap::new();
    for row in &r.rows {
        if let Row::First {
            target,
            property,
            engine,
            runs,
        } = row
        {
            let mut hits: Vec<f64> = runs.iter().filter(|r| r.found).map(|r| r.secs).collect();
            if hits.len() * 2 <= runs.len() {
                continue;
            }
            let t = median(&mut hits);
            let slot = by.entry((target, property)).or_default();
            if engine == EngineKind::Dpor.name() {
                slot.0 = Some(t);
            } else if engine == EngineKind::ShuttlePct.name() {
                slot.1 = Some(t);
            }
        }
    }
    let both: Vec<(f64, f64)> = by.values().filter_map(|&(d, p)| Some((d?, p?))).collect();
    // Below a millisecond both are noise: count it as within.
    let within = both
        .iter()
        .filter(|(d, p)| *d <= (2.0 * p).max(0.001))
        .count();
    (within, both.len())
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
    let (within, both) = dpor_against_pct(r);
    let _ = writeln!(
        s,
        "dpor within 2x of shuttle-pct's median time to the first counterexample: {within} of {both} expected violations both found"
    );
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
    let (within, both) = dpor_against_pct(r);
    let _ = writeln!(
        s,
        "\ndpor reached {within} of the {both} expected SC violations both engines found within 2x of shuttle-pct's median time to the first counterexample.\n"
    );
    let _ = writeln!(
        s,
        "{ANCHOR_TITLE}:\n\n{}",
        markdown(&ANCHOR_HEAD, &anchor_rows(r))
    );
    let _ = writeln!(
        s,
        "dpor on every variant with a Holds property (scripted scene, every property, no preemption bound):\n\n{}",
        markdown(&["variant", "complete", "executions", "time"], &proof_rows(r))
    );
    let _ = writeln!(
        s,
        "{SWEEP_TITLE}:\n\n{}",
        markdown(&SWEEP_HEAD, &sweep_rows(r))
    );
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

#[cfg(test)]
mod tests {
    use super::*;

    fn results(rows: Vec<Row>) -> Results {
        Results {
            generator: "kmodel bench".into(),
            machine: "test".into(),
            settings: "test".into(),
            total_secs: 1.0,
            rows,
            overhead: vec![],
        }
    }

    /// The SPIN and sweep tables read their rows: dpor's speed-up is over the engine measured
    /// after it on the same scenes, and a tool that did not run says why.
    #[test]
    fn anchor_and_sweep_tables_read_their_rows() {
        let sweep = |engine: &str, secs: f64| Row::Sweep {
            target: "m/v".into(),
            engine: engine.into(),
            bounds: "2/3/2/0".into(),
            scenes_total: 10,
            scenes: 10,
            executions: 100,
            secs,
            complete: true,
        };
        let r = results(vec![
            Row::Anchor {
                target: "m/v".into(),
                tool: "SPIN".into(),
                what: "safety".into(),
                verdict: "SPIN not installed (needs spin and cc on PATH)".into(),
                count: None,
                secs: None,
                complete: false,
            },
            sweep("dpor", 1.0),
            sweep("loom k=2", 4.0),
        ]);
        let text = render(&r);
        assert!(text.contains("SPIN not installed"), "{text}");
        assert!(text.contains("dpor 4.0x"), "{text}");
        let md = summary_markdown(&r);
        assert!(
            md.contains("| m/v | loom k=2 | 2/3/2/0 | 10 of 10 |"),
            "{md}"
        );
    }
}
