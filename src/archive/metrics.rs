//! Reads `metrics/*.parquet` into raw series: each file read whole (projected columns), its key
//! columns coded per row (`keys`), rows grouped per series by their codes, the window applied
//! and missing samples dropped, then aliases and units applied per series and the files merged.

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;

use rayon::prelude::*;

use super::columns::{self, Frame};
use super::keys::Codes;
use crate::error::Error;
use crate::hashing::FastMap;
use crate::model::{APP, RawSeries, ResolvedAlias, SeriesKey, vocab};

/// What `load` returns: every series in key order, and the pod→node placement.
#[derive(Debug, Default)]
pub struct MetricSet {
    /// Series sorted by key.
    pub series: Vec<RawSeries>,
    /// Pod → node (bare node name).
    pub pod_nodes: BTreeMap<String, String>,
    /// Samples read inside the window.
    pub rows: usize,
    /// Files read.
    pub files: usize,
}

const KEYS: [&str; 7] = [
    "entity",
    "metric",
    "pod",
    "container",
    "target",
    "source",
    "unit",
];

type Groups = BTreeMap<SeriesKey, (Vec<i64>, Vec<f64>)>;

/// Loads every metrics file of `dir` for samples in `[from_ms, to_ms)`.
///
/// # Errors
/// A missing folder, no Parquet file, a corrupt file, a missing or mistyped column, an unknown unit.
pub fn load(
    dir: &Path,
    from_ms: i64,
    to_ms: i64,
    aliases: &BTreeMap<String, ResolvedAlias>,
) -> Result<MetricSet, Error> {
    if !dir.is_dir() {
        return Err(Error::input(
            dir,
            "missing metrics folder (an archive needs metrics/*.parquet)",
        ));
    }
    let files = columns::parquet_files(dir)?;
    if files.is_empty() {
        return Err(Error::input(
            dir,
            "no *.parquet file (an archive needs at least one metrics file)",
        ));
    }
    let mut groups: Groups = BTreeMap::new();
    let mut set = MetricSet {
        files: files.len(),
        ..MetricSet::default()
    };
    let window = from_ms..to_ms;
    let mut stages = [0.0f64; 3];
    // A few files at a time in parallel, merged in name order: the result does not depend on
    // the thread count, and memory holds a batch of files, not the archive.
    for batch in files.chunks(rayon::current_num_threads().max(1)) {
        let single = files.len() == 1;
        let read: Vec<Result<FileRead, Error>> = batch
            .par_iter()
            .map(|path| read_file(path, &window, aliases, single))
            .collect();
        for r in read {
            let (parts, spent) = r?;
            stages.iter_mut().zip(spent).for_each(|(s, t)| *s += t);
            for part in parts {
                merge(part, &mut groups, &mut set);
            }
        }
    }
    if std::env::var_os("FUNNEL_TIMINGS").is_some() {
        let [decode, keys, group] = stages.map(|s| s * 1e3);
        // A diagnostic: a closed stderr must not end the analysis.
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr().lock(),
            "timings metrics (summed over threads): decode {decode:.1} ms, keys {keys:.1} ms, \
             group {group:.1} ms"
        );
    }
    set.series = groups
        .into_iter()
        .map(|(key, (ts, values))| {
            // Exports write a series in time order; only the others need sorting.
            if ts.is_sorted() {
                return RawSeries { key, ts, values };
            }
            let mut idx: Vec<usize> = (0..ts.len()).collect();
            idx.sort_by_key(|&i| ts[i]);
            RawSeries {
                key,
                ts: idx.iter().map(|&i| ts[i]).collect(),
                values: idx.iter().map(|&i| values[i]).collect(),
            }
        })
        .collect();
    Ok(set)
}

