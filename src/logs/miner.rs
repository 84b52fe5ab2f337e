//! The template miner: groups log messages into templates.
//!
//! Messages are masked (see `masks`), deduplicated, and the distinct masked token
//! sequences are clustered Drain-style: a fixed-depth key (token count + leading constant
//! tokens) picks candidate clusters and a similarity threshold picks one. Post-passes then
//! merge clusters whose templates differ only where many values fill one place, and split
//! clusters where a few values, each frequent, do (`enums`: protocol names, verbs, states).
//! Both decisions are taken from the counts in the log itself, never from a vocabulary. Labelling is
//! two-pass: every line gets its cluster's final template, and cluster ids are numbered
//! by first appearance, so the same input always gives the same output.

use hashbrown::HashTable;

use super::distinct::Distinct;
use super::format::LogFormat;
use super::masks::{WILDCARD, is_code_location};
use crate::hashing::{self, FastMap};
use merge::merge_slots;

/// Tuning knobs. `Default` is the one configuration meant to work across systems.
#[derive(Debug, Clone, PartialEq)]
pub struct MinerConfig {
    /// Leading tokens (after the token count) that must agree for two messages to be compared.
    pub depth: usize,
    /// Minimum share of positions that must agree for a message to join a cluster.
    pub similarity: f64,
    /// Merge clusters whose templates differ in one position only, when at least this many
    /// distinct values fill that position: a slot with many values is a variable even when
    /// its values are words (user names, host names). 0 disables the merge.
    pub slot_values: usize,
    /// A place filled by at most this many distinct constants, each on at least `enum_lines`
    /// lines, is an enumeration (`HTTPS`/`SOCKS5`, `GET`/`POST`, `OPEN`/`CLOSED`): its values
    /// are kept apart instead of becoming `<*>`. 0 disables.
    pub enum_values: usize,
    /// See `enum_values`.
    pub enum_lines: usize,
}

impl Default for MinerConfig {
    fn default() -> Self {
        MinerConfig {
            depth: 2,
            similarity: 0.5,
            slot_values: 4,
            enum_values: 4,
            enum_lines: 3,
        }
    }
}

/// The result of mining: a cluster id per input line and the final template of each cluster.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mined {
    /// The template id of each input line, in input order.
    pub cluster_of_line: Vec<u32>,
    /// `templates[id]`, ids numbered in order of first appearance.
    pub templates: Vec<String>,
}

/// Mines `lines`, taking each line's `<Content>` when `format` is given and the line matches
/// it, and the whole line otherwise (lines are never dropped).
pub fn mine_lines(lines: &[&str], format: Option<&LogFormat>, cfg: &MinerConfig) -> Mined {
    let contents: Vec<&str> = match format {
        Some(f) => {
            let mut locs = f.locations();
            lines
                .iter()
                .map(|l| f.content_with(&mut locs, l).unwrap_or(l))
                .collect()
        }
        None => lines.to_vec(),
    };
    mine(&contents, cfg)
}

/// Mines message contents. Deterministic: the same input gives the same output.
pub fn mine(contents: &[&str], cfg: &MinerConfig) -> Mined {
    let mut distinct = Distinct::default();
    for c in contents {
        distinct.push(c);
    }
    mine_distinct(distinct, cfg)
}

/// The rest of [`mine`] once every line is in `distinct`.
pub(crate) fn mine_distinct(distinct: Distinct, cfg: &MinerConfig) -> Mined {
    let mut toks = Interner::default();
    let seqs: Vec<Vec<u32>> = (0..distinct.len())
        .map(|i| toks.intern_line(distinct.get(i)))
        .collect();
    let mut lines_of_seq = vec![0u64; seqs.len()];
    for &s in &distinct.seq_of_line {
        lines_of_seq[s as usize] += 1;
    }
    let mut enums = enums::Enums::new(cfg, &lines_of_seq);
    let mut cluster_of_seq = cluster(&seqs, &toks, cfg);
    if cfg.slot_values > 0 {
        merge_slots(
            &seqs,
            &toks,
            cfg.slot_values,
            &mut enums,
            &mut cluster_of_seq,
        );
    }
    enums.split(&seqs, &toks, &mut cluster_of_seq);
    label(&distinct.seq_of_line, &seqs, &toks, &cluster_of_seq)
}

