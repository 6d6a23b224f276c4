//! The run journal: a write-ahead record of every path a run touches, with its exact state before
//! (bytes, mode, owner, link target, or absence) and after. It is written, fsynced and renamed
//! into place before the first change, and rewritten after each step, so an apply interrupted at
//! any point (a crash, `kill -9`, a power cut) can always be rolled back to the original bytes.
//!
//! Also the atomic writer every change goes through: temp file in the same directory, mode and
//! owner set, fsync, rename over the target, fsync of the directory.

use crate::change::{FileChange, FileState};
use crate::HardenError;
use rempart_audit::host::Host;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Where runs are kept, as a host path (inside the root tree under `--root`).
pub const STATE_DIR: &str = "/var/lib/rempart/harden";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    /// The originals are recorded; nothing written yet (or the apply was interrupted).
    Recorded,
    /// Changes are being written.
    Applying,
    /// Applied and kept.
    Applied,
    /// Applied, waiting for `harden confirm` before the deadline.
    Pending,
    /// A pending run that was confirmed.
    Confirmed,
    /// Restored to the originals.
    RolledBack,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryState {
    Planned,
    /// The after-state is (or may be, if interrupted right after) on disk.
    Writing,
    Written,
    /// Written, then restored because the software's checker refused it.
    Undone,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub change: FileChange,
    pub state: EntryState,
    /// Directories created for this entry (removed again on rollback when empty).
    #[serde(default)]
    pub created_dirs: Vec<String>,
    /// The checker's message when the change was undone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Journal {
    pub run: String,
    pub root: String,
    pub live: bool,
    pub created: String,
    pub status: RunStatus,
    /// Seconds since the epoch after which a pending run is rolled back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<i64>,
    pub rules: Vec<String>,
    pub entries: Vec<Entry>,
    /// Packages the run asked apt for, recorded before apt runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<String>,
    /// Every package apt installed for the run (those asked for and their dependencies), read
    /// from dpkg's status after apt: what rollback purges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub installed: Vec<String>,
    /// Live actions, with what rollback needs to undo them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<crate::live::ActionRecord>,
}

/// Resolve a host path to the real path without following its last component (we replace links
/// themselves, never their targets).
pub fn real_path(host: &Host, path: &str) -> Result<PathBuf, HardenError> {
    let (parent, name) = path
        .rsplit_once('/')
        .ok_or_else(|| HardenError::Write(format!("{path}: not an absolute path")))?;
    let parent = if parent.is_empty() { "/" } else { parent };
    if name.is_empty() || name == "." || name == ".." {
        return Err(HardenError::Write(format!("{path}: not a file path")));
    }
    let dir = host
        .resolve(parent)
        .map_err(|e| HardenError::Write(e.to_string()))?;
    Ok(dir.join(name))
}

fn fsync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// The parent directories of a host path that do not exist yet, outermost first. The journal
/// records them before they are created, so a rollback after a crash removes them too.
pub fn missing_parents(host: &Host, path: &str) -> Vec<String> {
    let parent = |p: &str| {
        p.rsplit_once('/')
            .map(|(p, _)| p.to_string())
            .unwrap_or_default()
    };
    let mut missing = Vec::new();
    let mut cur = parent(path);
    while !cur.is_empty() && !host.exists(&cur) {
        missing.push(cur.clone());
        cur = parent(&cur);
    }
    missing.reverse();
    missing
}

/// Create missing parent directories of a host path (0755); returns those created.
fn ensure_parents(host: &Host, path: &str) -> Result<Vec<String>, HardenError> {
    let mut created = Vec::new();
    for dir in missing_parents(host, path) {
        let real = real_path(host, &dir)?;
        fs::create_dir(&real).map_err(|e| HardenError::Write(format!("{dir}: {e}")))?;
        fs::set_permissions(&real, fs::Permissions::from_mode(0o755))
            .map_err(|e| HardenError::Write(format!("{dir}: {e}")))?;
        created.push(dir);
    }
    Ok(created)
}

