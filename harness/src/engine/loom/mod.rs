//! The loom engine: exhaustive DPOR over loom's C11 memory model, optionally preemption-bounded.
//!
//! Replay tokens are loom's own checkpoint format (the execution path). Explorations count
//! iterations; a violation's path is captured afterwards by re-running loom up to that iteration
//! with a checkpoint written just before it, so the exploration itself pays nothing for replay.

use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Arc;

use loom::model::Builder;

mod split;

use super::{
    deadlock_or_error, panic_message, recorded_execution, spin_limit, Control, Coverage, Engine,
    EngineError, ReplayToken, Replayed, StopExploration,
};
use crate::file::write_atomic;
use crate::model::Scenario;
use crate::rt::{use_backend, Backend, PropertyId};

/// The loom version this build links (from the workspace's Cargo.lock, `build.rs`).
pub const LOOM_VERSION: &str = env!("KMODEL_LOOM_VERSION");

/// How many times a split search probes and splits a subtree (see `Loom::subtrees`): more
/// gives smaller subtrees but a larger superset of bounded DPOR's executions.
const SPLIT_PROBES: usize = 8;

/// loom's default of 1000 branches per execution is too small for kernel-sized scenarios.
const MAX_BRANCHES: usize = 20_000;

pub(super) struct Loom {
    pub preemption_bound: Option<u32>,
    /// Whether the harness ends stuck executions (`EngineKind::ends_stuck_executions`).
    pub ends_stuck: bool,
}

impl Loom {
    /// Whether a sharded search can be split into subtrees. With preemption bound 0 there is at
    /// most one choice at each point, so there is nothing to split.
    fn splits(&self) -> bool {
        self.preemption_bound != Some(0)
    }

    fn complete_coverage(&self) -> Coverage {
        match self.preemption_bound {
            Some(bound) => Coverage::ExhaustiveUpToBound { bound },
            None => Coverage::Exhaustive,
        }
    }

    /// Explores the executions under `prefix` (a loom path whose entries are all fixed), or the
    /// whole search when `prefix` is None. Execution indices count from 0 within the subtree.
    fn explore_subtree(
        &self,
        scenario: &Scenario,
        ctl: &Arc<Control>,
        subtree: u32,
        prefix: Option<Arc<serde_json::Value>>,
    ) -> Result<Coverage, EngineError> {
        let _b = use_backend(Backend::Loom);
        let mut builder = self.builder();
        let _file = match prefix.as_deref().filter(|p| !p.is_null()) {
            Some(path) => {
                let file = TempPath::new("subtree");
                write_atomic(&file.0, path.to_string().as_bytes())
                    .map_err(|e| EngineError::refused(e.to_string()))?;
                builder.checkpoint_file = Some(file.0.clone());
                Some(file)
            }
            None => None,
        };
        let (sc, c, ends_stuck) = (scenario.clone(), ctl.clone(), self.ends_stuck);
        let current = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let cur = current.clone();
        let pre = prefix.clone();
        let result = panic::catch_unwind(AssertUnwindSafe(|| {
            builder.check(move || {
                if !c.keep_going() {
                    panic::panic_any(StopExploration);
                }
                // loom calls this closure once per iteration, in its deterministic order.
                let index = cur.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let prefix = pre.clone();
                c.run_in(
                    subtree,
                    &sc,
                    index,
                    spin_limit(Backend::Loom),
                    ends_stuck,
                    || ReplayToken::LoomIteration { prefix, index },
                );
            })
        }));
        match result {
            Ok(()) => Ok(self.complete_coverage()),
            // Control decided why (budget, or every property violated).
            Err(p) if p.is::<StopExploration>() => Ok(Coverage::AllViolated),
            Err(p) => {
                let violation = deadlock_or_error(&panic_message(&*p))?;
                let index = current
                    .load(std::sync::atomic::Ordering::Relaxed)
                    .saturating_sub(1);
                ctl.count();
                let token = ReplayToken::LoomIteration { prefix, index };
                ctl.record_in(subtree, index, violation, token, None);
                Ok(Coverage::StoppedByDeadlock)
            }
        }
    }

