//! Writing counterexample traces for `check` and `explore`: never over a different file without
//! `--force`, atomically, and what was written, kept or refused as lines to print.

use std::path::Path;

use kmodel_harness::file::write_atomic;
use kmodel_harness::trace::Trace;
use kmodel_harness::Model;

/// What writing the traces printed: the traces (or a count), files kept, and failures.
pub(crate) struct Written {
    pub listed: Vec<String>,
    pub kept: Vec<String>,
    pub failed: Vec<String>,
}

/// Writes every counterexample under `out`, never overwriting a different file without --force.
/// Lists each trace with its explain and replay commands when there are few, otherwise a count
/// per outcome; files it refused to overwrite and writes that failed are always reported.
pub(crate) fn write_traces<'a>(
    registry: &[&'static dyn Model],
    traces: impl IntoIterator<Item = &'a Trace>,
    out: &Path,
    force: bool,
) -> Written {
    const LIST_AT_MOST: usize = 12;
    let mut listed = vec![];
    let (mut kept, mut failed) = (vec![], vec![]);
    let (mut written, mut unchanged) = (0, 0);
    for t in traces {
        let declared = registry
            .iter()
            .find(|m| m.name() == t.model)
            .map_or(&[][..], |m| m.params());
        let path = t.path_in(out, declared);
        let json = t.to_json();
        let write = match Existing::read(&path) {
            Existing::Bytes(old) if old == json.as_bytes() => false,
            Existing::Bytes(_) if force => true,
            Existing::Bytes(old) => {
                let shown = path.display().to_string();
                match Trace::parse(&shown, &String::from_utf8_lossy(&old)) {
                    Ok(_) => kept.push(format!(
                        "trace {shown}: kept the existing file (it differs; --force overwrites)"
                    )),
                    // A file that does not parse is never kept silently: the run fails.
                    Err(e) => failed.push(format!(
                        "{e}: the existing file is corrupt; --force overwrites it"
                    )),
                }
                continue;
            }
            Existing::Unreadable(e) => {
                failed.push(format!("trace {}: cannot read it: {e}", path.display()));
                continue;
            }
            Existing::None => true,
        };
        if write {
            let saved = std::fs::create_dir_all(path.parent().expect("has parent"))
                .and_then(|_| write_atomic(&path, json.as_bytes()));
            if let Err(e) = saved {
                failed.push(format!("trace {}: cannot write: {e}", path.display()));
                continue;
            }
            written += 1;
        } else {
            unchanged += 1;
        }
        // One path per line: a log or a mail keeps it whole (a trace's name says its property).
        listed.push(if t.replay.replayable() {
            format!("  {}", path.display())
        } else {
            format!("  {} (explain only: not replayable)", path.display())
        });
    }
    let listed = if listed.is_empty() {
        listed
    } else if listed.len() <= LIST_AT_MOST {
        let p = crate::cmd::program();
        let head = format!("counterexample traces ({p} explain FILE; {p} replay FILE):");
        std::iter::once(head).chain(listed).collect()
    } else {
        vec![
            format!(
                "{} counterexample traces under {} ({written} written, {unchanged} unchanged):",
                written + unchanged,
                out.display(),
            ),
            format!(
                "  {p} explain FILE; {p} replay FILE",
                p = crate::cmd::program()
            ),
        ]
    };
    Written {
        listed,
        kept,
        failed,
    }
}

/// What is at a path kmodel is about to write.
enum Existing {
    None,
    Bytes(Vec<u8>),
    Unreadable(std::io::Error),
}

impl Existing {
    fn read(path: &Path) -> Existing {
        match std::fs::read(path) {
            Ok(b) => Existing::Bytes(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Existing::None,
            Err(e) => Existing::Unreadable(e),
        }
    }
}
