//! Finding incident archives under a root: every folder holding an `incident.toml`, at any
//! depth. Owns the walk only; it reads nothing but the id (see [`crate::archive::Archive::id`]).
//!
//! An archive's own subfolders (metrics/, logs/, ...) are not searched: archives do not nest.
//! Symlinked folders are not followed, so a link back up the tree cannot loop the walk.

use std::path::{Path, PathBuf};

use super::Error;
use crate::archive::read_spec;

/// One archive found under the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The folder.
    pub dir: PathBuf,
    /// The folder relative to the root, `/`-separated (`.` for the root itself).
    pub rel: String,
    /// incident.toml's `id`, else the folder name; also when incident.toml is unreadable, so
    /// a broken archive still has a stable id (and a shard).
    pub id: String,
}

/// Every archive under `root`, sorted by (id, relative path).
///
/// # Errors
/// The root or a folder under it cannot be listed.
pub fn discover(root: &Path) -> Result<Vec<Found>, Error> {
    if !root.is_dir() {
        return Err(Error::Input {
            path: root.to_path_buf(),
            message: "not a folder (expected a folder of incident archives)".into(),
        });
    }
    let mut dirs = Vec::new();
    walk(root, &mut dirs)?;
    let mut found: Vec<Found> = dirs
        .into_iter()
        .map(|dir| {
            let rel = relative(root, &dir);
            let id = id_of(&dir);
            Found { dir, rel, id }
        })
        .collect();
    found.sort_by(|a, b| (&a.id, &a.rel).cmp(&(&b.id, &b.rel)));
    Ok(found)
}

fn walk(root: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    // Sorted, links not followed; an archive's own folders are skipped.
    let mut it = walkdir::WalkDir::new(root).sort_by_file_name().into_iter();
    while let Some(entry) = it.next() {
        let entry = entry.map_err(|e| Error::Io {
            path: e.path().unwrap_or(root).to_path_buf(),
            err: e.into(),
        })?;
        if entry.file_type().is_dir() && entry.path().join("incident.toml").is_file() {
            out.push(entry.into_path());
            it.skip_current_dir();
        }
    }
    Ok(())
}

fn relative(root: &Path, dir: &Path) -> String {
    let rel = dir.strip_prefix(root).unwrap_or(dir);
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// The incident id as `archive::load` would name it.
fn id_of(dir: &Path) -> String {
    let folder = || {
        dir.file_name()
            .map_or_else(|| "incident".into(), |n| n.to_string_lossy().into_owned())
    };
    read_spec(dir)
        .ok()
        .and_then(|s| s.id)
        .unwrap_or_else(folder)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn touch(p: &Path, text: &str) {
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    #[test]
    fn finds_archives_at_any_depth_sorted_by_id() {
        let t = tempfile::tempdir().unwrap();
        let spec = |id: &str| {
            format!(
                "id = \"{id}\"\n[alert]\nentity = \"api\"\nmetric = \"latency_p99_ms\"\nfired_at = 2024-05-01T14:02:00Z\n"
            )
        };
        touch(&t.path().join("2024/05/b/incident.toml"), &spec("zz"));
        touch(&t.path().join("a/incident.toml"), &spec("mm"));
        touch(
            &t.path().join("a/metrics/incident.toml"),
            &spec("nested-is-ignored"),
        );
        touch(&t.path().join("broken/incident.toml"), "[alret]");
        touch(&t.path().join("empty/readme.txt"), "");
        let found = discover(t.path()).unwrap();
        let got: Vec<(&str, &str)> = found
            .iter()
            .map(|f| (f.id.as_str(), f.rel.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![("broken", "broken"), ("mm", "a"), ("zz", "2024/05/b")]
        );
    }

    #[test]
    fn a_missing_root_is_an_input_error() {
        let e = discover(Path::new("/definitely/not/here")).unwrap_err();
        assert!(e.to_string().contains("not a folder"), "{e}");
    }
}
