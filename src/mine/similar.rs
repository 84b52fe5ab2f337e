//! Similar incidents: incidents whose funnel took the same path. Two incidents are alike when
//! the same rules fired (the signature) on a scope of the same shape (how many services, what
//! share of pods). Exact matches form groups; signatures that differ by little (Jaccard ≥
//! [`NEAR`]) on the same shape are reported as near pairs, with the rules that differ.
//!
//! Pure functions of the rows. Incidents are first collapsed into classes of equal
//! (signature, shape), so the pairwise step compares classes, not incidents: years of
//! incidents take few distinct paths through the rules.

use std::collections::{BTreeMap, BTreeSet};

use super::rows::IncidentRow;

/// Minimum Jaccard similarity of fired-rule sets for a near pair.
pub const NEAR: f64 = 0.75;

/// The scope shape in words: degraded services, and the share of pods degraded.
#[must_use]
pub fn shape(r: &IncidentRow) -> Option<String> {
    let (e, p, t) = (r.affected_entities?, r.affected_pods?, r.total_pods?);
    let services = match e {
        0 => "no degraded service",
        1 => "1 service",
        2 | 3 => "2-3 services",
        _ => "4+ services",
    };
    let pods = if p == 0 {
        "no pod"
    } else if p == 1 {
        "one pod"
    } else if p == t {
        "all pods"
    } else if p * 2 > t {
        "most pods"
    } else {
        "a minority of pods"
    };
    Some(format!("{services}, {pods}"))
}

/// Incidents with an identical signature and shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Members, sorted.
    pub ids: Vec<String>,
    /// Why they match, for people.
    pub reason: String,
}

/// Two classes whose signatures nearly match.
#[derive(Debug, Clone, PartialEq)]
pub struct NearPair {
    /// First member of each class (and the class sizes).
    pub a: (String, usize),
    /// See `a`.
    pub b: (String, usize),
    /// Jaccard similarity of the fired rules.
    pub jaccard: f64,
    /// Why they match and how they differ.
    pub reason: String,
}

struct Class<'a> {
    rules: BTreeSet<&'a str>,
    shape: String,
    members: Vec<&'a IncidentRow>,
}

