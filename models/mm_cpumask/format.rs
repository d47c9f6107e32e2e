//! The two printers the patch uses, ported from `lib/vsprintf.c`: `bitmap_string()` (`%*pb`) and
//! `bitmap_list_string()` (`%*pbl`), generic over where the words come from so the same code
//! formats a plain `unsigned long[]` (pure tests, the snapshot reader) and the live, concurrently
//! modified `mm_cpumask` (the as-posted reader, one load per chunk / per scan, as the kernel does).
//!
//! The parsers at the end are written independently of the printers (from the documented format,
//! not from the code above) and are used by the proptests and by the /proc reader of the model to
//! turn each printed line back into a set of CPUs.

use std::collections::BTreeSet;

/// `BITS_PER_LONG`.
pub const BITS_PER_LONG: usize = 64;
/// `CHUNKSZ` in `bitmap_string()`: the hex mask is printed in 32-bit groups.
pub const CHUNKSZ: usize = 32;

/// Where a printer reads the bitmap from: each call is one fresh load of the bitmap.
pub trait BitmapSrc {
    /// `bitmap[word]`: one load of one `unsigned long`.
    fn load_word(&self, word: usize) -> u64;
    /// `find_next_bit(bitmap, size, start)`.
    fn find_next_bit(&self, size: usize, start: usize) -> usize;
    /// `find_next_zero_bit(bitmap, size, start)`.
    fn find_next_zero_bit(&self, size: usize, start: usize) -> usize;
}

/// A plain `unsigned long[]` (a snapshot, or a test input). Bits beyond the slice read as zero.
impl BitmapSrc for [u64] {
    fn load_word(&self, word: usize) -> u64 {
        self.get(word).copied().unwrap_or(0)
    }

    fn find_next_bit(&self, size: usize, start: usize) -> usize {
        find_next(self, size, start, false)
    }

    fn find_next_zero_bit(&self, size: usize, start: usize) -> usize {
        find_next(self, size, start, true)
    }
}

/// A copied `unsigned long[]` (`cpumask_copy()` into a local mask).
impl BitmapSrc for Vec<u64> {
    fn load_word(&self, word: usize) -> u64 {
        self[..].load_word(word)
    }

    fn find_next_bit(&self, size: usize, start: usize) -> usize {
        self[..].find_next_bit(size, start)
    }

    fn find_next_zero_bit(&self, size: usize, start: usize) -> usize {
        self[..].find_next_zero_bit(size, start)
    }
}

/// `_find_next_bit()` over this source's loads (the harness's one scan).
fn find_next(words: &[u64], size: usize, start: usize, invert: bool) -> usize {
    kmodel_harness::bitmap::find_next_in(|i| words.load_word(i), size, start, invert)
}

/// `bitmap_string()` (`%*pb` with field width `nr_bits`): 32-bit chunks from the most significant
/// down, comma separated; the top chunk is `nr_bits % 32` bits wide (32 if that is 0) and printed
/// with `DIV_ROUND_UP(chunksz, 4)` zero-padded lowercase hex digits, every other chunk with 8.
/// Each chunk is a separate load of the word containing it (`bitmap[word] >> bit`).
/// `on_chunk(first_bit, value)` is called after each load (the model records events there).
pub fn bitmap_string<S: BitmapSrc + ?Sized>(
    bitmap: &S,
    nr_bits: usize,
    mut on_chunk: impl FnMut(usize, u32),
) -> String {
    let mut buf = String::new();
    let mut chunksz = nr_bits & (CHUNKSZ - 1);
    if chunksz == 0 {
        chunksz = CHUNKSZ;
    }
    let mut first = true;
    // i = ALIGN(nr_bits, CHUNKSZ) - CHUNKSZ; for (; i >= 0; i -= CHUNKSZ)
    let mut i = nr_bits.div_ceil(CHUNKSZ) as isize * CHUNKSZ as isize - CHUNKSZ as isize;
    while i >= 0 {
        let chunkmask: u64 = (1u64 << chunksz) - 1;
        let word = i as usize / BITS_PER_LONG;
        let bit = i as usize % BITS_PER_LONG;
        let val = ((bitmap.load_word(word) >> bit) & chunkmask) as u32;
        on_chunk(i as usize, val);
        if !first {
            buf.push(',');
        }
        first = false;
        // number(buf, end, val, { .flags = SMALL | ZEROPAD, .base = 16,
        //                         .field_width = DIV_ROUND_UP(chunksz, 4) })
        let width = chunksz.div_ceil(4);
        buf.push_str(&format!("{val:0width$x}"));
        chunksz = CHUNKSZ;
        i -= CHUNKSZ as isize;
    }
    buf
}

