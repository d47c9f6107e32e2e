//! A variant of a model: one design with its declared verdicts (a litmus test's `Result:`
//! line) and its typed design value. [`Variant`] is what a model declares (built with const
//! methods, so defaults are not repeated); [`VariantCard`] is what the registry and the CLI see.

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

/// A variant as the registry and the CLI see it: its name, summary and declared verdicts.
#[derive(Clone, Copy, Debug)]
pub struct VariantCard {
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
    /// Declared verdicts over the model's generated scenes (Holds by default), for a variant
    /// whose design is swept; `None` when another variant sweeps the same design.
    pub sweep: Option<Declared>,
}

impl VariantCard {
    /// The declared verdict for `property` with the default parameters.
    pub fn expected(&self, property: PropertyId) -> Expect {
        self.expect.of(property)
    }

    /// The declared sweep verdict for `property`, if the variant is swept.
    pub fn sweep_expected(&self, property: PropertyId) -> Option<Expect> {
        self.sweep.map(|t| t.of(property))
    }

    /// Whether a declared sweep verdict needs weak memory to show (so an SC engine cannot
    /// sweep the variant: see `engine::defaults::exhaustive_sweep`).
    pub fn sweep_needs_weak_memory(&self) -> bool {
        (self.sweep.iter().flat_map(|d| d.entries())).any(|&(_, e)| e == Expect::ViolatedWeakMemory)
    }
}

/// One design (or posting) of the modelled mechanism: its card and the model's own typed
/// description of it (its design, ablation, scene), which the scenario reads.
///
/// ```
/// # use kmodel_harness::prelude::*;
/// # properties! { TORN = "torn": "no torn read"; }
/// #[derive(Clone, Copy, Debug)]
/// struct Design { retry: bool }
/// const VARIANTS: &[Variant<Design>] = &[
///     Variant::new("correct", "the reader retries", Design { retry: true }),
///     Variant::new("no-retry", "the reader never retries", Design { retry: false })
///         .expect(expect![TORN => Violated]),
/// ];
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Variant<D> {
    pub card: VariantCard,
    pub design: D,
}

impl<D> Variant<D> {
    /// A variant that declares every property Holds, runs under every engine with the default
    /// budgets, and is not swept.
    pub const fn new(name: &'static str, summary: &'static str, design: D) -> Self {
        Variant {
            card: VariantCard {
                name,
                summary,
                expect: Declared::HOLDS,
                engines: Engines::All,
                min_pct_schedules: None,
                sweep: None,
            },
            design,
        }
    }

    /// Its declared verdicts (`expect![...]`; Holds for every property not listed).
    pub const fn expect(mut self, expect: Declared) -> Self {
        self.card.expect = expect;
        self
    }

    /// Its declared verdicts over generated scenes: the variant sweeps its design.
    pub const fn sweep(mut self, sweep: Declared) -> Self {
        self.card.sweep = Some(sweep);
        self
    }

    /// Loom cannot run it (more than 4 spawned actors, or another reason, stated).
    pub const fn shuttle_only(mut self, why: &'static str) -> Self {
        self.card.engines = Engines::ShuttleOnly(why);
        self
    }

    /// shuttle-pct needs at least `schedules` to reach its declared violations (say in a
    /// comment at which schedule it was found).
    pub const fn min_pct_schedules(mut self, schedules: u64) -> Self {
        self.card.min_pct_schedules = Some(schedules);
        self
    }
}

/// Verdicts a variant declares for one non-default parameter set: the whole table for those
/// parameters (Holds by default, as in [`VariantCard::expect`]), e.g. mrelease's
/// `exit-mm-pointer` with `parent_reaps=1`. A check with other non-default parameters has no
/// declared verdicts: its violations are findings, not failures.
#[derive(Clone, Copy, Debug)]
pub struct ParamVerdicts<P> {
    pub variant: &'static str,
    /// The typed parameters (`Knobs { parent_reaps: true, ..Knobs::DEFAULT }`).
    pub params: P,
    pub expect: Declared,
}
