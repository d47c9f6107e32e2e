//! What a model declares: its question, kernel references, parameters, named properties and
//! variants, each variant with an expected verdict per property (a litmus test's `Result:` line).

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use crate::param::{Param, ParamError, Params};

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
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Expect::Holds => "Holds",
            Expect::Violated => "Violated",
            Expect::ViolatedWeakMemory => "Violated (weak memory only)",
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
#[derive(Clone, Copy)]
pub struct Variant {
    pub name: &'static str,
    pub summary: &'static str,
    /// Declared verdicts that differ from Holds (see [`expect!`](crate::expect)); every
    /// property not listed is declared to hold.
    pub expect: &'static [(&'static str, Expect)],
    pub engines: Engines,
    /// The model's own typed description of this variant (its design, ablation, scene),
    /// read back with [`Variant::design`]; models never decode the variant's name.
    pub design: &'static (dyn Any + Send + Sync),
    /// Declared verdicts over the model's generated scenes (Holds by default), for a variant
    /// whose design is swept; `None` when another variant sweeps the same design.
    pub sweep: Option<&'static [(&'static str, Expect)]>,
}

impl fmt::Debug for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Variant")
            .field("name", &self.name)
            .field("expect", &self.expect)
            .finish_non_exhaustive()
    }
}

impl Variant {
    /// The declared verdict for `property` (Holds unless the variant's table says otherwise).
    pub fn expected(&self, property: &str) -> Option<Expect> {
        Some(
            self.expect
                .iter()
                .find(|(p, _)| *p == property)
                .map_or(Expect::Holds, |&(_, e)| e),
        )
    }

    /// The declared sweep verdict for `property`, if the variant is swept.
    pub fn sweep_expected(&self, property: &str) -> Option<Expect> {
        self.sweep.map(|t| {
            t.iter()
                .find(|(p, _)| *p == property)
                .map_or(Expect::Holds, |&(_, e)| e)
        })
    }

    /// The model's typed design for this variant. Panics only on a model bug (a variant whose
    /// design is of another type than its model reads), which the registry tests catch.
    pub fn design<D: Any>(&self) -> &'static D {
        self.design.downcast_ref::<D>().unwrap_or_else(|| {
            panic!(
                "model error: variant {} has no design of type {}",
                self.name,
                std::any::type_name::<D>()
            )
        })
    }
}

/// A variant's declared verdicts, Holds by default: `expect![NO_SPURIOUS_ESRCH => Violated]`.
#[macro_export]
macro_rules! expect {
    ($($property:expr => $verdict:expr),* $(,)?) => {
        &[$(($property, $verdict)),*]
    };
}

/// A model of one kernel design.
pub struct Model {
    pub name: &'static str,
    /// The one-line question the model answers.
    pub question: &'static str,
    /// Kernel files, functions and mail message-ids the model ports.
    pub references: &'static [&'static str],
    pub params: &'static [Param],
    /// Constraints between parameters that single ranges cannot state (e.g. two distinct
    /// CPUs below `nr_cpu_ids`); checked after every range.
    pub param_check: Option<fn(&Params) -> Result<(), String>>,
    pub properties: &'static [Property],
    pub variants: &'static [Variant],
    /// The model's source files (`include_str!`), hashed into traces to detect stale ones.
    pub source: &'static [&'static str],
    /// Builds the execution body for a variant and parameters (its scripted scene).
    pub scenario: fn(&Variant, &Params) -> Scenario,
    /// The model's scene language, for generated scenes (`kmodel explore`).
    pub scenes: Option<&'static dyn crate::scene::SceneSpace>,
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

    /// Defaults overridden by `overrides` (`name=value`); unknown names and values outside a
    /// parameter's declared range are refused.
    pub fn params(&self, overrides: &BTreeMap<String, u32>) -> Result<Params, ParamError> {
        let p = crate::param::resolve(self.name, self.params, overrides)?;
        if let Some(check) = self.param_check {
            check(&p).map_err(ParamError::Inconsistent)?;
        }
        Ok(p)
    }

    /// The execution body of `variant`: its scripted scene, or a generated `scene` (parsed and
    /// validated against the model's scene language).
    pub fn scenario_for(
        &self,
        variant: &Variant,
        params: &Params,
        scene: Option<&serde_json::Value>,
    ) -> Result<Scenario, String> {
        match (scene, self.scenes) {
            (None, _) => Ok((self.scenario)(variant, params)),
            (Some(s), Some(space)) => space.scenario(variant, s),
            (Some(_), None) => Err(format!("model {} has no scene language", self.name)),
        }
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
        for p in self.params {
            if p.validate(p.default).is_err() {
                return Err(format!(
                    "{}: default of parameter {} is outside its range",
                    self.name, p.name
                ));
            }
        }
        for v in self.variants {
            for (p, _) in v.expect.iter().chain(v.sweep.unwrap_or_default()) {
                if self.property(p).is_none() {
                    return Err(format!(
                        "{}/{}: verdict for unknown property {p}",
                        self.name, v.name
                    ));
                }
            }
        }
        if self.scenes.is_none() && self.variants.iter().any(|v| v.sweep.is_some()) {
            return Err(format!(
                "{}: sweep verdicts but no scene language",
                self.name
            ));
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
