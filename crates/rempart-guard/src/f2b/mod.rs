//! fail2ban `filter.d/*.conf` files, so users keep their custom filters: `[INCLUDES]`, `[Init]`
//! variables, `[Definition]` with `prefregex`, `failregex`, `ignoreregex`, `datepattern`,
//! `maxlines` and the tags `<HOST>`, `<ADDR>`, `<IP4>`, `<IP6>`, `<DNS>`, `<F-USER>`, `<F-ID>`,
//! `<F-NOFAIL>`, `<F-MLFID>`, `<F-MLFFORGET>` (one connection followed across lines, as the
//! built-in sshd filter does). The compiled filter implements [`crate::filters::Filter`].
//!
//! A construct rempart cannot run (multi-line `maxlines > 1`, `<SKIPLINES>`, conditional groups,
//! TAI64N dates) is an error naming the file and line, never a filter that silently misses.

pub mod datepattern;
pub mod ini;
pub mod pyre;

use crate::addr::{self, Host};
use crate::filters::tracker::Tracker;
use crate::filters::{Failure, Filter, Input};
use crate::time::Clock;
use datepattern::DatePattern;
use ini::{Config, IniError, Origin};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A filter file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum F2bError {
    /// Reading or parsing the file (or an include) failed.
    #[error(transparent)]
    Ini(#[from] IniError),
    /// The filter uses something rempart cannot run.
    #[error("{origin}: {message}")]
    Unsupported { origin: Origin, message: String },
    /// A regular expression does not compile.
    #[error("{origin}: {message}")]
    Regex { origin: Origin, message: String },
    /// The file has no `failregex`.
    #[error("{path}: no failregex in [Definition]")]
    NoFailregex { path: PathBuf },
}

/// A compiled pattern: linear-time when possible, backtracking only when the pattern needs it.
#[derive(Debug)]
enum Re {
    Std(regex::Regex),
    Fancy(Box<fancy_regex::Regex>),
}

impl Re {
    fn as_str(&self) -> &str {
        match self {
            Re::Std(r) => r.as_str(),
            Re::Fancy(r) => r.as_str(),
        }
    }
}

/// The named groups a match exposes.
#[derive(Debug, Default)]
struct Hit<'t> {
    host: Option<&'t str>,
    content: Option<&'t str>,
    mlfid: Option<&'t str>,
    nofail: bool,
    forget: bool,
    gained: bool,
}

const GROUPS: [&str; 9] = [
    "host",
    "ip4",
    "ip6",
    "dns",
    "fid",
    "content",
    "mlfid",
    "nofail",
    "mlfforget",
];

impl Re {
    fn compile(pattern: &str, origin: &Origin) -> Result<Re, F2bError> {
        let t = pyre::translate(pattern).map_err(|e| F2bError::Unsupported {
            origin: origin.clone(),
            message: e.0,
        })?;
        let err = |m: String| F2bError::Regex {
            origin: origin.clone(),
            message: m,
        };
        if t.fancy {
            let re = fancy_regex::RegexBuilder::new(&t.pattern)
                .backtrack_limit(100_000)
                .build()
                .map_err(|e| err(e.to_string()))?;
            Ok(Re::Fancy(Box::new(re)))
        } else {
            let re = regex::RegexBuilder::new(&t.pattern)
                .size_limit(8 << 20)
                .build()
                .map_err(|e| err(e.to_string()))?;
            Ok(Re::Std(re))
        }
    }

    fn is_match(&self, text: &str) -> bool {
        match self {
            Re::Std(r) => r.is_match(text),
            Re::Fancy(r) => r.is_match(text).unwrap_or(false),
        }
    }

