//! The comparison of `tests/dpor.rs` catches a wrong dependency relation: with one conflict
//! dropped (atomic loads conflict with no store), some scripted scene's final states differ
//! from every interleaving's. Its own test binary, as the mutation is process-wide.

#[allow(dead_code)]
mod soundness;

#[test]
fn a_dropped_conflict_is_caught() {
    kmodel_harness::native::drop_load_store_conflict(true);
    let caught = soundness::scripted()
        .into_iter()
        .find(|(_, sc)| matches!(soundness::search_agrees(sc), Some(Err(_))));
    kmodel_harness::native::drop_load_store_conflict(false);
    let (name, _) = caught.expect("no scripted scene noticed loads that conflict with nothing");
    eprintln!("caught by {name}");
}