/// Exporters name containers their own way: the mesh proxy as `istio-proxy`, `envoy` or
/// `linkerd-proxy`, the app after its workload. Both map onto the spec's `sidecar` and `app`;
/// any other container keeps its name so it is never averaged into the app's series.
#[must_use]
pub fn normalize_container(raw: Option<&str>, entity: &str) -> String {
    let Some(c) = raw.map(str::trim).filter(|c| !c.is_empty()) else {
        return APP.to_string();
    };
    let c = c.to_ascii_lowercase();
    let proxy = [
        "sidecar",
        "istio-proxy",
        "envoy",
        "envoy-proxy",
        "linkerd-proxy",
        "mesh-proxy",
        "proxy",
    ];
    if proxy.contains(&c.as_str()) {
        crate::model::SIDECAR.to_string()
    } else if c == APP || c == "main" || c == entity.to_ascii_lowercase() {
        APP.to_string()
    } else {
        c
    }
}

fn merge(part: FileSeries, groups: &mut Groups, set: &mut MetricSet) {
    set.rows += part.rows;
    for (pod, node) in part.pod_nodes {
        set.pod_nodes.entry(pod).or_insert(node);
    }
    for (key, ts, vs) in part.series {
        let (gts, gvs) = groups.entry(key).or_default();
        if gts.is_empty() {
            (*gts, *gvs) = (ts, vs);
        } else {
            gts.extend(ts);
            gvs.extend(vs);
        }
    }
}

/// One file's (or one part's, for a file read in parts) series in order of first appearance,
/// and its pod placements: the largest node name among the rows of a pod's first series. For a
/// file read in parts that is the largest within the part where the pod first appears, which
/// differs from the whole file's only for a pod that changed node within one large file.
struct FileSeries {
    series: Vec<(SeriesKey, Vec<i64>, Vec<f64>)>,
    pod_nodes: Vec<(String, String)>,
    rows: usize,
}

/// A file's parts, and the seconds spent decoding, coding keys and grouping.
type FileRead = (Vec<FileSeries>, [f64; 3]);

fn read_file(
    path: &Path,
    window: &std::ops::Range<i64>,
    aliases: &BTreeMap<String, ResolvedAlias>,
    parallel: bool,
) -> Result<FileRead, Error> {
    let optional = ["pod", "node", "container", "target", "source", "unit"];
    let start = std::time::Instant::now();
    let checked = columns::check(path, &["entity", "metric"], &["value"])?;
    let mut parts = Vec::new();
    // Seconds spent decoding, coding keys and grouping rows (FUNNEL_TIMINGS).
    let mut spent = [0.0; 3];
    let mut group = |frame: columns::Frame| {
        parts.push(group_file(&frame, window, path, aliases, &mut spent)?);
        Ok(())
    };
    let wanted = ["entity", "metric", "value"];
    if parallel {
        pipelined(
            path,
            |each| columns::read_parts(checked, &wanted, &optional, true, each),
            &mut group,
        )?;
    } else {
        columns::read_parts(checked, &wanted, &optional, false, &mut group)?;
    }
    spent[0] = start.elapsed().as_secs_f64() - spent[1] - spent[2];
    Ok((parts, spent))
}

/// Runs `read`, which hands decoded parts to its callback, on a thread of its own while this
/// one hands each part to `group`: a lone file keeps decoding its next part while the last one
/// is grouped, where one after the other left a core idle. One part waits at most, so memory
/// holds two parts, as it held one.
fn pipelined(
    path: &Path,
    read: impl FnOnce(&mut dyn FnMut(columns::Frame) -> Result<(), Error>) -> Result<(), Error> + Send,
    group: &mut dyn FnMut(columns::Frame) -> Result<(), Error>,
) -> Result<(), Error> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<columns::Frame>(0);
    std::thread::scope(|s| {
        let reader = s.spawn(move || {
            read(&mut |frame| {
                // The grouping side stopped on an error of its own, returned below.
                tx.send(frame)
                    .map_err(|_| Error::input(path, "grouping stopped"))
            })
        });
        let mut grouped = Ok(());
        for frame in rx {
            grouped = group(frame);
            if grouped.is_err() {
                break;
            }
        }
        let read = match reader.join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        grouped.and(read)
    })
}

