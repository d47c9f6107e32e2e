//! Splitting loom's search into subtrees that workers (or CI machines) explore independently.
//!
//! loom walks a path of branch points depth-first: a `Schedule` (which thread runs), a `Load`
//! (which store a load reads) or a `Spurious` (whether a wait wakes spuriously). DPOR adds an
//! alternative to a branch point only once it meets a race that needs it, so the search cannot
//! be cut by counting iterations. Instead the first branch points are fixed: for every
//! alternative the preemption bound allows there, one subtree starts from that path prefix, its
//! entries marked as not exploring so loom never steps or backtracks into them.
//!
//! Soundness: below a fixed prefix loom searches exactly as it would in one run (backtracking
//! only ever touches the current path). At the fixed points every allowed alternative is
//! explored, where DPOR may have pruned some, so the union of the subtrees covers the whole
//! search, and possibly more executions. Counts are the exact sum over subtrees.

use serde_json::Value;

/// A path prefix, as a loom checkpoint, whose entries are all fixed.
pub(super) type Prefix = Value;

/// The alternatives of one branch point (none when it is not a choice), each with the
/// preemptions it adds.
fn alternatives(entry: &Value, bound: Option<u32>) -> Vec<(Value, u32)> {
    if let Some(s) = entry.get("Schedule") {
        let threads = s["threads"].as_array().cloned().unwrap_or_default();
        let preemptions = s["preemptions"].as_u64().unwrap_or(0);
        let initial = s["initial_active"].as_u64();
        // loom's order: the thread that was running first, then the others by index.
        let mut order: Vec<usize> = (0..threads.len()).collect();
        order.sort_by_key(|&i| (initial != Some(i as u64), i));
        return order
            .into_iter()
            .map(|i| (i, &threads[i]))
            .filter(|(_, t)| matches!(t.as_str(), Some("Skip" | "Pending" | "Active" | "Visited")))
            // Running another thread than the one that was running is a preemption.
            .map(|(i, _)| (i, u64::from(initial.is_some_and(|a| a != i as u64))))
            .filter(|&(_, extra)| bound.is_none_or(|b| preemptions + extra <= u64::from(b)))
            .map(|(i, extra)| {
                let mut fixed = s.clone();
                for (j, t) in fixed["threads"]
                    .as_array_mut()
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    if matches!(t.as_str(), Some("Skip" | "Pending" | "Active" | "Visited")) {
                        *t = Value::from(if i == j { "Active" } else { "Visited" });
                    }
                }
                fixed["exploring"] = Value::Bool(false);
                let used = (preemptions + extra) as u32;
                (serde_json::json!({ "Schedule": fixed }), used)
            })
            .collect();
    }
    if let Some(l) = entry.get("Load") {
        let len = l["len"].as_u64().unwrap_or(1);
        return (0..len)
            .map(|pos| {
                let mut fixed = l.clone();
                fixed["pos"] = Value::from(pos);
                fixed["exploring"] = Value::Bool(false);
                (serde_json::json!({ "Load": fixed }), 0)
            })
            .collect();
    }
    if let Some(sp) = entry.get("Spurious") {
        return [false, true]
            .into_iter()
            .map(|spur| {
                let mut fixed = sp.clone();
                fixed["spur"] = Value::Bool(spur);
                fixed["exploring"] = Value::Bool(false);
                (serde_json::json!({ "Spurious": fixed }), 0)
            })
            .collect();
    }
    vec![]
}

fn fix(entry: &mut Value) {
    for kind in ["Schedule", "Load", "Spurious"] {
        if let Some(e) = entry.get_mut(kind) {
            e["exploring"] = Value::Bool(false);
        }
    }
}

fn is_fixed(entry: &Value) -> bool {
    ["Schedule", "Load", "Spurious"].iter().any(|k| {
        entry
            .get(k)
            .is_some_and(|e| e["exploring"] == Value::Bool(false))
    })
}

