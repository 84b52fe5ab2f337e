//! FxHash, the multiply-rotate hash of rustc and Firefox, for the crate's hot hash maps and
//! tables: keys are short strings and token ids hashed once per row or per line, where std's
//! DoS-resistant SipHash cost more than the work around it. Keys come from the files being
//! read, offline, so there is no attacker to resist. Nothing iterates a map in hash order into
//! an output, so the hash never decides what a report says.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// One step: folds the word `w` into the state `h`.
#[inline]
pub(crate) fn mix(h: u64, w: u64) -> u64 {
    (h.rotate_left(5) ^ w).wrapping_mul(K)
}

/// The hasher, eight bytes at a time, then byte by byte.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.0 = mix(
                self.0,
                u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
            );
        }
        for &b in chunks.remainder() {
            self.0 = mix(self.0, u64::from(b));
        }
    }

    fn write_u32(&mut self, i: u32) {
        self.0 = mix(self.0, u64::from(i));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` with [`FxHasher`].
pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// [`FxHasher`] over `b`.
pub(crate) fn hash(b: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(b);
    h.finish()
}

/// For open-addressing tables that index by the low bits: `b`'s length, then its words (the
/// last one zero-padded), then a final mix that brings the high bits down.
pub(crate) fn hash_words(b: &[u8]) -> u64 {
    let mut h = b.len() as u64;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        h = mix(
            h,
            u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
        );
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = mix(h, u64::from_le_bytes(w));
    }
    h ^ (h >> 29)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_stay_put() {
        // The values the three former copies gave, so tables and maps behave as before.
        assert_eq!(hash(b""), 0);
        assert_eq!(hash(b"a"), 97u64.wrapping_mul(K));
        let h = mix(mix(0, u64::from_le_bytes(*b"abcdefgh")), u64::from(b'i'));
        assert_eq!(hash(b"abcdefghi"), h);
        let mut w = [0u8; 8];
        w[0] = b'i';
        let h = mix(
            mix(9, u64::from_le_bytes(*b"abcdefgh")),
            u64::from_le_bytes(w),
        );
        assert_eq!(hash_words(b"abcdefghi"), h ^ (h >> 29));
        let mut f = FxHasher::default();
        f.write_u32(7);
        assert_eq!(f.finish(), 7u64.wrapping_mul(K));
    }
}
