//! `kmodel ipi-mask-cost`: the per-task memory cost of the task-local IPI wait mask, computed by
//! the same sizing code the ipi-mask model uses for its masks.

use std::process::ExitCode;

pub fn run() -> ExitCode {
    print!("{}", kmodel_models::ipi_mask::ipi_mask_cost_table());
    ExitCode::SUCCESS
}
