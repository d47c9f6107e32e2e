//! The designs a variant checks ([`Which`], mapped to the [`Design`] knobs by [`design_of`]) and
//! the scripted scene's knobs.

use kmodel_harness::prelude::*;

/// The design knobs a variant sets (see [`design_of`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct Design {
    /// The series (patch 6): get_cpu()/put_cpu() inside the function, final wait preemptible;
    /// callers no longer disable preemption (patches 7/8). False: the caller pins across all.
    pub pin_in_function: bool,
    /// The series (patch 4): wait mask in the task, cfd->cpumask only for a task without one.
    pub task_local_mask: bool,
    /// 5.15-era: a cond_func-rejected CPU stays in the wait mask.
    pub keep_cond_bits: bool,
    /// Ablation: put_cpu() before the per-CPU cfd / csds are touched.
    pub unpinned_queueing: bool,
    /// Ablation: csd_unlock() as WRITE_ONCE instead of smp_store_release().
    pub unlock_relaxed: bool,
    /// Ablation: the flush reads info after csd_unlock() of a SYNC csd (trace hook).
    pub info_after_unlock: bool,
    /// Ablation: put_cpu() only on the run_remote path.
    pub put_cpu_only_if_remote: bool,
    /// Ablation: callers run the whole call with IRQs disabled (local_irq_save()).
    pub irqs_disabled_caller: bool,
    /// Ablation: no task has a task mask (every caller falls back to cfd->cpumask), the
    /// fallback's assumption (only init_task lacks one) broken.
    pub no_task_masks: bool,
}

/// The variants, by design (each maps to one [`Design`] and one scripted [`Scene`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    PinnedWait,
    PreemptiblePercpuMask,
    TaskLocalMask,
    TaskLocalInline,
    TaskLocalFallback,
    AblationTwoTasksWithoutMask,
    TaskLocalCondBitsKept,
    AblationUnpinnedQueueing,
    AblationCsdUnlockRelaxed,
    AblationInfoReadAfterUnlock,
    AblationPutCpuOnlyIfRemote,
    AblationWaitIrqsDisabled,
}

/// The design a variant checks (generated scenes run under it too).
pub fn design_of(which: Which) -> Design {
    let series = Design {
        pin_in_function: true,
        task_local_mask: true,
        ..Design::default()
    };
    match which {
        Which::PinnedWait => Design::default(),
        Which::PreemptiblePercpuMask => Design {
            pin_in_function: true,
            ..Design::default()
        },
        Which::TaskLocalMask | Which::TaskLocalInline | Which::TaskLocalFallback => series,
        Which::AblationTwoTasksWithoutMask => Design {
            no_task_masks: true,
            ..series
        },
        Which::TaskLocalCondBitsKept => Design {
            keep_cond_bits: true,
            ..series
        },
        Which::AblationUnpinnedQueueing => Design {
            unpinned_queueing: true,
            ..series
        },
        Which::AblationCsdUnlockRelaxed => Design {
            unlock_relaxed: true,
            ..series
        },
        Which::AblationInfoReadAfterUnlock => Design {
            info_after_unlock: true,
            ..series
        },
        Which::AblationPutCpuOnlyIfRemote => Design {
            put_cpu_only_if_remote: true,
            ..series
        },
        Which::AblationWaitIrqsDisabled => Design {
            irqs_disabled_caller: true,
            ..Design::default()
        },
    }
}

params! {
    /// Knobs of the scripted scene.
    pub struct Knobs {
        b_calls: usize = 1, 1..=4,
            "calls task B makes on CPU0 (a stream of csd reusers for csd-wait-bounded)";
    }
}