/// The slot of every row, and the key codes of every slot in order of first appearance.
///
/// A row equal to the previous one (a series' samples written together) costs a comparison;
/// others a hash of their key, packed into one u64 when the columns' cardinalities allow it.
fn slots(cols: &[Option<Codes>], height: usize) -> (Vec<u32>, Vec<[u32; 7]>) {
    let present: Vec<(usize, &[u32], u64)> = cols
        .iter()
        .enumerate()
        .filter_map(|(c, k)| {
            let k = k.as_ref()?;
            Some((c, k.codes.as_slice(), k.values.len() as u64))
        })
        .collect();
    let full = |i: usize| {
        let mut k = [u32::MAX; 7];
        for &(c, codes, _) in &present {
            k[c] = codes[i];
        }
        k
    };
    let radix = present
        .iter()
        .try_fold(1u64, |acc, &(_, _, n)| acc.checked_mul(n.max(1)));
    if radix.is_none() {
        return assign(height, full, full);
    }
    let packed = |i: usize| {
        present.iter().fold(0u64, |acc, &(_, codes, n)| {
            acc * n.max(1) + u64::from(codes[i])
        })
    };
    assign(height, packed, full)
}

fn assign<K: std::hash::Hash + Eq + Copy>(
    height: usize,
    key: impl Fn(usize) -> K,
    full: impl Fn(usize) -> [u32; 7],
) -> (Vec<u32>, Vec<[u32; 7]>) {
    let mut slot_of: FastMap<K, u32> = FastMap::default();
    let mut keys = Vec::new();
    let mut row_slot = Vec::with_capacity(height);
    let mut prev: Option<(K, u32)> = None;
    for i in 0..height {
        let k = key(i);
        let slot = match prev {
            Some((p, slot)) if p == k => slot,
            _ => *slot_of.entry(k).or_insert_with(|| {
                keys.push(full(i));
                (keys.len() - 1) as u32
            }),
        };
        row_slot.push(slot);
        prev = Some((k, slot));
    }
    (row_slot, keys)
}

/// Per slot, the largest node name among its rows (a pod's placement).
fn slot_nodes(nodes: Option<&Codes>, row_slot: &[u32], n_slots: usize) -> Vec<Option<u32>> {
    let mut best: Vec<Option<u32>> = vec![None; n_slots];
    let Some(nodes) = nodes else {
        return best;
    };
    let name = |c: u32| nodes.values[c as usize].as_deref();
    for (&slot, &c) in row_slot.iter().zip(&nodes.codes) {
        let b = &mut best[slot as usize];
        if *b != Some(c) && name(c).is_some() && b.is_none_or(|b| name(b) < name(c)) {
            *b = Some(c);
        }
    }
    best
}

