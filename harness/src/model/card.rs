//! A model's card: what it is about ([`ModelCard`]: name, question, kernel references,
//! properties, source files, port table) and the derived tables it can print ([`ModelTable`]).

use sha2::{Digest, Sha256};

use crate::port::PortFile;
use crate::verdict::Property;

/// What a model is about; `const CARD: &ModelCard` of a `KernelModel`.
#[derive(Debug)]
pub struct ModelCard {
    /// What users type and trace paths carry (kebab-case).
    pub name: &'static str,
    /// The one-line question the model answers.
    pub question: &'static str,
    /// Kernel files, functions and mail message-ids the model ports.
    pub references: &'static [&'static str],
    /// Every property (`PROPERTIES` from [`properties!`](crate::properties)).
    pub properties: &'static [Property],
    /// The model's source files ([`sources!`](crate::sources)), hashed into traces to detect
    /// stale ones.
    pub source: Sources,
    /// The port table: the kernel version ported and each ported function
    /// (`port_file!("port.toml")`; `kmodel port`, `drift`, `affected`).
    pub port: Option<&'static PortFile>,
}

/// A model's source files, as [`sources!`](crate::sources) includes them.
#[derive(Debug)]
pub struct Sources {
    /// The file that lists them (`file!()`: relative to the workspace root); the others are
    /// its neighbours.
    pub listed_in: &'static str,
    pub files: &'static [Source],
}

/// One source file of a model.
#[derive(Debug)]
pub struct Source {
    /// Its name in the model's folder (`"mod.rs"`).
    pub file: &'static str,
    pub text: &'static str,
}

impl Sources {
    /// Hex SHA-256 (first 16 digits) of the files' texts, in order.
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        for s in self.files {
            h.update(s.text.as_bytes());
            h.update([0]);
        }
        h.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Every source file of a model, by name relative to the file that lists them:
/// `sources!["mod.rs", "kernel.rs"]`. A test checks the list equals the folder's files (but
/// `tests.rs`).
#[macro_export]
macro_rules! sources {
    ($($file:literal),* $(,)?) => {
        $crate::model::Sources {
            listed_in: file!(),
            files: &[$($crate::model::Source { file: $file, text: include_str!($file) }),*],
        }
    };
}

/// A table a model derives from its own code, printed by `kmodel table MODEL/NAME` (e.g. the
/// ipi-mask model's per-task memory cost).
#[derive(Clone, Copy, Debug)]
pub struct ModelTable {
    pub name: &'static str,
    /// One line for `kmodel list`.
    pub about: &'static str,
    /// The table as Markdown.
    pub render: fn() -> String,
}
