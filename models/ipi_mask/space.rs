//! The scene language as the harness sees it: bounds, enumeration, validation.

use std::collections::BTreeSet;

use kmodel_harness::prelude::*;
use kmodel_harness::scene::{programs, sequences};
use proptest::prelude::*;

use super::design::{design_of, Which};
use super::scene::{self, Actor, Call, Kind, Mask, Op, Scene, Step, MAX_CPUS};

/// Every task operation of the exhaustive alphabet on `n` CPUs: calls with the mask {all
/// CPUs}, {all but CPU0} or {CPU1}, each as a waiting call, a no-wait call, a waiting call
/// with SCF_RUN_LOCAL, with a cond_func rejecting the last CPU, and migrated to the last CPU
/// while it waits; plus, with `mm`, calls on mm_cpumask and switch_mm in / out.
pub fn alphabet(n: u32, mm: bool) -> Vec<Op> {
    let all = (1u64 << n) - 1;
    let last = n as usize - 1;
    let mut masks: Vec<Mask> = [all, all & !1, 0b10 & all]
        .into_iter()
        .filter(|&m| m != 0)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(Mask::Cpus)
        .collect();
    if mm {
        masks.push(Mask::Mm);
    }
    let mut ops = vec![];
    for mask in masks {
        let wait = Call::new(mask, true);
        ops.push(Op::Call(wait));
        ops.push(Op::Call(Call::new(mask, false)));
        ops.push(Op::Call(Call {
            local: true,
            ..wait
        }));
        if n >= 2 {
            ops.push(Op::Call(Call {
                cond: Some(all & !(1 << last)),
                ..wait
            }));
            ops.push(Op::Call(Call {
                migrate: Some(last),
                ..wait
            }));
        }
    }
    if mm {
        ops.extend([Op::SwitchMm(true), Op::SwitchMm(false)]);
    }
    ops
}

/// ipi-mask's scene space.
pub struct IpiScenes;

impl Scenes for IpiScenes {
    type Scene = Scene;
    type Design = Which;

    const EXHAUSTIVE: SceneBounds = SceneBounds {
        cpus: 2,
        actors: 3,
        ops: 2,
        setup: 0,
    };
    const RANDOM: SceneBounds = SceneBounds {
        cpus: 4,
        actors: 4,
        ops: 4,
        setup: 2,
    };

    fn strategy(&self, b: &SceneBounds) -> BoxedStrategy<Scene> {
        scene::strategy(b.cpus, b.actors, b.ops, b.setup)
    }

    /// Every scene of [`alphabet`] (mm_cpumask operations from 3 operations on) within `b`:
    /// NR_CPUS=64, no CPU booting, mm_cpumask = CPU0, one handler actor, the first task on
    /// CPU0 and each further task on CPU0 or CPU1; set-up steps are no-wait calls to every
    /// CPU from CPU0.
    fn enumerate(&self, b: &SceneBounds) -> Vec<Scene> {
        let mut out = vec![];
        let mut seen = BTreeSet::new();
        let (max_ops, max_actors) = (b.ops as usize, b.actors as usize);
        for n in 1..=b.cpus.clamp(1, MAX_CPUS) {
            let abc = alphabet(n, b.ops >= 3);
            let all = (1u64 << n) - 1;
            let setups = sequences(
                &[Op::Call(Call::new(Mask::Cpus(all), false))],
                (b.setup as usize).min(1),
            );
            for tasks in 1..max_actors {
                let placements = sequences(&[0usize, 1.min(n as usize - 1)], tasks - 1);
                for progs in programs(&abc, tasks, max_ops) {
                    for place in placements.iter().filter(|p| p.len() == tasks - 1) {
                        for setup in &setups {
                            let s = Scene {
                                nr_cpu_ids: n,
                                nr_cpus: 64,
                                booting: None,
                                mm: 1,
                                setup: setup.iter().map(|&op| Step { cpu: 0, op }).collect(),
                                tasks: progs
                                    .iter()
                                    .enumerate()
                                    .map(|(i, ops)| Actor {
                                        cpu: if i == 0 { 0 } else { place[i - 1] },
                                        kind: Kind::Task,
                                        ops: ops.clone(),
                                        label: None,
                                    })
                                    .collect(),
                                handler_actors: 1,
                            };
                            let norm = s.clone().normalize(max_ops, max_actors);
                            if norm == s && seen.insert(norm.clone()) {
                                out.push(norm);
                            }
                        }
                    }
                }
            }
        }
        out
    }

