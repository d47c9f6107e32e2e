//! `kmodel drift --kernel PATH`: which ported kernel functions changed since the pin (their
//! normalised definition's fingerprint differs), the diff against an older tree, and `--record`
//! to re-pin.
//!
//! Exit codes: 0 every ported function unchanged; 1 one changed or is missing (its file, or its
//! definition in the file); 3 none changed but some have no recorded fingerprint to compare
//! with; 2 bad input (no tree, an unreadable file or table). `--record`: 0, or 1 if a function
//! is missing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::csource::{extract, fingerprint};
use crate::port_readme::record_fingerprints;
use clap::Args;
use kmodel_harness::port::Ported;
use kmodel_harness::verdict::Exit;
use kmodel_harness::Model;

use super::input_error;
use super::port::{Select, Table};

#[derive(Args)]
pub struct DriftArgs {
    /// A kernel source tree (a checkout, or any folder holding the files the ports name).
    #[arg(long, value_name = "PATH")]
    kernel: PathBuf,
    #[command(flatten)]
    select: Select,
    /// An older tree (e.g. at the pin): print the diff of every ported definition that differs
    /// between it and --kernel.
    #[arg(long, value_name = "OLD_TREE", conflicts_with = "record")]
    diff: Option<PathBuf>,
    /// Write the fingerprints of --kernel into the port tables (re-pin; then update [kernel]).
    #[arg(long)]
    record: bool,
}

/// A ported function's state in a tree.
enum Status {
    Unchanged,
    Changed,
    NotPinned,
    Missing,
    MissingFile,
}

impl Status {
    fn label(&self) -> &'static str {
        match self {
            Status::Unchanged => "unchanged",
            Status::Changed => "CHANGED",
            Status::NotPinned => "not yet pinned",
            Status::Missing => "MISSING",
            Status::MissingFile => "MISSING FILE",
        }
    }
}

/// Kernel files read once each: `None` when the tree does not have the file.
struct Tree<'a> {
    root: &'a Path,
    files: BTreeMap<String, Option<Vec<u8>>>,
}

impl<'a> Tree<'a> {
    fn open(root: &'a Path, flag: &str) -> Result<Self, String> {
        if !root.is_dir() {
            return Err(format!("{flag} {}: not a directory", root.display()));
        }
        Ok(Tree {
            root,
            files: BTreeMap::new(),
        })
    }

    fn file(&mut self, rel: &str) -> Result<Option<&[u8]>, String> {
        if !self.files.contains_key(rel) {
            let path = self.root.join(rel);
            let content = match std::fs::read(&path) {
                Ok(b) => Some(b),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(format!("{}: cannot read it: {e}", path.display())),
            };
            self.files.insert(rel.to_string(), content);
        }
        Ok(self.files[rel].as_deref())
    }

    /// The function's definition text, `Ok(None)` when missing, with its status file-wise.
    fn definition(&mut self, f: &Ported) -> Result<Result<String, Status>, String> {
        Ok(match self.file(&f.file)? {
            None => Err(Status::MissingFile),
            Some(src) => extract(src, &f.kernel).ok_or(Status::Missing),
        })
    }
}