/// Put a path into `state` atomically. Returns the directories it had to create.
pub fn write_state(host: &Host, path: &str, state: &FileState) -> Result<Vec<String>, HardenError> {
    let err = |e: std::io::Error| HardenError::Write(format!("{path}: {e}"));
    let created = match state {
        FileState::Absent => Vec::new(),
        _ => ensure_parents(host, path)?,
    };
    let real = real_path(host, path)?;
    let dir = real
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"));
    let name = real
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.rempart-{}", std::process::id()));
    match state {
        FileState::Absent => match fs::symlink_metadata(&real) {
            Ok(m) if m.is_dir() => {
                return Err(HardenError::Write(format!("{path}: is a directory")));
            }
            Ok(_) => {
                fs::remove_file(&real).map_err(err)?;
                fsync_dir(&dir).map_err(err)?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(err(e)),
        },
        FileState::File {
            content,
            mode,
            uid,
            gid,
        } => {
            let _ = fs::remove_file(&tmp);
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode_0600()
                .open(&tmp)
                .map_err(err)?;
            let result = (|| {
                f.write_all(content)?;
                let m = f.metadata()?;
                if (m.uid(), m.gid()) != (*uid, *gid) {
                    std::os::unix::fs::fchown(&f, Some(*uid), Some(*gid))?;
                }
                f.set_permissions(fs::Permissions::from_mode(*mode))?;
                f.sync_all()?;
                fs::rename(&tmp, &real)?;
                fsync_dir(&dir)
            })();
            if let Err(e) = result {
                let _ = fs::remove_file(&tmp);
                return Err(err(e));
            }
        }
        FileState::Dir { mode, uid, gid } => {
            // Directories are never created nor replaced: only their mode and owner change.
            let m = fs::symlink_metadata(&real).map_err(err)?;
            if !m.is_dir() {
                return Err(HardenError::Write(format!(
                    "{path}: is no longer a directory"
                )));
            }
            if (m.uid(), m.gid()) != (*uid, *gid) {
                std::os::unix::fs::lchown(&real, Some(*uid), Some(*gid)).map_err(err)?;
            }
            fs::set_permissions(&real, fs::Permissions::from_mode(*mode)).map_err(err)?;
            fsync_dir(&real).map_err(err)?;
        }
        FileState::Symlink { target } => {
            let _ = fs::remove_file(&tmp);
            std::os::unix::fs::symlink(target, &tmp).map_err(err)?;
            if let Err(e) = fs::rename(&tmp, &real).and_then(|_| fsync_dir(&dir)) {
                let _ = fs::remove_file(&tmp);
                return Err(err(e));
            }
        }
    }
    Ok(created)
}

trait Mode0600 {
    fn mode_0600(&mut self) -> &mut Self;
}

impl Mode0600 for fs::OpenOptions {
    fn mode_0600(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        self.mode(0o600)
    }
}

/// The current state of a path, compared with what a journal expects (metadata and bytes).
pub fn current_state(host: &Host, path: &str) -> Result<FileState, HardenError> {
    let real = real_path(host, path)?;
    match fs::symlink_metadata(&real) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FileState::Absent),
        Err(e) => Err(HardenError::Read(format!("{path}: {e}"))),
        Ok(m) if m.file_type().is_symlink() => Ok(FileState::Symlink {
            target: fs::read_link(&real)
                .map_err(|e| HardenError::Read(format!("{path}: {e}")))?
                .to_string_lossy()
                .into_owned(),
        }),
        Ok(m) if m.is_file() => Ok(FileState::File {
            content: fs::read(&real).map_err(|e| HardenError::Read(format!("{path}: {e}")))?,
            mode: m.mode() & 0o7777,
            uid: m.uid(),
            gid: m.gid(),
        }),
        Ok(m) if m.is_dir() => Ok(FileState::Dir {
            mode: m.mode() & 0o7777,
            uid: m.uid(),
            gid: m.gid(),
        }),
        Ok(_) => Err(HardenError::Read(format!(
            "{path}: not a file, directory or link"
        ))),
    }
}

/// The directory of one run (host path).
pub fn run_dir(run: &str) -> String {
    format!("{STATE_DIR}/runs/{run}")
}

impl Journal {
    /// Write the journal atomically (the run directory is created if needed).
    pub fn save(&self, host: &Host) -> Result<(), HardenError> {
        let path = format!("{}/journal.json", run_dir(&self.run));
        let json =
            serde_json::to_vec_pretty(self).map_err(|e| HardenError::Write(e.to_string()))?;
        write_state(
            host,
            &path,
            &FileState::File {
                content: json,
                mode: 0o600,
                uid: process_uid(),
                gid: process_gid(),
            },
        )?;
        Ok(())
    }

