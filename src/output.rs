//! Atomic outputs: nothing half-written, nothing lost.
//!
//! Every file or folder funnel writes is first written under a temporary name beside its
//! target (same folder, so the same filesystem) and renamed onto the target only once complete.
//! A failure or a kill at any point leaves the previous output, if any, as it was, plus at
//! worst a hidden `.NAME.funnel-tmp-PID-N` entry that the next write of the same target removes.
//!
//! ```no_run
//! # fn main() -> std::io::Result<()> {
//! use funnel::output::Staged;
//! let out = std::path::Path::new("reports/x");
//! let staged = Staged::dir(out)?; // an empty folder beside `out`
//! std::fs::write(staged.path().join("verdict.json"), "{}")?;
//! staged.commit()?; // `out` is now exactly the staged folder; the old one is gone
//! # Ok(()) }
//! ```
//!
//! Dropping a [`Staged`] without committing removes the temporary entry. A folder replaces an
//! existing one whole (on Linux with one `renameat2(RENAME_EXCHANGE)`, so the target never goes
//! missing); [`check_owned`] refuses, before any work, to replace a folder holding entries
//! funnel would not have written (`--out ~` must not wipe a home folder). Durability against
//! power loss (fsync) is not promised; consistency against kills and errors is.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The infix of temporary names: `.NAME.funnel-tmp-PID-N`.
const TMP_INFIX: &str = ".funnel-tmp-";

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A file or folder being written beside its final path; see the module docs.
#[derive(Debug)]
pub struct Staged {
    tmp: PathBuf,
    target: PathBuf,
    done: bool,
}

impl Staged {
    /// A temporary file path beside `target` (its folder is created). Write it, then commit.
    ///
    /// # Errors
    /// The parent folder cannot be created, or `target` has no file name.
    pub fn file(target: &Path) -> io::Result<Staged> {
        let tmp = tmp_beside(target)?;
        Ok(Staged {
            tmp,
            target: target.to_path_buf(),
            done: false,
        })
    }

    /// An empty temporary folder beside `target`. Fill it, then commit.
    ///
    /// # Errors
    /// The folder cannot be created, or `target` has no file name.
    pub fn dir(target: &Path) -> io::Result<Staged> {
        let tmp = tmp_beside(target)?;
        fs::create_dir(&tmp)?;
        Ok(Staged {
            tmp,
            target: target.to_path_buf(),
            done: false,
        })
    }

    /// Where to write.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// The final path.
    #[must_use]
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Renames the staged entry onto the target, replacing any previous one whole.
    ///
    /// # Errors
    /// The rename fails (the target is then unchanged), or the replaced folder cannot be
    /// removed afterwards (the new output is in place either way).
    pub fn commit(mut self) -> io::Result<()> {
        let is_dir = self.tmp.is_dir();
        if is_dir && self.target.is_dir() {
            replace_dir(&self.tmp, &self.target)?;
        } else if is_dir && self.target.exists() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a folder", self.target.display()),
            ));
        } else {
            fs::rename(&self.tmp, &self.target)?;
        }
        self.done = true;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.done {
            // Best effort: a leftover is cleared by the next write of the same target anyway.
            let _ = remove_any(&self.tmp);
        }
    }
}

/// Writes `bytes` to `target` atomically.
///
/// # Errors
/// The file cannot be written or renamed.
pub fn write_file(target: &Path, bytes: impl AsRef<[u8]>) -> io::Result<()> {
    let s = Staged::file(target)?;
    fs::write(s.path(), bytes)?;
    s.commit()
}

/// Refuses to replace an existing folder that holds anything but `owned` entries (what the
/// command itself writes there). A missing or empty target is fine; a file is not.
///
/// # Errors
/// `InvalidInput` naming the first foreign entry, or the folder cannot be listed.
pub fn check_owned(target: &Path, owned: &[&str]) -> io::Result<()> {
    let meta = match fs::symlink_metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if !meta.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "exists and is not a folder (give a new or empty folder)",
        ));
    }
    let mut foreign: Vec<OsString> = fs::read_dir(target)?
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .filter(|n| !owned.iter().any(|o| n == o))
        .collect();
    foreign.sort();
    match foreign.first() {
        None => Ok(()),
        Some(n) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "already holds `{}`, which funnel does not write there; the whole folder would \
                 be replaced, so give a new or empty folder",
                n.to_string_lossy()
            ),
        )),
    }
}

