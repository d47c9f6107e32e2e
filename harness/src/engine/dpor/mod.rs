//! The `dpor` engine: every interleaving of a scene up to equivalence, under sequential
//! consistency, with no preemption bound. It runs the model on kmodel's native runtime
//! (`crate::native`), which knows what every step touches, and explores one execution per
//! Mazurkiewicz class (up to the executions sleep sets cut short) with source-DPOR.
//!
//! Why a native runtime rather than shuttle's `Scheduler` seam: a DPOR search must know each
//! step's footprint, including ghost state and the wait a blocked actor makes, and must treat a
//! spin loop's idle iteration as a wait; shuttle schedules at its own points, which do not map
//! one-to-one onto the harness's operations, and reports none of that. The native runtime is
//! also much cheaper per step (a coroutine switch, no vector clocks of its own).
//!
//! - `search.rs`: source sets and sleep sets; `clock.rs`: happens-before of one execution;
//! - `split.rs`: subtrees for worker threads and shards; `shorten.rs`: counterexamples with the
//!   fewest context switches.

mod clock;
mod search;
mod shorten;
mod split;
#[cfg(test)]
mod tests;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};

use self::clock::Order;
use self::search::{Root, Search, Stats};
use super::{panic_message, Control, Coverage, Engine, EngineError, ReplayToken, Replayed, Shard};
use crate::model::Scenario;
use crate::native::{self, Chooser, Ended, Failure, Run};
use crate::rt::{self, use_backend, Backend, ExecCtx, Outcome, PropertyId, SpinLimit};

pub(super) struct Dpor;

/// What an execution left: how it ended, its record, and the execution context's outcome.
struct Executed {
    ended: Result<Ended, Failure>,
    run: Run,
    outcome: Outcome,
}

/// A fresh execution context (spin loops wait instead of counting, so no spin limit applies).
fn context(recording: bool) -> Arc<ExecCtx> {
    // The native runtime finds stuck executions itself (`EngineKind::ends_stuck_executions`).
    ExecCtx::new(recording, SpinLimit::Spins(u32::MAX), false)
}

/// Runs one execution of `scenario` on the native runtime under `chooser`.
fn execute(scenario: &Scenario, chooser: &mut dyn Chooser, recording: bool) -> Executed {
    execute_in(context(recording), scenario, chooser)
}

fn execute_in(ctx: Arc<ExecCtx>, scenario: &Scenario, chooser: &mut dyn Chooser) -> Executed {
    let slot: Rc<RefCell<Option<Outcome>>> = Rc::default();
    let (sc, cx, out) = (scenario.clone(), ctx.clone(), slot.clone());
    let main: Box<dyn FnOnce()> = Box::new(move || {
        let o = rt::run_execution(cx, || sc());
        *out.borrow_mut() = Some(o);
    });
    let (ended, run) = native::run(chooser, main);
    rt::install(None);
    let outcome = slot.take().unwrap_or_else(|| ctx.take_outcome());
    Executed {
        ended,
        run,
        outcome,
    }
}

fn failure(f: Failure) -> EngineError {
    match f {
        Failure::Panic(p) => EngineError::ModelPanic(panic_message(&*p)),
        Failure::TooLong => EngineError::Refused(format!(
            "an execution ran past {} steps: a spin loop that writes on every iteration never \
             waits (the dpor engine needs each Spinner iteration that changes nothing to \
             change nothing)",
            native::MAX_STEPS
        )),
    }
}

/// The actors of a run's steps: its replay token.
fn steps(run: &Run) -> Vec<u32> {
    run.steps.iter().map(|s| u32::from(s.actor)).collect()
}

impl Dpor {
    /// Explores one subtree to its end (or until `ctl` says stop).
    fn explore_subtree(
        &self,
        scenario: &Scenario,
        ctl: &Control,
        subtree: u32,
        root: Root,
    ) -> Result<Stats, EngineError> {
        let mut search = Search::new(root);
        let diagnose = std::env::var_os("KMODEL_DPOR_STATS").is_some();
        if diagnose {
            search.by_object = Some(Default::default());
            native::record_origins(true);
        }
        let mut index = 0u64;
        let mut recorded = std::collections::HashSet::new();
        loop {
            if !ctl.keep_going() {
                break;
            }
            let x = execute(scenario, &mut search, ctl.opts.states.is_some());
            let ended = x.ended.map_err(failure)?;
            if let Some(why) = search.nondeterministic.take() {
                return Err(EngineError::Refused(format!(
                    "the model is not deterministic ({why}): the dpor engine replays prefixes \
                     and needs the same steps every time"
                )));
            }
            if ended != Ended::Abandoned {
                search.stats.executions += 1;
                ctl.note_state(&x.outcome);
                ctl.count();
            }
            // Within a subtree, the first violation of a property is the one that counts.
            let new: Vec<_> = x
                .outcome
                .violations
                .into_iter()
                .filter(|v| !recorded.contains(&v.property))
                .collect();
            if !new.is_empty() {
                let token = ReplayToken::Native {
                    steps: steps(&x.run),
                };
                for v in new {
                    recorded.insert(v.property);
                    ctl.record_in(subtree, index, v, token.clone(), None);
                }
            }
            index += 1;
            if !search.next(&x.run) {
                break;
            }
        }
        if let Some(m) = search.by_object.take() {
            let names: std::collections::HashMap<_, _> = native::origins().into_iter().collect();
            let mut v: Vec<_> = m.into_iter().collect();
            v.sort_by_key(|&(o, n)| (std::cmp::Reverse(n), o));
            eprintln!("dpor subtree {subtree}: {:?}", search.stats);
            for (o, n) in v.into_iter().take(12) {
                let at = names.get(&o).map_or("?".to_string(), |l| l.to_string());
                eprintln!("  {n:>8} alternatives from races on {o:?} created at {at}");
            }
        }
        Ok(search.stats)
    }
}

