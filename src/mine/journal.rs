//! Resumable mining: every finished incident is recorded as a part beside the output, so a run
//! killed at any point and started again with the same arguments analyses only what is missing.
//!
//! The journal is the folder `.NAME.funnel-journal` beside the output `NAME`:
//! `settings` (what the run was asked, so a run with other arguments starts afresh),
//! `parts/<hash of the archive path>/` (that incident's `incidents.parquet` and
//! `hypotheses.parquet`, each part written whole through [`crate::output`]: a part exists
//! completely or not at all) and `reports/<id>/` with `--reports`. Once every part is in, the
//! output is built from the parts alone (an uninterrupted run does the same), which makes a
//! resumed run's output byte-identical to an uninterrupted one's; then the journal is removed.

use std::fs;
use std::path::{Path, PathBuf};

use super::rows::{Mined, Rows};
use super::{Error, Found, shard, table};
use crate::output::Staged;

/// The journal of one mining run; see the module docs.
#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::Io {
        path: path.to_path_buf(),
        err: e,
    }
}

impl Journal {
    /// The journal of mining into `out` with `settings` (any text naming the arguments that
    /// change the output): the existing one when its settings match, else a fresh one.
    ///
    /// # Errors
    /// The journal folder cannot be read, cleared or created.
    pub fn open(out: &Path, settings: &str) -> Result<Journal, Error> {
        let name = out.file_name().ok_or_else(|| Error::Input {
            path: out.to_path_buf(),
            message: "not a folder name".into(),
        })?;
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let dir = parent.join(format!(".{}.funnel-journal", name.to_string_lossy()));
        let settings_path = dir.join("settings");
        let same = fs::read_to_string(&settings_path).is_ok_and(|s| s == settings);
        if !same && dir.exists() {
            fs::remove_dir_all(&dir).map_err(io(&dir))?;
        }
        let parts = dir.join("parts");
        fs::create_dir_all(&parts).map_err(io(&parts))?;
        if !same {
            crate::output::write_file(&settings_path, settings).map_err(io(&settings_path))?;
        }
        Ok(Journal { dir })
    }

    /// The journal folder.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where `--reports` reports go until the output is published.
    #[must_use]
    pub fn reports(&self) -> PathBuf {
        self.dir.join("reports")
    }

    fn part(&self, f: &Found) -> PathBuf {
        self.dir
            .join("parts")
            .join(format!("{:016x}", shard::fnv1a64(f.rel.as_bytes())))
    }

    /// Whether this archive's rows are recorded.
    #[must_use]
    pub fn has(&self, f: &Found) -> bool {
        self.part(f).join(table::HYPOTHESES).is_file()
    }

    /// Records one archive's rows (whole or not at all).
    ///
    /// # Errors
    /// The part cannot be written.
    pub fn record(&self, f: &Found, m: Mined) -> Result<(), Error> {
        let part = self.part(f);
        let staged = Staged::dir(&part).map_err(io(&part))?;
        table::write(&Rows::from_mined(vec![m]), staged.path())?;
        staged.commit().map_err(io(&part))
    }

    /// Every archive's rows, in canonical order.
    ///
    /// # Errors
    /// A part is missing or unreadable.
    pub fn rows(&self, found: &[Found]) -> Result<Rows, Error> {
        let mut all = Rows::default();
        for f in found {
            let r = table::read(&self.part(f))?;
            all.incidents.extend(r.incidents);
            all.hypotheses.extend(r.hypotheses);
        }
        all.canonicalize();
        Ok(all)
    }

    /// Removes the journal once its output is published.
    ///
    /// # Errors
    /// The folder cannot be removed.
    pub fn finish(self) -> Result<(), Error> {
        fs::remove_dir_all(&self.dir).map_err(io(&self.dir))
    }
}
