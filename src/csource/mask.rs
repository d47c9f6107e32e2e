//! The extractor's lexer: blanks comments (and, for structure, string and character literals
//! and preprocessor lines) keeping every offset, and collects `#define` names.

/// The source with comments blanked (`text`), and with literals and preprocessor lines blanked
/// too (`code`); both keep every byte's offset and every newline.
pub(super) struct Masked {
    pub text: Vec<u8>,
    pub code: Vec<u8>,
    /// `#define NAME` lines: (name, start, end).
    pub defines: Vec<(String, usize, usize)>,
}

pub(super) fn mask(src: &[u8]) -> Masked {
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
