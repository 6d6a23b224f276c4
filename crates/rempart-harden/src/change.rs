//! What a fix asks for ([`Intent`]) and what the plan will do to each file ([`FileChange`]: the
//! state before and after). Intents are folded into file changes at plan time, so the plan shows
//! the exact bytes, modes and owners that apply will write, and rollback knows the exact state to
//! restore.

use serde::{Deserialize, Serialize};

/// The state of one path, before or after a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum FileState {
    /// Nothing at the path.
    Absent,
    /// A regular file.
    File {
        #[serde(with = "bytes_b64")]
        content: Vec<u8>,
        mode: u32,
        uid: u32,
        gid: u32,
    },
    /// A symbolic link (its target as written).
    Symlink { target: String },
    /// An existing directory: only its mode and owner are ever changed (fixes never create,
    /// fill or remove directories).
    Dir { mode: u32, uid: u32, gid: u32 },
}

impl FileState {
    pub fn content(&self) -> Option<&[u8]> {
        match self {
            FileState::File { content, .. } => Some(content),
            _ => None,
        }
    }

    pub fn text(&self) -> String {
        self.content()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .unwrap_or_default()
    }

    pub fn describe(&self) -> String {
        match self {
            FileState::Absent => "absent".into(),
            FileState::File {
                mode,
                uid,
                gid,
                content,
            } => {
                format!("file {:04o} {uid}:{gid}, {} bytes", mode, content.len())
            }
            FileState::Symlink { target } => format!("symlink -> {target}"),
            FileState::Dir { mode, uid, gid } => format!("directory {mode:04o} {uid}:{gid}"),
        }
    }

    /// Mode, uid and gid of a file or directory.
    pub fn meta(&self) -> Option<(u32, u32, u32)> {
        match self {
            FileState::File { mode, uid, gid, .. } | FileState::Dir { mode, uid, gid } => {
                Some((*mode, *uid, *gid))
            }
            _ => None,
        }
    }
}

/// Whether applying a fix can cut remote access to the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "safety", content = "reason", rename_all = "lowercase")]
pub enum Safety {
    Safe,
    /// Can lock the admin out (SSH authentication, firewall policy); the reason says how.
    Unsafe(String),
}

/// The formats of drop-in files whose lines a fix sets by key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LineFormat {
    /// `Keyword value` (sshd_config). Keys compare case-insensitively.
    Sshd,
    /// `key = value` (sysctl.d, PostgreSQL, INI sections without sections).
    KeyEquals,
    /// `Key=Value` inside a `[Section]` (systemd drop-ins). The section is part of the key:
    /// `Service/NoNewPrivileges`.
    Systemd,
    /// `key = value` inside a `[section]` (MariaDB option files). The section is part of the
    /// key: `mysqld/bind-address`.
    Ini,
    /// `KEY VALUE` where the key may be several words (Apache `Header always set
    /// X-Frame-Options`, nginx `server_tokens`): a line sets the key when its first words are
    /// the key's words, compared case-insensitively.
    Words,
}

/// One thing a fix asks for. Intents on the same path are applied in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// Set `key` to `value` in a drop-in file the fix owns (created with `header` if absent),
    /// replacing an earlier line for the same key.
    SetLine {
        path: String,
        format: LineFormat,
        key: String,
        value: String,
        header: String,
        mode: u32,
    },
    /// Replace the text of line `line` (1-based) of an existing file, which must still read
    /// `old`; the rest of the file keeps its bytes.
    EditLine {
        path: String,
        line: u32,
        old: String,
        new: String,
    },
    /// Set one field of line `line` (1-based), which must still read `old` there (or already
    /// `new`); the other fields keep their bytes, so fixes editing different fields of the same
    /// line (a pg_hba.conf record's address and method, a passwd entry's password and shell)
    /// compose.
    SetField {
        path: String,
        line: u32,
        sep: FieldSep,
        index: usize,
        old: String,
        new: String,
    },
    /// Insert a line before line `before` (1-based; past the end appends).
    InsertLine {
        path: String,
        before: u32,
        text: String,
    },
    /// Write a whole file (created or replaced).
    Write {
        path: String,
        content: Vec<u8>,
        mode: u32,
        uid: u32,
        gid: u32,
    },
    /// The path's new content holds a secret another intent writes (a generated key, a rotated
    /// value edited into a line): the plan shows neither its old nor its new content, in the
    /// diff or in `--json`. Changes nothing by itself.
    MarkSecret { path: String },
    /// Set a PostgreSQL role's password on the server whose Unix socket is `socket` (a host
    /// path: the server must be running), as its superuser. Not a file: the plan lists it as a
    /// live action, and the journal keeps the role's previous password verifier so rollback
    /// puts it back.
    PgPassword {
        socket: String,
        port: u16,
        role: String,
        password: String,
    },
    /// Change permission bits of a file or directory, keeping the content.
    Chmod { path: String, mode: u32 },
    /// Change the owner of a file or directory, keeping the content.
    Chown { path: String, uid: u32, gid: u32 },
    /// Create or replace a symbolic link.
    Symlink { path: String, target: String },
    /// Remove a file or link (for example a module's `mods-enabled` link).
    Remove { path: String },
}

