//! What every rendering reads off a trace: which actors to show and their labels (CPUs vs the
//! main thread and tasks), event numbers, and the harness's marks as short ASCII phrases placed
//! where a reader needs them (a load's reads-from right under the event that describes it).

use crate::rt::{Event, Mark, Ref, Store, Wait};
use crate::trace::Trace;

/// One row of a rendering, in execution order.
pub(super) enum Row<'a> {
    /// A labelled step (numbered from 1) or the violation.
    Step {
        actor: usize,
        num: usize,
        e: &'a Event,
    },
    /// A harness mark, with its phrase.
    Mark {
        actor: usize,
        mark: &'a Mark,
        text: String,
    },
}

impl Row<'_> {
    /// The actor the row belongs to.
    pub fn actor(&self) -> usize {
        match self {
            Row::Step { actor, .. } | Row::Mark { actor, .. } => *actor,
        }
    }
}

pub(super) struct Story<'a> {
    pub t: &'a Trace,
    /// Actors with anything to show, in actor order (their own column in the columns layout).
    pub shown: Vec<usize>,
    /// Actors whose only events are violations (the scenario's `main` checking after the
    /// joins): no column of their own; their verdict spans the width.
    pub verdict_only: Vec<usize>,
    /// Short label per actor (`CPU0`, `P1`, `main`), unique among the shown ones.
    pub labels: Vec<String>,
    /// Event number (1-based) of each step, by index in `t.events`.
    numbers: Vec<Option<usize>>,
    pub rows: Vec<Row<'a>>,
}

/// A CPU (or litmus processor) rather than the main thread or a task.
pub(super) fn is_cpu(name: &str) -> bool {
    let first = name.split_whitespace().next().unwrap_or("");
    first.starts_with("CPU")
        || (first.len() > 1
            && first.starts_with('P')
            && first[1..].bytes().all(|b| b.is_ascii_digit()))
}

/// The actor's name with what it is when it is not a CPU.
pub(super) fn title(t: &Trace, a: usize) -> String {
    let name = &t.actors[a];
    if a == 0 {
        format!("{name} (setup and checks, not a CPU)")
    } else if is_cpu(name) {
        name.clone()
    } else {
        format!("{name} (a task, not a CPU)")
    }
}

fn short_labels(t: &Trace, shown: &[usize]) -> Vec<String> {
    let words = |a: usize, n: usize| -> String {
        let w: Vec<&str> = t.actors[a].split_whitespace().take(n).collect();
        w.join(" ").trim_end_matches([':', ',']).to_string()
    };
    let mut labels: Vec<String> = t.actors.clone();
    for n in 1..=4 {
        let cand: Vec<String> = shown.iter().map(|&a| words(a, n)).collect();
        let unique = cand
            .iter()
            .enumerate()
            .all(|(i, c)| cand.iter().skip(i + 1).all(|d| d != c));
        if unique || n == 4 {
            for (&a, c) in shown.iter().zip(cand) {
                labels[a] = c.chars().take(16).collect();
            }
            break;
        }
    }
    labels
}