    fn validate(&self, s: &Scene) -> Result<(), String> {
        validate(s)
    }

    fn size(&self, s: &Scene) -> SceneSize {
        SceneSize {
            cpus: s.nr_cpu_ids,
            actors: (s.tasks.len() + s.handler_groups().len()) as u32,
            ops: s.tasks.iter().map(|a| a.ops.len() as u32).sum(),
            setup: s.setup.len() as u32,
        }
    }

    fn scenario(&self, which: &Which, scene: &Scene) -> Scenario {
        let design = design_of(*which);
        let scene = scene.clone();
        Arc::new(move || super::run::run(&scene, design))
    }

    fn script(&self, s: &Scene) -> String {
        scene::script(s)
    }
}

/// The kernel's preconditions and the language's well-formedness, one line per refusal.
pub fn validate(s: &Scene) -> Result<(), String> {
    let n = s.nr_cpu_ids;
    if !(1..=MAX_CPUS).contains(&n) {
        return Err(format!("nr_cpu_ids {n} outside 1..={MAX_CPUS}"));
    }
    if ![64, 128].contains(&s.nr_cpus) {
        return Err(format!("NR_CPUS {} is not 64 or 128", s.nr_cpus));
    }
    let all = (1u64 << n) - 1;
    if let Some(b) = s.booting {
        if b == 0 || b >= n as usize {
            return Err(format!("booting CPU{b}: not a secondary CPU of {n}"));
        }
    }
    let online = s.online();
    let is_online = |c: usize| c < NR_CPU_IDS_USIZE && online & (1 << c) != 0;
    if s.mm & !all != 0 {
        return Err(format!("mm_cpumask {:#x} beyond nr_cpu_ids {n}", s.mm));
    }
    let check_call = |c: &Call| -> Result<(), String> {
        if let Mask::Cpus(m) = c.mask {
            if m == 0 || m & !all != 0 {
                return Err(format!("call mask {m:#x} empty or beyond nr_cpu_ids {n}"));
            }
        }
        if c.cond.is_some_and(|m| m & !all != 0) {
            return Err("cond_func accepts CPUs beyond nr_cpu_ids".into());
        }
        match c.migrate {
            Some(_) if !c.wait => Err("only a waiting caller migrates while it waits".into()),
            Some(m) if !is_online(m) => Err(format!("migration to CPU{m}, not online")),
            _ => Ok(()),
        }
    };
    let mut setup_callers = BTreeSet::new();
    for st in &s.setup {
        if !is_online(st.cpu) {
            return Err(format!("set-up on CPU{}, not online", st.cpu));
        }
        match &st.op {
            Op::Call(c) => {
                check_call(c)?;
                if c.wait || c.migrate.is_some() {
                    return Err("a set-up call cannot wait: no IPI handler runs yet".into());
                }
                if !setup_callers.insert(st.cpu) {
                    return Err(format!(
                        "two set-up calls from CPU{}: the second would wait for the first's csd \
                         before any IPI handler runs",
                        st.cpu
                    ));
                }
            }
            Op::Migrate(_) => return Err("no migration in the set-up".into()),
            Op::SwitchMm(_) => {}
        }
    }
    if s.tasks.is_empty() {
        return Err("no task races".into());
    }
    let (mut inits, mut boots) = (0, 0);
    for a in &s.tasks {
        match a.kind {
            Kind::Task if !is_online(a.cpu) => {
                return Err(format!("a task on CPU{}, which is not online", a.cpu))
            }
            Kind::InitTask if a.cpu != 0 => return Err("init_task runs on CPU0".into()),
            Kind::Booting if Some(a.cpu) != s.booting => {
                return Err(format!("a bring-up task on CPU{}, not booting", a.cpu))
            }
            Kind::InitTask => inits += 1,
            Kind::Booting => boots += 1,
            Kind::Task => {}
        }
        if inits > 1 || boots > 1 {
            return Err("more than one init_task or bring-up task".into());
        }
        for op in &a.ops {
            match op {
                Op::Call(c) => {
                    check_call(c)?;
                    if a.kind == Kind::Booting && c.migrate.is_some() {
                        return Err("the bring-up task runs with IRQs off: no migration".into());
                    }
                    if a.kind == Kind::InitTask && (c.migrate.is_some() || !c.preempt_off) {
                        return Err(
                            "init_task (the idle task) is bound to CPU0 with preemption disabled"
                                .into(),
                        );
                    }
                }
                Op::Migrate(c) if a.kind != Kind::Task || !is_online(*c) => {
                    return Err(format!("{:?} cannot migrate to CPU{c}", a.kind))
                }
                _ => {}
            }
        }
    }
    let targets = s.ipi_targets() != 0;
    if targets != (s.handler_actors > 0) || s.handler_actors > 2 {
        return Err(format!(
            "{} handler actors for {} IPI targets",
            s.handler_actors,
            if targets { "some" } else { "no" }
        ));
    }
    if s.tasks.len() + s.handler_groups().len() > 6 {
        return Err("more than 6 actors".into());
    }
    Ok(())
}