/// How the fields of a line are separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldSep {
    /// Runs of blanks, up to a `#` comment (pg_hba.conf, limits.conf).
    Blank,
    /// `:` (passwd, shadow, group).
    Colon,
}

impl Intent {
    pub fn path(&self) -> &str {
        match self {
            Intent::SetLine { path, .. }
            | Intent::EditLine { path, .. }
            | Intent::SetField { path, .. }
            | Intent::InsertLine { path, .. }
            | Intent::Write { path, .. }
            | Intent::PgPassword { socket: path, .. }
            | Intent::MarkSecret { path }
            | Intent::Chmod { path, .. }
            | Intent::Chown { path, .. }
            | Intent::Symlink { path, .. }
            | Intent::Remove { path } => path,
        }
    }
}

/// The fix a rule offers on this host: intents, how safe they are, and what to do after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub rule: String,
    pub summary: String,
    pub safety: Safety,
    pub intents: Vec<Intent>,
}

/// What the plan does to one path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChange {
    /// Host path.
    pub path: String,
    pub before: FileState,
    pub after: FileState,
    /// Rules whose fixes touch this path.
    pub rules: Vec<String>,
    /// The new content is a secret: never shown.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
}

impl FileChange {
    /// The change as it may be shown: a secret's new content replaced by a placeholder.
    pub fn redacted(&self) -> FileChange {
        let mut c = self.clone();
        if c.secret {
            for state in [&mut c.before, &mut c.after] {
                if let FileState::File { content, .. } = state {
                    *content = format!("<secret, {} bytes>\n", content.len()).into_bytes();
                }
            }
        }
        c
    }

    /// A unified diff of the text (or a description of a metadata or link change).
    pub fn diff(&self) -> String {
        if self.secret && self.after.content().is_some() {
            // Neither the new secret nor the old one (nor the file's other values) is shown.
            let before = self.before.content().map_or(0, <[u8]>::len);
            let after = self.after.content().map_or(0, <[u8]>::len);
            let from = if self.before == FileState::Absent {
                "/dev/null".to_string()
            } else {
                format!("a{}", self.path)
            };
            let mut out = format!(
                "--- {from}\n+++ b{}\n(holds a secret: {before} -> {after} bytes, not shown)\n",
                self.path
            );
            let mut meta = self.clone();
            meta.secret = false;
            if let FileState::File { content, .. } = &mut meta.after {
                content.clone_from(
                    &self
                        .before
                        .content()
                        .map(<[u8]>::to_vec)
                        .unwrap_or_default(),
                );
            }
            if self.before != FileState::Absent {
                out.push_str(&meta.diff_shown());
            }
            return out;
        }
        self.diff_shown()
    }

    fn diff_shown(&self) -> String {
        let before = self.before.text();
        let after = self.after.text();
        let mut out = String::new();
        if before != after
            || matches!(
                (&self.before, &self.after),
                (FileState::Absent, _) | (_, FileState::Absent)
            )
        {
            let from = if self.before == FileState::Absent {
                "/dev/null".to_string()
            } else {
                format!("a{}", self.path)
            };
            let to = if self.after == FileState::Absent {
                "/dev/null".to_string()
            } else {
                format!("b{}", self.path)
            };
            let diff = similar::TextDiff::from_lines(&before, &after);
            out.push_str(
                &diff
                    .unified_diff()
                    .context_radius(3)
                    .header(&from, &to)
                    .to_string(),
            );
        }
        if let (Some(a), Some(b)) = (self.before.meta(), self.after.meta()) {
            if a.0 != b.0 {
                out.push_str(&format!("mode {}: {:04o} -> {:04o}\n", self.path, a.0, b.0));
            }
            if (a.1, a.2) != (b.1, b.2) {
                out.push_str(&format!(
                    "owner {}: {}:{} -> {}:{}\n",
                    self.path, a.1, a.2, b.1, b.2
                ));
            }
        }
        if let FileState::Symlink { target } = &self.after {
            out.push_str(&format!("symlink {} -> {target}\n", self.path));
        }
        if let (FileState::Symlink { .. }, FileState::Absent) = (&self.before, &self.after) {
            out.push_str(&format!("remove symlink {}\n", self.path));
        }
        out
    }
}

/// Base64 for file contents in the JSON journal, so binary originals round-trip byte for byte.
mod bytes_b64 {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(data: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(data))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(serde::de::Error::custom)
    }
}
