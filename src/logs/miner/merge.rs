//! The merge post-pass: clusters whose templates differ in one place, filled by many distinct
//! constants, are one statement with a variable there (user names, host names). So are
//! clusters that differ by fewer constants when each of them is a known value (see `enums`).
//! Runs once per mining on the clusters, never per line; its scratch space is reused across
//! rounds.

use super::{Interner, Shape, enums, templates};

/// Joins clusters whose templates are equal but for one position that `min_values` or more
/// distinct constants fill, or only known values; the values of each joined place become
/// known values. The leading token is left alone: it names what the message is about, and
/// the prefix tree already treats it as part of the statement.
pub(super) fn merge_slots(
    seqs: &[Vec<u32>],
    toks: &Interner,
    min_values: usize,
    enums: &mut enums::Enums,
    cluster_of_seq: &mut [u32],
) {
    let mut pow: Vec<u64> = Vec::new();
    for _round in 0..3 {
        let tmpl = templates(seqs, cluster_of_seq);
        let lines = enums.lines_of_clusters(cluster_of_seq, tmpl.len());
        let mut parent: Vec<u32> = (0..tmpl.len() as u32).collect();
        let keyed = slot_keys(&tmpl, toks, &mut pow);
        let mut changed = false;
        // Places too few or too regular to be variables by their own counts, which known
        // values may still make one once this round's variables are learnt.
        let mut undecided: Vec<(usize, Vec<u32>)> = Vec::new();
        for run in keyed.chunk_by(|a, b| (a.0, a.1, a.2) == (b.0, b.1, b.2)) {
            if run.len() < 2 {
                continue;
            }
            let slot = run[0].1 as usize;
            for list in equal_but_slot(run, &tmpl, slot) {
                let values = list
                    .iter()
                    .map(|&c| (tmpl[c as usize][slot], lines[c as usize]));
                if list.len() < min_values || enums.is_enum(values) {
                    if list.len() >= 2 {
                        undecided.push((slot, list));
                    }
                    continue;
                }
                enums.learn_values(list.iter().map(|&c| tmpl[c as usize][slot]));
                changed |= union(&mut parent, &list);
            }
        }
        for (slot, list) in &undecided {
            if enums.all_known(list.iter().map(|&c| tmpl[c as usize][*slot])) {
                changed |= union(&mut parent, list);
            }
        }
        if !changed {
            return;
        }
        for c in cluster_of_seq.iter_mut() {
            *c = find(&mut parent, *c);
        }
    }
}

/// (length, slot, hash of the template with the slot blanked, cluster) for every slot a
/// constant fills in a template with three constants or more, sorted so that clusters whose
/// templates may be equal outside the slot sit together. A flat sort rather than a map of
/// lists: almost every key has one cluster, and the order of the unions in [`merge_slots`]
/// does not change the result (each set's root is its smallest id). `pow` is scratch space.
fn slot_keys(tmpl: &[Vec<u32>], toks: &Interner, pow: &mut Vec<u64>) -> Vec<(u32, u32, u64, u32)> {
    let mut keyed: Vec<(u32, u32, u64, u32)> = Vec::new();
    for (c, t) in tmpl.iter().enumerate() {
        let constants = t.iter().filter(|&&x| toks.shape(x) != Shape::Var).count();
        if constants < 3 {
            continue;
        }
        // A polynomial hash, so blanking a slot is one subtraction rather than a rehash.
        pow.clear();
        let mut h: u64 = 0;
        let mut p: u64 = 1;
        for &x in t {
            pow.push(p);
            h = h.wrapping_add((x as u64 + 1).wrapping_mul(p));
            p = p.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
        for slot in 1..t.len() {
            if matches!(toks.shape(t[slot]), Shape::Var | Shape::Code) {
                continue;
            }
            let blanked = h.wrapping_sub((t[slot] as u64 + 1).wrapping_mul(pow[slot]));
            keyed.push((t.len() as u32, slot as u32, blanked, c as u32));
        }
    }
    keyed.sort_unstable();
    keyed
}

/// The clusters of one run of [`slot_keys`], grouped by their templates outside `slot`. The
/// hashes only brought them together: comparing the tokens means a collision costs time, not
/// a wrong merge.
fn equal_but_slot(run: &[(u32, u32, u64, u32)], tmpl: &[Vec<u32>], slot: usize) -> Vec<Vec<u32>> {
    let mut lists: Vec<Vec<u32>> = Vec::new();
    for &(_, _, _, c) in run {
        let t = &tmpl[c as usize];
        let same = |l: &Vec<u32>| {
            tmpl[l[0] as usize]
                .iter()
                .zip(t)
                .enumerate()
                .all(|(i, (a, b))| i == slot || a == b)
        };
        match lists.iter_mut().find(|l| same(l)) {
            Some(l) => l.push(c),
            None => lists.push(vec![c]),
        }
    }
    lists
}

/// Joins the sets of `list` under their smallest root; whether any set was joined.
fn union(parent: &mut [u32], list: &[u32]) -> bool {
    let root = list.iter().map(|&c| find(parent, c)).min().unwrap_or(0);
    let mut changed = false;
    for &c in list {
        let r = find(parent, c);
        if r != root {
            parent[r as usize] = root;
            changed = true;
        }
    }
    changed
}

fn find(parent: &mut [u32], mut c: u32) -> u32 {
    while parent[c as usize] != c {
        parent[c as usize] = parent[parent[c as usize] as usize];
        c = parent[c as usize];
    }
    c
}
