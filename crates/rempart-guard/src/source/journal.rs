//! The systemd journal, read by following `journalctl -o json -f` (after the saved cursor, or
//! from now on the first run), filtered by unit or syslog identifier. Each entry becomes the line
//! `HOST IDENT[PID]: MESSAGE` with the entry's own time, the form the journal-aware filters read.
//! The cursor of the last entry handed out is kept so a restart resumes exactly after it.
//!
//! Entries whose MESSAGE is not UTF-8 (journalctl prints it as an array of bytes) are decoded
//! with replacement; entries without a message are skipped.

use super::lines::LineReader;
use crate::config::JournalMatch;
use jiff::Timestamp;
use serde::Deserialize;
use std::io;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};

/// One journal entry, as the guard uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `__CURSOR`.
    pub cursor: String,
    /// `_SYSTEMD_UNIT`.
    pub unit: Option<String>,
    /// `SYSLOG_IDENTIFIER` (else `_COMM`).
    pub ident: Option<String>,
    /// `_PID`.
    pub pid: Option<u32>,
    /// `_HOSTNAME`.
    pub hostname: Option<String>,
    /// `MESSAGE`.
    pub message: String,
    /// `__REALTIME_TIMESTAMP`.
    pub time: Option<Timestamp>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Field {
    Text(String),
    Bytes(Vec<u8>),
    Many(Vec<serde_json::Value>),
    Other(serde::de::IgnoredAny),
}

impl Field {
    fn text(self) -> Option<String> {
        match self {
            Field::Text(s) => Some(s),
            Field::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
            // A field repeated in one entry: the first value.
            Field::Many(v) => v.into_iter().next().and_then(|v| match v {
                serde_json::Value::String(s) => Some(s),
                _ => None,
            }),
            Field::Other(_) => None,
        }
    }
}

#[derive(Deserialize)]
struct RawEntry {
    #[serde(rename = "__CURSOR")]
    cursor: Option<Field>,
    #[serde(rename = "__REALTIME_TIMESTAMP")]
    realtime: Option<Field>,
    #[serde(rename = "_SYSTEMD_UNIT")]
    unit: Option<Field>,
    #[serde(rename = "SYSLOG_IDENTIFIER")]
    ident: Option<Field>,
    #[serde(rename = "_COMM")]
    comm: Option<Field>,
    #[serde(rename = "_PID")]
    pid: Option<Field>,
    #[serde(rename = "SYSLOG_PID")]
    syslog_pid: Option<Field>,
    #[serde(rename = "_HOSTNAME")]
    hostname: Option<Field>,
    #[serde(rename = "MESSAGE")]
    message: Option<Field>,
}

/// Parses one line of `journalctl -o json`.
pub fn parse_entry(line: &str) -> Option<Entry> {
    let raw: RawEntry = serde_json::from_str(line).ok()?;
    let cursor = raw.cursor?.text()?;
    let message = raw.message?.text()?;
    let time = raw
        .realtime
        .and_then(Field::text)
        .and_then(|t| t.parse::<i64>().ok())
        .and_then(|us| Timestamp::from_microsecond(us).ok());
    let pid = raw
        .syslog_pid
        .and_then(Field::text)
        .or_else(|| raw.pid.and_then(Field::text))
        .and_then(|p| p.parse().ok());
    Some(Entry {
        cursor,
        unit: raw.unit.and_then(Field::text),
        ident: raw
            .ident
            .and_then(Field::text)
            .or_else(|| raw.comm.and_then(Field::text)),
        pid,
        hostname: raw.hostname.and_then(Field::text),
        message,
        time,
    })
}

impl Entry {
    /// The syslog-like line filters read: `HOST IDENT[PID]: MESSAGE`.
    pub fn line(&self) -> String {
        let host = self.hostname.as_deref().unwrap_or("localhost");
        let ident = self.ident.as_deref().unwrap_or("unknown");
        // The message is one line for filters.
        let msg = self.message.replace(['\n', '\r'], " ");
        match self.pid {
            Some(p) => format!("{host} {ident}[{p}]: {msg}"),
            None => format!("{host} {ident}: {msg}"),
        }
    }

    /// Whether `m` selects this entry (no unit and no identifier given selects everything).
    pub fn selected_by(&self, m: &JournalMatch) -> bool {
        if m.units.is_empty() && m.identifiers.is_empty() {
            return true;
        }
        let unit = self
            .unit
            .as_deref()
            .is_some_and(|u| m.units.iter().any(|x| unit_eq(x, u)));
        let ident = self
            .ident
            .as_deref()
            .is_some_and(|i| m.identifiers.iter().any(|x| x == i));
        unit || ident
    }
}

/// `ssh` matches `ssh.service`.
fn unit_eq(want: &str, got: &str) -> bool {
    want == got || (!want.contains('.') && got.strip_suffix(".service") == Some(want))
}

