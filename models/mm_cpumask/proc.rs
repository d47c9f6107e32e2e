//! The reader: `proc_pid_status()` with the patch's two lines (as posted or from one
//! `cpumask_copy()` snapshot), and the claims a user makes from what it printed.

use kmodel_harness::prelude::*;

use super::design::Reader;
use super::format::{
    bitmap_list_string, bitmap_string, fmt_set, parse_hex, parse_list, set_to_u128, BitmapSrc,
};
use super::properties::{
    LINES_AGREE, LINE_IS_A_SNAPSHOT, PRINTED_BIT_FRESH, RUNNING_MEANS_SET, SET_MEANS_RUNNING,
    SUBSET_OF_CPUS_ALLOWED, TRACKS_MIGRATIONS,
};
use super::tlb::{check_now, System};

/// What the reader printed and when (ghost history indices).
pub struct Status {
    allowed: String,
    hex: String,
    list: String,
    /// `hist.len()` when the read began / each line began / each line ended.
    read_start: usize,
    hex_span: (usize, usize),
    list_span: (usize, usize),
}

/// `proc_pid_status()` → `task_cpus_allowed()` + the patch's `task_cpus_active_mm()`.
pub fn proc_pid_status(sys: &System, reader: Reader) -> Status {
    let n = sys.nr_cpu_ids;
    let read_start = sys.hist_len();
    let allowed = bitmap_string(&sys.threads[0].cpus_mask, n, |_, _| {});
    ev!("task_cpus_allowed", "Cpus_allowed:\t{allowed}");
    let copy: Vec<u64>;
    let src: &dyn BitmapSrc = match reader {
        Reader::AsPosted => &sys.cpumask,
        Reader::Snapshot => {
            // cpumask_copy(&tmp, mm_cpumask(mm)): one load per word
            copy = (0..sys.cpumask.nwords())
                .map(|i| sys.cpumask.read_word(i))
                .collect();
            ev!("cpumask_copy", "tmp = mm_cpumask(mm) = {copy:x?}");
            &copy
        }
    };
    let s = sys.hist_len();
    let hex = bitmap_string(src, n, |bit, val| {
        ev!("bitmap_string", "chunk at bit {bit}: {val:x}");
    });
    let e = sys.hist_len();
    ev!("task_cpus_active_mm", "Cpus_active_mm:\t{hex}");
    let hex_span = (s, e);
    let s = sys.hist_len();
    let list = bitmap_list_string(src, n, |b, t| {
        ev!("bitmap_list_string", "run [{b}, {t})");
    });
    let e = sys.hist_len();
    ev!("task_cpus_active_mm", "Cpus_active_mm_list:\t{list}");
    Status {
        allowed,
        hex,
        list,
        read_start,
        hex_span,
        list_span: (s, e),
    }
}

/// The claims a user makes from one read of the status file.
pub fn check_lines(sys: &System, st: &Status, check_subset: bool) {
    let n = sys.nr_cpu_ids;
    let hist = sys.ghost.lock().hist.clone();
    let hex = set_to_u128(&parse_hex(&st.hex, n).expect("model error: unparsable %*pb"));
    let list = set_to_u128(&parse_list(&st.list, n).expect("model error: unparsable %*pbl"));
    let allowed = set_to_u128(&parse_hex(&st.allowed, n).expect("model error: unparsable"));
    let states = |from: usize, to: usize| &hist[from.saturating_sub(1)..to.max(1)];
    let lines = [
        ("Cpus_active_mm", st.hex.as_str(), hex, st.hex_span),
        ("Cpus_active_mm_list", st.list.as_str(), list, st.list_span),
    ];
    for (name, text, set, (s, e)) in lines {
        // A line that is no snapshot at all is reported before a merely stale one.
        let since_open = states(st.read_start, e);
        if !check(LINE_IS_A_SNAPSHOT, since_open.contains(&set), || {
            format!(
                "\"{name}: {text}\" = {} is a set the mask never held: since the file was \
                 opened it went {}",
                fmt_set(set),
                since_open
                    .iter()
                    .map(|&m| fmt_set(m))
                    .collect::<Vec<_>>()
                    .join(" -> ")
            )
        }) {
            return;
        }
        let during = states(s, e);
        for cpu in 0..n {
            let printed = set & (1 << cpu) != 0;
            let ok = during.iter().any(|m| (m & (1 << cpu) != 0) == printed);
            if !check(PRINTED_BIT_FRESH, ok, || {
                format!(
                    "\"{name}: {text}\" shows CPU{cpu} as {}, but while the line was printed the \
                     mask only took the values {}",
                    if printed { "set" } else { "clear" },
                    during
                        .iter()
                        .map(|&m| fmt_set(m))
                        .collect::<Vec<_>>()
                        .join(" -> ")
                )
            }) {
                return;
            }
        }
    }
    if !check(LINES_AGREE, hex == list, || {
        format!(
            "Cpus_active_mm \"{}\" = {} but Cpus_active_mm_list \"{}\" = {}",
            st.hex,
            fmt_set(hex),
            st.list,
            fmt_set(list)
        )
    }) || !check_subset
    {
        return;
    }
    check(SUBSET_OF_CPUS_ALLOWED, hex & !allowed == 0, || {
        format!(
            "Cpus_active_mm {} is not a subset of Cpus_allowed {} (\"{}\")",
            fmt_set(hex),
            fmt_set(allowed),
            st.allowed
        )
    });
}

/// Once quiet (all actors joined): the claims about the mask at rest. `first` picks which claim
/// is checked first (the harness keeps one violation per execution; see `quiet_first`).
pub fn check_quiet(sys: &System, first: u32) {
    let g = sys.ghost.lock();
    let mask = g.hist.last().copied().unwrap_or(0);
    let running = g.running;
    let departed = g.ran & !g.running;
    let unexplained = g.unexplained_change.clone();
    drop(g);
    let tracks = || {
        if let Some(msg) = &unexplained {
            return check(TRACKS_MIGRATIONS, false, || msg.clone());
        }
        check(TRACKS_MIGRATIONS, mask == running, || {
            format!(
                "once quiet: the process runs on {} and left {}, but Cpus_active_mm shows {}",
                fmt_set(running),
                fmt_set(departed),
                fmt_set(mask)
            )
        })
    };
    let lines = || {
        let st = proc_pid_status(sys, Reader::AsPosted);
        check_lines(sys, &st, true);
        !execution_spent()
    };
    match first {
        1 => {
            check(SET_MEANS_RUNNING, mask & !running == 0, || {
                format!(
                    "once quiet: mm_cpumask {} but the process runs only on {}",
                    fmt_set(mask),
                    fmt_set(running)
                )
            });
        }
        2 => {
            check(RUNNING_MEANS_SET, running & !mask == 0, || {
                format!(
                    "once quiet: the process runs on {} but mm_cpumask is {}",
                    fmt_set(running),
                    fmt_set(mask)
                )
            });
        }
        3 => {
            lines();
        }
        _ => {}
    }
    let _ = tracks() && lines();
    check_now(sys, "once quiet");
}
