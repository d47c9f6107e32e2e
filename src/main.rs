//! The `kmodel` binary: the command line of the `kmodel` library over this repository's models.

use std::process::ExitCode;

fn main() -> ExitCode {
    kmodel::run(kmodel_models::REGISTRY)
}
