//! What a model declares: its properties (one [`properties!`](crate::properties) table per
//! model) and, per variant, the verdicts it expects ([`Declared`], built with
//! [`expect!`](crate::expect)): Holds for every property not listed.

use std::fmt;

use serde::{Deserialize, Serialize};

pub use crate::rt::PropertyId;

/// An expected (or observed) verdict for one property.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
    pub id: PropertyId,
    pub claim: &'static str,
}

/// A declared verdict table: the properties whose verdict is not Holds (`expect![ID =>
/// Violated]`). Scripted checks, sweeps and parameter verdicts all read it through [`Self::of`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Declared(&'static [(PropertyId, Expect)]);

impl Declared {
    /// Every property Holds.
    pub const HOLDS: Declared = Declared(&[]);

    /// The table `expect!` builds.
    pub const fn new(table: &'static [(PropertyId, Expect)]) -> Self {
        Declared(table)
    }

    /// The declared verdict of `property`: Holds unless the table lists it.
    pub fn of(self, property: PropertyId) -> Expect {
        self.0
            .iter()
            .find(|(p, _)| *p == property)
            .map_or(Expect::Holds, |&(_, e)| e)
    }

    /// The listed (not-Holds) entries.
    pub fn entries(self) -> &'static [(PropertyId, Expect)] {
        self.0
    }
}

impl IntoIterator for Declared {
    type Item = (PropertyId, Expect);
    type IntoIter = std::iter::Copied<std::slice::Iter<'static, (PropertyId, Expect)>>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().copied()
    }
}

/// A declared verdict table, Holds by default: `expect![NO_SPURIOUS_ESRCH => Violated]`.
#[macro_export]
macro_rules! expect {
    ($($property:expr => $verdict:expr),* $(,)?) => {
        $crate::Declared::new(&[$(($property, $verdict)),*])
    };
}

/// Declares a model's properties: one typed id per claim, and the table `PROPERTIES` for its
/// model card (the twin of [`params!`](crate::params)):
///
/// ```
/// use kmodel_harness::prelude::*;
/// kmodel_harness::properties! {
///     /// Documented like any constant.
///     NOT_BOTH_ZERO = "not-both-zero":
///         "at least one CPU sees the other's store (r0 == 1 || r1 == 1)";
///     // A built-in property (NO_DEADLOCK, NO_LIVELOCK, HUNG_TASK, or a kernel prelude check such
///     // as MIGHT_SLEEP) the model can violate: its claim here.
///     NO_DEADLOCK: "every CPU finishes";
/// }
/// assert_eq!(PROPERTIES[0].id, NOT_BOTH_ZERO);
/// assert_eq!(NOT_BOTH_ZERO.as_str(), "not-both-zero");
/// ```
#[macro_export]
macro_rules! properties {
    ( $( $(#[$meta:meta])* $id:ident $(= $name:literal)? : $claim:literal; )* ) => {
        $( $crate::__property_id! { $(#[$meta])* $id $(= $name)? } )*
        /// Every property of the model: its id and its claim in kernel terms.
        pub const PROPERTIES: &[$crate::Property] = &[
            $( $crate::Property { id: $id, claim: $claim }, )*
        ];
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __property_id {
    ( $(#[$meta:meta])* $id:ident = $name:literal ) => {
        $(#[$meta])*
        pub const $id: $crate::PropertyId = $crate::PropertyId::new($name);
    };
    // A built-in property already in scope.
    ( $(#[$meta:meta])* $id:ident ) => {};
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rt::NO_DEADLOCK;

    crate::properties! {
        A = "a-claim": "a";
        NO_DEADLOCK: "nothing blocks";
    }

    #[test]
    fn holds_unless_listed() {
        let d: Declared = crate::expect![A => Expect::Violated];
        assert_eq!(d.of(A), Expect::Violated);
        assert_eq!(d.of(NO_DEADLOCK), Expect::Holds);
        assert_eq!(PROPERTIES.len(), 2);
        assert_eq!(PROPERTIES[1].id, NO_DEADLOCK);
    }
}
