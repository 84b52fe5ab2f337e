//! Byte mutations, AFL-style, with a small deterministic RNG (same seed, same cases).

/// SplitMix64: tiny, fast, and good enough to pick mutations.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

/// Values that break parsers: boundaries of the integer widths, lengths and magic bytes.
const INTERESTING: &[&[u8]] = &[
    &[0],
    &[0xff],
    &[0x7f],
    &[0x80],
    &[0xff, 0xff, 0xff, 0x7f],
    &[0xff, 0xff, 0xff, 0xff],
    &[0, 0, 0, 0x80],
    &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    b"PAR1",
    b"NaN",
    b"inf",
    b"-1",
    b"\n",
    b"\"",
    b",",
    b"\xef\xbf\xbd",
    b"\xff\xfe",
];

/// An offset, biased towards the end of the file one time in three (a Parquet footer: its
/// metadata, its length and the magic live in the last bytes).
fn offset(rng: &mut Rng, len: usize, tail_bias: bool) -> usize {
    if len == 0 {
        return 0;
    }
    if tail_bias && rng.chance(3) {
        let tail = len.min(512);
        len - 1 - rng.below(tail)
    } else {
        rng.below(len)
    }
}

/// Applies 1–4 random mutations to `b`.
pub fn mutate(rng: &mut Rng, b: &mut Vec<u8>, tail_bias: bool) {
    for _ in 0..=rng.below(4) {
        one(rng, b, tail_bias);
    }
}

fn one(rng: &mut Rng, b: &mut Vec<u8>, tail_bias: bool) {
    let at = offset(rng, b.len(), tail_bias);
    match rng.below(9) {
        0 if !b.is_empty() => b[at] ^= 1 << rng.below(8),
        1 if !b.is_empty() => b[at] = rng.next() as u8,
        2 if !b.is_empty() => {
            let n = 1 + rng.below(64.min(b.len() - at));
            b.drain(at..at + n);
        }
        3 => {
            let n = 1 + rng.below(32);
            let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            b.splice(at..at, bytes);
        }
        4 => b.truncate(at),
        5 => {
            let v = INTERESTING[rng.below(INTERESTING.len())];
            let end = (at + v.len()).min(b.len());
            b.splice(at..end, v.iter().copied());
        }
        6 if !b.is_empty() => {
            // Duplicate a run of bytes: repeated rows, doubled fields.
            let n = 1 + rng.below(256.min(b.len() - at));
            let run = b[at..at + n].to_vec();
            let to = rng.below(b.len());
            b.splice(to..to, run);
        }
        7 if b.len() > 1 => {
            // Copy a run over another place: lengths and offsets pointing elsewhere.
            let n = 1 + rng.below(16.min(b.len() - at));
            let run = b[at..at + n].to_vec();
            let to = rng.below(b.len() - n + 1);
            b[to..to + n].copy_from_slice(&run);
        }
        _ => {
            if !b.is_empty() {
                b[at] = b[at].wrapping_add(rng.below(35) as u8).wrapping_sub(17);
            }
        }
    }
}
