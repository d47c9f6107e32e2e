//! [`KernelModel`]: a model, typed. Its variants carry its own `Design`, its parameters are its
//! own `Params` struct, its scene language runs under its design; the blanket impl in `view.rs`
//! turns every one into the object-safe `Model` the registry holds.

use super::card::{ModelCard, ModelTable};
use crate::param::ParamSet;
use crate::scene::Scenes;
use crate::setup::space::SetupSpace;
use crate::variant::{ParamVerdicts, Scenario, Variant};

/// A model of one kernel design. Implement it for a unit struct and register `&MyModel`:
///
/// ```ignore
/// pub struct Seqlock;
/// impl KernelModel for Seqlock {
///     type Design = Design;
///     type Params = Knobs;                    // from params! (or ())
///     type Scenes = NoScenes<Design>;         // or the model's scene language
///     const CARD: &'static ModelCard = &ModelCard { name: "seqlock", ... };
///     const VARIANTS: &'static [Variant<Design>] = VARIANTS;
///     fn scenario(design: &Design, params: &Knobs) -> Scenario { ... }
/// }
/// ```
pub trait KernelModel: Send + Sync + 'static {
    /// What a variant is (its design, ablation, scene); the scenario reads it, typed.
    type Design: Send + Sync + 'static;
    /// The parameters ([`params!`](crate::params)), or `()`.
    type Params: ParamSet;
    /// The scene language (`kmodel explore`), or [`NoScenes`](crate::scene::NoScenes).
    type Scenes: Scenes<Design = Self::Design>;

    const CARD: &'static ModelCard;
    const VARIANTS: &'static [Variant<Self::Design>];
    /// Verdicts declared for non-default parameter sets (only the defaults declare otherwise).
    const PARAM_VERDICTS: &'static [ParamVerdicts<Self::Params>] = &[];
    /// The scene language, if the model has one.
    const SCENES: Option<&'static Self::Scenes> = None;
    /// The set-up language of the scenes, for state exploration (usually the same value as
    /// `SCENES`, which implements [`SetupStates`](crate::setup::SetupStates)).
    const SETUP: Option<&'static dyn SetupSpace> = None;
    /// Tables the model derives from its own code (`kmodel table`).
    const TABLES: &'static [ModelTable] = &[];

    /// The execution body of a variant's scripted scene.
    fn scenario(design: &Self::Design, params: &Self::Params) -> Scenario;

    /// Constraints between parameters that single ranges cannot state (e.g. two distinct CPUs
    /// below `nr_cpu_ids`); checked after every range.
    fn check_params(_params: &Self::Params) -> Result<(), String> {
        Ok(())
    }
}
