//! A small C definition extractor for kernel sources: file-scope functions (including
//! `SYSCALL_DEFINEn(name, ...)`-style macros), struct/union/enum definitions and `#define`s, and
//! the normalised fingerprint `kmodel drift` compares.
//!
//! Not a C parser: it masks comments, string and character literals and preprocessor lines,
//! then reads the file-scope declarations between `;` and `}`: a declaration whose `{` follows a
//! parameter list is a function, one that starts with `struct NAME` is a struct. Conditional
//! definitions (`#ifdef` stubs) are all found; callers combine them. Any input, bytes included,
//! gives an answer and never panics.

use sha2::{Digest, Sha256};

/// What a definition defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Function,
    /// `struct`, `union` or `enum`.
    Struct,
    Macro,
}

/// One definition in a source file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Definition {
    pub name: String,
    pub kind: Kind,
    /// Byte range in the source, from the first token to the closing brace (or line end).
    pub start: usize,
    pub end: usize,
    /// 1-based line of `start`.
    pub line: usize,
}

/// The source with comments blanked (`text`), and with literals and preprocessor lines blanked
/// too (`code`); both keep every byte's offset and every newline.
struct Masked {
    text: Vec<u8>,
    code: Vec<u8>,
    /// `#define NAME` lines: (name, start, end).
    defines: Vec<(String, usize, usize)>,
}

