//! The first pass of the miner: mask each message and keep one copy of each distinct masked
//! message, in order of first appearance. Real logs repeat a few shapes millions of times, so
//! this is the per-line hot path; everything after it runs once per distinct message.
//!
//! Distinct messages live in one string arena, found through a table of their hashes, so a
//! line costs one masking pass, one hash and (usually) one comparison, with no allocation.
//!
//! Most lines skip the masking pass: lines that differ only in their digits (`took 31 ms`,
//! `took 7 ms`; the common case in real logs) mask alike, so a memo maps each content with its
//! digits blanked to the distinct message it masked to. That is exact: the masker decides on
//! byte classes, in which all digits are the same (the one place it looks at a digit's value,
//! `0x`, gives a wildcard for any digit there, see `masks::tests`), and a line is memoised only
//! when its masked form keeps none of its digits, so equal keys copy no digits that differ.

use hashbrown::HashTable;

use super::masks::mask_line;
use crate::hashing::hash;

/// Masked distinct messages and the one each line maps to.
#[derive(Default)]
pub(crate) struct Distinct {
    messages: Arena,
    buf: String,
    /// The distinct message of each line pushed so far.
    pub(crate) seq_of_line: Vec<u32>,
    memo: Memo,
}

impl Distinct {
    /// Masks `content` and records which distinct message it is.
    pub(crate) fn push(&mut self, content: &str) {
        self.memo.review();
        if self.memo.off {
            let id = self.insert(content);
            self.seq_of_line.push(id);
            return;
        }
        let key = self.memo.key(content);
        self.memo.lookups += 1;
        if let Some(id) = self.memo.get(key) {
            self.memo.hits += 1;
            self.seq_of_line.push(id);
            return;
        }
        let id = self.insert(content);
        self.seq_of_line.push(id);
        if !self.get(id as usize).bytes().any(|c| c.is_ascii_digit()) {
            self.memo.insert(key, id);
        }
    }

    /// Masks `content` and returns the id of its masked form, adding it when new.
    fn insert(&mut self, content: &str) -> u32 {
        self.buf.clear();
        mask_line(content, &mut self.buf);
        let h = hash(self.buf.as_bytes());
        match self.messages.find(self.buf.as_bytes(), h) {
            Some(id) => id,
            None => self.messages.add(&self.buf, h),
        }
    }

    /// Number of distinct messages.
    pub(crate) fn len(&self) -> usize {
        self.messages.len()
    }

    /// Distinct message `id`.
    pub(crate) fn get(&self, id: usize) -> &str {
        self.messages.get(id)
    }
}

/// Strings in one arena, numbered in order of addition and found through a table of ids by
/// hash: no allocation per string.
#[derive(Default)]
struct Arena {
    /// All strings, concatenated.
    text: String,
    /// `text[ends[i - 1]..ends[i]]` is string `i`.
    ends: Vec<usize>,
    hashes: Vec<u64>,
    table: HashTable<u32>,
}

impl Arena {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn get(&self, id: usize) -> &str {
        let start = if id == 0 { 0 } else { self.ends[id - 1] };
        &self.text[start..self.ends[id]]
    }

    /// The id of `b`, whose hash is `h`.
    fn find(&self, b: &[u8], h: u64) -> Option<u32> {
        self.table
            .find(h, |&id| self.get(id as usize).as_bytes() == b)
            .copied()
    }

    /// Adds `s` (known to be absent), whose hash is `h`; returns its id.
    fn add(&mut self, s: &str, h: u64) -> u32 {
        let id = self.ends.len() as u32;
        self.text.push_str(s);
        self.ends.push(self.text.len());
        self.hashes.push(h);
        let hashes = &self.hashes;
        self.table.insert_unique(h, id, |&i| hashes[i as usize]);
        id
    }
}

/// Bytes of memo keys kept at most: past it, new shapes are masked every time (still exact).
const MEMO_BYTES: usize = 64 << 20;

/// Lines after which the memo's hit rate is judged, and the share of hits below which it is
/// turned off.
const MEMO_TRIAL: u64 = 4096;
const MEMO_MIN_HITS: u64 = MEMO_TRIAL / 8;

/// Contents with their digits blanked to `0`, each with the distinct message it masks to.
#[derive(Default)]
struct Memo {
    keys: Arena,
    /// The distinct message of each key.
    ids: Vec<u32>,
    buf: Vec<u8>,
    lookups: u64,
    hits: u64,
    /// Off for good: lines carrying ids with letters in them (trace ids, UUIDs) differ in more
    /// than their digits, so almost no key repeats and the memo only costs a key and an
    /// insertion per line (a quarter of a Spring Boot log's mining time). Exact either way.
    off: bool,
}

