//! A variant of a model: one design with its declared verdicts (a litmus test's `Result:`
//! line) and its typed design value; the properties and verdicts it speaks of.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::verdict::{Declared, Expect, PropertyId};

/// The body of one execution: builds fresh state, spawns the actors, joins them, checks.
pub type Scenario = Arc<dyn Fn() + Send + Sync>;

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
    pub expect: Declared,
    pub engines: Engines,
    /// PCT schedules shuttle-pct needs to reach this variant's declared violations at the
    /// default seed and depth, when the default budget is too few; declared like a verdict (say
    /// in a comment at which schedule it was found). Checks under shuttle-pct run at least this
    /// many (`EngineSpec::with_min_pct_schedules`).
    pub min_pct_schedules: Option<u64>,
    /// The model's own typed description of this variant (its design, ablation, scene),
    /// read back with [`Variant::design`]; models never decode the variant's name.
    pub design: &'static (dyn Any + Send + Sync),
    /// Declared verdicts over the model's generated scenes (Holds by default), for a variant
    /// whose design is swept; `None` when another variant sweeps the same design.
    pub sweep: Option<Declared>,
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
    /// The declared verdict for `property` with the default parameters.
    pub fn expected(&self, property: PropertyId) -> Expect {
        self.expect.of(property)
    }

    /// The declared sweep verdict for `property`, if the variant is swept.
    pub fn sweep_expected(&self, property: PropertyId) -> Option<Expect> {
        self.sweep.map(|t| t.of(property))
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

/// Verdicts a variant declares for one non-default parameter set: the whole table for those
/// parameters (Holds by default, as in [`Variant::expect`]), e.g. mrelease's `exit-mm-pointer`
/// with `parent_reaps=1`. A check with other non-default parameters has no declared verdicts:
/// its violations are findings, not failures.
#[derive(Clone, Copy, Debug)]
pub struct ParamVerdicts {
    pub variant: &'static str,
    /// The parameters that differ from their defaults (every other one at its default).
    pub params: &'static [(&'static str, u32)],
    pub expect: Declared,
}
