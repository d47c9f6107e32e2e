//! ipi-mask's scene language: a system size, a sequential set-up, and a program per concurrent
//! task built from the operations the model ports; the IPI handlers of the target CPUs are
//! derived from the programs. The scripted scenes of the variants are members of it.
//!
//! Actors and CPUs: every task actor starts on its `cpu` (several tasks may share one CPU: the
//! scheduler switches between them whenever the running one is preemptible); the IPI handlers
//! of the CPUs some call may target are dealt to `handler_actors` actors (1 or 2), each
//! serving a contiguous range of those CPUs. Loom runs at most 4 actors: tasks + handler actors.

use std::collections::BTreeSet;
use std::fmt::Write;

use proptest::prelude::*;
use serde::{Deserialize, Serialize};

use super::smp::{pbl, NR_CPU_IDS};

/// Who a task actor is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A task created by fork: it has a task IPI mask, may be preempted and migrate.
    Task,
    /// `init_task`, CPU0's idle task: no `ipi_mask_ptr` (NULL) unless the mask is inlined.
    /// Generated scenes run it as the kernel does: bound to CPU0 with preemption disabled
    /// (idle), never migrating (`init_idle()`).
    InitTask,
    /// The bring-up of the `booting` CPU (not yet in `cpu_online_mask`): IRQs disabled, so
    /// not preemptible — the one place `lockdep_assert_irqs_enabled()` lets a caller in with
    /// IRQs off (nobody sends IPIs to a CPU that is not online).
    Booting,
}

/// The `mask` argument of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mask {
    /// A constant cpumask (bit c = CPU c).
    Cpus(u64),
    /// `mm_cpumask(mm)` of the scene's mm, which `switch-mm` operations change concurrently.
    Mm,
}

/// One `smp_call_function_many_cond()` call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Call {
    pub mask: Mask,
    /// SCF_WAIT.
    pub wait: bool,
    /// SCF_RUN_LOCAL.
    pub local: bool,
    /// The CPUs cond_func accepts (None: no cond_func).
    pub cond: Option<u64>,
    /// The caller holds preempt_disable() across the call (the wait is not preemptible).
    pub preempt_off: bool,
    /// Once its wait is preemptible, the scheduler migrates the caller to this CPU.
    pub migrate: Option<usize>,
}

/// One operation of a task's program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Op {
    Call(Call),
    /// The scheduler moves the (preemptible) task to this CPU.
    Migrate(usize),
    /// `switch_mm()` on the task's CPU: set (true) or clear its bit of `mm_cpumask(mm)`.
    SwitchMm(bool),
}

/// One step of the sequential set-up: a task on `cpu` performs `op` before the race (a call
/// there is a no-wait call: its csds stay queued until the handlers run).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Step {
    pub cpu: usize,
    pub op: Op,
}

/// One concurrent task.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Actor {
    pub cpu: usize,
    pub kind: Kind,
    pub ops: Vec<Op>,
    /// Column title in timelines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// A scene: `nr_cpu_ids` CPUs, all online but `booting`; the set-up runs in order; then the
/// tasks race with the IPI handlers; once every task returned the handlers flush their CPUs a
/// last time and the "once quiet" properties are checked.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Scene {
    pub nr_cpu_ids: u32,
    /// CONFIG_NR_CPUS: 64 (cpumask_size() = 8: the task mask is inlined in the pointer word)
    /// or 128 (16 bytes: kmalloc'd `ipi_mask_ptr`, NULL for `init_task`).
    pub nr_cpus: u32,
    /// A CPU being brought up (not online, IRQs off); never CPU0.
    pub booting: Option<usize>,
    /// `mm_cpumask(mm)` at the start.
    pub mm: u64,
    pub setup: Vec<Step>,
    pub tasks: Vec<Actor>,
    /// Actors the IPI handlers are dealt to (1 or 2; 0 when no call can target another CPU).
    pub handler_actors: u32,
}

pub const MAX_CPUS: u32 = NR_CPU_IDS as u32;
const NR_CPUS_CHOICES: [u32; 2] = [64, 128];

fn all(n: u32) -> u64 {
    (1u64 << n) - 1
}

impl Call {
    pub fn new(mask: Mask, wait: bool) -> Call {
        Call {
            mask,
            wait,
            local: false,
            cond: None,
            preempt_off: false,
            migrate: None,
        }
    }