impl Engine for Dpor {
    fn explore(&self, scenario: &Scenario, ctl: &Arc<Control>) -> Result<Coverage, EngineError> {
        let _b = use_backend(Backend::Native);
        // One worker exploring the whole search gains nothing from subtrees, and splitting
        // costs probe executions (about a hundred, each torn down by unwinding) before the
        // first real one: the whole search is then one subtree, explored on this thread.
        if ctl.opts.jobs <= 1 && ctl.opts.shard == Shard::ALL {
            let st = self.explore_subtree(scenario, ctl, 0, Root::default())?;
            return Ok(Coverage::UpToEquivalence {
                sleep_blocked: st.sleep_blocked,
            });
        }
        let mut first_error = None;
        let roots = split::subtrees(|ch| {
            let x = execute(scenario, ch, false);
            if let Err(f) = x.ended {
                first_error.get_or_insert(failure(f));
            }
            x.run
        });
        if let Some(e) = first_error {
            return Err(e);
        }
        let mine: Vec<(u32, Root)> = roots
            .into_iter()
            .enumerate()
            .filter(|(i, _)| ctl.opts.shard.owns(*i as u64))
            .map(|(i, r)| (i as u32, r))
            .collect();
        let next = AtomicUsize::new(0);
        let totals = Mutex::new(Stats::default());
        let jobs = ctl.opts.jobs.clamp(1, mine.len().max(1));
        let results: Vec<Result<(), EngineError>> = crossbeam::thread::scope(|s| {
            let workers: Vec<_> = (0..jobs)
                .map(|_| {
                    s.spawn(|_| -> Result<(), EngineError> {
                        let _b = use_backend(Backend::Native);
                        loop {
                            let i = next.fetch_add(1, Relaxed);
                            let Some((subtree, root)) = mine.get(i) else {
                                return Ok(());
                            };
                            let st = self.explore_subtree(scenario, ctl, *subtree, root.clone())?;
                            let mut t = totals.lock().unwrap_or_else(PoisonError::into_inner);
                            t.sleep_blocked += st.sleep_blocked;
                            t.races += st.races;
                            t.backtracks += st.backtracks;
                        }
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|p| Err(EngineError::Refused(panic_message(&*p))))
                })
                .collect()
        })
        .map_err(|_| EngineError::Refused("a dpor worker panicked".into()))?;
        results.into_iter().collect::<Result<Vec<()>, _>>()?;
        let t = totals.into_inner().unwrap_or_else(PoisonError::into_inner);
        Ok(Coverage::UpToEquivalence {
            sleep_blocked: t.sleep_blocked,
        })
    }

    fn capture(
        &self,
        scenario: &Scenario,
        token: ReplayToken,
        property: PropertyId,
    ) -> Result<ReplayToken, EngineError> {
        let ReplayToken::Native { steps: path } = &token else {
            return Ok(token);
        };
        let _b = use_backend(Backend::Native);
        let ctx = context(false);
        let mut watch = Watch::new(Replay::new(path), ctx.clone());
        let x = execute_in(ctx, scenario, &mut watch);
        x.ended.map_err(failure)?;
        watch.note(&x.run);
        let Some(at) = watch.step_of(property) else {
            return Ok(token);
        };
        let order = Order::of(&x.run);
        let stuck = property == rt::NO_DEADLOCK || property == rt::NO_LIVELOCK;
        let short: Vec<u32> = shorten::fewest_switches(&x.run, &order, at, stuck)
            .into_iter()
            .map(u32::from)
            .collect();
        // Keep the shorter order only if it reaches the same violation.
        let mut check = Replay::new(&short);
        let y = execute(scenario, &mut check, false);
        let same = y.ended.is_ok()
            && check.diverged.is_none()
            && y.outcome.violations.iter().any(|v| v.property == property);
        Ok(if same {
            ReplayToken::Native { steps: short }
        } else {
            token
        })
    }

    fn replay(&self, scenario: &Scenario, token: &ReplayToken) -> Result<Replayed, EngineError> {
        let ReplayToken::Native { steps: path } = token else {
            return Err(EngineError::Refused("not a native replay token".into()));
        };
        let _b = use_backend(Backend::Native);
        let mut replay = Replay::new(path);
        let x = execute(scenario, &mut replay, true);
        x.ended.map_err(failure)?;
        if let Some(d) = replay.diverged {
            return Err(EngineError::Refused(format!(
                "the schedule no longer fits the model ({d})"
            )));
        }
        let schedule = x.outcome.schedule();
        Ok(Replayed {
            violations: x.outcome.violations,
            actors: x.outcome.actors,
            events: x.outcome.events,
            schedule,
        })
    }
}

/// Every interleaving of `scenario`'s steps on the native runtime, with no reduction (at most
/// `cap` executions): the final states they reach (see [`Options::states`]), or `None` past the
/// cap. The reference the dpor search is tested against (same runtime, no dependency relation).
#[doc(hidden)]
pub fn every_interleaving(
    scenario: &Scenario,
    cap: u64,
) -> Option<std::collections::BTreeSet<String>> {
    let _b = use_backend(Backend::Native);
    let mut every = Every::default();
    let mut states = std::collections::BTreeSet::new();
    for _ in 0..cap {
        let x = execute(scenario, &mut every, true);
        x.ended.ok()?;
        states.insert(x.outcome.fingerprint());
        if !every.next() {
            return Some(states);
        }
    }
    None
}

/// Every interleaving, depth first, without reduction.
#[derive(Default)]
pub(super) struct Every {
    path: Vec<(u64, u8)>,
}

impl Chooser for Every {
    fn choose(&mut self, enabled: u64, run: &Run) -> Option<usize> {
        let k = run.steps.len();
        if k < self.path.len() {
            return Some(self.path[k].1 as usize);
        }
        let p = enabled.trailing_zeros() as u8;
        self.path.push((enabled, p));
        Some(p as usize)
    }
}

impl Every {
    /// Moves to the next interleaving; false when there is none.
    pub(super) fn next(&mut self) -> bool {
        while let Some((enabled, p)) = self.path.pop() {
            let higher = enabled & !((2u64 << p) - 1);
            if higher != 0 {
                self.path.push((enabled, higher.trailing_zeros() as u8));
                return true;
            }
        }
        false
    }
}

/// Follows recorded steps; past them, the lowest enabled actor.
struct Replay<'a> {
    steps: &'a [u32],
    diverged: Option<String>,
}

