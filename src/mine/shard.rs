//! `--shard K/N`: which worker mines which incident.
//!
//! Assignment hashes the incident id with FNV-1a (64-bit), written out here because std's
//! `DefaultHasher` is randomly keyed per process and its algorithm may change between Rust
//! releases: N workers on N machines, possibly built by different compilers, must agree on
//! who mines what. K is 1-based (`1/4` … `4/4`), like "part 1 of 4".

use std::fmt;
use std::str::FromStr;

/// FNV-1a, 64-bit. See: <http://www.isthe.com/chongo/tech/comp/fnv/>
#[must_use]
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes
        .iter()
        .fold(OFFSET, |h, b| (h ^ u64::from(*b)).wrapping_mul(PRIME))
}

/// One share of the incidents: shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1..=count.
    pub index: u32,
    /// Number of shards, ≥ 1.
    pub count: u32,
}

impl Shard {
    /// Whether this shard mines the incident with this id.
    #[must_use]
    pub fn owns(&self, incident_id: &str) -> bool {
        fnv1a64(incident_id.as_bytes()) % u64::from(self.count) == u64::from(self.index - 1)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("`{s}` is not a shard such as 1/4 (K/N with 1 ≤ K ≤ N; K is 1-based)");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = k.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        // From the FNV reference test suite.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn assignment_is_stable_across_runs() {
        // Pinned: changing the hash would silently move incidents between workers mid-rollout.
        let owners: Vec<u32> = ["redis-1", "live-rt-jitter-1", "pod-7", "mysql-42"]
            .iter()
            .map(|id| {
                (1..=4)
                    .find(|k| {
                        Shard {
                            index: *k,
                            count: 4,
                        }
                        .owns(id)
                    })
                    .unwrap_or(0)
            })
            .collect();
        let again: Vec<u32> = ["redis-1", "live-rt-jitter-1", "pod-7", "mysql-42"]
            .iter()
            .map(|id| u32::try_from(fnv1a64(id.as_bytes()) % 4).unwrap_or(0) + 1)
            .collect();
        assert_eq!(owners, again);
        assert_eq!(owners, PINNED.to_vec());
    }

    const PINNED: [u32; 4] = [3, 4, 1, 3];

    #[test]
    fn every_incident_has_exactly_one_owner() {
        for n in 1..=7 {
            for i in 0..200 {
                let id = format!("incident-{i}");
                let owners = (1..=n)
                    .filter(|k| {
                        Shard {
                            index: *k,
                            count: n,
                        }
                        .owns(&id)
                    })
                    .count();
                assert_eq!(owners, 1, "{id} with {n} shards");
            }
        }
    }

    #[test]
    fn shards_parse_one_based() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        assert_eq!(
            "1/1".parse::<Shard>().map(|s| s.to_string()),
            Ok("1/1".to_string())
        );
        for bad in ["0/3", "4/3", "1/0", "x/2", "3", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
