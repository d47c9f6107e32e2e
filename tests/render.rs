//! Snapshot tests of the rendered counterexamples: the timeline a reviewer pastes into a thread
//! and the Mermaid diagram must not change by accident.

use kmodel_harness::render;
use kmodel_harness::trace::Trace;

#[test]
fn committed_traces_render_stably() {
    insta::glob!("../traces", "**/*.loom.json", |path| {
        let t = Trace::load(path).expect("committed trace loads");
        let shown = format!("traces/{}", t.file_name());
        insta::assert_snapshot!("timeline", render::timeline(&t, Some(&shown)));
        insta::assert_snapshot!("mermaid", render::mermaid(&t));
    });
}
