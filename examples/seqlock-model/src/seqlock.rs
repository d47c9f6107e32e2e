//! A seqcount-protected pair of words (`include/linux/seqlock.h`): one writer runs `writes`
//! write sections, one reader runs a read section and retries while the sequence count says a
//! writer interfered. Variants leave out one barrier or the retry.
//!
//! Write section `k` (1, 2, ...) stores `k` into both words, so a reader's snapshot is
//! consistent when both words are equal, and current when they equal `start / 2`, the number
//! of write sections the even sequence count it began with announced.

use kmodel_harness::prelude::*;

properties! {
    SNAPSHOT_CONSISTENT = "snapshot-consistent":
        "a read section that read_seqcount_retry() lets through saw both words from the \
         same write section (no torn read)";
    SNAPSHOT_MATCHES_SEQUENCE = "snapshot-matches-sequence":
        "the words a read section keeps are those of the write section its even sequence \
         count announced (start / 2), neither older nor newer";
}

params! {
    /// The scene's knobs.
    pub struct Knobs {
        writes: u32 = 1, 1..=3, "write sections the writer performs while the reader reads";
    }
}

/// What a variant keeps of the seqcount protocol (its typed design).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Design {
    /// `smp_wmb()` in `write_seqcount_end()`, before the sequence count becomes even again.
    pub end_wmb: bool,
    /// `smp_rmb()` in `read_seqcount_begin()` and `read_seqcount_retry()`.
    pub reader_rmb: bool,
    /// The reader calls `read_seqcount_retry()` and retries when it returns true.
    pub retry: bool,
}

const VARIANTS: &[Variant<Design>] = &[
    Variant::new(
        "correct",
        "write_seqcount_begin/end with both smp_wmb(), read_seqcount_begin/retry with \
         smp_rmb(), the reader retries",
        Design {
            end_wmb: true,
            reader_rmb: true,
            retry: true,
        },
    ),
    Variant::new(
        "writer-no-end-wmb",
        "write_seqcount_end() without its smp_wmb(): the data stores may become visible \
         after the even sequence count",
        Design {
            end_wmb: false,
            reader_rmb: true,
            retry: true,
        },
    )
    .expect(expect![
        SNAPSHOT_CONSISTENT => ViolatedWeakMemory,
        SNAPSHOT_MATCHES_SEQUENCE => ViolatedWeakMemory,
    ]),
    Variant::new(
        "reader-no-rmb",
        "read_seqcount_begin() and read_seqcount_retry() without smp_rmb(): the data \
         loads may be satisfied outside the two sequence count loads",
        Design {
            end_wmb: true,
            reader_rmb: false,
            retry: true,
        },
    )
    .expect(expect![
        SNAPSHOT_CONSISTENT => ViolatedWeakMemory,
        SNAPSHOT_MATCHES_SEQUENCE => ViolatedWeakMemory,
    ]),
    Variant::new(
        "reader-no-retry",
        "the reader trusts read_seqcount_begin() alone and never calls \
         read_seqcount_retry()",
        Design {
            end_wmb: true,
            reader_rmb: true,
            retry: false,
        },
    )
    .expect(expect![
        SNAPSHOT_CONSISTENT => Violated,
        SNAPSHOT_MATCHES_SEQUENCE => Violated,
    ]),
];

/// The seqlock model, as the registry holds it (`&MODEL`).
pub struct Seqlock;
pub static MODEL: Seqlock = Seqlock;

impl KernelModel for Seqlock {
    type Design = Design;
    type Params = Knobs;
    type Scenes = NoScenes<Design>;

