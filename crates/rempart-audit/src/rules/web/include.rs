//! The include guard the Apache and nginx loaders share: a file that includes itself, include
//! chains too deep and too many files are reported, not followed, so a hostile configuration can
//! never loop or explode.

use super::apache::ParseProblem;
use crate::host::Host;

/// Deepest chain of includes followed.
pub const MAX_INCLUDE_DEPTH: usize = 32;
/// Most files read for one server's configuration.
pub const MAX_FILES: usize = 2_000;

/// What the loaders track while following includes.
#[derive(Debug, Default)]
pub struct Includes {
    /// Files read, in order.
    pub files: Vec<String>,
    /// The chain of files being read (for cycle detection).
    pub stack: Vec<String>,
    pub problems: Vec<ParseProblem>,
}

impl Includes {
    /// The text of `path` to parse at `depth`, or `None` when it is absent or must not be read
    /// (the reason is then in `problems`).
    pub fn read(&mut self, host: &Host, path: &str, depth: usize) -> Option<String> {
        if self.stack.iter().any(|p| p == path) {
            self.problems.push(ParseProblem {
                path: path.to_string(),
                line: None,
                message: format!("includes itself (through {})", self.stack.join(" -> ")),
            });
            return None;
        }
        if depth > MAX_INCLUDE_DEPTH || self.files.len() >= MAX_FILES {
            self.problems.push(ParseProblem {
                path: path.to_string(),
                line: None,
                message: format!(
                    "too many nested or included files (depth {depth}, {} files)",
                    self.files.len()
                ),
            });
            return None;
        }
        match host.read_text(path) {
            Ok(Some(f)) => {
                self.files.push(path.to_string());
                Some(f.text)
            }
            Ok(None) => None,
            Err(e) => {
                self.problems.push(ParseProblem::from_host(e));
                None
            }
        }
    }

    /// Read and parse `path` at `depth`: `None` when it cannot be read or parsed (the reason is
    /// then in `problems`). On success `path` is on `stack`; the caller pops it once the
    /// file's own includes are expanded.
    pub fn open<T>(
        &mut self,
        host: &Host,
        path: &str,
        depth: usize,
        parse: impl FnOnce(&str, &str) -> Result<T, (u32, String)>,
    ) -> Option<T> {
        let text = self.read(host, path, depth)?;
        match parse(path, &text) {
            Ok(t) => {
                self.stack.push(path.to_string());
                Some(t)
            }
            Err((line, message)) => {
                self.problems.push(ParseProblem {
                    path: path.to_string(),
                    line: Some(line),
                    message,
                });
                None
            }
        }
    }
}