/// Groups one file's rows with `ts` in `window` and a value into series.
///
/// Rows are grouped here rather than by a polars `group_by` over the seven key columns with
/// list aggregation: that query cost ~70 % of a seed-sized analysis. Each row costs its key
/// codes and one slot look-up, whatever the row order; each distinct key is decoded, aliased
/// and checked once.
fn group_file(
    frame: &Frame,
    window: &std::ops::Range<i64>,
    path: &Path,
    aliases: &BTreeMap<String, ResolvedAlias>,
    spent: &mut [f64; 3],
) -> Result<FileSeries, Error> {
    let start = std::time::Instant::now();
    let err = columns::parquet_err(path);
    let key_cols: Vec<Option<Codes>> = KEYS
        .iter()
        .map(|k| frame.codes(k))
        .collect::<PolarsResult<_>>()
        .map_err(&err)?;
    let nodes = frame.codes("node").map_err(&err)?;
    let value_col = frame.float("value").map_err(&err)?;
    // Null values become NaN, dropped below like NaN samples; without nulls, no copy.
    let values: std::borrow::Cow<'_, [f64]> = match value_col.cont_slice() {
        Ok(v) => v.into(),
        Err(_) => value_col
            .iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .collect::<Vec<f64>>()
            .into(),
    };
    let keyed = std::time::Instant::now();
    spent[1] += keyed.duration_since(start).as_secs_f64();
    let (row_slot, slot_keys) = slots(&key_cols, frame.height);
    let node_of = slot_nodes(nodes.as_ref(), &row_slot, slot_keys.len());
    let keep = |i: usize| {
        let t = frame.ts[i].filter(|t| window.contains(t))?;
        (!values[i].is_nan()).then_some(t)
    };
    let mut counts = vec![0usize; slot_keys.len()];
    for (i, &slot) in row_slot.iter().enumerate() {
        if keep(i).is_some() {
            counts[slot as usize] += 1;
        }
    }
    let value_of = |c: usize, code: u32| {
        key_cols[c]
            .as_ref()
            .and_then(|k| k.values[code as usize].as_deref())
    };
    let mut out = FileSeries {
        series: Vec::new(),
        pod_nodes: Vec::new(),
        rows: 0,
    };
    // Per slot: its index in `out.series` and its factor; None for slots left out.
    let mut target: Vec<Option<(usize, f64)>> = vec![None; slot_keys.len()];
    for (slot, codes) in slot_keys.iter().enumerate() {
        let raw: [Option<&str>; 7] = std::array::from_fn(|c| value_of(c, codes[c]));
        if counts[slot] == 0 {
            continue;
        }
        let node = node_of[slot].and_then(|c| nodes.as_ref()?.values[c as usize].as_deref());
        let Some((key, factor)) = series_key(&raw, aliases, path)? else {
            continue;
        };
        if let (Some(pod), Some(node)) = (&key.pod, node) {
            let bare = node.strip_prefix("node:").unwrap_or(node);
            out.pod_nodes.push((pod.clone(), bare.to_string()));
        }
        target[slot] = Some((out.series.len(), factor));
        let n = counts[slot];
        out.series
            .push((key, Vec::with_capacity(n), Vec::with_capacity(n)));
    }
    for (i, &slot) in row_slot.iter().enumerate() {
        if let (Some((at, factor)), Some(t)) = (target[slot as usize], keep(i)) {
            let (_, ts, vs) = &mut out.series[at];
            ts.push(t);
            vs.push(values[i] * factor);
            out.rows += 1;
        }
    }
    spent[2] += keyed.elapsed().as_secs_f64();
    Ok(out)
}

/// A raw key's series key and unit factor; `None` without an entity or a metric.
fn series_key(
    raw: &[Option<&str>; 7],
    aliases: &BTreeMap<String, ResolvedAlias>,
    path: &Path,
) -> Result<Option<(SeriesKey, f64)>, Error> {
    let (Some(entity), Some(raw_metric)) = (raw[0], raw[1]) else {
        return Ok(None);
    };
    let (metric, mut factor) = match aliases.get(raw_metric) {
        Some(a) => (a.metric.clone(), a.factor),
        None => (raw_metric.to_string(), 1.0),
    };
    if let Some(unit) = raw[6] {
        match vocab::unit_factor(&metric, unit) {
            Ok(f) => factor *= f,
            Err(message) => {
                return Err(Error::Column {
                    path: path.to_path_buf(),
                    column: "unit".into(),
                    message,
                });
            }
        }
    }
    let key = SeriesKey {
        container: normalize_container(raw[3], entity),
        entity: entity.to_string(),
        metric,
        pod: raw[2].map(str::to_string),
        target: raw[4].map(str::to_string),
        source: raw[5].map(str::to_string),
    };
    Ok(Some((key, factor)))
}