/// Token strings as small integers, with what the miner needs to know about each.
#[derive(Default)]
struct Interner {
    /// All token strings, concatenated; token `i` is `text[start[i]..start[i + 1]]`.
    text: String,
    start: Vec<usize>,
    /// Token ids by hash.
    index: HashTable<u32>,
    hashes: Vec<u64>,
    shape: Vec<Shape>,
}

/// What a token looks like, which decides how much a mismatch on it weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Holds a masked variable (`<*>`, `blk_<*>`, `rhost=<*>`).
    Var,
    /// A dotted or qualified name (`com.example.Job`, `a::b`): often a value without digits.
    Ident,
    /// Anything else: words and punctuation a developer typed into the format string.
    Const,
    /// Literal text with a digit in it (`SOCKS5`, `wl0`, `bglio11`, see `masks`): a constant or
    /// a value, which only the number and frequency of its values can tell.
    Digits,
    /// A statement's place in the source (`t.s.TravelServiceImpl#457`, see
    /// `masks::is_code_location`): two of them differing are two statements, however alike
    /// their text.
    Code,
}

fn shape_of(t: &str) -> Shape {
    if t.contains(WILDCARD) {
        return Shape::Var;
    }
    let core = t
        .trim_start_matches(['(', '[', '{', '<', '"', '\''])
        .trim_end_matches([')', ']', '}', '>', '"', '\'', ',', '.', ';', ':', '!', '?']);
    let b = core.as_bytes();
    if is_code_location(b) {
        return Shape::Code;
    }
    if b.iter().any(u8::is_ascii_digit) {
        return Shape::Digits;
    }
    let inner_dot = b.len() > 2 && b[1..b.len() - 1].contains(&b'.') && !core.contains("..");
    if inner_dot || core.contains("::") || core.contains('$') {
        Shape::Ident
    } else {
        Shape::Const
    }
}

/// Id of the bare wildcard; interned first.
const WILD: u32 = 0;

impl Interner {
    fn id(&mut self, t: &str) -> u32 {
        if self.start.is_empty() {
            self.start.push(0);
            self.push(WILDCARD, hashing::hash(WILDCARD.as_bytes()));
        }
        let h = hashing::hash(t.as_bytes());
        match self.index.find(h, |&id| self.get(id) == t) {
            Some(&id) => id,
            None => self.push(t, h),
        }
    }

    fn push(&mut self, t: &str, h: u64) -> u32 {
        let id = self.shape.len() as u32;
        self.text.push_str(t);
        self.start.push(self.text.len());
        self.hashes.push(h);
        let hashes = &self.hashes;
        self.index.insert_unique(h, id, |&i| hashes[i as usize]);
        self.shape.push(shape_of(t));
        id
    }

    fn get(&self, id: u32) -> &str {
        &self.text[self.start[id as usize]..self.start[id as usize + 1]]
    }

    fn intern_line(&mut self, masked: &str) -> Vec<u32> {
        masked
            .split(' ')
            .filter(|t| !t.is_empty())
            .map(|t| self.id(t))
            .collect()
    }

    fn shape(&self, id: u32) -> Shape {
        self.shape.get(id as usize).copied().unwrap_or(Shape::Const)
    }
}

struct Cluster {
    template: Vec<u32>,
}