    /// The subtrees a split search explores, in loom's order. Most executions sit below the
    /// prefixes that used the fewest preemptions (they have the most budget left), so the
    /// search repeatedly splits the subtree with the fewest preemptions used (the earliest on a
    /// tie) at its next branch point, for up to [`SPLIT_PROBES`] probes. The result does not
    /// depend on the number of shards, so neither do the counts.
    fn subtrees(&self, scenario: &Scenario) -> Result<Vec<Arc<split::Prefix>>, EngineError> {
        // (prefix, preemptions used, can still be split)
        let mut subtrees: Vec<(Option<split::Prefix>, u32, bool)> = vec![(None, 0, true)];
        for _ in 0..SPLIT_PROBES {
            let Some(i) = (0..subtrees.len())
                .filter(|&i| subtrees[i].2)
                .min_by_key(|&i| (subtrees[i].1, i))
            else {
                break;
            };
            let (prefix, used, _) = subtrees[i].clone();
            let children = self
                .probe(scenario, prefix.as_ref())?
                .and_then(|p| split::split(&p, self.preemption_bound));
            match children {
                Some(c) => {
                    let c = c.into_iter().map(|(p, u)| (Some(p), u.max(used), true));
                    subtrees.splice(i..=i, c);
                }
                None => subtrees[i].2 = false,
            }
        }
        let root = || Arc::new(serde_json::Value::Null);
        Ok(subtrees
            .into_iter()
            .map(|(p, _, _)| p.map_or_else(root, Arc::new))
            .collect())
    }

    /// Runs the first execution under `prefix` and returns loom's path after it (its checkpoint
    /// at the top of the second iteration), or None when that execution was the only one (or
    /// ended the search with a deadlock, which the exploration itself will report).
    fn probe(
        &self,
        scenario: &Scenario,
        prefix: Option<&split::Prefix>,
    ) -> Result<Option<split::Prefix>, EngineError> {
        let _b = use_backend(Backend::Loom);
        let file = TempPath::new("probe");
        let written = prefix.map(|p| p.to_string());
        if let Some(text) = &written {
            write_atomic(&file.0, text.as_bytes())
                .map_err(|e| EngineError::refused(e.to_string()))?;
        }
        let mut b = self.builder();
        b.checkpoint_file = Some(file.0.clone());
        b.checkpoint_interval = 2;
        b.max_permutations = Some(2);
        let (sc, ends_stuck) = (scenario.clone(), self.ends_stuck);
        let r = panic::catch_unwind(AssertUnwindSafe(|| {
            b.check(move || {
                let ctx = crate::rt::ExecCtx::new(false, spin_limit(Backend::Loom), ends_stuck);
                crate::rt::run_execution(ctx, || sc());
            })
        }));
        if r.is_err() {
            return Ok(None);
        }
        match std::fs::read_to_string(&file.0) {
            Ok(text) if Some(&text) != written.as_ref() => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| EngineError::refused(format!("loom checkpoint: {e}"))),
            _ => Ok(None),
        }
    }

    fn builder(&self) -> Builder {
        // Builder::new reads LOOM_* variables; every field that matters is set explicitly.
        let mut b = Builder::new();
        b.preemption_bound = self.preemption_bound.map(|k| k as usize);
        b.max_branches = MAX_BRANCHES;
        b.max_duration = None;
        b.max_permutations = None;
        b.checkpoint_file = None;
        b.checkpoint_interval = usize::MAX;
        b.log = false;
        b.location = false;
        b
    }
}

impl Engine for Loom {
    fn explore(&self, scenario: &Scenario, ctl: &Arc<Control>) -> Result<Coverage, EngineError> {
        let shard = ctl.opts.shard;
        if shard.count <= 1 || !self.splits() {
            // One search: it belongs to shard 0.
            if shard.index != 0 {
                return Ok(self.complete_coverage());
            }
            return self.explore_subtree(scenario, ctl, 0, None);
        }
        // Subtrees run one after another in loom's order: an earlier subtree's violation is
        // reported first, and the exploration stops once every property has one. (Threads
        // would not help: loom maps a fresh stack per thread per execution, and munmap's TLB
        // shootdowns serialize threads of one process. `Shard`s run in separate processes.)
        let mut coverage = self.complete_coverage();
        for (i, prefix) in self.subtrees(scenario)?.into_iter().enumerate() {
            if !shard.owns(i as u64) {
                continue;
            }
            match self.explore_subtree(scenario, ctl, i as u32, Some(prefix))? {
                Coverage::StoppedByDeadlock => coverage = Coverage::StoppedByDeadlock,
                c @ (Coverage::AllViolated | Coverage::TimeBudget { .. }) => return Ok(c),
                _ => {}
            }
        }
        Ok(coverage)
    }

