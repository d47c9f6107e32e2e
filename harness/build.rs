//! Records the loom and shuttle versions this build links (read from the consuming workspace's
//! Cargo.lock), so traces say what actually ran rather than what kmodel was written against.

use std::path::{Path, PathBuf};

/// The Cargo.lock of the workspace being built: the first one above the build's output folder
/// (`<workspace>/target/...`), else above this package.
fn lock_file() -> Option<PathBuf> {
    let starts = ["OUT_DIR", "CARGO_MANIFEST_DIR"].map(|v| std::env::var_os(v).map(PathBuf::from));
    starts.into_iter().flatten().find_map(|start| {
        start
            .ancestors()
            .map(|d| d.join("Cargo.lock"))
            .find(|f| f.is_file())
    })
}

/// The version of package `name` in a Cargo.lock (the first entry of that name).
fn locked_version(lock: &str, name: &str) -> Option<String> {
    let mut lines = lock.lines();
    while let Some(l) = lines.next() {
        if l.trim() == format!("name = \"{name}\"") {
            let v = lines.next()?.trim();
            return v
                .strip_prefix("version = \"")
                .and_then(|v| v.strip_suffix('"'))
                .map(String::from);
        }
    }
    None
}

fn main() {
    let lock = lock_file();
    let text = lock
        .as_deref()
        .and_then(|p: &Path| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    for (name, var) in [
        ("loom", "KMODEL_LOOM_VERSION"),
        ("shuttle", "KMODEL_SHUTTLE_VERSION"),
    ] {
        let v = locked_version(&text, name).unwrap_or_else(|| "unknown".into());
        println!("cargo:rustc-env={var}={v}");
    }
    if let Some(p) = lock {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    println!("cargo:rerun-if-changed=build.rs");
}
