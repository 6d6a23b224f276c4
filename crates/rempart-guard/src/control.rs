//! The control protocol between `rempart guard status|ban|unban` and the daemon: one JSON request
//! line over the daemon's Unix socket (mode 0600, root only), one JSON response line back.
//!
//! This module holds the messages and the client; the daemon answers them in
//! [`crate::daemon`].

use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Request {
    /// Jails, counters, active bans.
    Status,
    /// Ban an address or network now.
    Ban {
        /// Address or CIDR.
        target: String,
        /// The jail to account it to (default `manual`).
        #[serde(default)]
        jail: Option<String>,
        /// Ban length (default: the jail's bantime, or one hour).
        #[serde(default)]
        bantime: Option<String>,
    },
    /// Lift every ban that covers this address or network.
    Unban {
        /// Address or CIDR.
        target: String,
    },
}

/// One jail in a status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JailStatus {
    pub name: String,
    pub filter: String,
    pub lines: u64,
    pub matches: u64,
    pub bans: u64,
    pub active: u64,
    pub tracked: u64,
    pub sources: Vec<String>,
}

/// One active ban in a status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BanStatus {
    pub jail: String,
    pub target: String,
    pub at: String,
    pub until: String,
    pub count: u32,
}

/// A response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum Response {
    /// The daemon's state.
    Status {
        backend: String,
        jails: Vec<JailStatus>,
        bans: Vec<BanStatus>,
        files: u64,
        journal: bool,
    },
    /// Done; a sentence for the user.
    Done { message: String },
    /// Refused; why.
    Error { message: String },
}

/// Talking to the daemon failed.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// No daemon listens there.
    #[error("cannot reach the guard daemon at {path} (is `rempart guard run` running?): {source}")]
    Connect {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The exchange broke off.
    #[error("talking to the guard daemon at {path}: {message}")]
    Exchange { path: PathBuf, message: String },
}

/// Longest request or response line accepted.
pub const MAX_MESSAGE: usize = 64 << 20;

/// Sends `req` to the daemon listening on `socket` and returns its answer.
pub fn request(socket: &Path, req: &Request) -> Result<Response, ControlError> {
    let ex = |message: String| ControlError::Exchange {
        path: socket.to_path_buf(),
        message,
    };
    let mut s = UnixStream::connect(socket).map_err(|source| ControlError::Connect {
        path: socket.to_path_buf(),
        source,
    })?;
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| ex(e.to_string()))?;
    let mut line = serde_json::to_vec(req).map_err(|e| ex(e.to_string()))?;
    line.push(b'\n');
    s.write_all(&line).map_err(|e| ex(e.to_string()))?;
    let mut r = BufReader::new(s).take(MAX_MESSAGE as u64);
    let mut buf = String::new();
    r.read_line(&mut buf).map_err(|e| ex(e.to_string()))?;
    serde_json::from_str(&buf).map_err(|e| ex(format!("bad answer: {e}")))
}

use std::io::Read as _;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let reqs = [
            Request::Status,
            Request::Ban {
                target: "203.0.113.5".into(),
                jail: Some("sshd".into()),
                bantime: None,
            },
            Request::Unban {
                target: "2001:db8::/64".into(),
            },
        ];
        for r in reqs {
            let s = serde_json::to_string(&r).unwrap();
            assert_eq!(serde_json::from_str::<Request>(&s).unwrap(), r);
        }
        assert_eq!(
            serde_json::to_string(&Request::Status).unwrap(),
            r#"{"cmd":"status"}"#
        );
        assert!(serde_json::from_str::<Request>(r#"{"cmd":"reboot"}"#).is_err());
    }
}
