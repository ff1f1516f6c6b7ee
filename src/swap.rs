//! Replacing a directory as a whole: a new version is written beside it and exchanged with it
//! in one step, so that a reader, or a run killed at any instant, finds the old version or the
//! new one, never a mix. The report's `--out` and the ticket store are both written this way.
//! Beside it, the system's file locks that keep two writers (and, for the store, a writer and
//! its readers) from overlapping.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The suffix of the old version, moved aside where directories cannot be exchanged in one step.
pub const ASIDE: &str = ".old";

/// Test-only: with `DESKPULSE_ABORT_AT_STEP=n`, the process aborts at the n-th step of writing
/// and putting outputs in place, counted over the whole run (no destructor runs, as under
/// `kill -9`), so that a test can check what each instant leaves behind.
pub fn abort_point() {
    static STEPS: AtomicUsize = AtomicUsize::new(0);
    let step = STEPS.fetch_add(1, Ordering::SeqCst) + 1;
    if let Ok(at) = std::env::var("DESKPULSE_ABORT_AT_STEP")
        && at.parse() == Ok(step)
    {
        std::process::abort();
    }
}

/// Swaps two directories in one step where the system can (Linux); elsewhere the target is
/// moved aside, then the staging directory put in its place.
pub fn exchange(staging: &Path, target: &Path) -> std::io::Result<()> {
    if !target.exists() {
        return std::fs::rename(staging, target);
    }
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        match renameat_with(CWD, staging, CWD, target, RenameFlags::EXCHANGE) {
            Ok(()) => return Ok(()),
            Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {}
            Err(e) => return Err(e.into()),
        }
    }
    let aside = PathBuf::from(format!("{}{ASIDE}", staging.display()));
    std::fs::rename(target, &aside)?;
    std::fs::rename(staging, target)?;
    std::fs::rename(&aside, staging)
}

/// Holds the system's lock on the file at `path` (made if it is not there) until the returned
/// file is dropped; while another process holds it, says `waiting` and waits. The system
/// releases the lock when its process ends, however it ends, so a killed run leaves none.
pub fn hold_lock(path: &Path, waiting: &str) -> std::io::Result<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    match file.try_lock() {
        Ok(()) => return Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => crate::log::note(waiting),
        Err(std::fs::TryLockError::Error(e)) => return Err(e),
    }
    file.lock()?;
    Ok(file)
}

/// Shares the system's lock on the file at `path` with other readers until the returned file
/// is dropped; while a process holds it alone ([`hold_lock`]), says `waiting` and waits. `None`
/// when the file is not there, this user may not read it, or the system has no file locks: no
/// lock is taken then.
pub fn share_lock(path: &Path, waiting: &str) -> std::io::Result<Option<std::fs::File>> {
    let no_lock = |e: &std::io::Error| {
        matches!(
            e.kind(),
            ErrorKind::NotFound | ErrorKind::PermissionDenied | ErrorKind::Unsupported
        )
    };
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if no_lock(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    match file.try_lock_shared() {
        Ok(()) => return Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => crate::log::note(waiting),
        Err(std::fs::TryLockError::Error(e)) if no_lock(&e) => return Ok(None),
        Err(std::fs::TryLockError::Error(e)) => return Err(e),
    }
    file.lock_shared()?;
    Ok(Some(file))
}

/// Makes a directory's entries durable (a power cut, not only a kill); best effort.
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Removes each entry of `dir` whose name yields, through `pid_of`, the pid of a dead process.
/// Only where `/proc` tells which processes live.
pub fn remove_dead(dir: &Path, pid_of: impl Fn(&str) -> Option<&str>) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = pid_of(&name).and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid == std::process::id() || Path::new("/proc").join(pid.to_string()).exists() {
            continue;
        }
        let path = entry.path();
        let _ = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_share_a_lock_and_take_none_where_there_is_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".store.lock");
        assert!(share_lock(&path, "waiting").unwrap().is_none());
        let writer = hold_lock(&path, "waiting").unwrap();
        drop(writer);
        let first = share_lock(&path, "waiting")
            .unwrap()
            .expect("the file is there");
        let second = share_lock(&path, "waiting")
            .unwrap()
            .expect("the file is there");
        let other = std::fs::File::open(&path).unwrap();
        assert!(
            matches!(other.try_lock(), Err(std::fs::TryLockError::WouldBlock)),
            "a writer waits while readers hold it"
        );
        drop((first, second));
        assert!(other.try_lock().is_ok());
    }
}
