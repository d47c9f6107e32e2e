//! `cargo run --release --bin ipi-mask-cost`: the per-task memory cost of the task-local IPI wait
//! mask (ipi-mask model), computed by the same sizing code the model uses for its masks.

fn main() {
    print!("{}", kmodel_models::ipi_mask::ipi_mask_cost_table());
}
