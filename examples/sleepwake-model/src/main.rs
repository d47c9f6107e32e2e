//! The whole kmodel command line over this crate's models.

use std::process::ExitCode;

fn main() -> ExitCode {
    kmodel::run(sleepwake_model::REGISTRY)
}
