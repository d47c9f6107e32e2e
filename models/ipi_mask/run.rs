//! One execution of a scene: fresh state, the set-up, the IPI handler and task actors, the
//! caller-side checks after each return, and the "once quiet" checks.

use kmodel_harness::prelude::*;

use super::call::{smp_call_function_many_cond, CallMask, Task, TaskIpiMask};
use super::cpumask::CpumaskConfig;
use super::design::Design;
use super::ipi::ipi_handler;
use super::properties::{EXACTLY_ONCE, FUNC_DONE, PREEMPT_BALANCED, WAIT_MASK_MATCHES};
use super::scene::{Actor, Call, Kind, Mask, Op, Scene};
use super::smp::{pbl, Smp, I, NR_CPU_IDS, SCF_RUN_LOCAL, SCF_WAIT};

fn cfg(s: &Scene) -> CpumaskConfig {
    CpumaskConfig {
        nr_cpus: s.nr_cpus as usize,
        offstack: false,
        nr_cpu_ids: s.nr_cpu_ids as usize,
        preemption: true,
    }
}

/// The mask argument of `c` in scene `s`.
fn call_mask(s: &Scene, c: &Call) -> CallMask {
    match c.mask {
        Mask::Cpus(m) => CallMask::Cpus(m),
        Mask::Mm => {
            let (must, may) = s.mm_bounds();
            CallMask::Mm { must, may }
        }
    }
}

/// One call by `t` (call id `id`) and the caller-side checks once it returns.
fn do_call(t: &mut Task<'_>, s: &Scene, c: &Call, id: usize) {
    let smp = t.smp;
    let d = smp.design;
    // Before the series on_each_cpu_cond_mask()/smp_call_function() disable preemption; with
    // it, a caller may still hold preempt_disable() (then the wait is not preemptible).
    let pin = !d.pin_in_function || c.preempt_off;
    if pin {
        t.preempt_disable();
    }
    let flags = if c.wait { SCF_WAIT } else { 0 } | if c.local { SCF_RUN_LOCAL } else { 0 };
    t.migrate_on_wait = c.migrate;
    let tr = smp_call_function_many_cond(t, call_mask(s, c), id, flags, c.cond);
    t.migrate_on_wait = None;
    if pin {
        t.preempt_enable();
    }
    let call = smp.call(id);
    if c.wait && !execution_spent() {
        // The caller now uses what func computed into info (e.g. frees the page tables).
        let must = call.targets.load(I) | tr.queued;
        let missing: u64 = (0..NR_CPU_IDS)
            .filter(|&c| must & (1 << c) != 0 && plain_read(&call.result[c]) == 0)
            .fold(0, |m, c| m | 1 << c);
        check(FUNC_DONE, missing == 0, || {
            format!(
                "{} returned from a waiting call #{id} but func has not finished on CPU{}",
                t.name,
                pbl(missing)
            )
        });
        if tr.waited_at_all {
            check(WAIT_MASK_MATCHES, tr.waited == tr.queued, || {
                format!(
                    "{} (call #{id}) queued csds to {} but waited on {}",
                    t.name,
                    pbl(tr.queued),
                    pbl(tr.waited)
                )
            });
        }
    }
    if c.wait {
        // info lives on the caller's stack (a no-wait caller's info must outlive the call).
        call.returned.store(true, I);
    }
    ev!(
        "smp_call_function_many_cond",
        "{} returns from call #{id}{}",
        t.name,
        if c.wait { ": info is gone" } else { "" }
    );
}

/// `switch_mm()` on the task's CPU: the scheduler (preemption disabled) sets or clears this
/// CPU's bit of `mm_cpumask(mm)` with an atomic bitop.
fn switch_mm(t: &mut Task<'_>, on: bool) {
    t.preempt_disable();
    let bit = 1u64 << t.cpu;
    // cpumask_set_cpu() / cpumask_clear_cpu(): set_bit() / clear_bit(), atomic but
    // unordered (the `_relaxed` RMW of Documentation/atomic_t.txt).
    if on {
        atomic_fetch_or(Kord::Relaxed, bit, &t.smp.mm_cpumask);
    } else {
        atomic_fetch_and(Kord::Relaxed, !bit, &t.smp.mm_cpumask);
    }
    ev!(
        "switch_mm",
        "CPU{}: {}(CPU{}, mm_cpumask(mm))",
        t.cpu,
        if on {
            "cpumask_set_cpu"
        } else {
            "cpumask_clear_cpu"
        },
        t.cpu
    );
    t.preempt_enable();
}

