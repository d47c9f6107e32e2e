//! How `kmodel check` and `kmodel merge` print their reports: the verdict table (or JSON, or a
//! Markdown matrix), the counterexample traces written, and the summary lines.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use kmodel_harness::check::{Agreement, VariantReport};
use kmodel_harness::Expect;

use crate::table;

/// How `kmodel check` and `kmodel merge` print their reports.
#[derive(Clone, Copy)]
pub enum Output {
    Table,
    Json,
    Markdown,
}

/// Writes the traces, prints the reports, and returns the exit code.
pub fn finish(
    reports: Vec<VariantReport>,
    out: &Path,
    force: bool,
    output: Output,
    started: Instant,
) -> ExitCode {
    let written = write_traces(&reports, out, force);
    match output {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&reports).expect("reports serialize")
        ),
        Output::Markdown => print!("{}", table::markdown_matrix(&reports)),
        Output::Table => {
            print!("{}", verdict_table(&reports));
            println!();
            for line in &written {
                println!("{line}");
            }
            summary(&reports, started.elapsed());
        }
    }
    if reports.iter().all(VariantReport::as_expected) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn verdict_table(reports: &[VariantReport]) -> String {
    let mut rows = vec![];
    for r in reports {
        let target = format!("{}/{}", r.model, r.variant);
        if let Some(why) = &r.skipped {
            // The full reason is in `kmodel list`.
            let short = match why.char_indices().nth(60) {
                Some((i, _)) => format!("{}... (kmodel list)", &why[..i]),
                None => why.clone(),
            };
            rows.push(vec![
                target,
                "-".into(),
                "-".into(),
                "skipped".into(),
                r.engine.name().into(),
                short,
                "".into(),
            ]);
            continue;
        }
        if let Some(e) = &r.error {
            rows.push(vec![
                target.clone(),
                "-".into(),
                "-".into(),
                "ERROR".into(),
                r.engine.name().into(),
                e.clone(),
                "".into(),
            ]);
        }
        for p in &r.properties {
            let declared = p
                .expected
                .map_or("undeclared".to_string(), |e| e.to_string());
            let observed = match (p.violated, &p.agreement) {
                (true, Agreement::Unexpected) => "Violated  UNEXPECTED".to_string(),
                (false, Agreement::Unexpected) => "Holds  UNEXPECTED".to_string(),
                (false, Agreement::NotReached) => "not reached".to_string(),
                (true, _) => "Violated".to_string(),
                (false, _) if r.partial() => "not violated (partial)".to_string(),
                (false, _) => "Holds".to_string(),
            };
            let explored = match (p.found_at, p.found_in) {
                (Some((i, secs)), Some(key)) if key.subtree > 0 => format!(
                    "found at execution {i} of subtree {} ({secs:.2}s)",
                    key.subtree
                ),
                (Some((i, secs)), _) => format!("found at execution {i} ({secs:.2}s)"),
                _ => r.explored.clone(),
            };
            rows.push(vec![
                target.clone(),
                p.property.clone(),
                declared,
                observed,
                r.engine.label(),
                explored,
                format!("{:.2}s", r.elapsed_secs),
            ]);
        }
    }
    table::render(
        &[
            "MODEL/VARIANT",
            "PROPERTY",
            "DECLARED",
            "OBSERVED",
            "ENGINE",
            "EXPLORED",
            "TIME",
        ],
        &rows,
    )
}

/// Writes every counterexample under `out`, never overwriting a different file without --force.
/// Returns the lines to print: each trace when there are few, otherwise a count per outcome;
/// files it refused to overwrite are always listed.
fn write_traces(reports: &[VariantReport], out: &Path, force: bool) -> Vec<String> {
    const LIST_AT_MOST: usize = 12;
    let mut listed = vec![];
    let mut kept = vec![];
    let (mut written, mut unchanged) = (0, 0);
    for p in reports.iter().flat_map(|r| &r.properties) {
        let Some(t) = &p.trace else { continue };
        let path = t.path_in(out);
        let json = t.to_json();
        match std::fs::read_to_string(&path).ok() {
            Some(old) if old == json => unchanged += 1,
            Some(_) if !force => {
                kept.push(format!(
                    "trace {}: kept the existing file (it differs; --force overwrites)",
                    path.display()
                ));
                continue;
            }
            _ => {
                let saved = std::fs::create_dir_all(path.parent().expect("has parent"))
                    .and_then(|_| std::fs::write(&path, &json));
                if let Err(e) = saved {
                    kept.push(format!("trace {}: cannot write: {e}", path.display()));
                    continue;
                }
                written += 1;
            }
        }
        listed.push(format!(
            "trace [{}] kmodel explain {}",
            p.property,
            path.display()
        ));
    }
    let mut lines = if listed.len() <= LIST_AT_MOST {
        listed
    } else {
        vec![format!(
            "{} counterexample traces under {} ({written} written, {unchanged} unchanged): kmodel explain FILE",
            written + unchanged,
            out.display()
        )]
    };
    lines.extend(kept);
    lines
}

fn summary(reports: &[VariantReport], elapsed: Duration) {
    let unexpected: Vec<String> = reports
        .iter()
        .filter(|r| !r.as_expected())
        .map(|r| format!("{}/{} under {}", r.model, r.variant, r.engine.name()))
        .collect();
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
        .flat_map(|r| &r.properties)
        .filter(|p| p.violated && p.expected != Some(Expect::Holds))
        .count();
    println!(
        "{} checks, {declared_violations} expected violations found, total {:.1}s",
        reports.len(),
        elapsed.as_secs_f64()
    );
    if unexpected.is_empty() {
        println!("all verdicts as declared");
    } else {
        println!("UNEXPECTED verdicts in: {}", unexpected.join(", "));
    }
}
