//! Per-trial lock files so that sweep processes sharing a filesystem never run one trial
//! at the same time.
//!
//! A lock is a file created with `O_CREAT | O_EXCL` holding `PID HOST`. A lock is stale when
//! its host is this machine and its process no longer runs (or is a zombie); a stale lock
//! is broken under a second, short-lived "breaker" lock so that two processes breaking the
//! same stale lock cannot remove a fresh lock taken in between. Locks of other hosts are
//! never broken automatically (their processes cannot be checked from here): delete them by
//! hand if their machine died. The lock is removed when the [`TrialLock`] is dropped.

use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Age after which a lock file without a readable owner (its creator died between creating
/// and writing it) is considered stale.
const UNREADABLE_LOCK_GRACE: Duration = Duration::from_secs(30);

/// A held lock; dropping it releases the lock.
#[derive(Debug)]
pub(crate) struct TrialLock {
    path: PathBuf,
}

impl Drop for TrialLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The result of trying to take a lock.
#[derive(Debug)]
pub(crate) enum LockAttempt {
    Acquired(TrialLock),
    /// Held by a live process, described by the lock file's `PID HOST`.
    HeldBy(String),
}

/// This machine's host name (empty if unknown).
pub(crate) fn host_name() -> String {
    let mut buffer = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that many bytes.
    let rc = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
    if rc != 0 {
        return String::new();
    }
    let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
    String::from_utf8_lossy(&buffer[..end]).into_owned()
}

/// Whether process `pid` on this machine exists and is not a zombie.
pub(crate) fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let Ok(pid_t) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 performs only the existence and permission check.
    let rc = unsafe { libc::kill(pid_t, 0) };
    let exists = rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    exists && !is_zombie(pid)
}

/// Linux: the process state in `/proc/PID/stat` is `Z` (exited, not yet reaped).
fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let after = stat.rsplit_once(')')?.1;
            after.split_whitespace().next().map(|state| state == "Z")
        })
        .unwrap_or(false)
}

/// Creates `path` exclusively with this process's `PID HOST`.
fn create_exclusive(path: &Path) -> std::io::Result<()> {
    let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
    let written =
        writeln!(file, "{} {}", std::process::id(), host_name()).and_then(|()| file.sync_all());
    if let Err(e) = written {
        let _ = std::fs::remove_file(path);
        return Err(e);
    }
    Ok(())
}

/// Whether the lock content `owner` (`PID HOST`) names a dead process on this machine, or
/// is unreadable and older than the grace period.
fn is_stale(path: &Path, owner: &str) -> bool {
    let mut parts = owner.split_whitespace();
    match (
        parts.next().and_then(|p| p.parse::<u32>().ok()),
        parts.next(),
    ) {
        (Some(pid), host) => host.unwrap_or("") == host_name() && !process_alive(pid),
        (None, _) => std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > UNREADABLE_LOCK_GRACE),
    }
}

/// Removes the stale lock at `path` if it still holds `owner`, under the breaker lock.
fn break_stale(path: &Path, owner: &str) -> std::io::Result<()> {
    let breaker = path.with_extension("lock.break");
    match create_exclusive(&breaker) {
        Ok(()) => {
            let still_same = std::fs::read_to_string(path).is_ok_and(|now| now == owner);
            let removed = if still_same {
                std::fs::remove_file(path).or_else(ignore_not_found)
            } else {
                Ok(())
            };
            let _ = std::fs::remove_file(&breaker);
            removed
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            // Someone else is breaking it; clear a breaker left by a dead process.
            let breaker_owner = std::fs::read_to_string(&breaker).unwrap_or_default();
            if is_stale(&breaker, &breaker_owner) {
                std::fs::remove_file(&breaker).or_else(ignore_not_found)?;
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

fn ignore_not_found(e: std::io::Error) -> std::io::Result<()> {
    if e.kind() == ErrorKind::NotFound {
        Ok(())
    } else {
        Err(e)
    }
}

/// Tries to take the lock at `path`, breaking it first if it is stale.
pub(crate) fn try_lock(path: &Path) -> std::io::Result<LockAttempt> {
    const ATTEMPTS: usize = 5;
    let mut owner = String::new();
    for attempt in 0..ATTEMPTS {
        match create_exclusive(path) {
            Ok(()) => {
                return Ok(LockAttempt::Acquired(TrialLock {
                    path: path.to_path_buf(),
                }))
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                owner = match std::fs::read_to_string(path) {
                    Ok(text) => text,
                    Err(e) if e.kind() == ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                };
                if !is_stale(path, &owner) {
                    return Ok(LockAttempt::HeldBy(owner.trim().to_string()));
                }
                break_stale(path, &owner)?;
                if attempt > 0 {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(LockAttempt::HeldBy(owner.trim().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_then_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.lock");
        let LockAttempt::Acquired(lock) = try_lock(&path).unwrap() else {
            panic!("first lock not acquired")
        };
        assert!(matches!(try_lock(&path).unwrap(), LockAttempt::HeldBy(_)));
        drop(lock);
        assert!(!path.exists());
        assert!(matches!(try_lock(&path).unwrap(), LockAttempt::Acquired(_)));
    }

    #[test]
    fn stale_lock_of_dead_process_is_broken_but_foreign_host_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.lock");
        // A process that has exited and been reaped.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        std::fs::write(&path, format!("{dead} {}\n", host_name())).unwrap();
        assert!(matches!(try_lock(&path).unwrap(), LockAttempt::Acquired(_)));
        std::fs::write(&path, format!("{dead} some-other-host\n")).unwrap();
        assert!(matches!(try_lock(&path).unwrap(), LockAttempt::HeldBy(_)));
    }

    #[test]
    fn zombie_counts_as_dead() {
        let child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        std::thread::sleep(Duration::from_millis(200));
        // not reaped yet: a zombie
        assert!(!process_alive(pid));
        drop(child);
        assert!(process_alive(std::process::id()));
    }
}
