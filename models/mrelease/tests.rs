//! Unit tests: kernel helpers, the scene language, and small sweeps of every swept variant.

use super::kernel::*;
use super::*;
use proptest::prelude::*;

#[test]
fn model_declaration_is_valid() {
    MODEL.validate().unwrap();
    for v in MODEL.variants {
        let _ = v.design::<Design>();
    }
}

proptest! {
    #[test]
    fn no_reap_is_success_only_when_work_done(skip in any::<bool>()) {
        prop_assert_eq!(no_reap_ret(skip) == 0, skip);
        prop_assert!(no_reap_ret(skip) == 0 || no_reap_ret(skip) == -EINVAL);
    }

    #[test]
    fn will_free_mem_needs_dying_and_no_oom_skip(g in any::<bool>(), x in any::<bool>(), s in any::<bool>()) {
        prop_assert_eq!(will_free_mem(g, x, s), (g || x) && !s);
    }

    #[test]
    fn errno_names_are_kernel_spelling(e in 0i32..200) {
        let n = errno_name(-e);
        prop_assert!(n == "0" || n.starts_with('-'));
    }
}

#[test]
fn esrch_is_spelled() {
    assert_eq!(errno_name(-ESRCH), "-ESRCH");
    assert_eq!(errno_name(0), "0");
}