impl<'a> Replay<'a> {
    fn new(steps: &'a [u32]) -> Self {
        Replay {
            steps,
            diverged: None,
        }
    }
}

impl Chooser for Replay<'_> {
    fn choose(&mut self, enabled: u64, run: &Run) -> Option<usize> {
        let k = run.steps.len();
        match self.steps.get(k) {
            Some(&p) if p < 64 && enabled & 1 << p != 0 => Some(p as usize),
            Some(&p) => {
                self.diverged = Some(format!("step {k}: actor {p} cannot run"));
                None
            }
            None => Some(enabled.trailing_zeros() as usize),
        }
    }
}

/// Notes, for each property violated, the step that violated it (or the last step, for one
/// the runtime found after it: a deadlock, a live lock).
struct Watch<C> {
    inner: C,
    ctx: Arc<ExecCtx>,
    at: Vec<(PropertyId, usize)>,
}

impl<C: Chooser> Watch<C> {
    fn new(inner: C, ctx: Arc<ExecCtx>) -> Self {
        Watch {
            inner,
            ctx,
            at: vec![],
        }
    }

    fn note(&mut self, run: &Run) {
        let now = self.ctx.violated();
        let step = run.steps.len().saturating_sub(1);
        for p in now.into_iter().skip(self.at.len()) {
            self.at.push((p, step));
        }
    }

    fn step_of(&self, property: PropertyId) -> Option<usize> {
        self.at
            .iter()
            .find(|&&(p, _)| p == property)
            .map(|&(_, s)| s)
    }
}

impl<C: Chooser> Chooser for Watch<C> {
    fn choose(&mut self, enabled: u64, run: &Run) -> Option<usize> {
        self.note(run);
        self.inner.choose(enabled, run)
    }
}

/// Checks a trace's native steps before a replay runs them: bounded length, every actor within
/// the runtime's.
pub(crate) fn validate_steps(steps: &[u32], max: usize) -> Result<(), String> {
    if steps.len() > max {
        return Err(format!("{} steps (at most {max})", steps.len()));
    }
    match steps
        .iter()
        .find(|&&a| a as usize >= crate::native::MAX_ACTORS)
    {
        Some(a) => Err(format!(
            "actor {a} in the steps (the native runtime runs at most {})",
            crate::native::MAX_ACTORS
        )),
        None => Ok(()),
    }
}
