//! Deduplication of attached rows against each other and the archive's: a stable sort by a
//! comparator, then equal neighbours dropped.

use crate::model::LogRow;

/// What makes two log rows the same line.
pub(super) fn log_key(r: &LogRow) -> (i64, &str, Option<&str>, Option<&str>, Option<&str>, &str) {
    (
        r.ts_ms,
        &r.entity,
        r.pod.as_deref(),
        r.node.as_deref(),
        r.level.as_deref(),
        &r.message,
    )
}

/// Sorts by `cmp` (stable: of equal rows the first read is kept), then drops rows equal to
/// the one before, counting them. A comparator over borrowed fields, not a key function:
/// owned keys cost allocations per comparison. The sort orders indices and then moves each
/// row once (rows are a few hundred bytes; a merge sort moves them at every pass).
pub(super) fn dedup<T>(rows: &mut Vec<T>, cmp: impl Fn(&T, &T) -> std::cmp::Ordering) -> usize {
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| cmp(&rows[a], &rows[b]));
    permute(rows, &mut order);
    let before = rows.len();
    rows.dedup_by(|a, b| cmp(a, b).is_eq());
    before - rows.len()
}

/// Puts `rows[order[k]]` at `k` for every `k`, in place, by following each cycle of the
/// permutation; `order` is left as the identity.
fn permute<T>(rows: &mut [T], order: &mut [usize]) {
    for start in 0..order.len() {
        let mut k = start;
        loop {
            let from = order[k];
            order[k] = k;
            if from == start || from == k {
                break;
            }
            rows.swap(k, from);
            k = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutes_every_cycle() {
        let mut rows = vec!['a', 'b', 'c', 'd', 'e'];
        let mut order = vec![2, 0, 1, 4, 3];
        permute(&mut rows, &mut order);
        assert_eq!(rows, ['c', 'a', 'b', 'e', 'd']);
        assert_eq!(order, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn keeps_the_first_of_equal_rows_in_key_order() {
        let mut rows = vec![(3, 'x'), (1, 'a'), (3, 'y'), (2, 'b'), (1, 'c')];
        let dropped = dedup(&mut rows, |a, b| a.0.cmp(&b.0));
        assert_eq!(dropped, 2);
        assert_eq!(rows, [(1, 'a'), (2, 'b'), (3, 'x')]);
    }
}
