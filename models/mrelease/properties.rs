//! The mrelease model's properties: what the killer, the victim and the reader must keep.

use kmodel_harness::prelude::*;

properties! {
    REAPED_ON_SUCCESS = "reaped-on-success":
        "when process_mrelease() (or the expedited kill) returns 0, none of the victim's \
         private pages is still resident";
    NO_SPURIOUS_ESRCH = "no-spurious-esrch":
        "the killer never gets -ESRCH while the victim's memory is resident and the last \
         mm_users reference belongs to the procfs reader rather than an exiting victim thread";
    TEARDOWN_NOT_IN_READER = "teardown-not-in-reader":
        "exit_mmap() never runs in the low-priority procfs reader's context";
    NO_USE_AFTER_PUT = "no-use-after-put":
        "nobody touches the mm_struct, its page tables or its pages after the reference \
         that protects them is gone (no access after __mmdrop(), no page faulted in after \
         exit_mmap() unmapped it, no free_pgtables() under a live mapping, no leaks; \
         no thread's task_struct after its RCU-delayed free)";
    NO_DEADLOCK:
        "every actor finishes: no cycle through mmap_lock, task_lock and the wait for SIGKILL";
    KILLER_NOT_BLOCKED_BY_READER = "killer-not-blocked-by-reader":
        "the killer's mmap_read_lock never sleeps while the stalled reader holds \
         mmap_lock with more than killer_wait_budget (default 0) VMA-walk steps left";
    /// `VM_BUG_ON(atomic_read(&mm->mm_users))` in `__mmput()` (kernel/fork.c).
    MMPUT_MM_USERS = "mmput-vm-bug-on-mm-users":
        "kernel assertion VM_BUG_ON(atomic_read(&mm->mm_users)) in __mmput(): nobody \
         revives mm_users once the last user's teardown starts";
    /// `check_mm()` in `__mmdrop()` (kernel/fork.c): "BUG: Bad rss-counter state".
    CHECK_MM_RSS = "mmdrop-check-mm-rss-counter":
        "kernel assertion in __mmdrop() -> check_mm(): no \"BUG: Bad rss-counter state\" \
         (no page is still accounted to an mm_struct when it is freed)";
    DATA_RACE:
        "no data race (LKMM, KCSAN): no two conflicting accesses, at least one plain, \
         unordered by happens-before";
}
