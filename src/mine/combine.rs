//! Combining shard outputs: their rows into one canonical set (so a merged run writes the
//! bytes a single run would), and their per-incident reports into one folder.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::{Error, Rows, table};

/// Reads shard outputs and combines them into canonical rows.
///
/// # Errors
/// An unreadable shard, or an incident present in two shards (the same shard given twice, or
/// shards cut with different N).
pub fn merge(shards: &[PathBuf]) -> Result<Rows, Error> {
    let mut all = Rows::default();
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (i, dir) in shards.iter().enumerate() {
        let rows = table::read(dir)?;
        for r in &rows.incidents {
            if let Some(j) = seen.insert((r.id.clone(), r.path.clone()), i) {
                return Err(Error::Input {
                    path: dir.clone(),
                    message: format!(
                        "incident `{}` ({}) is also in {} (the same shard twice, or shards of different --shard N?)",
                        r.id,
                        r.path,
                        shards[j].display()
                    ),
                });
            }
        }
        all.incidents.extend(rows.incidents);
        all.hypotheses.extend(rows.hypotheses);
    }
    all.canonicalize();
    Ok(all)
}

/// Copies each shard's `reports/` into `out/reports/`; returns the number of reports copied.
///
/// # Errors
/// A file cannot be read or written.
pub fn merge_reports(shards: &[PathBuf], out: &Path) -> Result<usize, Error> {
    let mut n = 0;
    for s in shards {
        let from = s.join("reports");
        if !from.is_dir() {
            continue;
        }
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |e| Error::Io { path: p, err: e }
        };
        for entry in fs::read_dir(&from).map_err(io(&from))? {
            let entry = entry.map_err(io(&from))?;
            if entry.file_type().map_err(io(&from))?.is_dir() {
                copy_tree(&entry.path(), &out.join("reports").join(entry.file_name()))?;
                n += 1;
            }
        }
    }
    Ok(n)
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), Error> {
    fs::create_dir_all(to).map_err(|e| Error::Io {
        path: to.to_path_buf(),
        err: e,
    })?;
    for entry in fs::read_dir(from).map_err(|e| Error::Io {
        path: from.to_path_buf(),
        err: e,
    })? {
        let entry = entry.map_err(|e| Error::Io {
            path: from.to_path_buf(),
            err: e,
        })?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if src.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            fs::copy(&src, &dst).map_err(|e| Error::Io {
                path: src.clone(),
                err: e,
            })?;
        }
    }
    Ok(())
}
