//! The `--out` directory, replaced as a set: a run writes every output into a staging directory
//! beside `--out` and swaps it in with one rename, so that a reader (or a run killed at any
//! instant) finds the previous run's complete outputs or this one's, never a mix of two.
//!
//! Files in `--out` that are not outputs (a user's exports, notes) are carried into the staging
//! directory as hard links before the swap, so they stay where they were. Where a swap cannot
//! keep the directory as the user knows it (it holds folders, it is the working directory, or
//! no sibling can be created), the outputs are moved in one by one instead: `manifest.json` is
//! removed first and written last, so an interrupted run leaves no manifest over a mixed set,
//! and the run says so.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::previous_run::{MANIFEST, previous_outputs};
use crate::swap::{ASIDE, abort_point, exchange, remove_dead, sync_dir};

/// Where the staging directory of a swap goes: `.<out name>.deskpulse-<pid>` beside `--out`.
const STAGING_MARK: &str = ".deskpulse-";

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot write {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "refusing to write {output}: it is {input}, one of this run's inputs; give --out a \
         directory that holds no input of the same name"
    )]
    WouldReplaceInput { output: PathBuf, input: PathBuf },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub struct OutputDir {
    /// The directory the user named, symlinks resolved.
    target: PathBuf,
    /// Where the outputs are written first.
    staging: PathBuf,
    swap: bool,
    committed: bool,
}

impl OutputDir {
    /// Makes the staging directory for `out` (creating `out`'s parents), after removing what
    /// killed runs left behind.
    pub fn prepare(out: &Path) -> Result<OutputDir, OutputError> {
        let target = real_target(out)?;
        if target.exists() && !target.is_dir() {
            return Err(OutputError::Io {
                path: out.to_path_buf(),
                source: std::io::Error::other("it is a file, not a directory"),
            });
        }
        remove_leftovers(&target);
        let reason = match in_place_reason(&target) {
            Some(reason) => Some(reason),
            None => match sibling_staging(&target) {
                Ok(staging) => {
                    return Ok(OutputDir::new(target, staging, true));
                }
                Err(e) => Some(format!("no directory can be made beside it ({e})")),
            },
        };
        std::fs::create_dir_all(&target).map_err(io_error(&target))?;
        let staging = target.join(format!("{STAGING_MARK}{}", std::process::id()));
        std::fs::create_dir(&staging).map_err(io_error(&staging))?;
        if let Some(reason) = reason {
            crate::log::note(&format!(
                "{}: {reason}, so its outputs are replaced one by one rather than as a set \
                 (manifest.json last: a run stopped midway leaves no manifest)",
                out.display()
            ));
        }
        Ok(OutputDir::new(target, staging, false))
    }

    fn new(target: PathBuf, staging: PathBuf, swap: bool) -> OutputDir {
        OutputDir {
            target,
            staging,
            swap,
            committed: false,
        }
    }

    /// Where `name` will be once committed.
    pub fn final_path(&self, name: &str) -> PathBuf {
        self.target.join(name)
    }

    /// Writes one output, in pieces, into the staging directory.
    pub fn write(&self, name: &str, pieces: &[&[u8]]) -> Result<(), OutputError> {
        let path = self.staging.join(name);
        let mut file = std::fs::File::create(&path).map_err(io_error(&path))?;
        for piece in pieces {
            file.write_all(piece).map_err(io_error(&path))?;
        }
        file.sync_all().map_err(io_error(&path))?;
        abort_point();
        Ok(())
    }

    /// Puts the staged outputs in place, refusing if one would replace an input (`inputs`:
    /// canonical paths). The previous run's outputs that this run does not write go with it.
    pub fn commit(mut self, inputs: &[PathBuf]) -> Result<(), OutputError> {
        let staged = names_in(&self.staging)?;
        for name in &staged {
            let existing = self.target.join(name);
            if let Ok(real) = existing.canonicalize()
                && inputs.binary_search(&real).is_ok()
            {
                return Err(OutputError::WouldReplaceInput {
                    output: existing,
                    input: real,
                });
            }
        }
        let previous: BTreeSet<String> = previous_outputs(&self.target)
            .into_iter()
            .filter(|name| {
                self.target
                    .join(name)
                    .canonicalize()
                    .map_or(true, |real| inputs.binary_search(&real).is_err())
            })
            .collect();
        if self.swap {
            self.swap_in(&staged, &previous)?;
        } else {
            self.move_in(&staged, &previous)?;
        }
        self.committed = true;
        Ok(())
    }