    pub fn load(host: &Host, run: &str) -> Result<Journal, HardenError> {
        let path = format!("{}/journal.json", run_dir(run));
        let bytes = host
            .read(&path)
            .map_err(|e| HardenError::Read(e.to_string()))?
            .ok_or_else(|| HardenError::NoSuchRun(run.to_string()))?;
        serde_json::from_slice(&bytes).map_err(|e| HardenError::Read(format!("{path}: {e}")))
    }

    /// Every recorded run, oldest first.
    pub fn list(host: &Host) -> Result<Vec<Journal>, HardenError> {
        let dir = format!("{STATE_DIR}/runs");
        let names = host
            .read_dir(&dir)
            .map_err(|e| HardenError::Read(e.to_string()))?
            .unwrap_or_default();
        let mut out = Vec::new();
        for n in names {
            if let Ok(j) = Journal::load(host, &n) {
                out.push(j);
            }
        }
        Ok(out)
    }
}

/// A run id that sorts by time: `20261122T003000Z-<pid>`.
pub fn new_run_id() -> String {
    let now = jiff::Timestamp::now();
    format!("{}-{}", now.strftime("%Y%m%dT%H%M%SZ"), std::process::id())
}

/// Restore every entry of a journal to its before-state, last first. Entries already at their
/// before-state are left alone; entries changed by someone since the apply are restored anyway
/// and reported. Directories the run created are removed when empty.
pub fn restore(host: &Host, journal: &mut Journal) -> Result<Vec<String>, HardenError> {
    let mut drifted = Vec::new();
    // Live actions first, last one first: the files they go with are restored next.
    for a in journal.actions.iter_mut().rev() {
        crate::live::undo(host, a).map_err(|e| {
            HardenError::Write(format!(
                "cannot put back PostgreSQL role {}'s password: {e}",
                a.role
            ))
        })?;
        a.done = false;
    }
    for entry in journal.entries.iter_mut().rev() {
        let path = &entry.change.path;
        if entry.state == EntryState::Planned {
            // Never touched by this run: whatever is there now is not ours to undo.
            continue;
        }
        let now = current_state(host, path)?;
        if now != entry.change.before {
            if now != entry.change.after {
                drifted.push(path.clone());
            }
            write_state(host, path, &entry.change.before)?;
        }
        // A temp file left by a write interrupted before its rename.
        if let Ok(real) = real_path(host, path) {
            if let (Some(dir), Some(name)) = (real.parent(), real.file_name()) {
                let prefix = format!(".{}.rempart-", name.to_string_lossy());
                for e in fs::read_dir(dir).into_iter().flatten().flatten() {
                    if e.file_name().to_string_lossy().starts_with(&prefix) {
                        let _ = fs::remove_file(e.path());
                    }
                }
            }
        }
        // Directories the run created (recorded before they were), innermost first.
        for d in entry.created_dirs.iter().rev() {
            if let Ok(real) = real_path(host, d) {
                let _ = fs::remove_dir(real);
            }
        }
        entry.state = EntryState::Planned;
    }
    // Packages go last, once their configuration is back: exactly those the run installed (or,
    // if apt was interrupted before the list was recorded, those asked for that are present).
    if !journal.packages.is_empty() || !journal.installed.is_empty() {
        let present = crate::packages::installed_now(host).map_err(HardenError::Read)?;
        let ours = if journal.installed.is_empty() {
            &journal.packages
        } else {
            &journal.installed
        };
        let purge: Vec<String> = ours
            .iter()
            .filter(|p| present.contains(*p))
            .cloned()
            .collect();
        if !purge.is_empty() {
            crate::packages::Installer::of(host)
                .and_then(|i| i.purge(&purge))
                .map_err(|e| {
                    HardenError::Write(format!(
                        "the files are restored, but the packages the run installed remain                          ({}): {e}",
                        purge.join(" ")
                    ))
                })?;
        }
    }
    journal.status = RunStatus::RolledBack;
    journal.deadline = None;
    journal.save(host)?;
    Ok(drifted)
}

/// The user this process runs as (journals belong to it: root on a live host).
fn process_uid() -> u32 {
    fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(0)
}

fn process_gid() -> u32 {
    fs::metadata("/proc/self").map(|m| m.gid()).unwrap_or(0)
}
