//! What a variant is: one ported litmus test ([`Litmus`]), its `Result:` line and its declared
//! verdict.

use kmodel_harness::prelude::*;

use super::properties::EXISTS;

/// The `Result:` line of a test (or, for tests without one, the verdict of `linux-kernel.cat`
/// derived by hand, stated as such).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lkmm {
    Never,
    Sometimes,
}

/// One ported litmus test.
pub struct Litmus {
    /// The test's name as in its `C <name>` line.
    pub name: &'static str,
    /// Where it comes from: a path in the kernel tree, or `kmodel` for the model's own tests.
    pub source: &'static str,
    /// LKMM's verdict: the file's `Result:` line.
    pub lkmm: Lkmm,
    /// The exists clause, as in the file.
    pub exists: &'static str,
    /// One line for `kmodel list`: the Result line and what the test asks.
    pub summary: &'static str,
    /// The declared verdict of [`EXISTS`].
    pub expect: Declared,
    /// Why the declared verdict is not simply the Result line (vacuous Never, beyond this
    /// engine, mapping stronger or weaker); empty when it is.
    pub why: &'static str,
    /// One execution: spawns the threads, joins them, checks the exists clause.
    pub run: fn(),
}

/// `Result: Never`.
pub(crate) const NEVER: Declared = expect![EXISTS => Holds];
/// `Result: Sometimes`, forbidden under SC: loom finds it, shuttle must not.
pub(crate) const WEAK: Declared = expect![EXISTS => ViolatedWeakMemory];
/// LKMM allows it, no engine here can produce it.
pub(crate) const BEYOND: Declared = expect![EXISTS => BeyondEngine];