/// `bitmap_list_string()` (`%*pbl`): `for_each_set_bitrange(rbot, rtop, bitmap, nr_bits)`, i.e.
/// alternating `find_next_bit()` / `find_next_zero_bit()` scans, each with fresh loads; a run
/// `[rbot, rtop)` prints as `rbot` or `rbot-(rtop-1)`, runs comma separated; empty set → "".
/// `on_range(rbot, rtop)` is called after each pair of scans.
pub fn bitmap_list_string<S: BitmapSrc + ?Sized>(
    bitmap: &S,
    nr_bits: usize,
    mut on_range: impl FnMut(usize, usize),
) -> String {
    let mut buf = String::new();
    let mut first = true;
    // for ((b) = 0; (b) = find_next_bit(addr, size, b), (e) = find_next_zero_bit(addr, size,
    //      b + 1), (b) < (size); (b) = (e) + 1)
    let mut rbot = 0;
    loop {
        rbot = bitmap.find_next_bit(nr_bits, rbot);
        let rtop = bitmap.find_next_zero_bit(nr_bits, rbot + 1);
        if rbot >= nr_bits {
            break;
        }
        on_range(rbot, rtop);
        if !first {
            buf.push(',');
        }
        first = false;
        buf.push_str(&rbot.to_string());
        if rtop != rbot + 1 {
            buf.push('-');
            buf.push_str(&(rtop - 1).to_string());
        }
        rbot = rtop + 1;
    }
    buf
}

/// Length of the `%*pb` output for `nr_bits` ≥ 1: `ceil(w0/4) + 9·(k−1)` with `k = ceil(n/32)`
/// chunks and top-chunk width `w0 = n − 32·(k−1)`.
pub fn hex_len(nr_bits: usize) -> usize {
    let k = nr_bits.div_ceil(CHUNKSZ);
    let w0 = nr_bits - CHUNKSZ * (k - 1);
    w0.div_ceil(4) + 9 * (k - 1)
}

/// Independent parser of a `%*pb` line for `nr_bits` bits: checks the exact shape (group count,
/// digit counts, lowercase, no bits ≥ `nr_bits`) and returns the set of CPUs, or `None`.
pub fn parse_hex(s: &str, nr_bits: usize) -> Option<BTreeSet<usize>> {
    let groups: Vec<&str> = s.split(',').collect();
    if nr_bits == 0 || groups.len() != nr_bits.div_ceil(32) {
        return None;
    }
    let mut set = BTreeSet::new();
    let ngroups = groups.len();
    for (gi, g) in groups.iter().enumerate() {
        // group gi (0 = leftmost) holds CPUs [32·(ngroups-1-gi), ...)
        let base = 32 * (ngroups - 1 - gi);
        let bits_here = (nr_bits - base).min(32);
        let digits = if gi == 0 { bits_here.div_ceil(4) } else { 8 };
        if g.len() != digits || !g.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        // Least significant digit last.
        for (di, c) in g.bytes().rev().enumerate() {
            let nib = (c as char).to_digit(16)?;
            for b in 0..4 {
                if nib & (1 << b) != 0 {
                    let cpu = base + 4 * di + b;
                    if cpu >= nr_bits {
                        return None;
                    }
                    set.insert(cpu);
                }
            }
        }
    }
    Some(set)
}

