//! Enumerations: a place in a statement that a few values fill, each of them often.
//!
//! Whether a token is a constant or a value cannot be told from the token alone: `SOCKS5`
//! and `HTTPS` after `open through proxy <*>` are two statements, `bglio11` and `bglio49`
//! after `NFS Mount failed on` are one statement and two hosts. Its place in the log tells:
//! a value takes many values, most of them rarely (hosts, users, ids: a long tail), while the
//! words of an enumeration (protocols, verbs, states) are few and each is frequent. So a
//! cluster whose members differ at a place filled only by literal tokens (words, names with
//! digits) is split there when that place is an enumeration, and `merge_slots` does not join
//! clusters whose differing place is one.
//!
//! A few frequent words can still be values: three accounts that log in all day are three
//! users, not three statements. What gives them away is the rest of the log: the same words
//! fill a place elsewhere that is plainly a variable (`session closed for user <*>`, whose
//! values include a rare one). Tokens seen as the values of such a place are known values,
//! and a place that only known values fill is never an enumeration.

use super::{Interner, MinerConfig, Shape};

/// The enumeration test, with the number of lines behind each distinct message.
pub(super) struct Enums<'a> {
    max_values: usize,
    min_lines: u64,
    lines_of_seq: &'a [u64],
    /// By token id: seen filling a place that is a variable (see the module's docs).
    known_value: Vec<bool>,
}

impl<'a> Enums<'a> {
    pub(super) fn new(cfg: &MinerConfig, lines_of_seq: &'a [u64]) -> Self {
        Enums {
            max_values: cfg.enum_values,
            min_lines: cfg.enum_lines as u64,
            lines_of_seq,
            known_value: Vec::new(),
        }
    }

    /// Records `tokens` as the values of a place that is a variable.
    pub(super) fn learn_values(&mut self, tokens: impl Iterator<Item = u32>) {
        for t in tokens {
            let t = t as usize;
            if t >= self.known_value.len() {
                self.known_value.resize(t + 1, false);
            }
            self.known_value[t] = true;
        }
    }

    /// Whether every one of `tokens` is a known value.
    pub(super) fn all_known(&self, mut tokens: impl Iterator<Item = u32>) -> bool {
        tokens.all(|t| self.known_value.get(t as usize).copied().unwrap_or(false))
    }

    /// Lines per cluster, for clusters `0..n`.
    pub(super) fn lines_of_clusters(&self, cluster_of_seq: &[u32], n: usize) -> Vec<u64> {
        let mut lines = vec![0u64; n];
        for (s, &c) in cluster_of_seq.iter().enumerate() {
            lines[c as usize] += self.lines_of_seq[s];
        }
        lines
    }

    /// Whether the (token, lines) pairs filling one place make an enumeration: two to
    /// `max_values` distinct tokens, each on `min_lines` lines or more, not all known values.
    pub(super) fn is_enum(&self, values: impl Iterator<Item = (u32, u64)>) -> bool {
        self.tally(values).is_some_and(|t| self.enumerates(&t))
    }

    fn enumerates(&self, tally: &[(u32, u64)]) -> bool {
        tally.len() >= 2
            && tally.iter().all(|&(_, n)| n >= self.min_lines)
            && !self.all_known(tally.iter().map(|&(t, _)| t))
    }

    /// Lines per distinct token in order of first appearance; `None` past `max_values` tokens.
    fn tally(&self, values: impl Iterator<Item = (u32, u64)>) -> Option<Vec<(u32, u64)>> {
        if self.max_values == 0 {
            return None;
        }
        let mut t: Vec<(u32, u64)> = Vec::new();
        for (tok, n) in values {
            if let Some((_, m)) = t.iter_mut().find(|(x, _)| *x == tok) {
                *m += n;
            } else if t.len() == self.max_values {
                return None;
            } else {
                t.push((tok, n));
            }
        }
        Some(t)
    }

    /// Splits every cluster at the places where its members differ by an enumeration.
    pub(super) fn split(&self, seqs: &[Vec<u32>], toks: &Interner, cluster_of_seq: &mut [u32]) {
        if self.max_values == 0 {
            return;
        }
        let n = cluster_of_seq
            .iter()
            .map(|&c| c as usize + 1)
            .max()
            .unwrap_or(0);
        let mut members: Vec<Vec<u32>> = vec![Vec::new(); n];
        for (s, &c) in cluster_of_seq.iter().enumerate() {
            members[c as usize].push(s as u32);
        }
        let mut next = n as u32;
        for (c, m) in members.into_iter().enumerate() {
            if m.len() < 2 {
                continue;
            }
            let mut work = vec![(m, 0usize, c as u32)];
            while let Some((m, from, id)) = work.pop() {
                let Some((at, parts)) = self.first_enum(seqs, toks, &m, from) else {
                    for &s in &m {
                        cluster_of_seq[s as usize] = id;
                    }
                    continue;
                };
                for (k, part) in parts.into_iter().enumerate() {
                    let part_id = if k == 0 { id } else { next };
                    if k > 0 {
                        next += 1;
                    }
                    work.push((part, at + 1, part_id));
                }
            }
        }
    }

    /// The first place from `from` on where `m`'s members differ by an enumeration, and the
    /// members parted by their token there (in order of the tokens' first appearance).
    fn first_enum(
        &self,
        seqs: &[Vec<u32>],
        toks: &Interner,
        m: &[u32],
        from: usize,
    ) -> Option<(usize, Vec<Vec<u32>>)> {
        let len = m.iter().map(|&s| seqs[s as usize].len()).min()?;
        let first = &seqs[m[0] as usize];
        (from..len).find_map(|p| {
            let at = |s: &u32| seqs[*s as usize][p];
            if m.iter().all(|s| at(s) == first[p]) {
                return None;
            }
            let literal = |s: &u32| matches!(toks.shape(at(s)), Shape::Const | Shape::Digits);
            if !m.iter().all(literal) {
                return None;
            }
            let values = m.iter().map(|s| (at(s), self.lines_of_seq[*s as usize]));
            let tally = self.tally(values)?;
            if !self.enumerates(&tally) {
                return None;
            }
            let parts = tally
                .iter()
                .map(|&(tok, _)| m.iter().copied().filter(|s| at(s) == tok).collect())
                .collect();
            Some((p, parts))
        })
    }
}
