//! A small C definition extractor for kernel sources: file-scope functions (including
//! `SYSCALL_DEFINEn(name, ...)`-style macros), struct/union/enum definitions, enumerators and
//! `#define`s, and the normalised fingerprint `kmodel drift` compares.
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
    /// An enumerator: `NAME = value` (or `NAME`) in an `enum` body, to its `,` or `}`.
    Constant,
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

mod mask;
use mask::mask;

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
    // call without its `;` come first; attributes after the parameters are skipped: the listed
    // ones, and any `__name(...)` right after a parameter list (`f(void) __context_unsafe()`).
    let attribute = |i: usize| {
        let w = words[i].0.as_str();
        ATTRIBUTES.contains(&w) || (w.starts_with("__") && i > 0 && words[i - 1].1.is_some())
    };
    let call = (0..words.len())
        .rev()
        .find(|&i| words[i].1.is_some() && !attribute(i))
        .map(|i| &words[i]);
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
        Some((w, _)) if ["struct", "union", "enum"].contains(&w.as_str()) => {
            // The tag: the first word that is not a `__attribute` (`struct __packed foo`); a tag
            // that is itself `__`-prefixed (`struct __call_single_data`) when there is no other.
            let rest: Vec<_> = rest.collect();
            rest.iter()
                .find(|(w, _)| !w.starts_with("__"))
                .or_else(|| rest.iter().rev().find(|(_, arg)| arg.is_none()))
                .map(|(w, _)| (w.clone(), Kind::Struct))
        }
        _ => None,
    }
}

/// Whether a file-scope declaration opens an `enum` body (`enum {`, `enum foo {`, `typedef enum`).
fn is_enum(decl: &[u8]) -> bool {
    let text = String::from_utf8_lossy(decl);
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .find(|w| !w.is_empty() && !["typedef", "static", "const", "volatile"].contains(w))
        == Some("enum")
}

/// The enumerators of the `enum` body `code[open..close]` (the braces excluded).
fn enumerators(code: &[u8], open: usize, close: usize, out: &mut Vec<Definition>) {
    let (mut i, mut item, mut depth) = (open, open, 0usize);
    while i <= close {
        let c = if i < close { code[i] } else { b',' };
        match c {
            b'(' | b'{' | b'[' => depth += 1,
            b')' | b'}' | b']' => depth = depth.saturating_sub(1),
            b',' if depth == 0 => {
                let s = item
                    + code[item..i]
                        .iter()
                        .take_while(|b| b.is_ascii_whitespace())
                        .count();
                let name_len = code[s..i].iter().take_while(|&&b| is_ident(b)).count();
                if name_len > 0 && !code[s].is_ascii_digit() {
                    let e = i - code[s..i]
                        .iter()
                        .rev()
                        .take_while(|b| b.is_ascii_whitespace())
                        .count();
                    out.push(Definition {
                        name: String::from_utf8_lossy(&code[s..s + name_len]).into_owned(),
                        kind: Kind::Constant,
                        start: s,
                        end: e,
                        line: 0,
                    });
                }
                item = i + 1;
            }
            _ => {}
        }
        i += 1;
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
                let mut end = (j + 1).min(code.len());
                if is_enum(&code[seg..i]) {
                    enumerators(code, i + 1, j.min(code.len()), &mut out);
                }
                let found = classify(&code[seg..i]);
                if let Some((_, Kind::Struct)) = found {
                    // Through the `;`, with trailing attributes (`} ____cacheline_aligned;`).
                    let tail = code[end..].iter().position(|&b| b == b';' || b == b'{');
                    if let Some(t) = tail.filter(|&t| code[end + t] == b';') {
                        end += t + 1;
                    }
                }
                if let Some((name, kind)) = found {
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
        None => (
            &[Kind::Function, Kind::Macro, Kind::Struct, Kind::Constant],
            name,
        ),
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
            // Lines that held only a comment go; blank lines of the source stay.
            let t = String::from_utf8_lossy(&m.text[d.start..d.end]);
            let o = String::from_utf8_lossy(&src[d.start..d.end]);
            t.lines()
                .zip(o.lines())
                .filter(|(t, o)| !t.trim().is_empty() || o.trim().is_empty())
                .map(|(t, _)| t.trim_end())
                .collect::<Vec<_>>()
                .join("\n")
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
mod tests;
