//! Live changes a file cannot make: a PostgreSQL role's password, rotated together with the
//! application file that holds it (a password changed in `.env` alone locks the application out,
//! and one changed in the database alone leaves the weak one in the file). Run as the server's
//! superuser over its Unix socket (`peer` authentication as the socket's owner, never root),
//! with the SQL on standard input so no password appears in a process list. The role's previous
//! verifier (SCRAM or md5 hash, as stored) is read first: PostgreSQL stores a pre-hashed
//! password as given, so rollback restores it exactly.

use rempart_audit::host::Host;
use rempart_audit::rules::database::live::superuser_psql;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::process::Stdio;

/// A live action the plan will run, shown without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedAction {
    pub rule: String,
    pub socket: String,
    pub port: u16,
    pub role: String,
    #[serde(skip)]
    pub password: String,
}

impl PlannedAction {
    pub fn describe(&self) -> String {
        format!(
            "new password for PostgreSQL role {} (server on {}), as in the application's file",
            self.role, self.socket
        )
    }
}

/// What the journal keeps of a live action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRecord {
    pub rule: String,
    pub socket: String,
    pub port: u16,
    pub role: String,
    /// The role's verifier before the change (`Some(None)`: it had no password); `None` until
    /// it was read.
    pub previous: Option<Option<String>>,
    /// The new password is set.
    pub done: bool,
}

/// Only characters that need no quoting in SQL, psql or URLs.
fn plain(s: &str) -> bool {
    !s.is_empty() && !s.contains(['\'', '\\', '\n', '\r'])
}

fn psql(host: &Host, socket: &str, port: u16, role: &str, script: &str) -> Result<String, String> {
    let mut cmd = superuser_psql(host, socket, port)?;
    cmd.args(["-v", &format!("role={role}"), "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("psql: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(script.as_bytes())
            .map_err(|e| format!("psql: {e}"))?;
    }
    let out = child.wait_with_output().map_err(|e| format!("psql: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "psql on {socket}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The role's stored password verifier (`None` when it has none); an error if it does not
/// exist.
pub fn pg_verifier(
    host: &Host,
    socket: &str,
    port: u16,
    role: &str,
) -> Result<Option<String>, String> {
    let out = psql(
        host,
        socket,
        port,
        role,
        "SELECT coalesce(rolpassword, '-') FROM pg_authid WHERE rolname = :'role';\n",
    )?;
    match out.trim() {
        "" => Err(format!("PostgreSQL has no role {role}")),
        "-" => Ok(None),
        v => Ok(Some(v.to_string())),
    }
}

/// Sets the role's password (a clear text or a stored verifier), or none.
pub fn pg_set_password(
    host: &Host,
    socket: &str,
    port: u16,
    role: &str,
    password: Option<&str>,
) -> Result<(), String> {
    let script = match password {
        Some(p) if plain(p) => {
            format!("\\set pw '{p}'\nALTER ROLE :\"role\" PASSWORD :'pw';\n")
        }
        Some(_) => return Err("a password rempart cannot pass to psql safely".into()),
        None => "ALTER ROLE :\"role\" PASSWORD NULL;\n".to_string(),
    };
    psql(host, socket, port, role, &script).map(|_| ())
}

/// Puts back what a journaled action changed (nothing if it never read the previous state).
pub fn undo(host: &Host, a: &ActionRecord) -> Result<(), String> {
    match &a.previous {
        Some(prev) => pg_set_password(host, &a.socket, a.port, &a.role, prev.as_deref()),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_text_reaches_psql() {
        assert!(plain("SCRAM-SHA-256$4096:c2FsdA==$a+b/c=:d+e/f="));
        assert!(plain("md5abcdef"));
        assert!(!plain("it's"));
        assert!(!plain("a\\b"));
        assert!(!plain("a\nb"));
        assert!(!plain(""));
    }
}