/// Splits the subtree a probe walked at its first branch point with two or more alternatives
/// after the fixed prefix. `probe` is loom's path after one execution under the prefix (loom's
/// checkpoint at the top of the second iteration). Each child comes with the preemptions its
/// prefix has used (a `Schedule` point's count; Load and Spurious points report 0, and the
/// caller keeps the parent's). None when the probe shows no such point.
pub(super) fn split(probe: &Value, bound: Option<u32>) -> Option<Vec<(Prefix, u32)>> {
    let entries = probe["branches"]["entries"].as_array()?;
    let at = entries
        .iter()
        .position(|e| !is_fixed(e) && alternatives(e, bound).len() >= 2)?;
    let mut head: Vec<Value> = entries[..at].to_vec();
    head.iter_mut().for_each(fix);
    let children = alternatives(&entries[at], bound)
        .into_iter()
        .map(|(choice, used)| {
            let mut path = probe.clone();
            let mut branch = head.clone();
            branch.push(choice);
            path["branches"]["entries"] = Value::Array(branch);
            path["pos"] = Value::from(0);
            path["exploring"] = path["exploring_on_start"].clone();
            path["skipping"] = Value::Bool(false);
            (path, used)
        })
        .collect();
    Some(children)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(threads: &[&str], initial: Option<u64>, preemptions: u64) -> Value {
        serde_json::json!({ "Schedule": {
            "exploring": true, "initial_active": initial, "preemptions": preemptions,
            "prev": null, "threads": threads,
        }})
    }

    fn path(entries: Vec<Value>) -> Value {
        serde_json::json!({
            "branches": { "entries": entries }, "exploring": true, "exploring_on_start": true,
            "pos": 7, "preemption_bound": 2, "skipping": false,
        })
    }

    #[test]
    fn splits_at_the_first_choice_and_fixes_the_prefix() {
        let probe = path(vec![
            schedule(&["Active", "Disabled"], Some(0), 0),
            schedule(
                &["Skip", "Active", "Disabled", "Pending", "Yield"],
                Some(1),
                0,
            ),
            schedule(
                &["Disabled", "Active", "Skip", "Skip", "Disabled"],
                Some(1),
                0,
            ),
        ]);
        let children = split(&probe, Some(2)).unwrap();
        assert_eq!(
            children.len(),
            3,
            "threads 1, 0, 3; not the disabled or yielding ones"
        );
        let used: Vec<u32> = children.iter().map(|c| c.1).collect();
        assert_eq!(
            used,
            [0, 1, 1],
            "switching away from running thread 1 is a preemption"
        );
        // The running thread first, as loom explores it; then the others by index.
        for ((child, _), active) in children.iter().zip([1, 0, 3]) {
            let entries = child["branches"]["entries"].as_array().unwrap();
            assert_eq!(entries.len(), 2);
            assert!(entries.iter().all(is_fixed));
            let threads = &entries[1]["Schedule"]["threads"];
            assert_eq!(threads[active], "Active");
            assert_eq!(threads[4], "Yield");
            assert_eq!(child["pos"], 0);
        }
    }

    #[test]
    fn respects_the_preemption_bound() {
        // Switching away from thread 1 would be a third preemption.
        let probe = path(vec![schedule(&["Active", "Skip"], Some(0), 2)]);
        assert!(split(&probe, Some(2)).is_none());
        assert_eq!(split(&probe, None).unwrap().len(), 2);
        // No thread was running (it blocked): any choice is free.
        let probe = path(vec![schedule(&["Active", "Skip"], None, 2)]);
        assert_eq!(split(&probe, Some(2)).unwrap().len(), 2);
    }

    #[test]
    fn loads_and_later_points_split_past_a_fixed_prefix() {
        let mut fixed = schedule(&["Active", "Visited"], Some(0), 0);
        fix(&mut fixed);
        let load = serde_json::json!({ "Load": {
            "exploring": true, "len": 2, "pos": 1, "values": [0, 1, 0, 0, 0, 0, 0],
        }});
        let children = split(&path(vec![fixed, load]), Some(2)).unwrap();
        let pos: Vec<_> = children
            .iter()
            .map(|(c, _)| c["branches"]["entries"][1]["Load"]["pos"].clone())
            .collect();
        assert_eq!(pos, [0, 1]);
    }
}
