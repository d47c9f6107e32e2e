//! `kmodel port`: the port tables (pin, ported functions, deviations), as text or as each model
//! README's generated section; and the table selection `drift` and `affected` share.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use kmodel_harness::model::lookup;
use kmodel_harness::port::Port;

use crate::port_readme::{markdown, replace_section};
use kmodel_harness::Model;

use super::input_error;

/// Which port tables a command reads.
#[derive(Args, Clone, Debug, Default)]
pub struct Select {
    /// Models to read (default: every model with a port table).
    pub models: Vec<String>,
    /// Read this port table instead of the models' own: `MODEL=FILE` stands for MODEL's table,
    /// a bare `FILE` is a table of no model (repeatable).
    #[arg(long = "port", value_name = "[MODEL=]FILE")]
    pub ports: Vec<String>,
}

/// One port table to work on.
pub struct Table {
    /// The model it belongs to (none for a bare `--port FILE`).
    pub model: Option<&'static dyn Model>,
    /// What to call it in output: the model name, or the file.
    pub name: String,
    pub port: Port,
    /// The file on disk (for `--record`).
    pub path: PathBuf,
}

impl Select {
    /// The tables to read, or a one-line reason why not (exit 2).
    pub fn tables(&self, registry: &[&'static dyn Model]) -> Result<Vec<Table>, String> {
        if !self.ports.is_empty() {
            if !self.models.is_empty() {
                return Err("give models or --port tables, not both".into());
            }
            return self.ports.iter().map(|p| file_table(registry, p)).collect();
        }
        let models: Vec<&'static dyn Model> = if self.models.is_empty() {
            registry
                .iter()
                .copied()
                .filter(|m| m.card().port.is_some())
                .collect()
        } else {
            let mut v = Vec::new();
            for name in &self.models {
                let (m, variant) = lookup(registry, name)?;
                if variant.is_some() {
                    return Err(format!(
                        "{name}: port tables are per model, not per variant"
                    ));
                }
                if m.card().port.is_none() {
                    return Err(format!("model {} has no port table", m.name()));
                }
                v.push(m);
            }
            v
        };
        models
            .into_iter()
            .filter_map(|m| m.card().port.map(|f| (m, f)))
            .map(|(m, f)| {
                Ok(Table {
                    model: Some(m),
                    name: m.name().to_string(),
                    port: f.parse()?,
                    path: f.path(),
                })
            })
            .collect()
    }
}

fn file_table(registry: &[&'static dyn Model], spec: &str) -> Result<Table, String> {
    let (model, file) = match spec.split_once('=') {
        Some((m, f)) => (Some(lookup(registry, m)?.0), f),
        None => (None, spec),
    };
    let path = PathBuf::from(file);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("--port {}: cannot read it: {e}", path.display()))?;
    let port = Port::parse(&path.display().to_string(), &text)?;
    Ok(Table {
        model,
        name: model.map_or_else(|| path.display().to_string(), |m| m.name().to_string()),
        port,
        path,
    })
}

#[derive(Args)]
pub struct PortArgs {
    #[command(flatten)]
    select: Select,
    /// Print each model README's generated section ("Kernel version and port table").
    #[arg(long, conflicts_with = "update_readme")]
    markdown: bool,
    /// Rewrite that section in each model's README.md (next to its port.toml).
    #[arg(long)]
    update_readme: bool,
}

pub fn run(registry: &[&'static dyn Model], args: PortArgs) -> ExitCode {
    let tables = match args.select.tables(registry) {
        Ok(t) => t,
        Err(e) => return input_error(e),
    };
    for t in &tables {
        if args.markdown {
            print!("{}", markdown(&t.port, &t.name));
        } else if args.update_readme {
            let Some(file) = t.model.and_then(|m| m.card().port) else {
                return input_error(format!("{}: a --port file has no README", t.name));
            };
            let readme = file.readme();
            let old = match std::fs::read_to_string(&readme) {
                Ok(s) => s,
                Err(e) => return input_error(format!("{}: {e}", readme.display())),
            };
            let new = replace_section(&old, &markdown(&t.port, &t.name));
            if new != old {
                if let Err(e) = kmodel_harness::file::write_atomic(&readme, new.as_bytes()) {
                    return input_error(format!("{}: {e}", readme.display()));
                }
                println!("updated {}", readme.display());
            } else {
                println!("{} is up to date", readme.display());
            }
        } else {
            print_table(t);
        }
    }
    ExitCode::SUCCESS
}

fn print_table(t: &Table) {
    let p = &t.port;
    println!(
        "{} — pinned to {}, {} ported",
        t.name,
        p.pin(),
        p.functions.len()
    );
    for f in &p.functions {
        let fp = f
            .fingerprint
            .0
            .as_deref()
            .map_or("not recorded", |h| &h[..12]);
        println!("    {:<34} {:<28} -> {}  [{fp}]", f.kernel, f.file, f.port);
        for d in &f.deviations {
            println!("        deviation: {d}");
        }
    }
    println!();
}