/// `.NAME.funnel-tmp-PID-N` beside `target`, after clearing leftovers of dead processes.
fn tmp_beside(target: &Path) -> io::Result<PathBuf> {
    let name = target.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}: not a file or folder name", target.display()),
        )
    })?;
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent)?;
    let prefix = format!(".{}{TMP_INFIX}", name.to_string_lossy());
    clear_leftovers(&parent, &prefix);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    Ok(parent.join(format!("{prefix}{}-{n}", std::process::id())))
}

/// Removes `PREFIX<pid>-<n>` entries whose process is gone (a killed run's temporaries).
fn clear_leftovers(parent: &Path, prefix: &str) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(prefix)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if !process_alive(pid) {
            let _ = remove_any(&e.path());
        }
    }
}

fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        // Without /proc, never guess: a leftover costs disk, a wrong guess costs a live write.
        true
    }
}

fn remove_any(p: &Path) -> io::Result<()> {
    match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(p),
        Ok(_) => fs::remove_file(p),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Swaps the staged folder in for the existing target, then removes the old one.
fn replace_dir(staged: &Path, target: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        match renameat_with(CWD, staged, CWD, target, RenameFlags::EXCHANGE) {
            // `staged` now holds the old output.
            Ok(()) => return remove_any(staged),
            // Filesystems without RENAME_EXCHANGE fall through to two renames.
            Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {}
            Err(e) => return Err(e.into()),
        }
    }
    // Two renames: a kill between them leaves the old output under the aside name.
    let mut aside = staged.as_os_str().to_owned();
    aside.push("-old");
    let aside = PathBuf::from(aside);
    fs::rename(target, &aside)?;
    if let Err(e) = fs::rename(staged, target) {
        let _ = fs::rename(&aside, target);
        return Err(e);
    }
    remove_any(&aside)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .map(|r| {
                r.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    #[test]
    fn a_dropped_file_leaves_the_old_one_and_no_temporary() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("out.csv");
        write_file(&t, "old").unwrap();
        {
            let s = Staged::file(&t).unwrap();
            fs::write(s.path(), "half").unwrap();
        }
        assert_eq!(fs::read_to_string(&t).unwrap(), "old");
        assert_eq!(names(d.path()), ["out.csv"]);
        write_file(&t, "new").unwrap();
        assert_eq!(fs::read_to_string(&t).unwrap(), "new");
    }

    #[test]
    fn a_folder_replaces_the_old_one_whole() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("report");
        fs::create_dir_all(t.join("charts")).unwrap();
        fs::write(t.join("charts/stale.svg"), "x").unwrap();
        let s = Staged::dir(&t).unwrap();
        fs::write(s.path().join("postmortem.md"), "new").unwrap();
        s.commit().unwrap();
        assert_eq!(names(&t), ["postmortem.md"]);
        assert_eq!(names(d.path()), ["report"]);
    }

    #[test]
    fn a_dropped_folder_leaves_the_old_one() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("report");
        fs::create_dir_all(&t).unwrap();
        fs::write(t.join("postmortem.md"), "old").unwrap();
        {
            let s = Staged::dir(&t).unwrap();
            fs::write(s.path().join("postmortem.md"), "half").unwrap();
        }
        assert_eq!(fs::read_to_string(t.join("postmortem.md")).unwrap(), "old");
        assert_eq!(names(d.path()), ["report"]);
    }

    #[test]
    fn leftovers_of_dead_processes_are_cleared() {
        let d = tempfile::tempdir().unwrap();
        // No process has pid 4294967295 (above Linux's pid_max).
        let dead = d.path().join(".out.csv.funnel-tmp-4294967295-0");
        fs::write(&dead, "half").unwrap();
        write_file(&d.path().join("out.csv"), "new").unwrap();
        if cfg!(target_os = "linux") {
            assert_eq!(names(d.path()), ["out.csv"]);
        }
    }

    #[test]
    fn foreign_entries_are_refused() {
        let d = tempfile::tempdir().unwrap();
        assert!(check_owned(&d.path().join("missing"), &["a"]).is_ok());
        assert!(check_owned(d.path(), &["a"]).is_ok());
        fs::write(d.path().join("a"), "").unwrap();
        assert!(check_owned(d.path(), &["a"]).is_ok());
        fs::write(d.path().join("thesis.tex"), "").unwrap();
        let e = check_owned(d.path(), &["a"]).unwrap_err();
        assert!(e.to_string().contains("thesis.tex"), "{e}");
        assert!(check_owned(&d.path().join("a"), &["a"]).is_err());
    }
}