    fn hit<'t>(&self, text: &'t str) -> Option<Hit<'t>> {
        let mut h = Hit::default();
        let mut set = |name: &str, v: Option<&'t str>| match name {
            "host" | "ip4" | "ip6" | "dns" | "fid" if h.host.is_none() => h.host = v,
            "content" => h.content = v,
            "mlfid" => h.mlfid = v,
            "nofail" => h.nofail = v.is_some(),
            "mlfforget" => h.forget = v.is_some(),
            _ => {}
        };
        match self {
            Re::Std(r) => {
                let c = r.captures(text)?;
                for n in GROUPS {
                    set(n, c.name(n).map(|m| m.as_str()));
                }
                h.gained = c.name("mlfgained").is_some();
            }
            Re::Fancy(r) => {
                let c = r.captures(text).ok()??;
                for n in GROUPS {
                    set(n, c.name(n).map(|m| m.as_str()));
                }
                h.gained = c.name("mlfgained").is_some();
            }
        }
        Some(h)
    }
}

/// A fail2ban filter file, compiled.
#[derive(Debug)]
pub struct F2bFilter {
    path: PathBuf,
    prefregex: Option<Re>,
    failregex: Vec<Re>,
    ignoreregex: Vec<Re>,
    dates: DatePattern,
    mlf: Tracker<Option<Host>>,
}

impl F2bFilter {
    /// Reads and compiles `path`. `vars` overrides `[Init]` variables (fail2ban's
    /// `filter[mode=aggressive]` options).
    pub fn load(path: &Path, vars: &BTreeMap<String, String>) -> Result<F2bFilter, F2bError> {
        let cfg = Config::load(path)?;
        let def = "Definition";
        let lookup = |name: &str| -> Option<String> {
            if let Some((section, key)) = name.split_once('/') {
                let key = key.to_ascii_lowercase();
                return cfg.get(section, &key).ok().flatten().map(|v| v.text());
            }
            let key = name.to_ascii_lowercase();
            if let Some(v) = vars.get(&key) {
                return Some(v.clone());
            }
            if cfg
                .sections
                .get("Init")
                .is_some_and(|s| s.values.contains_key(&key))
            {
                return cfg.get("Init", &key).ok().flatten().map(|v| v.text());
            }
            // [Definition], then [DEFAULT].
            cfg.get(def, &key).ok().flatten().map(|v| v.text())
        };
        let pattern_lines = |key: &str| -> Result<Vec<(String, Origin)>, F2bError> {
            let Some(v) = cfg.get(def, key)? else {
                return Ok(Vec::new());
            };
            let mut out = Vec::new();
            for (line, origin) in v.lines {
                let line = ini::unescape_percent(line.trim());
                if line.is_empty() {
                    continue;
                }
                let expanded =
                    pyre::expand_tags(&line, &lookup).map_err(|e| F2bError::Unsupported {
                        origin: origin.clone(),
                        message: e.0,
                    })?;
                // A variable may hold several patterns, one per line.
                for l in expanded
                    .split('\n')
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                {
                    out.push((l.to_string(), origin.clone()));
                }
            }
            Ok(out)
        };
        if let Some(v) = cfg.get(def, "maxlines")?.or(cfg.get("Init", "maxlines")?) {
            let n: usize = v.text().trim().parse().unwrap_or(1);
            if n > 1 {
                return Err(F2bError::Unsupported {
                    origin: v.lines[0].1.clone(),
                    message: format!("maxlines = {n}: multi-line buffers are not supported"),
                });
            }
        }
        let compile_all = |key: &str| -> Result<Vec<Re>, F2bError> {
            pattern_lines(key)?
                .iter()
                .map(|(p, o)| Re::compile(p, o))
                .collect()
        };
        let failregex = compile_all("failregex")?;
        if failregex.is_empty() {
            return Err(F2bError::NoFailregex {
                path: path.to_path_buf(),
            });
        }
        let ignoreregex = compile_all("ignoreregex")?;
        let mut pref = compile_all("prefregex")?;
        let prefregex = if pref.is_empty() {
            None
        } else {
            Some(pref.swap_remove(0))
        };
        let dates = match cfg
            .get(def, "datepattern")?
            .or(cfg.get("Init", "datepattern")?)
        {
            None => DatePattern::Auto,
            Some(v) => {
                let origin = v.lines[0].1.clone();
                let mut lines = Vec::new();
                for (l, o) in &v.lines {
                    let l = pyre::expand_tags(&ini::unescape_percent(l), &lookup).map_err(|e| {
                        F2bError::Unsupported {
                            origin: o.clone(),
                            message: e.0,
                        }
                    })?;
                    lines.extend(l.split('\n').map(|x| ini::unescape_percent(x.trim())));
                }
                let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
                datepattern::compile(&refs)
                    .map_err(|message| F2bError::Unsupported { origin, message })?
            }
        };
        Ok(F2bFilter {
            path: path.to_path_buf(),
            prefregex,
            failregex,
            ignoreregex,
            dates,
            mlf: Tracker::new(16_384),
        })
    }