    fn describe(&self) -> String {
        let mask = match self.mask {
            Mask::Cpus(m) => pbl(m),
            Mask::Mm => "mm_cpumask".into(),
        };
        let mut s = format!(
            "call({mask}, {}",
            if self.wait { "wait" } else { "no wait" }
        );
        if self.local {
            s += ", RUN_LOCAL";
        }
        if let Some(c) = self.cond {
            let _ = write!(s, ", cond {}", pbl(c));
        }
        if self.preempt_off {
            s += ", preempt off";
        }
        if let Some(m) = self.migrate {
            let _ = write!(s, ", migrated to CPU{m} while waiting");
        }
        s + ")"
    }
}

impl Op {
    fn describe(&self) -> String {
        match self {
            Op::Call(c) => c.describe(),
            Op::Migrate(c) => format!("migrate to CPU{c}"),
            Op::SwitchMm(true) => "switch_mm in (set bit)".into(),
            Op::SwitchMm(false) => "switch_mm out (clear bit)".into(),
        }
    }
}

impl Actor {
    /// The CPUs this task may be on during the scene (its start CPU and migration targets).
    pub fn cpus(&self) -> u64 {
        self.ops.iter().fold(1 << self.cpu, |m, op| match op {
            Op::Migrate(c) => m | 1 << c,
            Op::Call(Call {
                migrate: Some(c), ..
            }) => m | 1 << c,
            _ => m,
        })
    }

    pub fn name(&self, i: usize) -> String {
        self.label.clone().unwrap_or_else(|| match self.kind {
            Kind::Task => format!("CPU{} T{i}", self.cpu),
            Kind::InitTask => "CPU0 init_task".into(),
            Kind::Booting => format!("CPU{} bring-up (offline)", self.cpu),
        })
    }
}

impl Scene {
    pub fn online(&self) -> u64 {
        all(self.nr_cpu_ids) & !self.booting.map_or(0, |b| 1 << b)
    }

    /// (bits of mm_cpumask some race operation may set, bits it may clear).
    fn mm_changes(&self) -> (u64, u64) {
        let (mut set, mut clear) = (0, 0);
        for a in &self.tasks {
            for op in &a.ops {
                match op {
                    Op::SwitchMm(true) => set |= a.cpus(),
                    Op::SwitchMm(false) => clear |= a.cpus(),
                    _ => {}
                }
            }
        }
        (set, clear)
    }

    /// (CPUs in every value of mm_cpumask during the scene, CPUs in some value).
    pub fn mm_bounds(&self) -> (u64, u64) {
        let (mut must, mut may, mut v) = (self.mm, self.mm, self.mm);
        for st in &self.setup {
            if let Op::SwitchMm(on) = st.op {
                v = if on {
                    v | 1 << st.cpu
                } else {
                    v & !(1 << st.cpu)
                };
                must &= v;
                may |= v;
            }
        }
        let (set, clear) = self.mm_changes();
        (must & !clear, may | set)
    }

    /// Every call of the scene in call-id order: set-up calls, then each task's.
    pub fn calls(&self) -> Vec<(String, Call)> {
        let mut v: Vec<(String, Call)> = self
            .setup
            .iter()
            .filter_map(|s| match s.op {
                Op::Call(c) => Some((format!("set-up CPU{}", s.cpu), c)),
                _ => None,
            })
            .collect();
        for (i, a) in self.tasks.iter().enumerate() {
            for op in &a.ops {
                if let Op::Call(c) = op {
                    v.push((a.name(i), *c));
                }
            }
        }
        v
    }

    /// The CPUs some call may send an IPI to: its mask's possible CPUs that are online and
    /// accepted by cond, except the caller's CPU when the caller never leaves it.
    pub fn ipi_targets(&self) -> u64 {
        let (_, mm_may) = self.mm_bounds();
        let reach = |c: &Call, from: u64| {
            let m = match c.mask {
                Mask::Cpus(m) => m,
                Mask::Mm => mm_may,
            };
            let own = if from.count_ones() == 1 { from } else { 0 };
            m & self.online() & c.cond.unwrap_or(u64::MAX) & !own
        };
        let setup = self.setup.iter().fold(0, |h, s| match s.op {
            Op::Call(c) => h | reach(&c, 1 << s.cpu),
            _ => h,
        });
        self.tasks.iter().fold(setup, |h, a| {
            a.ops.iter().fold(h, |h, op| match op {
                Op::Call(c) => h | reach(c, a.cpus()),
                _ => h,
            })
        })
    }