impl Memo {
    /// Turns the memo off once its trial is over, when it hit on fewer than one line in eight.
    fn review(&mut self) {
        if !self.off && self.lookups == MEMO_TRIAL && self.hits < MEMO_MIN_HITS {
            self.off = true;
            self.keys = Arena::default();
            self.ids = Vec::new();
        }
    }

    /// Blanks `content`'s digits into the key buffer; returns the key's hash.
    fn key(&mut self, content: &str) -> u64 {
        self.buf.clear();
        blank_digits(content.as_bytes(), &mut self.buf);
        hash(&self.buf)
    }

    /// The message stored for the key in the buffer.
    fn get(&self, h: u64) -> Option<u32> {
        let k = self.keys.find(&self.buf, h)?;
        Some(self.ids[k as usize])
    }

    /// Stores `id` for the key in the buffer (known to be absent), unless the memo is full.
    fn insert(&mut self, h: u64, id: u32) {
        if self.keys.text.len() + self.buf.len() > MEMO_BYTES {
            return;
        }
        // Blanking ASCII digits keeps the content's UTF-8 whole.
        if let Ok(key) = std::str::from_utf8(&self.buf) {
            self.keys.add(key, h);
            self.ids.push(id);
        }
    }
}

/// Appends `b` with every ASCII digit replaced by `0`, eight bytes at a time (a rewrite of
/// every digit, not a search, so memchr has nothing to offer).
fn blank_digits(b: &[u8], out: &mut Vec<u8>) {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        // Per byte, with the high bit cleared so additions cannot carry into the next byte:
        // x >= '0' sets bit 7 of x + 0x50, x > '9' sets bit 7 of x + 0x46.
        let x = w & !HI;
        let digit = (x + 0x50 * LO) & !(x + 0x46 * LO) & !w & HI;
        // A digit is 0x30..=0x39: clearing its low nibble makes it '0'.
        out.extend_from_slice(&(w & !((digit >> 7) * 0x0F)).to_le_bytes());
    }
    out.extend(
        chunks
            .remainder()
            .iter()
            .map(|&c| if c.is_ascii_digit() { b'0' } else { c }),
    );
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

    #[test]
    fn blanks_digits_only() {
        let all: Vec<u8> = (0..=255u8).chain(b"x9y0z5".iter().copied()).collect();
        let mut out = Vec::new();
        blank_digits(&all, &mut out);
        let want: Vec<u8> = all
            .iter()
            .map(|&c| if c.is_ascii_digit() { b'0' } else { c })
            .collect();
        assert_eq!(out, want);
    }

    #[test]
    fn memo_gives_what_masking_gives() {
        // Same shape, other digits: memo hits must equal fresh masking, including where the
        // masked form keeps digits (`s3://`), which is never memoised.
        let lines = [
            "took 31 ms at 0x1f on 10.0.0.1:80",
            "took 72 ms at 0x9a on 10.2.3.4:81",
            "took 72 ms at 1x9a on 10.2.3.4:81",
            "read s3://bucket/7 in 5s",
            "read s4://bucket/7 in 5s",
            "job_12_0003 of worker-7 exited 0",
            "job_98_7654 of worker-1 exited 1",
        ];
        let mut d = Distinct::default();
        for l in lines {
            d.push(l);
        }
        let got: Vec<&str> = d.seq_of_line.iter().map(|&i| d.get(i as usize)).collect();
        let want: Vec<String> = lines
            .iter()
            .map(|l| {
                let mut s = String::new();
                mask_line(l, &mut s);
                s
            })
            .collect();
        assert_eq!(got, want);
        assert_eq!(got[4], "read s4://<*> in <*>");
    }

    #[test]
    fn a_memo_that_never_hits_turns_off_and_a_useful_one_stays() {
        // Trace ids of hex letters only, so no two keys alike (and no digits to blank).
        let id = |mut i: u64| -> String {
            (0..16)
                .map(|_| {
                    let c = char::from(b'a' + (i % 6) as u8);
                    i /= 6;
                    c
                })
                .collect()
        };
        let ids: Vec<String> = (0..MEMO_TRIAL + 10)
            .map(|i| format!("span {} done", id(i)))
            .collect();
        let mut d = Distinct::default();
        for l in &ids {
            d.push(l);
        }
        assert!(d.memo.off);
        assert_eq!(d.len(), 1, "{}", d.get(0));
        let mut d = Distinct::default();
        for i in 0..MEMO_TRIAL + 10 {
            d.push(&format!("took {i} ms"));
        }
        assert!(!d.memo.off && d.memo.hits > MEMO_TRIAL - 10);
    }
}