    fn capture(
        &self,
        scenario: &Scenario,
        token: ReplayToken,
        _property: PropertyId,
    ) -> Result<ReplayToken, EngineError> {
        let ReplayToken::LoomIteration { prefix, index } = token else {
            return Ok(token);
        };
        let _b = use_backend(Backend::Loom);
        let file = TempPath::new("capture");
        if let Some(path) = prefix {
            write_atomic(&file.0, path.to_string().as_bytes())
                .map_err(|e| EngineError::refused(e.to_string()))?;
        }
        // loom writes the checkpoint at the top of iteration `i` (1-based) when
        // `i % interval == 0`, then stops because `i >= max_permutations`.
        let iteration = index as usize + 1;
        let mut b = self.builder();
        b.checkpoint_file = Some(file.0.clone());
        b.checkpoint_interval = iteration;
        b.max_permutations = Some(iteration);
        let (sc, ends_stuck) = (scenario.clone(), self.ends_stuck);
        let r = panic::catch_unwind(AssertUnwindSafe(|| {
            b.check(move || {
                let ctx = crate::rt::ExecCtx::new(false, spin_limit(Backend::Loom), ends_stuck);
                crate::rt::run_execution(ctx, || sc());
            })
        }));
        if let Err(p) = r {
            return Err(EngineError::refused(format!(
                "loom did not reach execution {iteration} again: {}",
                panic_message(&*p)
            )));
        }
        let text = std::fs::read_to_string(&file.0)
            .map_err(|e| EngineError::refused(format!("loom wrote no checkpoint: {e}")))?;
        let path = serde_json::from_str(&text)
            .map_err(|e| EngineError::refused(format!("loom checkpoint: {e}")))?;
        Ok(ReplayToken::Loom { path })
    }

    fn replay(&self, scenario: &Scenario, token: &ReplayToken) -> Result<Replayed, EngineError> {
        let ReplayToken::Loom { path } = token else {
            return Err(EngineError::refused("not a loom replay token"));
        };
        let file = TempPath::new("replay");
        write_atomic(&file.0, path.to_string().as_bytes())
            .map_err(|e| EngineError::refused(e.to_string()))?;
        let mut b = self.builder();
        b.checkpoint_file = Some(file.0.clone());
        // Run iteration 1 (the loaded path); stop at the top of iteration 2.
        b.checkpoint_interval = 2;
        b.max_permutations = Some(2);
        let out = recorded_execution(Backend::Loom, self.ends_stuck, scenario, |body| {
            b.check(body)
        })?;
        let schedule = out.schedule();
        Ok(Replayed {
            violations: out.violations,
            actors: out.actors,
            events: out.events,
            schedule,
        })
    }
}

/// A file in the temp directory, removed on drop.
struct TempPath(PathBuf);

