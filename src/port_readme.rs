//! The port table's README section and its fingerprints: `kmodel port --update-readme` renders
//! a model's `port.toml` into its README, `kmodel drift --record` writes fingerprints into it.

use std::collections::BTreeMap;

use kmodel_harness::port::Port;

/// The heading of the README section rendered from a port table.
pub const README_HEADING: &str = "## Kernel version and port table";

/// The README section (heading included, ending with a newline).
pub fn markdown(port: &Port, model: &str) -> String {
    let mut s = format!("{README_HEADING}\n\n");
    s += &format!(
        "Generated from [`port.toml`](port.toml) by `cargo run --release -- port {model} \
         --update-readme`; do not edit by hand.\n\n"
    );
    s += &format!(
        "Pinned to **{}**. `kmodel drift --kernel PATH {model}` lists the ported functions \
         whose kernel definition changed since; `kmodel affected PATCH` which checks a patch \
         touches.\n\n",
        port.pin()
    );
    if port.functions.is_empty() {
        s += "No ported function is listed yet.\n";
        return s;
    }
    s += "| kernel | file | port | fingerprint | deviations |\n|---|---|---|---|---|\n";
    for f in &port.functions {
        let name = if f.symbol() == f.kernel {
            format!("`{}()`", f.kernel)
        } else {
            format!("`{}`", f.kernel)
        };
        let fp = match &f.fingerprint.0 {
            Some(h) => format!("`{}`", &h[..12]),
            None => "not recorded".into(),
        };
        let dev = if f.deviations.is_empty() {
            "none".to_string()
        } else {
            f.deviations
                .iter()
                .map(|d| d.replace('|', "\\|"))
                .collect::<Vec<_>>()
                .join("<br>")
        };
        s += &format!("| {name} | `{}` | `{}` | {fp} | {dev} |\n", f.file, f.port);
    }
    s
}

/// The README's port section (from its heading to the next `## ` heading), if present.
pub fn readme_section(readme: &str) -> Option<&str> {
    let start = section_start(readme)?;
    let rest = &readme[start..];
    let end = rest[README_HEADING.len()..]
        .find("\n## ")
        .map_or(rest.len(), |i| README_HEADING.len() + i + 1);
    Some(&rest[..end])
}

fn section_start(readme: &str) -> Option<usize> {
    if readme.starts_with(README_HEADING) {
        return Some(0);
    }
    readme.find(&format!("\n{README_HEADING}\n")).map(|i| i + 1)
}

/// `readme` with its port section replaced by `section` (appended when absent).
pub fn replace_section(readme: &str, section: &str) -> String {
    match (section_start(readme), readme_section(readme)) {
        (Some(start), Some(old)) => {
            let tail = &readme[start + old.len()..];
            let sep = if tail.is_empty() { "" } else { "\n" };
            format!("{}{section}{sep}{tail}", &readme[..start])
        }
        _ => {
            let sep = if readme.ends_with("\n\n") || readme.is_empty() {
                ""
            } else if readme.ends_with('\n') {
                "\n"
            } else {
                "\n\n"
            };
            format!("{readme}{sep}{section}")
        }
    }
}

/// The table's text with the fingerprints of `recorded` ((file, kernel) -> hex) written in,
/// keeping its comments and layout.
pub fn record_fingerprints(
    text: &str,
    recorded: &BTreeMap<(String, String), String>,
) -> Result<String, String> {
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| e.to_string().replace('\n', " "))?;
    if let Some(functions) = doc
        .get_mut("function")
        .and_then(|f| f.as_array_of_tables_mut())
    {
        for t in functions.iter_mut() {
            let key = |k: &str| t.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
            let (file, kernel) = (key("file"), key("kernel"));
            if let Some(fp) = recorded.get(&(file, kernel)) {
                match t.get_mut("fingerprint").and_then(|i| i.as_value_mut()) {
                    Some(v) => {
                        let decor = v.decor().clone();
                        *v = toml_edit::Value::from(fp.as_str());
                        *v.decor_mut() = decor;
                    }
                    None => {
                        t.insert("fingerprint", toml_edit::value(fp.as_str()));
                    }
                }
            }
        }
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = r#"# a comment
[kernel]
tree = "torvalds/linux"
version = "v6.19"
read = "2026-12-02"

[[function]]
kernel = "foo"
file = "kernel/foo.c"
port = "foo.rs::foo"
fingerprint = ""   # kept
deviations = ["no lockdep | checks"]

[[function]]
kernel = "struct bar"
file = "include/linux/bar.h"
port = "foo.rs::Bar"
"#;

    #[test]
    fn renders_a_row_per_function() {
        let md = markdown(&Port::parse("t", TABLE).unwrap(), "m");
        assert!(md.starts_with(README_HEADING));
        assert!(md.contains(
            "| `foo()` | `kernel/foo.c` | `foo.rs::foo` | not recorded | no lockdep \\| checks |"
        ));
        assert!(md.contains("| `struct bar` |"));
    }

    #[test]
    fn records_keeping_comments() {
        let mut m = std::collections::BTreeMap::new();
        let h = "ab".repeat(32);
        m.insert(("kernel/foo.c".into(), "foo".into()), h.clone());
        m.insert(
            ("include/linux/bar.h".into(), "struct bar".into()),
            h.clone(),
        );
        let out = record_fingerprints(TABLE, &m).unwrap();
        assert!(out.contains("# a comment") && out.contains("# kept"));
        let p = Port::parse("t", &out).unwrap();
        assert!(p
            .functions
            .iter()
            .all(|f| f.fingerprint.0.as_deref() == Some(h.as_str())));
    }

    #[test]
    fn readme_sections() {
        let sec = format!("{README_HEADING}\n\nnew\n");
        let with = format!("# M\n\ntext\n\n{README_HEADING}\n\nold\n\n## Next\nx\n");
        let r = replace_section(&with, &sec);
        assert_eq!(r, format!("# M\n\ntext\n\n{sec}\n## Next\nx\n"));
        assert_eq!(readme_section(&r), Some(&format!("{sec}\n")[..]));
        let appended = replace_section("# M\n", &sec);
        assert_eq!(appended, format!("# M\n\n{sec}"));
        assert_eq!(readme_section(&appended), Some(sec.as_str()));
    }
}
