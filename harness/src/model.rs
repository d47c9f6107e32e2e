//! What a model declares: its question, kernel references, parameters, named properties and
//! variants, each variant with an expected verdict per property (a litmus test's `Result:` line).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::sync::Arc;

/// The body of one execution: builds fresh state, spawns the actors, joins them, checks.
pub type Scenario = Arc<dyn Fn() + Send + Sync>;

/// An expected (or observed) verdict for one property.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expect {
    /// No execution violates the property.
    Holds,
    /// Some sequentially consistent execution violates it: every engine can find it.
    Violated,
    /// Only executions outside sequential consistency violate it: loom (C11) finds it,
    /// the SC engines (shuttle, and stress in practice) must not.
    ViolatedWeakMemory,
    /// The outcome is allowed (LKMM `Sometimes`, or a possible bug) but no engine here can
    /// produce it: loom never builds load buffering, the SC engines no weak outcome, and a
    /// barrier mapping may be stronger than the kernel's. No loom or shuttle run may observe
    /// it (if one does, the declaration is out of date); the verdict says "beyond this engine"
    /// instead of claiming Holds.
    BeyondEngine,
}

impl Expect {
    /// Whether loom or shuttle are expected to show a violation (and a trace is committed).
    pub fn observable(self) -> bool {
        matches!(self, Expect::Violated | Expect::ViolatedWeakMemory)
    }
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Expect::Holds => "Holds",
            Expect::Violated => "Violated",
            Expect::ViolatedWeakMemory => "Violated (weak memory only)",
            Expect::BeyondEngine => "beyond this engine",
        })
    }
}

/// A named claim, phrased in kernel terms.
#[derive(Clone, Copy, Debug)]
pub struct Property {
    pub id: &'static str,
    pub claim: &'static str,
}

/// Which engines can run a variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engines {
    All,
    /// More actors than loom's 4 spawned threads (or another reason, stated).
    ShuttleOnly(&'static str),
}

/// One design (or posting) of the modelled mechanism.
#[derive(Clone, Copy, Debug)]
pub struct Variant {
    pub name: &'static str,
    pub summary: &'static str,
    /// Expected verdict for every property of the model.
    pub expect: &'static [(&'static str, Expect)],
    pub engines: Engines,
}

impl Variant {
    pub fn expected(&self, property: &str) -> Option<Expect> {
        self.expect
            .iter()
            .find(|(p, _)| *p == property)
            .map(|&(_, e)| e)
    }
}

/// A scenario parameter with a small default.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    pub default: u32,
    pub help: &'static str,
}

/// Resolved parameter values for one run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Params(pub BTreeMap<String, u32>);

impl Params {
    pub fn get(&self, name: &str) -> u32 {
        *self
            .0
            .get(name)
            .unwrap_or_else(|| panic!("model error: parameter {name} is not declared"))
    }
}

/// A model of one kernel design.
pub struct Model {
    pub name: &'static str,
    /// The one-line question the model answers.
    pub question: &'static str,
    /// Kernel files, functions and mail message-ids the model ports.
    pub references: &'static [&'static str],
    pub params: &'static [Param],
    pub properties: &'static [Property],
    pub variants: &'static [Variant],
    /// The model's source files (`include_str!`), hashed into traces to detect stale ones.
    pub source: &'static [&'static str],
    /// Builds the execution body for a variant and parameters.
    pub scenario: fn(&Variant, &Params) -> Scenario,
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Model")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Model {
    pub fn variant(&self, name: &str) -> Option<&'static Variant> {
        self.variants.iter().find(|v| v.name == name)
    }

    pub fn property(&self, id: &str) -> Option<&'static Property> {
        self.properties.iter().find(|p| p.id == id)
    }

    /// Defaults overridden by `overrides` (`name=value`); unknown names are an error.
    pub fn params(&self, overrides: &BTreeMap<String, u32>) -> Result<Params, String> {
        let mut p: BTreeMap<String, u32> = self
            .params
            .iter()
            .map(|p| (p.name.to_string(), p.default))
            .collect();
        for (k, v) in overrides {
            match p.get_mut(k) {
                Some(slot) => *slot = *v,
                None => return Err(format!("model {} has no parameter {k}", self.name)),
            }
        }
        Ok(Params(p))
    }

    /// Hex SHA-256 (first 16 digits) of the model's source files.
    pub fn source_hash(&self) -> String {
        let mut h = Sha256::new();
        for s in self.source {
            h.update(s.as_bytes());
            h.update([0]);
        }
        h.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Checks the declarations are complete and consistent (used by the registry tests).
    pub fn validate(&self) -> Result<(), String> {
        for v in self.variants {
            for p in self.properties {
                if v.expected(p.id).is_none() {
                    return Err(format!(
                        "{}/{}: no expected verdict for {}",
                        self.name, v.name, p.id
                    ));
                }
            }
            for (p, _) in v.expect {
                if self.property(p).is_none() {
                    return Err(format!(
                        "{}/{}: verdict for unknown property {p}",
                        self.name, v.name
                    ));
                }
            }
        }
        for p in self.properties {
            let breakable = self
                .variants
                .iter()
                .any(|v| v.expected(p.id) != Some(Expect::Holds));
            if !breakable {
                return Err(format!(
                    "{}: no variant breaks property {}: a property that cannot fail is suspect",
                    self.name, p.id
                ));
            }
        }
        Ok(())
    }
}

/// Finds `model` or `model/variant` in a registry.
pub fn lookup(
    registry: &[&'static Model],
    spec: &str,
) -> Result<(&'static Model, Option<&'static Variant>), String> {
    let (m, v) = match spec.split_once('/') {
        Some((m, v)) => (m, Some(v)),
        None => (spec, None),
    };
    let model = registry.iter().find(|x| x.name == m).ok_or_else(|| {
        let names: Vec<_> = registry.iter().map(|x| x.name).collect();
        format!("unknown model '{m}' (models: {})", names.join(", "))
    })?;
    let variant = match v {
        None => None,
        Some(v) => Some(model.variant(v).ok_or_else(|| {
            let names: Vec<_> = model.variants.iter().map(|x| x.name).collect();
            format!(
                "model {m} has no variant '{v}' (variants: {})",
                names.join(", ")
            )
        })?),
    };
    Ok((model, variant))
}