fn verdicts(members: &[&IncidentRow]) -> String {
    let mut n: BTreeMap<&str, usize> = BTreeMap::new();
    for m in members {
        *n.entry(m.root_cause_kind.as_deref().unwrap_or("undetermined"))
            .or_default() += 1;
    }
    n.iter()
        .map(|(k, c)| {
            if *c == 1 {
                (*k).to_string()
            } else {
                format!("{k} ×{c}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Exact groups (largest first) and near pairs (most similar first), each list cut to `limit`.
#[must_use]
pub fn find(rows: &[IncidentRow], limit: usize) -> (Vec<Group>, Vec<NearPair>) {
    let classes = classes(rows);
    let mut groups: Vec<Group> = classes
        .iter()
        .filter(|c| c.members.len() > 1)
        .map(|c| {
            let mut ids: Vec<String> = c.members.iter().map(|m| m.id.clone()).collect();
            ids.sort();
            let rules: Vec<&str> = c.rules.iter().copied().collect();
            let reason = format!(
                "same fired rules ({}) and scope shape ({}); verdicts: {}",
                rules.join(", "),
                c.shape,
                verdicts(&c.members)
            );
            Group { ids, reason }
        })
        .collect();
    groups.sort_by(|a, b| {
        b.ids
            .len()
            .cmp(&a.ids.len())
            .then_with(|| a.ids.cmp(&b.ids))
    });
    groups.truncate(limit);
    let mut pairs = Vec::new();
    for (i, a) in classes.iter().enumerate() {
        for b in classes.iter().skip(i + 1).filter(|b| b.shape == a.shape) {
            pairs.extend(near_pair(a, b));
        }
    }
    pairs.sort_by(|x, y| {
        y.jaccard
            .total_cmp(&x.jaccard)
            .then_with(|| (&x.a, &x.b).cmp(&(&y.a, &y.b)))
    });
    pairs.truncate(limit);
    (groups, pairs)
}

/// The analysed incidents that fired rules, by (fired rules, scope shape), in key order.
fn classes(rows: &[IncidentRow]) -> Vec<Class<'_>> {
    let mut classes: BTreeMap<(String, String), Class<'_>> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| !r.failed() && !r.rules_fired.is_empty())
    {
        let Some(sh) = shape(r) else { continue };
        classes
            .entry((r.rules_fired.clone(), sh.clone()))
            .or_insert_with(|| Class {
                rules: r.fired().into_iter().collect(),
                shape: sh,
                members: Vec::new(),
            })
            .members
            .push(r);
    }
    classes.into_values().collect()
}

/// Two classes of one shape as a near pair, when their fired rules overlap by [`NEAR`] or
/// more (Jaccard); each named by its first incident id.
fn near_pair(a: &Class<'_>, b: &Class<'_>) -> Option<NearPair> {
    let inter = a.rules.intersection(&b.rules).count();
    let union = a.rules.union(&b.rules).count();
    #[expect(clippy::cast_precision_loss, reason = "rule counts are tiny")]
    let j = inter as f64 / union.max(1) as f64;
    if j < NEAR {
        return None;
    }
    let first = |c: &Class<'_>| {
        c.members
            .iter()
            .map(|m| m.id.clone())
            .min()
            .unwrap_or_default()
    };
    let only = |x: &Class<'_>, y: &Class<'_>| {
        x.rules
            .difference(&y.rules)
            .copied()
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (oa, ob) = (only(a, b), only(b, a));
    let mut reason = format!(
        "same scope shape ({}); {inter} of {union} fired rules shared",
        a.shape
    );
    if !oa.is_empty() {
        reason.push_str(&format!("; only in {}: {oa}", first(a)));
    }
    if !ob.is_empty() {
        reason.push_str(&format!("; only in {}: {ob}", first(b)));
    }
    Some(NearPair {
        a: (first(a), a.members.len()),
        b: (first(b), b.members.len()),
        jaccard: j,
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, rules: &str, kind: Option<&str>, scope: (i64, i64, i64)) -> IncidentRow {
        let mut r = IncidentRow::failure(id, id, None, String::new());
        r.status = super::super::rows::OK.into();
        r.error = None;
        r.rules_fired = rules.into();
        r.root_cause_kind = kind.map(str::to_string);
        (r.affected_entities, r.affected_pods, r.total_pods) =
            (Some(scope.0), Some(scope.1), Some(scope.2));
        r
    }

    #[test]
    fn groups_equal_signatures_on_equal_shapes() {
        let rows = vec![
            row("a", "r1,r2,r3", Some("redis"), (1, 4, 4)),
            row("b", "r1,r2,r3", Some("redis"), (1, 3, 3)),
            row("c", "r1,r2,r3", None, (3, 1, 9)),
            row("d", "r1,r2,r3,r4", Some("mysql"), (1, 5, 5)),
            row("e", "r1,r2,r3,r4", Some("mysql"), (1, 2, 2)),
        ];
        let (groups, pairs) = find(&rows, 10);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].ids, vec!["a", "b"]);
        assert!(
            groups[0].reason.contains("r1, r2, r3")
                && groups[0].reason.contains("1 service, all pods")
                && groups[0].reason.contains("redis ×2"),
            "{}",
            groups[0].reason
        );
        assert_eq!(pairs.len(), 1);
        assert_eq!((pairs[0].a.0.as_str(), pairs[0].b.0.as_str()), ("a", "d"));
        assert!(
            pairs[0].reason.contains("3 of 4") && pairs[0].reason.contains("only in d: r4"),
            "{}",
            pairs[0].reason
        );
    }

    #[test]
    fn shapes_read_like_words() {
        assert_eq!(
            shape(&row("x", "", None, (1, 1, 8))).as_deref(),
            Some("1 service, one pod")
        );
        assert_eq!(
            shape(&row("x", "", None, (5, 3, 8))).as_deref(),
            Some("4+ services, a minority of pods")
        );
        assert_eq!(
            shape(&row("x", "", None, (2, 6, 8))).as_deref(),
            Some("2-3 services, most pods")
        );
    }
}