#[cfg(test)]
mod tests {
    use super::{Codes, normalize_container, pipelined, slots};
    use crate::archive::columns::Frame;
    use crate::error::Error;
    use polars::prelude::DataFrame;
    use std::path::Path;

    type Each<'a> = &'a mut dyn FnMut(Frame) -> Result<(), Error>;

    /// A reader of `n` parts (part `i` stamped `i`), failing after them when `fail`.
    fn parts(n: i64, fail: bool) -> impl FnOnce(Each<'_>) -> Result<(), Error> + Send {
        move |each: Each<'_>| {
            for i in 0..n {
                each(Frame::new(DataFrame::empty(), vec![Some(i)]))?;
            }
            if fail {
                return Err(Error::input("f.parquet", "bad page"));
            }
            Ok(())
        }
    }

    #[test]
    fn a_pipelined_read_groups_parts_in_order_and_returns_either_sides_error() {
        let path = Path::new("f.parquet");
        let mut seen = Vec::new();
        pipelined(path, parts(5, false), &mut |f| {
            seen.push(f.ts[0]);
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, (0..5).map(Some).collect::<Vec<_>>());
        let read_err = pipelined(path, parts(5, true), &mut |_| Ok(())).unwrap_err();
        assert!(read_err.to_string().contains("bad page"), "{read_err}");
        // The grouping error wins over the reader's "grouping stopped", and nothing hangs.
        let group_err = pipelined(path, parts(1000, false), &mut |f| match f.ts[0] {
            Some(2) => Err(Error::input("f.parquet", "bad key")),
            _ => Ok(()),
        })
        .unwrap_err();
        assert!(group_err.to_string().contains("bad key"), "{group_err}");
    }

    fn col(codes: &[u32], distinct: usize) -> Option<Codes> {
        Some(Codes {
            codes: codes.to_vec(),
            values: (0..distinct).map(|v| Some(v.to_string())).collect(),
        })
    }

    #[test]
    fn rows_share_a_slot_exactly_when_all_their_codes_match() {
        // Grouped rows, then the same series interleaved as a time-ordered export writes them.
        let entity = col(&[0, 0, 0, 1, 1, 0, 1, 0], 2);
        let metric = col(&[0, 0, 1, 0, 0, 1, 0, 0], 2);
        let mut cols = vec![entity, metric];
        cols.resize_with(7, || None);
        let (row_slot, keys) = slots(&cols, 8);
        assert_eq!(row_slot, vec![0, 0, 1, 2, 2, 1, 2, 0]);
        let m = u32::MAX;
        assert_eq!(
            keys,
            vec![
                [0, 0, m, m, m, m, m],
                [0, 1, m, m, m, m, m],
                [1, 0, m, m, m, m, m]
            ]
        );
        // Cardinalities too large to pack into a u64 take the full key, with the same slots.
        let wide = |codes: &[u32]| {
            Some(Codes {
                codes: codes.to_vec(),
                values: vec![None; 1 << 20],
            })
        };
        let mut big: Vec<Option<Codes>> = (0..7).map(|_| wide(&[0, 0, 0, 0, 0, 0, 0, 0])).collect();
        big[1] = wide(&[0, 0, 1, 0, 0, 1, 0, 0]);
        big[6] = wide(&[0, 0, 0, 1, 1, 0, 1, 0]);
        let (wide_slots, wide_keys) = slots(&big, 8);
        assert_eq!(wide_slots, row_slot);
        assert_eq!(wide_keys.len(), 3);
    }

    #[test]
    fn proxies_are_sidecars_and_the_workload_is_the_app() {
        assert_eq!(normalize_container(None, "api"), "app");
        assert_eq!(normalize_container(Some("istio-proxy"), "api"), "sidecar");
        assert_eq!(normalize_container(Some("Envoy"), "api"), "sidecar");
        assert_eq!(normalize_container(Some("api"), "api"), "app");
        assert_eq!(
            normalize_container(Some("log-shipper"), "api"),
            "log-shipper"
        );
    }
}