    /// The CPUs each handler actor serves.
    pub fn handler_groups(&self) -> Vec<Vec<usize>> {
        let h: Vec<usize> = (0..NR_CPU_IDS)
            .filter(|c| self.ipi_targets() & (1 << c) != 0)
            .collect();
        if h.is_empty() || self.handler_actors == 0 {
            return vec![];
        }
        let k = (self.handler_actors as usize).min(h.len());
        h.chunks(h.len().div_ceil(k))
            .map(<[usize]>::to_vec)
            .collect()
    }

    /// Renumbers a generated scene into a valid one (see `IpiScenes::validate`):
    /// CPUs modulo the system, the booting CPU's task is its bring-up, one `init_task` on
    /// CPU0 (pinned, never migrating), set-up calls without wait (one per CPU), at most
    /// `max_ops` race operations and `max_actors` actors.
    pub fn normalize(mut self, max_ops: usize, max_actors: usize) -> Scene {
        let n = self.nr_cpu_ids.clamp(1, MAX_CPUS);
        self.nr_cpu_ids = n;
        if !NR_CPUS_CHOICES.contains(&self.nr_cpus) {
            self.nr_cpus = NR_CPUS_CHOICES[0];
        }
        self.booting = self.booting.filter(|&b| b > 0 && b < n as usize);
        let online = self.online();
        self.mm &= all(n);
        let fix_cpu = |c: usize| {
            let c = c % n as usize;
            if online & (1 << c) != 0 {
                c
            } else {
                0
            }
        };
        let mut setup_callers = BTreeSet::new();
        self.setup.retain_mut(|s| {
            s.cpu = fix_cpu(s.cpu);
            match &mut s.op {
                Op::Call(c) => {
                    fix_call(c, n);
                    c.wait = false;
                    c.migrate = None;
                    c.preempt_off = false;
                    setup_callers.insert(s.cpu)
                }
                Op::Migrate(_) => false,
                Op::SwitchMm(_) => true,
            }
        });
        let (mut have_init, mut have_boot) = (false, false);
        let mut left = max_ops;
        for a in &mut self.tasks {
            a.cpu %= n as usize;
            a.label = None;
            a.kind = if Some(a.cpu) == self.booting && !have_boot {
                have_boot = true;
                Kind::Booting
            } else if a.kind == Kind::InitTask && a.cpu == 0 && !have_init {
                have_init = true;
                Kind::InitTask
            } else {
                a.cpu = fix_cpu(a.cpu);
                Kind::Task
            };
            let kind = a.kind;
            a.ops.truncate(left);
            a.ops.retain_mut(|op| match op {
                Op::Call(c) => {
                    fix_call(c, n);
                    c.migrate = c.migrate.map(fix_cpu).filter(|_| c.wait);
                    match kind {
                        Kind::Task => {}
                        Kind::InitTask => {
                            c.preempt_off = true;
                            c.migrate = None;
                        }
                        Kind::Booting => c.migrate = None,
                    }
                    true
                }
                Op::Migrate(c) => {
                    *c = fix_cpu(*c);
                    kind == Kind::Task
                }
                Op::SwitchMm(_) => true,
            });
            left -= a.ops.len();
        }
        self.tasks.retain(|a| !a.ops.is_empty());
        if self.tasks.is_empty() {
            // Every operation was dropped: one task on CPU0 calls everybody and waits.
            self.tasks.push(Actor {
                cpu: 0,
                kind: Kind::Task,
                ops: vec![Op::Call(Call::new(Mask::Cpus(all(n)), true))],
                label: None,
            });
        }
        self.handler_actors = self.handler_actors.clamp(1, 2);
        loop {
            let h = self.handler_groups().len();
            if self.tasks.len() + h <= max_actors || self.tasks.len() == 1 {
                break;
            }
            if h > 1 {
                self.handler_actors = 1;
            } else {
                self.tasks.pop();
            }
        }
        if self.handler_groups().is_empty() {
            self.handler_actors = 0;
        }
        self
    }
}

