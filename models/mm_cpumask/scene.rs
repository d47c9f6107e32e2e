//! mm-cpumask's scene language: a system (`nr_cpu_ids`, which CPUs are modelled, how many
//! threads the process has), a sequential set-up, and a program per concurrent actor (a CPU, or
//! a reader task on a CPU the model does not follow), built from the kernel operations the
//! model ports. The scripted scenes are members of it.

use serde::{Deserialize, Serialize};

use kmodel_harness::prelude::*;

use super::design::{Knobs, Setup, Why};
use super::proc::{check_lines, check_quiet, proc_pid_status};
use super::tlb::{
    check_now, enter_lazy_tlb, flush_tlb_mm_range, switch_mm_irqs_off, Curr, System, HZ, MM, MM_Q,
    THREAD_NAMES,
};

/// Modelled CPUs at most (loom runs at most 4 actors).
pub const MAX_CPUS: usize = 4;
/// Threads of the process at most.
pub const MAX_THREADS: usize = 3;
/// `nr_cpu_ids` at most (two 64-bit words, four 32-bit hex chunks).
pub const MAX_NR_CPU_IDS: usize = 128;

/// What a CPU switches to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Next {
    /// Thread n of the process (`T(n+1)`), if it is queued here and may run here.
    Thread(usize),
    /// This CPU's task of another process.
    Other,
    /// This CPU's kernel thread (idle / the stopper / a `kthread_use_mm()` user): lazy TLB
    /// unless it holds the mm.
    Kthread,
}

/// One operation, performed on the CPU whose program holds it by what runs there. An operation
/// whose precondition does not hold when it runs (the task is not there, the kthread holds no
/// mm, ...) does nothing, as a scheduler would not pick an absent task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Op {
    /// `__schedule()` to `next`: `rq->curr = next`, `context_switch()` (`switch_mm_irqs_off()`
    /// or `enter_lazy_tlb()`), `finish_task(prev)`. A thread no longer allowed here is pushed to
    /// the first CPU it may use (the stopper's `move_queued_task()`).
    Switch(Next),
    /// Pull thread n to this CPU (load balancing / wake-up: `set_task_cpu()`), if it is not
    /// running and may run here; then `smp_cond_load_acquire(&p->on_cpu, !VAL)`.
    Pull(usize),
    /// The running thread calls `sched_setaffinity(0, mask)` (bit i = modelled CPU i). If the
    /// mask excludes this CPU the next operation here is a switch away (the stopper pushes it).
    Affinity(u32),
    /// The CPU's kernel thread calls `kthread_use_mm(mm)` (the caller holds `mm_users`).
    UseMm,
    /// The CPU's kernel thread calls `kthread_unuse_mm(mm)`.
    UnuseMm,
    /// The running thread (not the leader T1, whose status file is read) exits: `exit_mm()`
    /// (lazy TLB), then `do_task_dead()` switches to the CPU's kernel thread.
    Exit,
    /// The running thread calls `munmap()` → `flush_tlb_mm_range()`; `true`: it first slept a
    /// second (`jiffies += HZ + 1`), so on x86 lazy the flush trims the mask.
    Munmap(bool),
    /// The task running here reads `/proc/<T1>/status`.
    Read,
}

/// One step of the sequential set-up.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Step {
    pub cpu: usize,
    pub op: Op,
}

/// One concurrent actor: a modelled CPU (index into `Scene::cpus`) and its program, or a reader
/// task running on a CPU the model does not follow (`cpu: None`, only `Read`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Actor {
    pub cpu: Option<usize>,
    pub ops: Vec<Op>,
    /// Column title in timelines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// Which claims are checked where (the scripted scene's knobs; generated scenes use the
/// default: readers check the meaning claims at their instant, nothing is checked first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Checks {
    pub transient: bool,
    pub quiet_first: u32,
}

impl Default for Checks {
    fn default() -> Self {
        Checks {
            transient: true,
            quiet_first: 0,
        }
    }
}

/// A scene: T1 runs on the first modelled CPU with the mm loaded, every other modelled CPU runs
/// a task of another process, T2.. are runnable on the first CPU; the set-up runs in order; the
/// actors race; once quiet the claims about the mask at rest are checked.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Scene {
    pub nr_cpu_ids: usize,
    /// The CPU numbers of the modelled CPUs (distinct, `< nr_cpu_ids`).
    pub cpus: Vec<usize>,
    /// Threads of the process (T1..).
    pub threads: usize,
    pub setup: Vec<Step>,
    pub actors: Vec<Actor>,
    #[serde(default)]
    pub checks: Checks,
}