/// One task's life: its operations, then its exit. Returns the preempt count it exits with.
fn run_actor(smp: &Smp, s: &Scene, a: &Actor, name: String, first_id: usize) -> u32 {
    let d = smp.design;
    let mut t = Task::new(smp, name, a.cpu, a.kind == Kind::InitTask);
    if d.no_task_masks {
        // Ablation: no task has a mask, whatever its form (every caller falls back).
        t.ipi_mask = TaskIpiMask::Null;
    }
    // local_irq_save() in the caller: the bring-up of an offline CPU, or the ablation (where
    // the CPU's IPI handler shares the CPU: holding irq[cpu] keeps it out meanwhile).
    let flags = (a.kind == Kind::Booting || d.irqs_disabled_caller).then(local_irq_save);
    let irqs = d.irqs_disabled_caller.then(|| smp.irq[a.cpu].lock());
    if flags.is_some() {
        ev!("local_irq_save", "{}: IRQs off on CPU{}", t.name, a.cpu);
    }
    let mut id = first_id;
    for op in &a.ops {
        match op {
            Op::Call(c) => {
                do_call(&mut t, s, c, id);
                id += 1;
            }
            Op::Migrate(to) => t.migrate(*to),
            Op::SwitchMm(on) => switch_mm(&mut t, *on),
        }
    }
    drop(irqs);
    if let Some(flags) = flags {
        local_irq_restore(flags);
    }
    // do_exit(): "exited with preempt_count %d", then the count is repaired
    // (`preempt_count_set(PREEMPT_ENABLED)`).
    let count = preempt_count();
    for _ in 0..count {
        preempt_enable();
    }
    t.pinned = None;
    count
}

/// Runs `s` under `design`: one execution's body.
pub fn run(s: &Scene, design: Design) {
    let calls: Vec<(String, bool)> = s.calls().into_iter().map(|(n, c)| (n, c.wait)).collect();
    let smp = Arc::new(Smp::new(design, cfg(s), s.online(), s.mm, calls));
    let mut id = 1;
    // The set-up: each step by a task on its CPU, in order, before anybody races.
    for st in &s.setup {
        let a = Actor {
            cpu: st.cpu,
            kind: Kind::Task,
            ops: vec![st.op],
            label: None,
        };
        let p = run_actor(&smp, s, &a, format!("set-up CPU{}", st.cpu), id);
        check(PREEMPT_BALANCED, p == 0, || {
            format!("set-up on CPU{} left preempt_count {p}", st.cpu)
        });
        id += usize::from(matches!(st.op, Op::Call(_)));
    }
    let handlers: Vec<_> = s
        .handler_groups()
        .into_iter()
        .map(|cpus| {
            let smp = Arc::clone(&smp);
            let names: Vec<String> = cpus.iter().map(|c| format!("CPU{c}")).collect();
            let plural = if cpus.len() > 1 { "s" } else { "" };
            spawn(
                format!("{} IPI handler{plural}", names.join("+")),
                move || ipi_handler(&smp, &cpus),
            )
        })
        .collect();
    let tasks: Vec<_> = s
        .tasks
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let (smp, s2, a2) = (Arc::clone(&smp), s.clone(), a.clone());
            let name = a.name(i);
            let first = id;
            id += a.ops.iter().filter(|op| matches!(op, Op::Call(_))).count();
            spawn(name.clone(), move || {
                let p = run_actor(&smp, &s2, &a2, name.clone(), first);
                (name, p)
            })
        })
        .collect();
    let exits: Vec<(String, u32)> = tasks.into_iter().map(|h| h.join()).collect();
    {
        let (line, cv) = &smp.ipi;
        line.lock().quit = true;
        cv.notify_all();
    }
    for h in handlers {
        h.join();
    }
    // Once quiet.
    for (name, p) in exits {
        check(PREEMPT_BALANCED, p == 0, || {
            format!("{name} exited with preempt_count {p}: a path missed put_cpu()")
        });
    }
    for call in &smp.calls {
        let (must, may) = (call.runs.load(I), call.may_run.load(I));
        for c in 0..NR_CPU_IDS {
            let n = call.ran[c].load(I);
            let bit = 1 << c;
            let ok = n <= 1 && (must & bit == 0 || n == 1) && (may & bit != 0 || n == 0);
            check(EXACTLY_ONCE, ok, || {
                format!(
                    "call #{} of {} ran {n} times on CPU{c} (must run on {}, may on {})",
                    call.id,
                    call.caller,
                    pbl(must),
                    pbl(may)
                )
            });
        }
    }
}
