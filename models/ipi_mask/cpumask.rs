//! cpumask sizing and the task-local IPI mask representation of the series
//! ("smp: Use task-local IPI cpumask in smp_call_function_many_cond()", v8 04/14).
//!
//! One piece of sizing code serves three users: the model (how many bits its masks have and
//! whether a task's mask is stashed in the pointer word), the proptests, and the per-task memory
//! cost table the lead exposes as `kmodel ipi-mask-cost` ([`ipi_mask_cost_table`]).

use kmodel_harness::prelude::{bits_to_longs, BITS_PER_LONG};

/// `sizeof(unsigned long)` on a 64-bit kernel.
pub const SIZEOF_LONG: usize = BITS_PER_LONG / 8;

/// The kernel configuration that decides how big a cpumask is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpumaskConfig {
    /// `CONFIG_NR_CPUS`.
    pub nr_cpus: usize,
    /// `CONFIG_CPUMASK_OFFSTACK` (x86: selected by `MAXSMP`).
    pub offstack: bool,
    /// `nr_cpu_ids` at run time (possible CPUs), `<= nr_cpus`.
    pub nr_cpu_ids: usize,
    /// `CONFIG_PREEMPTION`: without it there is no task mask at all (per-CPU mask kept).
    pub preemption: bool,
}

impl CpumaskConfig {
    /// `large_cpumask_bits` (include/linux/cpumask.h): `nr_cpu_ids` with
    /// `CONFIG_CPUMASK_OFFSTACK`, else `NR_CPUS`.
    pub fn large_cpumask_bits(&self) -> usize {
        if self.offstack {
            self.nr_cpu_ids
        } else {
            self.nr_cpus
        }
    }

    /// `cpumask_size()` = `bitmap_size(large_cpumask_bits)` =
    /// `BITS_TO_LONGS(large_cpumask_bits) * sizeof(long)`.
    pub fn cpumask_size(&self) -> usize {
        bits_to_longs(self.large_cpumask_bits()) * SIZEOF_LONG
    }

    /// Bits a `kmalloc(cpumask_size())` mask really holds (what the model allocates).
    pub fn cpumask_bits(&self) -> usize {
        self.cpumask_size() * 8
    }

    /// `setup_nr_cpu_ids()` of the series: static key `ipi_mask_inlined` is enabled when
    /// `CONFIG_PREEMPTION` and `cpumask_size() <= sizeof(unsigned long)`.
    pub fn ipi_mask_inlined(&self) -> bool {
        self.preemption && self.cpumask_size() <= SIZEOF_LONG
    }
}

/// The `task_struct` union of the series: `cpumask_t *ipi_mask_ptr` / `unsigned long
/// ipi_mask_val`. The pointer form owns a `kmalloc(cpumask_size())` object; `Ptr(None)` is the
/// NULL pointer of the boot `init_task` (not created by `dup_task_struct()`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IpiMaskRepr {
    Inline(u64),
    Ptr(Option<Vec<u64>>),
}

impl IpiMaskRepr {
    /// `smp_task_ipi_mask_alloc()` at fork: nothing to allocate when inlined, else a zeroed
    /// `kmalloc(cpumask_size())`.
    pub fn alloc(cfg: &CpumaskConfig) -> Self {
        if cfg.ipi_mask_inlined() {
            IpiMaskRepr::Inline(0)
        } else {
            IpiMaskRepr::Ptr(Some(vec![0; cfg.cpumask_size() / SIZEOF_LONG]))
        }
    }

    /// Writes `cpus` (each `< nr_cpu_ids`) as the task's mask (`cpumask_copy()` into it).
    /// Returns false when the task has no mask (NULL pointer): the caller falls back.
    pub fn store(&mut self, cpus: &[usize]) -> bool {
        match self {
            IpiMaskRepr::Inline(w) => {
                *w = cpus.iter().fold(0, |w, &c| w | 1 << c);
                true
            }
            IpiMaskRepr::Ptr(Some(words)) => {
                words.iter_mut().for_each(|w| *w = 0);
                for &c in cpus {
                    words[c / BITS_PER_LONG] |= 1 << (c % BITS_PER_LONG);
                }
                true
            }
            IpiMaskRepr::Ptr(None) => false,
        }
    }