const NR_CPU_IDS_USIZE: usize = MAX_CPUS as usize;

fn task(cpu: usize, label: &str, ops: Vec<Op>) -> Actor {
    Actor {
        cpu,
        kind: Kind::Task,
        ops,
        label: Some(label.into()),
    }
}

/// The scripted scene of a variant, a member of the scene space: 4 CPUs; task A on CPU0
/// waits for {1,2} (migrated to CPU3 while its wait is preemptible, in the series variants);
/// task B on CPU0 makes `b_calls` waiting SCF_RUN_LOCAL calls to {0,1}; one actor runs the
/// IPI handlers of CPU1 and CPU2.
pub fn scripted(which: Which, b_calls: usize) -> Scene {
    let a_call = Call {
        migrate: Some(3),
        ..Call::new(Mask::Cpus(0b0110), true)
    };
    let b_call = Call {
        local: true,
        ..Call::new(Mask::Cpus(0b0011), true)
    };
    let (mut a, mut b) = (a_call, b_call);
    let mut nr_cpus = 128;
    match which {
        Which::PinnedWait => {
            nr_cpus = 64;
            a.migrate = None;
        }
        Which::PreemptiblePercpuMask | Which::TaskLocalInline => nr_cpus = 64,
        Which::TaskLocalCondBitsKept => {
            a.cond = Some(0b0010);
            b.mask = Mask::Cpus(0b0101);
        }
        Which::AblationCsdUnlockRelaxed => b.mask = Mask::Cpus(0b0101),
        Which::AblationPutCpuOnlyIfRemote => b.cond = Some(0),
        Which::AblationWaitIrqsDisabled => {
            // Callers on CPU0 and CPU1 call each other; one actor handles both CPUs' IPIs.
            return Scene {
                nr_cpu_ids: 4,
                nr_cpus: 64,
                booting: None,
                mm: 1,
                setup: vec![],
                tasks: vec![
                    task(
                        0,
                        "CPU0 task A (waiter)",
                        vec![Op::Call(Call::new(Mask::Cpus(0b0010), true))],
                    ),
                    task(
                        1,
                        "CPU1 task B",
                        vec![
                            Op::Call(Call {
                                mask: Mask::Cpus(0b0001),
                                ..b_call
                            });
                            b_calls
                        ],
                    ),
                ],
                handler_actors: 1,
            };
        }
        _ => {}
    }
    if which == Which::TaskLocalFallback {
        // init_task (NULL ipi_mask_ptr) is CPU0's idle task: init_idle() binds it to CPU0
        // (PF_NO_SETAFFINITY, kthread_set_per_cpu()) and it runs with preemption disabled
        // (init_idle_preempt_count()), so its wait is never preemptible and never migrates.
        a.migrate = None;
        a.preempt_off = true;
    }
    let mut ta = task(0, "CPU0 task A (waiter)", vec![Op::Call(a)]);
    if which == Which::TaskLocalFallback {
        ta.kind = Kind::InitTask;
    }
    Scene {
        nr_cpu_ids: 4,
        nr_cpus,
        booting: None,
        mm: 1,
        setup: vec![],
        tasks: vec![
            ta,
            task(0, "CPU0 task B (same CPU)", vec![Op::Call(b); b_calls]),
        ],
        handler_actors: 1,
    }
}