/// Whether an `Affinity(mask)` on modelled CPU `i` pushes the running thread away.
pub fn excludes_self(mask: u32, i: usize) -> bool {
    mask & (1 << i) == 0
}

/// A switch away from the running thread (what may follow an `Affinity` that excludes it).
pub fn switches_away(op: Option<&Op>) -> bool {
    matches!(op, Some(Op::Switch(Next::Other | Next::Kthread)))
}

impl Op {
    pub fn describe(&self, cpus: &[usize]) -> String {
        match *self {
            Op::Switch(Next::Thread(t)) => format!("schedule() -> {}", THREAD_NAMES[t]),
            Op::Switch(Next::Other) => "schedule() -> task of another process".into(),
            Op::Switch(Next::Kthread) => "schedule() -> kernel thread".into(),
            Op::Pull(t) => format!("pull {} here", THREAD_NAMES[t]),
            Op::Affinity(m) => {
                let set: Vec<String> = (0..cpus.len())
                    .filter(|i| m & (1 << i) != 0)
                    .map(|i| cpus[i].to_string())
                    .collect();
                format!("sched_setaffinity(0, {{{}}})", set.join(","))
            }
            Op::UseMm => "kthread_use_mm(mm)".into(),
            Op::UnuseMm => "kthread_unuse_mm(mm)".into(),
            Op::Exit => "exit()".into(),
            Op::Munmap(false) => "munmap()".into(),
            Op::Munmap(true) => "sleep(1); munmap()".into(),
            Op::Read => "cat /proc/T1/status".into(),
        }
    }
}

fn step(cpu: usize, op: Op) -> Step {
    Step { cpu, op }
}

fn actor(cpu: Option<usize>, ops: Vec<Op>, label: Option<String>) -> Actor {
    Actor { cpu, ops, label }
}

impl Scene {
    /// The scripted scene (Peter's migration): T1 on CPU<from> narrows its affinity to
    /// {to} and is pushed away (CPU<from> runs another process, or a kernel thread with
    /// `lazy_tlb=1`); CPU<to> pulls T1, runs it, and T1 calls `munmap()` (a second after the
    /// last trim when `trim_due=1`); a reader reads the status file meanwhile.
    pub fn migration(k: &Knobs) -> Scene {
        let next = if k.lazy_tlb {
            Next::Kthread
        } else {
            Next::Other
        };
        Scene {
            nr_cpu_ids: k.nr_cpu_ids,
            cpus: vec![k.from_cpu, k.to_cpu],
            threads: 1,
            setup: vec![],
            actors: vec![
                actor(
                    Some(0),
                    vec![Op::Affinity(0b10), Op::Switch(next)],
                    Some(format!("CPU{} (T1 leaves)", k.from_cpu)),
                ),
                actor(
                    Some(1),
                    vec![
                        Op::Pull(0),
                        Op::Switch(Next::Thread(0)),
                        Op::Munmap(k.trim_due),
                    ],
                    Some(format!("CPU{} (T1 arrives, munmap)", k.to_cpu)),
                ),
                actor(
                    None,
                    vec![Op::Read],
                    Some("reader: cat /proc/T1/status".into()),
                ),
            ],
            checks: Checks {
                transient: k.transient_checks,
                quiet_first: k.quiet_first,
            },
        }
    }

    /// The lazy-trim scene: T1 leaves CPU<from> for a kernel thread (lazy TLB, the mm stays
    /// loaded) and runs on CPU<to>; a second later T1 unmaps (the flush trims); meanwhile
    /// CPU<from>'s kernel thread yields to T2, a thread of the same mm.
    pub fn lazy_return(k: &Knobs) -> Scene {
        Scene {
            nr_cpu_ids: k.nr_cpu_ids,
            cpus: vec![k.from_cpu, k.to_cpu],
            threads: 2,
            setup: vec![
                step(0, Op::Switch(Next::Kthread)),
                step(1, Op::Pull(0)),
                step(1, Op::Switch(Next::Thread(0))),
            ],
            actors: vec![
                actor(Some(0), vec![Op::Switch(Next::Thread(1))], None),
                actor(Some(1), vec![Op::Munmap(true)], None),
            ],
            checks: Checks::default(),
        }
    }

    /// All operations with their CPU index, set-up first.
    pub fn all_ops(&self) -> impl Iterator<Item = (Option<usize>, &Op)> {
        let steps = self.setup.iter().map(|s| (Some(s.cpu), &s.op));
        let racing = self
            .actors
            .iter()
            .flat_map(|a| a.ops.iter().map(move |o| (a.cpu, o)));
        steps.chain(racing)
    }

