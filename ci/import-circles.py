#!/usr/bin/env python3
"""Print the import circles among the .rs files under one source folder, symbol by symbol.

Usage: python3 ci/import-circles.py harness/src   (prints nothing when there is no circle)

Extends /work/shared/tools/import-circles.py (which reads `crate::` and `super::` paths to
module files) so that circles through re-exports and relative names show:
- a path is followed to the file that *defines* its last name: through `pub use` re-exports
  (also glob ones and inline `pub mod NAME { pub use ... }` blocks such as a prelude), and
  `#[macro_export]` macros resolve to the file that defines them;
- `use` statements with relative first segments (`use kernel::Design;` in a `mod.rs`, 2018
  paths) and bare `child::name` paths in code count, as do `self::` paths;
- a glob import (`use super::*;`) counts the names of the glob's module that the file uses;
- a `pub use` is an edge of the file that re-exports, so a `mod.rs` re-exporting `sub::X` while
  `sub.rs` imports `super::Y` defined in that `mod.rs` is a circle (a roof leaning on its
  ground floor).
The crate root (`lib.rs`, `main.rs`) is the crate's index: edges to and from it are ignored, as
in the original. `#[cfg(test)] mod tests { ... }` blocks are ignored; `tests.rs` files count.
"""
import os
import re
import sys

root = sys.argv[1]

# ---- modules: path tuple -> file; inline modules share their file ----
files = {}
for d, _, fs in os.walk(root):
    for f in sorted(fs):
        if f.endswith('.rs'):
            p = os.path.join(d, f)
            rel = os.path.relpath(p, root)[:-3]
            parts = rel.split(os.sep)
            if parts[-1] == 'mod':
                parts = parts[:-1]
            if parts in (['lib'], ['main']):
                parts = []
            files[tuple(parts)] = p

ITEM = re.compile(r'^(?:pub(?:\([^)]*\))?\s+)?(?:const\s+fn|async\s+fn|unsafe\s+fn|fn|struct|enum|'
                  r'trait|type|const|static|union|mod)\s+(\w+)', re.M)
USE = re.compile(r'^[ \t]*(pub(?:\([^)]*\))?\s+)?use\s+([^;]+);', re.M)
INLINE_MOD = re.compile(r'^(\s*)(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*\{', re.M)
MACRO = re.compile(r'#\[macro_export\]\s*(?:#\[[^\]]*\]\s*)*macro_rules!\s+(\w+)')


def strip_tests(src):
    return re.sub(r'#\[cfg\(test\)\]\s*mod tests\s*\{.*', '', src, flags=re.S)


def block_end(src, open_at):
    depth = 0
    for i in range(open_at, len(src)):
        if src[i] == '{':
            depth += 1
        elif src[i] == '}':
            depth -= 1
            if depth == 0:
                return i
    return len(src)


def use_paths(tree):
    """Expands a use tree into (segments, alias) pairs; a last segment '*' marks a glob."""
    tree = re.sub(r'\s+as\s+', '@', tree)
    tree = re.sub(r'\s+', '', tree)
    out = []

    def walk(prefix, t):
        if not t:
            return
        i = t.find('{')
        if i == -1:
            path, _, alias = t.partition('@')
            out.append((prefix + [s for s in path.split('::') if s], alias or None))
            return
        head = [s for s in t[:i].split('::') if s]
        body = t[i + 1:t.rindex('}')]
        depth, cur, parts = 0, '', []
        for ch in body:
            if ch == '{':
                depth += 1
            elif ch == '}':
                depth -= 1
            if ch == ',' and depth == 0:
                parts.append(cur)
                cur = ''
            else:
                cur += ch
        parts.append(cur)
        for part in parts:
            if part == 'self':
                out.append((prefix + head, None))
            else:
                walk(prefix + head, part)

    walk([], tree)
    return out


# ---- per module: defined names, re-exports, glob re-exports, uses ----
defs, reexports, globs, uses, texts = {}, {}, {}, {}, {}
root_macros = {}


def scan(mod, src, file):
    defs.setdefault(mod, set())
    reexports.setdefault(mod, {})
    globs.setdefault(mod, [])
    uses.setdefault(mod, [])
    # Inline modules (a prelude): their own namespace, the same file.
    for m in INLINE_MOD.finditer(src):
        if m.group(1) != '':
            continue
        name = m.group(2)
        if name == 'tests':
            continue
        end = block_end(src, src.index('{', m.end() - 1))
        body = src[m.end():end]
        files.setdefault(mod + (name,), file)
        scan(mod + (name,), body, file)
        src = src[:m.start()] + ' ' * (end + 1 - m.start()) + src[end + 1:]
    for m in ITEM.finditer(src):
        defs[mod].add(m.group(1))
    for m in USE.finditer(src):
        # Every `use` binds a name in its module (children see private ones through `super::`).
        for segs, alias in use_paths(m.group(2)):
            name = alias or segs[-1]
            uses[mod].append(segs)
            if name == '*':
                globs[mod].append(segs[:-1])
            else:
                reexports[mod][name] = segs


for mod, p in list(files.items()):
    src = strip_tests(open(p).read())
    texts[p] = src
    for m in MACRO.finditer(src):
        root_macros[m.group(1)] = p
    scan(mod, src, p)

defs.setdefault((), set())


