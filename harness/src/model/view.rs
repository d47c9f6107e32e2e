//! [`Model`]: the object-safe view of a [`KernelModel`] that the registry and the CLI hold
//! (`&[&dyn Model]`), with parameters, scenes and designs at their untyped boundary, and the
//! blanket impl that gives every typed model that view.

use std::collections::BTreeMap;
use std::fmt;

use super::card::{ModelCard, ModelTable};
use super::kernel::KernelModel;
use crate::param::{self, Param, ParamError, ParamSet, Params};
use crate::scene::{self, SceneSpace};
use crate::setup::space::SetupSpace;
use crate::setup::state::StateSink;
use crate::variant::{Scenario, VariantCard};
use crate::verdict::{Declared, Property, PropertyId};

/// A model as the registry sees it. Every [`KernelModel`] is one; nothing else implements it.
pub trait Model: Send + Sync {
    fn card(&self) -> &'static ModelCard;

    /// Its variants, in declaration order.
    fn variants(&self) -> Vec<&'static VariantCard>;

    /// Its parameter table.
    fn params(&self) -> &'static [Param];

    /// Defaults overridden by `overrides` (`name=value`); unknown names, values outside a
    /// parameter's range and values the model cannot combine are refused.
    fn resolve(&self, overrides: &BTreeMap<String, u32>) -> Result<Params, ParamError>;

    /// The verdict table declared for `variant` with `params`: the variant's own with the
    /// defaults, a declared parameter set's, else `None` (nothing declared: what a check
    /// observes is a finding).
    fn declared(&self, variant: &VariantCard, params: &Params) -> Option<Declared>;

    /// The execution body of `variant`: its scripted scene, or a generated `scene` (parsed and
    /// validated against the model's scene language).
    fn scenario_for(
        &self,
        variant: &VariantCard,
        params: &Params,
        scene: Option<&serde_json::Value>,
    ) -> Result<Scenario, String>;

    /// The scene language, for generated scenes (`kmodel explore`).
    fn scenes(&self) -> Option<&'static dyn SceneSpace>;

    /// The set-up language, for state exploration (`kmodel explore`'s default sweep).
    fn setups(&self) -> Option<&'static dyn SetupSpace>;

    /// The execution body of a generated `scene` under `variant`'s design that also reports
    /// the states it reaches to `sink`. The scene is not validated: a set-up prefix need not be
    /// a valid scene on its own.
    fn observe_for(
        &self,
        variant: &VariantCard,
        scene: &serde_json::Value,
        sink: StateSink,
    ) -> Result<Scenario, String>;

    /// The declared parameter sets, as `(variant, non-default values)` (for `kmodel list`).
    fn param_verdicts(&self) -> Vec<(&'static str, String)>;

    /// Tables the model derives from its own code (`kmodel table`).
    fn tables(&self) -> &'static [ModelTable];

    /// Checks the declarations are complete and consistent (the registry tests run it).
    fn validate(&self) -> Result<(), String>;

    fn name(&self) -> &'static str {
        self.card().name
    }

    fn properties(&self) -> &'static [Property] {
        self.card().properties
    }

    fn variant(&self, name: &str) -> Option<&'static VariantCard> {
        self.variants().into_iter().find(|v| v.name == name)
    }

    fn property(&self, id: PropertyId) -> Option<&'static Property> {
        self.properties().iter().find(|p| p.id == id)
    }

    /// Hex SHA-256 (first 16 digits) of the model's source files.
    fn source_hash(&self) -> String {
        self.card().source.hash()
    }

    /// The parsed and validated port table, if the model has one.
    fn port(&self) -> Result<Option<crate::port::Port>, String> {
        self.card().port.map(|p| p.parse()).transpose()
    }
}

