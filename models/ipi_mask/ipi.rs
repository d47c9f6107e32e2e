//! The target side of kernel/smp.c: csd_do_func(), __flush_smp_call_function_queue(), the IPI
//! lines and the IPI handler actors.

use kmodel_harness::prelude::*;

use super::properties::{EXACTLY_ONCE, NO_LATE_INFO};
use super::smp::{
    csd_unlock, llist_del_all_reversed, pbl, Smp, CSD_FLAG_TYPE_MASK, CSD_TYPE_ASYNC,
    CSD_TYPE_SYNC, I,
};

/// `csd_do_func(func, info, csd)` on `cpu`: func reads `info`, writes its result into it.
pub fn csd_do_func(smp: &Smp, cpu: usize, info: usize) {
    if info == 0 || info > smp.calls.len() {
        check(EXACTLY_ONCE, false, || {
            format!("CPU{cpu} ran a csd whose info ({info}) belongs to no call")
        });
        return;
    }
    let call = smp.call(info);
    ev!("csd_do_func", "CPU{cpu} runs func(info of call #{info})");
    let dead = call.returned.load(I);
    // func runs anyway: in the kernel it dereferences the dead frame.
    check(NO_LATE_INFO, !dead, || {
        format!(
            "CPU{cpu} runs func(info) of call #{info} after {} returned: info is a dead stack frame",
            call.caller
        )
    });
    let n = call.ran[cpu].fetch_add(1, I) + 1;
    let may = call.may_run.load(I);
    check(EXACTLY_ONCE, n == 1 && may & (1 << cpu) != 0, || {
        if n > 1 {
            format!("CPU{cpu} ran call #{info} {n} times")
        } else {
            format!(
                "CPU{cpu} ran call #{info} of {}, which only CPUs {} may run",
                call.caller,
                pbl(may)
            )
        }
    });
    plain_write(&call.result[cpu], 1);
}

/// `__flush_smp_call_function_queue()` on `cpu` (IRQs disabled by the caller): take the inbox,
/// pass 1 runs SYNC csds then unlocks them, pass 2 unlocks ASYNC csds then runs them.
pub fn flush_smp_call_function_queue(smp: &Smp, cpu: usize) {
    let entries = llist_del_all_reversed(smp, cpu);
    if entries.is_empty() {
        return;
    }
    ev!(
        "__flush_smp_call_function_queue",
        "CPU{cpu} took {} csd(s) off call_single_queue",
        entries.len()
    );
    let mut rest = Vec::new();
    for &c in &entries {
        let csd = &smp.csd[c];
        if plain_read(&csd.u_flags) & CSD_FLAG_TYPE_MASK == CSD_TYPE_SYNC {
            let info = plain_read(&csd.info);
            csd_do_func(smp, cpu, info);
            csd_unlock(smp, c);
            if smp.design.info_after_unlock {
                // Ablation: a trace hook dereferences info after the waiter was released.
                ev!(
                    "trace_csd_function_exit",
                    "CPU{cpu} reads info of call #{info} after csd_unlock (ablation)"
                );
                if info > 0 && info <= smp.calls.len() {
                    let call = smp.call(info);
                    let dead = call.returned.load(I);
                    check(NO_LATE_INFO, !dead, || {
                        format!(
                            "CPU{cpu} reads info of call #{info} after csd_unlock, and {} has \
                             already returned: info is a dead stack frame",
                            call.caller
                        )
                    });
                }
            }
        } else {
            rest.push(c);
        }
    }
    for c in rest {
        let csd = &smp.csd[c];
        if plain_read(&csd.u_flags) & CSD_FLAG_TYPE_MASK == CSD_TYPE_ASYNC {
            let info = plain_read(&csd.info);
            csd_unlock(smp, c);
            csd_do_func(smp, cpu, info);
        }
    }
}

/// `send_call_function_single_ipi()` / `arch_send_call_function_single_ipi()`: raise the
/// target's IPI line and wake its handler.
pub fn send_call_function_single_ipi(smp: &Smp, cpu: usize) {
    let (line, cv) = &smp.ipi;
    line.lock().pending |= 1 << cpu;
    // Every handler actor waits on this one condvar: wake them all, so the one serving `cpu`
    // is among them (notify_one could wake another and lose the IPI).
    cv.notify_all();
    ev!("send_call_function_single_ipi", "IPI -> CPU{cpu}");
}

/// `generic_smp_call_function_single_interrupt()` of the target CPUs `cpus`, looped, in one
/// actor: it sleeps (`hlt`) until an IPI line is raised (or the scenario ends), then on the
/// lowest CPU with a pending IPI disables IRQs and flushes that CPU's queue. One actor for
/// several target CPUs serialises their handlers (only their order against the tasks
/// matters for the properties) and keeps the scenario within loom's thread budget.
pub fn ipi_handler(smp: &Smp, cpus: &[usize]) {
    let mine: u64 = cpus.iter().fold(0, |m, &c| m | 1 << c);
    loop {
        let (pending, quit) = {
            let (line, cv) = &smp.ipi;
            let mut l = line.lock();
            while l.pending & mine == 0 && !l.quit {
                l = cv.wait(l);
            }
            let p = l.pending & mine;
            let one = p & p.wrapping_neg();
            l.pending &= !one;
            (one, l.quit && p == 0)
        };
        if quit {
            // Everyone is done: a last flush of every CPU (smpcfd_dying_cpu()-style).
            for &cpu in cpus {
                flush_smp_call_function_queue(smp, cpu);
            }
            return;
        }
        let cpu = pending.trailing_zeros() as usize;
        let _irqs_off = smp.design.irqs_disabled_caller.then(|| smp.irq[cpu].lock());
        ev!(
            "generic_smp_call_function_single_interrupt",
            "CPU{cpu} takes the IPI"
        );
        flush_smp_call_function_queue(smp, cpu);
    }
}