    /// Runs the scene under `setup`: one execution's body.
    pub fn run(&self, setup: Setup) {
        let sys = Arc::new(System::new(
            setup.policy,
            setup.ablation,
            self.nr_cpu_ids,
            &self.cpus,
            self.threads,
        ));
        let checks = self.checks;
        for s in &self.setup {
            do_op(&sys, Some(s.cpu), s.op, setup, checks);
        }
        let handles: Vec<_> = self
            .actors
            .iter()
            .enumerate()
            .map(|(n, a)| {
                let (s, ops, cpu) = (sys.clone(), a.ops.clone(), a.cpu);
                let name = a.label.clone().unwrap_or_else(|| match cpu {
                    Some(i) => format!("CPU{}", self.cpus[i]),
                    None => format!("reader {n}"),
                });
                spawn(name, move || {
                    for op in ops {
                        do_op(&s, cpu, op, setup, checks);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join();
        }
        // Once quiet: nothing is switching or flushing any more.
        check_quiet(&sys, checks.quiet_first);
    }
}

/// Performs `op` on modelled CPU `cpu` (None: a reader on an unmodelled CPU).
fn do_op(sys: &System, cpu: Option<usize>, op: Op, setup: Setup, checks: Checks) {
    if op == Op::Read {
        let st = proc_pid_status(sys, setup.reader);
        check_lines(sys, &st, checks.transient);
        if checks.transient {
            check_now(sys, "right after the read");
        }
        return;
    }
    let Some(i) = cpu else { return };
    let me = &sys.cpus[i];
    let c = me.id;
    match op {
        Op::Switch(next) => schedule(sys, i, next),
        Op::Pull(t) => {
            // try_to_wake_up()/move_queued_task() under p->pi_lock: wait for the previous CPU
            // to finish switching it out (smp_cond_load_acquire(&p->on_cpu, !VAL)), then move.
            let mut spin: Option<Spinner> = None;
            loop {
                let mut g = sys.ghost.lock();
                let running = g.curr.contains(&Curr::Thread(t));
                if !g.alive[t] || running || g.allowed[t] & (1 << c) == 0 {
                    return;
                }
                // one iteration of smp_cond_load_acquire(): an acquire load of p->on_cpu
                if smp_load_acquire(&sys.threads[t].on_cpu) {
                    drop(g);
                    let s = spin.get_or_insert_with(|| {
                        Spinner::new("smp_cond_load_acquire(&p->on_cpu, !VAL)")
                    });
                    if !s.relax() {
                        return;
                    }
                    continue;
                }
                g.task_cpu[t] = i;
                ev!("set_task_cpu", "{} -> CPU{c}", THREAD_NAMES[t]);
                return;
            }
        }
        Op::Affinity(mask) => {
            let mut g = sys.ghost.lock();
            let Curr::Thread(t) = g.curr[i] else { return };
            let new: u128 = (0..sys.cpus.len())
                .filter(|j| mask & (1 << j) != 0)
                .fold(0, |m, j| m | 1 << sys.cpus[j].id);
            let old = g.allowed[t];
            g.allowed[t] = new;
            // __set_cpus_allowed_ptr() -> cpumask_copy(): new CPUs appear before old ones go.
            let bm = &sys.threads[t].cpus_mask;
            for j in &sys.cpus {
                if new & !old & (1 << j.id) != 0 {
                    bm.set_bit(j.id);
                }
            }
            for j in &sys.cpus {
                if old & !new & (1 << j.id) != 0 {
                    bm.clear_bit(j.id);
                }
            }
            ev!(
                "__set_cpus_allowed_ptr",
                "{}->cpus_mask = {}",
                THREAD_NAMES[t],
                super::format::fmt_set(new)
            );
        }
        Op::UseMm => {
            {
                let mut g = sys.ghost.lock();
                if g.curr[i] != Curr::Kthread || g.kthread_mm[i] {
                    return;
                }
                g.kthread_mm[i] = true;
            }
            ev!("kthread_use_mm", "CPU{c}: tsk->mm = mm");
            switch_mm_irqs_off(sys, me, MM, Why::KthreadUseMm);
        }
        Op::UnuseMm => {
            {
                let mut g = sys.ghost.lock();
                if g.curr[i] != Curr::Kthread || !g.kthread_mm[i] {
                    return;
                }
                g.kthread_mm[i] = false;
            }
            ev!("kthread_unuse_mm", "CPU{c}: tsk->mm = NULL");
            enter_lazy_tlb(sys, me);
        }
        Op::Exit => {
            let (t, kmm) = {
                let mut g = sys.ghost.lock();
                let Curr::Thread(t) = g.curr[i] else { return };
                if t == 0 {
                    return;
                }
                g.alive[t] = false;
                g.curr[i] = Curr::Kthread;
                g.running &= !(1 << c);
                (t, g.kthread_mm[i])
            };
            ev!("exit_mm", "{}: current->mm = NULL", THREAD_NAMES[t]);
            enter_lazy_tlb(sys, me);
            // do_task_dead() -> __schedule() -> the CPU's kernel thread.
            if kmm {
                switch_mm_irqs_off(sys, me, MM, Why::KthreadUseMm);
            }
            // finish_task(prev): smp_store_release(&prev->on_cpu, 0)
            smp_store_release(&sys.threads[t].on_cpu, false);
        }
        Op::Munmap(late) => {
            if !matches!(sys.ghost.lock().curr[i], Curr::Thread(_)) {
                return;
            }
            if late {
                // the sleeping second: jiffies advance (a tick's WRITE_ONCE, unordered here)
                atomic_add(HZ + 1, &sys.jiffies);
            }
            // munmap() -> tlb_finish_mmu() -> flush_tlb_mm_range()
            flush_tlb_mm_range(sys, me);
        }
        Op::Read => unreachable!(),
    }
}

/// `__schedule()` on modelled CPU `i` to `next`.
fn schedule(sys: &System, i: usize, next: Next) {
    let me = &sys.cpus[i];
    let c = me.id;
    let want = match next {
        Next::Thread(t) => Curr::Thread(t),
        Next::Other => Curr::Other,
        Next::Kthread => Curr::Kthread,
    };
    let mut spin: Option<Spinner> = None;
    let (prev, kmm) = loop {
        let mut g = sys.ghost.lock();
        if g.curr[i] == want {
            return;
        }
        if let Next::Thread(t) = next {
            let ok = g.alive[t]
                && g.task_cpu[t] == i
                && !g.curr.contains(&want)
                && g.allowed[t] & (1 << c) != 0;
            if !ok {
                return;
            }
            // The previous CPU must have finished switching it out (finish_task()).
            // The waker's smp_cond_load_acquire(&p->on_cpu, !VAL), one acquire load per spin.
            if smp_load_acquire(&sys.threads[t].on_cpu) {
                drop(g);
                let s = spin.get_or_insert_with(|| Spinner::new("wait for next->on_cpu == 0"));
                if !s.relax() {
                    return;
                }
                continue;
            }
            // prepare_task(next): WRITE_ONCE(next->on_cpu, 1)
            write_once(&sys.threads[t].on_cpu, true);
        }
        let prev = g.curr[i];
        g.curr[i] = want;
        if let Curr::Thread(p) = prev {
            if g.allowed[p] & (1 << c) == 0 {
                // migration_cpu_stop() -> move_queued_task(): to the first allowed CPU.
                let to = sys
                    .cpus
                    .iter()
                    .position(|x| g.allowed[p] & (1 << x.id) != 0);
                g.task_cpu[p] = to.unwrap_or(i);
            }
        }
        let runs = matches!(want, Curr::Thread(_));
        if runs {
            g.running |= 1 << c;
            g.ran |= 1 << c;
        } else {
            g.running &= !(1 << c);
        }
        ev!(
            "__schedule",
            "rq->curr = {} on CPU{c}",
            match want {
                Curr::Thread(t) => THREAD_NAMES[t],
                Curr::Other => "other",
                Curr::Kthread => "kthread",
            }
        );
        break (prev, g.kthread_mm[i]);
    };
    // context_switch()
    match want {
        Curr::Thread(_) => switch_mm_irqs_off(sys, me, MM, Why::Arrival),
        Curr::Other => switch_mm_irqs_off(sys, me, MM_Q, Why::Arrival),
        Curr::Kthread if kmm => switch_mm_irqs_off(sys, me, MM, Why::KthreadUseMm),
        Curr::Kthread => enter_lazy_tlb(sys, me),
    }
    if let Curr::Thread(p) = prev {
        // finish_task(prev): smp_store_release(&prev->on_cpu, 0)
        smp_store_release(&sys.threads[p].on_cpu, false);
        ev!("finish_task", "{}->on_cpu = 0", THREAD_NAMES[p]);
    }
}