    /// The file this filter was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The compiled patterns, labelled (`prefregex`, `failregex`, `ignoreregex`), for humans
    /// checking what a filter file became.
    pub fn patterns(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(p) = &self.prefregex {
            out.push(("prefregex", p.as_str().to_string()));
        }
        out.extend(
            self.failregex
                .iter()
                .map(|r| ("failregex", r.as_str().to_string())),
        );
        out.extend(
            self.ignoreregex
                .iter()
                .map(|r| ("ignoreregex", r.as_str().to_string())),
        );
        out
    }
}

fn mlf_key(id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl Filter for F2bFilter {
    fn examine(&mut self, input: &Input<'_>, clock: &Clock) -> Option<Failure> {
        let line = input.text;
        let (time, text): (_, Cow<'_, str>) = if input.time.is_some() {
            (input.time, Cow::Borrowed(line))
        } else {
            match self.dates.find(clock, line) {
                Some((t, r)) if r.start == 0 => (Some(t), Cow::Borrowed(&line[r.end..])),
                Some((t, r)) => (
                    Some(t),
                    Cow::Owned(format!("{}{}", &line[..r.start], &line[r.end..])),
                ),
                None => (None, Cow::Borrowed(line)),
            }
        };
        let pre = match &self.prefregex {
            Some(p) => Some(p.hit(&text)?),
            None => None,
        };
        let content = pre.as_ref().and_then(|p| p.content).unwrap_or(&text);
        if self.ignoreregex.iter().any(|r| r.is_match(content)) {
            return None;
        }
        let mut hit = self.failregex.iter().find_map(|r| r.hit(content))?;
        if let Some(p) = &pre {
            hit.host = hit.host.or(p.host);
            hit.mlfid = hit.mlfid.or(p.mlfid);
            hit.nofail |= p.nofail;
            hit.forget |= p.forget;
            hit.gained |= p.gained;
        }
        let host = hit
            .host
            .and_then(|h| addr::parse_host(h.trim_start_matches('[').trim_end_matches(']')));
        let mlfid = hit.mlfid;
        let host = match mlfid {
            Some(id) => {
                let key = mlf_key(id);
                if host.is_some() {
                    *self.mlf.entry(key) = host.clone();
                }
                let known = self.mlf.get(key).cloned().flatten();
                if hit.forget || hit.gained {
                    self.mlf.remove(key);
                }
                if hit.nofail || hit.gained {
                    return None;
                }
                host.or(known)?
            }
            None if hit.nofail => return None,
            None => host?,
        };
        Some(Failure {
            host,
            time,
            rule: "failregex",
        })
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
#[test]
fn dump_stock_filter() {
    let Some(p) = std::env::var_os("REMPART_DUMP_F2B") else {
        return;
    };
    let f = F2bFilter::load(Path::new(&p), &BTreeMap::new()).unwrap();
    for (k, v) in f.patterns() {
        eprintln!("{k}: {v}");
    }
}
