//! Snapshot tests of the rendered counterexamples: the timeline a reviewer pastes into a thread
//! and the Mermaid diagram must not change by accident. One pair of snapshots per committed loom
//! trace, named after its path (model, variant and property).

use std::path::{Path, PathBuf};

use kmodel_harness::render;
use kmodel_harness::trace::Trace;

fn loom_traces(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            loom_traces(&p, out);
        } else if p.to_string_lossy().ends_with(".loom.json") {
            out.push(p);
        }
    }
}

#[test]
fn committed_traces_render_stably() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("traces");
    let mut files = vec![];
    loom_traces(&root, &mut files);
    files.sort();
    for path in files {
        let t = Trace::load(&path).expect("committed trace loads");
        let shown = t.path_in(Path::new("traces"), &[]).display().to_string();
        let name = t
            .path_in(Path::new(""), &[])
            .display()
            .to_string()
            .trim_end_matches(".loom.json")
            .replace('/', "__");
        insta::assert_snapshot!(
            format!("{name}__timeline"),
            render::timeline(&t, Some(&shown))
        );
        insta::assert_snapshot!(format!("{name}__mermaid"), render::mermaid(&t));
    }
}