/// The `journalctl` arguments that follow the selected entries.
pub fn journalctl_args(
    matches: &[&JournalMatch],
    cursor: Option<&str>,
    directory: Option<&PathBuf>,
) -> Vec<String> {
    let mut args = vec![
        "-o".to_string(),
        "json".to_string(),
        "-f".to_string(),
        "--no-pager".to_string(),
        "--no-tail".to_string(),
    ];
    if let Some(d) = directory {
        args.push(format!("--directory={}", d.display()));
    }
    match cursor {
        Some(c) => args.push(format!("--after-cursor={c}")),
        None => args.push("--since=now".to_string()),
    }
    let all = matches
        .iter()
        .any(|m| m.units.is_empty() && m.identifiers.is_empty());
    if !all {
        let mut terms: Vec<String> = Vec::new();
        for m in matches {
            for u in &m.units {
                let u = if u.contains('.') {
                    u.clone()
                } else {
                    format!("{u}.service")
                };
                terms.push(format!("_SYSTEMD_UNIT={u}"));
            }
            for i in &m.identifiers {
                terms.push(format!("SYSLOG_IDENTIFIER={i}"));
            }
        }
        terms.sort();
        terms.dedup();
        for (n, t) in terms.into_iter().enumerate() {
            if n > 0 {
                args.push("+".to_string());
            }
            args.push(t);
        }
    }
    args
}

/// A running `journalctl -f`.
#[derive(Debug)]
pub struct JournalSource {
    child: Child,
    reader: LineReader<ChildStdout>,
    /// The cursor of the last entry handed out.
    pub cursor: Option<String>,
    /// Entries read.
    pub entries: u64,
}

impl JournalSource {
    /// Starts `journalctl` with `args` (see [`journalctl_args`]).
    pub fn spawn(program: &PathBuf, args: &[String], cursor: Option<String>) -> io::Result<Self> {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("journalctl has no stdout"))?;
        let fl = rustix::fs::fcntl_getfl(&stdout)?;
        rustix::fs::fcntl_setfl(&stdout, fl | rustix::fs::OFlags::NONBLOCK)?;
        Ok(JournalSource {
            child,
            reader: LineReader::with_limit(stdout, 1 << 20),
            cursor,
            entries: 0,
        })
    }

    /// The descriptor to wait on.
    pub fn fd(&self) -> rustix::fd::BorrowedFd<'_> {
        use rustix::fd::AsFd;
        self.reader.get_ref().as_fd()
    }

    /// Hands every complete entry available now to `on_entry`; `Ok(false)` once journalctl has
    /// exited (restart it).
    pub fn read(&mut self, on_entry: &mut dyn FnMut(&Entry)) -> io::Result<bool> {
        while let Some(raw) = self.reader.next_line(false)? {
            let text = raw.text();
            if let Some(e) = parse_entry(&text) {
                self.entries += 1;
                on_entry(&e);
                self.cursor = Some(e.cursor.clone());
            }
        }
        Ok(!matches!(self.child.try_wait(), Ok(Some(_))))
    }
}

impl Drop for JournalSource {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LINE: &str = r#"{"__CURSOR":"s=abc;i=12","__REALTIME_TIMESTAMP":"1749892502123456","_SYSTEMD_UNIT":"ssh.service","SYSLOG_IDENTIFIER":"sshd","_PID":"4242","_HOSTNAME":"web1","MESSAGE":"Failed password for root from 203.0.113.5 port 50273 ssh2","PRIORITY":"6"}"#;

    #[test]
    fn parses_journalctl_json() {
        let e = parse_entry(LINE).unwrap();
        assert_eq!(e.cursor, "s=abc;i=12");
        assert_eq!(e.pid, Some(4242));
        assert_eq!(e.time.unwrap().to_string(), "2025-06-14T09:15:02.123456Z");
        assert_eq!(
            e.line(),
            "web1 sshd[4242]: Failed password for root from 203.0.113.5 port 50273 ssh2"
        );
        let bytes = r#"{"__CURSOR":"c","MESSAGE":[70,97,105,108,255],"_COMM":"sshd"}"#;
        let e = parse_entry(bytes).unwrap();
        assert_eq!(e.message, "Fail\u{fffd}");
        assert_eq!(e.ident.as_deref(), Some("sshd"));
        assert!(parse_entry(r#"{"__CURSOR":"c"}"#).is_none(), "no message");
        assert!(parse_entry("not json").is_none());
    }

    #[test]
    fn selects_by_unit_or_identifier() {
        let e = parse_entry(LINE).unwrap();
        let by_unit = JournalMatch {
            units: vec!["ssh".into()],
            identifiers: vec![],
        };
        let by_ident = JournalMatch {
            units: vec![],
            identifiers: vec!["sshd".into()],
        };
        let other = JournalMatch {
            units: vec!["nginx.service".into()],
            identifiers: vec![],
        };
        assert!(e.selected_by(&by_unit) && e.selected_by(&by_ident));
        assert!(!e.selected_by(&other));
        let args = journalctl_args(&[&by_unit, &by_ident], Some("s=abc;i=12"), None);
        assert_eq!(
            args[4..],
            [
                "--no-tail",
                "--after-cursor=s=abc;i=12",
                "SYSLOG_IDENTIFIER=sshd",
                "+",
                "_SYSTEMD_UNIT=ssh.service"
            ]
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,200}") {
            let _ = parse_entry(&s);
        }

        #[test]
        fn messages_survive_any_text(msg in "\\PC{0,100}", pid in 1u32..99999) {
            let line = serde_json::json!({"__CURSOR": "c", "MESSAGE": msg, "_PID": pid.to_string(),
                "SYSLOG_IDENTIFIER": "sshd", "_HOSTNAME": "h"}).to_string();
            let e = parse_entry(&line).unwrap();
            prop_assert_eq!(&e.message, &msg);
            let prefix = format!("h sshd[{pid}]: ");
            prop_assert!(e.line().starts_with(&prefix));
        }
    }
}