    const CARD: &'static ModelCard = &ModelCard {
        name: "seqlock",
        question: "Does a seqcount reader that read_seqcount_retry() lets through always keep one \
               write section's data, and which barrier or step is each part of that guarantee?",
        references: &[
            "include/linux/seqlock.h: write_seqcount_begin(), write_seqcount_end(), \
         read_seqcount_begin(), read_seqcount_retry()",
            "Documentation/locking/seqlock.rst",
        ],
        properties: PROPERTIES,
        source: sources!["seqlock.rs"],
        port: None,
    };
    const VARIANTS: &'static [Variant<Design>] = VARIANTS;

    fn scenario(design: &Design, params: &Knobs) -> Scenario {
        scenario(design, params)
    }
}

/// `seqcount_t` and the two words it protects.
struct Seq {
    sequence: AtomicU32,
    a: AtomicU32,
    b: AtomicU32,
}

/// `write_seqcount_begin()`: `s->sequence++; smp_wmb();` (writers are serialized by their own
/// lock, here there is one writer).
fn write_seqcount_begin(s: &Seq) {
    let seq = read_once(&s.sequence) + 1;
    write_once(&s.sequence, seq);
    ev!("write_seqcount_begin", "sequence = {seq}");
    smp_wmb();
}

/// `write_seqcount_end()`: `smp_wmb(); s->sequence++;`.
fn write_seqcount_end(s: &Seq, d: Design) {
    if d.end_wmb {
        smp_wmb();
    }
    let seq = read_once(&s.sequence) + 1;
    write_once(&s.sequence, seq);
    ev!("write_seqcount_end", "sequence = {seq}");
}

/// `read_seqcount_begin()`: spin while the count is odd (a writer is inside), then `smp_rmb()`.
/// `None` when the harness gave up the spin (a livelock it reports itself).
fn read_seqcount_begin(s: &Seq, d: Design) -> Option<u32> {
    let mut spin = Spinner::new("read_seqcount_begin");
    let start = loop {
        let seq = read_once(&s.sequence);
        if seq & 1 == 0 {
            break seq;
        }
        if !spin.relax() {
            return None;
        }
    };
    if d.reader_rmb {
        smp_rmb();
    }
    ev!("read_seqcount_begin", "start = {start}");
    Some(start)
}

/// `read_seqcount_retry()`: `smp_rmb();` then whether the count moved since `start`.
fn read_seqcount_retry(s: &Seq, start: u32, d: Design) -> bool {
    if d.reader_rmb {
        smp_rmb();
    }
    let seq = read_once(&s.sequence);
    ev!(
        "read_seqcount_retry",
        "sequence = {seq}, start = {start}: retry = {}",
        seq != start
    );
    seq != start
}

fn scenario(design: &Design, k: &Knobs) -> Scenario {
    let (d, k) = (*design, *k);
    Arc::new(move || {
        let s = Arc::new(Seq {
            sequence: AtomicU32::new(0),
            a: AtomicU32::new(0),
            b: AtomicU32::new(0),
        });
        let w = s.clone();
        let writer = spawn("CPU0 writer", move || {
            for n in 1..=k.writes {
                write_seqcount_begin(&w);
                write_once(&w.a, n);
                ev!("WRITE_ONCE", "a = {n}");
                write_once(&w.b, n);
                ev!("WRITE_ONCE", "b = {n}");
                write_seqcount_end(&w, d);
            }
        });
        let reader = spawn("CPU1 reader", move || loop {
            let Some(start) = read_seqcount_begin(&s, d) else {
                return;
            };
            let a = read_once(&s.a);
            ev!("READ_ONCE", "a = {a}");
            let b = read_once(&s.b);
            ev!("READ_ONCE", "b = {b}");
            if d.retry && read_seqcount_retry(&s, start, d) {
                continue;
            }
            check(SNAPSHOT_CONSISTENT, a == b, || {
                format!("kept a = {a}, b = {b}: a torn read")
            });
            check(
                SNAPSHOT_MATCHES_SEQUENCE,
                a == start / 2 && b == start / 2,
                || {
                    format!(
                    "kept a = {a}, b = {b} under start = {start}, which announces write section {}",
                    start / 2
                )
                },
            );
            return;
        });
        writer.join();
        reader.join();
    })
}
