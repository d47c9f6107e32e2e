//! Judging: how an observed outcome relates to the declared verdict ([`judge`], the one place
//! that decides it), and the one rule for how much of its space an exploration covered
//! ([`complete`], [`partial`], [`cut`], read off the engine's [`Reach`]).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::declared::Expect;
use crate::engine::{Coverage, EngineSpec, Reach};
use crate::rt::{PropertyId, DATA_RACE};

/// How an observed verdict relates to the declared one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Agreement {
    AsExpected,
    /// The verdict changed: a test failure, exit code 1.
    Unexpected,
    /// An expected violation was not reached by a partial exploration (time budget, deadlock,
    /// the stress engine's luck, or a bounded sweep); not a verdict change.
    NotReached,
    /// The model declares no verdicts for the parameters explored: what was observed is a
    /// finding, not a verdict change (`kmodel check --strict` fails on violations).
    Undeclared,
}

/// What a verdict was declared over.
#[derive(Clone, Copy, Debug)]
pub enum Scope<'a> {
    /// One scene (a variant's scripted one, or a generated one), explored with this coverage:
    /// a complete exploration that misses a declared violation contradicts the declaration.
    Check(&'a Coverage),
    /// A design over generated scenes of any size: a bounded sweep that misses a declared
    /// violation has not reached it (its scene may be larger); a violated Holds is a change.
    Sweep,
}

/// Judges one property: its declared verdict (`None`: nothing is declared for the parameters
/// explored), whether `engine` observed a violation, and over what.
pub fn judge(
    property: PropertyId,
    declared: Option<Expect>,
    violated: bool,
    engine: &EngineSpec,
    scope: Scope,
) -> Agreement {
    let Some(declared) = declared else {
        return Agreement::Undeclared;
    };
    // An engine without happens-before cannot see a data race: nothing to compare.
    if property == DATA_RACE && !engine.kind().sees_races() && !violated {
        return Agreement::AsExpected;
    }
    // Real hardware may or may not show a weak outcome: it cannot contradict one either way.
    let hardware = engine.kind().real_threads();
    let should_violate = match declared {
        Expect::Holds => false,
        Expect::Violated => true,
        Expect::ViolatedWeakMemory if hardware => {
            return if violated {
                Agreement::AsExpected
            } else {
                Agreement::NotReached
            };
        }
        Expect::ViolatedWeakMemory => engine.weak_memory(),
        // Real hardware may show it; loom and shuttle must not (else the declaration is stale).
        Expect::BeyondEngine if hardware => return Agreement::AsExpected,
        Expect::BeyondEngine => false,
    };
    match (should_violate, violated) {
        (true, false) => match scope {
            Scope::Check(coverage) if complete(engine, coverage) => Agreement::Unexpected,
            Scope::Check(_) | Scope::Sweep => Agreement::NotReached,
        },
        (false, true) => Agreement::Unexpected,
        (true, true) | (false, false) => Agreement::AsExpected,
    }
}

/// Whether an exploration covered its whole space, so that a missed declared violation is a
/// verdict change: not a partial search (see [`partial`]), not stopped because every property
/// was already violated, and not an engine whose schedules are the OS's luck.
pub fn complete(engine: &EngineSpec, coverage: &Coverage) -> bool {
    engine.reach(coverage) == Reach::Whole
}

/// Whether an exploration stopped before covering its space (a time budget, a schedule cap, a
/// deadlock the engine cannot continue past): "no violation found" is then not Holds.
pub fn partial(engine: &EngineSpec, coverage: &Coverage) -> bool {
    matches!(engine.reach(coverage), Reach::Deadlock | Reach::Cut)
}

/// Whether an exploration was cut short by a budget or cap, leaving its declared Holds
/// unestablished (a deadlock is not: it is the verdict).
pub fn cut(engine: &EngineSpec, coverage: &Coverage) -> bool {
    engine.reach(coverage) == Reach::Cut
}

/// The coverage of two parts of one search together: the less complete one decides.
pub fn weaker(engine: &EngineSpec, a: Coverage, b: Coverage) -> Coverage {
    // An empty shard adds nothing to the others; only a search with no execution at all is
    // empty.
    match (&a, &b) {
        (Coverage::NoExecutions, _) => return b,
        (_, Coverage::NoExecutions) => return a,
        _ => {}
    }
    let rank = |c: &Coverage| match engine.reach(c) {
        Reach::Cut => 0,
        Reach::Deadlock => 1,
        Reach::AllViolated => 2,
        Reach::Luck | Reach::Whole => 3,
    };
    if rank(&b) < rank(&a) {
        b
    } else {
        a
    }
}
