//! Scene-language tests: validation, scripted scenes as members, small sweeps per swept variant.

#[test]
fn model_validates() {
    super::MODEL.validate().unwrap();
}