fn mask(src: &[u8]) -> Masked {
    let n = src.len();
    let (mut text, mut code) = (src.to_vec(), src.to_vec());
    let mut defines = Vec::new();
    let blank = |v: &mut Vec<u8>, a: usize, b: usize| {
        for c in &mut v[a..b.min(n)] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let (mut i, mut line_start) = (0, true);
    while i < n {
        let c = src[i];
        let next = src.get(i + 1).copied();
        if c == b'/' && next == Some(b'*') {
            let end = find(src, i + 2, b"*/").map_or(n, |e| e + 2);
            blank(&mut text, i, end);
            blank(&mut code, i, end);
            i = end;
        } else if c == b'/' && next == Some(b'/') {
            let end = line_end(src, i);
            blank(&mut text, i, end);
            blank(&mut code, i, end);
            i = end;
        } else if c == b'"' || c == b'\'' {
            let end = literal_end(src, i);
            blank(&mut code, i, end);
            i = end;
            line_start = false;
        } else if c == b'#' && line_start {
            let mut end = i;
            loop {
                end = line_end(src, end);
                if end > i && src[end - 1] == b'\\' && end < n {
                    end += 1;
                    continue;
                }
                break;
            }
            // Comments inside the directive are blanked in `text` too.
            let directive = &src[i..end];
            if let Some(name) = define_name(directive) {
                defines.push((name, i, end));
            }
            let mut j = i;
            while j < end {
                if src[j] == b'/' && src.get(j + 1) == Some(&b'*') {
                    let e = find(src, j + 2, b"*/").map_or(n, |e| e + 2);
                    blank(&mut text, j, e);
                    j = e;
                } else if src[j] == b'/' && src.get(j + 1) == Some(&b'/') {
                    blank(&mut text, j, end);
                    j = end;
                } else {
                    j += 1;
                }
            }
            blank(&mut code, i, end.max(j));
            i = end.max(j);
        } else {
            if c == b'\n' {
                line_start = true;
            } else if !c.is_ascii_whitespace() {
                line_start = false;
            }
            i += 1;
        }
    }
    Masked {
        text,
        code,
        defines,
    }
}

fn find(src: &[u8], from: usize, pat: &[u8]) -> Option<usize> {
    src.get(from..)?
        .windows(pat.len())
        .position(|w| w == pat)
        .map(|p| p + from)
}

fn line_end(src: &[u8], from: usize) -> usize {
    src[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(src.len(), |p| p + from)
}

/// End (exclusive) of the string or char literal opening at `i`: the closing quote, or the
/// line's end for an unterminated one.
fn literal_end(src: &[u8], i: usize) -> usize {
    let q = src[i];
    let mut j = i + 1;
    while j < src.len() {
        match src[j] {
            b'\\' => j += 2,
            b'\n' => return j,
            c if c == q => return j + 1,
            _ => j += 1,
        }
    }
    src.len()
}

fn define_name(directive: &[u8]) -> Option<String> {
    let s = String::from_utf8_lossy(directive);
    let rest = s.trim_start_matches('#').trim_start();
    let rest = rest.strip_prefix("define")?;
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let name: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Macros that annotate a declaration and are not its name.
const ATTRIBUTES: &[&str] = &[
    "__attribute__",
    "__attribute",
    "__aligned",
    "__section",
    "__printf",
    "__scanf",
    "__acquires",
    "__releases",
    "__must_hold",
    "__cond_acquires",
    "__cond_releases",
    "__alloc_size",
    "__realloc_size",
    "__diag_ignore",
    "__counted_by",
    "__free",
    "__cleanup",
    "__assume_aligned",
    "__nocfi",
    "__no_sanitize_or_inline",
];

/// What a file-scope declaration (the code before its `{`) defines, if anything.
fn classify(decl: &[u8]) -> Option<(String, Kind)> {
    // Identifiers at parenthesis depth 0, each with whether a `(` follows and that group's
    // first identifier; `=` at depth 0 means an initializer.
    let mut words: Vec<(String, Option<String>)> = Vec::new();
    let (mut i, mut depth) = (0, 0usize);
    while i < decl.len() {
        let c = decl[i];
        if depth == 0 && c == b'=' {
            return None;
        }
        if c == b'(' {
            depth += 1;
            i += 1;
        } else if c == b')' {
            depth = depth.saturating_sub(1);
            i += 1;
        } else if is_ident(c) && !c.is_ascii_digit() {
            let s = i;
            while i < decl.len() && is_ident(decl[i]) {
                i += 1;
            }
            if depth > 0 {
                continue;
            }
            let word = String::from_utf8_lossy(&decl[s..i]).into_owned();
            let mut j = i;
            while j < decl.len() && decl[j].is_ascii_whitespace() {
                j += 1;
            }
            let arg = (decl.get(j) == Some(&b'(')).then(|| {
                let mut k = j + 1;
                while k < decl.len() && decl[k].is_ascii_whitespace() {
                    k += 1;
                }
                let a = k;
                while k < decl.len() && is_ident(decl[k]) {
                    k += 1;
                }
                String::from_utf8_lossy(&decl[a..k]).into_owned()
            });
            words.push((word, arg));
        } else {
            i += 1;
        }
    }
    // The last call-like word: attributes before the name (`__printf(1, 2)`) and a stray macro
    // call without its `;` come first; attributes after the parameters are skipped.
    let call = words
        .iter()
        .rfind(|(w, arg)| arg.is_some() && !ATTRIBUTES.contains(&w.as_str()));
    if let Some((w, Some(arg))) = call {
        // SYSCALL_DEFINE2(process_mrelease, ...) and the like define their first argument.
        let macro_like = w.bytes().any(|b| b.is_ascii_uppercase())
            && w.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        let type_word = [
            "void", "int", "unsigned", "long", "char", "struct", "const", "bool",
        ]
        .contains(&arg.as_str());
        let name =
            if macro_like && !type_word && !arg.is_empty() && !arg.as_bytes()[0].is_ascii_digit() {
                arg.clone()
            } else {
                w.clone()
            };
        return Some((name, Kind::Function));
    }
    let skip = ["typedef", "static", "const", "volatile", "extern"];
    let mut rest = words.iter().skip_while(|(w, _)| skip.contains(&w.as_str()));
    match rest.next() {
        Some((w, _)) if ["struct", "union", "enum"].contains(&w.as_str()) => rest
            .find(|(w, _)| !w.starts_with("__"))
            .map(|(w, _)| (w.clone(), Kind::Struct)),
        _ => None,
    }
}

/// Every definition in `src`, in file order.
pub fn definitions(src: &[u8]) -> Vec<Definition> {
    let m = mask(src);
    let code = &m.code;
    let mut out: Vec<Definition> = m
        .defines
        .iter()
        .map(|(name, s, e)| Definition {
            name: name.clone(),
            kind: Kind::Macro,
            start: *s,
            end: *e,
            line: 0,
        })
        .collect();
    let (mut i, mut seg, mut paren) = (0, 0, 0usize);
    while i < code.len() {
        match code[i] {
            b'(' => paren += 1,
            b')' => paren = paren.saturating_sub(1),
            b';' if paren == 0 => seg = i + 1,
            b'}' if paren == 0 => seg = i + 1,
            b'{' if paren == 0 => {
                let mut depth = 0usize;
                let mut j = i;
                while j < code.len() {
                    match code[j] {
                        b'{' => depth += 1,
                        b'}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                let end = (j + 1).min(code.len());
                if let Some((name, kind)) = classify(&code[seg..i]) {
                    let start = seg
                        + code[seg..i]
                            .iter()
                            .take_while(|b| b.is_ascii_whitespace())
                            .count();
                    out.push(Definition {
                        name,
                        kind,
                        start,
                        end,
                        line: 0,
                    });
                }
                i = end;
                seg = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out.sort_by_key(|d| d.start);
    let mut line = 1;
    let mut at = 0;
    for d in &mut out {
        line += src[at..d.start].iter().filter(|&&b| b == b'\n').count();
        at = d.start;
        d.line = line;
    }
    out
}

/// The definitions of kernel symbol `name` (`struct NAME` for a struct): every one, since
/// `#ifdef` alternatives define a name more than once. A function name also matches a macro.
pub fn lookup<'a>(defs: &'a [Definition], name: &str) -> Vec<&'a Definition> {
    let (kinds, bare): (&[Kind], &str) = match ["struct ", "union ", "enum "]
        .iter()
        .find_map(|k| name.strip_prefix(k))
    {
        Some(bare) => (&[Kind::Struct], bare),
        None => (&[Kind::Function, Kind::Macro, Kind::Struct], name),
    };
    for k in kinds {
        let found: Vec<_> = defs
            .iter()
            .filter(|d| d.kind == *k && d.name == bare)
            .collect();
        if !found.is_empty() {
            return found;
        }
    }
    Vec::new()
}

/// The source text of `name`'s definitions (comments removed, as written otherwise), joined by
/// a blank line; `None` when the file does not define it.
pub fn extract(src: &[u8], name: &str) -> Option<String> {
    let defs = definitions(src);
    let found = lookup(&defs, name);
    if found.is_empty() {
        return None;
    }
    let m = mask(src);
    let parts: Vec<String> = found
        .iter()
        .map(|d| {
            let t = String::from_utf8_lossy(&m.text[d.start..d.end]);
            t.lines().map(str::trim_end).collect::<Vec<_>>().join("\n")
        })
        .collect();
    Some(parts.join("\n\n"))
}

/// The text with comments removed and whitespace reduced to a single space between two
/// identifier characters (none elsewhere): formatting and comments do not change it.
pub fn normalise(text: &str) -> String {
    let m = mask(text.as_bytes());
    let t = String::from_utf8_lossy(&m.text);
    let mut out = String::with_capacity(t.len());
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let (mut pending_space, mut prev) = (false, None);
    for c in t.chars() {
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if pending_space && prev.is_some_and(word) && word(c) {
            out.push(' ');
        }
        pending_space = false;
        prev = Some(c);
        out.push(c);
    }
    out
}

/// SHA-256 (hex) of the normalised text.
pub fn fingerprint(text: &str) -> String {
    Sha256::digest(normalise(text).as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The name a definition starting on this line defines (a line of a patch: `static void
/// foo(int x)`, `SYSCALL_DEFINE2(process_mrelease, ...)`, `struct foo {`, `#define FOO`); `None`
/// for indented lines, declarations ending in `;`, labels and initializers.
pub fn definition_on_line(line: &str) -> Option<(String, Kind)> {
    let first = line.bytes().next()?;
    if first.is_ascii_whitespace() || first == b'}' || first == b'{' {
        return None;
    }
    let m = mask(line.as_bytes());
    if let Some((name, _, _)) = m.defines.first() {
        return Some((name.clone(), Kind::Macro));
    }
    let code = &m.code;
    let upto = code.iter().position(|&b| b == b'{').unwrap_or(code.len());
    let decl = &code[..upto];
    let mut depth = 0usize;
    for &b in decl {
        match b {
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            b';' if depth == 0 => return None,
            _ => {}
        }
    }
    let (name, kind) = classify(decl)?;
    // A struct only when its body opens here (`struct foo {`), not `struct foo *bar;`-like text.
    (kind != Kind::Struct || upto < code.len()).then_some((name, kind))
}

#[cfg(test)]
mod tests {
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
            .ends_with('}'));
        assert!(extract(SRC.as_bytes(), "names").is_none());
        let body = extract(SRC.as_bytes(), "mm_cid_schedout").unwrap();
        assert!(body.contains("pr_info(\"}\\n\")") && !body.contains("comment"));
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
}