    /// `for_each_cpu()` over the task's mask, `nr_cpu_ids` bounded.
    pub fn cpus(&self, nr_cpu_ids: usize) -> Vec<usize> {
        let words: &[u64] = match self {
            IpiMaskRepr::Inline(w) => std::slice::from_ref(w),
            IpiMaskRepr::Ptr(Some(v)) => v,
            IpiMaskRepr::Ptr(None) => &[],
        };
        (0..nr_cpu_ids.min(words.len() * BITS_PER_LONG))
            .filter(|&c| words[c / BITS_PER_LONG] & (1 << (c % BITS_PER_LONG)) != 0)
            .collect()
    }
}

/// `kmalloc_size_roundup()` for the generic kmalloc caches of x86-64 SLUB
/// (`kmalloc-8` … `kmalloc-8k`, with the 96 and 192 byte caches).
pub fn kmalloc_size_roundup(size: usize) -> usize {
    const CLASSES: [usize; 13] = [
        8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192,
    ];
    CLASSES
        .iter()
        .copied()
        .find(|&c| c >= size)
        .unwrap_or(size.next_power_of_two())
}

/// One row of the per-task memory cost of the task-local IPI mask.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpiMaskCostRow {
    pub nr_cpus: usize,
    pub offstack: bool,
    pub nr_cpu_ids: usize,
    pub cpumask_size: usize,
    pub inlined: bool,
    /// The union in `task_struct` (always one word).
    pub union_bytes: usize,
    /// Slab object per task (0 when inlined).
    pub heap_bytes: usize,
    pub per_task: usize,
    pub per_10k_tasks: usize,
}

/// Per-task memory cost of the series (`CONFIG_PREEMPTION=y`), using the model's own sizing code
/// ([`CpumaskConfig::cpumask_size`], [`CpumaskConfig::ipi_mask_inlined`]).
pub fn ipi_mask_cost(cfg: &CpumaskConfig) -> IpiMaskCostRow {
    let inlined = cfg.ipi_mask_inlined();
    let size = cfg.cpumask_size();
    let heap = if inlined {
        0
    } else {
        kmalloc_size_roundup(size)
    };
    IpiMaskCostRow {
        nr_cpus: cfg.nr_cpus,
        offstack: cfg.offstack,
        nr_cpu_ids: cfg.nr_cpu_ids,
        cpumask_size: size,
        inlined,
        union_bytes: SIZEOF_LONG,
        heap_bytes: heap,
        per_task: SIZEOF_LONG + heap,
        per_10k_tasks: (SIZEOF_LONG + heap) * 10_000,
    }
}

/// The configurations of the cost table: NR_CPUS 64 / 512 / 8192 without `CPUMASK_OFFSTACK`
/// (`nr_cpu_ids` irrelevant) and NR_CPUS 512 / 8192 with it at several `nr_cpu_ids`.
pub fn ipi_mask_cost_configs() -> Vec<CpumaskConfig> {
    let mut v = Vec::new();
    for nr_cpus in [64, 512, 8192] {
        v.push(CpumaskConfig {
            nr_cpus,
            offstack: false,
            nr_cpu_ids: nr_cpus.min(64),
            preemption: true,
        });
    }
    for nr_cpus in [512, 8192] {
        for ids in [4, 64, 65, 256, 448, 512, 1024, 8192] {
            if ids <= nr_cpus {
                v.push(CpumaskConfig {
                    nr_cpus,
                    offstack: true,
                    nr_cpu_ids: ids,
                    preemption: true,
                });
            }
        }
    }
    v
}

/// The cost rows for [`ipi_mask_cost_configs`].
pub fn ipi_mask_cost_rows() -> Vec<IpiMaskCostRow> {
    ipi_mask_cost_configs().iter().map(ipi_mask_cost).collect()
}

fn human(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
    } else if bytes >= 1 << 10 {
        format!("{:.1} KiB", bytes as f64 / (1 << 10) as f64)
    } else {
        format!("{bytes} B")
    }
}

