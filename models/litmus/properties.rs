//! The one property every litmus test shares.

use kmodel_harness::prelude::*;

properties! {
    /// The one property every test shares.
    EXISTS = "exists-never":
        "the final state never satisfies the test's exists clause (LKMM: Result: Never)";
}
