//! The claims a user of `Cpus_active_mm` / `Cpus_active_mm_list` would make, as properties.

use kmodel_harness::prelude::*;

properties! {
    PRINTED_BIT_FRESH = "printed-bit-fresh":
        "each CPU a line shows as set (or clear) had that bit value at some instant \
         while that line was being printed";
    LINE_IS_A_SNAPSHOT = "line-is-a-snapshot":
        "each line equals the value mm_cpumask held at one instant since the file was \
         opened";
    LINES_AGREE = "lines-agree":
        "Cpus_active_mm and Cpus_active_mm_list describe the same set of CPUs";
    SET_MEANS_RUNNING = "set-means-running":
        "a CPU in Cpus_active_mm is running a thread of this process now";
    RUNNING_MEANS_SET = "running-means-set":
        "every CPU running a thread of this process is in Cpus_active_mm";
    SUBSET_OF_CPUS_ALLOWED = "subset-of-cpus-allowed":
        "Cpus_active_mm is a subset of Cpus_allowed (as printed in the same read)";
    TRACKS_MIGRATIONS = "tracks-migrations":
        "Cpus_active_mm changes exactly when threads migrate: a CPU joins when a \
         thread arrives, leaves when the mm leaves it, and no CPU the process left \
         stays in it";
    /// x86 `switch_mm_irqs_off()`, `prev == next`: "Even in lazy TLB mode, the CPU should stay set
    /// in the mm_cpumask."
    WARN_LAZY_CPU_SET = "warn-switch-mm-cpu-not-in-mm-cpumask":
        "x86 switch_mm_irqs_off(), prev == next: WARN_ON_ONCE(prev != &init_mm && \
         !cpumask_test_cpu(cpu, mm_cpumask(next))) never fires (\"Even in lazy TLB \
         mode, the CPU should stay set in the mm_cpumask\")";
    DATA_RACE:
        "no data race (LKMM, KCSAN): no two conflicting accesses, at least one plain, \
         unordered by happens-before";
}