/// Independent parser of a `%*pbl` line (the `bitmap_parselist()` subset the printer emits):
/// comma-separated `a` or `a-b` (a < b), decimal without leading zeros, strictly ascending and
/// non-adjacent (maximal) runs, every CPU < `nr_bits`; "" is the empty set.
pub fn parse_list(s: &str, nr_bits: usize) -> Option<BTreeSet<usize>> {
    let mut set = BTreeSet::new();
    if s.is_empty() {
        return Some(set);
    }
    let num = |t: &str| -> Option<usize> {
        if t.is_empty() || (t.len() > 1 && t.starts_with('0')) {
            return None;
        }
        if !t.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    };
    let mut next_min = 0usize; // a run must start at or after the previous end + 2
    for run in s.split(',') {
        let (a, b) = match run.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (num(a)?, num(b)?);
                if b <= a {
                    return None;
                }
                (a, b)
            }
            None => {
                let a = num(run)?;
                (a, a)
            }
        };
        if a < next_min || b >= nr_bits {
            return None;
        }
        set.extend(a..=b);
        next_min = b + 2;
    }
    Some(set)
}

/// The set of CPUs `< nr_bits` in `words`.
pub fn set_of(words: &[u64], nr_bits: usize) -> BTreeSet<usize> {
    (0..nr_bits)
        .filter(|&b| words.get(b / 64).is_some_and(|w| w & (1 << (b % 64)) != 0))
        .collect()
}

/// A set of CPUs < 128 as a `u128` (the model's ghost representation).
pub fn set_to_u128(set: &BTreeSet<usize>) -> u128 {
    set.iter().filter(|&&c| c < 128).fold(0, |m, &c| m | 1 << c)
}

