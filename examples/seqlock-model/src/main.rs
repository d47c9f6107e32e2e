//! The whole kmodel command line (list, check, explore, replay, explain, report, bench, merge)
//! over this crate's models.

use std::process::ExitCode;

fn main() -> ExitCode {
    kmodel::run(seqlock_model::REGISTRY)
}