/// The per-task memory cost table as Markdown (what `kmodel ipi-mask-cost` prints).
pub fn ipi_mask_cost_table() -> String {
    let mut s = String::from(
        "| NR_CPUS | CPUMASK_OFFSTACK | nr_cpu_ids | cpumask_size() | form | task_struct union | \
         heap (kmalloc class) | bytes/task | per 10k tasks |\n\
         |---:|:---:|---:|---:|:---|---:|---:|---:|---:|\n",
    );
    for r in ipi_mask_cost_rows() {
        s += &format!(
            "| {} | {} | {} | {} B | {} | {} B | {} B | {} B | {} |\n",
            r.nr_cpus,
            if r.offstack { "y" } else { "n" },
            if r.offstack {
                r.nr_cpu_ids.to_string()
            } else {
                "(any)".into()
            },
            r.cpumask_size,
            if r.inlined {
                "inline (ipi_mask_val)"
            } else {
                "kmalloc (ipi_mask_ptr)"
            },
            r.union_bytes,
            r.heap_bytes,
            r.per_task,
            human(r.per_10k_tasks),
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cfg() -> impl Strategy<Value = CpumaskConfig> {
        (
            prop::sample::select(vec![1usize, 2, 8, 32, 63, 64, 65, 128, 512, 4096, 8192]),
            any::<bool>(),
            any::<bool>(),
            1usize..=8192,
        )
            .prop_map(|(nr_cpus, offstack, preemption, ids)| CpumaskConfig {
                nr_cpus,
                offstack,
                nr_cpu_ids: ids.min(nr_cpus),
                preemption,
            })
    }

    proptest! {
        /// The set read back equals the set written, in either form.
        #[test]
        fn read_back_equals_written(cfg in cfg(), raw in prop::collection::btree_set(0usize..8192, 0..40)) {
            let cpus: Vec<usize> = raw.into_iter().filter(|&c| c < cfg.nr_cpu_ids).collect();
            let mut m = IpiMaskRepr::alloc(&cfg);
            prop_assert!(m.store(&cpus));
            prop_assert_eq!(m.cpus(cfg.nr_cpu_ids), cpus);
        }

        /// The inline form is chosen exactly when cpumask_size() fits the pointer word
        /// (and CONFIG_PREEMPTION), and the pointer form allocates exactly cpumask_size().
        #[test]
        fn inline_exactly_when_it_fits(cfg in cfg()) {
            let fits = cfg.cpumask_size() <= SIZEOF_LONG;
            prop_assert_eq!(cfg.ipi_mask_inlined(), fits && cfg.preemption);
            match IpiMaskRepr::alloc(&cfg) {
                IpiMaskRepr::Inline(_) => prop_assert!(fits && cfg.preemption),
                IpiMaskRepr::Ptr(Some(w)) => {
                    prop_assert!(!(fits && cfg.preemption));
                    prop_assert_eq!(w.len() * SIZEOF_LONG, cfg.cpumask_size());
                }
                IpiMaskRepr::Ptr(None) => prop_assert!(false, "alloc returned NULL"),
            }
            // Every possible CPU fits the allocated mask.
            prop_assert!(cfg.cpumask_bits() >= cfg.large_cpumask_bits());
        }

        /// The cost row uses the same sizing: heap is 0 iff inlined, else the kmalloc class.
        #[test]
        fn cost_row_consistent(cfg in cfg()) {
            let r = ipi_mask_cost(&cfg);
            prop_assert_eq!(r.cpumask_size, cfg.cpumask_size());
            prop_assert_eq!(r.heap_bytes == 0, cfg.ipi_mask_inlined());
            if !r.inlined {
                prop_assert!(r.heap_bytes >= r.cpumask_size);
            }
            prop_assert_eq!(r.per_10k_tasks, r.per_task * 10_000);
        }
    }

    /// `cargo test -p kmodel-models show_cost_table -- --ignored --nocapture` prints the table.
    #[test]
    #[ignore]
    fn show_cost_table() {
        println!("{}", ipi_mask_cost_table());
    }

    #[test]
    fn init_task_has_no_mask_unless_inlined() {
        let mut null = IpiMaskRepr::Ptr(None);
        assert!(!null.store(&[1]));
        assert!(null.cpus(64).is_empty());
    }

    #[test]
    fn table_matches_reference_numbers() {
        let row = |nr, off, ids| {
            ipi_mask_cost(&CpumaskConfig {
                nr_cpus: nr,
                offstack: off,
                nr_cpu_ids: ids,
                preemption: true,
            })
        };
        assert_eq!(row(64, false, 64).heap_bytes, 0);
        assert_eq!(row(512, false, 64).heap_bytes, 64);
        assert_eq!(row(8192, false, 64).heap_bytes, 1024);
        assert_eq!(row(8192, true, 64).heap_bytes, 0);
        assert_eq!(row(8192, true, 256).heap_bytes, 32);
        assert_eq!(row(8192, true, 448).heap_bytes, 64);
        assert_eq!(row(8192, true, 8192).per_10k_tasks, 10_320_000);
        assert!(ipi_mask_cost_table().contains("| 8192 | y | 8192 | 1024 B |"));
    }
}
