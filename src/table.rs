//! Tables: the plain-text tables of the terminal and CI logs (comfy-table, fitted to the
//! terminal's width, or to [`PLAIN_WIDTH`] columns when stdout is not a terminal), and the
//! Markdown verdict matrix of READMEs and the report.

use comfy_table::{presets, ColumnConstraint, ContentArrangement, Table, TableComponent, Width};

/// Width of a table when stdout is not a terminal (logs, mail): what a patch review reads.
pub const PLAIN_WIDTH: u16 = 100;

/// Renders rows under a header, wrapping cells so the table fits the width (see module docs);
/// the columns numbered in `whole` (names, identifiers) are never wrapped.
pub fn render(header: &[&str], rows: &[Vec<String>], whole: &[usize]) -> String {
    let widths: Vec<Option<u16>> = (0..header.len())
        .map(|i| {
            whole.contains(&i).then(|| {
                rows.iter()
                    .filter_map(|r| r.get(i))
                    .chain(std::iter::once(&header[i].to_string()))
                    .map(|c| c.chars().count() as u16)
                    .max()
                    .unwrap_or(0)
            })
        })
        .collect();
    render_fixed(Some(header), rows, &widths)
}

/// Renders rows (under a header, if given) with the columns that have a width fixed to it, so
/// several tables rendered with the same widths line up; the others share what is left.
pub fn render_fixed(
    header: Option<&[&str]>,
    rows: &[Vec<String>],
    widths: &[Option<u16>],
) -> String {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING)
        .set_style(TableComponent::HeaderLines, '-')
        .set_content_arrangement(ContentArrangement::Dynamic);
    if let Some(h) = header {
        t.set_header(h.iter().copied());
    }
    if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        t.set_width(PLAIN_WIDTH);
    }
    for r in rows {
        t.add_row(r.iter().map(String::as_str));
    }
    for (i, c) in t.column_iter_mut().enumerate() {
        c.set_padding((0, 2));
        if let Some(&Some(w)) = widths.get(i) {
            c.set_constraint(ColumnConstraint::Absolute(Width::Fixed(w + 2)));
        }
    }
    let mut out: String = t.lines().map(|l| l.trim_end().to_string() + "\n").collect();
    if out.is_empty() {
        out.push('\n');
    }
    out
}

/// One Markdown matrix per model: a row per variant, a column per property, each cell the
/// verdict all engines agree on (or how they differ), then what loom explored.
pub fn markdown_matrix(reports: &[kmodel_harness::verdict::VariantReport]) -> String {
    use kmodel_harness::verdict::Agreement;
    let mut out = String::new();
    let mut models: Vec<&str> = reports.iter().map(|r| r.model.as_str()).collect();
    models.dedup();
    for model in models {
        let of_model: Vec<_> = reports.iter().filter(|r| r.model == model).collect();
        let mut props: Vec<&str> = vec![];
        for r in &of_model {
            for p in r.properties.iter() {
                if !props.contains(&p.property.as_str()) {
                    props.push(p.property.as_str());
                }
            }
        }
        let mut variants: Vec<&str> = of_model.iter().map(|r| r.variant.as_str()).collect();
        variants.dedup();
        out += &format!(
            "#### {model}\n\n| variant | {} | explored |\n",
            props.join(" | ")
        );
        out += &format!("|---|{}---|\n", "---|".repeat(props.len()));
        for v in variants {
            let runs: Vec<_> = of_model
                .iter()
                .filter(|r| r.variant == v && r.skipped.is_none())
                .collect();
            let cells: Vec<String> = props
                .iter()
                .map(|p| {
                    let results: Vec<_> = runs
                        .iter()
                        .filter_map(|r| {
                            r.properties
                                .iter()
                                .find(|x| x.property == *p)
                                .map(|x| (r, x))
                        })
                        .collect();
                    let violated_by: Vec<&str> = results
                        .iter()
                        .filter(|(_, x)| x.violated)
                        .map(|(r, _)| r.engine.name())
                        .collect();
                    let unexpected = results
                        .iter()
                        .any(|(_, x)| x.agreement == Agreement::Unexpected);
                    let weak_only = !violated_by.is_empty()
                        && results
                            .iter()
                            .all(|(r, x)| x.violated == r.engine.weak_memory());
                    let beyond = results
                        .iter()
                        .any(|(_, x)| x.expected == Some(kmodel_harness::Expect::BeyondEngine));
                    let race = kmodel_harness::DATA_RACE == *p
                        && results.iter().any(|(r, _)| !r.engine.kind().sees_races());
                    let cell = if race {
                        // Only engines with happens-before (loom) check data races.
                        let checked: Vec<&str> = results
                            .iter()
                            .filter(|(r, _)| r.engine.kind().sees_races())
                            .map(|(r, _)| r.engine.name())
                            .collect();
                        let verdict = if violated_by.is_empty() {
                            "Holds"
                        } else {
                            "**Violated**"
                        };
                        format!(
                            "{verdict} ({}; SC engines cannot see races)",
                            checked.join(", ")
                        )
                    } else if violated_by.is_empty() {
                        if beyond {
                            "not observed (beyond this engine)".to_string()
                        } else if runs.iter().any(|r| r.partial()) {
                            "not violated (partial run)".to_string()
                        } else {
                            "Holds".to_string()
                        }
                    } else if violated_by.len() == results.len() {
                        "**Violated**".to_string()
                    } else if weak_only {
                        "**Violated** (weak memory only)".to_string()
                    } else {
                        format!("**Violated** ({})", violated_by.join(", "))
                    };
                    if unexpected {
                        format!("{cell} ✗ UNEXPECTED")
                    } else {
                        cell
                    }
                })
                .collect();
            let explored = runs
                .iter()
                .map(|r| format!("{}: {}", r.engine.name(), r.explored))
                .collect::<Vec<_>>()
                .join("; ");
            out += &format!("| `{v}` | {} | {explored} |\n", cells.join(" | "));
        }
        out += "\n";
    }
    out
}
