//! Every model's port table (`models/<model>/port.toml`): it parses and validates, each `port`
//! names an item that exists in the named Rust file, and the model README carries the section
//! `kmodel port --update-readme` renders from it.

use kmodel::port_readme::{markdown, readme_section, README_HEADING};

/// Whether `src` defines the Rust item `name` (a fn, struct, enum, const, static, type, trait or
/// macro).
fn defines(src: &str, name: &str) -> bool {
    src.lines().any(|l| {
        let words: Vec<&str> = l
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '!'))
            .filter(|w| !w.is_empty())
            .collect();
        words.windows(2).any(|w| {
            [
                "fn",
                "struct",
                "enum",
                "const",
                "static",
                "type",
                "trait",
                "macro_rules!",
                "mod",
            ]
            .contains(&w[0])
                && w[1] == name
        })
    })
}

#[test]
fn every_port_table_is_valid_and_names_existing_rust_items() {
    let mut problems = Vec::new();
    for m in kmodel_models::REGISTRY {
        let Some(file) = m.card().port else { continue };
        let port = match file.parse() {
            Ok(p) => p,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        let dir = file.path().parent().unwrap().to_path_buf();
        for f in &port.functions {
            let path = dir.join(&f.port.file);
            match std::fs::read_to_string(&path) {
                Ok(src) if defines(&src, f.port.name()) => {}
                Ok(_) => problems.push(format!(
                    "{}: {} -> {}: no `fn {}` (or struct/const/...) in {}",
                    m.name(),
                    f.kernel,
                    f.port,
                    f.port.name(),
                    path.display()
                )),
                Err(e) => problems.push(format!("{}: {}: {e}", m.name(), path.display())),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_model_readme_shows_its_port_table() {
    let mut stale = Vec::new();
    for m in kmodel_models::REGISTRY {
        let Some(file) = m.card().port else { continue };
        let Ok(port) = file.parse() else { continue }; // reported by the test above
        let readme = std::fs::read_to_string(file.readme()).unwrap_or_default();
        let want = markdown(&port, m.name());
        if readme_section(&readme).map(str::trim_end) != Some(want.trim_end()) {
            stale.push(format!(
                "{}: its \"{}\" section is not what {} renders: regenerate with `cargo run --release -- port {} --update-readme`",
                file.readme().display(),
                README_HEADING.trim_start_matches("# "),
                file.path().display(),
                m.name()
            ));
        }
    }
    assert!(stale.is_empty(), "{}", stale.join("\n"));
}

#[test]
fn the_item_grep_is_not_vacuous() {
    assert!(defines("pub(super) fn mm_get_cid(x: u32) {}", "mm_get_cid"));
    assert!(defines("pub struct MmCid {", "MmCid"));
    assert!(!defines("    mm_get_cid(x);", "mm_get_cid"));
    assert!(!defines("fn mm_get_cid_slow() {}", "mm_get_cid"));
}
