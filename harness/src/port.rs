//! Port tables (`models/<model>/port.toml`): the kernel a model ports (its pin) and, per ported
//! kernel symbol, its file, the Rust port, the fingerprint recorded at the pin and the deliberate
//! deviations; parsing and validation (the CLI renders the README section and records
//! fingerprints: `kmodel::port_readme`).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A model's port table as compiled in: its text and where it lives (for `--record` and README
/// updates). Written with [`port_file!`](crate::port_file).
#[derive(Clone, Copy, Debug)]
pub struct PortFile {
    /// The TOML text (`include_str!`).
    pub toml: &'static str,
    /// The model source file that included it (`file!()`: relative to the workspace root).
    pub included_from: &'static str,
    /// The table's file name, relative to `included_from`'s folder.
    pub name: &'static str,
}

/// `port: port_file!("port.toml")` in a `Model`: the table next to the model's source.
#[macro_export]
macro_rules! port_file {
    ($name:literal) => {
        Some(&$crate::port::PortFile {
            toml: include_str!($name),
            included_from: file!(),
            name: $name,
        })
    };
}

impl PortFile {
    /// Where the table is on disk (relative to the workspace root the binary was built in).
    pub fn path(&self) -> PathBuf {
        Path::new(self.included_from)
            .parent()
            .unwrap_or(Path::new(""))
            .join(self.name)
    }

    /// The model's README (next to the table).
    pub fn readme(&self) -> PathBuf {
        self.path().with_file_name("README.md")
    }

    /// Parses and validates the table.
    pub fn parse(&self) -> Result<Port, String> {
        Port::parse(&self.path().display().to_string(), self.toml)
    }
}

/// One model's port table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Port {
    pub kernel: KernelPin,
    #[serde(default, rename = "function")]
    pub functions: Vec<Ported>,
}

/// Which kernel the model ports, and where and when it was read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KernelPin {
    /// The repository or tree read (e.g. `torvalds/linux`).
    pub tree: String,
    /// A tag, `next-YYYYMMDD`, or a describe string.
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// When it was read (YYYY-MM-DD).
    pub read: String,
}

/// One ported kernel symbol (a function, or a struct/macro the model reproduces).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ported {
    /// The kernel's name (`struct NAME` for a struct).
    pub kernel: String,
    /// Its file in the kernel tree.
    pub file: String,
    /// The Rust port, `FILE.rs::NAME` inside the model's folder.
    pub port: RustItem,
    /// SHA-256 of the normalised kernel definition at the pin; `""` until recorded.
    #[serde(default)]
    pub fingerprint: Fingerprint,
    /// Deliberate simplifications, one line each.
    #[serde(default)]
    pub deviations: Vec<String>,
}

/// A Rust item in a model's folder: `mode.rs::mm_cid_fixup_task_to_cpu`, or a method
/// `cpumask.rs::CpumaskConfig::cpumask_size`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RustItem {
    pub file: String,
    pub item: String,
}

impl TryFrom<String> for RustItem {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let (file, item) = s
            .split_once(".rs::")
            .map(|(f, i)| (&s[..f.len() + 3], i))
            .ok_or_else(|| format!("port \"{s}\" is not FILE.rs::NAME"))?;
        if !file.ends_with(".rs") || !relative_path(file) {
            return Err(format!(
                "port \"{s}\": {file} is not a .rs path inside the model"
            ));
        }
        if !item.split("::").all(identifier) {
            return Err(format!(
                "port \"{s}\": {item} is not a Rust identifier (or TYPE::NAME)"
            ));
        }
        Ok(RustItem {
            file: file.into(),
            item: item.into(),
        })
    }
}

impl RustItem {
    /// The item's own name (a method's name without its type).
    pub fn name(&self) -> &str {
        self.item.rsplit("::").next().unwrap_or(&self.item)
    }
}

impl From<RustItem> for String {
    fn from(r: RustItem) -> String {
        r.to_string()
    }
}

impl fmt::Display for RustItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}::{}", self.file, self.item)
    }
}

/// A recorded fingerprint (64 hex digits), or none yet (`""` in the file).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Fingerprint(pub Option<String>);

impl TryFrom<String> for Fingerprint {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "" => Ok(Fingerprint(None)),
            h if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Ok(Fingerprint(Some(h.to_ascii_lowercase())))
            }
            _ => Err(format!(
                "fingerprint \"{s}\" is neither \"\" nor 64 hex digits"
            )),
        }
    }
}

impl From<Fingerprint> for String {
    fn from(f: Fingerprint) -> String {
        f.0.unwrap_or_default()
    }
}

