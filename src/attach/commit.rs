//! Atomic attach: everything is written into `<archive>/.funnel-attach/new/` first; then each
//! replaced part is moved aside into `.funnel-attach/old/` and its new version renamed into
//! place, and the staging folder is removed. Renames within one file system are atomic, so a
//! failure while writing leaves the archive untouched, and one between two renames (a crash)
//! is rolled back by the next attach ([`recover`]), which puts every part moved aside back.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::model::IncidentSpec;

const STAGE: &str = ".funnel-attach";

/// A staging folder inside the archive.
pub(crate) struct Stage {
    archive: PathBuf,
    root: PathBuf,
    new: PathBuf,
}

/// Rolls back an attach that stopped between renames: parts moved aside go back where a new
/// version is missing, and the staging folder is removed.
pub(crate) fn recover(archive: &Path) -> Result<(), Error> {
    let root = archive.join(STAGE);
    if !root.exists() {
        return Ok(());
    }
    let old = root.join("old");
    for rel in [
        "logs",
        "events",
        "traces",
        "incident.toml",
        "metrics/traces.parquet",
    ] {
        let (aside, live) = (old.join(rel.replace('/', "_")), archive.join(rel));
        if aside.exists() && !live.exists() {
            fs::rename(&aside, &live).map_err(|e| Error::io(&live, e))?;
        }
    }
    fs::remove_dir_all(&root).map_err(|e| Error::io(&root, e))
}

impl Stage {
    pub(crate) fn new(archive: &Path) -> Result<Stage, Error> {
        let root = archive.join(STAGE);
        let new = root.join("new");
        fs::create_dir_all(&new).map_err(|e| Error::io(&new, e))?;
        fs::create_dir_all(root.join("old")).map_err(|e| Error::io(&root, e))?;
        Ok(Stage {
            archive: archive.to_path_buf(),
            root,
            new,
        })
    }

    /// Where the new parts are written.
    pub(crate) fn path(&self) -> &Path {
        &self.new
    }

    /// Moves each staged part (a folder or file path relative to the archive) into place.
    pub(crate) fn commit(self, parts: &[&str]) -> Result<(), Error> {
        let old = self.root.join("old");
        for rel in parts {
            let (staged, live) = (self.new.join(rel), self.archive.join(rel));
            if live.exists() {
                let aside = old.join(rel.replace('/', "_"));
                fs::rename(&live, &aside).map_err(|e| Error::io(&live, e))?;
            }
            if let Some(parent) = live.parent() {
                fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
            fs::rename(&staged, &live).map_err(|e| Error::io(&live, e))?;
        }
        fs::remove_dir_all(&self.root).map_err(|e| Error::io(&self.root, e))
    }

    /// Removes the staging folder after a failure (best effort: the archive itself was not
    /// touched, and the next attach removes what is left).
    pub(crate) fn abandon(self) {
        let _ignored = fs::remove_dir_all(&self.root);
    }
}

/// Writes incident.toml into `dir`.
pub(crate) fn write_spec(spec: &IncidentSpec, dir: &Path) -> Result<(), Error> {
    let path = dir.join("incident.toml");
    let text = spec.to_toml().map_err(|m| Error::input(&path, m))?;
    fs::write(&path, text).map_err(|e| Error::io(&path, e))
}