/// A call's CPUs within the system: an empty constant mask becomes every CPU.
fn fix_call(c: &mut Call, n: u32) {
    if let Mask::Cpus(m) = &mut c.mask {
        *m &= all(n);
        if *m == 0 {
            *m = all(n);
        }
    }
    c.cond = c.cond.map(|m| m & all(n));
}

/// A scene's script, one line per set-up step and per task.
pub fn script(s: &Scene) -> String {
    let groups: Vec<String> = s
        .handler_groups()
        .iter()
        .map(|g| {
            let c: Vec<String> = g.iter().map(|c| format!("CPU{c}")).collect();
            c.join("+")
        })
        .collect();
    let mut out = format!(
        "{} CPUs (NR_CPUS={}: task mask {}){}, mm_cpumask {}, IPI handler actors: {}\n",
        s.nr_cpu_ids,
        s.nr_cpus,
        if s.nr_cpus <= 64 {
            "inline"
        } else {
            "kmalloc'd"
        },
        s.booting
            .map_or(String::new(), |b| format!(", CPU{b} booting (offline)")),
        pbl(s.mm),
        if groups.is_empty() {
            "none".into()
        } else {
            groups.join(", ")
        }
    );
    for st in &s.setup {
        let _ = writeln!(out, "set-up  CPU{}: {}", st.cpu, st.op.describe());
    }
    for (i, a) in s.tasks.iter().enumerate() {
        let ops: Vec<String> = a.ops.iter().map(Op::describe).collect();
        let _ = writeln!(out, "race    {}: {}", a.name(i), ops.join("; "));
    }
    out
}

/// The generator's operations (CPUs and masks are fitted to the system by `normalize`).
fn any_call() -> impl Strategy<Value = Call> {
    let m = MAX_CPUS as usize;
    (
        prop_oneof![4 => (1u64..16).prop_map(Mask::Cpus), 1 => Just(Mask::Mm)],
        prop::bool::weighted(0.7),
        prop::bool::weighted(0.25),
        prop::option::weighted(0.25, 0u64..16),
        prop::bool::weighted(0.2),
        prop::option::weighted(0.3, 0..m),
    )
        .prop_map(|(mask, wait, local, cond, preempt_off, migrate)| Call {
            mask,
            wait,
            local,
            cond,
            preempt_off,
            migrate,
        })
}

fn any_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => any_call().prop_map(Op::Call),
        1 => (0..MAX_CPUS as usize).prop_map(Op::Migrate),
        1 => any::<bool>().prop_map(Op::SwitchMm),
    ]
}

fn any_kind() -> impl Strategy<Value = Kind> {
    prop_oneof![6 => Just(Kind::Task), 1 => Just(Kind::InitTask)]
}

/// Random scenes within the bounds.
pub fn strategy(cpus: u32, actors: u32, ops: u32, setup: u32) -> BoxedStrategy<Scene> {
    let cpus = cpus.clamp(1, MAX_CPUS);
    let (max_ops, max_actors) = (ops as usize, actors as usize);
    let task = (
        0..cpus as usize,
        any_kind(),
        prop::collection::vec(any_op(), 1..=max_ops.max(1)),
    )
        .prop_map(|(cpu, kind, ops)| Actor {
            cpu,
            kind,
            ops,
            label: None,
        });
    (
        1..=cpus,
        prop::sample::select(NR_CPUS_CHOICES.to_vec()),
        prop::option::weighted(0.15, 1..MAX_CPUS as usize),
        0u64..16,
        prop::collection::vec((0..cpus as usize, any_op()), 0..=setup as usize),
        prop::collection::vec(task, 1..=max_actors.saturating_sub(1).max(1)),
        1u32..=2,
    )
        .prop_map(
            move |(n, nr_cpus, booting, mm, setup, tasks, handler_actors)| {
                Scene {
                    nr_cpu_ids: n,
                    nr_cpus,
                    booting,
                    mm,
                    setup: setup
                        .into_iter()
                        .map(|(cpu, op)| Step { cpu, op })
                        .collect(),
                    tasks,
                    handler_actors,
                }
                .normalize(max_ops, max_actors)
            },
        )
        .boxed()
}
