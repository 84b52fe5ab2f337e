//! The crate's hash for hot maps and tables: foldhash (the hash polars and hashbrown use) with a
//! fixed seed. Keys are short strings and ids hashed once per row or per line, where std's
//! DoS-resistant SipHash costs more than the work around it; they come from the files being
//! read, offline, so there is no attacker to resist. The seed is fixed so that a map's order is
//! the same on every run, though nothing iterates a map in hash order into an output.

use std::hash::BuildHasher;

/// The fixed-seed foldhash state.
pub(crate) type FastState = foldhash::fast::FixedState;

/// A `HashMap` hashed with [`FastState`].
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, FastState>;

/// The hash of `b` for [`hashbrown::HashTable`]s of byte strings.
#[inline]
pub(crate) fn hash(b: &[u8]) -> u64 {
    FastState::default().hash_one(b)
}
