//! Kernel bitmaps (`unsigned long` words, `BITS_PER_LONG` = 64) with KASAN-style bounds checks.
//!
//! Every operation checks its bit index against the bitmap's size. An out-of-range index is
//! reported as a violation of the property the owner named (as KASAN would report the access)
//! and the access is skipped, never wrapped. The words are [`Plain`] variables: the atomic
//! bitops and `test_bit()` are marked accesses (instrumented as atomics), the scans
//! (`find_*_bit()`, `bitmap_weight()`, `bitmap[word]`) plain loads, as in lib/find_bit.c, so a
//! scan concurrent with a bitop is a data race (LKMM), as KCSAN would report it.

use crate::rt::{fatal_violation, PropertyId};
use crate::sync::{Ordering, Plain};

pub const BITS_PER_LONG: usize = 64;

/// `BITS_TO_LONGS(nbits)`.
pub const fn bits_to_longs(nbits: usize) -> usize {
    nbits.div_ceil(BITS_PER_LONG)
}

/// A bitmap of `nbits` bits whose words are shared variables, so lock-free readers race for
/// real.
#[derive(Debug)]
pub struct Bitmap {
    words: Vec<Plain<u64>>,
    nbits: usize,
    /// Property violated by an out-of-range access.
    oob_property: PropertyId,
    name: &'static str,
}

impl Bitmap {
    /// `DECLARE_BITMAP(name, nbits)`, zeroed. `oob_property` is the property an out-of-range
    /// access violates.
    pub fn new(name: &'static str, nbits: usize, oob_property: PropertyId) -> Self {
        Bitmap {
            words: (0..bits_to_longs(nbits))
                .map(|_| Plain::new(name, 0))
                .collect(),
            nbits,
            oob_property,
            name,
        }
    }

    pub fn nbits(&self) -> usize {
        self.nbits
    }

    /// An out-of-range access is fatal for the execution: the kernel would have corrupted
    /// memory, so nothing the model does after skipping it is meaningful.
    fn in_bounds(&self, op: &str, bit: usize) -> bool {
        let ok = bit < self.nbits;
        if !ok {
            fatal_violation(
                self.oob_property,
                format!(
                    "{op}({bit}) on {} beyond its {} bits (out-of-bounds access)",
                    self.name, self.nbits
                ),
            );
        }
        ok
    }

    fn word(&self, bit: usize) -> (&Plain<u64>, u64) {
        (
            &self.words[bit / BITS_PER_LONG],
            1u64 << (bit % BITS_PER_LONG),
        )
    }

    /// `set_bit()` / `cpumask_set_cpu()`: atomic, unordered.
    pub fn set_bit(&self, bit: usize) {
        if self.in_bounds("set_bit", bit) {
            let (w, m) = self.word(bit);
            w.fetch_or(m, Ordering::Relaxed);
        }
    }

    /// `clear_bit()` / `cpumask_clear_cpu()`: atomic, unordered.
    pub fn clear_bit(&self, bit: usize) {
        if self.in_bounds("clear_bit", bit) {
            let (w, m) = self.word(bit);
            w.fetch_and(!m, Ordering::Relaxed);
        }
    }

    /// `__set_bit()`: the non-atomic form, a plain read-modify-write of the word.
    pub fn __set_bit(&self, bit: usize) {
        if self.in_bounds("__set_bit", bit) {
            let (w, m) = self.word(bit);
            w.plain_write(w.plain_read() | m);
        }
    }

    /// `__clear_bit()`: the non-atomic form, a plain read-modify-write of the word.
    pub fn __clear_bit(&self, bit: usize) {
        if self.in_bounds("__clear_bit", bit) {
            let (w, m) = self.word(bit);
            w.plain_write(w.plain_read() & !m);
        }
    }

    /// `test_bit()` / `cpumask_test_cpu()`: a marked load (`instrument_atomic_read()`).
    pub fn test_bit(&self, bit: usize) -> bool {
        if !self.in_bounds("test_bit", bit) {
            return false;
        }
        let (w, m) = self.word(bit);
        w.load(Ordering::Relaxed) & m != 0
    }

    /// `test_and_set_bit()`: fully ordered RMW, returns the old bit.
    pub fn test_and_set_bit(&self, bit: usize) -> bool {
        if !self.in_bounds("test_and_set_bit", bit) {
            return true;
        }
        let (w, m) = self.word(bit);
        crate::sync::full_rmw(|| w.fetch_or(m, Ordering::Relaxed)) & m != 0
    }

    /// `test_and_clear_bit()`: fully ordered RMW, returns the old bit.
    pub fn test_and_clear_bit(&self, bit: usize) -> bool {
        if !self.in_bounds("test_and_clear_bit", bit) {
            return false;
        }
        let (w, m) = self.word(bit);
        crate::sync::full_rmw(|| w.fetch_and(!m, Ordering::Relaxed)) & m != 0
    }

    /// `__clear_bit()`-style release store of a bit (`clear_bit_unlock()`).
    pub fn clear_bit_unlock(&self, bit: usize) {
        if self.in_bounds("clear_bit_unlock", bit) {
            let (w, m) = self.word(bit);
            w.fetch_and(!m, Ordering::Release);
        }
    }

    /// Word `i` read plainly (`bitmap[i]`), for chunked readers such as `%*pb`.
    pub fn read_word(&self, i: usize) -> u64 {
        self.words[i].plain_read()
    }

    pub fn nwords(&self) -> usize {
        self.words.len()
    }

    /// `find_next_bit(bitmap, size, start)` scanning word by word with plain loads
    /// (`FIND_NEXT_BIT(addr[idx], ...)` in lib/find_bit.c). Returns `size` when none is found.
    pub fn find_next_bit(&self, size: usize, start: usize) -> usize {
        self.find_next(size, start, false)
    }

    /// `find_next_zero_bit(bitmap, size, start)`.
    pub fn find_next_zero_bit(&self, size: usize, start: usize) -> usize {
        self.find_next(size, start, true)
    }

    /// `find_first_zero_bit(bitmap, size)`.
    pub fn find_first_zero_bit(&self, size: usize) -> usize {
        self.find_next(size, 0, true)
    }

    /// `find_first_bit(bitmap, size)`.
    pub fn find_first_bit(&self, size: usize) -> usize {
        self.find_next(size, 0, false)
    }

    fn find_next(&self, size: usize, start: usize, invert: bool) -> usize {
        if size > self.nbits {
            self.in_bounds("find_next_bit", size - 1);
            return size;
        }
        find_next_in(|i| self.words[i].plain_read(), size, start, invert)
    }

    /// `bitmap_weight()` (word-by-word plain loads).
    pub fn weight(&self) -> usize {
        self.words
            .iter()
            .map(|w| w.plain_read().count_ones() as usize)
            .sum()
    }
}

/// `_find_next_bit()` over any word source: word-at-a-time scan, one `load_word(i)` per word
/// visited, result clamped to `size`; `invert` scans for zero bits. No bounds check: callers
/// check `size` against their bitmap.
pub fn find_next_in(
    load_word: impl Fn(usize) -> u64,
    size: usize,
    start: usize,
    invert: bool,
) -> usize {
    let mut bit = start;
    while bit < size {
        let i = bit / BITS_PER_LONG;
        let mut w = load_word(i);
        if invert {
            w = !w;
        }
        w &= u64::MAX << (bit % BITS_PER_LONG);
        if w != 0 {
            return (i * BITS_PER_LONG + w.trailing_zeros() as usize).min(size);
        }
        bit = (i + 1) * BITS_PER_LONG;
    }
    size
}