/// Drain-style pass over the distinct messages in order of first appearance.
fn cluster(seqs: &[Vec<u32>], toks: &Interner, cfg: &MinerConfig) -> Vec<u32> {
    // Leaf key (token count and leading constants) -> index into `leaves`.
    let mut leaf_of: FastMap<Vec<u32>, usize> = FastMap::default();
    let mut leaves: Vec<Vec<u32>> = Vec::new();
    let mut clusters: Vec<Cluster> = Vec::new();
    let mut key = Vec::new();
    seqs.iter()
        .map(|seq| {
            key.clear();
            key.push(seq.len() as u32);
            key.extend(seq.iter().take(cfg.depth).map(|&t| {
                if toks.shape(t) == Shape::Const {
                    t
                } else {
                    WILD
                }
            }));
            let at = match leaf_of.get(&key) {
                Some(&at) => at,
                None => {
                    leaf_of.insert(key.clone(), leaves.len());
                    leaves.push(Vec::new());
                    leaves.len() - 1
                }
            };
            let leaf = &mut leaves[at];
            let mut best: Option<(f64, u32)> = None;
            for &c in leaf.iter() {
                let s = similarity(&clusters[c as usize].template, seq, toks);
                if s >= cfg.similarity && best.is_none_or(|(bs, _)| s > bs) {
                    best = Some((s, c));
                }
            }
            match best {
                Some((_, c)) => {
                    let t = &mut clusters[c as usize].template;
                    for (a, &b) in t.iter_mut().zip(seq) {
                        if *a != b {
                            *a = WILD;
                        }
                    }
                    c
                }
                None => {
                    let c = clusters.len() as u32;
                    clusters.push(Cluster {
                        template: seq.clone(),
                    });
                    leaf.push(c);
                    c
                }
            }
        })
        .collect()
}

/// Share of positions that agree, or 0 when two constant tokens disagree: text typed by a
/// developer that differs means a different statement, however similar the rest is.
fn similarity(template: &[u32], seq: &[u32], toks: &Interner) -> f64 {
    if seq.is_empty() {
        return 1.0;
    }
    let mut same = 0;
    for (&a, &b) in template.iter().zip(seq) {
        if a == b || a == WILD {
            same += 1;
            continue;
        }
        match (toks.shape(a), toks.shape(b)) {
            // Two names with digits are taken together for now; `enums` parts them again
            // when they turn out to be a few frequent constants rather than values.
            (Shape::Var, Shape::Var) | (Shape::Digits, Shape::Digits) => same += 1,
            (Shape::Const | Shape::Digits, Shape::Const | Shape::Digits)
            | (Shape::Code, _)
            | (_, Shape::Code) => return 0.0,
            _ => {}
        }
    }
    same as f64 / seq.len() as f64
}

/// Templates of the clusters in `cluster_of_seq`: a position keeps its token when every member
/// agrees on it and becomes the wildcard otherwise.
fn templates(seqs: &[Vec<u32>], cluster_of_seq: &[u32]) -> Vec<Vec<u32>> {
    let n = cluster_of_seq
        .iter()
        .map(|&c| c as usize + 1)
        .max()
        .unwrap_or(0);
    let mut tmpl: Vec<Option<Vec<u32>>> = vec![None; n];
    for (seq, &c) in seqs.iter().zip(cluster_of_seq) {
        match &mut tmpl[c as usize] {
            slot @ None => *slot = Some(seq.clone()),
            Some(t) => {
                // Members share a length; truncating is only a guard.
                t.truncate(seq.len());
                for (a, &b) in t.iter_mut().zip(seq) {
                    if *a != b {
                        *a = WILD;
                    }
                }
            }
        }
    }
    tmpl.into_iter().map(Option::unwrap_or_default).collect()
}

/// Final templates from all members, clusters with equal templates joined, ids numbered by
/// first appearance.
fn label(seq_of_line: &[u32], seqs: &[Vec<u32>], toks: &Interner, cluster_of_seq: &[u32]) -> Mined {
    let tmpl = templates(seqs, cluster_of_seq);
    let n = tmpl.len();
    let text: Vec<String> = tmpl
        .iter()
        .map(|t| {
            t.iter()
                .map(|&id| toks.get(id))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let mut id_of_text: FastMap<&str, u32> = FastMap::default();
    let mut final_of_cluster: Vec<Option<u32>> = vec![None; n];
    let mut templates: Vec<String> = Vec::new();
    let cluster_of_line = seq_of_line
        .iter()
        .map(|&s| {
            let c = cluster_of_seq[s as usize] as usize;
            *final_of_cluster[c].get_or_insert_with(|| {
                *id_of_text.entry(text[c].as_str()).or_insert_with(|| {
                    templates.push(text[c].clone());
                    templates.len() as u32 - 1
                })
            })
        })
        .collect();
    Mined {
        cluster_of_line,
        templates,
    }
}

mod enums;
mod merge;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod unseen;
