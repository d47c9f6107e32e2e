//! Manifests checked against what they describe (issue 20, item 6), as the TLA+ Examples
//! repository checks its README against its manifests: the README's verdict table is what
//! `check --markdown` prints from the committed results, and each model's `sources!` list is
//! the model's folder (every `.rs` file but `tests.rs`).
//!
//! `KMODEL_UPDATE_README=1 cargo test --release --test manifests` rewrites the README's table
//! from the committed `traces/*/results.json` (re-record those first: CONTRIBUTING section 5).

use std::collections::BTreeSet;
use std::path::Path;

use kmodel_harness::Model;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// The README's table covers the four designs; the litmus tests are tabled in their own README.
const TABLED: &[&str] = &["mm-cpumask", "mrelease", "ipi-mask", "mmcid"];

#[test]
fn readme_verdict_table_is_check_markdown() {
    let models: Vec<&dyn Model> = TABLED
        .iter()
        .map(|n| {
            *kmodel_models::REGISTRY
                .iter()
                .find(|m| m.name() == *n)
                .expect("tabled model is registered")
        })
        .collect();
    let want = kmodel::testing::verdict_table(&models, &Path::new(ROOT).join("traces"))
        .unwrap_or_else(|e| panic!("{e}"));
    let path = Path::new(ROOT).join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let start = readme
        .find(&format!("#### {}\n", TABLED[0]))
        .expect("README has the verdict table");
    // The table: its `####` headings, rows and blank lines, up to the first other line.
    let mut end = start;
    for line in readme[start..].split_inclusive('\n') {
        if !(line.starts_with("#### ") || line.starts_with('|') || line.trim().is_empty()) {
            break;
        }
        end += line.len();
    }
    let got = readme[start..end].trim_end();
    let want = want.trim_end();
    let end = start + got.len();
    if got != want {
        if std::env::var_os("KMODEL_UPDATE_README").is_some() {
            let mut new = readme.clone();
            new.replace_range(start..end, want);
            std::fs::write(&path, new).unwrap();
            return;
        }
        let diff = similar::TextDiff::from_lines(got, want);
        panic!(
            "README's verdict table is not `check --markdown` of the committed results; \
             rewrite it with `KMODEL_UPDATE_README=1 cargo test --release --test manifests`:\n{}",
            diff.unified_diff().context_radius(0)
        );
    }
}

#[test]
fn each_model_lists_its_folder() {
    for model in kmodel_models::REGISTRY {
        let sources = &model.card().source;
        let dir = Path::new(ROOT).join(Path::new(sources.listed_in).parent().unwrap());
        let listed: BTreeSet<&str> = sources.files.iter().map(|s| s.file).collect();
        let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|f| f.ends_with(".rs") && f != "tests.rs")
            .collect();
        let on_disk: BTreeSet<&str> = on_disk.iter().map(String::as_str).collect();
        assert_eq!(
            listed,
            on_disk,
            "{}: sources! in {} must list every .rs file of {} but tests.rs",
            model.name(),
            sources.listed_in,
            dir.display()
        );
    }
}