/// `u128` → "{1,40}" for messages.
pub fn fmt_set(m: u128) -> String {
    let cpus: Vec<String> = (0..128)
        .filter(|c| m & (1 << c) != 0)
        .map(|c: usize| c.to_string())
        .collect();
    format!("{{{}}}", cpus.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(words: &[u64], n: usize) -> String {
        bitmap_string(words, n, |_, _| {})
    }

    fn list(words: &[u64], n: usize) -> String {
        bitmap_list_string(words, n, |_, _| {})
    }

    fn words_of(cpus: &[usize], n: usize) -> Vec<u64> {
        let mut w = vec![0u64; n.div_ceil(64).max(1)];
        for &c in cpus {
            w[c / 64] |= 1 << (c % 64);
        }
        w
    }

    #[test]
    fn known_examples_from_the_note() {
        assert_eq!(hex(&words_of(&[0, 1, 2, 3], 4), 4), "f");
        assert_eq!(hex(&words_of(&[0, 1, 2, 3, 5], 8), 8), "2f");
        assert_eq!(hex(&words_of(&[], 12), 12), "000");
        assert_eq!(hex(&words_of(&[35], 36), 36), "8,00000000");
        assert_eq!(hex(&words_of(&[0], 64), 64), "00000000,00000001");
        let all72: Vec<usize> = (0..72).collect();
        assert_eq!(hex(&words_of(&all72, 72), 72), "ff,ffffffff,ffffffff");
        let all128: Vec<usize> = (0..128).collect();
        assert_eq!(
            hex(&words_of(&all128, 128), 128),
            "ffffffff,ffffffff,ffffffff,ffffffff"
        );
        assert_eq!(list(&words_of(&[0, 1, 2, 3, 5], 8), 8), "0-3,5");
        assert_eq!(list(&words_of(&[7], 8), 8), "7");
        assert_eq!(list(&words_of(&[0, 2, 4], 8), 8), "0,2,4");
        assert_eq!(list(&words_of(&[1, 2, 3, 10, 11], 12), 12), "1-3,10-11");
        assert_eq!(list(&words_of(&[4, 5], 8), 8), "4-5");
        assert_eq!(list(&words_of(&[], 8), 8), "");
        // The model's default configuration: 48 CPUs, CPUs 1 and 40.
        assert_eq!(hex(&words_of(&[1, 40], 48), 48), "0100,00000002");
        assert_eq!(list(&words_of(&[1, 40], 48), 48), "1,40");
        // Bits at or beyond nr_bits are never printed.
        assert_eq!(hex(&[u64::MAX], 4), "f");
        assert_eq!(list(&[u64::MAX], 4), "0-3");
    }

    fn arb_bitmap() -> impl Strategy<Value = (usize, Vec<u64>)> {
        (1usize..=8192).prop_flat_map(|n| {
            let nw = n.div_ceil(64);
            (
                Just(n),
                prop_oneof![
                    proptest::collection::vec(any::<u64>(), nw),
                    // sparse and dense maps exercise runs and empty groups
                    proptest::collection::vec(
                        prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>()],
                        nw
                    ),
                ],
            )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn hex_round_trips_and_has_the_documented_shape((n, w) in arb_bitmap()) {
            let s = hex(&w, n);
            prop_assert_eq!(parse_hex(&s, n), Some(set_of(&w, n)));
            prop_assert_eq!(s.len(), hex_len(n));
            let groups: Vec<&str> = s.split(',').collect();
            prop_assert_eq!(groups.len(), n.div_ceil(32));
            prop_assert!(groups[1..].iter().all(|g| g.len() == 8));
            prop_assert!(!s.bytes().any(|c| c.is_ascii_uppercase()));
        }

        #[test]
        fn list_round_trips_with_maximal_runs((n, w) in arb_bitmap()) {
            let s = list(&w, n);
            prop_assert_eq!(parse_list(&s, n), Some(set_of(&w, n)));
            // maximal runs: the next run starts at least two past the previous end
            let mut prev_end: Option<usize> = None;
            for run in s.split(',').filter(|r| !r.is_empty()) {
                let (a, b) = match run.split_once('-') {
                    Some((a, b)) => (a.parse::<usize>().unwrap(), b.parse::<usize>().unwrap()),
                    None => { let a = run.parse::<usize>().unwrap(); (a, a) }
                };
                prop_assert!(a <= b);
                if let Some(p) = prev_end { prop_assert!(a >= p + 2); }
                prev_end = Some(b);
            }
            prop_assert_eq!(s.is_empty(), set_of(&w, n).is_empty());
        }

        #[test]
        fn quiescent_lines_describe_the_same_set((n, w) in arb_bitmap()) {
            prop_assert_eq!(parse_hex(&hex(&w, n), n), parse_list(&list(&w, n), n));
        }

        #[test]
        fn hex_length_formula(n in 1usize..=8192) {
            let k = n.div_ceil(32);
            prop_assert_eq!(hex_len(n), (n - 32 * (k - 1)).div_ceil(4) + 9 * (k - 1));
            prop_assert_eq!(hex(&vec![0u64; n.div_ceil(64)], n).len(), hex_len(n));
        }

        #[test]
        fn parsers_reject_what_the_printer_never_emits(n in 33usize..=200, c in 0usize..200) {
            // uppercase, missing padding, non-maximal runs, out-of-range CPUs
            let s = hex(&words_of(&[], n), n).to_uppercase().replace('0', "A");
            prop_assert_eq!(parse_hex(&s, n), None);
            prop_assert_eq!(parse_list("4,5", n.max(6)), None);
            prop_assert_eq!(parse_list("5-4", n.max(6)), None);
            prop_assert_eq!(parse_list("01", n), None);
            if c >= n {
                prop_assert_eq!(parse_list(&c.to_string(), n), None);
            }
        }
    }
}