pub fn run(registry: &[&'static dyn Model], args: DriftArgs) -> ExitCode {
    match drift(registry, &args) {
        Ok(code) => code,
        Err(e) => input_error(e),
    }
}

fn drift(registry: &[&'static dyn Model], args: &DriftArgs) -> Result<ExitCode, String> {
    let tables = args.select.tables(registry)?;
    let mut tree = Tree::open(&args.kernel, "--kernel")?;
    let mut old = match &args.diff {
        Some(d) => Some(Tree::open(d, "--diff")?),
        None => None,
    };
    let pinned: std::collections::BTreeSet<&str> = tables
        .iter()
        .flat_map(|t| t.port.functions.iter().map(|f| f.file.as_str()))
        .collect();
    let mut trees: Vec<(&str, &mut Tree)> = vec![("--kernel", &mut tree)];
    if let Some(o) = old.as_mut() {
        trees.push(("--diff", o));
    }
    for (flag, t) in trees {
        let mut any = false;
        for f in &pinned {
            any |= t.file(f)?.is_some();
        }
        if !any && !pinned.is_empty() {
            return Err(format!(
                "{flag} {}: not a kernel tree: none of the {} pinned files exist",
                t.root.display(),
                pinned.len()
            ));
        }
    }
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    for t in &tables {
        println!("{} — pinned to {}", t.name, t.port.pin());
        let mut recorded = BTreeMap::new();
        for f in &t.port.functions {
            let (status, current) = match tree.definition(f)? {
                Err(s) => (s, None),
                Ok(text) => {
                    let fp = fingerprint(&text);
                    let s = match &f.fingerprint.0 {
                        None => Status::NotPinned,
                        Some(h) if *h == fp => Status::Unchanged,
                        Some(_) => Status::Changed,
                    };
                    recorded.insert((f.file.clone(), f.kernel.clone()), fp.clone());
                    (s, Some((text, fp)))
                }
            };
            *counts.entry(status.label()).or_default() += 1;
            let note = match (&status, &current) {
                (Status::Missing, _) => format!("  (no definition in {})", f.file),
                (Status::MissingFile, _) => format!("  (no {} in the tree)", f.file),
                (Status::NotPinned, Some((_, fp))) if !args.record => {
                    format!("  (now {}: record with --record)", &fp[..12])
                }
                _ => String::new(),
            };
            println!(
                "  {:<15} {:<28} {:<26} -> {}{note}",
                status.label(),
                f.file,
                f.kernel,
                f.port
            );
            if let (Some(old), Some((new_text, new_fp))) = (old.as_mut(), &current) {
                print_diff(old, &args.kernel, f, new_text, new_fp)?;
            }
        }
        if args.record {
            record(t, &recorded)?;
        }
        println!();
    }
    let n = |k: &str| counts.get(k).copied().unwrap_or(0);
    let drifted = n("CHANGED") + n("MISSING") + n("MISSING FILE");
    println!(
        "{} changed, {} missing, {} unchanged, {} not yet pinned (tree {})",
        n("CHANGED"),
        n("MISSING") + n("MISSING FILE"),
        n("unchanged"),
        n("not yet pinned"),
        args.kernel.display()
    );
    Ok(if args.record {
        if n("MISSING") + n("MISSING FILE") > 0 {
            Exit::Verdict
        } else {
            Exit::Ok
        }
    } else if drifted > 0 {
        Exit::Verdict
    } else if n("not yet pinned") > 0 {
        Exit::Inconclusive
    } else {
        Exit::Ok
    }
    .into())
}

fn print_diff(
    old: &mut Tree,
    new_root: &Path,
    f: &Ported,
    new_text: &str,
    new_fp: &str,
) -> Result<(), String> {
    let old_path = old.root.display().to_string();
    match old.definition(f)? {
        Err(_) => println!("      (not in {old_path}: no diff)"),
        Ok(old_text) if fingerprint(&old_text) == new_fp => {}
        Ok(old_text) => {
            let (o, n) = (format!("{old_text}\n"), format!("{new_text}\n"));
            let diff = similar::TextDiff::from_lines(&o, &n);
            let a = format!("{old_path}/{}: {}", f.file, f.kernel);
            let b = format!("{}/{}: {}", new_root.display(), f.file, f.kernel);
            for line in diff
                .unified_diff()
                .context_radius(3)
                .header(&a, &b)
                .to_string()
                .lines()
            {
                println!("      {line}");
            }
        }
    }
    Ok(())
}

fn record(t: &Table, recorded: &BTreeMap<(String, String), String>) -> Result<(), String> {
    // The file on disk (it may have been edited since this kmodel was built).
    let on_disk = std::fs::read_to_string(&t.path).map_err(|e| {
        format!(
            "{}: cannot read it ({e}); run from the workspace root",
            t.path.display()
        )
    })?;
    let text = record_fingerprints(&on_disk, recorded)
        .map_err(|e| format!("{}: {e}", t.path.display()))?;
    if text == on_disk {
        println!("  {}: fingerprints already as recorded", t.path.display());
        return Ok(());
    }
    kmodel_harness::file::write_atomic(&t.path, text.as_bytes())
        .map_err(|e| format!("{}: cannot write it: {e}", t.path.display()))?;
    println!(
        "  recorded {} fingerprints in {} (update its [kernel] version, commit and read if this tree is a new pin)",
        recorded.len(),
        t.path.display()
    );
    Ok(())
}