impl<M: KernelModel> Model for M {
    fn card(&self) -> &'static ModelCard {
        M::CARD
    }

    fn variants(&self) -> Vec<&'static VariantCard> {
        M::VARIANTS.iter().map(|v| &v.card).collect()
    }

    fn params(&self) -> &'static [Param] {
        M::Params::PARAMS
    }

    fn resolve(&self, overrides: &BTreeMap<String, u32>) -> Result<Params, ParamError> {
        let p = param::resolve(M::CARD.name, M::Params::PARAMS, overrides)?;
        M::check_params(&M::Params::read(&p)).map_err(ParamError::Inconsistent)?;
        Ok(p)
    }

    fn declared(&self, variant: &VariantCard, params: &Params) -> Option<Declared> {
        let typed = M::Params::read(params);
        if typed == M::Params::DEFAULT {
            return Some(variant.expect);
        }
        M::PARAM_VERDICTS
            .iter()
            .find(|d| d.variant == variant.name && d.params == typed)
            .map(|d| d.expect)
    }

    fn scenario_for(
        &self,
        variant: &VariantCard,
        params: &Params,
        scene: Option<&serde_json::Value>,
    ) -> Result<Scenario, String> {
        let design = &(M::VARIANTS.iter())
            .find(|v| v.card.name == variant.name)
            .ok_or_else(|| format!("model {} has no variant {}", M::CARD.name, variant.name))?
            .design;
        match (scene, M::SCENES) {
            (None, _) => Ok(M::scenario(design, &M::Params::read(params))),
            (Some(s), Some(space)) => {
                let s = scene::parse(space, s)?;
                Ok(scene::Scenes::scenario(space, design, &s))
            }
            (Some(_), None) => Err(format!("model {} has no scene language", M::CARD.name)),
        }
    }

    fn scenes(&self) -> Option<&'static dyn SceneSpace> {
        M::SCENES.map(|s| s as &'static dyn SceneSpace)
    }

    fn setups(&self) -> Option<&'static dyn SetupSpace> {
        M::SETUP
    }

    fn observe_for(
        &self,
        variant: &VariantCard,
        scene: &serde_json::Value,
        sink: StateSink,
    ) -> Result<Scenario, String> {
        let design = &(M::VARIANTS.iter())
            .find(|v| v.card.name == variant.name)
            .ok_or_else(|| format!("model {} has no variant {}", M::CARD.name, variant.name))?
            .design;
        let space =
            M::SCENES.ok_or_else(|| format!("model {} has no scene language", M::CARD.name))?;
        let s =
            serde_json::from_value(scene.clone()).map_err(|e| format!("malformed scene: {e}"))?;
        Ok(scene::Scenes::observe(space, design, &s, sink))
    }

    fn param_verdicts(&self) -> Vec<(&'static str, String)> {
        (M::PARAM_VERDICTS.iter())
            .map(|d| (d.variant, d.params.values().non_default(M::Params::PARAMS)))
            .collect()
    }

    fn tables(&self) -> &'static [ModelTable] {
        M::TABLES
    }

    fn validate(&self) -> Result<(), String> {
        validate_declarations(self)?;
        for d in M::PARAM_VERDICTS {
            let values = d.params.values();
            let what = format!(
                "{}/{} with {}",
                M::CARD.name,
                d.variant,
                values.non_default(M::Params::PARAMS)
            );
            if self.variant(d.variant).is_none() {
                return Err(format!("{what}: unknown variant"));
            }
            if d.params == M::Params::DEFAULT {
                return Err(format!("{what}: these are the defaults"));
            }
            self.resolve(&values.0)
                .map_err(|e| format!("{what}: {e}"))?;
            if let Some((p, _)) = (d.expect.into_iter()).find(|&(p, _)| self.property(p).is_none())
            {
                return Err(format!("{what}: verdict for unknown property {p}"));
            }
        }
        if M::SCENES.is_none() && M::VARIANTS.iter().any(|v| v.card.sweep.is_some()) {
            return Err(format!(
                "{}: sweep verdicts but no scene language",
                M::CARD.name
            ));
        }
        Ok(())
    }
}

impl fmt::Debug for dyn Model + '_ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Model")
            .field("name", &self.name())
            .finish_non_exhaustive()
    }
}

/// What every model's declarations must satisfy, whatever their types.
fn validate_declarations(model: &dyn Model) -> Result<(), String> {
    let name = model.name();
    model.port()?;
    for p in model.params() {
        if p.validate(p.default).is_err() {
            return Err(format!(
                "{name}: default of parameter {} is outside its range",
                p.name
            ));
        }
    }
    for (i, p) in model.properties().iter().enumerate() {
        let id = p.id.as_str();
        let kebab = !id.is_empty()
            && id.split('-').all(|w| {
                !w.is_empty()
                    && w.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
        if !kebab {
            return Err(format!("{name}: property id '{id}' is not kebab-case"));
        }
        if model.properties()[..i].iter().any(|q| q.id == p.id) {
            return Err(format!("{name}: property {id} is declared twice"));
        }
    }
    let variants = model.variants();
    for (i, v) in variants.iter().enumerate() {
        if variants[..i].iter().any(|w| w.name == v.name) {
            return Err(format!("{name}: variant {} is declared twice", v.name));
        }
        let sweep = v.sweep.unwrap_or(Declared::HOLDS);
        for (p, _) in v.expect.into_iter().chain(sweep) {
            if model.property(p).is_none() {
                return Err(format!(
                    "{name}/{}: verdict for unknown property {p}",
                    v.name
                ));
            }
        }
    }
    // The built-in data-race check is a sanitizer: a design may have no race at all.
    for p in model
        .properties()
        .iter()
        .filter(|p| p.id != crate::rt::DATA_RACE)
    {
        let breakable = variants.iter().any(|v| {
            v.expected(p.id) != crate::verdict::Expect::Holds
                || v.sweep_expected(p.id)
                    .is_some_and(|e| e != crate::verdict::Expect::Holds)
        });
        if !breakable {
            return Err(format!(
                "{name}: no variant breaks property {}: a property that cannot fail is suspect",
                p.id
            ));
        }
    }
    Ok(())
}

/// Finds `model` or `model/variant` in a registry.
pub fn lookup(
    registry: &[&'static dyn Model],
    spec: &str,
) -> Result<(&'static dyn Model, Option<&'static VariantCard>), String> {
    let (m, v) = match spec.split_once('/') {
        Some((m, v)) => (m, Some(v)),
        None => (spec, None),
    };
    let model = *registry.iter().find(|x| x.name() == m).ok_or_else(|| {
        let names: Vec<_> = registry.iter().map(|x| x.name()).collect();
        format!("unknown model '{m}' (models: {})", names.join(", "))
    })?;
    let variant = match v {
        None => None,
        Some(v) => Some(model.variant(v).ok_or_else(|| {
            let names: Vec<_> = model.variants().into_iter().map(|x| x.name).collect();
            format!(
                "model {m} has no variant '{v}' (variants: {})",
                names.join(", ")
            )
        })?),
    };
    Ok((model, variant))
}
