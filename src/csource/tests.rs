//! Tests of the C definition extractor: definitions, lookups, fingerprints, patch lines, and
//! arbitrary input never panicking.

use super::*;

const SRC: &str = r#"// SPDX
#include <linux/sched.h>
#define MM_CID_UNSET (~0U) /* unset */
#define twice(x) \
	((x) * 2)

struct mm_cid_pcpu {
	unsigned int cid;	/* { not a brace */
};

static const char *names[] = { "a{", "}" };

/* foo() { is in a comment */
static __always_inline void mm_cid_schedout(struct task_struct *t)
{
	if (t->mm_cid.active) {
		char c = '}';
		pr_info("}\n");
	}
}

#ifdef CONFIG_SCHED_MM_CID
static void mm_cid_fixup(struct mm_struct *mm) __must_hold(&mm->lock)
{
	mm->cid = 1;
}
#else
static inline void mm_cid_fixup(struct mm_struct *mm) { }
#endif

SYSCALL_DEFINE2(process_mrelease, int, pidfd, unsigned int, flags)
{
	return 0;
}

struct task_struct *find_lock_task_mm(struct task_struct *p)
{
	return p;
}
EXPORT_SYMBOL(find_lock_task_mm);
"#;

#[test]
fn finds_definitions() {
    let defs = definitions(SRC.as_bytes());
    let names: Vec<_> = defs
        .iter()
        .map(|d| (d.name.as_str(), d.kind, d.line))
        .collect();
    assert_eq!(
        names,
        [
            ("MM_CID_UNSET", Kind::Macro, 3),
            ("twice", Kind::Macro, 4),
            ("mm_cid_pcpu", Kind::Struct, 7),
            ("mm_cid_schedout", Kind::Function, 14),
            ("mm_cid_fixup", Kind::Function, 23),
            ("mm_cid_fixup", Kind::Function, 28),
            ("process_mrelease", Kind::Function, 31),
            ("find_lock_task_mm", Kind::Function, 36),
        ]
    );
    let f = extract(SRC.as_bytes(), "mm_cid_fixup").unwrap();
    assert!(
        f.starts_with("static void mm_cid_fixup(") && f.ends_with("{ }"),
        "{f}"
    );
    assert!(extract(SRC.as_bytes(), "struct mm_cid_pcpu")
        .unwrap()
        .ends_with("};"));
    assert!(extract(SRC.as_bytes(), "names").is_none());
    let body = extract(SRC.as_bytes(), "mm_cid_schedout").unwrap();
    assert!(body.contains("pr_info(\"}\\n\")") && !body.contains("comment"));
}

#[test]
fn enumerators_and_trailing_annotations() {
    let src = "enum {\n\tCSD_FLAG_LOCK\t\t= 0x01,\n\n\tIRQ_WORK_CLAIMED\t= (IRQ_WORK_PENDING | IRQ_WORK_BUSY),\n\tCSD_FLAG_TYPE_MASK\t= 0xF0, /* last */\n};\n\nenum mode { MODE_A, MODE_B = f(1, 2) };\n\nvoid raw_spin_rq_lock_nested(struct rq *rq, int subclass)\n\t__context_unsafe()\n{\n\tlock(rq);\n}\n";
    let defs = definitions(src.as_bytes());
    let names: Vec<_> = defs.iter().map(|d| (d.name.as_str(), d.kind)).collect();
    assert_eq!(
        names,
        [
            ("CSD_FLAG_LOCK", Kind::Constant),
            ("IRQ_WORK_CLAIMED", Kind::Constant),
            ("CSD_FLAG_TYPE_MASK", Kind::Constant),
            ("mode", Kind::Struct),
            ("MODE_A", Kind::Constant),
            ("MODE_B", Kind::Constant),
            ("raw_spin_rq_lock_nested", Kind::Function),
        ]
    );
    assert_eq!(
        extract(src.as_bytes(), "CSD_FLAG_LOCK").as_deref(),
        Some("CSD_FLAG_LOCK\t\t= 0x01")
    );
    assert_eq!(
        extract(src.as_bytes(), "MODE_B").as_deref(),
        Some("MODE_B = f(1, 2)")
    );
    assert!(extract(src.as_bytes(), "__context_unsafe").is_none());
    let csd = "struct __call_single_data {\n\tvoid *info;\n};\nstruct __packed foo { int a; };\n";
    let names: Vec<_> = definitions(csd.as_bytes())
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(names, ["__call_single_data", "foo"]);
    assert_eq!(
        definition_on_line("void f(struct rq *rq) __context_unsafe()").map(|(n, _)| n),
        Some("f".to_string())
    );
}

#[test]
fn fingerprint_ignores_comments_and_layout() {
    let a = "static int f(int x)\n{\n\treturn x + 1; /* one */\n}";
    let b = "static int f(int x) {\n  // why\n  return x+1;\n}";
    let c = "static int f(int x) { return x + 2; }";
    assert_eq!(fingerprint(a), fingerprint(b));
    assert_ne!(fingerprint(a), fingerprint(c));
    assert_eq!(normalise(a), "static int f(int x){return x+1;}");
}

#[test]
fn lines_of_a_patch() {
    let on = |l: &str| definition_on_line(l).map(|(n, _)| n);
    assert_eq!(
        on("static void mm_cid_schedout(struct task_struct *t)").as_deref(),
        Some("mm_cid_schedout")
    );
    assert_eq!(
        on("SYSCALL_DEFINE2(process_mrelease, int, pidfd, unsigned int, flags)").as_deref(),
        Some("process_mrelease")
    );
    assert_eq!(on("struct mm_cid_pcpu {").as_deref(), Some("mm_cid_pcpu"));
    assert_eq!(
        on("#define MM_CID_UNSET (~0U)").as_deref(),
        Some("MM_CID_UNSET")
    );
    assert_eq!(on("void foo(int a,").as_deref(), Some("foo"));
    for none in [
        "\tfoo(x);",
        "out_unlock:",
        "void foo(void);",
        "static struct x y = {",
        "}",
        "EXPORT_SYMBOL(foo);",
        "struct foo;",
    ] {
        assert_eq!(on(none), None, "{none}");
    }
}

proptest::proptest! {
    #[test]
    fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
        let defs = definitions(&bytes);
        for d in &defs {
            assert!(d.start <= d.end && d.end <= bytes.len());
            let _ = extract(&bytes, &d.name);
        }
        let s = String::from_utf8_lossy(&bytes);
        let _ = fingerprint(&s);
        for l in s.lines() {
            let _ = definition_on_line(l);
        }
    }

    #[test]
    fn never_panics_on_c_like_text(s in "[a-z_(){};=#/*\"'\\\\\n \t]{0,300}") {
        let defs = definitions(s.as_bytes());
        for d in &defs {
            let _ = extract(s.as_bytes(), &d.name);
        }
        for l in s.lines() {
            let _ = definition_on_line(l);
        }
    }
}
