//! What the daemon keeps across restarts, in its state directory: where it stopped in each
//! followed file (`offsets.json`), the journal cursor (`journal.cursor`) and the active bans
//! (`bans.json`). Every file is written atomically (temporary file, fsync, rename, fsync of the
//! directory), so a crash leaves the old or the new version, never a torn one. A damaged state
//! file is reported and treated as empty rather than stopping the daemon.

use crate::addr::Cidr;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Where reading stopped in one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileOffset {
    /// Device of the file.
    pub dev: u64,
    /// Inode of the file.
    pub ino: u64,
    /// Bytes consumed (complete lines only).
    pub offset: u64,
}

/// One active ban.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BanRecord {
    /// The jail.
    pub jail: String,
    /// The banned address or network.
    pub target: Cidr,
    /// When it started.
    pub at: Timestamp,
    /// When it ends.
    pub until: Timestamp,
    /// How many times this target was banned by the jail.
    #[serde(default = "one")]
    pub count: u32,
    /// Ports it blocks (empty: all).
    #[serde(default)]
    pub ports: Vec<u16>,
}

fn one() -> u32 {
    1
}

/// A state operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Reading or writing a state file failed.
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A state file is not what this version writes.
    #[error("{path}: damaged state file ({message})")]
    Damaged { path: PathBuf, message: String },
}

/// The state directory.
#[derive(Debug, Clone)]
pub struct StateDir {
    dir: PathBuf,
}

impl StateDir {
    /// The state kept in `dir` (created if missing, mode 0700).
    pub fn open(dir: &Path) -> Result<StateDir, StateError> {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|source| StateError::Io {
                op: "creating",
                path: dir.to_path_buf(),
                source,
            })?;
        Ok(StateDir {
            dir: dir.to_path_buf(),
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    fn read<T: for<'de> Deserialize<'de> + Default>(&self, name: &str) -> Result<T, StateError> {
        let path = self.dir.join(name);
        match fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| StateError::Damaged {
                path,
                message: e.to_string(),
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(T::default()),
            Err(source) => Err(StateError::Io {
                op: "reading",
                path,
                source,
            }),
        }
    }

    /// Saved file offsets.
    pub fn offsets(&self) -> Result<BTreeMap<PathBuf, FileOffset>, StateError> {
        self.read("offsets.json")
    }

    /// Saves file offsets.
    pub fn save_offsets(&self, o: &BTreeMap<PathBuf, FileOffset>) -> Result<(), StateError> {
        self.write_json("offsets.json", o)
    }

    /// Saved bans (expired ones included; the caller drops them).
    pub fn bans(&self) -> Result<Vec<BanRecord>, StateError> {
        self.read("bans.json")
    }

    /// Saves the active bans.
    pub fn save_bans(&self, bans: &[BanRecord]) -> Result<(), StateError> {
        self.write_json("bans.json", &bans)
    }

    /// The saved journal cursor.
    pub fn cursor(&self) -> Result<Option<String>, StateError> {
        let path = self.dir.join("journal.cursor");
        match fs::read_to_string(&path) {
            Ok(s) => {
                let s = s.trim();
                let ok = !s.is_empty() && s.len() < 4096 && s.bytes().all(|c| c.is_ascii_graphic());
                Ok(ok.then(|| s.to_string()))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StateError::Io {
                op: "reading",
                path,
                source,
            }),
        }
    }

    /// Saves the journal cursor.
    pub fn save_cursor(&self, cursor: &str) -> Result<(), StateError> {
        self.write_atomic("journal.cursor", cursor.as_bytes())
    }

    fn write_json<T: Serialize + ?Sized>(&self, name: &str, v: &T) -> Result<(), StateError> {
        let data = serde_json::to_vec(v).map_err(|e| StateError::Damaged {
            path: self.dir.join(name),
            message: e.to_string(),
        })?;
        self.write_atomic(name, &data)
    }

    /// Writes `name` atomically: a temporary file, fsync, rename, fsync of the directory.
    pub fn write_atomic(&self, name: &str, data: &[u8]) -> Result<(), StateError> {
        write_atomic(&self.dir.join(name), data).map_err(|source| StateError::Io {
            op: "writing",
            path: self.dir.join(name),
            source,
        })
    }
}

/// Writes `path` atomically (same directory temporary, fsync, rename, directory fsync).
pub fn write_atomic(path: &Path, data: &[u8]) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("state");
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(data)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, path)?;
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_survives_damage() {
        let d = tempfile::tempdir().unwrap();
        let s = StateDir::open(&d.path().join("guard")).unwrap();
        assert!(s.offsets().unwrap().is_empty());
        assert_eq!(s.cursor().unwrap(), None);
        let mut o = BTreeMap::new();
        o.insert(
            PathBuf::from("/var/log/auth.log"),
            FileOffset {
                dev: 1,
                ino: 2,
                offset: 3,
            },
        );
        s.save_offsets(&o).unwrap();
        assert_eq!(s.offsets().unwrap(), o);
        let b = vec![BanRecord {
            jail: "sshd".into(),
            target: "2001:db8::/64".parse().unwrap(),
            at: Timestamp::from_second(1).unwrap(),
            until: Timestamp::from_second(2).unwrap(),
            count: 1,
            ports: vec![22],
        }];
        s.save_bans(&b).unwrap();
        assert_eq!(s.bans().unwrap(), b);
        s.save_cursor("s=abc;i=1").unwrap();
        assert_eq!(s.cursor().unwrap().as_deref(), Some("s=abc;i=1"));
        std::fs::write(s.path().join("bans.json"), b"{not json").unwrap();
        assert!(matches!(s.bans(), Err(StateError::Damaged { .. })));
        let leftovers: Vec<_> = std::fs::read_dir(s.path())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }
}