impl TempPath {
    fn new(what: &str) -> Self {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        TempPath(std::env::temp_dir().join(format!(
            "kmodel-loom-{what}-{}-{n}.json",
            std::process::id()
        )))
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// loom's checkpoint format (`loom::rt::path`, loom 0.7.2 with the `checkpoint` feature),
/// mirrored to check a stored path before loom reads it: loom unwraps its own parse and indexes
/// without bounds checks, so a malformed path would panic inside loom.
mod checkpoint {
    use serde::Deserialize;

    /// `loom::MAX_THREADS`.
    pub const THREADS: usize = 5;
    /// loom's `MAX_ATOMIC_HISTORY`.
    pub const HISTORY: usize = 7;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Path {
        #[allow(dead_code)]
        pub preemption_bound: Option<u8>,
        pub pos: usize,
        pub branches: Store,
        #[allow(dead_code)]
        pub exploring: bool,
        #[allow(dead_code)]
        pub skipping: bool,
        #[allow(dead_code)]
        pub exploring_on_start: bool,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Store {
        pub entries: Vec<Entry>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    pub enum Entry {
        Schedule(Schedule),
        Load(Load),
        Spurious(Spurious),
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Schedule {
        #[allow(dead_code)]
        pub preemptions: u8,
        pub initial_active: Option<u8>,
        pub threads: [Thread; THREADS],
        pub prev: Option<Ref>,
        #[allow(dead_code)]
        pub exploring: bool,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Ref {
        pub index: usize,
        #[allow(dead_code)]
        pub _p: (),
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Load {
        #[allow(dead_code)]
        pub values: [u8; HISTORY],
        pub pos: u8,
        pub len: u8,
        #[allow(dead_code)]
        pub exploring: bool,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Spurious {
        #[allow(dead_code)]
        pub spur: bool,
        #[allow(dead_code)]
        pub exploring: bool,
    }

    #[derive(Deserialize, PartialEq, Eq, Clone, Copy)]
    pub enum Thread {
        Disabled,
        Skip,
        Yield,
        Pending,
        Active,
        Visited,
    }
}

/// Checks a stored loom path (the replay token of a loom trace) is one loom can load and
/// follow: the checkpoint schema with loom's array sizes, references to earlier schedule
/// entries, a chosen thread at every schedule point, load positions within their values.
pub(super) fn validate_path(path: &serde_json::Value) -> Result<(), String> {
    use checkpoint::{Entry, Path, Thread, HISTORY};
    let p: Path = serde_json::from_value(path.clone()).map_err(|e| format!("loom path: {e}"))?;
    let entries = &p.branches.entries;
    if entries.len() > MAX_BRANCHES {
        return Err(format!(
            "loom path of {} branch points (loom allows {MAX_BRANCHES})",
            entries.len()
        ));
    }
    if p.pos > entries.len() {
        return Err(format!("loom path position {} past its end", p.pos));
    }
    for (i, e) in entries.iter().enumerate() {
        let bad = |why: &str| Err(format!("loom path entry {i}: {why}"));
        match e {
            Entry::Schedule(s) => {
                if let Some(r) = &s.prev {
                    if r.index >= i || !matches!(entries[r.index], Entry::Schedule(_)) {
                        return bad("its previous schedule is not an earlier schedule entry");
                    }
                }
                if s.initial_active
                    .is_some_and(|a| usize::from(a) >= checkpoint::THREADS)
                {
                    return bad("initial thread out of range");
                }
                let active = s.threads.iter().filter(|t| **t == Thread::Active).count();
                let yielded = s.threads.contains(&Thread::Yield);
                if active > 1 || (active == 0 && !yielded) {
                    return bad("no single active thread");
                }
            }
            Entry::Load(l) => {
                if l.len == 0 || usize::from(l.len) > HISTORY || l.pos >= l.len {
                    return bad("load position outside its values");
                }
            }
            Entry::Spurious(_) => {}
        }
    }
    Ok(())
}

/// The threads a stored path names: one past the highest thread index that is not disabled at
/// some schedule point (loom indexes its threads from 0, `main`). loom follows a path naming a
/// thread the execution never spawned into a panic while unwinding (an abort), so replay checks
/// this against the actors first. None for a malformed path.
pub(super) fn path_threads(path: &serde_json::Value) -> Option<usize> {
    use checkpoint::{Entry, Path, Thread};
    let p: Path = serde_json::from_value(path.clone()).ok()?;
    let named = p.branches.entries.iter().filter_map(|e| match e {
        Entry::Schedule(s) => {
            let last = s.threads.iter().rposition(|t| *t != Thread::Disabled);
            let initial = s.initial_active.map(usize::from);
            last.max(initial).map(|i| i + 1)
        }
        _ => None,
    });
    Some(named.max().unwrap_or(0))
}

/// The preemptions loom counted in the execution a stored path describes (the count its
/// preemption bound limits): a switch away from the thread that was running at a schedule
/// point, as loom's `Schedule::preemptions()` computes it. None for a malformed path.
pub(super) fn path_preemptions(path: &serde_json::Value) -> Option<u32> {
    use checkpoint::{Entry, Path, Thread};
    let p: Path = serde_json::from_value(path.clone()).ok()?;
    let count = p
        .branches
        .entries
        .iter()
        .filter_map(|e| match e {
            Entry::Schedule(s) => {
                let active = s.threads.iter().position(|t| *t == Thread::Active);
                let switched = s
                    .initial_active
                    .is_some_and(|a| Some(usize::from(a)) != active);
                Some(u32::from(s.preemptions) + u32::from(switched))
            }
            _ => None,
        })
        .max()
        .unwrap_or(0);
    Some(count)
}
