//! Scene-language tests: validation, scripted scenes as members, small sweeps per swept variant.

#[test]
fn model_validates() {
    super::MODEL.validate().unwrap();
}

#[test]
#[ignore]
fn count_scenes() {
    use kmodel_harness::scene::Scenes;
    let s = super::MmCpumaskScenes;
    let mut b = <super::MmCpumaskScenes as Scenes>::EXHAUSTIVE;
    if let Ok(v) = std::env::var("B") {
        let v: Vec<u32> = v.split(',').map(|x| x.parse().unwrap()).collect();
        b = kmodel_harness::scene::SceneBounds { cpus: v[0], actors: v[1], ops: v[2], setup: v[3] };
    }
    println!("{} scenes within {b}", s.enumerate(&b).len());
}
