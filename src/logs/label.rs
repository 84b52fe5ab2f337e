//! Templates for exported log lines, mined once per export instead of once per incident.
//!
//! A log platform groups lines into patterns as they arrive (Loki's patterns, Elastic's
//! categorisation); an archive that carries them lets the analysis count templates without
//! decoding a single message (see `archive::LogTable`). `funnel import` plays that part for
//! collections that ship raw lines: it mines each entity's lines of the whole export (a Nezha
//! day) with the analysis's own miner and writes the template beside every line. Mining the
//! export once is also cheaper than mining every incident cut from it, whose windows overlap.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::miner::{MinerConfig, mine};
use crate::model::LogRow;

/// Sets every row's `template`, mining each entity's lines in time, pod and message order
/// (the order the analysis reads them in, so clusters form the same way).
pub fn label(rows: &mut [LogRow]) {
    let mut by_entity: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        by_entity.entry(r.entity.as_str()).or_default().push(i);
    }
    let labelled: Vec<(Vec<usize>, Vec<u32>, Vec<String>)> = by_entity
        .into_par_iter()
        .map(|(_, mut idx)| {
            idx.sort_by(|&a, &b| {
                let (a, b) = (&rows[a], &rows[b]);
                (a.ts_ms, &a.pod, &a.message).cmp(&(b.ts_ms, &b.pod, &b.message))
            });
            let contents: Vec<&str> = idx.iter().map(|&i| rows[i].message.as_str()).collect();
            let mined = mine(&contents, &MinerConfig::default());
            (idx, mined.cluster_of_line, mined.templates)
        })
        .collect();
    for (idx, clusters, templates) in labelled {
        for (i, c) in idx.into_iter().zip(clusters) {
            rows[i].template = templates.get(c as usize).cloned();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ts_ms: i64, entity: &str, message: &str) -> LogRow {
        LogRow {
            ts_ms,
            entity: entity.into(),
            message: message.into(),
            pod: None,
            node: None,
            level: None,
            template: None,
        }
    }

    #[test]
    fn lines_get_their_entitys_template() {
        let mut rows: Vec<LogRow> = (0..6)
            .map(|i| row(i, "api", &format!("GET /rooms/{i} took {} ms", 10 + i)))
            .chain((0..3).map(|i| row(i, "db", &format!("slow query {i}"))))
            .collect();
        label(&mut rows);
        let t = |i: usize| rows[i].template.as_deref().unwrap();
        assert_eq!(t(0), t(5));
        assert!(t(0).contains("GET") && t(0).contains("<*>"), "{}", t(0));
        assert_eq!(t(6), t(8));
        assert_ne!(t(0), t(6));
    }
}