    /// Carries the target's other files over as hard links, then exchanges the two directories.
    fn swap_in(&self, staged: &[String], previous: &BTreeSet<String>) -> Result<(), OutputError> {
        if self.target.exists() {
            for name in names_in(&self.target)? {
                if staged.contains(&name) || previous.contains(&name) {
                    continue;
                }
                let (from, to) = (self.target.join(&name), self.staging.join(&name));
                std::fs::hard_link(&from, &to).map_err(io_error(&from))?;
                abort_point();
            }
            let permissions = std::fs::metadata(&self.target)
                .map_err(io_error(&self.target))?
                .permissions();
            std::fs::set_permissions(&self.staging, permissions)
                .map_err(io_error(&self.staging))?;
        }
        sync_dir(&self.staging);
        exchange(&self.staging, &self.target).map_err(io_error(&self.target))?;
        abort_point();
        if let Some(parent) = self.target.parent() {
            sync_dir(parent);
        }
        // `staging` now holds the previous outputs (or nothing, on a first run).
        let _ = std::fs::remove_dir_all(&self.staging);
        Ok(())
    }

    /// Moves the staged files into the target one by one, the manifest removed first and put
    /// back last.
    fn move_in(&self, staged: &[String], previous: &BTreeSet<String>) -> Result<(), OutputError> {
        let manifest = self.target.join(MANIFEST);
        if previous.contains(MANIFEST) || staged.iter().any(|n| n == MANIFEST) {
            match std::fs::remove_file(&manifest) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(io_error(&manifest)(e));
                }
                _ => abort_point(),
            }
        }
        for name in previous.iter().filter(|n| !staged.contains(*n)) {
            let _ = std::fs::remove_file(self.target.join(name));
        }
        let manifest_last = staged
            .iter()
            .filter(|n| *n != MANIFEST)
            .chain(staged.iter().filter(|n| *n == MANIFEST));
        for name in manifest_last {
            let (from, to) = (self.staging.join(name), self.target.join(name));
            std::fs::rename(&from, &to).map_err(io_error(&to))?;
            abort_point();
        }
        sync_dir(&self.target);
        let _ = std::fs::remove_dir_all(&self.staging);
        Ok(())
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

/// `out` with its symlinks resolved (the directory itself is swapped, not a link to it); its
/// parents are created.
fn real_target(out: &Path) -> Result<PathBuf, OutputError> {
    if let Ok(real) = out.canonicalize() {
        return Ok(real);
    }
    let name = out
        .file_name()
        .filter(|n| *n != "..")
        .ok_or_else(|| OutputError::Io {
            path: out.to_path_buf(),
            source: std::io::Error::other("not a directory name"),
        })?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent).map_err(io_error(parent))?;
    let parent = parent.canonicalize().map_err(io_error(parent))?;
    Ok(parent.join(name))
}

/// Why swapping the whole directory would change it under the user, if it would.
fn in_place_reason(target: &Path) -> Option<String> {
    let cwd = std::env::current_dir().ok()?.canonicalize().ok();
    if cwd.is_some_and(|cwd| cwd.starts_with(target)) {
        return Some("it is (or holds) the working directory".to_string());
    }
    let folders: Vec<String> = std::fs::read_dir(target)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with(STAGING_MARK))
        .collect();
    (!folders.is_empty()).then(|| format!("it holds folders ({})", folders.join(", ")))
}

/// A new, empty directory beside `target`, named after it and this process.
fn sibling_staging(target: &Path) -> std::io::Result<PathBuf> {
    let (Some(parent), Some(name)) = (target.parent(), target.file_name()) else {
        return Err(std::io::Error::other("it has no parent"));
    };
    let staging = parent.join(format!(
        ".{}{STAGING_MARK}{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    std::fs::create_dir(&staging)?;
    Ok(staging)
}

/// Removes the staging directories and temporary files of runs that were killed (their process
/// is gone), beside and inside `target`. Only where `/proc` tells which processes live.
fn remove_leftovers(target: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let beside = format!(".{name}{STAGING_MARK}");
    if let Some(parent) = target.parent() {
        if !target.exists() {
            restore_moved_aside(parent, &beside, target);
        }
        remove_dead(parent, |entry| {
            let rest = entry.strip_prefix(&beside)?;
            Some(rest.strip_suffix(ASIDE).unwrap_or(rest))
        });
    }
    remove_dead(target, |entry| entry.strip_prefix(STAGING_MARK));
    // `.<file>.<pid>.tmp`: a single file written whole, then renamed (earlier versions, publish)
    remove_dead(target, |entry| {
        entry
            .strip_prefix('.')?
            .strip_suffix(".tmp")?
            .rsplit_once('.')
            .map(|(_, pid)| pid)
    });
}

/// Where the two-rename swap was killed between its renames, puts the previous outputs back.
fn restore_moved_aside(parent: &Path, beside: &str, target: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let dead = name
            .strip_prefix(beside)
            .and_then(|rest| rest.strip_suffix(ASIDE))
            .and_then(|pid| pid.parse::<u32>().ok())
            .is_some_and(|pid| !Path::new("/proc").join(pid.to_string()).exists());
        if dead && std::fs::rename(entry.path(), target).is_ok() {
            return;
        }
    }
}

/// The names of `dir`'s entries, sorted.
fn names_in(dir: &Path) -> Result<Vec<String>, OutputError> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(io_error(dir))?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with(STAGING_MARK))
        .collect();
    names.sort();
    Ok(names)
}