def children(mod):
    return {k[-1] for k in files if len(k) == len(mod) + 1 and k[:len(mod)] == mod}


def start(mod, segs):
    """The module a path starts from, and the segments left; None for an external crate."""
    if not segs:
        return None
    if segs[0] == 'crate':
        return (), segs[1:]
    if segs[0] in ('super', 'self'):
        m = mod
        while segs and segs[0] in ('super', 'self'):
            if segs[0] == 'super':
                m = m[:-1]
            segs = segs[1:]
        return m, segs
    if segs[0] in children(mod):
        return mod, segs
    if segs[0] in reexports.get(mod, {}) or segs[0] in defs.get(mod, set()):
        return mod, segs
    return None


def resolve(mod, segs, seen=None):
    """The files that define what `segs` names, starting in module `mod`."""
    seen = seen or set()
    key = (mod, tuple(segs))
    if key in seen:
        return set()
    seen.add(key)
    if not segs or segs == ['*']:
        return {files[mod]} if mod in files else set()
    s, rest = segs[0], segs[1:]
    if mod + (s,) in files:
        return resolve(mod + (s,), rest, seen)
    if s in defs.get(mod, set()):
        return {files[mod]}
    if s in reexports.get(mod, {}):
        target = reexports[mod][s]
        st = start(mod, target)
        if st is None:
            return set()
        return resolve(st[0], st[1] + rest, seen)
    for g in globs.get(mod, []):
        st = start(mod, g)
        if st is None:
            continue
        r = resolve(st[0], st[1] + [s] + rest, seen)
        if r:
            return r
    if mod == () and s in root_macros:
        return {root_macros[s]}
    return {files[mod]} if mod in files else set()


def exported(mod):
    names = set(defs.get(mod, set())) | set(reexports.get(mod, {})) | children(mod)
    for g in globs.get(mod, []):
        st = start(mod, g)
        if st is not None:
            m2, rest = st
            while rest and m2 + (rest[0],) in files:
                m2, rest = m2 + (rest[0],), rest[1:]
            if not rest:
                names |= exported(m2)
    if mod == ():
        names |= set(root_macros)
    return names


def module_of(mod, segs):
    """The module `segs` names (every segment a module), or None."""
    st = start(mod, segs)
    if st is None:
        return None
    m, rest = st
    while rest and m + (rest[0],) in files:
        m, rest = m + (rest[0],), rest[1:]
    return m if not rest else None


DEBUG = os.environ.get('IMPORT_CIRCLES_DEBUG')
edges = {p: set() for p in set(files.values())}
why = {}
for mod in list(uses):
    p = files[mod]
    text = texts[p]
    body = re.sub(USE, '', text)
    targets = {}

    def add(ts, reason):
        for t in ts:
            targets.setdefault(t, reason)

    aliases = {c: mod + (c,) for c in children(mod)}
    for segs in uses[mod]:
        if segs and segs[-1] == '*':
            m2 = module_of(mod, segs[:-1])
            if m2 is None:
                st = start(mod, segs[:-1])
                if st is not None:
                    add(resolve(*st), 'use ' + '::'.join(segs))
                continue
            for name in exported(m2):
                if re.search(r'\b%s\b' % re.escape(name), body):
                    add(resolve(m2, [name]), 'use %s (%s)' % ('::'.join(segs), name))
            continue
        m2 = module_of(mod, segs)
        if m2 is not None:
            # A module imported by name: what counts is each `name::item` the file uses.
            aliases[segs[-1] if segs[-1] not in ('self', 'super', 'crate') else m2[-1:] and m2[-1]] = m2
            continue
        st = start(mod, segs)
        if st is not None:
            add(resolve(*st), 'use ' + '::'.join(segs))
    # Paths in code: crate::, super::, self::, and an imported or child module's name.
    for m in re.finditer(r'(?<![\w:$])((?:crate|super|self)(?:::\w+)+)', body):
        segs = m.group(1).split('::')
        st = start(mod, segs)
        if st is not None:
            add(resolve(*st), m.group(1))
    for alias, m2 in aliases.items():
        for m in re.finditer(r'(?<![\w:$])%s((?:::\w+)+)' % re.escape(alias), body):
            rest = [s for s in m.group(1).split('::') if s]
            add(resolve(m2, rest), alias + m.group(1))
    rootfile = files.get(())
    for t, reason in targets.items():
        if t != p and t != rootfile and p != rootfile:
            edges[p].add(t)
            why[(p, t)] = reason
    if DEBUG:
        for t in sorted(edges[p]):
            print('edge', os.path.relpath(p, root), '->', os.path.relpath(t, root), ':', why[(p, t)])

# ---- Tarjan SCC ----
idx, low, on, st, out, c = {}, {}, set(), [], [], [0]
sys.setrecursionlimit(10000)


def sc(v):
    idx[v] = low[v] = c[0]
    c[0] += 1
    st.append(v)
    on.add(v)
    for w in edges[v]:
        if w not in idx:
            sc(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], idx[w])
    if low[v] == idx[v]:
        comp = []
        while True:
            w = st.pop()
            on.discard(w)
            comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            out.append(comp)


for v in sorted(edges):
    if v not in idx:
        sc(v)
for comp in out:
    print('circle:', ', '.join(os.path.relpath(x, root)[:-3] for x in sorted(comp)))
