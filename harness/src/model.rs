//! What a model declares: its question, kernel references, parameters, properties, variants and
//! scene language; lookup of `model[/variant]` in a registry.

use std::collections::BTreeMap;
use std::fmt;

use sha2::{Digest, Sha256};

pub use crate::param::{Param, ParamError, Params};
pub use crate::variant::{Engines, Expect, ParamVerdicts, Property, Scenario, Variant};

/// Constraints between parameters that single ranges cannot state.
pub type ParamCheck = fn(&Params) -> Result<(), String>;

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
    pub param_check: Option<ParamCheck>,
    pub properties: &'static [Property],
    pub variants: &'static [Variant],
    /// Verdicts declared for non-default parameter sets (`&[]`: only the defaults declare).
    pub param_verdicts: &'static [ParamVerdicts],
    /// The model's source files (`include_str!`), hashed into traces to detect stale ones.
    pub source: &'static [&'static str],
    /// Builds the execution body for a variant and parameters (its scripted scene).
    pub scenario: fn(&Variant, &Params) -> Scenario,
    /// The model's scene language, for generated scenes (`kmodel explore`).
    pub scenes: Option<&'static dyn crate::scene::SceneSpace>,
    /// The port table: the kernel version ported and each ported function
    /// (`port_file!("port.toml")`; `kmodel port`, `drift`, `affected`).
    pub port: Option<&'static crate::port::PortFile>,
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

    /// The verdict table declared for `variant` with `params`: the variant's own with the
    /// defaults, a [`ParamVerdicts`] entry naming exactly the non-default values, else `None`
    /// (nothing declared: what a check observes is a finding).
    pub fn declared(
        &self,
        variant: &Variant,
        params: &Params,
    ) -> Option<&'static [(&'static str, Expect)]> {
        if params.is_default(self.params) {
            return Some(variant.expect);
        }
        let changed: BTreeMap<&str, u32> = self
            .params
            .iter()
            .filter_map(|p| {
                let v = *params.0.get(p.name)?;
                (v != p.default).then_some((p.name, v))
            })
            .collect();
        self.param_verdicts
            .iter()
            .find(|d| {
                d.variant == variant.name
                    && d.params.iter().copied().collect::<BTreeMap<_, _>>() == changed
            })
            .map(|d| d.expect)
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

    /// The parsed and validated port table, if the model has one.
    pub fn port(&self) -> Result<Option<crate::port::Port>, String> {
        self.port.map(|p| p.parse()).transpose()
    }

    /// Checks the declarations are complete and consistent (used by the registry tests).
    pub fn validate(&self) -> Result<(), String> {
        self.port()?;
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
        for d in self.param_verdicts {
            let what = format!("{}/{} with {:?}", self.name, d.variant, d.params);
            if self.variant(d.variant).is_none() {
                return Err(format!("{what}: unknown variant"));
            }
            let overrides = d.params.iter().map(|&(n, v)| (n.to_string(), v)).collect();
            match self.params(&overrides) {
                Ok(p) if p.is_default(self.params) => {
                    return Err(format!("{what}: these are the defaults"))
                }
                Ok(_) => {}
                Err(e) => return Err(format!("{what}: {e}")),
            }
            if let Some((p, _)) = d.expect.iter().find(|(p, _)| self.property(p).is_none()) {
                return Err(format!("{what}: verdict for unknown property {p}"));
            }
        }
        if self.scenes.is_none() && self.variants.iter().any(|v| v.sweep.is_some()) {
            return Err(format!(
                "{}: sweep verdicts but no scene language",
                self.name
            ));
        }
        // The built-in data-race check is a sanitizer: a design may have no race at all.
        for p in self
            .properties
            .iter()
            .filter(|p| p.id != crate::rt::DATA_RACE)
        {
            let breakable = self.variants.iter().any(|v| {
                v.expected(p.id) != Some(Expect::Holds)
                    || v.sweep_expected(p.id).is_some_and(|e| e != Expect::Holds)
            });
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
