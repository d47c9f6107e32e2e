//! `kmodel new DIR`: a model crate of your own, green with `cargo test` as written: the
//! sleep/wake example (`examples/sleepwake-model`) with its committed traces, depending on this
//! kmodel, with kmodel's own `Cargo.lock` so it links the loom and shuttle versions kmodel was
//! tested with.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use super::input_error;

#[derive(Args, Debug)]
pub struct NewArgs {
    /// The folder to create; its last component is the crate's name (`my-design`).
    pub dir: PathBuf,
    /// The kmodel checkout the crate depends on (default: the one this binary was built from).
    #[arg(long, value_name = "PATH")]
    pub kmodel: Option<PathBuf>,
}

/// The example crate's files, as `kmodel new` writes them (path, contents).
macro_rules! example {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../examples/sleepwake-model/", $path)))),*]
    };
}

/// Every file of `examples/sleepwake-model` but its `Cargo.toml` and `README.md`
/// (`tests/cli.rs` checks the list is complete).
pub const EXAMPLE_FILES: &[(&str, &str)] = example![
    "src/lib.rs",
    "src/main.rs",
    "src/model.rs",
    "src/properties.rs",
    "src/scene.rs",
    "src/sleepwake.rs",
    "tests/verdicts.rs",
    "traces/sleepwake/check-before-queueing--hung-task.loom.json",
    "traces/sleepwake/check-before-queueing--hung-task.shuttle-pct.json",
    "traces/sleepwake/no-recheck--woken-with-cond.loom.json",
    "traces/sleepwake/no-recheck--woken-with-cond.shuttle-pct.json",
    "traces/sleepwake/results.json",
    "traces/sleepwake/waitqueue-active-no-mb--hung-task.loom.json",
];

/// kmodel's own lock file: the versions the suite passed with.
const LOCK: &str = include_str!("../../Cargo.lock");

fn manifest(name: &str, kmodel: &Path) -> String {
    let k = kmodel.display().to_string().replace('\\', "/");
    format!(
        r#"# A kmodel model crate (written by `kmodel new`). Cargo.lock pins loom, shuttle and every
# other dependency to the versions kmodel was tested with: commit it, update it deliberately.
[package]
name = "{name}"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
kmodel = {{ path = "{k}", default-features = false }}
kmodel-harness = {{ path = "{k}/harness" }}

[[test]]
name = "verdicts"
harness = false

# A crate of its own, not a member of an enclosing workspace.
[workspace]

# Exploration speed is the product: build and test with --release (as kmodel does).
[profile.release]
debug = "line-tables-only"
"#
    )
}

fn readme(name: &str) -> String {
    format!(
        "# {name}\n\nModels of your own design, checked by kmodel. Start from `src/model.rs` and `src/sleepwake.rs` (the \
         kernel's sleep/wake-up pattern and how it breaks); CONTRIBUTING.md in kmodel, \"Modelling \
         your own design\", walks through the rest.\n\n```sh\ncargo test --release              \
         # every declared verdict, small sweeps, every committed trace\ncargo run --release -- \
         check      # the verdict table\ncargo run --release -- check --out traces --force   # \
         re-record after a model change\ncargo run --release -- explain traces/sleepwake/\
         check-before-queueing--hung-task.loom.json\n```\n"
    )
}

pub fn run(args: NewArgs) -> ExitCode {
    let dir = &args.dir;
    let Some(name) = dir.file_name().and_then(|n| n.to_str()).map(String::from) else {
        return input_error(format!("{}: not a folder name", dir.display()));
    };
    let valid = !name.is_empty()
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return input_error(format!(
            "{name}: a crate name is letters, digits, - and _, starting with a letter"
        ));
    }
    if dir.exists() && std::fs::read_dir(dir).map_or(true, |mut d| d.next().is_some()) {
        return input_error(format!(
            "{}: exists and is not empty (kmodel new never overwrites)",
            dir.display()
        ));
    }
    let kmodel = args
        .kmodel
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    let kmodel = match kmodel.canonicalize() {
        Ok(p) if p.join("harness/Cargo.toml").is_file() => p,
        _ => {
            return input_error(format!(
                "--kmodel {}: not a kmodel checkout (no harness/Cargo.toml)",
                kmodel.display()
            ))
        }
    };
    let ident = name.replace('-', "_");
    let mut files: Vec<(String, String)> = EXAMPLE_FILES
        .iter()
        .map(|(p, text)| (p.to_string(), text.replace("sleepwake_model", &ident)))
        .collect();
    files.push(("Cargo.toml".into(), manifest(&name, &kmodel)));
    files.push(("Cargo.lock".into(), LOCK.to_string()));
    files.push(("README.md".into(), readme(&name)));
    files.push((".gitignore".into(), "/target\n".into()));
    for (path, text) in &files {
        let p = dir.join(path);
        let written = std::fs::create_dir_all(p.parent().expect("has a parent"))
            .and_then(|_| kmodel_harness::file::write_atomic(&p, text.as_bytes()));
        if let Err(e) = written {
            return input_error(format!("{}: cannot write: {e}", p.display()));
        }
    }
    println!(
        "created {} ({} files): cd {} && cargo test --release",
        dir.display(),
        files.len(),
        dir.display()
    );
    ExitCode::SUCCESS
}