impl<'a> Story<'a> {
    pub fn new(t: &'a Trace) -> Story<'a> {
        let visible: Vec<usize> = (0..t.actors.len())
            .filter(|&a| t.events.iter().any(|e| e.actor == a && shows(e)))
            .collect();
        let only_verdicts = |a: usize| {
            t.events
                .iter()
                .filter(|e| e.actor == a)
                .all(|e| e.violation)
        };
        let (verdict_only, mut shown): (Vec<usize>, Vec<usize>) =
            visible.iter().partition(|&&a| only_verdicts(a));
        if shown.is_empty() {
            shown.clone_from(&verdict_only);
        }
        let verdict_only: Vec<usize> = verdict_only
            .into_iter()
            .filter(|a| !shown.contains(a))
            .collect();
        let labels = short_labels(t, &visible);
        let mut numbers = vec![None; t.events.len()];
        let mut n = 0;
        for (i, e) in t.events.iter().enumerate() {
            if e.mark.is_none() {
                n += 1;
                numbers[i] = Some(n);
            }
        }
        let mut s = Story {
            t,
            shown,
            verdict_only,
            labels,
            numbers,
            rows: vec![],
        };
        s.rows = s.build_rows();
        s
    }

    /// An actor's label; `?` for an index the trace does not have (a hand-edited trace).
    pub fn label(&self, a: usize) -> &str {
        self.labels.get(a).map_or("?", String::as_str)
    }

    /// The event number a reference points at: `r.actor`'s first step at or after `r.at`.
    pub fn resolve(&self, r: Ref) -> Option<usize> {
        let t = self.t;
        (r.at..t.events.len())
            .find(|&i| t.events[i].actor == r.actor && t.events[i].mark.is_none())
            .and_then(|i| self.numbers[i])
    }

    /// `CPU1 #12` (the actor and the event describing what it did there).
    pub fn at(&self, r: Ref) -> String {
        match self.resolve(r) {
            Some(n) => format!("{} #{n}", self.label(r.actor)),
            None => self.label(r.actor).to_string(),
        }
    }

    fn store(&self, s: &Option<Store>) -> String {
        match s {
            None => "the initial value".into(),
            Some(st) => match self.resolve(st.by) {
                Some(_) => self.at(st.by),
                None => format!("{} (value {})", self.label(st.by.actor), value(st.value)),
            },
        }
    }

    fn holders(&self, holders: &[usize]) -> String {
        let l: Vec<&str> = holders.iter().map(|&a| self.label(a)).collect();
        l.join(", ")
    }

    /// The mark in words (ASCII, short enough for one 40-column cell line or two).
    pub fn phrase(&self, m: &Mark) -> String {
        match m {
            Mark::Preempted => "~~ preempted (could run on)".into(),
            Mark::Blocked { on } => match on {
                Wait::Lock {
                    holder: Some(h),
                    taken,
                    name,
                } => {
                    let at = taken
                        .and_then(|r| self.resolve(r))
                        .map_or(String::new(), |n| format!(" since #{n}"));
                    let lock = name.as_deref().unwrap_or("a lock");
                    format!(".. blocks on {lock} held by {}{at}", self.label(*h))
                }
                Wait::Lock {
                    holder: None, name, ..
                } => format!(".. blocks on {}", name.as_deref().unwrap_or("a lock")),
                Wait::Queue { name } => format!(
                    ".. blocks: sleeps on {}",
                    name.as_deref().unwrap_or("a wait queue")
                ),
                Wait::RwSem { write, holders } => {
                    let how = if *write { "down_write" } else { "down_read" };
                    if holders.is_empty() {
                        format!(".. blocks: {how} waits behind a queued writer")
                    } else {
                        format!(".. blocks: {how}, rwsem held by {}", self.holders(holders))
                    }
                }
            },
            Mark::Spins { what } => format!(".. spins in {what} (cpu_relax)"),
            Mark::HandOver { from } => {
                format!("<< gets the lock {} released", self.label(from.actor))
            }
            Mark::Woken { by: Some(by) } => format!("<< woken by {}", self.at(*by)),
            Mark::Woken { by: None } => "<< woken".into(),
            Mark::ReadsFrom { from, missed } => match missed {
                None => format!("^ reads {}", self.store(from)),
                Some(m) => format!(
                    "^ reads {}, misses {}",
                    self.store(from),
                    self.store(&Some(*m))
                ),
            },
        }
    }

    /// Whether the trace shows a weak-memory read (a load that missed a newer store): its
    /// other cross-CPU reads are then shown too.
    fn weak(&self) -> bool {
        self.t.events.iter().any(|e| {
            matches!(
                &e.mark,
                Some(Mark::ReadsFrom {
                    missed: Some(_),
                    ..
                })
            )
        })
    }

    fn build_rows(&self) -> Vec<Row<'a>> {
        let t = self.t;
        let weak = self.weak();
        let mut rows = vec![];
        // Reads-from marks wait for their actor's next step (the event describing the load).
        let mut pending: Vec<Vec<Row<'a>>> = (0..t.actors.len()).map(|_| vec![]).collect();
        for (i, e) in t.events.iter().enumerate() {
            if e.actor >= t.actors.len() {
                continue;
            }
            match &e.mark {
                None => {
                    let num = self.numbers[i].expect("steps are numbered");
                    rows.push(Row::Step {
                        actor: e.actor,
                        num,
                        e,
                    });
                    rows.append(&mut pending[e.actor]);
                }
                Some(m @ Mark::ReadsFrom { missed, .. }) => {
                    let text = self.phrase(m);
                    let seen = pending[e.actor]
                        .iter()
                        .any(|r| matches!(r, Row::Mark { text: t, .. } if *t == text));
                    if (missed.is_some() || weak) && !seen {
                        pending[e.actor].push(Row::Mark {
                            actor: e.actor,
                            mark: m,
                            text,
                        });
                    }
                }
                Some(m) => rows.push(Row::Mark {
                    actor: e.actor,
                    mark: m,
                    text: self.phrase(m),
                }),
            }
        }
        rows
    }
}

/// Whether an event shows in renderings (reads-from marks only in weak-memory traces; a trace
/// whose only entries for an actor are such marks still shows the actor).
fn shows(e: &Event) -> bool {
    !matches!(&e.mark, Some(Mark::ReadsFrom { missed: None, .. }))
}

/// A stored value as a kernel developer writes it: decimal when small, hex otherwise.
fn value(v: u64) -> String {
    if v < 1 << 16 {
        v.to_string()
    } else {
        format!("{v:#x}")
    }
}
