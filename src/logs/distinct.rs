//! The first pass of the miner: mask each message and keep one copy of each distinct masked
//! message, in order of first appearance. Real logs repeat a few shapes millions of times, so
//! this is the per-line hot path; everything after it runs once per distinct message.
//!
//! Distinct messages live in one string arena, found through an open-addressing table of
//! their hashes, so a line costs one masking pass, one hash and (usually) one comparison,
//! with no allocation.

use super::masks::mask_line;

/// Masked distinct messages and the one each line maps to.
#[derive(Default)]
pub(crate) struct Distinct {
    /// All distinct masked messages, concatenated.
    text: String,
    /// `text[ends[i - 1]..ends[i]]` is message `i`.
    ends: Vec<usize>,
    hashes: Vec<u64>,
    /// Slots hold `id + 1`; 0 is empty. Length is a power of two, at most half full.
    table: Vec<u32>,
    buf: String,
    /// The distinct message of each line pushed so far.
    pub(crate) seq_of_line: Vec<u32>,
}

impl Distinct {
    /// Masks `content` and records which distinct message it is.
    pub(crate) fn push(&mut self, content: &str) {
        self.buf.clear();
        mask_line(content, &mut self.buf);
        let h = hash(self.buf.as_bytes());
        if self.table.len() < 2 * (self.ends.len() + 1) {
            self.grow();
        }
        let mask = self.table.len() - 1;
        let mut at = h as usize & mask;
        loop {
            let slot = self.table[at];
            if slot == 0 {
                break;
            }
            let id = slot as usize - 1;
            if self.hashes[id] == h && self.get(id) == self.buf {
                self.seq_of_line.push(id as u32);
                return;
            }
            at = (at + 1) & mask;
        }
        let id = self.ends.len();
        self.table[at] = id as u32 + 1;
        self.text.push_str(&self.buf);
        self.ends.push(self.text.len());
        self.hashes.push(h);
        self.seq_of_line.push(id as u32);
    }

    /// Number of distinct messages.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Distinct message `id`.
    pub(crate) fn get(&self, id: usize) -> &str {
        let start = if id == 0 { 0 } else { self.ends[id - 1] };
        &self.text[start..self.ends[id]]
    }

    fn grow(&mut self) {
        let size = (self.table.len() * 2).max(1024);
        let mask = size - 1;
        let mut table = vec![0u32; size];
        for (id, &h) in self.hashes.iter().enumerate() {
            let mut at = h as usize & mask;
            while table[at] != 0 {
                at = (at + 1) & mask;
            }
            table[at] = id as u32 + 1;
        }
        self.table = table;
    }
}

/// FxHash-style word-at-a-time hash with a final mix (the table uses the low bits).
fn hash(b: &[u8]) -> u64 {
    const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    let mut h = b.len() as u64;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    h ^ (h >> 29)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedups_in_order_of_first_appearance() {
        let mut d = Distinct::default();
        for i in 0..5000 {
            let k = i % 700;
            let kind: String = [k / 26 / 26, k / 26 % 26, k % 26]
                .iter()
                .map(|&c| (b'a' + c as u8) as char)
                .collect();
            d.push(&format!("job {i} kind {kind}"));
        }
        d.push("");
        d.push("   ");
        assert_eq!(d.len(), 701);
        assert_eq!(d.get(0), "job <*> kind aaa");
        assert_eq!(d.get(700), "");
        assert_eq!(d.seq_of_line[..3], [0, 1, 2]);
        assert_eq!(d.seq_of_line[700], 0);
        assert_eq!(d.seq_of_line[5000..], [700, 700]);
    }
}
