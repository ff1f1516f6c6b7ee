//! The locks that keep two ingests, or an ingest and a run, from crossing.

use std::path::{Path, PathBuf};

use super::{StoreError, io_error};

/// The directory the store is in (made if it is not there) and the store's name in it.
pub(super) fn parent_and_name(dir: &Path) -> Result<(PathBuf, String), StoreError> {
    let name = dir
        .file_name()
        .filter(|n| *n != "..")
        .ok_or_else(|| StoreError::Invalid {
            path: dir.to_path_buf(),
            message: "not a directory name".to_string(),
        })?
        .to_string_lossy()
        .into_owned();
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent).map_err(io_error(parent))?;
    let parent = parent.canonicalize().map_err(io_error(parent))?;
    Ok((parent, name))
}

/// Keeps other ingests, and runs, out of the store until the returned file is dropped: an
/// ingest that finds one running waits for it, then reads the version it put in place. Two at
/// once would each make a new version from the same old one, and the second to finish would
/// drop the exports of the first. The lock is the system's lock on `.<store name>.lock` beside
/// the store, released by the system when the process ends, however it ends.
pub(super) fn lock_for_ingest(dir: &Path) -> Result<std::fs::File, StoreError> {
    let path = lock_path(dir)?;
    let waiting = format!(
        "another ingest is writing {}, or a run is reading it: waiting for it to finish",
        dir.display()
    );
    crate::swap::hold_lock(&path, &waiting).map_err(io_error(&path))
}

/// Keeps ingests from putting a new version of the store in place until the returned file is
/// dropped; runs share it. A run reads the store for as long as it measures, and an ingest
/// would swap the files under it; one that finds the lock held by an ingest says so and waits
/// for the version it puts in place. `None` where no ingest has made the lock file or this user
/// cannot read it: the run then relies on [`super::StoredTickets::unchanged`] alone.
pub(super) fn lock_for_reading(dir: &Path) -> Result<Option<std::fs::File>, StoreError> {
    if !dir.is_dir() {
        // no store there: reading its manifest says so
        return Ok(None);
    }
    let path = lock_path(dir)?;
    let waiting = format!(
        "an ingest is writing {}: waiting for it to finish",
        dir.display()
    );
    crate::swap::share_lock(&path, &waiting).map_err(io_error(&path))
}

/// `.<store name>.lock` beside the store.
fn lock_path(dir: &Path) -> Result<PathBuf, StoreError> {
    let (parent, name) = parent_and_name(dir)?;
    Ok(parent.join(format!(".{name}.lock")))
}