fn identifier(s: &str) -> bool {
    let mut b = s.bytes();
    b.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// A relative path without `..`, made of ordinary file-name characters.
fn relative_path(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && p.split('/').all(|c| !c.is_empty() && c != "." && c != "..")
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./+,".contains(&b))
}

impl Ported {
    /// The symbol's name without a `struct `/`union `/`enum ` prefix.
    pub fn symbol(&self) -> &str {
        ["struct ", "union ", "enum "]
            .iter()
            .find_map(|k| self.kernel.strip_prefix(k))
            .unwrap_or(&self.kernel)
    }

    fn validate(&self) -> Result<(), String> {
        if !identifier(self.symbol()) {
            return Err(format!(
                "kernel = \"{}\" is not a C identifier (or `struct NAME`)",
                self.kernel
            ));
        }
        let source = [".c", ".h", ".S"].iter().any(|e| self.file.ends_with(e));
        if !relative_path(&self.file) || !source {
            return Err(format!(
                "{}: file = \"{}\" is not a relative path to a .c/.h/.S file in the tree",
                self.kernel, self.file
            ));
        }
        if let Some(d) = self
            .deviations
            .iter()
            .find(|d| d.trim().is_empty() || d.contains('\n'))
        {
            return Err(format!(
                "{}: deviation {d:?} must be one non-empty line",
                self.kernel
            ));
        }
        Ok(())
    }
}

impl Port {
    /// Parses and validates a table; `name` says where it came from in errors.
    pub fn parse(name: &str, text: &str) -> Result<Port, String> {
        let port: Port = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            let at = line.map(|l| format!(" line {l}:")).unwrap_or_default();
            format!("{name}:{at} {}", e.message().replace('\n', " ").trim())
        })?;
        port.validate().map_err(|e| format!("{name}: {e}"))?;
        Ok(port)
    }

    /// Non-empty names, known path shapes, each (file, kernel) once.
    pub fn validate(&self) -> Result<(), String> {
        let k = &self.kernel;
        for (field, v) in [("tree", &k.tree), ("version", &k.version)] {
            if v.trim().is_empty() {
                return Err(format!("[kernel] {field} is empty"));
            }
        }
        let date = k.read.len() == 10
            && k.read.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        if !date {
            return Err(format!("[kernel] read = \"{}\" is not YYYY-MM-DD", k.read));
        }
        if let Some(c) = &k.commit {
            if !(7..=40).contains(&c.len()) || !c.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("[kernel] commit = \"{c}\" is not 7-40 hex digits"));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for f in &self.functions {
            f.validate()?;
            if !seen.insert((&f.file, &f.kernel)) {
                return Err(format!("{} in {} is listed twice", f.kernel, f.file));
            }
        }
        Ok(())
    }

    /// The pin in one line: `torvalds/linux v6.19 (commit 4353dd3b7078, read 2026-12-02)`.
    pub fn pin(&self) -> String {
        let k = &self.kernel;
        match &k.commit {
            Some(c) => format!(
                "{} {} (commit {}, read {})",
                k.tree,
                k.version,
                &c[..c.len().min(12)],
                k.read
            ),
            None => format!("{} {} (read {})", k.tree, k.version, k.read),
        }
    }
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
    fn parses_and_validates() {
        let p = Port::parse("t", TABLE).unwrap();
        assert_eq!(p.functions[1].symbol(), "bar");
        assert_eq!(p.functions[0].port.item, "foo");
        let m = TABLE.replace("\"foo.rs::foo\"", "\"a/foo.rs::Foo::new\"");
        let m = Port::parse("t", &m).unwrap();
        assert_eq!(
            (
                m.functions[0].port.file.as_str(),
                m.functions[0].port.name()
            ),
            ("a/foo.rs", "new")
        );
    }

    #[test]
    fn refuses_bad_tables() {
        for (bad, why) in [
            (TABLE.replace("tree =", "trees ="), "unknown field"),
            (
                TABLE.replace("\"foo.rs::foo\"", "\"foo::foo\""),
                "FILE.rs::NAME",
            ),
            (
                TABLE.replace("\"foo.rs::foo\"", "\"foo.rs::\""),
                "identifier",
            ),
            (TABLE.replace("kernel/foo.c", "../foo.c"), "relative path"),
            (
                TABLE.replace("fingerprint = \"\"", "fingerprint = \"12\""),
                "64 hex",
            ),
            (
                TABLE
                    .replace("struct bar", "foo")
                    .replace("include/linux/bar.h", "kernel/foo.c"),
                "twice",
            ),
            (TABLE.replace("2026-12-02", "yesterday"), "YYYY-MM-DD"),
            (
                TABLE.replace("kernel = \"foo\"", "kernel = \"\""),
                "C identifier",
            ),
        ] {
            let e = Port::parse("t", &bad).unwrap_err();
            assert!(e.contains(why), "{e}");
        }
    }
}
