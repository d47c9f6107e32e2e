//! The litmus tests' properties: the exists clause, and the two sanitizers every test runs
//! under (data races, use after free under RCU).

use kmodel_harness::prelude::*;

properties! {
    /// The one property every test shares.
    EXISTS = "exists-never":
        "the final state never satisfies the test's exists clause (LKMM: Result: Never)";
    DATA_RACE:
        "no two conflicting accesses, at least one plain, run unordered by happens-before \
         (herd7 flags no data-race)";
    NO_UAF_UNDER_RCU:
        "no RCU reader uses an object after the updater freed it";
}
